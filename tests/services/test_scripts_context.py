"""The context of stored actions' scripts: customer, vehicle, advisor, tier, churn reason.

R-CHURN-REASON: a win-back's reason is the churn mart's and the engine's definition
(:func:`aftercare.pipeline.marts.churn_reasons_of`), on DuckDB and PostgreSQL stores.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa
import pytest

from aftercare.config import DEFAULT_CONFIG
from aftercare.playbook.scripts import render_scripts
from aftercare.schema.snapshots import CUSTOMER_SCORES
from aftercare.services.scripts import action_context
from aftercare.store import open_store
from aftercare.store.snapshots import replace_snapshot
from factories import make_table
from outcome_rows import make_actions


@pytest.fixture
def store(store_url):
    with open_store(store_url) as s:
        yield s


def test_action_context_gathers_customer_vehicle_advisor_and_churn_reason(store):
    store.con.insert("customers", make_table("customers", [
        {"customer_id": "C1", "name": "王伟", "phone": "13800138000", "language": "en"},
        {"customer_id": "C2", "name": "刘女士", "price_sensitivity": "high"},
        {"customer_id": "C3", "name": "赵总"},
    ]))  # fmt: skip
    store.con.insert("vehicles", make_table("vehicles", [
        {"vin": "LSVAA4182E2000001", "customer_id": "C1", "brand": "比亚迪", "model": "汉",
         "plate": "粤B12345", "delivery_date": "2024-05-25"},
    ]))  # fmt: skip
    store.con.insert("advisors", make_table("advisors", [
        {"advisor_id": "S1", "name": "李明"},
    ]))  # fmt: skip
    store.con.insert("interactions", make_table("interactions", [
        {"interaction_id": "I1", "customer_id": "C3", "ts": "2024-03-01 10:00:00",
         "type": "complaint"},
    ]))  # fmt: skip
    store.con.insert("actions", make_actions([
        {"action_id": "W", "rule_id": "A-WELCOME", "customer_id": "C1",
         "vin": "LSVAA4182E2000001", "advisor_id": "S1", "trigger_date": "2024-05-25",
         "due_date": "2024-06-01"},
        {"action_id": "P", "rule_id": "A-WINBACK", "customer_id": "C2", "advisor_id": "S1",
         "due_date": "2024-06-01"},
        {"action_id": "E", "rule_id": "A-WINBACK", "customer_id": "C3",
         "due_date": "2024-06-01"},
    ]))  # fmt: skip
    ctx = action_context(
        store, ["E", "W", "P", "missing"], config=DEFAULT_CONFIG, as_of=dt.date(2024, 6, 1)
    )
    rows = ctx.to_pylist()
    assert [r["action_id"] for r in rows] == ["E", "W", "P"]
    welcome = rows[1]
    assert (welcome["name"], welcome["brand"], welcome["plate"], welcome["advisor_name"]) == (
        "王伟", "比亚迪", "粤B12345", "李明",
    )  # fmt: skip
    assert "phone" not in ctx.column_names
    assert [r["churn_reason"] for r in rows] == ["experience", None, "price"]
    scripts = render_scripts(ctx, None, config=DEFAULT_CONFIG)
    assert "apologise" not in scripts[0] and "道歉" in scripts[0]  # C3 reads Chinese
    assert scripts[1].startswith("Hello 王伟, this is 李明")  # C1 reads English
    assert "原厂件" in scripts[2]


def _scores(day: str, tiers: dict[str, tuple[str, str]]) -> ibis.Table:
    """One hand-made snapshot: customer -> (effective tier, scored tier)."""
    rows = [
        {"as_of_date": dt.date.fromisoformat(day), "customer_id": c, "tier": t, "scored_tier": s}
        for c, (t, s) in tiers.items()
    ]
    return ibis.memtable(pa.Table.from_pylist(rows, schema=CUSTOMER_SCORES.to_pyarrow()))


def test_r_tier_hold_script_takes_the_tier_of_the_triggering_snapshot(store):
    """Issue 10: gold → platinum (Sep) → gold (Dec); the Sep A-TIER-UP, read in Dec, says platinum.

    C1's September snapshot: platinum; December: gold (a scored gold held twice). Actions:
    - U: A-TIER-UP of the September move (evidence tier platinum), created 2024-09-30;
    - M: A-MAINTENANCE created 2024-10-01, evidence without a tier → the September snapshot
      its run read (latest on or before 2024-10-01): platinum;
    - N: A-MAINTENANCE created 2025-01-02 → the December snapshot: gold;
    - O: A-MAINTENANCE created 2024-01-01, before any snapshot → the latest: gold.
    """
    store.con.insert("customers", make_table("customers", [
        {"customer_id": "C1", "name": "王伟", "language": "en"},
    ]))  # fmt: skip
    replace_snapshot(store, "customer_scores", dt.date(2024, 9, 30),
                     _scores("2024-09-30", {"C1": ("platinum", "platinum")}))  # fmt: skip
    replace_snapshot(store, "customer_scores", dt.date(2024, 12, 31),
                     _scores("2024-12-31", {"C1": ("gold", "gold")}))  # fmt: skip
    up_evidence = '{"previous_tier":"gold","tier":"platinum","scored_on":"2024-09-30"}'
    store.con.insert("actions", make_actions([
        {"action_id": "U", "rule_id": "A-TIER-UP", "customer_id": "C1",
         "trigger_date": "2024-09-30", "due_date": "2024-09-30", "created_on": "2024-09-30",
         "evidence": up_evidence},
        {"action_id": "M", "rule_id": "A-MAINTENANCE", "customer_id": "C1",
         "due_date": "2024-10-05", "created_on": "2024-10-01", "evidence": "{}"},
        {"action_id": "N", "rule_id": "A-MAINTENANCE", "customer_id": "C1",
         "due_date": "2025-01-05", "created_on": "2025-01-02", "evidence": "{}"},
        {"action_id": "O", "rule_id": "A-MAINTENANCE", "customer_id": "C1",
         "due_date": "2024-01-05", "created_on": "2024-01-01", "evidence": "{}"},
    ]))  # fmt: skip
    ctx = action_context(
        store, ["U", "M", "N", "O"], config=DEFAULT_CONFIG, as_of=dt.date(2025, 1, 5)
    )
    assert [r["tier"] for r in ctx.to_pylist()] == ["platinum", "platinum", "gold", "gold"]
    up_en = render_scripts(ctx.slice(0, 1), "en", config=DEFAULT_CONFIG)[0]
    up_zh = render_scripts(ctx.slice(0, 1), "zh-CN", config=DEFAULT_CONFIG)[0]
    assert "Welcome to our platinum customers" in up_en
    assert DEFAULT_CONFIG.scoring.service_levels["platinum"].en in up_en
    assert "恭喜您成为我们的白金客户" in up_zh and "黄金" not in up_zh
    # Rendered in December with the evidence's tier even if the row said gold.
    row = {**ctx.to_pylist()[0], "tier": "gold"}
    assert "platinum customers" in render_scripts([row], "en", config=DEFAULT_CONFIG)[0]
