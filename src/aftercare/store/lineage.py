"""Rows made ready for storage: the stored schema, lineage columns and a content hash.

The store defines the form it accepts: a canonical table's rows with their lineage and
``row_hash`` (:func:`stage_rows`), a file's rejects and warnings with their load
(:func:`with_load_columns`).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from aftercare.schema import TableSpec


def constant_column(n: int, value: object, type_: pa.DataType) -> pa.Array:
    """An Arrow array of ``n`` copies of ``value``."""
    return pa.nulls(n, type_).fill_null(pa.scalar(value, type_))


def stage_rows(
    good: pa.Table, spec: TableSpec, *, source_file: str, load_id: str, loaded_at: dt.datetime
) -> pa.Table:
    """Validated rows in the stored schema, with lineage and a content hash.

    ``row_hash`` covers the canonical columns only, so re-importing the same
    content from another file or row position changes nothing (R-IN-2).
    """
    row_hash = row_hashes(good, spec)
    n = good.num_rows
    lineage = {"source_file": source_file, "load_id": load_id, "loaded_at": loaded_at}
    columns = []
    schema = spec.arrow_schema()
    for fld in schema:
        if fld.name in lineage:
            columns.append(constant_column(n, lineage[fld.name], fld.type))
        elif fld.name == "row_hash":
            columns.append(row_hash)
        else:
            columns.append(good.column(fld.name).cast(fld.type))
    return pa.table(columns, schema=schema)


def row_hashes(rows: pa.Table, spec: TableSpec) -> pa.Array | pa.ChunkedArray:
    """The content hash of each row: its canonical columns only, as text (R-IN-2).

    The raw text beside an enum (R-IN-7) is informational: a re-export/re-import that only
    loses it must not count as a change; nor does the row's lineage.
    """
    content = ", ".join(f'"{c}"' for c in spec.column_names)
    local = duckdb.connect()
    try:
        local.register("good", rows)
        # DuckDB's 64-bit hash of the typed values: ~10x faster than md5 over text casts
        # (measured on 9M orders). It only compares two versions of the same key, so a
        # collision would need two different rows of one key with equal 64-bit hashes.
        return pc.cast(
            local.execute(f"SELECT hash({content}) AS h FROM good").to_arrow_table().column("h"),
            pa.string(),
        )
    finally:
        local.close()


def with_load_columns(
    part: pa.Table, schema: pa.Schema, *, load_id: str, table: str, at: dt.datetime
) -> pa.Table:
    """A file's rejects or warnings in the schema of their system table.

    ``load_id``, ``table_name`` and ``rejected_at`` are filled in; the other columns are cast
    to the stored types.
    """
    n = part.num_rows
    filled = {"load_id": load_id, "table_name": table, "rejected_at": at}
    columns = []
    for fld in schema:
        if fld.name in filled:
            columns.append(constant_column(n, filled[fld.name], fld.type))
        else:
            columns.append(part.column(fld.name).cast(fld.type))
    return pa.table(columns, schema=schema)
