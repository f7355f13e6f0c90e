"""The whole scorecard comes from configuration (SPEC §2: "the whole scorecard is configuration").

A deliberately odd scorecard (90-day window, two recency bins, spend payers customer and
warranty, other point values and tier cut-offs) scored on every backend; expectations are
hand-computed from that scorecard, so any literal left in the pipeline shows up here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from aftercare.config import Bin, Config, ScoringConfig
from aftercare.pipeline.scoring import score_customers
from conftest import load_tables
from factories import make_table

# ibis' PySpark to_pyarrow goes through pandas, whose 3.x reads a deprecated option.

AS_OF = dt.date(2024, 6, 30)
SCORECARD = ScoringConfig(
    window_days=90,
    recency_max_days=((7, 10), (60, 6)),
    recency_floor_points=0,
    frequency_bins=(Bin(min=3, points=9), Bin(min=2, points=4)),
    frequency_floor_points=0,
    monetary_bins=(Bin(min=500.5, points=7),),
    monetary_floor_points=2,
    spend_payers=("customer", "warranty"),
    loyalty_extended_warranty=5,
    loyalty_referral=3,
    loyalty_brand_event=2,
    loyalty_complaint=-4,
    loyalty_competitor_visit=-3,
    tier_min_total={"platinum": 30, "gold": 20, "silver": 12, "regular": 5, "lapsed": 0},
)


def ago(days: int) -> dt.date:
    return AS_OF - dt.timedelta(days=days)


# customer -> (frequency, monetary, r, f, m, l_points, total, tier), hand-computed.
EXPECTED = {
    # visits 5/50/80 days (100 days is outside 90); spend customer 200 + warranty 400
    # (insurance 1000 not a spend payer here); referral +3: 10 + 9 + 7 + 3 = 29.
    "a": (3, "600.00", 10, 9, 7, 3, 29, "gold"),
    # 61 days: past the last recency bin -> 0; 1 visit -> 0; 500.50 >= 500.5 -> 7;
    # complaint -4, extended warranty +5: 8.
    "b": (1, "500.50", 0, 0, 7, 1, 8, "regular"),
    # nothing but a competitor visit: 0 + 0 + 2 - 3 = -1, below every cut-off -> lowest tier.
    "c": (0, "0.00", 0, 0, 2, -3, -1, "lapsed"),
    # 2 visits (7 and 8 days) -> 4; referral at 90 days counts, brand event at 91 does not.
    "d": (2, "200.00", 10, 4, 2, 3, 19, "silver"),
    # 3 visits, 3000 spend, warranty and referral: 10 + 9 + 7 + 8 = 34.
    "e": (3, "3000.00", 10, 9, 7, 8, 34, "platinum"),
    # 500.49 < 500.5 -> floor 2; 20 days -> 6: 6 + 0 + 2 = 8.
    "f": (1, "500.49", 6, 0, 2, 0, 8, "regular"),
}


def _tables() -> dict[str, pa.Table]:
    orders = [
        ("a", ago(5), 200, "customer"),
        ("a", ago(50), 400, "warranty"),
        ("a", ago(80), 1000, "insurance"),
        ("a", ago(100), 5000, "customer"),
        ("b", ago(61), "500.50", "customer"),
        ("d", ago(7), 100, "customer"),
        ("d", ago(8), 100, "customer"),
        ("e", ago(1), 1000, "customer"),
        ("e", ago(2), 1000, "customer"),
        ("e", ago(3), 1000, "customer"),
        ("f", ago(20), "500.49", "customer"),
    ]
    events = [
        ("a", ago(60), "referral"),
        ("b", ago(30), "complaint"),
        ("c", ago(10), "competitor_visit"),
        ("d", ago(90), "referral"),
        ("d", ago(91), "brand_event"),
        ("e", ago(4), "referral"),
    ]
    return {
        "customers": make_table("customers", [{"customer_id": c} for c in EXPECTED]),
        "vehicles": make_table(
            "vehicles",
            [
                {
                    "vin": f"LSVCONFIG00000{cid.upper()}00",
                    "customer_id": cid,
                    "delivery_date": "2020-01-01",
                    "extended_warranty_end": "2025-01-01" if cid in ("b", "e") else None,
                }
                for cid in EXPECTED
            ],
        ),
        "service_orders": make_table(
            "service_orders",
            [
                {
                    "order_id": f"o{i}",
                    "vin": f"LSVCONFIG00000{cid.upper()}00",
                    "open_date": day,
                    "total_amount": amount,
                    "payer": payer,
                }
                for i, (cid, day, amount, payer) in enumerate(orders)
            ],
        ),
        "interactions": make_table(
            "interactions",
            [
                {"interaction_id": f"i{i}", "customer_id": cid, "ts": f"{day}T08:00:00", "type": t}
                for i, (cid, day, t) in enumerate(events)
            ],
        ),
    }


@pytest.fixture(scope="module")
def scores(backend) -> dict[str, dict]:
    """Scores under the odd scorecard (passed inside a whole Config), once per backend."""
    t = load_tables(backend, _tables())
    result = score_customers(
        t["customers"],
        t["vehicles"],
        t["service_orders"],
        t["interactions"],
        as_of=AS_OF,
        config=Config(scoring=SCORECARD),
    ).to_pyarrow()
    return {r["customer_id"]: r for r in result.to_pylist()}


@pytest.mark.parametrize("customer_id", list(EXPECTED))
def test_r_score_t_scorecard_from_config(scores, customer_id):
    row = scores[customer_id]
    got = (
        row["frequency"],
        row["monetary"],
        row["r_score"],
        row["f_score"],
        row["m_score"],
        row["l_points"],
        row["total_score"],
        row["tier"],
    )
    frequency, monetary, *rest = EXPECTED[customer_id]
    assert got == (frequency, Decimal(monetary), *rest)
