"""R-ACT-CONSENT: two preference rows with the same ``set_at``, one an opt-out.

``pipeline.latest.latest_contact_preference`` breaks the tie towards the opt-out (never
towards calling), and every place that reads consent agrees with it: the engine's consent
filter (``engine.plan_actions``), the stop of open actions (``consent.consent_stops``) and
the derived action status (``outcomes.current_status``). The opt-out is the first row in
one customer's ``source`` order and the last in the other's, so no tie-break by ``source``
alone can pass.
"""

from __future__ import annotations

import datetime as dt

import pytest

from aftercare.config import DEFAULT_CONFIG, ActionsConfig, Config
from aftercare.config.actions import DEFAULT_RULES
from aftercare.pipeline.latest import latest_contact_preference
from aftercare.playbook.consent import consent_stops
from aftercare.playbook.engine import plan_actions
from aftercare.playbook.outcomes import current_status
from rule_inputs import load_rule_inputs, rule_context_of

AS_OF = dt.date(2024, 6, 15)
SET_AT = dt.datetime(2024, 6, 1, 9, 30)
CARE = "A-CARE-90D"
#: Only A-CARE-90D fires: each customer's last visit was 100 days ago.
ONLY_CARE = Config(actions=ActionsConfig(rules={r: {"enabled": r == CARE} for r in DEFAULT_RULES}))
TIED_OPT_OUT_FIRST = "C1"  # the opt-out's source sorts first
TIED_OPT_OUT_LAST = "C2"  # the opt-out's source sorts last
REJOINED = "C3"  # opted out earlier, opted back in later: may be called
CUSTOMERS = (TIED_OPT_OUT_FIRST, TIED_OPT_OUT_LAST, REJOINED)

# DuckDB and PostgreSQL (issue 8): it passes on PySpark too, but wiring a whole rule context
# there costs ~25 s of the default suite for no engine-specific step.
pytestmark = pytest.mark.parametrize("backend", ["duckdb", "postgres"], indirect=True)


def _preference(customer: str, set_at: dt.datetime, dnc: bool, source: str) -> dict:
    return {"customer_id": customer, "set_at": set_at, "do_not_contact": dnc, "source": source}


PREFERENCES = [
    _preference(TIED_OPT_OUT_FIRST, SET_AT, True, "a_call_log"),
    _preference(TIED_OPT_OUT_FIRST, SET_AT, False, "b_crm"),
    _preference(TIED_OPT_OUT_LAST, SET_AT, False, "a_call_log"),
    _preference(TIED_OPT_OUT_LAST, SET_AT, True, "b_crm"),
    _preference(REJOINED, SET_AT - dt.timedelta(days=30), True, "a_call_log"),
    _preference(REJOINED, SET_AT, False, "b_crm"),
]


@pytest.fixture(scope="module")
def consent(backend):
    tables, t = load_rule_inputs(
        backend,
        customers=[
            {"customer_id": c, "marketing_consent": True, "do_not_contact": False}
            for c in CUSTOMERS
        ],
        service_orders=[
            {"order_id": f"O{c}", "customer_id": c, "open_date": "2024-03-07", "total_amount": 300}
            for c in CUSTOMERS
        ],
        actions=[
            {"rule_id": "A-COMPLAINT-72H", "customer_id": c, "due_date": "2024-06-10"}
            for c in CUSTOMERS
        ],
        preferences=PREFERENCES,
    )
    prefs = t["preferences"]
    ctx, value = rule_context_of(tables, t, as_of=AS_OF, config=ONLY_CARE)
    plan = plan_actions(ctx, value, prefs)
    assert plan is not None
    status = current_status(
        t["actions"],
        t["outcomes"],
        prefs,
        winback_max_attempts=DEFAULT_CONFIG.actions.winback_max_attempts,
    )
    actions = t["actions"].to_pyarrow().to_pylist()
    customer_of = {a["action_id"]: a["customer_id"] for a in actions}
    stops = consent_stops(t["actions"], tables.customers, prefs).to_pyarrow().to_pylist()
    return {
        "latest": {
            r["customer_id"]: r for r in latest_contact_preference(prefs).to_pyarrow().to_pylist()
        },
        "blocked": {
            r["customer_id"]: r["blocked"]
            for r in plan.to_pyarrow().to_pylist()
            if r["rule_id"] == CARE
        },
        "stopped": {customer_of[r["action_id"]] for r in stops},
        "status": {
            r["customer_id"]: (r["status"], r["stop_reason"])
            for r in status.to_pyarrow().to_pylist()
        },
    }


@pytest.mark.parametrize("customer", [TIED_OPT_OUT_FIRST, TIED_OPT_OUT_LAST])
def test_r_act_consent_an_opt_out_wins_a_tie_everywhere(consent, customer):
    latest = consent["latest"][customer]
    assert (latest["set_at"], latest["do_not_contact"]) == (SET_AT, True)
    assert consent["blocked"][customer] is True  # the engine makes no call
    assert customer in consent["stopped"]  # the open action is stopped
    assert consent["status"][customer] == ("stopped", "opted_out")  # the call list agrees


def test_r_act_consent_a_later_opt_in_still_wins(consent):
    assert consent["latest"][REJOINED]["do_not_contact"] is False
    assert consent["blocked"][REJOINED] is False
    assert REJOINED not in consent["stopped"]
    assert consent["status"][REJOINED] == ("open", None)
