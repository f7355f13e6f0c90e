"""R-VAL-LTV: the probabilistic CLV's per-customer inputs, computed in the engine."""

from __future__ import annotations

import datetime as dt

import pytest

from aftercare.config import DEFAULT_CONFIG
from aftercare.pipeline.staging import resolved_orders
from aftercare.pipeline.value import clv_inputs
from conftest import load_tables
from factories import make_table

AS_OF = dt.date(2024, 6, 30)


def order(oid: str, customer: str, day: str, total: float, cost: float | None = None, **kw):
    return {
        "order_id": oid,
        "customer_id": customer,
        "open_date": day,
        "total_amount": total,
        "cost_amount": cost,
        **kw,
    }


ORDERS = [
    # A: visit days 2024-01-07, 2024-03-03 (two orders), 2024-06-02 → 3 visit days.
    order("a1", "A", "2024-01-07", 1000, 600),
    order("a2", "A", "2024-03-03", 500, 300),
    order("a3", "A", "2024-03-03", 300, 100),
    order("a4", "A", "2024-06-02", 1200, 600, payer="warranty"),  # a visit, not spend
    order("a5", "A", "2024-07-01", 9999, 0),  # after as-of
    # B: one visit, a refund later (netted, not a visit).
    order("b1", "B", "2024-06-16", 700, 350),
    order("b2", "B", "2024-06-20", -200, -100),
]


def test_r_val_ltv_clv_inputs_by_hand(backend):
    t = load_tables(
        backend,
        {"orders": make_table("service_orders", ORDERS), "vehicles": make_table("vehicles", [])},
    )
    orders = resolved_orders(t["orders"], t["vehicles"])
    rows = {
        r["customer_id"]: r
        for r in clv_inputs(
            orders, as_of=AS_OF, value=DEFAULT_CONFIG.value, scoring=DEFAULT_CONFIG.scoring
        )
        .to_pyarrow()
        .to_pylist()
    }
    a = rows["A"]
    assert (a["visit_days"], a["frequency"]) == (3, 2)
    assert a["recency_weeks"] == pytest.approx(147 / 7)  # 2024-01-07 → 2024-06-02 = 21 weeks
    assert a["age_weeks"] == pytest.approx(175 / 7)  # → 2024-06-30 = 25 weeks
    # spend: customer-paid 1000 + 500 + 300 = 1800 over 3 visit days; profit 400 + 200 + 200
    assert a["spend_cny"] == pytest.approx(1800.0)
    assert a["spend_per_visit_cny"] == pytest.approx(600.0)
    assert a["gross_margin_history"] == pytest.approx(800 / 1800)
    b = rows["B"]
    assert (b["visit_days"], b["frequency"], b["recency_weeks"]) == (1, 0, 0.0)
    assert b["age_weeks"] == pytest.approx(2.0)
    assert b["spend_cny"] == pytest.approx(500.0)  # 700 − 200 refund (R-IN-4)
    assert b["gross_margin_history"] == pytest.approx(250 / 500)
    assert set(rows) == {"A", "B"}
