"""R-VAL-PROFIT, R-VAL-LTV, R-VAL-PARETO on every backend, against hand-computed figures."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from aftercare.config import ScoringConfig, ValueConfig
from aftercare.pipeline.staging import resolved_orders
from aftercare.pipeline.value import (
    customer_value,
    order_profit,
    pareto_curve,
    pareto_summary,
    profit_by_tier,
)
from conftest import load_tables
from factories import make_table

# ibis' PySpark to_pyarrow goes through pandas, whose 3.x reads a deprecated option; until
# pyproject.toml ignores it, Spark results would fail on that warning alone.

AS_OF = dt.date(2024, 6, 30)  # 365 days back is 2023-07-01 (2024 is a leap year)
SCORING = ScoringConfig()
VALUE = ValueConfig()
VIN_L1 = "LSVAL0000000000L1"

ORDERS = [
    # P1 platinum — seed: 15000 × 55 % (value_added default margin, no cost).
    {
        "order_id": "p1",
        "customer_id": "P1",
        "vin": "LSVAL0000000000P1",
        "open_date": "2024-05-01",
        "category": "value_added",
        "payer": "customer",
        "total_amount": 15000,
    },
    # R1 regular — seed: 800 × 35 % over two visits; one exactly 365 days back (counted).
    {
        "order_id": "r1",
        "customer_id": "R1",
        "vin": "LSVAL0000000000R1",
        "open_date": "2024-01-10",
        "category": "maintenance",
        "payer": "customer",
        "total_amount": 500,
        "cost_amount": 325,
    },
    {
        "order_id": "r2",
        "customer_id": "R1",
        "vin": "LSVAL0000000000R1",
        "open_date": "2023-07-01",
        "category": "repair",
        "payer": "customer",
        "total_amount": 300,
        "cost_amount": 195,
    },
    # G1 gold: two orders on one visit day, a warranty visit (not spend), a refund (spend, not a
    # visit), one order 366 days back and one after as_of (both ignored).
    {
        "order_id": "g1",
        "customer_id": "G1",
        "vin": "LSVAL0000000000G1",
        "open_date": "2024-03-01",
        "category": "maintenance",
        "payer": "customer",
        "total_amount": 2000,
    },
    {
        "order_id": "g2",
        "customer_id": "G1",
        "vin": "LSVAL0000000000G1",
        "open_date": "2024-03-01",
        "category": "repair",
        "payer": "customer",
        "total_amount": 500,
        "cost_amount": 300,
    },
    {
        "order_id": "g3",
        "customer_id": "G1",
        "vin": "LSVAL0000000000G1",
        "open_date": "2024-04-01",
        "category": "warranty",
        "payer": "warranty",
        "total_amount": 1000,
        "cost_amount": 900,
    },
    {
        "order_id": "g4",
        "customer_id": "G1",
        "vin": "LSVAL0000000000G1",
        "open_date": "2024-03-05",
        "category": "maintenance",
        "payer": "customer",
        "total_amount": -200,
    },
    {
        "order_id": "g5",
        "customer_id": "G1",
        "vin": "LSVAL0000000000G1",
        "open_date": "2023-06-30",
        "category": "maintenance",
        "payer": "customer",
        "total_amount": 5000,
    },
    {
        "order_id": "g6",
        "customer_id": "G1",
        "vin": "LSVAL0000000000G1",
        "open_date": "2024-07-01",
        "category": "maintenance",
        "payer": "customer",
        "total_amount": 5000,
    },
    # L1 lapsed: order known only by VIN (customer resolved through vehicles), insurance pays.
    {
        "order_id": "l1",
        "vin": VIN_L1,
        "open_date": "2024-02-01",
        "category": "bodywork",
        "payer": "insurance",
        "total_amount": 3000,
        "cost_amount": 2400,
    },
    # An order of an unknown category keeps the `other` margin (35 %).
    {
        "order_id": "x1",
        "customer_id": "X9",
        "open_date": "2024-02-01",
        "category": None,
        "payer": "customer",
        "total_amount": 100,
    },
]
VEHICLES = [{"vin": VIN_L1, "customer_id": "L1", "delivery_date": "2020-01-01"}]
INTERACTIONS = [
    {"interaction_id": "i1", "customer_id": "P1", "ts": "2024-06-01T10:00:00", "type": "call"},
    {"interaction_id": "i2", "customer_id": "P1", "ts": "2024-06-02T10:00:00", "type": "call"},
    {"interaction_id": "i3", "customer_id": "P1", "ts": "2024-06-03T10:00:00", "type": "sms"},
    {"interaction_id": "i4", "customer_id": "P1", "ts": "2024-06-04T10:00:00", "type": "wechat"},
    {"interaction_id": "i5", "customer_id": "P1", "ts": "2024-06-05T10:00:00", "type": "app_push"},
    {"interaction_id": "i6", "customer_id": "P1", "ts": "2024-06-06T10:00:00", "type": "sms"},
    {"interaction_id": "i7", "customer_id": "P1", "ts": "2024-06-07T10:00:00", "type": "complaint"},
    {"interaction_id": "i8", "customer_id": "P1", "ts": "2023-01-01T10:00:00", "type": "call"},
    {"interaction_id": "i9", "customer_id": "P1", "ts": "2024-06-08T10:00:00", "type": "praise"},
]
TIERS = pa.table(
    {
        "customer_id": ["P1", "R1", "G1", "S1", "L1"],
        "tier": ["platinum", "regular", "gold", "silver", "lapsed"],
    }
)

# Hand-computed net profits (see the comments in the test below).
NET = {"P1": 5312.0, "R1": 40.0, "G1": -30.0, "S1": -200.0, "L1": 480.0}
TOTAL_NET = 5602.0


@pytest.fixture(scope="module")
def value_results(backend):
    t = load_tables(
        backend,
        {
            "orders": make_table("service_orders", ORDERS),
            "vehicles": make_table("vehicles", VEHICLES),
            "interactions": make_table("interactions", INTERACTIONS),
            "tiers": TIERS,
        },
    )
    orders = resolved_orders(t["orders"], t["vehicles"])
    cv = customer_value(
        orders, t["interactions"], t["tiers"], as_of=AS_OF, scoring=SCORING, value=VALUE
    )
    return {
        "orders": {
            r["order_id"]: r for r in order_profit(orders, config=VALUE).to_pyarrow().to_pylist()
        },
        "cv": {r["customer_id"]: r for r in cv.to_pyarrow().to_pylist()},
        "pareto": pareto_summary(cv, value=VALUE).to_pyarrow().to_pylist(),
        "curve": sorted(
            pareto_curve(cv, points=5).to_pyarrow().to_pylist(), key=lambda r: r["point"]
        ),
        "tiers": {r["tier"]: r for r in profit_by_tier(cv).to_pyarrow().to_pylist()},
    }


def test_r_val_profit_per_order_with_and_without_cost(value_results):
    o = value_results["orders"]
    assert o["r1"]["gross_profit_cny"] == pytest.approx(175.0)  # 500 − 325
    assert o["r1"]["is_cost_estimated"] is False
    assert o["p1"]["gross_profit_cny"] == pytest.approx(8250.0)  # 15000 × 55 %
    assert o["p1"]["is_cost_estimated"] is True
    assert o["g1"]["gross_profit_cny"] == pytest.approx(900.0)  # 2000 × 45 % maintenance
    assert o["g4"]["gross_profit_cny"] == pytest.approx(-90.0)  # refund −200 × 45 %
    assert o["x1"]["gross_profit_cny"] == pytest.approx(35.0)  # `other` 35 %


def test_r_val_profit_cost_to_serve_and_net_profit(value_results):
    cv = value_results["cv"]
    p1 = cv["P1"]
    # 1 visit 120 + 2 calls × 8 + 4 digital × 0.5 + 1 complaint 300 + platinum benefit 2500.
    assert (p1["visits_handled"], p1["phone_contacts"], p1["digital_contacts"]) == (1, 2, 4)
    assert p1["complaints_handled"] == 1
    assert p1["tier_benefit_cost"] == pytest.approx(2500.0)
    assert p1["cost_to_serve"] == pytest.approx(2938.0)
    assert p1["net_profit"] == pytest.approx(8250.0 - 2938.0)
    # G1: spend 2000 + 500 − 200 = 2300; gross 900 + 200 − 90 = 1010; 2 visits (two orders on
    # one day are one visit, the warranty day is the other, the refund is none) + gold 800.
    g1 = cv["G1"]
    assert g1["annual_spend"] == pytest.approx(2300.0)
    assert g1["gross_profit"] == pytest.approx(1010.0)
    assert g1["visits_handled"] == 2
    assert g1["cost_to_serve"] == pytest.approx(1040.0)
    assert g1["gross_margin"] == pytest.approx(1010.0 / 2300.0)
    # S1: no orders at all, still pays its silver benefit; margin and LTV unknown.
    s1 = cv["S1"]
    assert s1["annual_spend"] == 0.0 and s1["visits_handled"] == 0
    assert s1["gross_margin"] is None and s1["ltv"] is None
    for cid, net in NET.items():
        assert cv[cid]["net_profit"] == pytest.approx(net), cid
        assert cv[cid]["is_loss_making"] is (net < 0), cid
    assert set(cv) == set(NET)  # grain: the customers of `tiers`
    assert cv["P1"]["as_of_date"] == AS_OF


def test_r_val_ltv_seed_examples(value_results):
    cv = value_results["cv"]
    # Seed: platinum 15000 × 55 % × 8 = 66000; regular 800 × 35 % × 3 = 840.
    assert cv["P1"]["annual_spend"] == pytest.approx(15000.0)
    assert cv["P1"]["gross_margin"] == pytest.approx(0.55)
    assert cv["P1"]["ltv"] == pytest.approx(66000.0)
    assert cv["R1"]["annual_spend"] == pytest.approx(800.0)
    assert cv["R1"]["gross_margin"] == pytest.approx(0.35)
    assert cv["R1"]["ltv"] == pytest.approx(840.0)
    # The seed's picture: ~800/yr at 35 % barely covers two handled visits.
    assert cv["R1"]["net_profit"] == pytest.approx(40.0)
    assert cv["L1"]["ltv"] == pytest.approx(3000.0 * 0.2 * 1)  # via VIN owner, insurance pays


def test_r_val_pareto_summary(value_results):
    (p,) = value_results["pareto"]
    assert p["customers"] == 5
    assert p["top_customers"] == 1  # ceil(5 × 20 %)
    assert p["top_net_profit"] == pytest.approx(5312.0)
    assert p["top_net_profit_share"] == pytest.approx(5312.0 / TOTAL_NET)
    assert p["loss_making_customers"] == 2
    assert p["loss_making_share"] == pytest.approx(0.4)
    assert p["total_net_profit"] == pytest.approx(TOTAL_NET)


def test_r_val_pareto_curve_and_profit_by_tier(value_results):
    curve = value_results["curve"]
    # Best first: P1 5312, L1 480, R1 40, G1 −30, S1 −200.
    cum = [5312.0, 5792.0, 5832.0, 5802.0, 5602.0]
    assert [r["customers_cum"] for r in curve] == [1, 2, 3, 4, 5]
    assert [r["net_profit_cum"] for r in curve] == pytest.approx(cum)
    assert [r["net_profit_share"] for r in curve] == pytest.approx([c / TOTAL_NET for c in cum])
    assert curve[-1]["customer_share"] == pytest.approx(1.0)
    tiers = value_results["tiers"]
    assert tiers["platinum"]["tier_order"] == 0 and tiers["lapsed"]["tier_order"] == 4
    assert tiers["gold"]["net_profit"] == pytest.approx(-30.0)
    assert tiers["gold"]["loss_making_customers"] == 1
    assert tiers["platinum"]["net_profit_share"] == pytest.approx(5312.0 / TOTAL_NET)


# Ten customers: three in the same one-yuan bucket, ties at 50, loss-makers.
PARETO_NETS = [100.2, 100.7, 100.5, 50.0, 50.0, 50.0, 10.0, -5.0, -5.5, -20.0]
PARETO_TOTAL = sum(PARETO_NETS)  # 430.9


@pytest.fixture(scope="module")
def pareto_results(backend):
    ids = [f"C{i:02d}" for i in range(len(PARETO_NETS))]
    cv_arrow = pa.table(
        {
            "customer_id": ids,
            "net_profit": PARETO_NETS,
            "is_loss_making": [n < 0 for n in PARETO_NETS],
        }
    )
    cv = load_tables(backend, {"cv": cv_arrow})["cv"]
    out = {}
    for share in (0.2, 0.3, 0.5):
        (row,) = (
            pareto_summary(cv, value=ValueConfig(pareto_top_share=share)).to_pyarrow().to_pylist()
        )
        out[share] = row
    out["curve"] = sorted(
        pareto_curve(cv, points=4).to_pyarrow().to_pylist(), key=lambda r: r["point"]
    )
    return out


def test_r_val_pareto_top_share_exact_by_hand(pareto_results):
    # Top 20 % = 2: 100.7 + 100.5 (same one-yuan bucket as 100.2).
    assert pareto_results[0.2]["top_customers"] == 2
    assert pareto_results[0.2]["top_net_profit"] == pytest.approx(201.2)
    assert pareto_results[0.2]["top_net_profit_share"] == pytest.approx(201.2 / PARETO_TOTAL)
    # 10 × 0.3 is 3.0000000000000004 in floats; the count must still be 3.
    assert pareto_results[0.3]["top_customers"] == 3
    assert pareto_results[0.3]["top_net_profit"] == pytest.approx(301.4)
    # Top 5 cuts through the tie at 50: any two of them give the same sum.
    assert pareto_results[0.5]["top_net_profit"] == pytest.approx(401.4)
    assert pareto_results[0.5]["loss_making_share"] == pytest.approx(0.3)


def test_r_val_pareto_curve_points(pareto_results):
    # Point i closes after ceil(10 × i / 4) = 3, 5, 8, 10 customers.
    curve = pareto_results["curve"]
    assert [r["customers_cum"] for r in curve] == [3, 5, 8, 10]
    assert [r["net_profit_cum"] for r in curve] == pytest.approx([301.4, 401.4, 456.4, 430.9])
    assert [r["customer_share"] for r in curve] == pytest.approx([0.3, 0.5, 0.8, 1.0])
