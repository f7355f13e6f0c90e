"""``aftercare export``: any stored table, the actions as a call sheet, or a mart as of a date.

One door for every export: a mart (:data:`MART_GRAINS`) is computed as of its date; the
actions table is exported with its current status, call-sheet columns and scripts; any other
stored table is written as it is (one dated snapshot of it when ``as_of`` is given). The
file is written by :mod:`aftercare.reports.table_file` (text stays text in XLSX, CSV cells a
spreadsheet would run are neutralised, UTF-8 with BOM), beside its target and renamed into
place when complete (:func:`aftercare.services.outputs.staged_output`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import ibis.expr.types as ir

from aftercare.config import Config
from aftercare.reports.table_file import FORMATS, CsvOptions, write_table_file
from aftercare.services.call_list import actions_export
from aftercare.services.marts import MART_GRAINS, mart_rows
from aftercare.services.outputs import check_output_path, staged_output
from aftercare.services.scoring import SCORES_TABLE
from aftercare.store.connect import Store
from aftercare.store.export import table_rows

__all__ = ["FORMATS", "MART_GRAINS", "CsvOptions", "Export", "check_export_path", "export_data"]


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
    csv: CsvOptions | None = None,
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
    csv
        How a CSV is written (default: cells a spreadsheet would run neutralised, with a
        BOM; ignored for Parquet and XLSX, whose text cells are always text).

    Returns
    -------
    Export
        The rows written, and a mart's date and grain.

    Raises
    ------
    OutputPathError
        ``out`` has another format or cannot be written (checked before anything is read).
    InputFileError
        Unknown table, or a dated snapshot asked of an undated table.
    AftercareError
        Too many rows for an Excel sheet (``out`` is left as it was).
    """
    out = check_export_path(out)
    day, grain = None, MART_GRAINS.get(name)
    if grain is not None:
        day = as_of or today or dt.date.today()
        expr = mart_rows(store, name, as_of=day, config=config)
    else:
        # The actions with their current status, call-sheet columns and scripts.
        derived = (
            actions_export(store, config)
            if name == "actions" and store.has_table("actions")
            else None
        )
        expr = table_rows(store, name, as_of=as_of, rows=derived)
        if name == SCORES_TABLE:
            expr = _tier_columns(expr)
    with staged_output(out, option="--out") as staged:
        rows = write_table_file(
            expr.to_pyarrow_batches(),
            staged,
            file_format=out.suffix.lower(),
            sheet_name=out.stem,
            csv=csv,
        )
    return Export(name, rows, out, as_of=day, grain=grain)


def _tier_columns(scores: ir.Table) -> ir.Table:
    """``customer_scores`` as exported: ``tier`` the effective tier, ``scored_tier`` the raw one.

    R-TIER-HOLD: a row stored before the scored tier was kept is exported with
    ``scored_tier = tier`` (then they were one); the rows keep the export's order.
    """
    filled = (
        scores.scored_tier.fill_null(scores.tier)
        if "scored_tier" in scores.columns
        else scores.tier
    )
    columns = [scores[c] for c in scores.columns if c != "scored_tier"]
    at = scores.columns.index("tier") + 1
    ordered = scores.select(*columns[:at], filled.name("scored_tier"), *columns[at:])
    return ordered.order_by(["customer_id", "as_of_date"])


def check_export_path(out: Path) -> Path:
    """Check ``--out`` before a store is opened: a known format, in a folder that can be written.

    Raises
    ------
    OutputPathError
        Another suffix than :data:`FORMATS`, or a path that cannot be written.
    """
    return check_output_path(out, option="--out", suffixes=FORMATS)
