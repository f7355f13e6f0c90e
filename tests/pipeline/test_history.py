"""Tier history between two hand-made snapshots on every backend (R-TIER-HIST)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from aftercare.config import DEFAULT_CONFIG
from aftercare.pipeline.history import migration_matrix, tier_moves, with_previous_tier
from conftest import load_tables

# ibis' PySpark to_pyarrow goes through pandas, whose 3.x reads a deprecated option.

# customer -> (tier at 2024-03-31, tier at 2024-06-30); None = absent from that snapshot.
TIERS: dict[str, tuple[str | None, str | None]] = {
    "plat_to_gold": ("platinum", "gold"),  # down, alert
    "plat_to_lapsed": ("platinum", "lapsed"),  # down, alert
    "gold_same_1": ("gold", "gold"),
    "gold_same_2": ("gold", "gold"),
    "gold_to_silver": ("gold", "silver"),  # down, alert
    "silver_to_gold": ("silver", "gold"),  # up
    "silver_to_regular": ("silver", "regular"),  # down, no alert
    "regular_to_lapsed": ("regular", "lapsed"),  # down, no alert
    "lapsed_to_platinum": ("lapsed", "platinum"),  # up
    "plat_same": ("platinum", "platinum"),
    "new_silver": (None, "silver"),  # new
    "gone_gold": ("gold", None),  # removed, no alert
}

# Hand-computed: (move, is_downgrade_alert) per customer.
MOVES: dict[str, tuple[str, bool]] = {
    "plat_to_gold": ("down", True),
    "plat_to_lapsed": ("down", True),
    "gold_same_1": ("same", False),
    "gold_same_2": ("same", False),
    "gold_to_silver": ("down", True),
    "silver_to_gold": ("up", False),
    "silver_to_regular": ("down", False),
    "regular_to_lapsed": ("down", False),
    "lapsed_to_platinum": ("up", False),
    "plat_same": ("same", False),
    "new_silver": ("new", False),
    "gone_gold": ("removed", False),
}

# Hand-computed migration matrix (non-empty cells only).
MATRIX: dict[tuple[str | None, str | None], tuple[str, int]] = {
    ("platinum", "gold"): ("down", 1),
    ("platinum", "lapsed"): ("down", 1),
    ("platinum", "platinum"): ("same", 1),
    ("gold", "gold"): ("same", 2),
    ("gold", "silver"): ("down", 1),
    ("silver", "gold"): ("up", 1),
    ("silver", "regular"): ("down", 1),
    ("regular", "lapsed"): ("down", 1),
    ("lapsed", "platinum"): ("up", 1),
    (None, "silver"): ("new", 1),
    ("gold", None): ("removed", 1),
}


def _snapshot(as_of: dt.date, position: int) -> pa.Table:
    rows = [(cid, tiers[position]) for cid, tiers in TIERS.items() if tiers[position]]
    return pa.table(
        {
            "as_of_date": pa.array([as_of] * len(rows), pa.date32()),
            "customer_id": pa.array([cid for cid, _ in rows], pa.string()),
            "total_score": pa.array([7] * len(rows), pa.int64()),
            "tier": pa.array([tier for _, tier in rows], pa.string()),
        }
    )


@pytest.fixture(scope="module")
def results(backend) -> dict[str, pa.Table]:
    """tier_moves, migration_matrix and with_previous_tier, once per backend."""
    t = load_tables(
        backend,
        {
            "previous": _snapshot(dt.date(2024, 3, 31), 0),
            "current": _snapshot(dt.date(2024, 6, 30), 1),
        },
    )
    return {
        "moves": tier_moves(t["previous"], t["current"], config=DEFAULT_CONFIG).to_pyarrow(),
        "matrix": migration_matrix(t["previous"], t["current"]).to_pyarrow(),
        "with_previous": with_previous_tier(t["current"], t["previous"]).to_pyarrow(),
    }


def test_r_tier_hist_moves_and_downgrade_alerts(results):
    moves = results["moves"]
    assert moves.schema.names == [
        "customer_id",
        "previous_tier",
        "tier",
        "move",
        "is_downgrade_alert",
    ]
    assert moves.schema.field("is_downgrade_alert").type == pa.bool_()
    got = {r["customer_id"]: r for r in moves.to_pylist()}
    assert set(got) == set(TIERS)
    for cid, (move, alert) in MOVES.items():
        row = got[cid]
        assert (row["previous_tier"], row["tier"]) == TIERS[cid], cid
        assert (row["move"], row["is_downgrade_alert"]) == (move, alert), cid


def test_r_tier_hist_migration_matrix(results):
    matrix = results["matrix"]
    assert matrix.schema.names == ["from_tier", "to_tier", "move", "customers"]
    got = {(r["from_tier"], r["to_tier"]): (r["move"], r["customers"]) for r in matrix.to_pylist()}
    assert got == MATRIX
    assert sum(count for _, count in got.values()) == len(TIERS)


def test_r_tier_hist_with_previous_tier(results):
    table = results["with_previous"]
    assert table.schema.names == [
        "as_of_date",
        "customer_id",
        "total_score",
        "tier",
        "previous_tier",
        "move",
    ]
    got = {r["customer_id"]: r for r in table.to_pylist()}
    # Grain of the current snapshot: the removed customer is not there.
    assert set(got) == {cid for cid, (_, cur) in TIERS.items() if cur}
    for cid, row in got.items():
        assert row["as_of_date"] == dt.date(2024, 6, 30)
        assert (row["previous_tier"], row["tier"]) == TIERS[cid], cid
        assert row["move"] == MOVES[cid][0], cid
