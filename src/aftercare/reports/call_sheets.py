"""Advisors' call sheets: one Excel sheet per advisor with the week's open actions (SPEC §6, §7).

:class:`CallSheets` holds the rows of :func:`aftercare.services.actions.action_list` (already
in call order: priority, then expected value, R-ACT-RANK); :func:`write_call_sheets` writes a
summary sheet and one sheet per advisor (the unassigned pool last). The phone is not masked:
this is the advisor's working list. The result, call time and note columns are left empty
for the advisor; their headers (回访结果, 回访时间, 备注, 任务编号) are the ones
``aftercare import outcomes`` recognises, so a filled workbook loads back as it is: every
advisor sheet is read, the summary left out, rows not filled in skipped (R-ACT-OUTCOME). The
result column offers the outcome words in a drop-down (the sheet's language first, then the
other's; :func:`result_choices`), and each row keeps its action id.
Names, notes and scripts come from the DMS: every text cell is a string, never a formula or
a link (:func:`aftercare.reports.workbook.new_workbook`); the drop-down is a list of words,
no formula either.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aftercare.reports.labels import DEFAULT_LANG, Labels, labels
from aftercare.reports.workbook import new_workbook
from aftercare.schema.playbook import OUTCOME_RESULTS, PRIORITIES, RESULT_SYNONYMS

Row = dict[str, Any]
#: Excel's limit on a sheet name, and the characters it forbids in one.
SHEET_NAME_MAX = 31
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
#: Column widths (characters) of a call sheet, by column key.
WIDTHS = {"due": 11, "priority": 10, "rule": 18, "customer": 12, "phone": 14, "vehicle": 18,
          "why": 36, "script": 60, "result": 12, "called_at": 16, "note": 24,
          "action_id": 19}  # fmt: skip
COLUMNS = tuple(WIDTHS)


@dataclass(frozen=True)
class AdvisorSheet:
    """One advisor's open actions, in call order (``advisor_id`` ``None``: the pool)."""

    advisor_id: str | None
    advisor_name: str | None
    rows: list[Row]

    def count(self, priority: str) -> int:
        """Actions of ``priority`` on the sheet."""
        return sum(1 for r in self.rows if r["priority"] == priority)

    def overdue(self) -> int:
        """Actions due before the week started."""
        return sum(1 for r in self.rows if r.get("is_overdue"))


@dataclass(frozen=True)
class CallSheets:
    """The week's call sheets: open actions due by ``week_end`` (overdue ones included)."""

    as_of: dt.date
    week_start: dt.date
    week_end: dt.date
    rows: list[Row]

    def advisors(self) -> list[AdvisorSheet]:
        """One sheet per advisor with actions, by advisor id; the unassigned pool last."""
        groups: dict[str | None, list[Row]] = {}
        for r in self.rows:
            groups.setdefault(r.get("advisor_id"), []).append(r)
        order = sorted(groups, key=lambda a: (a is None, a or ""))
        return [
            AdvisorSheet(a, next((r.get("advisor_name") for r in groups[a]), None), groups[a])
            for a in order
        ]


def sheet_name(label: str, taken: set[str]) -> str:
    """``label`` as a valid, unused Excel sheet name (≤ 31 characters, no ``[]:*?/\\``).

    A name already in ``taken`` (compared case-insensitively, as Excel does) gets ``~2``,
    ``~3`` … ; the chosen name is added to ``taken``.
    """
    base = _FORBIDDEN.sub("_", label).strip("'").strip() or "_"
    name = base[:SHEET_NAME_MAX]
    n = 1
    while name.lower() in taken:
        n += 1
        suffix = f"~{n}"
        name = base[: SHEET_NAME_MAX - len(suffix)] + suffix
    taken.add(name.lower())
    return name


def why(evidence: str | None) -> str:
    """The action's evidence (JSON text) as ``key: value`` pairs, empty values left out."""
    try:
        facts = json.loads(evidence or "{}", strict=False)
    except json.JSONDecodeError:
        return evidence or ""
    if not isinstance(facts, dict):
        return str(facts)
    return "; ".join(f"{k}: {v}" for k, v in facts.items() if v not in (None, ""))


def _vehicle(row: Row) -> str:
    return " ".join(str(x) for x in (row.get("plate"), row.get("model")) if x)


def _advisor_label(sheet: AdvisorSheet, t: Labels) -> str:
    if sheet.advisor_id is None:
        return t["actions.pool"]
    name = sheet.advisor_name
    return f"{name} ({sheet.advisor_id})" if name and name != sheet.advisor_id else sheet.advisor_id


def _cells(row: Row, t: Labels) -> dict[str, Any]:
    return {
        "due": row["due_date"],
        "priority": t.value("priority", row["priority"]),
        "rule": t.rule(row["rule_id"]),
        "customer": row.get("customer_name") or row["customer_id"],
        "phone": row.get("phone") or "",
        "vehicle": _vehicle(row),
        "why": why(row.get("evidence")),
        "script": row.get("script") or t["calls.no_script"],
        "result": None,
        "called_at": None,
        "note": None,
        "action_id": row["action_id"],
    }


def result_choices(lang: str) -> list[str]:
    """The result drop-down's words: one per outcome result in ``lang``, then in the other
    language (the first Chinese word of each in ``RESULT_SYNONYMS``, or its English name).

    Every one is a word ``aftercare import outcomes`` accepts.
    """
    zh = [next(w for w, r in RESULT_SYNONYMS.items() if r == result and not w.isascii())
          for result in OUTCOME_RESULTS]  # fmt: skip
    en = list(OUTCOME_RESULTS)
    return zh + en if lang == "zh" else en + zh


def _result_drop_down(ws: Any, rows: int, lang: str) -> None:
    """The result column of rows 1…``rows``: a drop-down of the outcome words (zh and en).

    A word outside the list is refused by Excel as it is typed; ``aftercare import outcomes``
    checks again (a sheet filled by another program, or pasted into).
    """
    col = COLUMNS.index("result")
    words = result_choices(lang)
    ws.data_validation(
        1, col, rows, col,
        {"validate": "list", "source": words, "error_type": "stop",
         "error_title": "回访结果 / Result", "error_message": " / ".join(words)},
    )  # fmt: skip


def write_call_sheets(sheets: CallSheets, path: str | Path, lang: str = DEFAULT_LANG) -> Path:
    """Write the summary and one sheet per advisor to the .xlsx file ``path``."""
    t = labels(lang)
    path = Path(path)
    wb = new_workbook(path)  # text stays text: a name "=cmd|…" is no formula
    title = wb.add_format({"bold": True, "font_size": 14})
    head = wb.add_format({"bold": True, "bg_color": "#E8EDF3", "border": 1, "text_wrap": True})
    to_fill = wb.add_format({"bold": True, "bg_color": "#FFF2CC", "border": 1})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    top = wb.add_format({"valign": "top"})
    date = wb.add_format({"num_format": "yyyy-mm-dd", "valign": "top"})
    late = wb.add_format({"num_format": "yyyy-mm-dd", "valign": "top", "font_color": "#C8553D"})
    moment = wb.add_format({"num_format": "yyyy-mm-dd hh:mm", "valign": "top"})
    advisors = sheets.advisors()
    taken: set[str] = set()
    summary = wb.add_worksheet(sheet_name(t["calls.summary"], taken))
    names = [sheet_name(_advisor_label(s, t), taken) for s in advisors]

    summary.write(0, 0, t["calls.title"], title)
    summary.write(1, 0, f"{t['calls.week']}{t['sep']}{sheets.week_start} – {sheets.week_end}")
    summary.write(2, 0, f"{t['calls.generated']}{t['sep']}{sheets.as_of}")
    headers = [t["col.advisor"], t["col.sheet"]] + [t.value("priority", p) for p in PRIORITIES]
    headers += [t["col.total"], t["col.overdue"]]
    summary.write_row(4, 0, headers, head)
    for i, (s, name) in enumerate(zip(advisors, names, strict=True), start=5):
        counts = [s.count(p) for p in PRIORITIES]
        summary.write_row(i, 0, [_advisor_label(s, t), name, *counts, len(s.rows), s.overdue()])
    total_row = 5 + len(advisors)
    summary.write(total_row, 0, t["col.total"], head)
    totals = [sum(s.count(p) for s in advisors) for p in PRIORITIES]
    summary.write_row(total_row, 2, [*totals, len(sheets.rows)], head)
    summary.write(total_row, 2 + len(PRIORITIES) + 1, sum(s.overdue() for s in advisors), head)
    if not advisors:
        summary.write(total_row + 2, 0, t["actions.none"])
    summary.set_column(0, 1, 24)
    summary.set_column(2, 7, 12)

    header_keys = {"due": "col.due", "priority": "col.priority", "rule": "col.rule",
                   "customer": "col.customer", "phone": "col.phone", "vehicle": "col.vehicle",
                   "why": "col.why", "script": "col.script", "result": "col.result",
                   "called_at": "col.called_at", "note": "col.note",
                   "action_id": "col.action_id"}  # fmt: skip
    blank = {"result", "called_at", "note"}
    for s, name in zip(advisors, names, strict=True):
        ws = wb.add_worksheet(name)
        for c, key in enumerate(COLUMNS):
            ws.write(0, c, t[header_keys[key]], to_fill if key in blank else head)
            ws.set_column(c, c, WIDTHS[key], wrap if key in ("why", "script") else top)
        for r, row in enumerate(s.rows, start=1):
            cells = _cells(row, t)
            for c, key in enumerate(COLUMNS):
                value = cells[key]
                if key == "due":
                    ws.write_datetime(
                        r, c, dt.datetime.combine(value, dt.time()),
                        late if row.get("is_overdue") else date,
                    )  # fmt: skip
                elif value is None:
                    ws.write_blank(r, c, None)
                else:
                    ws.write_string(r, c, str(value))  # phones stay text: no 1.38E+10
        if s.rows:
            _result_drop_down(ws, len(s.rows), lang)
            at = COLUMNS.index("called_at")
            ws.set_column(at, at, WIDTHS["called_at"], moment)  # a typed time shows as one
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(s.rows), 1), len(COLUMNS) - 1)
    wb.close()
    return path
