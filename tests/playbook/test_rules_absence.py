"""A-CARE-90D on an abnormal absence (issue 10), on hand-made visits, as of 2024-06-15.

Expected return = the earliest of the vehicles' R-REMIND due date and last visit + usual
interval; the call is due ``care_after_days`` (90) after it, never before last visit + 90.
"""

from __future__ import annotations

import datetime as dt

import pytest

from aftercare.config import DEFAULT_CONFIG
from aftercare.playbook import rules_absence
from rule_inputs import load_rule_inputs, rule_context_of

pytestmark = pytest.mark.parametrize("backend", ["duckdb", "postgres"], indirect=True)

AS_OF = dt.date(2024, 6, 15)
D = dt.date.fromisoformat
VIN_A = "LSVAA4182E2000005"  # C5: serviced 2024-03-10, next due 2025-03-10 (12 months)
VIN_B = "LSVAA4182E2000013"  # C9: serviced 2023-01-15, due 2024-01-15, not back
# C7 left VIN_C unserviced since 2023-01-10 but came with VIN_D on 2024-03-01 (due 2025-03-01)
VIN_C, VIN_D = "LSVAA4182E2000021", "LSVAA4182E2000035"


def _order(order_id: str, day: str, *, customer: str | None = None, vin: str | None = None):
    return {
        "order_id": order_id,
        "customer_id": customer,
        "vin": vin,
        "open_date": day,
        "total_amount": 300,
        "category": "maintenance",
    }


ORDERS = [
    _order("O1", "2024-01-10", customer="C1"),  # one visit, nothing to expect: literal 90 d
    _order("O2", "2023-06-01", customer="C2"),  # every ~183 days: next 2024-06-01
    _order("O3", "2023-12-01", customer="C2"),
    _order("O4", "2023-10-01", customer="C3"),  # every 31 days: next 2023-12-02
    _order("O5", "2023-11-01", customer="C3"),
    _order("O6", "2024-03-10", vin=VIN_A),
    _order("O7", "2023-01-15", vin=VIN_B),
    _order("O8", "2023-01-10", vin=VIN_C),
    _order("O9", "2024-03-01", vin=VIN_D),
]
VEHICLES = [
    {"vin": VIN_A, "customer_id": "C5", "delivery_date": "2020-01-01"},
    {"vin": VIN_B, "customer_id": "C9", "delivery_date": "2022-01-01"},
    {"vin": VIN_C, "customer_id": "C7", "delivery_date": "2021-01-01"},
    {"vin": VIN_D, "customer_id": "C7", "delivery_date": "2022-06-01"},
]


def _care(backend, trigger: str) -> dict[str, dict]:
    config = DEFAULT_CONFIG.model_copy(
        update={"actions": DEFAULT_CONFIG.actions.model_copy(update={"care_trigger": trigger})}
    )
    tables, t = load_rule_inputs(
        backend,
        customers=[{"customer_id": c} for c in ("C1", "C2", "C3", "C5", "C7", "C9")],
        service_orders=ORDERS,
        vehicles=VEHICLES,
    )
    ctx, _ = rule_context_of(tables, t, as_of=AS_OF, config=config)
    rule = config.actions.rules["A-CARE-90D"]
    rows = rules_absence.care_90d(ctx, rule).to_pyarrow().to_pylist()
    return {r["customer_id"]: r for r in rows}


def test_a_care_90d_fires_90_days_past_the_expected_return(backend):
    rows = _care(backend, "overdue")
    # C1: one visit, no vehicle: last visit + 90 = 2024-04-09.
    assert rows["C1"]["trigger_date"] == D("2024-04-09")
    # C3: back every 31 days, expected 2023-12-02, + 90 = 2024-03-01 (not 2024-01-30).
    assert rows["C3"]["trigger_date"] == D("2024-03-01")
    # C9: the car's 12-month service was due 2024-01-15, + 90 = 2024-04-14.
    assert rows["C9"]["trigger_date"] == D("2024-04-14")
    assert rows["C9"]["trigger_key"] == "C9|2023-01-15"  # once per absence
    assert (rows["C9"]["channel"], rows["C9"]["priority"]) == ("phone", "high")
    # C2 (expected 2024-06-01) and C5 (due 2025-03-10) are not yet abnormally absent; nor is
    # C7, whose unserviced VIN_C (due 2024-01-10, before the last visit) is no absence.
    assert set(rows) == {"C1", "C3", "C9"}


def test_a_care_90d_since_last_visit_keeps_the_literal_rule(backend):
    rows = _care(backend, "since_last_visit")
    assert rows["C2"]["trigger_date"] == D("2024-02-29")  # 2023-12-01 + 90
    assert rows["C5"]["trigger_date"] == D("2024-06-08")  # 2024-03-10 + 90
    assert rows["C7"]["trigger_date"] == D("2024-05-30")  # 2024-03-01 + 90
    assert set(rows) == {"C1", "C2", "C3", "C5", "C7", "C9"}
