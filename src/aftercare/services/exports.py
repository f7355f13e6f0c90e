"""``aftercare export``: any stored table, the actions as a call sheet, or a mart as of a date.

One door for every export: a mart (:data:`MART_GRAINS`) is computed as of its date; the
actions table is exported with its current status, call-sheet columns and scripts; any other
stored table is written as it is (one dated snapshot of it when ``as_of`` is given).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from aftercare.config import Config
from aftercare.services.call_list import actions_export
from aftercare.services.marts import MART_GRAINS, export_mart
from aftercare.store.connect import Store
from aftercare.store.export import export_table

__all__ = ["MART_GRAINS", "Export", "export_data"]


@dataclass(frozen=True)
class Export:
    """What one export wrote.

    Attributes
    ----------
    name
        The table or mart exported.
    rows
        Rows written.
    out
        The file written (CSV, Parquet or XLSX by its suffix).
    as_of
        A mart's as-of date (``None`` for a stored table).
    grain
        A mart's grain, e.g. "one row per customer as of the date" (``None`` for a table).
    """

    name: str
    rows: int
    out: Path
    as_of: dt.date | None = None
    grain: str | None = None


def export_data(
    store: Store,
    name: str,
    out: Path,
    *,
    config: Config,
    as_of: dt.date | None = None,
    today: dt.date | None = None,
) -> Export:
    """Write table or mart ``name`` to ``out`` (CSV, Parquet or XLSX by its suffix).

    Parameters
    ----------
    store
        An open store.
    name
        A stored table (canonical or result), or a mart of :data:`MART_GRAINS`.
    out
        The file to write.
    config
        The configuration (marts; the actions' status and scripts).
    as_of
        A mart's as-of date (default ``today``; its score snapshot is computed when missing);
        for a stored table with dated snapshots, the one snapshot to export.
    today
        The default as-of date of a mart (default: the system date).

    Returns
    -------
    Export
        The rows written, and a mart's date and grain.

    Raises
    ------
    InputFileError
        Unknown table or format, or a dated snapshot asked of an undated table.
    AftercareError
        Too many rows for an Excel sheet.
    """
    if name in MART_GRAINS:
        day = as_of or today or dt.date.today()
        rows = export_mart(store, name, out, as_of=day, config=config)
        return Export(name, rows, out, as_of=day, grain=MART_GRAINS[name])
    # The actions with their current status, call-sheet columns and scripts.
    derived = (
        actions_export(store, config) if name == "actions" and store.has_table("actions") else None
    )
    rows = export_table(store, name, out, as_of=as_of, rows=derived)
    return Export(name, rows, out)
