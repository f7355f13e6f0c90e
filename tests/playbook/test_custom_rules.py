"""Custom rule conditions: parsed with ast into Ibis, never evaluated or pasted into SQL."""

from __future__ import annotations

import ibis
import pyarrow as pa
import pytest

from aftercare.errors import ConfigError
from aftercare.playbook.custom_rules import condition_filter
from conftest import load_tables

SCORES = pa.table(
    {
        "customer_id": ["A", "B", "C", "D"],
        "tier": ["gold", "gold", "platinum", "lapsed"],
        "recency_days": pa.array([150, 30, None, 400], pa.int64()),
        "monetary": [6000.0, 12000.0, 20000.0, 0.0],
        "is_flag": [True, False, None, True],
    }
)


@pytest.fixture(scope="module")
def scores(backend) -> ibis.Table:
    return load_tables(backend, {"scores": SCORES})["scores"]


def _ids(scores: ibis.Table, condition: str) -> set[str]:
    expr = scores.filter(condition_filter("U-TEST", condition, scores))
    return set(expr.customer_id.to_pyarrow().to_pylist())


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("tier == 'gold' and recency_days > 120", {"A"}),
        ("tier in ['gold', 'platinum']", {"A", "B", "C"}),
        ("tier not in ('gold',)", {"C", "D"}),
        ("not (tier == 'gold') or monetary >= 12000", {"B", "C", "D"}),
        ("30 <= recency_days < 200", {"A", "B"}),
        ("recency_days > -1 and is_flag", {"A", "D"}),  # NULL recency is not > -1
        ("monetary != 0", {"A", "B", "C"}),
    ],
)
def test_condition_selects_hand_picked_customers(scores, condition, expected):
    assert _ids(scores, condition) == expected


@pytest.mark.parametrize(
    ("condition", "problem"),
    [
        ("tier == 'gold'; DROP TABLE actions", "not a valid condition"),
        ("tier == 'x' or 1=1 --", "not a valid condition"),
        ("__import__('os').system('rm -rf /')", "not a comparison"),
        ("tier.upper() == 'GOLD'", "literals are allowed"),
        ("monetary + 1 > 5", "literals are allowed"),
        ("customers == 1", "unknown column 'customers'"),
        ("tier == other_column", "unknown column"),
        ("tier in monetary", "'in' needs"),
        ("tier == 'a' if True else 1", "not a comparison"),
        ("'a' == 'a'", "at least one column"),
        ("lambda: 1", "not a comparison"),
        ("tier == 'gold' or tier[0] == 'g'", "literals are allowed"),
        ("", "empty"),
    ],
)
def test_injection_and_unsupported_syntax_rejected_with_rule_and_problem(condition, problem):
    with pytest.raises(ConfigError) as err:
        condition_filter("U-TEST", condition, ibis.memtable(SCORES))
    message = str(err.value)
    assert "U-TEST" in message and problem in message


def test_sql_text_inside_a_string_literal_is_only_a_value(scores):
    assert _ids(scores, "tier == \"gold' OR '1'='1\"") == set()
