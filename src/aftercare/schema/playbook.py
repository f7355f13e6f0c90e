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
  action took its week), appended; the action keeps its id.
"""

from __future__ import annotations

import ibis

PRIORITIES = ("high", "medium", "low")

#: Action statuses. ``open``: to do; ``done``: an outcome closed it; ``holdout``: in the rule's
#: control group, deliberately not contacted (R-ACT-HOLDOUT); ``stopped``: no longer wanted
#: (e.g. the customer opted out, or win-back gave up after its attempts).
ACTION_STATUSES = ("open", "done", "holdout", "stopped")

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

PLAYBOOK_TABLES: dict[str, ibis.Schema] = {
    "actions": ACTIONS,
    "action_outcomes": ACTION_OUTCOMES,
    "contact_preferences": CONTACT_PREFERENCES,
    "dedicated_advisors": DEDICATED_ADVISORS,
    "action_moves": ACTION_MOVES,
}
