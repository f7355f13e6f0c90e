"""Write any stored table to CSV, Parquet or XLSX, streaming in Arrow batches."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from aftercare.errors import AftercareError, InputFileError
from aftercare.store.connect import Store

EXCEL_MAX_ROWS = 1_048_575  # Excel's sheet limit minus the header row
FORMATS = (".csv", ".parquet", ".xlsx")


def export_table(
    store: Store,
    name: str,
    out: Path,
    *,
    as_of: dt.date | None = None,
    rows: pa.Table | None = None,
) -> int:
    """Export table ``name`` to ``out`` (format by extension); return the rows written.

    ``as_of`` keeps one dated snapshot of tables that have an ``as_of_date`` column.
    ``rows``: export these rows under ``name`` instead of the stored table (a view a
    service derived from it, e.g. the actions with their current status).

    Raises
    ------
    InputFileError
        Unknown table, unknown format, or a table too large for Excel.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise InputFileError(f"{out}: unknown export format; use one of {', '.join(FORMATS)}")
    if not store.has_table(name):
        known = ", ".join(sorted(t for t in store.con.list_tables() if not t.startswith("_")))
        raise InputFileError(f"no table {name!r} in the store; tables: {known}")
    expr: ir.Table = store.table(name) if rows is None else ibis.memtable(rows)
    if as_of is not None:
        if "as_of_date" not in expr.columns:
            raise InputFileError(f"table {name!r} has no dated snapshots (no as_of_date column)")
        expr = expr.filter(expr.as_of_date == as_of)
    key = [c for c in expr.columns if c.endswith("_id")][:1]
    return export_expr(expr, out, order_by=key)


def export_expr(expr: ir.Table, out: Path, *, order_by: list[str] | None = None) -> int:
    """Write any Ibis table expression to ``out`` (format by extension); return the rows.

    Used for computed marts as well as stored tables; ``order_by`` makes the file stable.

    Raises
    ------
    InputFileError
        Unknown format.
    AftercareError
        Too many rows for an Excel sheet.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise InputFileError(f"{out}: unknown export format; use one of {', '.join(FORMATS)}")
    if order_by:
        expr = expr.order_by(order_by)
    if suffix == ".xlsx":
        return _write_xlsx(expr, out)
    reader = expr.to_pyarrow_batches()
    schema = reader.schema
    rows = 0
    # DuckDB's batches can carry the engine's type (date + interval → timestamp) where the
    # reader's schema says date; cast each batch to the declared schema.
    if suffix == ".parquet":
        with pq.ParquetWriter(out, schema) as writer:
            for batch in reader:
                writer.write_batch(batch.cast(schema))
                rows += batch.num_rows
        return rows
    with out.open("wb") as fh, pacsv.CSVWriter(fh, schema) as writer:
        for batch in reader:
            writer.write_batch(batch.cast(schema))
            rows += batch.num_rows
    return rows


def _write_xlsx(expr: ir.Table, out: Path) -> int:
    import xlsxwriter

    count = int(expr.count().to_pyarrow().as_py())
    if count > EXCEL_MAX_ROWS:
        raise AftercareError(
            f"{count} rows do not fit an Excel sheet ({EXCEL_MAX_ROWS}); export .csv or .parquet"
        )
    table: pa.Table = expr.to_pyarrow()
    workbook = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    sheet = workbook.add_worksheet(out.stem[:31] or "data")
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    time_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    sheet.write_row(0, 0, table.column_names)
    formats = []
    for fld in table.schema:
        if pa.types.is_date(fld.type):
            formats.append(date_format)
        elif pa.types.is_timestamp(fld.type):
            formats.append(time_format)
        else:
            formats.append(None)
    # constant_memory mode writes row by row; the row loop is xlsxwriter's own format.
    for r, record in enumerate(table.to_pylist(), start=1):
        for c, value in enumerate(record.values()):
            if value is None:
                continue
            if isinstance(value, dt.date | dt.datetime):
                sheet.write_datetime(r, c, value, formats[c])
            elif isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            elif isinstance(value, int | float | Decimal):
                sheet.write_number(r, c, float(value))
            else:
                sheet.write(r, c, str(value))
    workbook.close()
    return table.num_rows
