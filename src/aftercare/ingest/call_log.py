"""Read an advisors' call log into outcome rows and per-cell problems (R-ACT-OUTCOME, R-IN-1).

No database here: :func:`read_call_log` reads the file as any import does (CSV in
UTF-8 or GBK, XLSX, Parquet), recognises the columns by their English or Chinese headers,
translates result words (``已预约`` → ``booked``) and parses the times; what is wrong with a
row is kept with its spreadsheet row number and column, so the service can reject that row
and load the others. R-IN-9: an outcome dated in the future (or before the plausible past) is
such a problem.

A workbook is read sheet by sheet: every sheet whose header row carries the call-log columns
(action id, result, time) is a call log, the others (the call sheets' summary) are left out,
so the advisors' call sheets of ``aftercare report --call-sheets`` load back as they are. A row
with no result, no time and no note is a call not made yet: it is skipped and counted, not
rejected.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from aftercare.errors import InputFileError
from aftercare.ingest.mapping import lookup
from aftercare.ingest.parse import clean_text, parse_timestamp
from aftercare.ingest.plausible import Plausibility
from aftercare.ingest.reader import EXCEL_SUFFIXES, BadRow, read_source
from aftercare.schema.playbook import OUTCOME_RESULTS, RESULT_SYNONYMS

#: Call-log headers each column is recognised by (compared ignoring case, spaces, _ and -).
LOG_HEADERS: dict[str, tuple[str, ...]] = {
    "action_id": ("action_id", "行动编号", "任务编号", "行动ID", "任务ID"),
    "result": ("result", "结果", "通话结果", "回访结果", "跟进结果"),
    "note": ("note", "备注", "说明"),
    "advisor_id": ("advisor_id", "服务顾问", "顾问", "顾问编号"),
    "recorded_at": ("recorded_at", "called_at", "记录时间", "通话时间", "回访时间", "时间"),
}
#: recorded_at is required: action id + moment + result is an outcome's identity.
REQUIRED_LOG_COLUMNS = ("action_id", "result", "recorded_at")
#: What an advisor fills in; a row with none of them is a call not made yet (skipped).
FILLED_COLUMNS = ("result", "recorded_at", "note")


def result_help() -> str:
    """The accepted result words, for error messages."""
    zh = sorted(k for k in RESULT_SYNONYMS if not k.isascii())
    return f"one of {', '.join(OUTCOME_RESULTS)} (or {', '.join(zh)})"


@dataclass
class CallLog:
    """A call log's rows (Python lists aligned by position) and their problems."""

    source_file: str
    source_rows: list[int]
    action_ids: list[str | None]
    results: list[str | None]
    recorded_at: list[dt.datetime | None]
    notes: list[str | None]
    advisor_ids: list[str | None]
    raw: list[dict[str, Any]]
    bad_rows: tuple[BadRow, ...]
    #: The sheet each row came from (``None``: a CSV or Parquet file).
    sheets: list[str | None] = field(default_factory=list)
    #: Sheets read as call logs (a workbook's), in workbook order.
    sheets_read: tuple[str, ...] = ()
    #: Rows skipped because nothing was filled in (no result, time or note).
    blank_rows: int = 0
    #: position -> [(column, reason)]
    problems: dict[int, list[tuple[str, str]]] = field(default_factory=dict)

    @property
    def rows_read(self) -> int:
        """Data rows in the file, blank and unsplittable ones included."""
        return len(self.source_rows) + len(self.bad_rows) + self.blank_rows

    def flag(self, position: int, column: str, reason: str) -> None:
        """Note a problem with one cell."""
        self.problems.setdefault(position, []).append((column, reason))

    def located(self, position: int, reason: str) -> str:
        """``reason`` prefixed with the row's sheet and row when the file has sheets."""
        sheet = self.sheets[position] if self.sheets else None
        if sheet is None:
            return reason
        return f"sheet '{sheet}' row {self.source_rows[position]}: {reason}"


def _fold(header: str) -> str:
    return "".join(ch for ch in header.lower() if ch not in " _-\u3000")


def _match_columns(headers: tuple[str, ...]) -> dict[str, str]:
    """Canonical call-log column -> the header that carries it (those found)."""
    found: dict[str, str] = {}
    folded: dict[str, str] = {}
    for h in headers:
        folded.setdefault(_fold(h), h)
    for name, synonyms in LOG_HEADERS.items():
        match = next((folded[_fold(s)] for s in synonyms if _fold(s) in folded), None)
        if match is not None:
            found[name] = match
    return found


def _log_columns(path: Path, headers: tuple[str, ...]) -> dict[str, str]:
    """Canonical call-log column -> the file's header."""
    found = _match_columns(headers)
    missing = [c for c in REQUIRED_LOG_COLUMNS if c not in found]
    if missing:
        raise InputFileError(
            f"{path}: a call log needs the columns {', '.join(REQUIRED_LOG_COLUMNS)}; "
            f"missing {', '.join(missing)} (headers found: {', '.join(headers)})"
        )
    return found


@dataclass(frozen=True)
class _Part:
    """One sheet (or the whole file) as text: headers, data, spreadsheet row numbers."""

    sheet: str | None
    headers: tuple[str, ...]
    data: pa.Table
    rows: list[int]
    bad_rows: tuple[BadRow, ...] = ()


def _excel_sheets(path: Path) -> list[_Part]:
    """Every sheet of a workbook, its header the first row holding a value."""
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
        names = list(reader.sheet_names)
        # skip_rows=0 keeps leading empty rows, so a row's index + 1 is its spreadsheet row.
        loaded = [
            reader.load_sheet(i, header_row=None, dtypes="string", skip_rows=0).to_arrow()
            for i in range(len(names))
        ]
    except fastexcel.FastExcelError as exc:
        first = str(exc).splitlines()[0]
        raise InputFileError(f"{path}: not a readable Excel workbook ({first})") from None
    parts = []
    for name, batch in zip(names, loaded, strict=True):
        table = pa.Table.from_batches([batch])
        if table.num_rows == 0 or table.num_columns == 0:
            continue
        filled = np.flatnonzero(_any_valid(table.columns))
        if not len(filled):
            continue
        head = int(filled[0])
        texts = [(v or "").replace("\ufeff", "").strip(" \t\r\n\u3000") for v in
                 table.slice(head, 1).to_pylist()[0].values()]  # fmt: skip
        keep: dict[str, int] = {}
        for i, h in enumerate(texts):
            if h:
                keep.setdefault(h, i)  # a repeated header: its first column
        body = table.slice(head + 1)
        data = pa.table(
            [
                # Date cells come out as 'YYYY-MM-DD 00:00:00'; a date is a date.
                pc.replace_substring_regex(body.column(i), r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", r"\1")
                for i in keep.values()
            ],
            names=list(keep),
        )
        rows = list(range(head + 2, head + 2 + body.num_rows))  # header row head + 1
        parts.append(_Part(name, tuple(keep), data, rows))
    return parts


def _parts(path: Path, encoding: str | None) -> list[_Part]:
    """The file's call-log parts: each workbook sheet with the call-log headers, or the file."""
    if path.suffix.lower() not in EXCEL_SUFFIXES:
        source = read_source(path, encoding=encoding)
        _log_columns(path, source.headers)
        rows = source.source_rows().to_pylist()
        return [_Part(None, source.headers, source.data, rows, source.bad_rows)]
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    sheets = _excel_sheets(path)
    logs = [s for s in sheets if all(c in _match_columns(s.headers) for c in REQUIRED_LOG_COLUMNS)]
    if not logs:
        if len(sheets) == 1:
            _log_columns(path, sheets[0].headers)  # raises, naming what is missing
        found = "; ".join(f"'{s.sheet}': {', '.join(s.headers)}" for s in sheets) or "none"
        raise InputFileError(
            f"{path}: no sheet is a call log: a call log needs the columns "
            f"{', '.join(REQUIRED_LOG_COLUMNS)} (sheets and their headers: {found})"
        )
    return logs


def _column(part: _Part, columns: dict[str, str], name: str) -> pa.ChunkedArray:
    if name not in columns:
        return pa.chunked_array([pa.nulls(part.data.num_rows, pa.string())])
    column = part.data.column(columns[name])
    return clean_text(column if column.type == pa.string() else column.cast(pa.string()))


def read_call_log(
    path: Path, *, encoding: str | None = None, plausibility: Plausibility | None = None
) -> CallLog:
    """Read a call log; cells that are missing or do not parse are noted as problems.

    A workbook's sheets that carry the call-log headers are read one after the other (the
    others are left out); a row with no result, time or note is skipped and counted in
    ``blank_rows``. With ``plausibility``, an outcome dated after the load day +
    ``future_days`` (or before ``earliest_date``) is a problem too (R-IN-9).

    Raises
    ------
    InputFileError
        The file cannot be read, or no sheet of it has the required columns.
    """
    path = Path(path)
    pieces: dict[str, list[pa.ChunkedArray]] = {n: [] for n in LOG_HEADERS}
    rows: list[int] = []
    sheets: list[str | None] = []
    raw: list[dict[str, Any]] = []
    bad: list[BadRow] = []
    blank = 0
    parts = _parts(path, encoding)
    for part in parts:
        columns = _match_columns(part.headers)
        cells = {n: _column(part, columns, n) for n in LOG_HEADERS}
        filled = _any_valid([cells[n] for n in FILLED_COLUMNS])
        has_cell = _any_valid(part.data.columns)
        blank = blank + int(np.count_nonzero(has_cell & ~filled))
        kept = np.flatnonzero(filled)
        mask = pa.array(filled)
        for name in LOG_HEADERS:
            pieces[name].append(pc.filter(cells[name], mask))
        data_rows = part.data.filter(mask).to_pylist()
        rows += [part.rows[int(i)] for i in kept]
        sheets += [part.sheet] * len(kept)
        raw += data_rows
        bad += part.bad_rows

    def joined(name: str) -> pa.ChunkedArray:
        chunks = [c for p in pieces[name] for c in p.chunks]
        return pa.chunked_array(chunks, pa.string())

    ids = joined("action_id")
    texts = joined("result")
    results = lookup(texts, RESULT_SYNONYMS)
    at_text = joined("recorded_at")
    moments = parse_timestamp(at_text)
    log = CallLog(
        source_file=path.name,
        source_rows=rows,
        action_ids=ids.to_pylist(),
        results=results.to_pylist(),
        recorded_at=moments.values.to_pylist(),
        notes=joined("note").to_pylist(),
        advisor_ids=joined("advisor_id").to_pylist(),
        raw=raw,
        bad_rows=tuple(bad),
        sheets=sheets,
        sheets_read=tuple(p.sheet for p in parts if p.sheet is not None),
        blank_rows=blank,
    )
    for i in _positions(pc.is_null(ids)):
        log.flag(i, "action_id", "missing action_id")
    for i in _positions(pc.is_null(texts)):
        log.flag(i, "result", "missing result (the row has a call time or a note)")
    text_values = texts.to_pylist()
    for i in _positions(pc.and_(pc.is_valid(texts), pc.is_null(results))):
        log.flag(i, "result", f"unknown result '{text_values[i]}': {result_help()}")
    for i in _positions(pc.is_null(at_text)):
        log.flag(i, "recorded_at", "missing recorded_at")
    if moments.error is not None:
        reasons = moments.error.to_pylist()
        for i in _positions(pc.is_valid(moments.error)):
            log.flag(i, "recorded_at", reasons[i])
    implausible = None if plausibility is None else plausibility.date_error(moments.values)
    if implausible is not None:
        reasons = implausible.to_pylist()
        for i in _positions(pc.is_valid(implausible)):
            log.flag(i, "recorded_at", reasons[i])
    return log


def _any_valid(columns: list[pa.ChunkedArray]) -> np.ndarray:
    """Per row: does any of ``columns`` hold a value (a boolean NumPy array)."""
    out = np.zeros(len(columns[0]) if columns else 0, dtype=bool)
    for c in columns:
        out |= np.asarray(pc.is_valid(c).to_numpy(zero_copy_only=False), dtype=bool)
    return out


def _positions(mask: pa.Array | pa.ChunkedArray) -> list[int]:
    return [i for i, bad in enumerate(pc.fill_null(mask, False).to_pylist()) if bad]
