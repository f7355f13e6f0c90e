"""A-INSPECTION (optional, issue 10): the annual inspection (年检) by China's schedule.

As of 2024-06-15, with the rule's defaults (call 30 days before, catch-up 30 days): the
inspection returned is the first one on or after 2024-06-15.
"""

from __future__ import annotations

import datetime as dt

import pytest

from aftercare.config import OPTIONAL_RULES, Config
from aftercare.playbook import rules
from rule_inputs import load_rule_inputs, rule_context_of

ENGINES = pytest.mark.parametrize("backend", ["duckdb", "postgres"], indirect=True)

AS_OF = dt.date(2024, 6, 15)
D = dt.date.fromisoformat
# delivery date -> the next inspection worked by hand
CASES = {
    "LSVAA4182E2000101": ("2024-06-10", "2026-06-10"),  # new: first at 2 years
    "LSVAA4182E2000102": ("2020-01-01", "2026-01-01"),  # 4.5 years: on-site at 6
    "LSVAA4182E2000103": ("2021-07-01", "2025-07-01"),  # 3 years: every 2 years, at 4
    "LSVAA4182E2000104": ("2012-03-20", "2025-03-20"),  # 12.2 years: yearly, at 13
    "LSVAA4182E2000105": ("2008-01-10", "2024-07-10"),  # 16.4 years: every 6 months, 16.5
    "LSVAA4182E2000106": ("2022-06-15", "2024-06-15"),  # 2 years today: due 05-16, still on
}


@pytest.fixture
def fired(backend):
    vehicles = [
        {"vin": vin, "customer_id": f"C{i}", "delivery_date": delivered}
        for i, (vin, (delivered, _)) in enumerate(CASES.items())
    ]
    tables, t = load_rule_inputs(
        backend, customers=[{"customer_id": f"C{i}"} for i in range(len(CASES))], vehicles=vehicles
    )
    config = Config()
    ctx, _ = rule_context_of(tables, t, as_of=AS_OF, config=config)
    rows = rules.inspection(ctx, OPTIONAL_RULES["A-INSPECTION"]).to_pyarrow().to_pylist()
    return {r["vin"]: r for r in rows}


@ENGINES
def test_a_inspection_next_date_by_chinas_schedule(fired):
    assert {vin: r["trigger_date"] for vin, r in fired.items()} == {
        vin: D(due) for vin, (_, due) in CASES.items()
    }


@ENGINES
def test_a_inspection_call_30_days_before_low_priority(fired):
    row = fired["LSVAA4182E2000105"]
    assert row["due_date"] == D("2024-06-10")
    assert (row["channel"], row["priority"], row["is_marketing"]) == ("phone", "low", False)
    assert row["trigger_key"] == "LSVAA4182E2000105|inspection|2024-07-10"


def test_a_inspection_runs_only_when_named():
    assert "A-INSPECTION" not in Config().actions.rules
    named = Config.model_validate({"actions": {"rules": {"A-INSPECTION": {}}}})
    assert named.actions.rules["A-INSPECTION"].offset_days == -30
