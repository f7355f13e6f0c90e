"""Row-level writes of the services: append, insert new keys, update by key, delete a quarantine.

Each runs inside the caller's :func:`~aftercare.store.transaction.transaction` (several of them
make one atomic change: an engine run, an outcome, a call-log import) on DuckDB or PostgreSQL;
a Spark lake refuses them with its one-line message (it cannot update rows in place).
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis.expr.types as ir
import pyarrow as pa

from aftercare.schema.registry import stored_table
from aftercare.store.connect import Store
from aftercare.store.keys import has_key_index
from aftercare.store.load import quote
from aftercare.store.transaction import (
    PLAYBOOK_FEATURES,
    CompiledQuery,
    execute,
    execute_counted,
    execute_many,
    fetch_rows,
    placeholder,
)
from aftercare.store.writer import _copy_into as copy_rows
from aftercare.store.writer import replace_file_rows_sql

__all__ = [
    "append_rows",
    "delete_file_rejects",
    "insert_new_rows",
    "set_where_in",
    "update_by_key",
]

_STAGED = "_append_rows"
_NEW = "_new_rows"


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


def insert_new_rows(
    store: Store, table: str, rows: pa.Table, *, key: str | Sequence[str] | None = None
) -> pa.Table:
    """Insert the ``rows`` whose ``key`` is not in ``table`` yet; return the keys inserted.

    Stable ids make reruns add nothing (R-ACT-CATCHUP). ``key`` defaults to the table's
    declared key (:data:`~aftercare.schema.registry.STORED_TABLES`); ``rows`` holds each key
    once. On PostgreSQL the insert also takes ``ON CONFLICT DO NOTHING``, so a row another
    session committed meanwhile under a unique index is skipped, not a crash; on DuckDB one
    process writes at a time (the file lock), so the anti-join alone decides.

    Returns
    -------
    pa.Table
        The key columns of the rows this call inserted (what a run reports as created).
    """
    store.require_transactions(PLAYBOOK_FEATURES)
    keys = _key_columns(table, key)
    inserted = rows.select(list(keys)).schema
    if rows.num_rows == 0:
        return inserted.empty_table()
    cols = ", ".join(quote(c) for c in rows.schema.names)
    match = " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in keys)
    returning = ", ".join(quote(k) for k in keys)

    def insert_sql(conflict: str, *, anti_join: bool = True) -> str:
        new_only = f" WHERE NOT EXISTS (SELECT 1 FROM {quote(table)} t WHERE {match})"
        return (
            f"INSERT INTO {quote(table)} ({cols}) SELECT {cols} FROM {_NEW} s"
            f"{new_only if anti_join else ''}{conflict} RETURNING {returning}"
        )

    if store.kind == "duckdb":
        native = store.con.con
        native.register(_NEW, rows)
        try:
            got = fetch_rows(store, insert_sql(""))
        finally:
            native.unregister(_NEW)
    else:
        pg = store.con.con
        with pg.transaction(), pg.cursor() as cur:
            cur.execute(f"CREATE TEMP TABLE {_NEW} (LIKE {quote(table)}) ON COMMIT DROP")
            copy_rows(cur, _NEW, rows)
            # Where the key's unique index stands (the rule: store.keys), it alone keeps the
            # stored rows out, one index probe a row. The anti-join is kept for a store whose
            # data broke the key: planned on an empty table (go-live), it ran as a nested
            # loop re-reading the rows inserted so far for every row (1M customers: minutes).
            indexed = has_key_index(cur, table) and tuple(keys) == stored_table(table).key
            cur.execute(insert_sql(" ON CONFLICT DO NOTHING", anti_join=not indexed))
            got = [tuple(r) for r in cur.fetchall()]
            cur.execute(f"DROP TABLE {_NEW}")
    return pa.Table.from_pylist([dict(zip(keys, r, strict=True)) for r in got], schema=inserted)


def _key_columns(table: str, key: str | Sequence[str] | None) -> tuple[str, ...]:
    """``key`` as a tuple, else the declared key of ``table``."""
    if key is None:
        declared = stored_table(table).key
        if not declared:
            raise ValueError(f"{table} declares no key: append_rows, not insert_new_rows")
        return declared
    return (key,) if isinstance(key, str) else tuple(key)


def update_by_key(store: Store, table: str, *, key: str, column: str, values: pa.Table) -> None:
    """Set ``column`` of the rows of ``table`` whose ``key`` is in ``values`` (key, column).

    E.g. the due dates R-ACT-CAP moves: ``values`` holds each action id with its new date.
    """
    p = placeholder(store)
    pairs = [(r[column], r[key]) for r in values.select([key, column]).to_pylist()]
    execute_many(
        store, f"UPDATE {quote(table)} SET {quote(column)} = {p} WHERE {quote(key)} = {p}", pairs
    )


def has_value(store: Store, table: str, *, column: str, value: str) -> bool:
    """Whether some row of ``table`` holds the text ``value`` in ``column`` (one cheap read
    that lets a caller skip a query that could find nothing)."""
    sql = f"SELECT 1 FROM {quote(table)} WHERE {quote(column)} = {placeholder(store)} LIMIT 1"
    return bool(fetch_rows(store, sql, [value]))


def set_where_in(
    store: Store,
    table: str,
    *,
    column: str,
    value: str,
    key: str,
    keys: ir.Table | CompiledQuery,
) -> int:
    """Set ``column`` to the text ``value`` where ``key`` is among the rows of ``keys``.

    ``keys`` is an Ibis expression over the store (one column), or its compiled SQL, e.g. the
    open actions that consent no longer allows (R-ACT-CONSENT); it runs inside the same
    statement. Returns the rows changed (rows that already hold ``value`` are left alone and
    not counted).
    """
    literal = "'" + value.replace("'", "''") + "'"
    if isinstance(keys, CompiledQuery):
        selected = keys.sql if keys.expr is None else str(store.con.compile(keys.expr))
    else:
        selected = str(store.con.compile(keys))
    return execute_counted(
        store,
        f"UPDATE {quote(table)} SET {quote(column)} = {literal} "
        f"WHERE {quote(key)} IN ({selected}) AND {quote(column)} IS DISTINCT FROM {literal}",
    )


def delete_file_rejects(store: Store, table_name: str, source_file: str, source_path: str) -> None:
    """Delete the quarantine of earlier loads of the same file (same name and path).

    A file imported again replaces its own rejected rows; the same name in another folder
    keeps its own (R-IN-1).
    """
    sql = replace_file_rows_sql("rejected_rows", table_name, placeholder(store))
    execute(store, sql, [source_file, source_path])
