"""How many records of a table reference a customer or vehicle the store does not hold (R-IN-6).

Its own small module so that ``aftercare status`` counts them without importing the import
path (file reading, parsing, pandas).
"""

from __future__ import annotations

from aftercare.pipeline.unmatched import unmatched_records
from aftercare.store.connect import Store


def unmatched_count(store: Store, table: str) -> int:
    """How many records of ``table`` are unmatched (0 for tables that reference nothing)."""
    records = unmatched_records(
        table,
        store.table(table),
        customers=store.table("customers"),
        vehicles=store.table("vehicles"),
    )
    return 0 if records is None else int(records.count().to_pyarrow().as_py())
