"""Build canonical tables from a few hand-written rows, for hand-computed fixtures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa

from aftercare.schema import table_spec


def _coerce(value: Any, arrow_type: pa.DataType) -> Any:
    if value is None:
        return None
    if pa.types.is_decimal(arrow_type) and not isinstance(value, Decimal):
        return Decimal(str(value))
    if pa.types.is_date(arrow_type) and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if pa.types.is_timestamp(arrow_type) and isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return value


def make_table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Return an Arrow table with the stored schema of canonical table ``name``.

    Columns a row leaves out take the column's schema default (else NULL); system columns
    (lineage) are filled with fixture values. Dates and timestamps may be ISO strings,
    money may be int/float/str.
    """
    spec = table_spec(name)
    schema = spec.arrow_schema()
    defaults = {c.name: c.default for c in spec.columns}
    system = {
        "source_file": "fixture",
        "load_id": "fixture",
        "loaded_at": dt.datetime(2020, 1, 1),
        "row_hash": "fixture",
    }
    unknown = {k for row in rows for k in row} - set(schema.names)
    if unknown:
        raise KeyError(f"{name} has no columns {sorted(unknown)}")
    columns = {}
    for field in schema:
        values = []
        for i, row in enumerate(rows, start=2):
            if field.name in row:
                value = row[field.name]
            elif field.name == "source_row":
                value = i
            else:
                value = system.get(field.name, defaults.get(field.name))
            values.append(_coerce(value, field.type))
        columns[field.name] = pa.array(values, type=field.type)
    return pa.table(columns, schema=schema)
