"""R-SEG-VALID: segment sizes, Kruskal–Wallis against hand computations and scipy, stability."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from aftercare.models.validation import (
    kruskal_wallis,
    segment_differences,
    segment_sizes,
    segment_stability,
    validate_segmentation,
)

# Eight customers in three segments. spend: scipy's documented tie example
# x = [1, 1, 1], y = [2, 2, 2], z = [2, 2]. visits: no ties.
SEGMENTS = ["x", "x", "x", "y", "y", "y", "z", "z"]
SPEND = [1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0]
VISITS = [1, 2, 3, 4, 5, 6, 7, 8]
PROFIT = [5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, None]  # all equal once the NULL is left out
IDS = [f"C{i}" for i in range(1, 9)]

# spend by hand: N = 8, ranks 1s → 2, 2s → 6; R = 6, 18, 12;
# H0 = 12/(8·9)·(6²/3 + 18²/3 + 12²/2) − 3·9 = 32 − 27 = 5;
# tie correction 1 − ((3³−3) + (5³−5))/(8³−8) = 1 − 144/504 = 5/7; H = 5 / (5/7) = 7;
# df = 2 so p = exp(−H/2) = exp(−3.5).
SPEND_H, SPEND_P = 7.0, math.exp(-3.5)
# visits by hand: R = 6, 15, 15; H = 12/72·(36/3 + 225/3 + 225/2) − 27 = 199.5/6 − 27 = 6.25.
VISITS_H, VISITS_P = 6.25, math.exp(-6.25 / 2)


def _assignments() -> pa.Table:
    return pa.table({"customer_id": IDS, "segment": SEGMENTS})


def _features() -> pa.Table:
    return pa.table(
        {
            "customer_id": IDS,
            "monetary": pa.array(SPEND, pa.float64()),
            "frequency": pa.array(VISITS, pa.int64()),
            "net_profit": pa.array(PROFIT, pa.float64()),
        }
    )


def test_kruskal_wallis_hand_computed_with_ties():
    got = kruskal_wallis(np.array(SEGMENTS), np.array(SPEND))
    assert got.h == pytest.approx(SPEND_H, rel=1e-12)
    assert got.p_value == pytest.approx(SPEND_P, rel=1e-9)
    assert got.p_value == pytest.approx(0.0301973834223185, rel=1e-9)  # scipy docs' value
    assert (got.segments, got.customers, got.degrees_of_freedom) == (3, 8, 2)


def test_kruskal_wallis_matches_scipy_published_example():
    # scipy.stats.kruskal docs: x = [1, 3, 5, 7, 9], y = [2, 4, 6, 8, 10] → H 0.2727, p 0.6015.
    # By hand: R = 25, 30; H = 12/110·(625/5 + 900/5) − 33 = 3/11.
    seg = np.array(["a"] * 5 + ["b"] * 5)
    values = np.array([1, 3, 5, 7, 9, 2, 4, 6, 8, 10], dtype=float)
    got = kruskal_wallis(seg, values)
    assert got.h == pytest.approx(3 / 11, rel=1e-12)
    assert got.p_value == pytest.approx(0.6015081344405895, rel=1e-9)


def test_kruskal_wallis_undefined_cases_are_nan():
    one_segment = kruskal_wallis(np.array(["a", "a"]), np.array([1.0, 2.0]))
    assert math.isnan(one_segment.h) and math.isnan(one_segment.p_value)
    all_equal = kruskal_wallis(np.array(["a", "b"]), np.array([3.0, 3.0]))
    assert math.isnan(all_equal.h)
    empty = kruskal_wallis(np.array([], dtype=str), np.array([]))
    assert empty.segments == 0 and math.isnan(empty.p_value)


def _check_differences(results):
    by_metric = {r.metric: r for r in results}
    assert list(by_metric) == ["spend", "visits", "profit"]
    assert (
        by_metric["spend"].h == pytest.approx(SPEND_H) and by_metric["spend"].column == "monetary"
    )
    assert by_metric["spend"].p_value == pytest.approx(SPEND_P)
    assert by_metric["visits"].h == pytest.approx(VISITS_H)
    assert by_metric["visits"].p_value == pytest.approx(VISITS_P)
    expected = stats.kruskal([1, 2, 3], [4, 5, 6], [7, 8])
    assert by_metric["visits"].h == pytest.approx(expected.statistic, rel=1e-12)
    # profit: the NULL is left out, the seven other values are equal → undefined
    assert by_metric["profit"].customers == 7 and math.isnan(by_metric["profit"].h)


def test_segment_differences_arrow():
    _check_differences(segment_differences(_assignments(), _features()))


def test_segment_differences_and_sizes_in_engine(duckdb_con):
    a = duckdb_con.create_table("assign", _assignments())
    f = duckdb_con.create_table("feat", _features())
    _check_differences(segment_differences(a, f))
    assert segment_sizes(a).equals(segment_sizes(_assignments()))


def test_segment_sizes_and_shares():
    sizes = segment_sizes(_assignments()).to_pylist()
    assert sizes == [
        {"segment": "x", "customers": 3, "share": 3 / 8},
        {"segment": "y", "customers": 3, "share": 3 / 8},
        {"segment": "z", "customers": 2, "share": 2 / 8},
    ]


BEFORE = pa.table({"customer_id": ["A", "B", "C", "D"], "segment": ["x", "x", "y", "z"]})
AFTER = pa.table({"customer_id": ["A", "B", "C", "E"], "segment": ["x", "y", "y", "x"]})


def test_stability_hand_example():
    # in both: A (x → x kept), B (x → y moved), C (y → y kept); D gone, E new → 2 / 3
    got = segment_stability(BEFORE, AFTER)
    assert (got.customers_before, got.customers_after, got.customers_in_both, got.kept) == (
        4,
        4,
        3,
        2,
    )
    assert got.share == pytest.approx(2 / 3)


def test_stability_in_engine_and_empty_overlap(duckdb_con):
    b = duckdb_con.create_table("before", BEFORE)
    a = duckdb_con.create_table("after", AFTER)
    assert segment_stability(b, a) == segment_stability(BEFORE, AFTER)
    none = segment_stability(BEFORE.slice(3), AFTER.slice(3))
    assert none.customers_in_both == 0 and none.share is None


def test_validate_segmentation_bundles_all_three():
    v = validate_segmentation(_assignments(), _features(), previous=_assignments())
    assert v.sizes.num_rows == 3
    assert [r.metric for r in v.differences] == ["spend", "visits", "profit"]
    assert v.stability is not None and v.stability.share == 1.0
    assert validate_segmentation(_assignments(), _features()).stability is None


def test_segment_sizes_list_expected_segments_in_order_even_empty():
    sizes = segment_sizes(_assignments(), expected=["z", "w", "x"]).to_pylist()
    assert [(r["segment"], r["customers"]) for r in sizes] == [
        ("z", 2),
        ("w", 0),
        ("x", 3),
        ("y", 3),
    ]
    assert sizes[1]["share"] == 0.0
