"""Event rules of SPEC §6 on a hand-made service centre: trigger, due date, channel, priority.

As of Saturday 2024-06-15. Every expected date below is computed by hand from the fixture.
"""

from __future__ import annotations

import datetime as dt

import pytest

from aftercare.config import DEFAULT_CONFIG
from aftercare.playbook import rules
from rule_inputs import load_rule_inputs, rule_context_of

# DuckDB and PostgreSQL: the action engine refuses a Spark lake (Store.require_transactions:
# actions need transactions), so the rules never run on Spark. They pass there (checked),
# but wiring a rule context on Spark costs ~30 s of the default suite.
pytestmark = pytest.mark.parametrize("backend", ["duckdb", "postgres"], indirect=True)

AS_OF = dt.date(2024, 6, 15)
D = dt.date.fromisoformat

CUSTOMERS = [
    {"customer_id": "C1", "name": "陈先生", "preferred_channel": "wechat"},
    {"customer_id": "C2", "name": "王先生"},
    {"customer_id": "C3", "name": "何先生", "preferred_channel": "wechat"},
    {"customer_id": "C4", "name": "刘女士", "preferred_channel": "sms"},
]
VIN1, VIN2, VIN3, VIN4 = (f"LSVAA4182E200000{i}" for i in range(1, 5))
VEHICLES = [
    {"vin": VIN1, "customer_id": "C1", "delivery_date": "2024-06-10", "model": "Model 3"},
    {
        "vin": VIN2,
        "customer_id": "C2",
        "delivery_date": "2024-02-01",
        "insurance_expiry": "2025-02-01",
    },
    {
        "vin": VIN3,
        "customer_id": "C3",
        "delivery_date": "2020-01-01",
        "factory_warranty_end": "2024-07-20",
        "insurance_expiry": "2024-07-15",
    },
    {
        "vin": VIN4,
        "customer_id": "C4",
        "delivery_date": "2021-07-01",
        "factory_warranty_end": "2024-07-01",
        "extended_warranty_end": "2026-07-01",
    },
]


def _order(order_id, vin, open_date, category="maintenance", total=500, close=None, km=None):
    return {
        "order_id": order_id,
        "vin": vin,
        "open_date": open_date,
        "close_date": close,
        "category": category,
        "total_amount": total,
        "odometer_km": km,
    }


ORDERS = [
    # V2: first service 2024-05-01 → A-FIRST-SERVICE-30D due 2024-05-31.
    _order("O1", VIN2, "2024-05-01", km=4000, close="2024-05-01"),
    # V2 follow-up: closed 2024-06-14 → due 06-15; a refund closed the same day → nothing.
    _order("O2", VIN2, "2024-06-14", category="repair", close="2024-06-14"),
    _order("O3", VIN2, "2024-06-14", category="repair", total=-200, close="2024-06-14"),
    # V3: serviced 2023-06-20 at 50000 km; read 45000 km on 2023-01-10 → time due 2024-06-20.
    _order("O4", VIN3, "2023-01-10", category="repair", km=45000, close="2023-01-10"),
    _order("O5", VIN3, "2023-06-20", km=50000, close="2023-06-20"),
]
INTERACTIONS = [
    {"interaction_id": "I1", "customer_id": "C4", "ts": "2024-06-13 10:00:00", "type": "complaint"},
    {"interaction_id": "I2", "customer_id": "C4", "ts": "2024-06-13 11:00:00", "type": "praise"},
]
DECLINED = [
    {
        "order_id": "O5",
        "item": "brake pads",
        "vin": VIN3,
        "declined_date": "2024-05-20",
        "is_safety_item": True,
        "quoted_amount": 800,
    },
    {
        "order_id": "O5",
        "item": "wipers",
        "vin": VIN3,
        "declined_date": "2024-05-20",
        "deferred_until": "2024-06-18",
        "quoted_amount": 100,
    },
    {
        "order_id": "O9",
        "item": "coating",
        "customer_id": "C4",
        "declined_date": "2024-06-01",
        "deferred_until": "2024-07-01",
    },
]


@pytest.fixture(scope="module")
def fired(backend):
    """Each event rule's candidates, keyed by rule id then trigger key (computed once)."""
    tables, t = load_rule_inputs(
        backend,
        customers=CUSTOMERS,
        vehicles=VEHICLES,
        service_orders=ORDERS,
        interactions=INTERACTIONS,
        declined_services=DECLINED,
    )
    ctx, _ = rule_context_of(tables, t, as_of=AS_OF, config=DEFAULT_CONFIG)
    out = {}
    cfg = DEFAULT_CONFIG.actions.rules
    for rule_id, fn in (
        ("A-WELCOME", rules.welcome),
        ("A-FIRST-SERVICE", rules.first_service),
        ("A-FOLLOWUP-24H", rules.followup_24h),
        ("A-FIRST-SERVICE-30D", rules.first_service_30d),
        ("A-MAINTENANCE", rules.maintenance),
        ("A-EXT-WARRANTY", rules.ext_warranty),
        ("A-INSURANCE-RENEWAL", rules.insurance_renewal),
        ("A-COMPLAINT-72H", rules.complaint_72h),
        ("A-DECLINED", rules.declined),
    ):
        rows = fn(ctx, cfg[rule_id]).to_pyarrow().to_pylist()
        assert all(r["rule_id"] == rule_id for r in rows)
        out[rule_id] = {r["trigger_key"]: r for r in rows}
    return out


def _check(row, *, customer, trigger, due, channel, priority, marketing=False):
    assert row["customer_id"] == customer
    assert row["trigger_date"] == D(trigger)
    assert row["due_date"] == D(due)
    assert row["channel"] == channel
    assert row["priority"] == priority
    assert row["is_marketing"] is marketing


def test_a_welcome_delivery_plus_7_days(fired):
    welcome = fired["A-WELCOME"]
    row = welcome[f"{VIN1}|2024-06-10"]
    _check(
        row, customer="C1", trigger="2024-06-10", due="2024-06-17", channel="phone", priority="high"
    )
    assert row["vin"] == VIN1
    assert len(welcome) == 4  # one per delivered vehicle


def test_a_first_service_3_days_before_delivery_plus_3_months(fired):
    fs = fired["A-FIRST-SERVICE"]
    # V1 delivered 2024-06-10: 3 months → 2024-09-10 (5000 km at 40 km/day is later).
    _check(
        fs[f"{VIN1}|first_service"],
        customer="C1",
        trigger="2024-09-10",
        due="2024-09-07",
        channel="phone",
        priority="medium",
    )
    assert f"{VIN2}|first_service" not in fs  # V2 had its first service


def test_a_followup_24h_one_per_closed_order_not_refunds(fired):
    fu = fired["A-FOLLOWUP-24H"]
    _check(
        fu["O2"],
        customer="C2",
        trigger="2024-06-14",
        due="2024-06-15",
        channel="wechat",
        priority="medium",
    )
    assert "O3" not in fu
    assert set(fu) == {"O1", "O2", "O4", "O5"}


def test_a_first_service_30d(fired):
    f30 = fired["A-FIRST-SERVICE-30D"]
    _check(
        f30[f"{VIN2}|first_service_done"],
        customer="C2",
        trigger="2024-05-01",
        due="2024-05-31",
        channel="wechat",
        priority="low",
    )
    # V3's first maintenance in the data came 3.5 years after delivery: not a first service.
    assert f"{VIN3}|first_service_done" not in f30


def test_a_maintenance_7_days_before_due_on_preferred_channel(fired):
    m = fired["A-MAINTENANCE"]
    # Time due 2023-06-20 + 12 months = 2024-06-20 (mileage: 20000 km at ~31 km/day is later).
    _check(
        m[f"{VIN3}|2023-06-20"],
        customer="C3",
        trigger="2024-06-20",
        due="2024-06-13",
        channel="preferred",
        priority="medium",
    )
    # V2: serviced 2024-05-01 → due 2025-05-01 → call 2025-04-24.
    assert m[f"{VIN2}|2024-05-01"]["due_date"] == D("2025-04-24")


def test_a_ext_warranty_45_days_before_end(fired):
    w = fired["A-EXT-WARRANTY"]
    _check(
        w[f"{VIN3}|factory|2024-07-20"],
        customer="C3",
        trigger="2024-07-20",
        due="2024-06-05",
        channel="phone",
        priority="medium",
        marketing=True,
    )
    # V4's factory end is covered by its extended warranty: only the extended end fires.
    assert f"{VIN4}|factory|2024-07-01" not in w
    assert w[f"{VIN4}|extended|2026-07-01"]["due_date"] == D("2026-05-17")


def test_a_insurance_renewal_45_days_before_expiry_not_marketing(fired):
    """A-INSURANCE-RENEWAL (issue 10): one call per policy, 45 days before it expires."""
    w = fired["A-INSURANCE-RENEWAL"]
    assert set(w) == {f"{VIN3}|insurance|2024-07-15", f"{VIN2}|insurance|2025-02-01"}
    _check(
        w[f"{VIN3}|insurance|2024-07-15"],
        customer="C3",
        trigger="2024-07-15",
        due="2024-05-31",
        channel="phone",
        priority="medium",
        marketing=False,
    )
    assert w[f"{VIN2}|insurance|2025-02-01"]["due_date"] == D("2024-12-18")


def test_a_complaint_72h(fired):
    c = fired["A-COMPLAINT-72H"]
    assert set(c) == {"I1"}
    _check(
        c["I1"],
        customer="C4",
        trigger="2024-06-13",
        due="2024-06-16",
        channel="phone",
        priority="high",
    )


def test_a_declined_deferred_else_30_days_high_for_safety(fired):
    d = fired["A-DECLINED"]
    # O5: brake pads (safety, 2024-05-20 + 30 = 06-19) and wipers deferred to 06-18.
    _check(
        d["O5"],
        customer="C3",
        trigger="2024-05-20",
        due="2024-06-18",
        channel="preferred",
        priority="high",
    )
    assert "brake pads" in d["O5"]["evidence"] and "wipers" in d["O5"]["evidence"]
    _check(
        d["O9"],
        customer="C4",
        trigger="2024-06-01",
        due="2024-07-01",
        channel="preferred",
        priority="medium",
    )
