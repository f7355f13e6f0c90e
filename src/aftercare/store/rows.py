"""Row-level writes of the services: append, insert new keys, update by key, delete a quarantine.

Each runs inside the caller's :func:`~aftercare.store.transaction.transaction` (several of them
make one atomic change: an engine run, an outcome, a call-log import) on DuckDB or PostgreSQL;
a Spark lake refuses them with its one-line message (it cannot update rows in place).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from aftercare.store.connect import Store
from aftercare.store.load import quote
from aftercare.store.transaction import PLAYBOOK_FEATURES, execute, execute_many, placeholder
from aftercare.store.writer import replace_file_rows_sql

__all__ = [
    "append_rows",
    "delete_file_rejects",
    "insert_new_rows",
    "set_where_in",
    "update_by_key",
]

_STAGED = "_append_rows"


def append_rows(store: Store, table: str, rows: pa.Table) -> None:
    """Append Arrow ``rows`` (columns named as in ``table``) to ``table``.

    Nothing is checked or deduplicated: the caller appends to a log (outcomes, preferences,
    moves, rejects, the load log).
    """
    store.require_transactions(PLAYBOOK_FEATURES)
    if rows.num_rows == 0:
        return
    cols = ", ".join(quote(c) for c in rows.schema.names)
    if store.kind == "duckdb":
        native = store.con.con
        native.register(_STAGED, rows)
        try:
            native.execute(f"INSERT INTO {quote(table)} ({cols}) SELECT {cols} FROM {_STAGED}")
        finally:
            native.unregister(_STAGED)
        return
    marks = ", ".join([placeholder(store)] * rows.num_columns)
    execute_many(
        store,
        f"INSERT INTO {quote(table)} ({cols}) VALUES ({marks})",
        [tuple(r.values()) for r in rows.to_pylist()],
    )


def insert_new_rows(store: Store, table: str, rows: pa.Table, *, key: str) -> None:
    """Insert the ``rows`` whose ``key`` is not in ``table`` yet (the stored ones are kept).

    Stable ids make reruns add nothing (R-ACT-CATCHUP).
    """
    store.require_transactions(PLAYBOOK_FEATURES)
    stored = store.table(table)
    new = ibis.memtable(rows)
    store.con.insert(table, new.filter(~new[key].isin(stored[key])))


def update_by_key(store: Store, table: str, *, key: str, column: str, values: pa.Table) -> None:
    """Set ``column`` of the rows of ``table`` whose ``key`` is in ``values`` (key, column).

    E.g. the due dates R-ACT-CAP moves: ``values`` holds each action id with its new date.
    """
    p = placeholder(store)
    pairs = [(r[column], r[key]) for r in values.select([key, column]).to_pylist()]
    execute_many(
        store, f"UPDATE {quote(table)} SET {quote(column)} = {p} WHERE {quote(key)} = {p}", pairs
    )


def set_where_in(
    store: Store, table: str, *, column: str, value: str, key: str, keys: ir.Table
) -> None:
    """Set ``column`` to the text ``value`` where ``key`` is among the rows of ``keys``.

    ``keys`` is an Ibis expression over the store (one column), e.g. the open actions that
    consent no longer allows (R-ACT-CONSENT); it runs inside the same statement.
    """
    literal = "'" + value.replace("'", "''") + "'"
    selected = store.con.compile(keys)
    execute(
        store,
        f"UPDATE {quote(table)} SET {quote(column)} = {literal} WHERE {quote(key)} IN ({selected})",
    )


def delete_file_rejects(store: Store, table_name: str, source_file: str, source_path: str) -> None:
    """Delete the quarantine of earlier loads of the same file (same name and path).

    A file imported again replaces its own rejected rows; the same name in another folder
    keeps its own (R-IN-1).
    """
    sql = replace_file_rows_sql("rejected_rows", table_name, placeholder(store))
    execute(store, sql, [source_file, source_path])
