"""Write a table's rows to a CSV, Parquet or XLSX file, streaming Arrow record batches.

What ``aftercare export`` writes. Text stays text wherever a spreadsheet may open the file:

- **XLSX**: every text cell is a string cell (:func:`aftercare.reports.workbook.new_workbook`),
  never a formula or a link; numbers, dates and booleans keep their own cell types.
- **CSV**: a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a
  leading single quote (OWASP's CSV-injection rule), so Excel shows ``'=cmd|' /C calc'!A0``
  as text instead of running it; numbers, dates and booleans are never touched (``-5`` in a
  number column stays ``-5``). The file is UTF-8 with a byte-order mark, so Excel in a
  Chinese locale reads UTF-8 instead of guessing GBK. :class:`CsvOptions` turns either off.
- **Parquet**: typed columns, written as they are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from xlsxwriter.worksheet import Worksheet

from aftercare.errors import AftercareError
from aftercare.reports.workbook import new_workbook

#: The file formats an export writes, by suffix.
FORMATS = (".csv", ".parquet", ".xlsx")
#: Excel's sheet limit minus the header row.
EXCEL_MAX_ROWS = 1_048_575
#: A text cell starting with one of these is a formula (or a DDE call) to a spreadsheet.
CSV_FORMULA_START = r"^[=+\-@\t\r]"
#: The quote that makes a spreadsheet read the rest of the cell as text.
CSV_TEXT_PREFIX = "'"
UTF8_BOM = "\ufeff".encode()


@dataclass(frozen=True)
class CsvOptions:
    """How a CSV export is written.

    Attributes
    ----------
    neutralise
        Prefix text cells that a spreadsheet would run as a formula with ``'`` (default);
        ``False`` (``--raw``) writes every cell exactly as stored.
    bom
        Start the file with a UTF-8 byte-order mark (default) so Excel reads UTF-8;
        ``False`` (``--no-bom``) for tools that do not expect one.
    """

    neutralise: bool = True
    bom: bool = True


def is_text(kind: pa.DataType) -> bool:
    """Whether ``kind`` holds text (plain, large, view or dictionary-encoded strings)."""
    if pa.types.is_dictionary(kind):
        return is_text(kind.value_type)
    return (
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )


def csv_safe(column: pa.Array) -> pa.Array:
    """A text column with every cell a spreadsheet would run as a formula prefixed by ``'``.

    Cells starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return (OWASP's
    CSV-injection rule); nulls and other cells are unchanged. The result is ``string`` (or
    ``large_string`` for a large column).
    """
    if not pa.types.is_large_string(column.type):
        column = column.cast(pa.string())
    risky = pc.match_substring_regex(column, CSV_FORMULA_START)
    empty = pa.scalar("", column.type)
    quoted = pc.binary_join_element_wise(pa.scalar(CSV_TEXT_PREFIX, column.type), column, empty)
    return pc.if_else(risky, quoted, column)


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` with text columns as plain strings, the types the CSV writer is given."""
    return pa.schema(
        pa.field(f.name, pa.string(), f.nullable)
        if is_text(f.type) and not pa.types.is_large_string(f.type)
        else f
        for f in schema
    )


def _csv_batch(batch: pa.RecordBatch, schema: pa.Schema, options: CsvOptions) -> pa.RecordBatch:
    columns = []
    for column, field in zip(batch.columns, schema, strict=True):
        if is_text(column.type):
            column = csv_safe(column) if options.neutralise else column.cast(field.type)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def write_table_file(
    reader: pa.RecordBatchReader,
    out: Path,
    *,
    file_format: str,
    sheet_name: str = "data",
    csv: CsvOptions | None = None,
) -> int:
    """Write the batches of ``reader`` to ``out`` as ``file_format``; return the rows written.

    Parameters
    ----------
    reader
        The rows, e.g. an Ibis expression's ``to_pyarrow_batches()``.
    out
        The file to write (overwritten).
    file_format
        One of :data:`FORMATS` (``.csv``, ``.parquet``, ``.xlsx``).
    sheet_name
        The XLSX sheet's name (cut to Excel's 31 characters).
    csv
        How a CSV is written (default: neutralised text cells, with a BOM).

    Raises
    ------
    AftercareError
        An unknown format, or more rows than an Excel sheet holds.
    """
    if file_format == ".xlsx":
        return _write_xlsx(reader, out, sheet_name)
    if file_format == ".parquet":
        return _write_parquet(reader, out)
    if file_format == ".csv":
        return _write_csv(reader, out, csv or CsvOptions())
    raise AftercareError(f"{out}: unknown export format; use one of {', '.join(FORMATS)}")


# DuckDB's batches can carry the engine's type (date + interval → timestamp) where the reader's
# schema says date; each writer casts every batch to the declared schema.


def _write_parquet(reader: pa.RecordBatchReader, out: Path) -> int:
    schema, rows = reader.schema, 0
    with pq.ParquetWriter(out, schema) as writer:
        for batch in reader:
            writer.write_batch(batch.cast(schema))
            rows += batch.num_rows
    return rows


def _write_csv(reader: pa.RecordBatchReader, out: Path, options: CsvOptions) -> int:
    schema, rows = reader.schema, 0
    csv_schema = _csv_schema(schema)
    with out.open("wb") as fh:
        if options.bom:
            fh.write(UTF8_BOM)
        with pacsv.CSVWriter(fh, csv_schema) as writer:
            for batch in reader:
                writer.write_batch(_csv_batch(batch.cast(schema), csv_schema, options))
                rows += batch.num_rows
    return rows


def _write_xlsx(reader: pa.RecordBatchReader, out: Path, sheet_name: str) -> int:
    schema, rows = reader.schema, 0
    # constant_memory: rows go to disk as they are written, whatever the size of the table.
    workbook = new_workbook(out, constant_memory=True, nan_inf_to_errors=True, remove_timezone=True)
    try:
        sheet = workbook.add_worksheet(sheet_name[:31] or "data")
        formats = {
            c: workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
            if pa.types.is_timestamp(f.type)
            else workbook.add_format({"num_format": "yyyy-mm-dd"})
            for c, f in enumerate(schema)
            if pa.types.is_timestamp(f.type) or pa.types.is_date(f.type)
        }
        for c, name in enumerate(schema.names):
            sheet.write_string(0, c, name)
        for batch in reader:
            if rows + batch.num_rows > EXCEL_MAX_ROWS:
                raise AftercareError(
                    f"more than {EXCEL_MAX_ROWS} rows do not fit an Excel sheet; "
                    "export .csv or .parquet"
                )
            # constant_memory writes row by row; the row loop is xlsxwriter's own format.
            for record in batch.cast(schema).to_pylist():
                rows += 1
                for c, value in enumerate(record.values()):
                    _write_cell(sheet, rows, c, value, formats.get(c))
    finally:
        workbook.close()
    return rows


def _write_cell(sheet: Worksheet, row: int, col: int, value: Any, date_format: Any) -> None:
    """One cell in its own type; anything that is not a number, date or boolean is text."""
    if value is None:
        return
    if isinstance(value, dt.date | dt.datetime):
        sheet.write_datetime(row, col, value, date_format)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, int | float | Decimal):
        sheet.write_number(row, col, float(value))
    else:
        sheet.write_string(row, col, str(value))
