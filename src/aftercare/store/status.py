"""What is in the store: rows, unmatched records, rejects and the last load of each table.

Read two ways, to the same figures: :func:`store_status` through Ibis on any open store, and
:func:`~aftercare.store.duckdb_status.duckdb_store_status` in plain SQL on a DuckDB file, which
``aftercare status`` takes when it can so that it imports no Ibis (issue 11). Importing this
module is light: Ibis and the schema are imported when :func:`store_status` runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aftercare.store.connect import Store


@dataclass(frozen=True)
class TableStatus:
    """One canonical table's state."""

    name: str
    rows: int
    unmatched: int
    rejected_rows: int
    warnings: int
    last_load_at: dt.datetime | None
    last_file: str | None


@dataclass(frozen=True)
class StoreStatus:
    """Every canonical table's state."""

    url: str
    tables: tuple[TableStatus, ...]


def _per_table_counts(store: Store, table: str, column: str = "source_row") -> dict[str, int]:
    t = store.table(table)
    grouped = t.group_by("table_name").aggregate(n=t[column].count()).to_pyarrow().to_pylist()
    return {r["table_name"]: int(r["n"]) for r in grouped}


def store_status(store: Store, *, unmatched: Callable[[str], int]) -> StoreStatus:
    """Summarise the store (a handful of small aggregate queries).

    Parameters
    ----------
    store
        The open store.
    unmatched
        How many records of a (non-empty) canonical table are unmatched (R-IN-6); the
        import service knows what "unmatched" means.
    """
    import ibis

    from aftercare.schema import TABLES

    rejected = store.table("rejected_rows")
    rejected_rows = {
        r["table_name"]: int(r["n"])
        for r in rejected.group_by("table_name")
        .aggregate(n=(rejected.source_file + ":" + rejected.source_row.cast("string")).nunique())
        .to_pyarrow()
        .to_pylist()
    }
    warnings = _per_table_counts(store, "load_warnings")
    log = store.table("load_log")
    # Newest load first within each table; load_id (it starts with the time) breaks ties.
    newest_first = ibis.row_number().over(
        group_by=log.table_name, order_by=[ibis.desc(log.finished_at), ibis.desc(log.load_id)]
    )
    latest = log.mutate(rn=newest_first).filter(lambda t: t.rn == 0)
    last = {r["table_name"]: r for r in latest.to_pyarrow().to_pylist()}
    tables = []
    for name in TABLES:
        rows = int(store.table(name).count().to_pyarrow().as_py())
        entry = last.get(name)
        tables.append(
            TableStatus(
                name=name,
                rows=rows,
                unmatched=unmatched(name) if rows else 0,
                rejected_rows=rejected_rows.get(name, 0),
                warnings=warnings.get(name, 0),
                last_load_at=entry["finished_at"] if entry else None,
                last_file=entry["source_file"] if entry else None,
            )
        )
    return StoreStatus(url=store.url, tables=tuple(tables))
