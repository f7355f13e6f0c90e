"""Dated snapshots of results (R-TIER-HIST): one as-of date replaced atomically, others kept."""

from __future__ import annotations

import datetime as dt

import ibis.expr.types as ir

from aftercare.schema.registry import stored_table
from aftercare.store.connect import Store
from aftercare.store.transaction import (
    CompiledQuery,
    execute,
    fetch_rows,
    placeholder,
    transaction,
)

__all__ = ["replace_snapshot", "snapshot_dates", "transaction"]


def replace_snapshot(
    store: Store, table: str, as_of: dt.date, rows: ir.Table | CompiledQuery
) -> int:
    """Store ``rows`` as the ``as_of`` snapshot of ``table``, replacing that date only.

    ``rows`` (an expression, or its compiled SQL on DuckDB and PostgreSQL) must carry an
    ``as_of_date`` column equal to ``as_of``. Rerunning for the same date replaces, never
    duplicates; other dates are untouched. Returns the rows stored.
    """
    names = rows.schema.names if isinstance(rows, CompiledQuery) else rows.columns
    if "as_of_date" not in names:
        raise ValueError("a snapshot needs an as_of_date column")
    if isinstance(rows, CompiledQuery) and rows.expr is not None:
        rows = rows.expr
    if store.kind == "spark":
        assert not isinstance(rows, CompiledQuery)  # a lake compiles nothing ahead
        from aftercare.store.spark_writer import replace_snapshot_spark  # PySpark is optional

        return replace_snapshot_spark(store, table, as_of, rows)
    if not store.has_table(table):
        store.con.create_table(table, schema=stored_table(table).schema)
    with transaction(store):
        _delete_snapshot(store, table, as_of)
        if isinstance(rows, CompiledQuery):
            columns = ", ".join(f'"{name}"' for name in names)
            execute(
                store, f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM ({rows.sql}) AS q'
            )
        else:
            store.con.insert(table, rows)
    stored = store.table(table)
    return int(stored.filter(stored.as_of_date == as_of).count().to_pyarrow().as_py())


def _delete_snapshot(store: Store, table: str, as_of: dt.date) -> None:
    execute(store, f'DELETE FROM "{table}" WHERE as_of_date = {placeholder(store)}', [as_of])


def snapshot_dates(store: Store, table: str) -> list[dt.date]:
    """The as-of dates stored in ``table``, oldest first."""
    if not store.has_table(table):
        return []
    if store.kind == "spark":
        from aftercare.store.spark_writer import snapshot_dates_spark

        return snapshot_dates_spark(store, table)
    # Plain SQL: read on every engine run, where Ibis' schema lookup and compile cost more
    # than the query.
    rows = fetch_rows(store, f'SELECT DISTINCT as_of_date FROM "{table}" ORDER BY as_of_date')
    return [row[0] for row in rows]
