"""The action engine's plan: rules → catch-up → stable ids → dedupe → consent → value (SPEC §6).

Ibis only, ``Table -> Table``; nothing here connects or executes. The service
(:mod:`aftercare.services.actions`) runs the plan once, hands the reduced set of new actions
to :mod:`aftercare.playbook.schedule` (holdout, advisor, weekly cap) and stores them.

Steps, in order:

1. *Candidates*: the union of every enabled rule's candidates (:mod:`.rules`,
   :mod:`.rules_state`) and of the custom rules.
2. *Window* (R-ACT-CATCHUP): keep candidates due on or before ``through`` and at most
   their ``catch_up_days`` before ``as_of`` (the rule's staleness limit; none for an
   unresolved complaint). A *late* candidate (due before ``as_of``) is dropped when its
   subject — the customer, the vehicle for vehicle rules, the trigger itself for quotes and
   complaints (:func:`trigger_subject`) — already has an action of the same rule with a
   trigger as recent (it was superseded); of the candidates due by ``as_of``, only the
   latest trigger per (rule, subject) is kept, due ``as_of`` — one action due now per
   trigger, never a burst.
3. *Stable id*: ``'A' + md5(rule_id || '|' || trigger_key)[:16]`` (same as
   :func:`aftercare.playbook.model.action_id`); candidates whose id is already stored are
   dropped, so a rule never fires twice for one trigger however often the engine runs.
4. *Consent* (R-ACT-CONSENT): ``blocked`` when the customer is unknown, ``do_not_contact``
   (customer master, or their latest ``contact_preferences`` row:
   :func:`aftercare.pipeline.latest.latest_contact_preference`, where an opt-out wins a tie
   on ``set_at``), or the action is
   marketing without ``marketing_consent``. Service-safety actions (``is_marketing`` false)
   need no marketing consent.
5. *Channel*: ``preferred`` becomes the customer's preferred channel (phone when unknown).
6. *Value* (R-ACT-RANK): ``expected_value`` = probability the customer is still active ×
   margin at stake. The probability is a transparent proxy until a churn model
   (R-CHURN-MODEL) replaces it: the recency score on the scorecard's own scale
   (``r_score`` ÷ the top recency points: visited within 30 days → 1.0, over a year or
   never → 0.2), times (levels − risk index) ÷ levels of the churn risk (low × 1, medium
   × 2/3, high × 1/3). The margin at stake is the customer's simple LTV (R-VAL-LTV: annual
   spend × own gross margin × the tier's lifetime years), 0 when unknown or negative.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from aftercare.config import Config, RuleConfig
from aftercare.errors import ConfigError
from aftercare.pipeline.churn import LEVELS
from aftercare.pipeline.latest import latest_contact_preference, latest_per_key
from aftercare.pipeline.staging import as_date
from aftercare.playbook import rules, rules_absence, rules_state
from aftercare.playbook.rules import PREFERRED, RuleContext

#: Built-in rules by id (SPEC §6), plus the optional trade-in conversation (R-VEHICLE-SOLD).
RULES = {
    "A-WELCOME": rules.welcome,
    "A-FIRST-SERVICE": rules.first_service,
    "A-FOLLOWUP-24H": rules.followup_24h,
    "A-FIRST-SERVICE-30D": rules.first_service_30d,
    "A-MAINTENANCE": rules.maintenance,
    "A-EXT-WARRANTY": rules.ext_warranty,
    "A-INSURANCE-RENEWAL": rules.insurance_renewal,
    "A-INSPECTION": rules.inspection,
    "A-CARE-90D": rules_absence.care_90d,
    "A-COMPLAINT-72H": rules.complaint_72h,
    "A-BIRTHDAY": rules_state.birthday,
    "A-DECLINED": rules.declined,
    "A-WINBACK": rules_state.winback,
    "A-TIER-UP": rules_state.tier_up,
    "A-TIER-DOWN": rules_state.tier_down,
    rules_state.TRADE_IN_RULE: rules_state.trade_in,
}
FALLBACK_CHANNEL = "phone"
#: R-ACT-CATCHUP per trigger: rules whose triggers belong to one vehicle (a newer trigger of
#: the same vehicle supersedes an older one; another vehicle's is its own) ...
VEHICLE_RULES = (
    "A-WELCOME",
    "A-FIRST-SERVICE",
    "A-FIRST-SERVICE-30D",
    "A-MAINTENANCE",
    "A-EXT-WARRANTY",
    "A-INSURANCE-RENEWAL",
    "A-INSPECTION",
)
#: ... and rules whose every trigger stands alone (one quote, one complaint). The other
#: rules are about the customer as a whole: their latest trigger supersedes older ones.
TRIGGER_RULES = ("A-DECLINED", "A-COMPLAINT-72H")


@ibis.udf.scalar.builtin
def md5(value: str) -> str:  # type: ignore[empty-body]
    """The engine's MD5 as 32 hex digits (DuckDB and PostgreSQL both have it built in)."""


def stable_action_id(rule_id: ir.StringValue, trigger_key: ir.StringValue) -> ir.StringValue:
    """``'A' + md5(rule_id || '|' || trigger_key)[:16]``, as :func:`model.action_id`."""
    return "A" + md5(rule_id + "|" + trigger_key).substr(0, 16)


def enabled_rules(config: Config) -> dict[str, RuleConfig]:
    """Enabled built-in and custom rules by id (custom ids may not shadow built-in ones)."""
    acts = config.actions
    unknown = sorted(set(acts.rules) - set(RULES))
    if unknown:
        raise ConfigError(
            f"actions.rules: unknown rule {', '.join(unknown)}; built-in rules: "
            f"{', '.join(RULES)} (your own rules go in actions.custom_rules)"
        )
    out: dict[str, RuleConfig] = {k: r for k, r in acts.rules.items() if r.enabled}
    for rule in acts.custom_rules:
        if rule.rule_id in out or rule.rule_id in RULES:
            raise ConfigError(f"actions.custom_rules: rule id {rule.rule_id} is used twice")
        if rule.enabled:
            out[rule.rule_id] = rule
    return out


def candidate_actions(ctx: RuleContext) -> ir.Table | None:
    """Union of every enabled rule's candidates (None when every rule is switched off)."""
    parts = []
    for rule_id, rule in enabled_rules(ctx.config).items():
        if rule_id in RULES:
            parts.append(RULES[rule_id](ctx, rule))
        else:
            parts.append(rules_state.custom(ctx, rule))  # type: ignore[arg-type]
    if not parts:
        return None
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part)
    return out


def trigger_subject(
    rule_id: ir.StringValue,
    customer_id: ir.StringValue,
    vin: ir.StringValue,
    trigger_key: ir.StringValue,
) -> ir.StringValue:
    """What a rule's newer trigger supersedes: see :data:`VEHICLE_RULES`, :data:`TRIGGER_RULES`.

    Vehicle rules: the customer's vehicle (a second car has its own triggers); trigger
    rules: the trigger itself (each declined quote or complaint stands alone); every other
    rule: the customer (a newer visit's follow-up, a newer absence or birthday supersedes
    the older one).
    """
    who = customer_id.fill_null("")
    return ibis.cases(
        (rule_id.isin(VEHICLE_RULES), who + "|v|" + vin.fill_null("")),
        (rule_id.isin(TRIGGER_RULES), who + "|t|" + trigger_key),
        else_=who,
    )


def in_due_window(cands: ir.Table, ctx: RuleContext) -> ir.Table:
    """Step 2's first cut: the candidates due by ``through`` and at most their
    ``catch_up_days`` late on ``as_of`` (NULL: no limit)."""
    late_by = as_date(ctx.as_of).delta(cands.due_date, unit="day")
    return cands.filter(
        cands.due_date <= as_date(ctx.through),
        (late_by <= cands.catch_up_days).fill_null(True),
    )


def within_window(cands: ir.Table, ctx: RuleContext) -> ir.Table:
    """Step 2 (R-ACT-CATCHUP): the due window, superseded late triggers, one due now.

    A candidate may be acted on until its ``catch_up_days`` (NULL: no limit) after its due
    date. Of the late candidates of one subject (:func:`trigger_subject`) only the latest
    trigger is kept, and none when a stored action of that subject has a trigger as recent.
    """
    as_of = as_date(ctx.as_of)
    c = in_due_window(cands, ctx)
    c = c.mutate(subject=trigger_subject(c.rule_id, c.customer_id, c.vin, c.trigger_key))
    a = ctx.actions
    stored = a.mutate(s_subject=trigger_subject(a.rule_id, a.customer_id, a.vin, a.trigger_key))
    stored = stored.group_by(s_rule_id="rule_id", s_subject="s_subject").aggregate(
        latest_trigger=stored.trigger_date.max()
    )
    c = c.left_join(stored, (c.rule_id == stored.s_rule_id) & (c.subject == stored.s_subject))
    superseded = (c.due_date < as_of) & (c.trigger_date <= c.latest_trigger).fill_null(False)
    c = c.filter(~superseded).select(*rules.CANDIDATE_COLUMNS, "subject")
    due_now = latest_per_key(
        c.filter(c.due_date <= as_of),
        ["rule_id", "subject"],
        [ibis.desc("trigger_date"), ibis.desc("trigger_key")],
    )
    ahead = c.filter(c.due_date > as_of)
    kept = due_now.union(ahead).drop("subject")
    return kept.mutate(
        original_due_date=kept.due_date, due_date=ibis.greatest(kept.due_date, as_of)
    )


def _last_order_people(orders: ir.Table) -> ir.Table:
    """Advisor and store of each customer's latest order that names an advisor (the latest
    ``open_date``, then the greatest ``order_id``).

    An aggregate, not a window: ranking every order of a 1M-customer store sorts 7.5M rows
    (1.2 s on DuckDB), keeping the greatest key per customer does not (0.2 s).
    """
    o = orders.filter(orders.customer_id.notnull(), orders.advisor_id.notnull())
    latest = ibis.struct({"open_date": o.open_date, "order_id": o.order_id})
    return o.group_by(o_customer_id=o.customer_id).aggregate(
        last_order_advisor_id=o.advisor_id.argmax(latest),
        last_order_store_id=o.store_id.argmax(latest),
    )


def _attach(left: ir.Table, right: ir.Table, right_key: str) -> ir.Table:
    """``left`` with ``right``'s columns joined on customer id (``right_key`` kept)."""
    j = left.left_join(right, left.customer_id == right[right_key])
    return j.select(*left.columns, *right.columns)


@dataclass(frozen=True)
class PlanInputs:
    """What the plan's last steps (:func:`plan_from_inputs`) read besides the store's own
    tables: each a lazy table, built from the rules' context by :func:`plan_inputs` or read
    back from rows computed once (:mod:`aftercare.services.staged_plan`).

    Attributes
    ----------
    candidates
        Step 1: :data:`~aftercare.playbook.rules.CANDIDATE_COLUMNS`, those in the due
        window (:func:`in_due_window`: all that step 2 may keep).
    scores
        sc_customer_id, tier, r_score, risk_level (one row per scored customer).
    value
        v_customer_id, ltv (one row per customer).
    people
        o_customer_id, last_order_advisor_id, last_order_store_id
        (:func:`_last_order_people`).
    """

    candidates: ir.Table
    scores: ir.Table
    value: ir.Table
    people: ir.Table


def plan_inputs(ctx: RuleContext, value: ir.Table) -> PlanInputs | None:
    """:class:`PlanInputs` from the rules' context and ``value.customer_value`` (None when
    no rule is enabled)."""
    cands = candidate_actions(ctx)
    if cands is None:
        return None
    return PlanInputs(
        candidates=in_due_window(cands, ctx),
        scores=ctx.scores.select(
            sc_customer_id="customer_id", tier="tier", r_score="r_score", risk_level="risk_level"
        ),
        value=value.select(v_customer_id="customer_id", ltv="ltv"),
        people=_last_order_people(ctx.orders),
    )


def plan_actions(ctx: RuleContext, value: ir.Table, preferences: ir.Table) -> ir.Table | None:
    """New actions of one run, before holdout, advisor and cap (steps 1–6 above).

    Grain: one row per new action (a trigger not acted on before).

    Parameters
    ----------
    ctx
        The rules' inputs.
    value
        ``value.customer_value`` (``customer_id``, ``ltv``).
    preferences
        The stored ``contact_preferences``.

    Returns
    -------
    ir.Table | None
        action_id, rule_id, trigger_key, trigger_date, customer_id, vin, store_id,
        due_date, original_due_date, priority, channel, is_marketing, expected_value,
        evidence, assign_role, tier, customer_advisor_id, last_order_advisor_id, blocked,
        catch_up_days (how long after its original due date it may still be acted on);
        None when no rule is enabled.
    """
    inputs = plan_inputs(ctx, value)
    return None if inputs is None else plan_from_inputs(inputs, ctx, preferences)


def plan_from_inputs(inputs: PlanInputs, ctx: RuleContext, preferences: ir.Table) -> ir.Table:
    """Steps 2–6 of :func:`plan_actions` (its columns) over ``inputs``; of ``ctx`` only the
    dates, the stored actions, the customers and the configuration are read."""
    c = within_window(inputs.candidates, ctx)
    c = c.mutate(action_id=stable_action_id(c.rule_id, c.trigger_key))
    stored = ctx.actions.select(s_action_id="action_id")
    c = c.anti_join(stored, c.action_id == stored.s_action_id).select(*c.columns)
    cust = ctx.customers.select(
        k_customer_id="customer_id",
        dnc="do_not_contact",
        consent="marketing_consent",
        preferred_channel="preferred_channel",
        customer_advisor_id="advisor_id",
        customer_store_id="store_id",
    )
    latest = latest_contact_preference(preferences)
    prefs = latest.select(p_customer_id=latest.customer_id, pref_dnc=latest.do_not_contact)
    j = c
    for right, right_key in (
        (cust, "k_customer_id"),
        (prefs, "p_customer_id"),
        (inputs.scores, "sc_customer_id"),
        (inputs.value, "v_customer_id"),
        (inputs.people, "o_customer_id"),
    ):
        j = _attach(j, right.view(), right_key)
    blocked = (
        j.k_customer_id.isnull()
        | j.dnc.fill_null(False)
        | j.pref_dnc.fill_null(False)
        | (j.is_marketing & ~j.consent.fill_null(False))
    )
    top_r = max(points for _, points in ctx.config.scoring.recency_max_days)
    risk_index = ibis.cases(*[(j.risk_level == lv, i) for i, lv in enumerate(LEVELS)], else_=0)
    p_active = (j.r_score.cast("float64") / float(top_r)).fill_null(0.0) * (
        (len(LEVELS) - risk_index).cast("float64") / float(len(LEVELS))
    )
    margin = ibis.greatest(j.ltv.cast("float64").fill_null(0.0), 0.0)
    return j.select(
        "action_id",
        "rule_id",
        "trigger_key",
        "trigger_date",
        "customer_id",
        "vin",
        store_id=j.customer_store_id.coalesce(j.last_order_store_id),
        due_date=j.due_date,
        original_due_date=j.original_due_date,
        priority=j.priority,
        channel=ibis.ifelse(
            j.channel == PREFERRED, j.preferred_channel.fill_null(FALLBACK_CHANNEL), j.channel
        ),
        is_marketing=j.is_marketing,
        expected_value=(p_active * margin).round(2),
        evidence=j.evidence,
        assign_role=j.assign_role,
        tier=j.tier,
        customer_advisor_id=j.customer_advisor_id,
        last_order_advisor_id=j.last_order_advisor_id,
        blocked=blocked,
        catch_up_days=j.catch_up_days,
    )
