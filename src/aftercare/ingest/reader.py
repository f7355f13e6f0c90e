"""Read a DMS export (CSV/TXT, XLSX, Parquet) into an all-text Arrow table (SPEC §1).

Every column comes out as ``pa.string()`` named by its header, so validation treats all
formats the same way (the validator may ask Parquet's typed columns to stay typed, and then
converts them with the text path's results: :mod:`aftercare.ingest.typed`). Row numbers are
those a user sees in a spreadsheet (header = row 1): for CSV a quoted value spanning lines is
one record and counts as one row, blank lines count as rows (validation skips them), and a
record with the wrong number of fields is set aside as a :class:`BadRow` instead of failing
the file (R-IN-1).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from aftercare.errors import InputFileError
from aftercare.ingest.csv_damage import (
    MARK,
    MAX_FIELD_BYTES,
    decode_marking,
    marked_rows,
    oversized_rows,
    physical_lines,
    row_text,
    split_unterminated,
)

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
PARQUET_SUFFIXES = (".parquet", ".pq")
#: Bytes looked at to detect the encoding and the delimiter.
_SAMPLE_BYTES = 1 << 16
_UTF8_NAMES = {"utf-8", "utf8", "utf_8", "utf-8-sig", "utf_8_sig"}


@dataclass(frozen=True)
class BadRow:
    """A record that could not be split into the header's columns (CSV only)."""

    row: int
    reason: str
    text: str


@dataclass(frozen=True)
class SourceTable:
    """A file's cells as text.

    Parameters
    ----------
    path
        The file read.
    headers
        Header texts as in the file (stripped, BOM removed), in file order.
    data
        Every column as ``pa.string()`` (NULL for empty cells), named by header; read with
        ``keep_types``, a Parquet file's date, timestamp, number and bool columns stay typed.
    first_data_row
        Spreadsheet row number of data row 0 (header row 1 -> 2).
    encoding
        Text encoding used for CSV; ``None`` for other formats.
    row_numbers
        Spreadsheet row of each data row when they are not consecutive (CSV records set
        aside as ``bad_rows``); ``None`` means ``first_data_row + index``.
    bad_rows
        Records set aside because their field count differs from the header's.
    """

    path: Path
    headers: tuple[str, ...]
    data: pa.Table
    first_data_row: int
    encoding: str | None
    row_numbers: pa.Array | None = None
    bad_rows: tuple[BadRow, ...] = ()

    def source_rows(self) -> pa.Array:
        """Spreadsheet row number of every data row, as int64."""
        if self.row_numbers is not None:
            return self.row_numbers
        start = self.first_data_row
        return pa.array(np.arange(start, start + self.data.num_rows, dtype=np.int64))


def read_source(
    path: Path, *, encoding: str | None = None, keep_types: bool = False
) -> SourceTable:
    """Read a DMS export into a :class:`SourceTable`.

    Parameters
    ----------
    path
        A ``.csv``/``.txt``/``.tsv``, ``.xlsx``/``.xlsm``/``.xls`` (first sheet) or
        ``.parquet`` file.
    encoding
        Text encoding of a CSV; default: UTF-8 (with or without BOM) if the file's start
        decodes as UTF-8, else GB18030 (a superset of GBK).
    keep_types
        Leave a Parquet file's decimal, date, timestamp, number and bool columns typed instead of
        turning them into text (see :data:`KEPT_TYPES`; the validator converts them directly).

    Raises
    ------
    InputFileError
        Missing, unreadable, empty, unknown format, or duplicate headers.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return _read_csv(path, encoding)
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(path)
    if suffix in PARQUET_SUFFIXES:
        try:
            table = pq.read_table(path)
        except (OSError, pa.ArrowException) as exc:
            raise InputFileError(f"{path}: not a readable Parquet file ({exc})") from None
        return source_from_arrow(table, path, keep_types=keep_types)
    known = ", ".join((*CSV_SUFFIXES, *EXCEL_SUFFIXES, *PARQUET_SUFFIXES))
    raise InputFileError(f"{path}: unsupported file type {suffix or '(none)'!r} (known: {known})")


def source_from_arrow(
    table: pa.Table, path: Path, *, first_data_row: int = 2, keep_types: bool = False
) -> SourceTable:
    """Wrap any Arrow table (Parquet, a SQL result) as text, dates as ISO strings.

    With ``keep_types``, columns of the :data:`KEPT_TYPES` stay typed (time zones dropped as
    in their text); :func:`column_as_text` gives their text when it is needed.
    """
    headers = _check_headers(path, [str(name) for name in table.column_names])

    def convert(i: int) -> pa.ChunkedArray:
        column = _plain(table.column(i))
        if keep_types and is_kept_type(column.type):
            return column
        return column_as_text(path, headers[i], column)

    # Arrow's casts release the GIL: typed columns (10M dates, amounts) turn to text in parallel.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        columns = list(pool.map(convert, range(len(headers))))
    data = pa.table(columns, names=list(headers))
    return SourceTable(path, headers, data, first_data_row, None)


def is_kept_type(kind: pa.DataType) -> bool:
    """True for the columns ``keep_types`` leaves typed: decimals, dates, timestamps, numbers,
    bools."""
    return any(check(kind) for check in KEPT_TYPES)


#: Arrow type checks of the columns that ``keep_types`` leaves typed.
KEPT_TYPES = (
    pa.types.is_decimal,
    pa.types.is_date,
    pa.types.is_timestamp,
    pa.types.is_integer,
    pa.types.is_floating,
    pa.types.is_boolean,
)


def _plain(column):
    """Dictionary columns decoded; time-zone-aware timestamps as their UTC wall time."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column, kind = column.cast(kind.value_type), kind.value_type
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        column = column.cast(pa.timestamp(kind.unit))
    return column


def column_as_text(
    path: Path, name: str, column: pa.ChunkedArray | pa.Array
) -> pa.ChunkedArray | pa.Array:
    """The text of a typed column, as every format reads: whole floats without ``.0``, dates
    ISO, midnights as bare dates.

    Raises
    ------
    InputFileError
        A type with no text form (nested, binary …).
    """
    column = _plain(column)
    kind = column.type
    if pa.types.is_floating(kind):
        whole = pc.and_(pc.equal(pc.floor(column), column), pc.less(pc.abs(column), float(2**53)))
        as_int = pc.cast(pc.if_else(whole, column, 0.0), pa.int64()).cast(pa.string())
        return _positional(column, pc.if_else(whole, as_int, column.cast(pa.string())))
    if pa.types.is_timestamp(kind):
        whole = _whole_seconds_text(column)
        if whole is not None:
            return whole
    try:
        text = column.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise InputFileError(f"{path}: column {name!r} has unsupported type {kind}") from None
    if pa.types.is_timestamp(kind):
        text = pc.replace_substring_regex(text, r"(?: 00:00:00)?\.?0*$", "")
    return text


#: Floats below this magnitude never read in exponent notation (every amount, odometer or
#: score the import accepts is smaller; larger ones keep the short ``1.5e+300`` in messages).
_POSITIONAL_BELOW = 1e15


def _positional(column, text):
    """Arrow writes ``1.000000000001e+10`` and ``1e-05``; a DMS user sees ``10000000000.01`` and
    ``0.00001``. Those (rare) cells are re-rendered positionally, shortest round-trip digits."""
    exponent = pc.fill_null(pc.match_substring(text, "e"), False)
    exponent = pc.and_(exponent, pc.less(pc.abs(column), _POSITIONAL_BELOW))
    if not pc.any(exponent).as_py():
        return text
    if isinstance(text, pa.ChunkedArray):
        text, exponent = text.combine_chunks(), exponent.combine_chunks()
    values = pc.filter(column, exponent).to_pylist()
    rendered = [np.format_float_positional(v, unique=True, trim="-") for v in values]
    return pc.replace_with_mask(text, exponent, pa.array(rendered, pa.string()))


def _whole_seconds_text(column: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """Timestamps without fractions as text, midnights as bare dates (no regex: 7x faster).

    The same text as the general path: ``2024-03-05 10:24:03``, or ``2024-03-05`` at midnight.
    None when some value has a fraction of a second (the general path keeps it).
    """
    try:
        seconds = column.cast(pa.timestamp("s"), safe=True)
    except pa.ArrowInvalid:
        return None
    midnight = pc.equal(pc.remainder(seconds.cast(pa.int64()), 86_400), 0)
    return pc.if_else(
        midnight, seconds.cast(pa.date32()).cast(pa.string()), seconds.cast(pa.string())
    )


def _check_headers(path: Path, raw: list[str | None]) -> tuple[str, ...]:
    headers = []
    for i, text in enumerate(raw):
        header = (text or "").replace("\ufeff", "").strip(" \t\r\n\u3000")
        headers.append(header or f"column_{i + 1}")
    seen: set[str] = set()
    dups = [h for h in headers if h in seen or seen.add(h)]  # type: ignore[func-returns-value]
    if dups:
        raise InputFileError(f"{path}: duplicate header {dups[0]!r}")
    return tuple(headers)


def _drop_blank_columns(headers: tuple[str, ...], raw: list[str | None], data: pa.Table):
    """Drop columns with neither a header nor any value (trailing delimiters)."""
    keep = [
        i
        for i, text in enumerate(raw)
        if (text or "").strip() or data.column(i).null_count < data.num_rows
    ]
    if len(keep) == len(headers):
        return headers, data
    return tuple(headers[i] for i in keep), data.select(keep)


# --- CSV ------------------------------------------------------------------------------------


class _NotUtf8(InputFileError):
    """The bytes are not text of the encoding tried (UTF-8 for the CSV parser)."""


#: Why a row is set aside (R-IN-1), for the damage of :mod:`aftercare.ingest.csv_damage`.
UNTERMINATED = "unterminated quote: the quoted value opened on this row never closes"
OVERSIZED = f"a cell of {MAX_FIELD_BYTES // (1 << 20)} MB or more (not a DMS value)"


def _detect_encoding(raw: bytes) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    sample = raw[:_SAMPLE_BYTES]
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        # Some line is not UTF-8: GBK, or a UTF-8 file with damaged lines. Text lines vote
        # (GBK text almost never forms valid UTF-8 beyond a character or two).
        utf8 = other = 0
        for line in sample.split(b"\n")[:-1] or [sample]:
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
                utf8 += 1
            except UnicodeDecodeError:
                other += 1
        return "utf-8" if utf8 > other else "gb18030"
    return "utf-8"


def _to_utf8(path: Path, raw: bytes, encoding: str) -> bytes:
    if encoding.lower() in _UTF8_NAMES:
        return raw[3:] if raw.startswith(codecs.BOM_UTF8) else raw
    try:
        # One C-level decode of the whole buffer: measured 2x faster than pyarrow's
        # chunked transcoding (ReadOptions.encoding) on a 150 MB GBK file.
        return raw.decode(encoding).encode("utf-8")
    except UnicodeDecodeError as exc:
        raise _NotUtf8(
            f"{path}: not valid {encoding} text at byte {exc.start}; pass the right encoding"
        ) from None
    except LookupError:
        raise InputFileError(f"{path}: unknown encoding {encoding!r}") from None


def _header_record(path: Path, utf8: bytes) -> tuple[list[str], str]:
    sample = utf8[:_SAMPLE_BYTES].decode("utf-8", errors="replace")
    first_line = sample.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    records = csv.reader(io.StringIO(sample), delimiter=delimiter)
    try:
        header = next(records)
    except (StopIteration, csv.Error):
        header = []
    if not any(h.strip() for h in header):
        raise InputFileError(f"{path}: empty file (no header row)")
    return header, delimiter


def _pad_header(utf8: bytes, header: list[str], delimiter: str) -> tuple[bytes, list[str]]:
    """Exports that end every *data* line with a delimiter (but not the header) get one more
    header field, so their rows are not all set aside as malformed."""
    sample = utf8[:_SAMPLE_BYTES].decode("utf-8", errors="replace")
    records = csv.reader(io.StringIO(sample), delimiter=delimiter)
    try:
        next(records)
        first = next(records)
    except (StopIteration, csv.Error):
        return utf8, header
    end = utf8.find(b"\n")
    one_line = end > 0 and not any("\n" in h for h in header)
    if not (one_line and len(first) == len(header) + 1 and not first[-1].strip()):
        return utf8, header
    end = end - 1 if utf8[end - 1 : end] == b"\r" else end
    return utf8[:end] + delimiter.encode() + utf8[end:], [*header, ""]


def _read_csv(path: Path, encoding: str | None) -> SourceTable:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read file ({exc.strerror})") from None
    if not raw.strip(b" \t\r\n" + codecs.BOM_UTF8):
        raise InputFileError(f"{path}: empty file")
    used = encoding or _detect_encoding(raw)
    try:
        return _parse_csv(path, _to_utf8(path, raw, used), used)
    except _NotUtf8:
        pass
    if encoding is None and raw[:_SAMPLE_BYTES].isascii():
        # No UTF-8 text in the sample and a later byte is not UTF-8: GB18030 all along?
        try:
            return _parse_csv(path, _to_utf8(path, raw, "gb18030"), "gb18030")
        except InputFileError:
            pass
        used = min(("utf-8", "gb18030"), key=lambda name: decode_marking(raw, name)[1])
    # Some lines are not text of the file's encoding: they are set aside, the rest loads.
    utf8, _ = decode_marking(raw, used)
    return _parse_csv(path, utf8, used, marked=True)


def _arrow_csv(
    path: Path, utf8: bytes, names: list[str], delimiter: str
) -> tuple[pa.Table, list[tuple[int | None, int, str]], bool]:
    """Arrow's parse of ``utf8``: every record as text, the records of the wrong width, and
    whether one block had to hold the whole file (a record larger than a block)."""
    invalid: list[tuple[int | None, int, str]] = []

    def set_aside(row: pa_csv.InvalidRow) -> str:
        invalid.append((row.number, row.actual_columns, row.text))
        return "skip"

    def parse(use_threads: bool, block_size: int | None = None) -> pa.Table:
        invalid.clear()
        options = {"block_size": block_size} if block_size else {}
        return pa_csv.read_csv(
            pa.BufferReader(utf8),
            read_options=pa_csv.ReadOptions(column_names=names, use_threads=use_threads, **options),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter,
                ignore_empty_lines=False,
                # Costly, so only when a quote could hide a newline inside a value.
                newlines_in_values=b'"' in utf8,
                invalid_row_handler=set_aside,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=True,
                null_values=[""],
            ),
        )

    whole = False
    failed: list[BaseException] = []
    previous = sys.unraisablehook

    def quiet(unraisable: Any) -> None:
        # A set-aside record whose text is not UTF-8 fails before the handler runs; Arrow then
        # stops with a parse error, and the file is read again as damaged text (below).
        if unraisable.object is set_aside:
            failed.append(unraisable.exc_value)
        else:
            previous(unraisable)

    sys.unraisablehook = quiet
    try:
        try:
            table = parse(use_threads=True)
        except pa.ArrowInvalid as exc:
            if "straddling" not in str(exc):
                raise
            # A record larger than a block (a huge cell): one block for the whole file; the
            # rows holding such a cell are set aside afterwards (csv_damage.oversized_rows).
            whole = True
            table = parse(use_threads=False, block_size=min(len(utf8) + 1, 2**31 - 1))
        if invalid and not whole:  # record numbers of set-aside rows are only known single-threaded
            table = parse(use_threads=False)
    except pa.ArrowInvalid as exc:
        message = str(exc).splitlines()[0]
        if "invalid UTF8" in message or failed:
            raise _NotUtf8(f"{path}: not valid UTF-8 text; pass the right encoding") from None
        raise InputFileError(f"{path}: cannot parse as CSV ({message})") from None
    finally:
        sys.unraisablehook = previous
    return table, invalid, whole


def _parse_csv(path: Path, utf8: bytes, encoding: str, *, marked: bool = False) -> SourceTable:
    """Parse UTF-8 CSV bytes; damaged rows are set aside as :class:`BadRow`, never the file.

    ``marked``: the bytes went through :func:`~.csv_damage.decode_marking`, so rows holding
    its mark are set aside as not being text of ``encoding``.
    """
    header, delimiter = _header_record(path, utf8)
    utf8, header = _pad_header(utf8, header, delimiter)
    names = [f"c{i}" for i in range(len(header))]
    table, invalid, whole = _arrow_csv(path, utf8, names, delimiter)
    # Record number in the parsed buffer -> in the file (lines set aside before parsing).
    renumber: np.ndarray | None = None
    unterminated: list[BadRow] = []
    if _may_hide_an_open_quote(utf8, table.num_rows + len(invalid), invalid):
        cleaned, lines, total = split_unterminated(utf8, delimiter, len(names))
        if lines:
            table, invalid, whole = _arrow_csv(path, cleaned, names, delimiter)
            renumber = np.setdiff1d(np.arange(1, total + 1), [n for n, _ in lines])
            unterminated = [BadRow(n, UNTERMINATED, text) for n, text in lines]
    if table.num_rows == 0:
        raise InputFileError(f"{path}: empty file")
    raw_headers = table.slice(0, 1).to_pylist()[0]
    header_texts = [raw_headers[n] for n in names]
    if marked and any(MARK in (h or "") for h in header_texts):
        raise InputFileError(f"{path}: the header is not valid {encoding} text; pass --encoding")
    data = table.slice(1)
    headers = _check_headers(path, header_texts)
    data = data.rename_columns(list(headers))
    headers, data = _drop_blank_columns(headers, header_texts, data)
    records = table.num_rows + len(invalid)
    bad_numbers = np.array([number or 0 for number, _, _ in invalid], dtype=np.int64)
    numbers = np.setdiff1d(np.arange(2, records + 1, dtype=np.int64), bad_numbers)
    if renumber is not None:
        numbers, bad_numbers = renumber[numbers - 1], renumber[bad_numbers - 1]
    bad = [
        BadRow(int(row), f"expected {len(names)} fields, found {found}", text)
        for row, (_, found, text) in zip(bad_numbers, invalid, strict=True)
    ] + unterminated
    checks = (
        (marked, marked_rows, f"not valid {encoding} text (another encoding?)"),
        (whole or len(utf8) >= MAX_FIELD_BYTES, oversized_rows, OVERSIZED),
    )
    for wanted, rows_of, reason in checks:
        mask = rows_of(data) if wanted else None
        if mask is None:
            continue
        aside = data.filter(mask)
        bad += [
            BadRow(int(row), reason, row_text(cells, delimiter))
            for row, cells in zip(numbers[_np_bool(mask)], aside.to_pylist(), strict=True)
        ]
        numbers = numbers[~_np_bool(mask)]
        data = data.filter(pc.invert(mask))
    if marked and len(bad) * 2 > len(bad) + data.num_rows:
        first = min(b.row for b in bad)
        raise InputFileError(
            f"{path}: most rows are not valid {encoding} text (first at row {first}); "
            "pass the right --encoding"
        )
    bad.sort(key=lambda b: b.row)
    row_numbers = None if not bad else pa.array(numbers)
    return SourceTable(path, headers, data, 2, encoding, row_numbers, tuple(bad))


def _np_bool(mask: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _may_hide_an_open_quote(utf8: bytes, records: int, invalid: list) -> bool:
    """True when some record spans lines (more lines than records) or a set-aside record
    does: only then can a quote that never closes have swallowed rows."""
    if b'"' not in utf8:
        return False
    if any("\n" in text or "\r" in text for _, _, text in invalid):
        return True
    lines = physical_lines(utf8)
    return lines is None or lines != records


# --- Excel ----------------------------------------------------------------------------------


def _read_excel(path: Path) -> SourceTable:
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
        if not reader.sheet_names:
            raise InputFileError(f"{path}: the workbook has no sheet")
        batch = reader.load_sheet(0, header_row=None, dtypes="string").to_arrow()
    except fastexcel.FastExcelError as exc:
        first = str(exc).splitlines()[0]
        raise InputFileError(f"{path}: not a readable Excel workbook ({first})") from None
    table = pa.Table.from_batches([batch])
    if table.num_rows == 0 or table.num_columns == 0:
        raise InputFileError(f"{path}: empty workbook (first sheet has no header row)")
    header_texts = list(table.slice(0, 1).to_pylist()[0].values())
    headers = _check_headers(path, header_texts)
    columns = [
        # Date cells come out as 'YYYY-MM-DD 00:00:00'; a date is a date.
        pc.replace_substring_regex(
            table.column(i).slice(1), r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", r"\1"
        )
        for i in range(table.num_columns)
    ]
    data = pa.table(columns, names=list(headers))
    headers, data = _drop_blank_columns(headers, header_texts, data)
    return SourceTable(path, headers, data, _excel_header_row(path) + 1, None)


def _excel_header_row(path: Path) -> int:
    """Spreadsheet row of the first row holding a value in the first sheet (xlsx), else 1.

    The Excel reader starts at the first non-empty row, so a sheet whose header sits on
    row 3 must number its data from row 4 (R-IN-1).
    """
    try:
        with zipfile.ZipFile(path) as book:
            workbook = book.read("xl/workbook.xml").decode("utf-8", "replace")
            rels = book.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
            rel_id = re.search(r"<sheet\b[^>]*\br:id=\"([^\"]+)\"", workbook)
            if rel_id is None:
                return 1
            target = re.search(
                rf"<Relationship\b[^>]*Id=\"{re.escape(rel_id.group(1))}\"[^>]*Target=\"([^\"]+)\"",
                rels,
            ) or re.search(
                rf"<Relationship\b[^>]*Target=\"([^\"]+)\"[^>]*Id=\"{re.escape(rel_id.group(1))}\"",
                rels,
            )
            if target is None:
                return 1
            name = target.group(1).lstrip("/")
            name = name if name.startswith("xl/") else f"xl/{name}"
            with book.open(name) as sheet:
                head = sheet.read(_SAMPLE_BYTES * 4).decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return 1
    cell = re.compile(r"<c\b[^>]*?\br=\"[A-Z]+(\d+)\"[^>]*?(/?)>")
    for match in cell.finditer(head):
        if match.group(2) == "/":
            continue
        body = head[match.end() : head.find("</c>", match.end())]
        if "<v" in body or "<is" in body:
            return int(match.group(1))
    return 1
