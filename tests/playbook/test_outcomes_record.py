"""Recording outcomes and importing call logs into a store (R-ACT-OUTCOME, R-IN-1, R-IN-2)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from aftercare.config import DEFAULT_CONFIG
from aftercare.errors import AftercareError, InputFileError
from aftercare.services.outcomes import (
    customer_actions_status,
    import_outcomes,
    record_outcome,
)
from aftercare.store import open_store
from outcome_rows import make_actions

ACTIONS = [
    {"action_id": "A1", "rule_id": "A-MAINTENANCE", "customer_id": "C1", "due_date": "2024-06-01"},
    {"action_id": "A2", "rule_id": "A-BIRTHDAY", "customer_id": "C2", "due_date": "2024-06-01"},
    {"action_id": "A3", "rule_id": "A-MAINTENANCE", "customer_id": "C2", "due_date": "2024-06-08"},
    {"action_id": "A4", "rule_id": "A-EXT-WARRANTY", "customer_id": "C2",
     "due_date": "2024-06-09"},
    {"action_id": "H1", "rule_id": "A-CARE-90D", "customer_id": "C1", "due_date": "2024-06-01",
     "status": "holdout"},
    {"action_id": "W1", "rule_id": "A-WINBACK", "customer_id": "C3", "due_date": "2024-06-01"},
    {"action_id": "W2", "rule_id": "A-WINBACK", "customer_id": "C3", "due_date": "2024-07-01"},
    {"action_id": "W3", "rule_id": "A-WINBACK", "customer_id": "C3", "due_date": "2024-08-01"},
    {"action_id": "W4", "rule_id": "A-WINBACK", "customer_id": "C3", "due_date": "2024-09-01"},
]  # fmt: skip


@pytest.fixture
def store(store_url):
    with open_store(store_url) as s:
        s.con.insert("actions", make_actions(ACTIONS))
        yield s


def _count(store, table: str) -> int:
    return int(store.table(table).count().to_pyarrow().as_py())


def test_outcomes_are_appended_never_overwritten(store):
    first = record_outcome(
        store, "A1", "no_answer", config=DEFAULT_CONFIG,
        recorded_at=dt.datetime(2024, 6, 1, 9), advisor_id="S1",
    )  # fmt: skip
    assert first.status == "open"  # a missed call is tried again
    second = record_outcome(
        store, "A1", "已预约", config=DEFAULT_CONFIG, note="周六上午10点",
        recorded_at=dt.datetime(2024, 6, 2, 9),
    )  # fmt: skip
    assert (second.result, second.status) == ("booked", "done")
    rows = store.table("action_outcomes").order_by("recorded_at").to_pyarrow().to_pylist()
    assert [r["result"] for r in rows] == ["no_answer", "booked"]
    assert rows[1]["note"] == "周六上午10点" and rows[0]["advisor_id"] == "S1"
    # The same outcome recorded again is the same outcome: nothing added.
    again = record_outcome(
        store, "A1", "booked", config=DEFAULT_CONFIG, recorded_at=dt.datetime(2024, 6, 2, 9)
    )
    assert again.already_recorded and again.outcome_id == second.outcome_id
    assert _count(store, "action_outcomes") == 2


def test_opted_out_sets_do_not_contact_and_stops_open_actions(store):
    done = record_outcome(
        store, "A2", "拒绝联系", config=DEFAULT_CONFIG, recorded_at=dt.datetime(2024, 6, 1, 9)
    )
    assert (done.result, done.status, done.stopped_actions) == ("opted_out", "done", 2)
    prefs = store.table("contact_preferences").to_pyarrow().to_pylist()
    assert len(prefs) == 1
    assert prefs[0]["customer_id"] == "C2" and prefs[0]["do_not_contact"] is True
    assert prefs[0]["source"] == f"outcome:{done.outcome_id}"
    status = {s["action_id"]: s for s in customer_actions_status(store, "C2", DEFAULT_CONFIG)}
    assert status["A3"]["status"] == "stopped" and status["A3"]["stop_reason"] == "opted_out"
    assert status["A4"]["status"] == "stopped"


def test_third_failed_winback_is_reported_exhausted(store):
    days = [dt.datetime(2024, 6, d, 9) for d in (1, 2, 3)]
    # One win-back action is one attempt (the engine makes the next attempt a new action).
    r1 = record_outcome(store, "W1", "未接通", config=DEFAULT_CONFIG, recorded_at=days[0])
    r2 = record_outcome(store, "W2", "no answer", config=DEFAULT_CONFIG, recorded_at=days[1])
    assert (r1.winback_failed_attempts, r2.winback_failed_attempts) == (1, 2)
    assert not r2.winback_exhausted and r2.status == "done"
    r3 = record_outcome(store, "W3", "空号", config=DEFAULT_CONFIG, recorded_at=days[2])
    assert r3.winback_failed_attempts == 3 and r3.winback_exhausted
    status = {s["action_id"]: s for s in customer_actions_status(store, "C3", DEFAULT_CONFIG)}
    assert status["W4"]["status"] == "stopped"
    assert status["W4"]["stop_reason"] == "winback_exhausted"


def test_clear_errors(store):
    with pytest.raises(AftercareError, match="unknown action id 'NOPE'"):
        record_outcome(store, "NOPE", "booked", config=DEFAULT_CONFIG)
    with pytest.raises(AftercareError, match=r"unknown result 'maybe'.*booked.*已预约"):
        record_outcome(store, "A1", "maybe", config=DEFAULT_CONFIG)
    with pytest.raises(AftercareError, match=r"control group.*R-ACT-HOLDOUT"):
        record_outcome(store, "H1", "reached", config=DEFAULT_CONFIG)
    assert _count(store, "action_outcomes") == 0


CALL_LOG = (
    "行动编号,通话结果,通话时间,备注,服务顾问\n"
    "A1,已预约,2024-06-03 10:00:00,周六保养,S1\n"  # row 2
    "A3,退订,2024/6/4 11:30,不要再打了,S2\n"  # row 3
    "W1,无人接听,2024-06-05 09:00:00,,S1\n"  # row 4
    "W1,也许,2024-06-06 09:00:00,,S1\n"  # row 5: unknown result
    "ZZ,已接通,2024-06-06 09:00:00,,S1\n"  # row 6: unknown action
    "A1,已接通,2024-13-40 09:00,,S1\n"  # row 7: bad date
    "A1,已接通,2024-06-07 09:00,,S1,多余\n"  # row 8: too many fields
    "H1,已接通,2024-06-07 09:00,,S1\n"  # row 9: control group
    "A1,已预约,2024-06-03 10:00:00,周六保养,S1\n"  # row 10: same as row 2
)


def test_import_gbk_call_log_with_chinese_results_and_bad_rows(store, tmp_path: Path):
    path = tmp_path / "回访记录.csv"
    path.write_bytes(CALL_LOG.encode("gbk"))
    first = import_outcomes(store, path, config=DEFAULT_CONFIG)
    assert (first.rows_read, first.inserted, first.already_recorded) == (9, 3, 0)
    assert first.opted_out == 1 and first.exit_code == 3
    assert [(r.source_row, r.column_name) for r in first.rejects] == [
        (5, "result"),
        (6, "action_id"),
        (7, "recorded_at"),
        (8, ""),
        (9, "action_id"),
    ]
    reasons = {r.source_row: r.reason for r in first.rejects}
    assert "unknown result '也许'" in reasons[5]
    assert reasons[6] == "unknown action id 'ZZ'"
    assert "2024-13-40" in reasons[7]
    assert all(r.source_file == "回访记录.csv" for r in first.rejects)
    stored = store.table("action_outcomes").order_by("recorded_at").to_pyarrow().to_pylist()
    assert [(r["action_id"], r["result"]) for r in stored] == [
        ("A1", "booked"),
        ("A3", "opted_out"),
        ("W1", "no_answer"),
    ]
    assert stored[1]["recorded_at"] == dt.datetime(2024, 6, 4, 11, 30)
    assert stored[0]["note"] == "周六保养" and stored[0]["source"] == "回访记录.csv"
    prefs = store.table("contact_preferences").to_pyarrow().to_pylist()
    assert [(p["customer_id"], p["do_not_contact"]) for p in prefs] == [("C2", True)]

    # R-IN-2: the same log again adds nothing; its quarantine is replaced, not doubled.
    second = import_outcomes(store, path, config=DEFAULT_CONFIG)
    assert (second.inserted, second.already_recorded) == (0, 3)
    assert _count(store, "action_outcomes") == 3
    assert _count(store, "contact_preferences") == 1
    rejected = store.table("rejected_rows")
    mine = rejected.filter(rejected.table_name == "action_outcomes")
    assert int(mine.count().to_pyarrow().as_py()) == 5


def test_import_needs_the_identity_columns(store, tmp_path: Path):
    path = tmp_path / "log.csv"
    path.write_text("action_id,result\nA1,booked\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="missing recorded_at"):
        import_outcomes(store, path, config=DEFAULT_CONFIG)
