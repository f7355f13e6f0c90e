"""Every mart wired together on one small service centre, on every engine.

The pipeline modules are tested one by one elsewhere; this catches what only shows when they
are joined (e.g. resolved orders feeding CRR with a customer filter), and checks the headline
numbers against a hand computation.
"""

from __future__ import annotations

import datetime as dt

import pytest

from aftercare.config import DEFAULT_CONFIG
from aftercare.pipeline.marts import churn_reasons_of, wire_marts
from aftercare.pipeline.retention import crr
from aftercare.pipeline.scoring import score_customers
from aftercare.pipeline.value import pareto_summary
from conftest import canonical_of, load_tables
from factories import make_table

AS_OF = dt.date(2024, 6, 30)
V1, V2, V3 = "LSVAA4182E2000001", "LSVAA4182E2000002", "LSVAA4182E2000003"


@pytest.fixture(scope="module")
def results(backend):
    t = load_tables(
        backend,
        {
            "customers": make_table(
                "customers",
                [
                    {"customer_id": "C1", "price_sensitivity": "high"},
                    {"customer_id": "C2"},
                    {"customer_id": "C3"},
                ],
            ),
            "vehicles": make_table(
                "vehicles",
                [
                    {"vin": V1, "customer_id": "C1", "delivery_date": "2019-01-01"},
                    {"vin": V2, "customer_id": "C2", "delivery_date": "2022-01-01"},
                    {"vin": V3, "customer_id": "C3", "delivery_date": "2024-01-01"},
                ],
            ),
            "orders": make_table(
                "service_orders",
                [
                    # C1: visited a year and more ago only → absent 200 days at as-of
                    {
                        "order_id": "O1",
                        "vin": V1,
                        "open_date": "2023-06-01",
                        "total_amount": 800,
                        "cost_amount": 400,
                        "category": "maintenance",
                        "odometer_km": 50000,
                    },
                    {
                        "order_id": "O2",
                        "vin": V1,
                        "open_date": "2023-12-13",
                        "total_amount": 1000,
                        "cost_amount": 600,
                        "category": "repair",
                        "odometer_km": 58000,
                    },
                    # C2: regular, last visit 20 days ago
                    {
                        "order_id": "O3",
                        "vin": V2,
                        "open_date": "2023-05-01",
                        "total_amount": 3000,
                        "cost_amount": 1500,
                        "category": "maintenance",
                        "odometer_km": 20000,
                    },
                    {
                        "order_id": "O4",
                        "vin": V2,
                        "open_date": "2024-06-10",
                        "total_amount": 5000,
                        "cost_amount": 2000,
                        "category": "maintenance",
                        "odometer_km": 30000,
                    },
                    # an order for a customer not in the master (R-IN-6): not counted
                    {
                        "order_id": "O5",
                        "customer_id": "C9",
                        "open_date": "2024-06-01",
                        "total_amount": 100,
                    },
                ],
            ),
            "declined": make_table("declined_services", []),
            "interactions": make_table("interactions", []),
            "advisors": make_table("advisors", []),
        },
    )
    tables = canonical_of(t)
    scores = score_customers(
        t["customers"],
        t["vehicles"],
        t["orders"],
        t["interactions"],
        as_of=AS_OF,
        config=DEFAULT_CONFIG,
    )
    marts = wire_marts(tables, scores, as_of=AS_OF, config=DEFAULT_CONFIG)
    retention = crr(
        marts.orders,
        period_start=dt.date(2023, 6, 30),
        period_end=AS_OF,
        config=DEFAULT_CONFIG.retention,
        customers=tables.customers,
    )
    return {
        "crr": retention.to_pyarrow().to_pylist()[0],
        "pareto": pareto_summary(marts.value, value=DEFAULT_CONFIG.value)
        .to_pyarrow()
        .to_pylist()[0],
        "risk": {r["customer_id"]: r for r in marts.risk.to_pyarrow().to_pylist()},
        "lifecycle": {r["customer_id"]: r for r in marts.lifecycle.to_pyarrow().to_pylist()},
        "reminders": {r["vin"]: r for r in marts.reminders.to_pyarrow().to_pylist()},
        # lazy: executed only by the test that needs them
        "churn_reasons": marts.churn_reasons,
        "reasons_of": churn_reasons_of(
            tables, tables.customers, as_of=AS_OF, config=DEFAULT_CONFIG
        ),
    }


def test_crr_counts_only_known_customers(results):
    row = results["crr"]
    # at start (2023-06-30, trailing 365 d): C1 (O1 2023-06-01), C2 (O3 2023-05-01) → 2
    # at end (2024-06-30): C1 (O2 2023-12-13), C2 (O4) → 2; C9 is not a known customer
    # new in (2023-06-30, 2024-06-30]: first-ever visit in the period → nobody
    assert (row["customers_at_start"], row["customers_at_end"], row["new_customers"]) == (2, 2, 0)
    assert row["crr_pct"] == pytest.approx(100.0)
    assert row["band"] == "excellent"


def test_pareto_headline(results):
    p = results["pareto"]
    assert p["customers"] == 3
    assert p["top_customers"] == 1  # ceil(3 × 20 %)


def test_risk_and_lifecycle_per_customer(results):
    risk = results["risk"]
    assert risk["C1"]["days_absent"] == (AS_OF - dt.date(2023, 12, 13)).days
    assert risk["C2"]["days_absent"] == 20
    assert risk["C3"]["days_absent"] is None  # never visited
    stages = {c: r["stage"] for c, r in results["lifecycle"].items()}
    # C1 delivered 2019-01-01: 5.5 y at 2024-06-30 → mature (5–8 y, R-LIFE)
    assert stages == {"C1": "mature", "C2": "activation", "C3": "new"}


def test_reminders_for_every_active_vehicle(results):
    reminders = results["reminders"]
    assert set(reminders) == {V1, V2, V3}
    assert reminders[V3]["is_first_service"]
    assert reminders[V3]["time_due_date"] == dt.date(2024, 4, 1)


# DuckDB and PostgreSQL: the scripts (call lists) read a transactional store, never a lake;
# on Spark these two extra queries cost ~15 s.
@pytest.mark.parametrize("backend", ["duckdb", "postgres"], indirect=True)
def test_r_churn_reason_one_definition_for_the_mart_and_the_scripts(results):
    """The reason a script is given (churn_reasons_of) is the churn mart's, and it is given
    to any customer asked for, lapsed, at high risk or not."""
    mart, named = (
        {r["customer_id"]: r for r in results[k].to_pyarrow().to_pylist()}
        for k in ("churn_reasons", "reasons_of")
    )
    assert mart, "the fixture has a lapsed or high-risk customer"
    assert set(named) == {"C1", "C2", "C3"}
    for customer, row in mart.items():
        picked = ("churn_reason", "reason_evidence", "conversation")
        assert {k: named[customer][k] for k in picked} == {k: row[k] for k in picked}
    assert named["C1"]["churn_reason"] == "price"  # price_sensitivity high
    assert named["C2"]["churn_reason"] == "passive"
