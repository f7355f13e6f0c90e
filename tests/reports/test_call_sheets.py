"""Advisors' call sheets: one sheet per advisor, call order, unmasked phones (SPEC §6, §7).

The week of A (2024-06-24 … 2024-06-30) of ``report_store.py``: S1 has X1 (high, expected
value 900) and X2 (high, 300, overdue), S2 has X12 (medium, 200) and X3 (medium, 100), the
pool has X4. Booked, reached, held-out and stopped actions are not on any sheet.
"""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from report_store import A, hand  # noqa: F401  (hand: the session fixture)

from aftercare.config import DEFAULT_CONFIG
from aftercare.ingest.call_log import LOG_HEADERS
from aftercare.reports.call_sheets import SHEET_NAME_MAX, sheet_name, why, write_call_sheets
from aftercare.services.report import build_call_sheets
from aftercare.store import open_store

HEADERS = ["到期日", "优先级", "规则", "客户", "电话", "车辆", "原因", "话术", "回访结果",
           "回访时间", "备注", "任务编号"]  # fmt: skip


@pytest.fixture(scope="module")
def sheets(hand):  # noqa: F811
    with open_store(hand.url, create=False) as store:
        return build_call_sheets(store, A, DEFAULT_CONFIG)


@pytest.fixture(scope="module")
def book(sheets, tmp_path_factory):
    path = write_call_sheets(sheets, tmp_path_factory.mktemp("c") / "c.xlsx")
    return openpyxl.load_workbook(path)


def _rows(ws) -> list[tuple]:
    return list(ws.iter_rows(values_only=True))


def test_one_sheet_per_advisor_and_a_summary(book, sheets):
    assert (sheets.week_start, sheets.week_end) == (dt.date(2024, 6, 24), A)
    assert book.sheetnames == ["汇总", "王顾问 (S1)", "李顾问 (S2)", "未分配（门店公共池）"]
    summary = {r[0]: r[1:] for r in _rows(book["汇总"]) if r[0]}
    # sheet, high, medium, low, total, overdue
    assert summary["王顾问 (S1)"] == ("王顾问 (S1)", 2, 0, 0, 2, 1)
    assert summary["李顾问 (S2)"] == ("李顾问 (S2)", 0, 2, 0, 2, 0)
    assert summary["未分配（门店公共池）"][1:] == (0, 0, 1, 1, 0)
    assert summary["合计"] == (None, 2, 2, 1, 5, 1)


def test_rows_in_call_order_with_unmasked_phone(book):
    header, *rows = _rows(book["王顾问 (S1)"])
    assert list(header) == HEADERS
    # R-ACT-RANK: within high priority X1 (expected value 900) before the overdue X2 (300).
    assert [r[-1] for r in rows] == ["X1", "X2"]
    due, priority, rule, customer, phone, vehicle, reason, script, *fill, _ = rows[0]
    assert (due.date(), priority, rule) == (dt.date(2024, 6, 28), "高优先级", "新客户welcome call")
    assert (customer, phone, vehicle) == ("李娜", "13800000004", "粤A44444")
    assert reason == "delivery_date: 2024-04-05"
    assert "李娜您好" in script and "王顾问" in script  # the rendered A-WELCOME script
    assert fill == [None, None, None]  # result, call time, note: for the advisor
    assert [r[-1] for r in _rows(book["李顾问 (S2)"])[1:]] == ["X12", "X3"]
    assert [r[2] for r in _rows(book["未分配（门店公共池）"])[1:]] == ["首保后30天关怀"]


def test_headers_are_those_the_call_log_import_reads():
    # R-ACT-OUTCOME: a filled sheet loads back with `aftercare import outcomes`.
    for column, header in (("result", "回访结果"), ("recorded_at", "回访时间"),
                           ("note", "备注"), ("action_id", "任务编号")):  # fmt: skip
        assert header in LOG_HEADERS[column]


def test_english_sheets(sheets, tmp_path):
    wb = openpyxl.load_workbook(write_call_sheets(sheets, tmp_path / "e.xlsx", "en"))
    assert wb.sheetnames[0] == "Summary" and wb.sheetnames[-1] == "Unassigned (store pool)"
    header = _rows(wb["王顾问 (S1)"])[0]
    assert header[:3] == ("Due", "Priority", "Rule") and header[-4] == "Result"
    assert _rows(wb["王顾问 (S1)"])[1][2] == "Welcome call"


def test_no_open_actions_still_writes_a_summary(sheets, tmp_path):
    empty = type(sheets)(as_of=A, week_start=sheets.week_start, week_end=A, rows=[])
    wb = openpyxl.load_workbook(write_call_sheets(empty, tmp_path / "n.xlsx"))
    assert wb.sheetnames == ["汇总"]
    assert "本周没有待办行动。" in [r[0] for r in _rows(wb["汇总"])]


def test_sheet_names_are_valid_for_excel():
    taken: set[str] = set()
    long = sheet_name("王" * 40, taken)
    assert long == "王" * SHEET_NAME_MAX
    assert sheet_name("王" * 40, taken) == "王" * (SHEET_NAME_MAX - 2) + "~2"
    assert sheet_name("a/b:c*d?[e]\\f", taken) == "a_b_c_d__e__f"
    assert sheet_name("Summary", taken) == "Summary"
    assert sheet_name("SUMMARY", taken) == "SUMMARY~2"  # Excel names ignore case


def test_why_lists_the_evidence():
    assert why('{"days_absent":"177","tier":null,"reason":""}') == "days_absent: 177"
    assert why(None) == "" and why("not json") == "not json"
