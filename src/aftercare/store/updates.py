"""Set-based updates by key: many rows of one table get their own new value in one statement.

:func:`aftercare.store.rows.update_by_key` runs one UPDATE per row, fine for a few rows; an
engine run on a large store moves tens of thousands of calls (R-ACT-CAPACITY carries over
every open call not worked by its day: 40,000 on the 1M-customer demo, 73 s one by one), and a
store made by an older Aftercare may need as many ``valid_until`` filled at once, where one
statement per row costs one to two milliseconds each on DuckDB. Here DuckDB joins the Arrow
rows in one UPDATE … FROM; PostgreSQL gets the rows as one batch (psycopg's pipelined
``executemany``).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from aftercare.store.connect import Store
from aftercare.store.load import quote
from aftercare.store.rows import update_by_key
from aftercare.store.transaction import PLAYBOOK_FEATURES

_STAGED = "_update_rows"

__all__ = ["update_many"]


def update_many(store: Store, table: str, *, key: str, column: str, values: pa.Table) -> int:
    """Set ``column`` of each row of ``table`` whose ``key`` is in ``values`` (key, column).

    Runs inside the caller's transaction. A key given twice gets its last value (as one
    UPDATE per row would leave it). Returns the rows given.
    """
    store.require_transactions(PLAYBOOK_FEATURES)
    if values.num_rows == 0:
        return 0
    given = values.num_rows
    values = _last_per_key(values, key)
    if store.kind != "duckdb":
        update_by_key(store, table, key=key, column=column, values=values)
        return given
    native = store.con.con
    native.register(_STAGED, values.select([key, column]))
    try:
        native.execute(
            f"UPDATE {quote(table)} SET {quote(column)} = s.{quote(column)} "
            f"FROM {_STAGED} s WHERE {quote(table)}.{quote(key)} = s.{quote(key)}"
        )
    finally:
        native.unregister(_STAGED)
    return given


def _last_per_key(values: pa.Table, key: str) -> pa.Table:
    """``values`` with each key once: its last row."""
    keys = values.column(key).to_numpy(zero_copy_only=False)
    _, first_from_end = np.unique(keys[::-1], return_index=True)
    if len(first_from_end) == len(keys):
        return values
    return values.take(np.sort(len(keys) - 1 - first_from_end))
