"""R-CRR: the seed's example and a hand dataset on every backend; band edges."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from aftercare.config import RetentionConfig
from aftercare.pipeline.retention import (
    active_customers,
    crr,
    crr_band,
    crr_band_expr,
    crr_pct,
    crr_pct_expr,
)
from aftercare.pipeline.staging import resolved_orders
from conftest import load_tables
from factories import make_table

CONFIG = RetentionConfig()
Q1_START, Q1_END = dt.date(2024, 1, 1), dt.date(2024, 3, 31)


def order(oid: str, customer: str, day: str, total: float = 500.0) -> dict:
    return {"order_id": oid, "customer_id": customer, "open_date": day, "total_amount": total}


def seed_orders() -> list[dict]:
    """Seed 002, 2024 Q1: 3200 customers at start, 3450 at end, 400 new."""
    rows = [order(f"r{i}", f"R{i}", "2023-12-01") for i in range(3050)]  # stay
    rows += [order(f"l{i}", f"L{i}", "2023-01-05") for i in range(150)]  # 451 days at end: gone
    rows += [order(f"n{i}", f"N{i}", "2024-02-15") for i in range(400)]  # new in Q1
    return rows


HAND = [
    order("a1", "a", "2023-06-01"),
    order("a2", "a", "2024-02-01"),
    order("b1", "b", "2023-01-01"),  # exactly 365 days before start: a customer at start
    order("c1", "c", "2024-01-01"),  # first visit on period_start: not new (start exclusive)
    order("d1", "d", "2024-03-31"),  # first visit on period_end: new
    order("e1", "e", "2021-05-01"),
    order("e2", "e", "2024-02-10"),  # came back: reactivated, not new
    order("f1", "f", "2024-02-01", total=-300.0),  # refund only: no visit (R-IN-4)
    order("g1", "g", "2024-04-01"),  # after the period
    order("h1", "h", "2022-12-31"),  # 366 days before start
    order("i1", "i", "2023-02-01"),  # at start, lapsed by the end
]


@pytest.fixture(scope="module")
def crr_results(backend):
    t = load_tables(
        backend,
        {
            "seed": make_table("service_orders", seed_orders()),
            "hand": make_table("service_orders", HAND),
            "vehicles": make_table("vehicles", []),
        },
    )
    seed = resolved_orders(t["seed"], t["vehicles"])
    hand = resolved_orders(t["hand"], t["vehicles"])
    kwargs = {"period_start": Q1_START, "period_end": Q1_END, "config": CONFIG}
    active = active_customers(hand, as_of=Q1_START, window_days=CONFIG.active_window_days)
    return {
        "seed": crr(seed, **kwargs).to_pyarrow().to_pylist()[0],
        "hand": crr(hand, **kwargs).to_pyarrow().to_pylist()[0],
        "active": {r["customer_id"]: r for r in active.to_pyarrow().to_pylist()},
    }


def test_r_crr_seed_example_pure():
    # Seed 002: (3450 − 400) ÷ 3200 × 100 = 95.3 %.
    assert round(crr_pct(3200, 3450, 400), 1) == 95.3
    assert crr_band(crr_pct(3200, 3450, 400), CONFIG) == "excellent"
    assert crr_pct(0, 10, 2) is None


def test_r_crr_bands_and_gaps():
    got = {p: crr_band(p, CONFIG) for p in (90.0, 89.9, 88.0, 82.0, 81.9, 80.0, 79.9)}
    assert got == {
        90.0: "excellent",
        89.9: "good",
        88.0: "average",
        82.0: "average",
        81.9: "below_average",
        80.0: "below_average",
        79.9: "alert",
    }
    assert crr_band(None, CONFIG) is None


def test_r_crr_seed_example_in_engine(crr_results):
    row = crr_results["seed"]
    assert (row["customers_at_start"], row["customers_at_end"], row["new_customers"]) == (
        3200,
        3450,
        400,
    )
    assert row["crr_pct"] == pytest.approx(95.3125)
    assert row["band"] == "excellent"
    assert row["retained_customers"] == 3050


def test_r_crr_hand_dataset(crr_results):
    row = crr_results["hand"]
    # start: a b c i; end: a c d e; new: d; retained a c; reactivated e.
    assert row["customers_at_start"] == 4
    assert row["customers_at_end"] == 4
    assert row["new_customers"] == 1
    assert row["retained_customers"] == 2
    assert row["reactivated_customers"] == 1
    assert row["crr_pct"] == pytest.approx(75.0)  # (4 − 1) ÷ 4
    assert row["band"] == "alert"
    assert (row["period_start"], row["period_end"]) == (Q1_START, Q1_END)


def test_active_customers_trailing_window(crr_results):
    active = crr_results["active"]
    assert set(active) == {"a", "b", "c", "i"}
    assert active["a"]["last_visit_date"] == dt.date(2023, 6, 1)
    assert active["c"]["visits_in_window"] == 1


# (start, end, new) → (end − new) ÷ start × 100 lands exactly on each edge (floats exact here).
EDGE_COUNTS = {
    "c90": (50, 45, 0),  # 90.0
    "c89_8": (500, 459, 10),  # 89.8
    "c88": (50, 46, 2),  # 88.0
    "c82": (50, 41, 0),  # 82.0
    "c81_8": (500, 419, 10),  # 81.8
    "c80": (50, 40, 0),  # 80.0
    "c79_8": (500, 409, 10),  # 79.8
    "none": (0, 5, 1),  # nobody at start
}


def test_r_crr_band_edges_in_engine(backend):
    # R-CRR bands at 80 / 82 / 88 / 90 computed by the engine, from the same counts crr() uses.
    names = list(EDGE_COUNTS)
    counts = pa.table(
        {
            "case": names,
            "at_start": [EDGE_COUNTS[n][0] for n in names],
            "at_end": [EDGE_COUNTS[n][1] for n in names],
            "new": [EDGE_COUNTS[n][2] for n in names],
        }
    )
    t = load_tables(backend, {"counts": counts})["counts"]
    pct = crr_pct_expr(t.at_start, t.at_end, t.new)
    rows = t.select("case", pct=pct, band=crr_band_expr(pct, CONFIG)).to_pyarrow().to_pylist()
    got = {r["case"]: r["band"] for r in rows}
    assert got == {
        "c90": "excellent",
        "c89_8": "good",
        "c88": "average",
        "c82": "average",
        "c81_8": "below_average",
        "c80": "below_average",
        "c79_8": "alert",
        "none": None,
    }
    # the Python definition agrees on every value the engine computed
    assert all(crr_band(r["pct"], CONFIG) == r["band"] for r in rows)
    assert {r["case"]: r["pct"] for r in rows}["c88"] == pytest.approx(88.0)
