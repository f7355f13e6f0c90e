"""Issue 11: incremental == full across daily score snapshots with tier moves.

A daily snapshot's ``previous_tier`` is the day before's tier, so the customers who moved
the day before change their ``previous_tier`` and ``move`` again the next day without a
move of their own. The incremental run does not plan them again for that
(:data:`aftercare.services.incremental.PLAN_SCORE_COLUMNS`), except a customer whose move
consent blocked: a full run no longer meets that trigger, so the incremental one must drop
it too. Two copies of the demo dealer (300 customers, seed 5) are scored every day; two
customers are made platinum movers on the first day (one of them may not be contacted); every
day the two ``actions`` tables and blocked counts must be equal.
"""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from aftercare.config import DEFAULT_CONFIG
from aftercare.services.actions import generate_actions
from aftercare.services.demo import run_demo
from aftercare.services.scoring import score_snapshot
from aftercare.store import open_store
from aftercare.store.transaction import execute

END = dt.date(2025, 6, 30)
START = dt.date(2025, 3, 3)
DAYS = 6


def _rows(store) -> list[dict]:
    rows = store.table("actions").to_pyarrow().to_pylist()
    return sorted(rows, key=lambda r: r["action_id"])


def _make_movers(store, day: dt.date, reachable: str, blocked: str) -> None:
    """``reachable`` and ``blocked`` moved up to platinum on ``day``; ``blocked`` is
    do-not-contact (its A-TIER-UP is blocked by consent)."""
    for customer in (reachable, blocked):
        execute(
            store,
            "UPDATE customer_scores SET tier = 'platinum', previous_tier = 'gold', move = 'up' "
            f"WHERE as_of_date = DATE '{day}' AND customer_id = '{customer}'",
        )
    execute(store, f"UPDATE customers SET do_not_contact = TRUE WHERE customer_id = '{blocked}'")


@pytest.fixture(scope="module")
def lockstep(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("incremental-snapshots")
    demo = run_demo(300, seed=5, as_of=END, out_dir=tmp / "demo", db=str(tmp / "a.duckdb"))
    assert demo.rejected == 0
    shutil.copy(tmp / "a.duckdb", tmp / "b.duckdb")
    full, incremental = open_store(str(tmp / "a.duckdb")), open_store(str(tmp / "b.duckdb"))
    scores = full.table("customer_scores")
    days, out = [], []
    movers: tuple[str, str] | None = None
    for i in range(DAYS):
        day = START + dt.timedelta(days=i)
        for store in (full, incremental):
            score_snapshot(store, day, DEFAULT_CONFIG)
        if movers is None:
            s = scores.filter(scores.as_of_date == day, scores.tier == "gold")
            picked = s.order_by("customer_id").customer_id.to_pyarrow().to_pylist()[:2]
            movers = (picked[0], picked[1])
            for store in (full, incremental):
                _make_movers(store, day, *movers)
        a = generate_actions(full, day, DEFAULT_CONFIG, full=True)
        b = generate_actions(incremental, day, DEFAULT_CONFIG)
        days.append(day)
        out.append((a, b, _rows(full), _rows(incremental)))
    full.close()
    incremental.close()
    return {"days": days, "runs": out, "movers": movers}


def test_the_first_day_had_a_tier_up_stored_and_one_blocked(lockstep):
    a, _b, rows, _ = lockstep["runs"][0]
    reachable, blocked = lockstep["movers"]
    ups = {r["customer_id"] for r in rows if r["rule_id"] == "A-TIER-UP"}
    assert reachable in ups and blocked not in ups
    assert a.blocked >= 1


def test_every_day_the_incremental_run_stores_and_blocks_what_the_full_run_does(lockstep):
    for day, (a, b, rows_a, rows_b) in zip(lockstep["days"], lockstep["runs"], strict=True):
        assert rows_a == rows_b, day
        assert (a.created, a.blocked, a.by_rule) == (b.created, b.blocked, b.by_rule), day


def test_the_daily_snapshots_plan_only_some_customers(lockstep):
    planned = [b.customers_planned for _a, b, _ra, _rb in lockstep["runs"]]
    assert planned[0] is None  # the store's first run plans everyone
    assert all(n is not None and n < 300 for n in planned[1:]), planned
