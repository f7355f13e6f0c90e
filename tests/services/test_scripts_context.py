"""The context of stored actions' scripts: customer, vehicle, advisor, tier, churn reason.

R-CHURN-REASON: a win-back's reason is the churn mart's and the engine's definition
(:func:`aftercare.pipeline.marts.churn_reasons_of`), on DuckDB and PostgreSQL stores.
"""

from __future__ import annotations

import datetime as dt

import pytest

from aftercare.config import DEFAULT_CONFIG
from aftercare.playbook.scripts import render_scripts
from aftercare.services.scripts import action_context
from aftercare.store import open_store
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
