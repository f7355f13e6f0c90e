"""Set-based updates by key: many rows of one table get their own new value in one statement.

:func:`aftercare.store.rows.update_by_key` runs one UPDATE per row, fine for the few moves of
a run; a store made by an older Aftercare may need tens of thousands of rows filled at once
(R-ACT-EXPIRE's ``valid_until`` of the actions stored before it), where one statement per row
costs about a millisecond each on DuckDB. Here DuckDB joins the Arrow rows in one UPDATE …
FROM; PostgreSQL gets the rows as one batch (psycopg's pipelined ``executemany``).
"""

from __future__ import annotations

import pyarrow as pa

from aftercare.store.connect import Store
from aftercare.store.load import quote
from aftercare.store.rows import update_by_key
from aftercare.store.transaction import PLAYBOOK_FEATURES

_STAGED = "_update_rows"

__all__ = ["update_many"]


def update_many(store: Store, table: str, *, key: str, column: str, values: pa.Table) -> int:
    """Set ``column`` of each row of ``table`` whose ``key`` is in ``values`` (key, column).

    Runs inside the caller's transaction; ``values`` holds each key once. Returns the rows
    given.
    """
    store.require_transactions(PLAYBOOK_FEATURES)
    if values.num_rows == 0:
        return 0
    if store.kind != "duckdb":
        update_by_key(store, table, key=key, column=column, values=values)
        return values.num_rows
    native = store.con.con
    native.register(_STAGED, values.select([key, column]))
    try:
        native.execute(
            f"UPDATE {quote(table)} SET {quote(column)} = s.{quote(column)} "
            f"FROM {_STAGED} s WHERE {quote(table)}.{quote(key)} = s.{quote(key)}"
        )
    finally:
        native.unregister(_STAGED)
    return values.num_rows
