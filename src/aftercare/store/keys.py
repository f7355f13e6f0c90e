"""Natural keys enforced by the engine: one unique index per keyed table on PostgreSQL (R-IN-3).

Every stored table declares its key (:data:`~aftercare.schema.STORED_TABLES`). PostgreSQL
enforces it with a unique index created with the schema (and added to a store made before the
index existed), which the playbook's ``ON CONFLICT`` inserts also rely on. DuckDB gets no
index: its ART indexes slow bulk loads, and a delete and insert of one key inside a transaction
cannot be replayed from its WAL (duckdb/duckdb#15836); it is checked at open instead
(:mod:`.repair`) and by ``aftercare check`` (:mod:`.integrity`).
"""

from __future__ import annotations

from typing import Any

import ibis

from aftercare.schema.registry import STORED_TABLES
from aftercare.store.load import quote

#: SQLSTATE of a unique violation (an index cannot be built over duplicate keys).
UNIQUE_VIOLATION = "23505"

#: Free-text key columns of the logs (a reject's reason, a warning's message may quote a
#: whole cell): indexed by their md5, as a B-tree entry holds at most ~2.7 kB.
HASHED_KEY_COLUMNS = frozenset({"reason", "message"})


def _indexed(column: str) -> str:
    return f"md5({quote(column)})" if column in HASHED_KEY_COLUMNS else quote(column)


def key_index_name(table: str) -> str:
    """The name of ``table``'s unique key index."""
    return f"{table}__key"


def has_key_index(cursor: Any, table: str) -> bool:
    """Whether ``table``'s unique key index stands on the PostgreSQL store of ``cursor`` (a
    psycopg cursor): missing where the data broke the key (:func:`ensure_unique_keys`)."""
    cursor.execute(
        "SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = %s",
        (key_index_name(table),),
    )
    return cursor.fetchone() is not None


def ensure_unique_keys(con: ibis.BaseBackend) -> list[str]:
    """Create each keyed table's missing unique index on PostgreSQL; say what could not be.

    Idempotent: an index that exists is left alone (one catalogue query). Existing data that
    holds a key twice is reported, not raised: the index waits until ``aftercare check`` has
    found the rows and they are fixed.

    Parameters
    ----------
    con
        An Ibis PostgreSQL backend whose tables exist (``Store.ensure_schema``).

    Returns
    -------
    list of str
        One line per table whose key could not be enforced.
    """
    native = con.con  # the engine's own connection (DDL, transactions)
    with native.cursor() as cur:
        cur.execute("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
        existing = {row[0] for row in cur.fetchall()}
    problems: list[str] = []
    for table in STORED_TABLES.values():
        name = key_index_name(table.name)
        if not table.key or name in existing:
            continue
        columns = ", ".join(_indexed(c) for c in table.key)
        try:
            with native.transaction(), native.cursor() as cur:
                cur.execute(
                    f"CREATE UNIQUE INDEX IF NOT EXISTS {quote(name)} "
                    f"ON {quote(table.name)} ({columns})"
                )
        except Exception as exc:  # psycopg is optional: recognise the violation by its code
            if getattr(exc, "sqlstate", None) != UNIQUE_VIOLATION:
                raise
            problems.append(
                f"{table.name} holds some {'/'.join(table.key)} more than once, so its key is "
                "not enforced; `aftercare check` lists them"
            )
    return problems
