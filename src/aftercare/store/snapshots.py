"""Dated snapshots of results (R-TIER-HIST): one as-of date replaced atomically, others kept."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import ibis.expr.types as ir

from aftercare.schema.registry import stored_table
from aftercare.store.connect import Store


@contextmanager
def transaction(store: Store) -> Iterator[None]:
    """One transaction around several statements (Ibis has none of its own).

    Raises
    ------
    NotBuiltError
        On a Spark lake: it has no transactions, so the playbook cannot write there.
    """
    if store.kind == "spark":
        from aftercare.store.spark_backend import not_on_spark

        raise not_on_spark("actions and outcomes")
    if store.kind == "duckdb":
        native = store.con.con
        native.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            native.execute("ROLLBACK")
            raise
        native.execute("COMMIT")
    else:
        with store.con.con.transaction():
            yield


def replace_snapshot(store: Store, table: str, as_of: dt.date, rows: ir.Table) -> int:
    """Store ``rows`` as the ``as_of`` snapshot of ``table``, replacing that date only.

    ``rows`` must carry an ``as_of_date`` column equal to ``as_of``. Rerunning for the same
    date replaces, never duplicates; other dates are untouched. Returns the rows stored.
    """
    if "as_of_date" not in rows.columns:
        raise ValueError("a snapshot needs an as_of_date column")
    if store.kind == "spark":
        from aftercare.store.spark_writer import replace_snapshot_spark  # PySpark is optional

        return replace_snapshot_spark(store, table, as_of, rows)
    if not store.has_table(table):
        store.con.create_table(table, schema=stored_table(table).schema)
    with transaction(store):
        _delete_snapshot(store, table, as_of)
        store.con.insert(table, rows)
    stored = store.table(table)
    return int(stored.filter(stored.as_of_date == as_of).count().to_pyarrow().as_py())


def _delete_snapshot(store: Store, table: str, as_of: dt.date) -> None:
    if store.kind == "duckdb":
        store.con.con.execute(f'DELETE FROM "{table}" WHERE as_of_date = ?', [as_of])
    else:
        with store.con.con.cursor() as cur:
            cur.execute(f'DELETE FROM "{table}" WHERE as_of_date = %s', [as_of])


def snapshot_dates(store: Store, table: str) -> list[dt.date]:
    """The as-of dates stored in ``table``, oldest first."""
    if not store.has_table(table):
        return []
    if store.kind == "spark":
        from aftercare.store.spark_writer import snapshot_dates_spark

        return snapshot_dates_spark(store, table)
    t = store.table(table)
    dates = t.select("as_of_date").distinct().order_by("as_of_date").to_pyarrow()
    return list(dates.column("as_of_date").to_pylist())
