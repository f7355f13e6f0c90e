"""The playbook's stored tables (SPEC §6): actions, their outcomes, contact preferences,
dedicated advisors and the moves of R-ACT-CAP, with their enums.

Grain of each:
- ``actions``: one row per action (a rule fired for one trigger). ``action_id`` is stable: the
  same rule and trigger always give the same id, so reruns never duplicate (R-ACT-CATCHUP).
- ``action_outcomes``: one row per recorded outcome; appended, never overwritten
  (R-ACT-OUTCOME).
- ``contact_preferences``: one row per preference change learned from outcomes (an "opted out"
  sets do_not_contact). Kept apart from ``customers`` so that a later DMS re-import of the
  customer master can never undo a customer's opt-out.
- ``dedicated_advisors``: one row per assignment of a platinum customer's dedicated advisor
  (R-ACT-ADVISOR), appended; the latest row per customer holds.
- ``action_moves``: one row per move of a stored action by R-ACT-CAP (a new higher-priority
  action took its week) or R-ACT-CAPACITY (its advisor's day was full, or a backlog action
  found a day with room), appended; the action keeps its id and its ``valid_until``.

The engine's own bookkeeping for incremental runs (issue 11, :mod:`aftercare.services.
incremental`); derived state, rebuilt by the next full run if lost:
- ``engine_runs``: one row per engine run (its dates, whether it planned every customer).
- ``engine_seen_loads``: one row per load (``load_log``) an engine run has seen.
- ``engine_customers``: one row per customer an engine run planned: the earliest date their
  plan may change with the date alone (``wake_on``), and how many outcomes and contact
  preferences of theirs it saw.
- ``engine_vehicles``: one row per vehicle whose reminder borrows the fleet's rate, with the
  due date its customer's last planning saw.
- ``engine_fleet_rates`` / ``engine_fleet_errors``: each vehicle's own mileage rate and each
  reading's measured forecast error as of the last run, what every reminder's borrowed rate
  is made of (R-REMIND), refreshed for the vehicles whose orders changed.
- ``engine_blocked``: one row per trigger consent blocked at its customer's last planning
  (counted by every later run until the customer is planned again).
- ``engine_queue``: the customers the running engine plans (filled and read in its
  transaction).
- ``engine_fleet_vins``: the vehicles whose kept fleet facts the running engine refreshes
  (filled and read in its transaction).
"""

from __future__ import annotations

import ibis

PRIORITIES = ("high", "medium", "low")

#: Action statuses. ``open``: to do; ``done``: an outcome closed it; ``holdout``: in the rule's
#: control group, deliberately not contacted (R-ACT-HOLDOUT); ``stopped``: no longer wanted
#: (e.g. the customer opted out, or win-back gave up after its attempts); ``expired``: not done
#: by its ``valid_until`` (R-ACT-EXPIRE: kept, off the call list, counted as expired);
#: ``backlog``: no advisor day had room for it within its validity (R-ACT-CAPACITY: counted
#: in the store's backlog, placed again by a later run with room).
ACTION_STATUSES = ("open", "done", "holdout", "stopped", "expired", "backlog")
#: Stored statuses of an action still to be worked (R-ACT-EXPIRE expires these).
ACTIVE_STATUSES = ("open", "backlog")

#: Outcome results an advisor records (R-ACT-OUTCOME).
OUTCOME_RESULTS = (
    "reached",
    "booked",
    "visited",
    "declined",
    "no_answer",
    "wrong_number",
    "opted_out",
)
#: Results that count as a failed attempt (A-WINBACK stops after the configured number).
FAILED_RESULTS = ("declined", "no_answer", "wrong_number")
#: Words a call log or an advisor may use for each result (compared lower-case, stripped).
RESULT_SYNONYMS: dict[str, str] = {
    **{r: r for r in OUTCOME_RESULTS},
    **{r.replace("_", " "): r for r in OUTCOME_RESULTS},
    **{r.replace("_", "-"): r for r in OUTCOME_RESULTS},
    "已接通": "reached",
    "接通": "reached",
    "已联系": "reached",
    "已预约": "booked",
    "预约": "booked",
    "已到店": "visited",
    "到店": "visited",
    "拒绝": "declined",
    "婉拒": "declined",
    "未接通": "no_answer",
    "无人接听": "no_answer",
    "未接": "no_answer",
    "空号": "wrong_number",
    "错号": "wrong_number",
    "号码错误": "wrong_number",
    "退订": "opted_out",
    "拒绝联系": "opted_out",
    "勿扰": "opted_out",
}

ACTIONS = ibis.schema(
    {
        "action_id": "string",
        "rule_id": "string",
        "trigger_key": "string",  # what fired it, e.g. the order id, VIN + due date, year
        "trigger_date": "date",
        "customer_id": "string",
        "vin": "string",
        "store_id": "string",
        "advisor_id": "string",
        "due_date": "date",
        "original_due_date": "date",  # before R-ACT-CAP moved it
        "priority": "string",
        "channel": "string",
        "is_marketing": "boolean",
        "expected_value": "float64",  # R-ACT-RANK
        "status": "string",
        "evidence": "string",  # JSON: the facts that triggered it
        "created_on": "date",  # the as-of date of the run that created it
        # R-ACT-EXPIRE: the last day it may be worked (its due date when stored + the rule's
        # valid_days; a move never extends it). NULL: stored by an older Aftercare, filled
        # by the next engine run; never expires until then.
        "valid_until": "date",
    }
)

ACTION_OUTCOMES = ibis.schema(
    {
        "outcome_id": "string",
        "action_id": "string",
        "result": "string",
        "note": "string",
        "advisor_id": "string",
        "recorded_at": "timestamp",
        "source": "string",  # 'cli' or the imported call-log file name
    }
)

CONTACT_PREFERENCES = ibis.schema(
    {
        "customer_id": "string",
        "do_not_contact": "boolean",
        "set_at": "timestamp",
        "source": "string",  # e.g. 'outcome:<outcome_id>'
    }
)

DEDICATED_ADVISORS = ibis.schema(
    {"customer_id": "string", "advisor_id": "string", "assigned_on": "date"}
)

ACTION_MOVES = ibis.schema(
    {
        "action_id": "string",
        "moved_on": "date",
        "from_due_date": "date",
        "to_due_date": "date",
        "reason": "string",
    }
)

ENGINE_RUNS = ibis.schema(
    {
        "run_id": "string",
        "as_of": "date",
        "through": "date",
        "ran_at": "timestamp",
        "full_run": "boolean",  # every customer planned (else those the run found changed)
        "scores_as_of": "date",  # the snapshot the run read (NULL: scores computed)
        "plan_key": "string",  # configuration and code the plan was built from
        "customers_planned": "int64",
    }
)
ENGINE_SEEN_LOADS = ibis.schema({"load_id": "string"})
ENGINE_CUSTOMERS = ibis.schema(
    {
        "customer_id": "string",
        "wake_on": "date",  # NULL: no date alone changes their plan
        "outcomes": "int64",
        "preferences": "int64",
    }
)
ENGINE_VEHICLES = ibis.schema(
    {"vin": "string", "customer_id": "string", "rate_source": "string", "due_date": "date"}
)
ENGINE_QUEUE = ibis.schema({"customer_id": "string"})
ENGINE_FLEET_VINS = ibis.schema({"vin": "string"})
ENGINE_BLOCKED = ibis.schema(
    {
        "customer_id": "string",
        "rule_id": "string",
        "trigger_key": "string",
        "original_due_date": "date",
        "catch_up_days": "int64",  # NULL: never stale
        "every_day": "boolean",  # a rule of the customer's state: a candidate every day
    }
)
ENGINE_FLEET_RATES = ibis.schema({"vin": "string", "model": "string", "own_rate": "float64"})
ENGINE_FLEET_ERRORS = ibis.schema({"vin": "string", "reading_date": "date", "error_rel": "float64"})

#: The engine's bookkeeping for incremental runs (module doc).
ENGINE_TABLES: dict[str, ibis.Schema] = {
    "engine_runs": ENGINE_RUNS,
    "engine_seen_loads": ENGINE_SEEN_LOADS,
    "engine_customers": ENGINE_CUSTOMERS,
    "engine_vehicles": ENGINE_VEHICLES,
    "engine_queue": ENGINE_QUEUE,
    "engine_blocked": ENGINE_BLOCKED,
    "engine_fleet_rates": ENGINE_FLEET_RATES,
    "engine_fleet_errors": ENGINE_FLEET_ERRORS,
    "engine_fleet_vins": ENGINE_FLEET_VINS,
}

PLAYBOOK_TABLES: dict[str, ibis.Schema] = {
    "actions": ACTIONS,
    "action_outcomes": ACTION_OUTCOMES,
    "contact_preferences": CONTACT_PREFERENCES,
    "dedicated_advisors": DEDICATED_ADVISORS,
    "action_moves": ACTION_MOVES,
    **ENGINE_TABLES,
}
