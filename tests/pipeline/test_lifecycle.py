"""R-LIFE lifecycle stages and their distribution on every backend (hand-computed)."""

from __future__ import annotations

import datetime as dt

import pytest

from aftercare.config import LifecycleConfig
from aftercare.pipeline.lifecycle import customer_lifecycle, stage_distribution
from conftest import load_tables
from factories import make_table

AS_OF = dt.date(2024, 3, 1)
PREVIOUS = dt.date(2023, 3, 1)
LONG_AGO = dt.date(2021, 1, 1)
CONFIG = LifecycleConfig()


def vin(n: int) -> str:
    return f"LSVLIFE{n:010d}"


VEHICLES = [
    # Exactly 1/3/5/8 years at AS_OF, and one day short of each.
    {"vin": vin(1), "customer_id": "A", "delivery_date": "2023-03-01"},
    {"vin": vin(2), "customer_id": "B", "delivery_date": "2023-03-02"},
    {"vin": vin(3), "customer_id": "C", "delivery_date": "2021-03-01"},
    {"vin": vin(4), "customer_id": "D", "delivery_date": "2021-03-02"},
    {"vin": vin(5), "customer_id": "E", "delivery_date": "2019-03-01"},
    {"vin": vin(6), "customer_id": "F", "delivery_date": "2019-03-02"},
    {"vin": vin(7), "customer_id": "G", "delivery_date": "2016-03-01"},
    {"vin": vin(8), "customer_id": "H", "delivery_date": "2016-03-02"},
    # I: the newest vehicle wins; one delivered after AS_OF is ignored.
    {"vin": vin(9), "customer_id": "I", "delivery_date": "2010-01-01"},
    {"vin": vin(10), "customer_id": "I", "delivery_date": "2023-06-01"},
    {"vin": vin(11), "customer_id": "I", "delivery_date": "2024-05-01"},
    # J: a newer but sold car does not make the customer "new" (R-VEHICLE-SOLD).
    {"vin": vin(12), "customer_id": "J", "delivery_date": "2015-01-01"},
    {"vin": vin(13), "customer_id": "J", "delivery_date": "2023-01-01", "status": "sold"},
    # K: only a scrapped car left.
    {"vin": vin(14), "customer_id": "K", "delivery_date": "2014-01-01", "status": "scrapped"},
    # L: car not delivered yet.
    {"vin": vin(15), "customer_id": "L", "delivery_date": "2024-05-01"},
]

EXPECTED_NOW = {
    "A": ("activation", 12),
    "B": ("new", 11),
    "C": ("growth", 36),
    "D": ("activation", 35),
    "E": ("mature", 60),
    "F": ("growth", 59),
    "G": ("decline", 96),
    "H": ("mature", 95),
    "I": ("new", 9),
    "J": ("decline", 110),
    "K": ("decline", 122),
}


@pytest.fixture(scope="module")
def lifecycle_results(backend):
    t = load_tables(backend, {"vehicles": make_table("vehicles", VEHICLES)})
    now = customer_lifecycle(t["vehicles"], as_of=AS_OF, config=CONFIG)
    before = customer_lifecycle(t["vehicles"], as_of=PREVIOUS, config=CONFIG)
    long_ago = customer_lifecycle(t["vehicles"], as_of=LONG_AGO, config=CONFIG)
    return {
        "now": {r["customer_id"]: r for r in now.to_pyarrow().to_pylist()},
        "dist": {
            r["stage"]: r
            for r in stage_distribution(now, before, config=CONFIG).to_pyarrow().to_pylist()
        },
        "dist_long": {
            r["stage"]: r
            for r in stage_distribution(now, long_ago, config=CONFIG).to_pyarrow().to_pylist()
        },
    }


def test_r_life_stage_boundaries_exact_anniversaries(lifecycle_results):
    now = lifecycle_results["now"]
    got = {c: (r["stage"], r["vehicle_age_months"]) for c, r in now.items()}
    assert got == EXPECTED_NOW  # L (not delivered yet) has no row
    assert now["C"]["vehicle_age_years"] == pytest.approx(3.0)
    assert now["A"]["as_of_date"] == AS_OF


def test_r_life_newest_vehicle_wins_and_sold_vehicles_step_aside(lifecycle_results):
    now = lifecycle_results["now"]
    assert now["I"]["vin"] == vin(10)
    assert now["J"]["vin"] == vin(12) and now["J"]["has_active_vehicle"] is True
    assert now["K"]["has_active_vehicle"] is False


def test_r_life_stage_distribution_change_vs_previous(lifecycle_results):
    dist = lifecycle_results["dist"]
    # Previous (2023-03-01): new A; activation C D; growth E F; mature G H; decline I J K.
    got = {s: (r["customers"], r["previous_customers"], r["change"]) for s, r in dist.items()}
    assert got == {
        "new": (2, 1, 1),
        "activation": (2, 2, 0),
        "growth": (2, 2, 0),
        "mature": (2, 2, 0),
        "decline": (3, 3, 0),
    }
    assert dist["new"]["change_pct"] == pytest.approx(100.0)
    assert dist["growth"]["change_pct"] == pytest.approx(0.0)
    assert dist["decline"]["share"] == pytest.approx(3 / 11)
    assert [s for s, _ in sorted(dist.items(), key=lambda kv: kv[1]["stage_order"])] == [
        "new",
        "activation",
        "growth",
        "mature",
        "decline",
    ]


def test_r_life_stage_distribution_empty_previous_stage(lifecycle_results):
    dist = lifecycle_results["dist_long"]
    # 2021-01-01: activation E F (22, 21 months); growth G H (58, 57); mature J K (72, 84);
    # decline I; no customer was new.
    got = {s: (r["previous_customers"], r["change_pct"]) for s, r in dist.items()}
    assert got["new"] == (0, None)
    assert got["activation"] == (2, pytest.approx(0.0))
    assert got["growth"] == (2, pytest.approx(0.0))
    assert got["mature"] == (2, pytest.approx(0.0))
    assert got["decline"] == (1, pytest.approx(200.0))
