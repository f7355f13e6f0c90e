"""Damaged CSV exports: what to set aside so one bad line never costs the file (R-IN-1).

Three kinds of damage, each confined to the rows it touches (issue 9, item 7):

- **Lines in another encoding** (an export that turns from UTF-8 to GBK after 1,500 rows):
  :func:`decode_marking` decodes what it can and puts :data:`MARK` where bytes are not text
  of the file's encoding; the reader sets the rows holding it aside with their row numbers.
- **A quote that is never closed** swallows the rows after it into one value:
  :func:`split_unterminated` finds the record that spans lines only because of such a quote
  and takes its first line out as a row of its own, so the following rows parse as rows.
- **A huge field** (megabytes of one cell): :func:`oversized_rows` marks the rows holding a
  cell of :data:`MAX_FIELD_BYTES` or more.

Everything here runs only on a file that is damaged (a strict decode failed, the record count
differs from the line count, a block overflowed), never on the common path.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

#: Put where bytes could not be decoded (a private-use code point no DMS writes).
MARK = "\U0010fffd"
_ERRORS = "aftercare-mark"
#: A cell this large (bytes) is not a DMS value: its row is set aside. Arrow's CSV reader
#: reads 1 MiB blocks; a larger record stops it ("straddling object").
MAX_FIELD_BYTES = 1 << 20
_QUOTE = ord('"')


def _mark(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    return MARK, error.end


codecs.register_error(_ERRORS, _mark)


def decode_marking(raw: bytes, encoding: str) -> tuple[bytes, int]:
    """``raw`` as UTF-8, with :data:`MARK` for each run of bytes that is not ``encoding``.

    Returns
    -------
    tuple
        The UTF-8 bytes and how many runs were marked.
    """
    text = raw.decode(encoding, errors=_ERRORS)
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.encode("utf-8"), text.count(MARK)


def marked_rows(data: pa.Table) -> pa.Array | pa.ChunkedArray | None:
    """True for the rows of ``data`` holding a :data:`MARK` (``None`` when none does)."""
    found = None
    for column in data.columns:
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        hit = pc.fill_null(pc.match_substring(column, MARK), False)
        found = hit if found is None else pc.or_(found, hit)
    return found if found is not None and pc.any(found).as_py() else None


def oversized_rows(data: pa.Table) -> pa.Array | pa.ChunkedArray | None:
    """True for the rows holding a cell of :data:`MAX_FIELD_BYTES` or more (else ``None``)."""
    found = None
    for column in data.columns:
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        lengths = pc.binary_length(column)
        if (pc.max(lengths).as_py() or 0) < MAX_FIELD_BYTES:
            continue
        hit = pc.fill_null(pc.greater_equal(lengths, MAX_FIELD_BYTES), False)
        found = hit if found is None else pc.or_(found, hit)
    return found


def row_text(cells: dict[str, str | None], delimiter: str, limit: int = 200) -> str:
    """A set-aside row as text for the quarantine: cells joined, long ones cut, marks shown
    as U+FFFD."""

    def short(value: str | None) -> str:
        value = (value or "").replace(MARK, "\ufffd")
        return value if len(value) <= limit else f"{value[:limit]}… ({len(value):,} characters)"

    return delimiter.join(short(v) for v in cells.values())


def physical_lines(buffer: bytes) -> int | None:
    """Lines in ``buffer`` as Arrow's CSV reader ends them, or ``None`` if it has lone CRs."""
    cr = buffer.count(b"\r")
    if cr and cr != buffer.count(b"\r\n"):
        return None
    newlines = buffer.count(b"\n")
    return newlines + (0 if buffer.endswith(b"\n") or not buffer else 1)


@dataclass(frozen=True)
class _Record:
    """One CSV record read from ``start``: where the next begins and what it looked like."""

    next_start: int
    first_line_end: int
    fields: int
    spans_lines: bool
    malformed: bool


def _read_record(buffer: bytes, start: int, stops: re.Pattern[bytes]) -> _Record:
    """Read one record as Arrow's CSV reader does: a quote opens a value only at its start,
    ``""`` inside it is a quote, text after its closing quote is kept (but is malformed)."""
    n = len(buffer)
    pos, fields, spans, malformed = start, 0, False, False
    first_line = _line_end(buffer, start)
    while True:
        if pos < n and buffer[pos] == _QUOTE:
            close = pos + 1
            while True:
                close = buffer.find(b'"', close)
                if close == -1 or buffer[close + 1 : close + 2] != b'"':
                    break
                close += 2
            if close == -1:  # never closed: the value runs to the end of the file
                return _Record(n, first_line, fields + 1, first_line < n, True)
            spans = spans or close > first_line
            pos = close + 1
            stop = stops.search(buffer, pos)
            end = stop.start() if stop else n
            malformed = malformed or end != pos
            pos = end
        else:
            stop = stops.search(buffer, pos)
            pos = stop.start() if stop else n
        fields += 1
        if pos >= n or buffer[pos] in b"\r\n":
            if buffer[pos : pos + 2] == b"\r\n":
                return _Record(pos + 2, first_line, fields, spans, malformed)
            return _Record(min(pos + 1, n), first_line, fields, spans, malformed)
        pos += 1  # the delimiter


_NEWLINE = re.compile(b"[\r\n]")


def _line_end(buffer: bytes, start: int) -> int:
    """Where the physical line starting at ``start`` ends (its newline, or the end)."""
    found = _NEWLINE.search(buffer, start)
    return found.start() if found else len(buffer)


def split_unterminated(
    buffer: bytes, delimiter: str, fields: int
) -> tuple[bytes, list[tuple[int, str]], int]:
    """Take out the lines whose quote is never closed properly, so it swallows no row.

    A record spanning lines is kept when its quoted value closes cleanly and it has the
    header's number of fields (a note written over two lines); otherwise its first line is
    set aside and reading resumes on the next line. (A quote left open on the last line
    swallows nothing: the reader sets that row aside by its field count, or reads it.)

    Parameters
    ----------
    buffer
        The file as UTF-8.
    delimiter
        The field delimiter.
    fields
        The header's number of fields.

    Returns
    -------
    tuple
        The buffer without those lines; the set-aside lines as (record number, header = 1,
        text); the number of records in the file once they are separate.
    """
    sep = re.escape(delimiter.encode())
    stops = re.compile(b"[" + sep + rb"\r\n]")
    # A well-formed record in one C-level match (most records): quoted values closed, no
    # text after a closing quote; anything else goes through _read_record.
    field = rb'(?:"(?:[^"]|"")*"|[^"' + sep + rb"\r\n]*)"
    well_formed = re.compile(field + b"(?:" + sep + field + rb")*(?=\r\n|\n|\r|\Z)")
    quoted = re.compile(b'"(?:[^"]|"")*"')
    kept: list[bytes] = []
    rejected: list[tuple[int, str]] = []
    start, number, n = 0, 0, len(buffer)
    while start < n:
        number += 1
        line_end = _line_end(buffer, start)
        if b'"' not in buffer[start:line_end]:  # no quote on the line: one line, one record
            end = line_end + (2 if buffer[line_end : line_end + 2] == b"\r\n" else 1)
            kept.append(buffer[start:end])
            start = end
            continue
        match = well_formed.match(buffer, start)
        if match is not None:
            end = match.end()
            if end <= line_end or (  # one line, or a note over several lines
                quoted.sub(b"", match.group()).count(delimiter.encode()) + 1 == fields
            ):
                end += 2 if buffer[end : end + 2] == b"\r\n" else 1
                kept.append(buffer[start:end])
                start = end
                continue
        record = _read_record(buffer, start, stops)
        if number > 1 and record.spans_lines and (record.malformed or record.fields != fields):
            text = buffer[start:line_end].decode("utf-8", errors="replace")
            rejected.append((number, text))
            start = line_end + (2 if buffer[line_end : line_end + 2] == b"\r\n" else 1)
            continue
        kept.append(buffer[start : record.next_start])
        start = record.next_start
    return b"".join(kept), rejected, number
