"""Derived action status, win-back attempts and booking success, on every engine (R-ACT-OUTCOME)."""

from __future__ import annotations

import datetime as dt

import pytest

from aftercare.pipeline.staging import resolved_orders
from aftercare.playbook.outcomes import (
    booking_success,
    current_status,
    normalise_result,
    outcome_id,
    winback_attempts,
)
from conftest import load_tables
from factories import make_table
from outcome_rows import make_actions, make_outcomes, make_preferences

ACTIONS = [
    {"action_id": "A1", "rule_id": "A-WELCOME", "customer_id": "C1", "due_date": "2024-06-01"},
    {"action_id": "A2", "rule_id": "A-MAINTENANCE", "customer_id": "C1", "due_date": "2024-06-01"},
    {"action_id": "A3", "rule_id": "A-BIRTHDAY", "customer_id": "C2", "due_date": "2024-06-01"},
    {"action_id": "A4", "rule_id": "A-FIRST-SERVICE", "customer_id": "C2",
     "due_date": "2024-06-01"},
    {"action_id": "H2", "rule_id": "A-CARE-90D", "customer_id": "C2", "due_date": "2024-06-01",
     "status": "holdout"},
    {"action_id": "W1", "rule_id": "A-WINBACK", "customer_id": "C3", "due_date": "2024-04-01"},
    {"action_id": "W2", "rule_id": "A-WINBACK", "customer_id": "C3", "due_date": "2024-06-01"},
    {"action_id": "W2B", "rule_id": "A-WINBACK", "customer_id": "C3", "due_date": "2024-06-02"},
    {"action_id": "W3", "rule_id": "A-WINBACK", "customer_id": "C3", "due_date": "2024-07-01"},
    {"action_id": "M3", "rule_id": "A-MAINTENANCE", "customer_id": "C3", "due_date": "2024-07-01"},
    {"action_id": "W4", "rule_id": "A-WINBACK", "customer_id": "C4", "due_date": "2024-06-01"},
    {"action_id": "A5", "rule_id": "A-BIRTHDAY", "customer_id": "C5", "due_date": "2024-06-01"},
    {"action_id": "S5", "rule_id": "A-TIER-UP", "customer_id": "C5", "due_date": "2024-06-01",
     "status": "stopped"},
    {"action_id": "B6", "rule_id": "A-MAINTENANCE", "customer_id": "C6", "due_date": "2024-06-01"},
]  # fmt: skip

OUTCOMES = [
    {"action_id": "A1", "result": "no_answer", "recorded_at": "2024-06-01 09:00:00"},
    {"action_id": "A2", "result": "no_answer", "recorded_at": "2024-06-01 09:00:00"},
    {"action_id": "A2", "result": "booked", "recorded_at": "2024-06-10 09:00:00"},
    {"action_id": "A4", "result": "opted_out", "recorded_at": "2024-06-02 09:00:00"},
    # C3: 3 failed win-back attempts, one per action (declined before the visit of
    # 2024-05-01, two after).
    {"action_id": "W1", "result": "declined", "recorded_at": "2024-04-01 09:00:00"},
    {"action_id": "W2", "result": "no_answer", "recorded_at": "2024-06-01 09:00:00"},
    {"action_id": "W2B", "result": "wrong_number", "recorded_at": "2024-06-02 09:00:00"},
    # C4: two missed calls on one win-back action are one failed attempt.
    {"action_id": "W4", "result": "no_answer", "recorded_at": "2024-06-01 09:00:00"},
    {"action_id": "W4", "result": "no_answer", "recorded_at": "2024-06-02 09:00:00"},
    {"action_id": "B6", "result": "booked", "recorded_at": "2024-06-10 18:00:00"},
]
PREFERENCES = [
    {"customer_id": "C2", "do_not_contact": True, "set_at": "2024-06-02 09:00:00"},
    # C5 opted out, then back in: the latest preference wins.
    {"customer_id": "C5", "do_not_contact": True, "set_at": "2024-01-01 00:00:00"},
    {"customer_id": "C5", "do_not_contact": False, "set_at": "2024-03-01 00:00:00"},
]
ORDERS = [
    {"order_id": "O3", "customer_id": "C3", "open_date": "2024-05-01", "total_amount": 500},
    # C1 booked 2024-06-10, visit 30 days later: a success.
    {"order_id": "O1", "customer_id": "C1", "open_date": "2024-07-10", "total_amount": 500},
    # C6 booked 2024-06-10, a refund in time, the visit 31 days later: no success.
    {"order_id": "O6r", "customer_id": "C6", "open_date": "2024-06-20", "total_amount": -50},
    {"order_id": "O6", "customer_id": "C6", "open_date": "2024-07-11", "total_amount": 500},
]


@pytest.fixture(scope="module")
def result(backend):
    t = load_tables(
        backend,
        {
            "actions": make_actions(ACTIONS),
            "outcomes": make_outcomes(OUTCOMES),
            "prefs": make_preferences(PREFERENCES),
            "orders": make_table("service_orders", ORDERS),
            "vehicles": make_table("vehicles", []),
        },
    )
    orders = resolved_orders(t["orders"], t["vehicles"])
    status = current_status(t["actions"], t["outcomes"], t["prefs"], winback_max_attempts=3)
    since_visit = current_status(
        t["actions"], t["outcomes"], t["prefs"], winback_max_attempts=3, orders=orders
    )
    attempts = winback_attempts(t["actions"], t["outcomes"], max_attempts=3)
    attempts_since = winback_attempts(t["actions"], t["outcomes"], max_attempts=3, orders=orders)
    booked = booking_success(t["actions"], t["outcomes"], orders, success_days=30)

    def by(table, key):
        return {r[key]: r for r in table.to_pyarrow().to_pylist()}

    return {
        "status": by(status, "action_id"),
        "since_visit": by(since_visit, "action_id"),
        "attempts": by(attempts, "customer_id"),
        "attempts_since": by(attempts_since, "customer_id"),
        "booked": by(booked, "action_id"),
    }


def _status(result, key="status"):
    return {k: (r["status"], r["stop_reason"]) for k, r in result[key].items()}


def test_r_act_outcome_status_is_derived_from_outcomes(result):
    s = result["status"]
    assert (s["A1"]["status"], s["A1"]["outcomes"], s["A1"]["last_result"]) == (
        "open",
        1,
        "no_answer",
    )  # a missed call stays open
    assert (s["A2"]["status"], s["A2"]["outcomes"], s["A2"]["last_result"]) == (
        "done",
        2,
        "booked",
    )
    assert s["A2"]["stored_status"] == "open"
    assert s["B6"]["status"] == "done"


def test_opted_out_stops_the_customers_open_actions(result):
    s = _status(result)
    assert s["A3"] == ("stopped", "opted_out")
    assert s["A4"] == ("done", None)  # the action the opt-out was recorded on
    assert s["H2"] == ("holdout", None)  # control group membership is kept


def test_latest_preference_wins(result):
    s = _status(result)
    assert s["A5"] == ("open", None)  # C5 opted back in
    assert s["S5"] == ("stopped", None)  # the engine's own decision is kept


def test_third_failed_winback_stops_further_winback(result):
    s = _status(result)
    # Each win-back action is one attempt: any outcome spends it, a missed call too.
    assert s["W1"] == s["W2"] == s["W2B"] == s["W4"] == ("done", None)
    assert s["W3"] == ("stopped", "winback_exhausted")
    assert s["M3"] == ("open", None)  # only win-back stops, service reminders go on
    assert result["attempts"]["C3"]["failed_attempts"] == 3
    assert result["attempts"]["C3"]["is_exhausted"] is True
    assert result["attempts"]["C4"]["failed_attempts"] == 1
    assert result["attempts"]["C4"]["is_exhausted"] is False


def test_a_visit_resets_winback_attempts(result):
    # With orders: C3's declined call came before its 2024-05-01 visit and is forgotten.
    assert result["attempts_since"]["C3"]["failed_attempts"] == 2
    assert result["attempts_since"]["C3"]["is_exhausted"] is False
    assert _status(result, "since_visit")["W3"] == ("open", None)


def test_booking_success_within_30_days(result):
    b = result["booked"]
    assert set(b) == {"A2", "B6"}
    assert b["A2"]["is_success"] is True
    assert str(b["A2"]["visit_date"]) == "2024-07-10"
    assert b["B6"]["is_success"] is False  # refund is no visit; the visit came on day 31
    assert b["B6"]["visit_date"] is None


def test_result_words_and_outcome_identity():
    import datetime as dt

    assert normalise_result("已预约") == "booked"
    assert normalise_result(" No Answer ") == "no_answer"
    assert normalise_result("空号") == "wrong_number"
    assert normalise_result("拒绝联系") == "opted_out"
    assert normalise_result("maybe") is None
    at = dt.datetime(2024, 6, 1, 9, 0)
    assert outcome_id("A1", at, "booked") == outcome_id("A1", at, "booked")
    assert outcome_id("A1", at, "booked") != outcome_id("A1", at, "reached")
    assert outcome_id("A1", at, "booked") != outcome_id("A1", at.replace(second=1), "booked")


# R-ACT-EXPIRE: valid until 2024-06-15. X1 unworked; X2 closed by an outcome; X3 a missed call
# only (still to do); X4 in the backlog; X5 of an opted-out customer; X6 stored expired by a run,
# then a late outcome; X7 stored expired; X8 stored by an older version (no valid_until);
# X9 held out.
EXPIRING = [
    {"action_id": "X1", "customer_id": "E1"},
    {"action_id": "X2", "customer_id": "E1"},
    {"action_id": "X3", "customer_id": "E1"},
    {"action_id": "X4", "customer_id": "E1", "status": "backlog"},
    {"action_id": "X5", "customer_id": "E5"},
    {"action_id": "X6", "customer_id": "E1", "status": "expired"},
    {"action_id": "X7", "customer_id": "E1", "status": "expired"},
    {"action_id": "X8", "customer_id": "E1", "valid_until": None},
    {"action_id": "X9", "customer_id": "E1", "status": "holdout"},
]
EXPIRING_OUTCOMES = [
    {"action_id": "X2", "result": "reached", "recorded_at": "2024-06-14 09:00:00"},
    {"action_id": "X3", "result": "no_answer", "recorded_at": "2024-06-14 09:00:00"},
    {"action_id": "X6", "result": "booked", "recorded_at": "2024-06-20 09:00:00"},
]


@pytest.fixture(scope="module")
def expiring(backend):
    rows = [
        {"rule_id": "A-MAINTENANCE", "due_date": "2024-06-01", "valid_until": "2024-06-15", **r}
        for r in EXPIRING
    ]
    t = load_tables(
        backend,
        {
            "actions": make_actions(rows),
            "outcomes": make_outcomes(EXPIRING_OUTCOMES),
            "prefs": make_preferences(
                [{"customer_id": "E5", "do_not_contact": True, "set_at": "2024-06-02 09:00:00"}]
            ),
        },
    )

    def on(day: str | None) -> dict[str, str]:
        when = None if day is None else dt.date.fromisoformat(day)
        s = current_status(t["actions"], t["outcomes"], t["prefs"], winback_max_attempts=3,
                           as_of=when)  # fmt: skip
        return {r["action_id"]: r["status"] for r in s.to_pyarrow().to_pylist()}

    return {"15": on("2024-06-15"), "16": on("2024-06-16"), "none": on(None)}


def test_r_act_expire_status_the_day_after_valid_until(expiring):
    assert expiring["15"] == {
        "X1": "open", "X2": "done", "X3": "open", "X4": "backlog", "X5": "stopped",
        "X6": "done", "X7": "expired", "X8": "open", "X9": "holdout",
    }  # fmt: skip
    assert expiring["16"] == {
        "X1": "expired", "X2": "done", "X3": "expired", "X4": "expired", "X5": "stopped",
        "X6": "done", "X7": "expired", "X8": "open", "X9": "holdout",
    }  # fmt: skip


def test_r_act_expire_without_a_date_only_stored_expiries(expiring):
    assert expiring["none"] == expiring["15"]
