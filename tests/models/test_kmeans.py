"""SPEC §8 k-means: recovers well-separated blobs, orders labels by value, picks k by silhouette."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from aftercare.config import Config, SegmentationConfig
from aftercare.errors import AftercareError
from aftercare.models import segment_customers
from aftercare.models.kmeans import (
    best_k,
    kmeans_inputs,
    kmeans_segments,
    order_labels_by_value,
    silhouette_by_k,
    standardise,
)

CONFIG = Config()

# Four customer groups, far apart on every feature: (count, monetary, frequency, recency_days,
# net_profit); the last group never visited (recency NULL, nothing spent).
BLOBS = {
    "vip": (20, 20000.0, 8, 15, 8000.0),
    "steady": (30, 3000.0, 3, 120, 900.0),
    "occasional": (40, 300.0, 1, 330, -50.0),
    "never": (15, 0.0, 0, None, 0.0),
}
VALUE_ORDER = ["vip", "steady", "occasional", "never"]  # by mean monetary, highest first


def _blobs(seed: int = 7) -> tuple[pa.Table, dict[str, str]]:
    rng = np.random.default_rng(seed)
    ids, rec, freq, mon, profit, truth = [], [], [], [], [], {}
    for name, (n, m, f, r, p) in BLOBS.items():
        for i in range(n):
            cid = f"{name[:2].upper()}{i:03d}"
            ids.append(cid)
            truth[cid] = name
            jitter = rng.normal(0, 0.03)
            mon.append(Decimal(f"{m * (1 + jitter):.2f}") if m else Decimal("0"))
            freq.append(f)
            rec.append(None if r is None else int(r + rng.integers(-5, 6)))
            profit.append(p * (1 + rng.normal(0, 0.03)))
    table = pa.table(
        {
            "customer_id": ids,
            "recency_days": pa.array(rec, pa.int64()),
            "frequency": pa.array(freq, pa.int64()),
            "monetary": pa.array(mon, pa.decimal128(18, 2)),
            "net_profit": pa.array(profit, pa.float64()),
        }
    )
    return table, truth


@pytest.fixture(scope="module")
def fitted():
    table, truth = _blobs()
    return kmeans_segments(table, config=CONFIG), truth, table


def test_kmeans_recovers_blobs_with_labels_ordered_by_value(fitted):
    result, truth, _ = fitted
    assert result.k == CONFIG.segmentation.kmeans_k == 4
    rows = result.assignments.to_pylist()
    assert len(rows) == len(truth)
    by_group: dict[str, set[int]] = {}
    for r in rows:
        by_group.setdefault(truth[r["customer_id"]], set()).add(r["cluster"])
    # each true group is exactly one cluster, and label 0 is the highest-spending group
    assert {g: c for g, c in by_group.items()} == {g: {i} for i, g in enumerate(VALUE_ORDER)}
    assert {r["segment"] for r in rows} == {f"cluster_{i}" for i in range(4)}
    assert {r["scheme"] for r in rows} == {"kmeans"}


def test_kmeans_profile_is_in_original_units_and_descends_by_monetary(fitted):
    result, _, _ = fitted
    profile = result.profile.to_pylist()
    assert [p["customers"] for p in profile] == [BLOBS[g][0] for g in VALUE_ORDER]
    means = [p["mean_monetary"] for p in profile]
    assert means == sorted(means, reverse=True)
    assert profile[0]["mean_monetary"] == pytest.approx(20000, rel=0.05)
    # never visited: recency is window + 1
    assert profile[3]["mean_recency_days"] == CONFIG.scoring.window_days + 1


def test_silhouette_picks_the_true_k(fitted):
    result, _, _ = fitted
    assert sorted(result.silhouette) == list(range(2, 9))
    assert result.best_k == 4
    assert result.silhouette[4] > 0.8


def test_kmeans_auto_k_and_explicit_k():
    table, _ = _blobs(seed=3)
    auto = kmeans_segments(table, config=CONFIG, k="auto")
    assert auto.k == auto.best_k == 4
    two = kmeans_segments(table, config=Config(segmentation=SegmentationConfig(kmeans_k=2)), k=None)
    assert two.k == 2 and two.profile.num_rows == 2


def test_kmeans_same_result_whatever_the_row_order(fitted):
    result, _, table = fitted
    shuffled = table.take(np.random.default_rng(1).permutation(table.num_rows))
    again = kmeans_segments(shuffled, config=CONFIG)
    assert again.assignments.equals(result.assignments)


def test_segment_customers_kmeans_on_an_engine_table(duckdb_con, fitted):
    result, _, table = fitted
    features = duckdb_con.create_table("features", table)
    got = segment_customers(features, "kmeans", CONFIG)
    assert isinstance(got, pa.Table)
    assert got.equals(result.assignments)


def test_segment_customers_unknown_scheme(duckdb_con, fitted):
    features = duckdb_con.create_table("features2", fitted[2])
    with pytest.raises(ValueError, match="unknown segmentation scheme"):
        segment_customers(features, "decile", CONFIG)  # type: ignore[arg-type]


def test_too_few_distinct_customers_for_k():
    table, _ = _blobs()
    same = table.filter(pc.starts_with(table.column("customer_id"), "NE"))
    with pytest.raises(AftercareError, match="cannot make 4 clusters of 1 distinct"):
        kmeans_segments(same, config=CONFIG)


def test_kmeans_inputs_fill_never_and_clip_refunds(duckdb_con):
    t = pa.table(
        {
            "customer_id": ["A", "B"],
            "recency_days": pa.array([None, 10], pa.int64()),
            "frequency": pa.array([0, 2], pa.int64()),
            "monetary": pa.array([Decimal("-50.00"), Decimal("100.00")], pa.decimal128(18, 2)),
            "net_profit": pa.array([None, 20.0], pa.float64()),
        }
    )
    rows = kmeans_inputs(duckdb_con.create_table("ki", t), window_days=365).to_pyarrow()
    got = {r["customer_id"]: r for r in rows.to_pylist()}
    assert got["A"]["recency_days"] == 366.0
    assert got["A"]["monetary_floor0"] == 0.0 and got["A"]["monetary"] == -50.0
    assert got["A"]["net_profit"] == 0.0
    assert got["B"]["monetary_floor0"] == 100.0


def test_standardise_z_scores_and_constant_column():
    x = np.array([[1.0, 5.0], [3.0, 5.0]])
    z = standardise(x)
    np.testing.assert_allclose(z, [[-1.0, 0.0], [1.0, 0.0]])


def test_order_labels_by_value():
    labels = np.array([2, 2, 0, 1])
    monetary = np.array([10.0, 12.0, 1.0, 5.0])  # means: 2 → 11, 1 → 5, 0 → 1
    got = order_labels_by_value(labels, monetary, np.zeros(4))
    assert got.tolist() == [0, 0, 2, 1]
    # equal mean monetary: net profit decides
    tie = order_labels_by_value(np.array([0, 1]), np.array([5.0, 5.0]), np.array([1.0, 9.0]))
    assert tie.tolist() == [1, 0]


def test_silhouette_sample_and_best_k():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    z = np.vstack([c + rng.normal(0, 0.2, size=(400, 2)) for c in centres])
    scores = silhouette_by_k(z, k_range=(2, 5), sample_size=300)
    assert best_k(scores) == 3
    assert best_k({}) is None
    assert best_k({2: 0.5, 3: 0.5}) == 2
