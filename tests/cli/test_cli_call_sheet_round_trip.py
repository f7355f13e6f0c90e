"""The Excel round trip (issue 10, R-ACT-OUTCOME): `aftercare report --call-sheets` writes one
sheet per advisor with a result drop-down; the advisors fill some rows; `aftercare import
outcomes` reads every advisor sheet back, skips the rows left blank and records the rest.

The store: advisors S1 (王顾问: X1, X2, X3) and S2 (李顾问: Y1, Y2, Y3), the pool (Z1), all
open and due in the week of 2024-06-24 … 2024-06-30.
"""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from typer.testing import CliRunner

from aftercare.cli import app
from aftercare.reports.call_sheets import COLUMNS, result_choices
from aftercare.store import open_store
from factories import make_table
from outcome_rows import make_actions

runner = CliRunner()
TODAY = "2024-06-26"
S1, S2, POOL = "王顾问 (S1)", "李顾问 (S2)", "未分配（门店公共池）"
RESULT, CALLED_AT, NOTE, ACTION_ID = (
    COLUMNS.index(c) + 1 for c in ("result", "called_at", "note", "action_id")
)


def _store(url: str) -> None:
    customers = [{"customer_id": f"C{i}", "name": f"客户{i}", "phone": f"1380000000{i}"}
                 for i in range(1, 8)]  # fmt: skip
    advisors = [
        {"advisor_id": "S1", "name": "王顾问", "store_id": "ST1"},
        {"advisor_id": "S2", "name": "李顾问", "store_id": "ST1"},
    ]
    plan = [("X1", "A-WELCOME", "C1", "S1", "high", "2024-06-25"),
            ("X2", "A-MAINTENANCE", "C2", "S1", "medium", "2024-06-26"),
            ("X3", "A-CARE-90D", "C3", "S1", "high", "2024-06-27"),
            ("Y1", "A-MAINTENANCE", "C4", "S2", "medium", "2024-06-25"),
            ("Y2", "A-DECLINED", "C5", "S2", "medium", "2024-06-28"),
            ("Y3", "A-MAINTENANCE", "C6", "S2", "medium", "2024-06-29"),
            ("Z1", "A-FIRST-SERVICE-30D", "C7", None, "low", "2024-06-30")]  # fmt: skip
    actions = make_actions(
        [
            {"action_id": a, "rule_id": r, "customer_id": c, "advisor_id": s, "priority": p,
             "due_date": d, "trigger_date": d, "created_on": "2024-06-24", "store_id": "ST1",
             "expected_value": 100.0, "evidence": "{}"}
            for a, r, c, s, p, d in plan
        ]
    )  # fmt: skip
    with open_store(url) as store:
        store.con.insert("customers", make_table("customers", customers))
        store.con.insert("advisors", make_table("advisors", advisors))
        store.con.insert("actions", actions)


def _run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def book(store_url, tmp_path):
    _store(store_url)
    path = tmp_path / "calls.xlsx"
    made = _run("report", "--as-of", TODAY, "--call-sheets", str(path), "--db", store_url)
    assert made.exit_code == 0, made.output
    assert "7 open actions for 3 advisors" in made.output
    return path


def _row_of(ws, action: str) -> int:
    return next(r for r in range(2, ws.max_row + 1) if ws.cell(r, ACTION_ID).value == action)


def _fill(ws, action: str, result: str, at: dt.datetime | str, note: str | None = None) -> int:
    row = _row_of(ws, action)
    ws.cell(row, RESULT, result)
    ws.cell(row, CALLED_AT, at)
    if note is not None:
        ws.cell(row, NOTE, note)
    return row


def _outcomes(url: str) -> dict[str, tuple[str, dt.datetime, str | None]]:
    with open_store(url, create=False) as store:
        rows = store.table("action_outcomes").to_pyarrow().to_pylist()
    return {r["action_id"]: (r["result"], r["recorded_at"], r["note"]) for r in rows}


def test_r_act_outcome_call_sheets_carry_a_result_drop_down_and_the_action_ids(book):
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == ["汇总", S1, S2, POOL]
    for name, ids in ((S1, {"X1", "X2", "X3"}), (S2, {"Y1", "Y2", "Y3"}), (POOL, {"Z1"})):
        ws = wb[name]
        assert {ws.cell(r, ACTION_ID).value for r in range(2, ws.max_row + 1)} == ids
        (rule,) = ws.data_validations.dataValidation
        letter = openpyxl.utils.get_column_letter(RESULT)
        cells = f"{letter}2" if len(ids) == 1 else f"{letter}2:{letter}{len(ids) + 1}"
        assert (rule.type, str(rule.sqref)) == ("list", cells)
        words = rule.formula1.strip('"').split(",")
        assert words == result_choices("zh")
        # One word per outcome result in each language: 7 Chinese, then the 7 English ones.
        assert words[:7] == ["已接通", "已预约", "已到店", "拒绝", "未接通", "空号", "退订"]
        assert words[7:] == ["reached", "booked", "visited", "declined", "no_answer",
                             "wrong_number", "opted_out"]  # fmt: skip
        assert rule.errorStyle in (None, "stop") and rule.showErrorMessage
    # No formula anywhere: the drop-down is a list of words, no cell starts with '='.
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            assert not any(isinstance(v, str) and v.startswith("=") for v in row)


def test_r_act_outcome_filled_workbook_imports_every_advisor_sheet(book, store_url):
    wb = openpyxl.load_workbook(book)
    _fill(wb[S1], "X1", "已预约", dt.datetime(2024, 6, 25, 10, 0), "周六10点")
    _fill(wb[S1], "X3", "no_answer", "2024-06-26 09:30")
    _fill(wb[S2], "Y1", "已接通", dt.datetime(2024, 6, 25, 11, 0))
    _fill(wb[S2], "Y3", "declined", dt.datetime(2024, 6, 26, 15, 45), "已在外面保养")
    # X2, Y2 and Z1 left blank: calls not made yet.
    wb.save(book)

    done = _run("import", "outcomes", str(book), "--db", store_url)
    assert done.exit_code == 0, done.output
    # 7 rows on the three advisor sheets (the summary is no call log): 4 recorded, 3 blank.
    assert ("7 rows read, 4 recorded, 0 already recorded, 0 rejected, 0 opted out, "
            "3 blank rows skipped") in done.output  # fmt: skip
    assert f"sheets read: {S1}, {S2}, {POOL}" in done.output
    assert _outcomes(store_url) == {
        "X1": ("booked", dt.datetime(2024, 6, 25, 10, 0), "周六10点"),
        "X3": ("no_answer", dt.datetime(2024, 6, 26, 9, 30), None),
        "Y1": ("reached", dt.datetime(2024, 6, 25, 11, 0), None),
        "Y3": ("declined", dt.datetime(2024, 6, 26, 15, 45), "已在外面保养"),
    }
    again = _run("import", "outcomes", str(book), "--db", store_url)
    assert again.exit_code == 0, again.output
    assert "0 recorded, 4 already recorded, 0 rejected" in again.output
    # The booked, reached and declined calls leave the next call sheets; the missed one stays.
    left = book.with_name("left.xlsx")
    assert _run("report", "--as-of", TODAY, "--call-sheets", str(left), "--db", store_url)
    ws = openpyxl.load_workbook(left)[S1]
    assert {ws.cell(r, ACTION_ID).value for r in range(2, ws.max_row + 1)} == {"X2", "X3"}


def test_r_act_outcome_a_bad_word_rejects_its_row_with_sheet_and_row(book, store_url):
    wb = openpyxl.load_workbook(book)
    _fill(wb[S1], "X1", "booked", dt.datetime(2024, 6, 25, 10, 0))
    bad = _fill(wb[S2], "Y2", "也许", dt.datetime(2024, 6, 26, 10, 0))
    # A time without a result is a call whose result was forgotten: rejected, not skipped.
    late = _row_of(wb[POOL], "Z1")
    wb[POOL].cell(late, CALLED_AT, dt.datetime(2024, 6, 26, 11, 0))
    wb.save(book)

    done = _run("import", "outcomes", str(book), "--db", store_url)
    assert done.exit_code == 3, done.output
    assert "7 rows read, 1 recorded, 0 already recorded, 2 rejected" in done.output
    assert "4 blank rows skipped" in done.output  # X2, X3, Y1, Y3
    assert (f"calls.xlsx:{bad}: result: sheet '{S2}' row {bad}: unknown result '也许'"
            in done.output)  # fmt: skip
    assert f"sheet '{POOL}' row {late}: missing result" in done.output
    assert set(_outcomes(store_url)) == {"X1"}
    with open_store(store_url, create=False) as store:
        rejects = store.table("rejected_rows").to_pyarrow().to_pylist()
        log = store.table("load_log").to_pyarrow().to_pylist()
    assert sorted((r["source_row"], r["reason"].split(":")[0]) for r in rejects) == sorted(
        [(bad, f"sheet '{S2}' row {bad}"), (late, f"sheet '{POOL}' row {late}")]
    )
    (load,) = [r for r in log if r["table_name"] == "action_outcomes"]
    assert (load["rows_read"], load["rows_inserted"], load["rows_rejected"]) == (7, 1, 2)


def test_r_act_outcome_a_workbook_without_a_call_log_sheet_is_refused(store_url, tmp_path):
    _store(store_url)
    path = tmp_path / "other.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "汇总"
    wb.active.append(["服务顾问", "工作表"])
    wb.create_sheet("notes").append(["任务编号", "备注"])
    wb.save(path)
    refused = _run("import", "outcomes", str(path), "--db", store_url)
    assert refused.exit_code == 1, refused.output
    assert "no sheet is a call log" in refused.output
    assert "'notes': 任务编号, 备注" in refused.output
