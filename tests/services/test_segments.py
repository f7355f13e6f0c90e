"""services.segments on DuckDB and PostgreSQL stores (SPEC §8, R-SEG-VALID).

C1..C5 spend i × 1000 over i visits in 2024 H1; C6 never visits. Scored at 2024-06-30 and
2024-07-31, so the latest snapshot has a previous one to compare with.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest

from aftercare.config import DEFAULT_CONFIG
from aftercare.errors import AftercareError
from aftercare.services.scoring import score_snapshot
from aftercare.services.segments import NO_SCORES, build_segment_features, segment_snapshot
from aftercare.store import open_store
from factories import make_table

JUNE, JULY = dt.date(2024, 6, 30), dt.date(2024, 7, 31)


def _vin(i: int) -> str:
    return f"LSVSEGMENTSVC000{i}"


@pytest.fixture(scope="module")
def url(shared_store_url):
    for store_url in [shared_store_url]:
        with open_store(store_url) as s:
            s.con.insert("customers", make_table("customers", [
                {"customer_id": f"C{i}"} for i in range(1, 7)
            ]))  # fmt: skip
            s.con.insert("vehicles", make_table("vehicles", [
                {"vin": _vin(i), "customer_id": f"C{i}", "delivery_date": "2020-01-01"}
                for i in range(1, 7)
            ]))  # fmt: skip
            s.con.insert("service_orders", make_table("service_orders", [
                {"order_id": f"RO{i}{j}", "vin": _vin(i), "open_date": f"2024-0{j}-1{i}",
                 "total_amount": 1000, "payer": "customer"}
                for i in range(1, 6)
                for j in range(1, i + 1)
            ]))  # fmt: skip
            for day in (JUNE, JULY):
                score_snapshot(s, day, DEFAULT_CONFIG)
        yield store_url


@pytest.fixture
def store(url):
    with open_store(url, create=False) as s:
        yield s


def test_no_scores_is_an_error(tmp_path):
    with (
        open_store(str(tmp_path / "empty.duckdb")) as empty,
        pytest.raises(AftercareError, match="^" + NO_SCORES + "$"),
    ):
        segment_snapshot(empty, "rfm-quintile", DEFAULT_CONFIG)


def test_features_one_row_per_scored_customer(store):
    features = build_segment_features(store, JUNE, DEFAULT_CONFIG).to_pyarrow().to_pylist()
    assert len(features) == 6
    assert {r["customer_id"]: int(r["monetary"]) for r in features} == {
        "C1": 1000, "C2": 2000, "C3": 3000, "C4": 4000, "C5": 5000, "C6": 0,
    }  # fmt: skip


def test_rfm_quintiles_default_to_the_latest_snapshot_and_compare_with_the_one_before(store):
    run = segment_snapshot(store, "rfm-quintile", DEFAULT_CONFIG)
    assert (run.scheme, run.as_of, run.previous_as_of) == ("rfm-quintile", JULY, JUNE)
    assert run.customers == 6 and run.kmeans is None
    spend = next(t for t in run.validation.differences if t.metric == "spend")
    assert spend.column == "monetary" and not math.isnan(spend.h)
    # one month on, nobody's relative position changed (C6 stays never visited)
    stability = run.validation.stability
    assert stability is not None
    assert (stability.customers_in_both, stability.share) == (6, 1.0)


def test_pyramid_at_the_first_snapshot_lists_every_level(store):
    run = segment_snapshot(store, "pyramid", DEFAULT_CONFIG, as_of=JUNE)
    assert (run.as_of, run.previous_as_of) == (JUNE, None)
    assert run.validation.stability is None
    sizes = {r["segment"]: r["customers"] for r in run.validation.sizes.to_pylist()}
    # 6 customers: top ≤ ceil(0.3) = 1, next ≤ 2, middle ≤ 3, lower ≤ ceil(5.4) = 6: bottom empty
    assert sizes == {"top_5": 1, "next_15": 1, "middle_30": 1, "lower_40": 3, "bottom_10": 0}


def test_kmeans_keeps_its_fit_and_clusters_the_previous_snapshot_alike(store):
    run = segment_snapshot(store, "kmeans", DEFAULT_CONFIG, k=2)
    assert run.kmeans is not None and run.kmeans.k == 2
    sizes = run.validation.sizes.to_pylist()
    assert [r["segment"] for r in sizes] == ["cluster_0", "cluster_1"]
    assert sum(r["customers"] for r in sizes) == 6
    stability = run.validation.stability
    assert stability is not None and stability.customers_in_both == 6


def test_a_date_without_a_snapshot_is_an_error(store):
    with pytest.raises(AftercareError, match="no scores as of 2024-05-31"):
        segment_snapshot(store, "pyramid", DEFAULT_CONFIG, as_of=dt.date(2024, 5, 31))
