"""Read an advisors' call log into outcome rows and per-cell problems (R-ACT-OUTCOME, R-IN-1).

No database here: :func:`read_call_log` reads the file as any import does (CSV in
UTF-8 or GBK, XLSX, Parquet), recognises the columns by their English or Chinese headers,
translates result words (``已预约`` → ``booked``) and parses the times; what is wrong with a
row is kept with its spreadsheet row number and column, so the service can reject that row
and load the others. R-IN-9: an outcome dated in the future (or before the plausible past) is
such a problem.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from aftercare.errors import InputFileError
from aftercare.ingest.mapping import lookup
from aftercare.ingest.parse import clean_text, parse_timestamp
from aftercare.ingest.plausible import Plausibility
from aftercare.ingest.reader import BadRow, read_source
from aftercare.schema.playbook import OUTCOME_RESULTS, RESULT_SYNONYMS

#: Call-log headers each column is recognised by (compared ignoring case, spaces, _ and -).
LOG_HEADERS: dict[str, tuple[str, ...]] = {
    "action_id": ("action_id", "行动编号", "任务编号", "行动ID", "任务ID"),
    "result": ("result", "结果", "通话结果", "回访结果", "跟进结果"),
    "note": ("note", "备注", "说明"),
    "advisor_id": ("advisor_id", "服务顾问", "顾问", "顾问编号"),
    "recorded_at": ("recorded_at", "记录时间", "通话时间", "回访时间", "时间"),
}
#: recorded_at is required: action id + moment + result is an outcome's identity.
REQUIRED_LOG_COLUMNS = ("action_id", "result", "recorded_at")


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
    #: position -> [(column, reason)]
    problems: dict[int, list[tuple[str, str]]] = field(default_factory=dict)

    @property
    def rows_read(self) -> int:
        """Data rows in the file, records that could not be split included."""
        return len(self.source_rows) + len(self.bad_rows)

    def flag(self, position: int, column: str, reason: str) -> None:
        """Note a problem with one cell."""
        self.problems.setdefault(position, []).append((column, reason))


def _fold(header: str) -> str:
    return "".join(ch for ch in header.lower() if ch not in " _-\u3000")


def _log_columns(path: Path, headers: tuple[str, ...]) -> dict[str, str]:
    """Canonical call-log column -> the file's header."""
    found: dict[str, str] = {}
    folded = {_fold(h): h for h in headers}
    for name, synonyms in LOG_HEADERS.items():
        match = next((folded[_fold(s)] for s in synonyms if _fold(s) in folded), None)
        if match is not None:
            found[name] = match
    missing = [c for c in REQUIRED_LOG_COLUMNS if c not in found]
    if missing:
        raise InputFileError(
            f"{path}: a call log needs the columns {', '.join(REQUIRED_LOG_COLUMNS)}; "
            f"missing {', '.join(missing)} (headers found: {', '.join(headers)})"
        )
    return found


def _cells(data: pa.Table, columns: dict[str, str], name: str) -> pa.ChunkedArray:
    if name not in columns:
        return pa.chunked_array([pa.nulls(data.num_rows, pa.string())])
    return clean_text(data.column(columns[name]))


def _positions(mask: pa.Array | pa.ChunkedArray) -> list[int]:
    return [i for i, bad in enumerate(pc.fill_null(mask, False).to_pylist()) if bad]


def read_call_log(
    path: Path, *, encoding: str | None = None, plausibility: Plausibility | None = None
) -> CallLog:
    """Read a call log; cells that are missing or do not parse are noted as problems.

    With ``plausibility``, an outcome dated after the load day + ``future_days`` (or before
    ``earliest_date``) is a problem too (R-IN-9).

    Raises
    ------
    InputFileError
        The file cannot be read, or lacks a required column.
    """
    path = Path(path)
    source = read_source(path, encoding=encoding)
    columns = _log_columns(path, source.headers)
    data = source.data
    ids = _cells(data, columns, "action_id")
    texts = _cells(data, columns, "result")
    results = lookup(texts, RESULT_SYNONYMS)
    at_text = _cells(data, columns, "recorded_at")
    moments = parse_timestamp(at_text)
    log = CallLog(
        source_file=path.name,
        source_rows=source.source_rows().to_pylist(),
        action_ids=ids.to_pylist(),
        results=results.to_pylist(),
        recorded_at=moments.values.to_pylist(),
        notes=_cells(data, columns, "note").to_pylist(),
        advisor_ids=_cells(data, columns, "advisor_id").to_pylist(),
        raw=data.to_pylist(),
        bad_rows=source.bad_rows,
    )
    for i in _positions(pc.is_null(ids)):
        log.flag(i, "action_id", "missing action_id")
    for i in _positions(pc.is_null(texts)):
        log.flag(i, "result", "missing result")
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
