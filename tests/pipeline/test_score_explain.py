"""Score explanation for one customer on every backend (R-SCORE-EXPLAIN).

Customer ``c1`` as of 2024-06-30, hand-computed: visits counted in F are o01 (V1 06-20),
o04, o05, o06 and o09 (no VIN, 06-20) = 5 -> F 4; spend o01 1200 + o02 300 + o03 -200 +
o06 800 + o09 100 = 2200 -> M 3; last visit 06-20, 10 days -> R 5; loyalty: V1's extended
warranty +1, the latest referral +1, competitor visit -1 -> L 1; total 13 -> gold.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from aftercare.config import DEFAULT_CONFIG
from aftercare.pipeline.explain import explain_loyalty, explain_orders, explain_score
from conftest import load_tables
from factories import make_table

# ibis' PySpark to_pyarrow goes through pandas, whose 3.x reads a deprecated option.

AS_OF = dt.date(2024, 6, 30)
V1, V2, V3, V4 = (f"LSVEXPLAIN000000{i}" for i in range(1, 5))
OTHER_VIN = "LSVEXPLAIN0000009"

CUSTOMERS = [{"customer_id": "c1"}, {"customer_id": "c2"}]


def _vehicle(vin, customer_id, delivered, warranty_end=None, status="active"):
    return {
        "vin": vin,
        "customer_id": customer_id,
        "delivery_date": delivered,
        "extended_warranty_end": warranty_end,
        "status": status,
    }


VEHICLES = [
    _vehicle(V1, "c1", "2020-01-01", "2025-01-01"),
    _vehicle(V2, "c1", "2020-01-01", "2026-01-01", status="sold"),
    _vehicle(V3, "c1", "2024-07-01", "2027-01-01"),
    _vehicle(V4, "c1", "2020-01-01", "2024-06-29"),
    _vehicle(OTHER_VIN, "c2", "2020-01-01"),
]


def _order(order_id, vin, day, amount, payer="customer", customer_id=None):
    return {
        "order_id": order_id,
        "vin": vin,
        "customer_id": customer_id,
        "open_date": day,
        "total_amount": amount,
        "payer": payer,
    }


ORDERS = [
    _order("o01", V1, "2024-06-20", 1200),
    _order("o02", V1, "2024-06-20", 300),
    _order("o03", V1, "2024-06-25", -200),
    _order("o04", V1, "2024-05-01", 3000, payer="warranty"),
    _order("o05", V1, "2024-04-01", 500, payer="internal"),
    _order("o06", V2, "2024-03-01", 800, payer="insurance"),
    _order("o07", V1, "2023-06-30", 700),
    _order("o08", V1, "2024-07-01", 900),
    _order("o09", None, "2024-06-20", 100, customer_id="c1"),
    _order("o10", V1, "2024-06-21", 5000, customer_id="c2"),  # c2's order on c1's car
    _order("o11", OTHER_VIN, "2024-06-21", 5000),
]


def _event(interaction_id, customer_id, ts, type_):
    return {"interaction_id": interaction_id, "customer_id": customer_id, "ts": ts, "type": type_}


INTERACTIONS = [
    _event("i1", "c1", "2024-01-10T09:00:00", "referral"),
    _event("i2", "c1", "2024-05-05T09:00:00", "referral"),
    _event("i3", "c1", "2023-06-29T09:00:00", "complaint"),
    _event("i4", "c1", "2024-07-02T09:00:00", "brand_event"),
    _event("i5", "c1", "2024-06-30T23:00:00", "competitor_visit"),
    _event("i6", "c1", "2024-06-01T09:00:00", "praise"),
    _event("i7", "c2", "2024-06-01T09:00:00", "complaint"),
]

# order -> (days_before_as_of, in_window, is_last_visit, f_reason, m_reason)
EXPECTED_ORDERS = {
    "o01": (10, True, True, "counted", "counted"),
    "o02": (10, True, True, "same_visit", "counted"),
    "o03": (5, True, False, "refund", "counted"),
    "o04": (60, True, False, "counted", "payer_not_counted"),
    "o05": (90, True, False, "counted", "payer_not_counted"),
    "o06": (121, True, False, "counted", "counted"),
    "o07": (366, False, False, "outside_window", "outside_window"),
    "o08": (-1, False, False, "after_as_of", "after_as_of"),
    "o09": (10, True, True, "counted", "counted"),
}

# (signal, source) -> (event_date, counted, points, reason)
EXPECTED_LOYALTY = {
    ("l_extended_warranty", V1): ("2025-01-01", True, 1, "counted"),
    ("l_extended_warranty", V2): ("2026-01-01", False, 0, "vehicle_not_active"),
    ("l_extended_warranty", V3): ("2027-01-01", False, 0, "not_delivered"),
    ("l_extended_warranty", V4): ("2024-06-29", False, 0, "warranty_expired"),
    ("l_referral", "i2"): ("2024-05-05", True, 1, "counted"),
    ("l_referral", "i1"): ("2024-01-10", False, 0, "already_counted"),
    ("l_complaint", "i3"): ("2023-06-29", False, 0, "outside_window"),
    ("l_brand_event", "i4"): ("2024-07-02", False, 0, "after_as_of"),
    ("l_competitor_visit", "i5"): ("2024-06-30", True, -1, "counted"),
}


@pytest.fixture(scope="module")
def explained(backend) -> dict[str, pa.Table]:
    """The three explanations of c1, once per backend."""
    t = load_tables(
        backend,
        {
            "customers": make_table("customers", CUSTOMERS),
            "vehicles": make_table("vehicles", VEHICLES),
            "service_orders": make_table("service_orders", ORDERS),
            "interactions": make_table("interactions", INTERACTIONS),
        },
    )
    kw = {"customer_id": "c1", "as_of": AS_OF, "config": DEFAULT_CONFIG}
    return {
        "orders": explain_orders(t["service_orders"], t["vehicles"], **kw).to_pyarrow(),
        "loyalty": explain_loyalty(t["vehicles"], t["interactions"], **kw).to_pyarrow(),
        "score": explain_score(
            t["customers"], t["vehicles"], t["service_orders"], t["interactions"], **kw
        ).to_pyarrow(),
    }


def test_r_score_explain_orders(explained):
    rows = explained["orders"].to_pylist()
    assert [r["order_id"] for r in rows] == [
        "o07", "o06", "o05", "o04", "o01", "o02", "o09", "o03", "o08"
    ]  # fmt: skip
    for row in rows:
        days, in_window, is_last, f_reason, m_reason = EXPECTED_ORDERS[row["order_id"]]
        assert row["days_before_as_of"] == days, row
        assert row["in_window"] is in_window, row
        assert row["is_last_visit"] is is_last, row
        assert (row["f_reason"], row["counts_toward_f"]) == (f_reason, f_reason == "counted"), row
        assert (row["m_reason"], row["counts_toward_m"]) == (m_reason, m_reason == "counted"), row
        assert row["is_refund"] is (row["order_id"] == "o03"), row


def test_r_score_explain_orders_add_up_to_f_and_m(explained):
    rows = explained["orders"].to_pylist()
    assert sum(r["counts_toward_f"] for r in rows) == 5
    assert sum(r["total_amount"] for r in rows if r["counts_toward_m"]) == Decimal("2200.00")


def test_r_score_explain_loyalty(explained):
    rows = explained["loyalty"].to_pylist()
    got = {
        (r["signal"], r["source_id"]): (
            r["event_date"].isoformat(),
            r["counted"],
            r["points"],
            r["reason"],
        )
        for r in rows
    }
    assert got == EXPECTED_LOYALTY
    assert len(rows) == len(EXPECTED_LOYALTY)
    assert sum(r["points"] for r in rows) == 1


def test_r_score_explain_score_row(explained):
    (row,) = explained["score"].to_pylist()
    assert row["customer_id"] == "c1"
    assert (row["last_visit_date"], row["recency_days"]) == (dt.date(2024, 6, 20), 10)
    assert (row["frequency"], row["monetary"]) == (5, Decimal("2200.00"))
    assert (row["r_score"], row["f_score"], row["m_score"]) == (5, 4, 3)
    assert (row["l_extended_warranty"], row["l_referral"], row["l_brand_event"]) == (1, 1, 0)
    assert (row["l_complaint"], row["l_competitor_visit"], row["l_points"]) == (0, -1, 1)
    assert (row["total_score"], row["tier"]) == (13, "gold")
