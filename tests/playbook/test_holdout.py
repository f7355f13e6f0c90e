"""Lift of a rule against its control group, on every engine (R-ACT-HOLDOUT)."""

from __future__ import annotations

import pytest

from aftercare.pipeline.staging import resolved_orders
from aftercare.playbook.holdout import rule_lift
from conftest import load_tables
from factories import make_table
from outcome_rows import make_actions, make_outcomes

DUE = "2024-06-01"
RETURNED = "2024-07-31"  # 60 days after DUE: inside the window
TOO_LATE = "2024-08-01"  # 61 days
TOO_EARLY = "2024-05-31"


def _fixture():
    actions, outcomes, orders = [], [], []

    def add(cid, rule, status, acted, visit, **extra):
        actions.append(
            {"action_id": cid, "rule_id": rule, "customer_id": cid, "due_date": DUE,
             "status": status, **extra}
        )  # fmt: skip
        if acted:
            outcomes.append(
                {"action_id": cid, "result": "reached", "recorded_at": "2024-06-01 10:00:00"}
            )
        if visit:
            orders.append(
                {"order_id": f"O{cid}", "customer_id": cid, "open_date": visit,
                 "total_amount": 400}
            )  # fmt: skip

    # A-CARE-90D control: 4 actions, 1 returned -> 0.25.
    add("K1", "A-CARE-90D", "holdout", False, RETURNED)
    add("K2", "A-CARE-90D", "holdout", False, TOO_LATE)
    add("K3", "A-CARE-90D", "holdout", False, TOO_EARLY)
    add("K4", "A-CARE-90D", "holdout", False, None)
    # Treated (acted on): 6, 3 returned -> 0.5. T3 was moved by the weekly cap: its base is
    # the original due date, so its visit on 2024-07-31 is inside the window.
    add("T1", "A-CARE-90D", "done", True, RETURNED)
    add("T2", "A-CARE-90D", "done", True, DUE)
    add("T3", "A-CARE-90D", "open", True, RETURNED, original_due_date=DUE,
        due_date="2024-06-20")  # fmt: skip
    add("T4", "A-CARE-90D", "done", True, TOO_LATE)
    add("T5", "A-CARE-90D", "done", True, None)
    add("T6", "A-CARE-90D", "done", True, None)
    # Assigned but nobody acted: 2, none returned.
    add("U1", "A-CARE-90D", "open", False, None)
    add("U2", "A-CARE-90D", "stopped", False, None)
    # Window not over by as-of: not counted at all.
    actions.append(
        {"action_id": "L1", "rule_id": "A-CARE-90D", "customer_id": "L1",
         "due_date": "2024-11-15", "status": "holdout"}
    )  # fmt: skip
    # A rule without control group: its lift is unknown.
    add("B1", "A-BIRTHDAY", "done", True, RETURNED)
    add("B2", "A-BIRTHDAY", "done", True, None)
    return actions, outcomes, orders


@pytest.fixture(scope="module")
def lift(backend):
    actions, outcomes, orders = _fixture()
    t = load_tables(
        backend,
        {
            "actions": make_actions(actions),
            "outcomes": make_outcomes(outcomes),
            "orders": make_table("service_orders", orders),
            "vehicles": make_table("vehicles", []),
        },
    )
    table = rule_lift(
        t["actions"],
        t["outcomes"],
        resolved_orders(t["orders"], t["vehicles"]),
        as_of="2024-12-31",
        return_window_days=60,
    )
    return {r["rule_id"]: r for r in table.to_pyarrow().to_pylist()}


def test_r_act_holdout_lift_treated_vs_control(lift):
    care = lift["A-CARE-90D"]
    assert (care["control_actions"], care["control_returned"]) == (4, 1)
    assert (care["treated_actions"], care["treated_returned"]) == (6, 3)
    assert care["control_rate"] == pytest.approx(0.25)
    assert care["treated_rate"] == pytest.approx(0.5)
    assert care["lift"] == pytest.approx(0.25)


def test_r_act_holdout_intention_to_treat(lift):
    care = lift["A-CARE-90D"]
    assert (care["assigned_actions"], care["assigned_returned"]) == (8, 3)
    assert care["assigned_rate"] == pytest.approx(3 / 8)
    assert care["lift_itt"] == pytest.approx(3 / 8 - 1 / 4)


def test_rule_without_control_group_has_no_lift(lift):
    birthday = lift["A-BIRTHDAY"]
    assert birthday["control_actions"] == 0
    assert birthday["control_rate"] is None
    assert birthday["treated_rate"] == pytest.approx(0.5)
    assert birthday["lift"] is None
