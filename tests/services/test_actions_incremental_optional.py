"""Issue 11: incremental == full with the optional rules and a custom rule switched on.

``test_actions_incremental.py`` proves it for the default playbook through imports and
outcomes; this one adds what it cannot reach: A-INSPECTION (its date is picked relative to
as-of, so the customer must wake when the next inspection becomes the one), A-TRADE-IN
(customers lost with every car sold or scrapped) and a custom rule repeating every 14 days
(its customers wake ``repeat_after_days`` after their last action). Two copies of the demo
dealer (300 customers, seed 5) run daily for ``DAYS`` days — one planning every customer,
one incremental — with a snapshot on the 1st of each month; every day the two ``actions``
tables must be equal.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter

import pytest

from aftercare.config import Config
from aftercare.services.actions import generate_actions
from aftercare.services.demo import run_demo
from aftercare.services.scoring import score_snapshot
from aftercare.store import open_store

END = dt.date(2025, 6, 30)
START = dt.date(2024, 12, 20)  # crosses a new year
DAYS = 45
CUSTOM = "U-GOLD-CHAT"
CONFIG = Config.model_validate(
    {
        "actions": {
            "rules": {"A-INSPECTION": {}, "A-TRADE-IN": {}},
            "custom_rules": [
                {"rule_id": CUSTOM, "condition": "tier == 'gold'", "repeat_after_days": 14}
            ],
        }
    }
)


def _rows(store) -> list[dict]:
    rows = store.table("actions").to_pyarrow().to_pylist()
    return sorted(rows, key=lambda r: r["action_id"])


@pytest.fixture(scope="module")
def lockstep(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("incremental-optional")
    demo = run_demo(300, seed=5, as_of=END, out_dir=tmp / "demo", db=str(tmp / "a.duckdb"))
    shutil.copy(tmp / "a.duckdb", tmp / "b.duckdb")
    full, incremental = open_store(str(tmp / "a.duckdb")), open_store(str(tmp / "b.duckdb"))
    assert demo.rejected == 0
    first_difference = None
    planned: list[int | None] = []
    for i in range(DAYS):
        day = START + dt.timedelta(days=i)
        if i == 0 or day.day == 1:
            for store in (full, incremental):
                score_snapshot(store, day, CONFIG)
        a = generate_actions(full, day, CONFIG, full=True)
        b = generate_actions(incremental, day, CONFIG)
        planned.append(b.customers_planned)
        rows_a, rows_b = _rows(full), _rows(incremental)
        if first_difference is None and (rows_a != rows_b or a.blocked != b.blocked):
            only_a = {r["action_id"] for r in rows_a} - {r["action_id"] for r in rows_b}
            only_b = {r["action_id"] for r in rows_b} - {r["action_id"] for r in rows_a}
            first_difference = (day, sorted(only_a)[:5], sorted(only_b)[:5], a.blocked, b.blocked)
    stored = _rows(full)
    rules = Counter(r["rule_id"] for r in stored)
    custom = Counter(r["customer_id"] for r in stored if r["rule_id"] == CUSTOM)
    full.close()
    incremental.close()
    return {
        "difference": first_difference,
        "rules": rules,
        "custom_per_customer": custom,
        "planned": planned,
    }


def test_incremental_runs_store_what_full_runs_store(lockstep):
    assert lockstep["difference"] is None, lockstep["difference"]


def test_the_optional_rules_fired_and_runs_were_incremental(lockstep):
    assert lockstep["rules"]["A-INSPECTION"] > 0
    # Every run but the store's first planned only some customers.
    assert lockstep["planned"][0] is None
    assert all(p is not None and p < 300 for p in lockstep["planned"][1:])


def test_the_custom_rule_repeated_for_a_customer(lockstep):
    # 45 days with a repeat every 14: a gold customer who stays gold is asked again, woken
    # by the repeat date alone.
    assert max(lockstep["custom_per_customer"].values()) >= 3
