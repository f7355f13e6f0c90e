"""State rules of SPEC §6 (care, birthday, win-back, tier moves, custom) on hand-made fixtures.

As of Saturday 2024-06-15. Scores and churn reasons are given as small tables so each
tier, move and reason is set by hand.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pyarrow as pa
import pytest

from aftercare.config import DEFAULT_CONFIG, CustomRuleConfig
from aftercare.playbook import rules_state
from aftercare.playbook.model import action_id
from conftest import load_tables
from rule_inputs import load_rule_inputs, rule_context_of

# DuckDB and PostgreSQL: the action engine refuses a Spark lake (Store.require_transactions:
# actions need transactions), so the rules never run on Spark. They pass there (checked),
# but wiring a rule context on Spark costs ~60 s of the default suite.
pytestmark = pytest.mark.parametrize("backend", ["duckdb", "postgres"], indirect=True)

AS_OF = dt.date(2024, 6, 15)
D = dt.date.fromisoformat
VIN = "LSVAA4182E2000005"

CUSTOMERS = [
    {"customer_id": "C5"},
    {"customer_id": "C6", "birthday": "1992-02-29"},
    {"customer_id": "C7", "birthday": "1985-06-16"},
    {"customer_id": "C8", "birthday": "1980-06-16"},
]
ORDERS = [
    {"order_id": "O1", "vin": VIN, "open_date": "2024-03-10", "total_amount": 300},
    *[
        {"order_id": f"W{i}", "customer_id": f"W{i}", "open_date": "2023-01-05", "total_amount": 1}
        for i in range(1, 8)
    ],
]
SCORES = [
    # customer, tier, previous tier, move, r_score, total
    ("C6", "platinum", "platinum", "same", 5, 17),
    ("C7", "gold", "gold", "same", 4, 13),
    ("C8", "silver", "silver", "same", 4, 9),
    ("T1", "platinum", "gold", "up", 5, 16),
    ("T2", "silver", "platinum", "down", 3, 10),
    ("T3", "silver", "gold", "down", 3, 9),
    ("T4", "regular", "silver", "down", 2, 6),
    # R-TIER-HOLD: scored silver (below) but the effective tier is held at gold: no move.
    ("T5", "gold", "gold", "same", 3, 10),
]
#: The scorecard's tier where it differs from the effective one (R-TIER-HOLD).
SCORED_TIER = {"T5": "silver"}
CHURN = [
    # customer, tier, risk, reason, conversation
    ("W1", "lapsed", "medium", "passive", "winback"),
    ("W2", "lapsed", "high", "price", "winback"),
    ("W3", "regular", "high", "experience", "winback"),
    ("W4", "lapsed", "high", "passive", "trade_in"),
    ("W5", "lapsed", "high", "passive", "winback"),  # 3 failed attempts: stop
    ("W6", "lapsed", "high", "passive", "winback"),  # failed 10 days ago: wait
    ("W7", "lapsed", "high", "passive", "winback"),  # failed 40 days ago: attempt 2
]
ABSENCE = "2023-01-05"


def _winback_action(customer: str, attempt: int) -> dict:
    key = f"{customer}|{ABSENCE}|{attempt}"
    return {
        "action_id": action_id("A-WINBACK", key),
        "rule_id": "A-WINBACK",
        "trigger_key": key,
        "trigger_date": AS_OF,
        "customer_id": customer,
        "status": "done",
        "due_date": AS_OF,
    }


HISTORY = [
    *[_winback_action("W5", n) for n in (1, 2, 3)],
    _winback_action("W6", 1),
    _winback_action("W7", 1),
]
OUTCOMES = [
    *[(f"W5|{n}", "no_answer", dt.datetime(2024, 3, n)) for n in (1, 2, 3)],
    ("W6|1", "declined", dt.datetime(2024, 6, 5)),
    ("W7|1", "wrong_number", dt.datetime(2024, 5, 6)),
]


def _scores() -> pa.Table:
    return pa.table(
        {
            "customer_id": [s[0] for s in SCORES],
            "tier": [s[1] for s in SCORES],
            "scored_tier": [SCORED_TIER.get(s[0], s[1]) for s in SCORES],
            "previous_tier": [s[2] for s in SCORES],
            "move": [s[3] for s in SCORES],
            "r_score": pa.array([s[4] for s in SCORES], pa.int64()),
            "total_score": pa.array([s[5] for s in SCORES], pa.int64()),
            "risk_level": ["low"] * len(SCORES),
            "snapshot_date": pa.array([dt.date(2024, 6, 10)] * len(SCORES), pa.date32()),
        }
    )


def _churn() -> pa.Table:
    return pa.table(
        {
            "customer_id": [c[0] for c in CHURN],
            "tier": [c[1] for c in CHURN],
            "risk_level": [c[2] for c in CHURN],
            "churn_reason": [c[3] for c in CHURN],
            "reason_evidence": pa.nulls(len(CHURN), pa.string()),
            "conversation": [c[4] for c in CHURN],
        }
    )


@pytest.fixture(scope="module")
def ctx(backend):
    outcomes = [
        {
            "outcome_id": f"X{i}",
            "action_id": action_id("A-WINBACK", f"{k.split('|')[0]}|{ABSENCE}|{k.split('|')[1]}"),
            "result": result,
            "recorded_at": at,
        }
        for i, (k, result, at) in enumerate(OUTCOMES)
    ]
    tables, t = load_rule_inputs(
        backend,
        customers=CUSTOMERS,
        service_orders=ORDERS,
        vehicles=[{"vin": VIN, "customer_id": "C5", "delivery_date": "2020-01-01"}],
        actions=HISTORY,
        outcomes=outcomes,
    )
    base, _ = rule_context_of(tables, t, as_of=AS_OF, config=DEFAULT_CONFIG)
    given = load_tables(backend, {"scores": _scores(), "churn": _churn()})
    return dataclasses.replace(base, scores=given["scores"], churn=given["churn"])


def _rows(table) -> dict[str, dict]:
    return {r["trigger_key"]: r for r in table.to_pyarrow().to_pylist()}


RULES = DEFAULT_CONFIG.actions.rules


def test_a_birthday_platinum_high_gold_medium_29_feb_on_28th(ctx):
    rows = _rows(rules_state.birthday(ctx, RULES["A-BIRTHDAY"]))
    assert rows["C6|2023"]["trigger_date"] == D("2023-02-28")  # common year
    assert rows["C6|2024"]["trigger_date"] == D("2024-02-29")  # leap year
    assert rows["C6|2025"]["due_date"] == D("2025-02-27")
    assert rows["C6|2024"]["priority"] == "high"
    gold = rows["C7|2024"]
    assert (gold["due_date"], gold["priority"], gold["channel"]) == (
        D("2024-06-15"),
        "medium",
        "wechat",
    )
    assert gold["is_marketing"] is True
    assert not any(k.startswith("C8|") for k in rows)  # silver: no birthday call


def test_a_winback_channel_by_reason_attempts_and_stop(ctx):
    rows = _rows(rules_state.winback(ctx, RULES["A-WINBACK"]))
    by_customer = {r["customer_id"]: r for r in rows.values()}
    # W1: lapsed with a visit → preferred channel; W2 price → phone; W3 experience → manager.
    assert by_customer["W1"]["channel"] == "preferred"
    assert by_customer["W1"]["trigger_key"] == f"W1|{ABSENCE}|1"
    assert (by_customer["W2"]["channel"], by_customer["W2"]["assign_role"]) == ("phone", "advisor")
    assert (by_customer["W3"]["channel"], by_customer["W3"]["assign_role"]) == ("phone", "manager")
    assert by_customer["W1"]["due_date"] == AS_OF and by_customer["W1"]["priority"] == "medium"
    assert "W4" not in by_customer  # all vehicles gone: trade-in, not win-back
    assert "W5" not in by_customer  # 3 failed attempts: stop
    assert "W6" not in by_customer  # last failure 10 days ago: wait
    assert by_customer["W7"]["trigger_key"] == f"W7|{ABSENCE}|2"


def test_a_trade_in_for_customers_without_vehicles(ctx):
    rows = _rows(rules_state.trade_in(ctx, RULES["A-WINBACK"]))
    assert {r["customer_id"] for r in rows.values()} == {"W4"}


def test_a_tier_up_into_platinum_and_tier_down_from_platinum_or_gold(ctx):
    up = _rows(rules_state.tier_up(ctx, RULES["A-TIER-UP"]))
    assert list(up) == ["T1|gold|platinum|2024-06-10"]
    row = up["T1|gold|platinum|2024-06-10"]
    assert (row["due_date"], row["channel"], row["priority"]) == (D("2024-06-10"), "phone", "high")
    down = _rows(rules_state.tier_down(ctx, RULES["A-TIER-DOWN"]))
    assert {r["customer_id"] for r in down.values()} == {"T2", "T3"}  # T4 was silver


def test_r_tier_hold_no_tier_down_while_the_downgrade_is_held(ctx):
    """T5 scored silver under its effective gold: no move yet, so no A-TIER-DOWN call."""
    down = _rows(rules_state.tier_down(ctx, RULES["A-TIER-DOWN"]))
    assert "T5" not in {r["customer_id"] for r in down.values()}
    assert {r["customer_id"] for r in down.values()} == {"T2", "T3"}
    row = next(r for r in down.values() if r["customer_id"] == "T2")
    # the evidence records the effective tiers of the move and the snapshot's date
    assert '"previous_tier":"platinum"' in row["evidence"]
    assert '"tier":"silver"' in row["evidence"]
    assert '"scored_on":"2024-06-10"' in row["evidence"]


def test_custom_rule_condition_and_repeat(ctx):
    rule = CustomRuleConfig(
        rule_id="U-GOLD-PUSH", condition="tier in ['gold', 'platinum'] and r_score >= 5"
    )
    rows = _rows(rules_state.custom(ctx, rule))
    assert {r["customer_id"] for r in rows.values()} == {"C6", "T1"}
    assert rows["C6|2024-06-15"]["due_date"] == AS_OF
