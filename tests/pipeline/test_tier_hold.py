"""Held downgrades over a hand-made sequence of snapshots, on every backend (R-TIER-HOLD).

Each quarter's scorecard tier is given by hand; :func:`effective_tiers` and
:func:`with_previous_tier` are applied quarter by quarter as ``aftercare score`` does (the
previous result stored, i.e. loaded back into the backend), and the effective tiers and moves
are compared with the ones worked out below.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from aftercare.config import DEFAULT_CONFIG, Config
from aftercare.pipeline.history import effective_tiers, with_previous_tier
from conftest import load_tables

QUARTERS = (
    dt.date(2024, 3, 31),
    dt.date(2024, 6, 30),
    dt.date(2024, 9, 30),
    dt.date(2024, 12, 31),
    dt.date(2025, 3, 31),
)
P, G, S, R, L = "platinum", "gold", "silver", "regular", "lapsed"

# customer -> the scorecard's tier at each quarter (None: not yet a customer).
SCORED: dict[str, tuple[str | None, ...]] = {
    "up_at_once": (S, G, P, P, P),
    "one_dip_each_time": (G, S, G, S, G),
    "two_quarters_down": (P, G, G, G, G),
    "dip_then_deeper": (P, G, S, S, S),
    "deeper_then_less": (G, R, S, S, S),
    "dip_then_up": (G, S, P, S, S),
    "gold_plat_gold": (G, P, G, G, P),  # issue 10: gold → platinum (Sep) → gold (Dec)
    "new_later": (None, None, S, L, L),
    "steady_lapsed": (L, L, L, L, L),
}

# Hand-worked effective tiers with downgrade_hold_snapshots = 2: up at once; down when the
# scored tier is below the effective one in this quarter and the one before, to the higher
# of the two scored tiers.
EFFECTIVE_HOLD_2: dict[str, tuple[str | None, ...]] = {
    "up_at_once": (S, G, P, P, P),
    "one_dip_each_time": (G, G, G, G, G),  # never lower two quarters running
    "two_quarters_down": (P, P, G, G, G),  # Q2 held, Q3 the second gold: down
    "dip_then_deeper": (P, P, G, S, S),  # Q3: max(gold, silver) = gold; Q4: silver twice
    "deeper_then_less": (G, G, S, S, S),  # Q3: max(regular, silver) = silver
    "dip_then_up": (G, G, P, P, S),  # Q3 up at once; Q5 silver twice below platinum
    "gold_plat_gold": (G, P, P, G, P),
    "new_later": (None, None, S, S, L),  # new: scored tier at once, then held like anyone
    "steady_lapsed": (L, L, L, L, L),
}
MOVES_HOLD_2: dict[str, tuple[str | None, ...]] = {
    "up_at_once": ("new", "up", "up", "same", "same"),
    "one_dip_each_time": ("new", "same", "same", "same", "same"),
    "two_quarters_down": ("new", "same", "down", "same", "same"),
    "dip_then_deeper": ("new", "same", "down", "down", "same"),
    "deeper_then_less": ("new", "same", "down", "same", "same"),
    "dip_then_up": ("new", "same", "up", "same", "down"),
    "gold_plat_gold": ("new", "up", "same", "down", "up"),
    "new_later": (None, None, "new", "same", "down"),
    "steady_lapsed": ("new", "same", "same", "same", "same"),
}
# downgrade_hold_snapshots = 3: below for three quarters running (this one and two before).
EFFECTIVE_HOLD_3: dict[str, tuple[str | None, ...]] = {
    "up_at_once": (S, G, P, P, P),
    "one_dip_each_time": (G, G, G, G, G),
    "two_quarters_down": (P, P, P, G, G),  # Q4: Q2–Q4 gold
    "dip_then_deeper": (P, P, P, G, S),  # Q4: max(gold, silver, silver); Q5: silver ×3 < gold
    "deeper_then_less": (G, G, G, S, S),  # Q4: max(regular, silver, silver)
    "dip_then_up": (G, G, P, P, P),  # Q4–Q5 only two quarters below platinum
    "gold_plat_gold": (G, P, P, P, P),
    "new_later": (None, None, S, S, S),  # Q5: the 2024-06-30 snapshot did not hold them
    "steady_lapsed": (L, L, L, L, L),
}


def _scored(quarter: int) -> pa.Table:
    rows = [(cid, tiers[quarter]) for cid, tiers in SCORED.items() if tiers[quarter]]
    return pa.table(
        {
            "as_of_date": pa.array([QUARTERS[quarter]] * len(rows), pa.date32()),
            "customer_id": pa.array([cid for cid, _ in rows], pa.string()),
            "total_score": pa.array([7] * len(rows), pa.int64()),
            "tier": pa.array([tier for _, tier in rows], pa.string()),
        }
    )


def _run(backend, hold: int) -> list[dict[str, dict]]:
    """Each quarter's stored rows by customer, scored in date order as ``score`` does."""
    config = Config.model_validate({"scoring": {"downgrade_hold_snapshots": hold}})
    stored: list = []  # backend tables, oldest first
    out = []
    for quarter in range(len(QUARTERS)):
        current = load_tables(backend, {"current": _scored(quarter)})["current"]
        history = list(reversed(stored))
        effective = effective_tiers(current, history, config=config)
        previous = history[0] if history else current.filter(current.customer_id.isnull())
        rows = with_previous_tier(effective, previous).to_pyarrow()
        out.append({r["customer_id"]: r for r in rows.to_pylist()})
        stored.append(load_tables(backend, {"stored": rows})["stored"])
    return out


def _by_customer(runs: list[dict[str, dict]], column: str) -> dict[str, tuple]:
    return {cid: tuple(run[cid][column] if cid in run else None for run in runs) for cid in SCORED}


@pytest.fixture(scope="module")
def hold_2(backend) -> list[dict[str, dict]]:
    return _run(backend, 2)


def test_r_tier_hold_upgrade_at_once_downgrade_after_two_snapshots(hold_2):
    assert _by_customer(hold_2, "tier") == EFFECTIVE_HOLD_2
    assert _by_customer(hold_2, "scored_tier") == SCORED  # the raw tier kept beside it


def test_r_tier_hold_moves_on_effective_tier(hold_2):
    assert _by_customer(hold_2, "move") == MOVES_HOLD_2
    previous = _by_customer(hold_2, "previous_tier")
    for cid, tiers in EFFECTIVE_HOLD_2.items():
        assert previous[cid][1:] == tiers[:-1], cid  # previous = last quarter's effective


def test_r_tier_hold_columns(backend):
    current = load_tables(backend, {"c": _scored(0)})["c"]
    out = effective_tiers(current, [], config=DEFAULT_CONFIG)
    assert out.columns == (*current.columns, "scored_tier")
    assert DEFAULT_CONFIG.scoring.downgrade_hold_snapshots == 2  # the default


@pytest.mark.parametrize("hold", [0, 1])
def test_r_tier_hold_zero_or_one_is_immediate(backend, hold):
    runs = _run(backend, hold)
    assert _by_customer(runs, "tier") == SCORED
    assert _by_customer(runs, "scored_tier") == SCORED


def test_r_tier_hold_three_snapshots(backend):
    assert _by_customer(_run(backend, 3), "tier") == EFFECTIVE_HOLD_3


def test_r_tier_hold_config_refuses_negative():
    with pytest.raises(ValueError, match="downgrade_hold_snapshots"):
        Config.model_validate({"scoring": {"downgrade_hold_snapshots": -1}})
