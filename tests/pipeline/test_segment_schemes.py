"""SPEC §8 segmentation: RFM quintiles and profit pyramid on every backend, hand-computed.

Fifteen customers, so a quintile score is 1 + floor(5·worse/15) = 1 + worse // 3, where
worse = customers with a strictly worse value (never visited = worst recency).
"""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest

from aftercare.config import SegmentationConfig
from aftercare.pipeline.segments import (
    RFM_FALLBACK_SEGMENT,
    profit_pyramid,
    pyramid_labels,
    rfm_quintiles,
    segment_features,
)
from conftest import load_tables

pytestmark = pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")

# id: (recency_days, frequency, monetary, net_profit); C13 has no value row (NULL profit).
CUSTOMERS = {
    "C01": (3, 9, "25000", 9000.0),
    "C02": (12, 7, "15000", 5000.0),
    "C03": (45, 4, "6000", 3000.0),
    "C04": (20, 5, "8000", 3000.0),  # tied with C03 across the next/middle boundary
    "C05": (45, 3, "4000", 1500.0),
    "C06": (100, 2, "2500", 800.0),
    "C07": (150, 2, "2500", 800.0),
    "C08": (200, 1, "1200", 300.0),
    "C09": (300, 3, "900", 100.0),
    "C10": (8, 1, "600", 50.0),
    "C11": (500, 0, "0", 0.0),
    "C12": (None, 0, "0", 0.0),
    "C13": (None, 0, "0", None),
    "C14": (30, 4, "-200", -400.0),  # warranty visits and a refund: negative spend
    "C15": (400, 0, "0", -50.0),
}

# Hand-computed (worse counts in comments). R: nulls C12,C13 worse 0 → 1; 500 → 2 worse → 1;
# 400 → 3 → 2; 300 → 4 → 2; 200 → 5 → 2; 150 → 6 → 3; 100 → 7 → 3; 45 ×2 → 8 → 3;
# 30 → 10 → 4; 20 → 11 → 4; 12 → 12 → 5; 8 → 13 → 5; 3 → 14 → 5.
# F: 0 ×4 → 0 → 1; 1 ×2 → 4 → 2; 2 ×2 → 6 → 3; 3 ×2 → 8 → 3; 4 ×2 → 10 → 4; 5, 7, 9 → 5.
# M: −200 → 0 → 1; 0 ×4 → 1 → 1; 600 → 5 → 2; 900 → 6 → 3; 1200 → 7 → 3; 2500 ×2 → 8 → 3;
# 4000 → 10 → 4; 6000 → 11 → 4; 8000, 15000, 25000 → 5.
EXPECTED_RFM = {
    "C01": ("R5F5M5", "champions"),
    "C02": ("R5F5M5", "champions"),
    "C03": ("R3F4M4", "loyal"),
    "C04": ("R4F5M5", "champions"),
    "C05": ("R3F3M4", "needs_attention"),
    "C06": ("R3F3M3", "needs_attention"),
    "C07": ("R3F3M3", "needs_attention"),
    "C08": ("R2F2M3", "hibernating"),
    "C09": ("R2F3M3", "at_risk"),
    "C10": ("R5F2M2", "new"),
    "C11": ("R1F1M1", "hibernating"),
    "C12": ("R1F1M1", "hibernating"),
    "C13": ("R1F1M1", "hibernating"),
    "C14": ("R4F4M1", "loyal"),
    "C15": ("R2F1M1", "hibernating"),
}

# Pyramid, n = 15: top ≤ ceil(0.75) = 1, next ≤ ceil(3) = 3, middle ≤ ceil(7.5) = 8,
# lower ≤ ceil(13.5) = 14, bottom 15. Ties by id (C03 before C04), NULL last.
EXPECTED_RANK = {
    "C01": 1, "C02": 2, "C03": 3, "C04": 4, "C05": 5, "C06": 6, "C07": 7, "C08": 8,
    "C09": 9, "C10": 10, "C11": 11, "C12": 12, "C15": 13, "C14": 14, "C13": 15,
}  # fmt: skip
LEVEL_OF_RANK = {1: 1, 2: 2, 3: 2, **{r: 3 for r in range(4, 9)}, **{r: 4 for r in range(9, 15)}}
LEVEL_OF_RANK[15] = 5
LABELS = ["top_5", "next_15", "middle_30", "lower_40", "bottom_10"]
HALVES = SegmentationConfig(pyramid_shares=(0.5, 0.5))  # top ≤ ceil(7.5) = 8


def _inputs() -> dict[str, pa.Table]:
    ids = list(CUSTOMERS)
    scores = pa.table(
        {
            "customer_id": ids,
            "recency_days": pa.array([CUSTOMERS[c][0] for c in ids], pa.int64()),
            "frequency": pa.array([CUSTOMERS[c][1] for c in ids], pa.int64()),
            "monetary": pa.array([Decimal(CUSTOMERS[c][2]) for c in ids], pa.decimal128(18, 2)),
            "tier": ["regular"] * len(ids),  # extra columns are ignored
        }
    )
    valued = [c for c in ids if CUSTOMERS[c][3] is not None]
    value = pa.table(
        {
            "customer_id": valued,
            "net_profit": pa.array([CUSTOMERS[c][3] for c in valued], pa.float64()),
            "annual_spend": pa.array([0.0] * len(valued)),
        }
    )
    return {"scores": scores, "value": value}


@pytest.fixture(scope="module")
def results(backend):
    """Every scheme in one query per backend (Spark pays seconds per query)."""
    t = load_tables(backend, _inputs())
    features = segment_features(t["scores"], t["value"])
    rfm = rfm_quintiles(features).drop("scheme").rename(rfm_segment="segment")
    pyramid = profit_pyramid(features, config=SegmentationConfig())
    halves = profit_pyramid(features, config=HALVES).select("customer_id", halves_segment="segment")
    both = (
        features.inner_join(rfm, "customer_id")
        .inner_join(pyramid, "customer_id")
        .inner_join(halves, "customer_id")
    )
    table = both.to_pyarrow()
    return {
        "features": table.select(list(features.columns)),
        "rfm": table.select(
            ["customer_id", "r_quintile", "f_quintile", "m_quintile", "rfm_cell", "rfm_segment"]
        ).rename_columns(
            ["customer_id", "r_quintile", "f_quintile", "m_quintile", "rfm_cell", "segment"]
        ),
        "pyramid": table.select(list(pyramid.columns)),
        "halves": table.select(["customer_id", "halves_segment"]).rename_columns(
            ["customer_id", "segment"]
        ),
    }


def _by_id(table: pa.Table) -> dict[str, dict]:
    return {row["customer_id"]: row for row in table.to_pylist()}


def test_segment_features_one_row_per_customer_with_null_profit(results):
    rows = _by_id(results["features"])
    assert sorted(rows) == sorted(CUSTOMERS)
    assert results["features"].column_names == [
        "customer_id",
        "recency_days",
        "frequency",
        "monetary",
        "net_profit",
    ]
    assert rows["C13"]["net_profit"] is None
    assert rows["C14"]["net_profit"] == -400.0


def test_rfm_quintile_cells_and_named_segments(results):
    rows = _by_id(results["rfm"])
    got = {c: (r["rfm_cell"], r["segment"]) for c, r in rows.items()}
    assert got == EXPECTED_RFM


def test_rfm_quintile_scores_match_cell(results):
    for row in results["rfm"].to_pylist():
        r, f, m = row["r_quintile"], row["f_quintile"], row["m_quintile"]
        assert row["rfm_cell"] == f"R{r}F{f}M{m}"
        assert all(1 <= s <= 5 for s in (r, f, m))


def test_rfm_never_visited_is_r1_and_ties_share_a_score(results):
    rows = _by_id(results["rfm"])
    assert rows["C12"]["r_quintile"] == rows["C13"]["r_quintile"] == 1
    # 45 days: C03 and C05 tie; 2500: C06 and C07 tie; 0 visits: four customers tie.
    assert rows["C03"]["r_quintile"] == rows["C05"]["r_quintile"] == 3
    assert rows["C06"]["m_quintile"] == rows["C07"]["m_quintile"] == 3
    assert {rows[c]["f_quintile"] for c in ("C11", "C12", "C13", "C15")} == {1}


def test_rfm_fallback_segment_name():
    assert RFM_FALLBACK_SEGMENT == "needs_attention"


def test_pyramid_ranks_levels_and_labels(results):
    rows = _by_id(results["pyramid"])
    assert {c: r["profit_rank"] for c, r in rows.items()} == EXPECTED_RANK
    for c, r in rows.items():
        level = LEVEL_OF_RANK[EXPECTED_RANK[c]]
        assert r["pyramid_level"] == level, c
        assert r["segment"] == LABELS[level - 1], c
        assert r["scheme"] == "pyramid"


def test_pyramid_sizes_follow_ceil_of_cumulative_shares(results):
    sizes: dict[str, int] = {}
    for r in results["pyramid"].to_pylist():
        sizes[r["segment"]] = sizes.get(r["segment"], 0) + 1
    assert sizes == {"top_5": 1, "next_15": 2, "middle_30": 5, "lower_40": 6, "bottom_10": 1}


def test_pyramid_tie_across_boundary_broken_by_customer_id(results):
    rows = _by_id(results["pyramid"])
    assert rows["C03"]["segment"] == "next_15"
    assert rows["C04"]["segment"] == "middle_30"


def test_pyramid_shares_from_config(results):
    rows = _by_id(results["halves"])
    top = {c for c, r in rows.items() if r["segment"] == "top_50"}
    assert top == {c for c, rank in EXPECTED_RANK.items() if rank <= 8}
    assert {r["segment"] for r in rows.values()} == {"top_50", "bottom_50"}


def test_pyramid_labels():
    assert pyramid_labels((0.05, 0.15, 0.30, 0.40, 0.10)) == LABELS
    assert pyramid_labels((0.125, 0.375, 0.5)) == ["top_12_5", "band2_37_5", "bottom_50"]


@pytest.mark.parametrize("shares", [(0.5, 0.4), (0.5, 0.6), (1.0, 0.0), ()])
def test_pyramid_shares_must_sum_to_one(shares):
    with pytest.raises(ValueError, match="pyramid_shares"):
        pyramid_labels(shares)
