"""Per-advisor activity of a month against hand computations, on every engine (issue 10).

June 2024. S1 owns A1..A5, S2 owns B1..B3, P1 is in the unassigned pool:

- A1: no answer 06-03, booked 06-04; its customer came 06-20 (within 30 days): one call,
  reached, one booking, one visit (the two outcomes are one call made).
- A2: reached 06-05 -> a call, reached.        - A3: no answer 06-10 -> a call, not reached.
- A4: opted out 06-12 -> a call, not reached (an opt-out is no contact).
- A5: booked 05-20, customer came 05-25: May, not June.
- B1: booked 06-28, no visit yet: a booking, no visit. - B2: declined 06-30 23:59: reached.
- B3: reached 07-01 00:00: July.               - P1: visited 06-06: the pool's call, reached.

R-ACT-EXPIRE, derived by ``current_status`` as of 2024-06-30: S2's E4 (valid until 06-20,
never called) expired 06-21; E5 (valid until 06-30) may still be worked that day; E6 (valid
until 05-20) expired in May.

S1: 4 calls, 2 reached (50 %), 1 booking, 1 visit; S2: 2 calls, 2 reached (100 %), 1 booking,
0 visits, 1 expired; pool: 1 call, 1 reached, 0 bookings.
"""

from __future__ import annotations

import datetime as dt

import pytest

from aftercare.pipeline.staging import resolved_orders
from aftercare.playbook.kpis import advisor_activity
from aftercare.playbook.outcomes import booking_success, current_status
from conftest import load_tables
from factories import make_table
from outcome_rows import make_actions, make_outcomes, make_preferences

JUNE = (dt.date(2024, 6, 1), dt.date(2024, 6, 30))

PLAN = [("A1", "S1", "CA1", "2024-06-03"), ("A2", "S1", "CA2", "2024-06-05"),
        ("A3", "S1", "CA3", "2024-06-10"), ("A4", "S1", "CA4", "2024-06-12"),
        ("A5", "S1", "CA5", "2024-05-20"), ("B1", "S2", "CB1", "2024-06-03"),
        ("B2", "S2", "CB2", "2024-06-04"), ("B3", "S2", "CB3", "2024-06-30"),
        ("P1", None, "CP1", "2024-06-06")]  # fmt: skip
OUTCOMES = [("A1", "no_answer", "2024-06-03 10:00:00"), ("A1", "booked", "2024-06-04 10:00:00"),
            ("A2", "reached", "2024-06-05 10:00:00"), ("A3", "no_answer", "2024-06-10 10:00:00"),
            ("A4", "opted_out", "2024-06-12 10:00:00"), ("A5", "booked", "2024-05-20 10:00:00"),
            ("B1", "booked", "2024-06-28 10:00:00"), ("B2", "declined", "2024-06-30 23:59:00"),
            ("B3", "reached", "2024-07-01 00:00:00"),
            ("P1", "visited", "2024-06-06 10:00:00")]  # fmt: skip


def _actions(
    expired: tuple[tuple[str, str | None, str], ...] = (), status: str = "expired"
) -> list[dict]:
    """PLAN's actions, and ``expired`` ones (id, advisor, valid_until) stored as ``status``."""
    rows = [
        {"action_id": a, "rule_id": "A-MAINTENANCE", "customer_id": c, "advisor_id": s,
         "due_date": d}
        for a, s, c, d in PLAN
    ]  # fmt: skip
    rows += [
        {"action_id": a, "rule_id": "A-FOLLOWUP-24H", "customer_id": f"C{a}", "advisor_id": s,
         "due_date": "2024-05-01", "valid_until": v, "status": status}
        for a, s, v in expired
    ]  # fmt: skip
    return rows


#: Open actions that current_status expires by their valid_until (R-ACT-EXPIRE).
LAPSING = (("E4", "S2", "2024-06-20"), ("E5", "S2", "2024-06-30"), ("E6", "S1", "2024-05-20"))


def _orders() -> list[dict]:
    return [
        {"order_id": "O1", "customer_id": "CA1", "open_date": "2024-06-20", "total_amount": 300},
        {"order_id": "O5", "customer_id": "CA5", "open_date": "2024-05-25", "total_amount": 300},
    ]


def _rows(table) -> dict:
    out = table.to_pyarrow().to_pylist()
    return {r.pop("advisor_id"): r for r in out}


@pytest.fixture(scope="module")
def activity(backend):
    t = load_tables(
        backend,
        {
            "actions": make_actions(_actions(LAPSING, status="open")),
            "outcomes": make_outcomes(
                [{"action_id": a, "result": r, "recorded_at": at} for a, r, at in OUTCOMES]
            ),
            "preferences": make_preferences([]),
            "orders": make_table("service_orders", _orders()),
            "vehicles": make_table("vehicles", []),
        },
    )
    orders = resolved_orders(t["orders"], t["vehicles"])
    status = current_status(
        t["actions"], t["outcomes"], t["preferences"], winback_max_attempts=3, orders=orders,
        as_of=JUNE[1],
    )  # fmt: skip
    bookings = booking_success(t["actions"], t["outcomes"], orders, success_days=30)
    return _rows(
        advisor_activity(status, t["outcomes"], bookings, month_start=JUNE[0], month_end=JUNE[1])
    )


def test_advisor_activity_matches_hand_computation(activity):
    assert activity == {
        "S1": {"calls": 4, "reached": 2, "bookings": 1, "visits": 1, "expired": 0,
               "reach_rate": pytest.approx(0.5)},
        "S2": {"calls": 2, "reached": 2, "bookings": 1, "visits": 0, "expired": 1,
               "reach_rate": pytest.approx(1.0)},
        None: {"calls": 1, "reached": 1, "bookings": 0, "visits": 0, "expired": 0,
               "reach_rate": pytest.approx(1.0)},
    }  # fmt: skip


def test_r_act_expire_expired_actions_counted_per_advisor_in_their_month(backend):
    # A hand-made status table: an action expires the day after its valid_until. E1 (valid
    # until 06-14: 06-15) and E3 (05-31: 06-01) expired in June; E2 (05-30: 05-31) in May.
    expired = (("E1", "S1", "2024-06-14"), ("E2", "S2", "2024-05-30"), ("E3", "S3", "2024-05-31"))
    t = load_tables(
        backend,
        {
            "status": make_actions(_actions(expired)),
            "outcomes": make_outcomes([]),
            "bookings": make_outcomes([]),
        },
    )
    no_bookings = t["bookings"].select(
        "action_id", booked_date=t["bookings"].recorded_at.date(), is_success=False
    )
    rows = _rows(
        advisor_activity(
            t["status"], t["outcomes"], no_bookings, month_start=JUNE[0], month_end=JUNE[1]
        )
    )
    assert rows == {
        "S1": {"calls": 0, "reached": 0, "bookings": 0, "visits": 0, "expired": 1,
               "reach_rate": None},
        "S3": {"calls": 0, "reached": 0, "bookings": 0, "visits": 0, "expired": 1,
               "reach_rate": None},
    }  # fmt: skip
