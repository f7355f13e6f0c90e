"""Candidate actions of the rules that read a customer's state (SPEC §6).

Ibis only, ``Table -> Table``; nothing here connects or executes. Same output as
:mod:`aftercare.playbook.rules` (:data:`~aftercare.playbook.rules.CANDIDATE_COLUMNS`).

Decisions (SPEC leaves them open):

- A-CARE-90D (an abnormal absence) lives in :mod:`aftercare.playbook.rules_absence`.
- A-BIRTHDAY: platinum and gold (by the scores' tier); key = customer + the birthday's year;
  29 February is celebrated on 28 February in common years; priority = the rule's priority
  for platinum, one level lower for gold.
- A-WINBACK: lapsed tier with at least one past visit, or high churn risk
  (R-CHURN-RISK). One campaign per absence (key: customer + last visit date + attempt
  number). A next attempt is created only when no earlier one is still pending, none
  succeeded, fewer than ``winback_max_attempts`` failed (latest outcome of an attempt in
  ``FAILED_RESULTS``), and the last outcome is ``actions.winback_retry_days`` old. Channel by
  churn reason (seed 004): ``passive`` → the customer's preferred channel (被动流失: any
  contact brings them back); ``price`` → phone (the value has to be argued in a
  conversation); ``experience`` → phone by the store's manager (话术3: the service
  manager's apology call). Customers whose vehicles are all sold or scrapped get no
  win-back (R-VEHICLE-SOLD); if the config has an ``A-TRADE-IN`` rule they get a
  trade-in conversation instead, once per absence.
- A-TIER-UP / A-TIER-DOWN: from the scores' ``move`` against the previous stored snapshot;
  key = customer + tiers + the scores' date, trigger date = the scores' date.
- Custom rules (``U-…``): the condition over the score columns; key = customer + run date;
  a customer is picked again only ``repeat_after_days`` after their previous action of
  that rule.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from aftercare.config import TIER_ORDER, CustomRuleConfig, RuleConfig
from aftercare.pipeline.staging import as_date, orders_up_to, visits
from aftercare.playbook.custom_rules import condition_filter
from aftercare.playbook.outcomes import latest_outcomes
from aftercare.playbook.rules import (
    PREFERRED,
    RuleContext,
    candidates,
    evidence,
    key,
    lower_priority,
    shift,
)
from aftercare.schema.playbook import FAILED_RESULTS

TRADE_IN_RULE = "A-TRADE-IN"


def last_visits(ctx: RuleContext) -> ir.Table:
    """Last visit per customer on or before as-of. Grain: one row per customer with a visit."""
    seen = visits(orders_up_to(ctx.orders, ctx.as_of))
    return seen.group_by("customer_id").aggregate(last_visit_date=seen.open_date.max())


def birthday(ctx: RuleContext, rule: RuleConfig) -> ir.Table:
    """A-BIRTHDAY: platinum and gold customers' birthday → wish at birthday − 1 d, yearly.

    The years are counted from the as-of date's year in the engine (the year before it to
    the year after ``through``'s), so the plan holds the as-of date only as a literal. The
    birthday in a year is the birthday plus whole years: 29 February falls on the 28th in a
    year that is not a leap year (DuckDB and PostgreSQL both clamp to the month's end). Not
    ``make_date`` of its month and day: DuckDB takes ~1 ms to set up each such call, and the
    plan inlines each year's date a dozen times (issue 11: a third of a small store's plan).
    """
    top, second = TIER_ORDER[0], TIER_ORDER[1]
    tiers = ctx.scores.select("customer_id", "tier")
    c = ctx.customers.filter(ctx.customers.birthday.notnull()).select("customer_id", "birthday")
    c = c.inner_join(tiers, "customer_id").filter(lambda t: t.tier.isin([top, second]))
    parts = []
    # Every year whose birthday can fall due in the window (catch-up before, plan ahead).
    for offset in range(-1, ctx.years_ahead + 2):
        year = as_date(ctx.as_of).year() + offset
        on = (c.birthday + (year - c.birthday.year()).as_interval("Y")).cast("date")
        parts.append(
            candidates(
                c,
                "A-BIRTHDAY",
                rule,
                customer_id=c.customer_id,
                vin=None,
                trigger_key=key(c.customer_id, year),
                trigger_date=on,
                priority=ibis.ifelse(c.tier == top, rule.priority, lower_priority(rule.priority)),
                evidence=evidence(birthday=c.birthday, tier=c.tier, year=year),
            )
        )
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part)
    return out


def _winback_history(ctx: RuleContext, wanted: ir.Table) -> ir.Table:
    """Attempts of the current absence per customer of ``wanted`` (cols customer_id, absence)."""
    a = ctx.actions.filter(ctx.actions.rule_id == "A-WINBACK").select(
        "action_id", "status", "trigger_key", a_customer_id="customer_id"
    )
    a = a.left_join(latest_outcomes(ctx.outcomes), "action_id")
    j = wanted.inner_join(a, wanted.customer_id == a.a_customer_id)
    j = j.filter(j.trigger_key.startswith(j.absence + "|"))
    failed = j.result.isin(list(FAILED_RESULTS)).fill_null(False)
    # Not tried yet: open, held out, in the backlog (R-ACT-CAPACITY) or expired unworked
    # (R-ACT-EXPIRE: the absence's attempt lapsed; it is not made again).
    pending = j.result.isnull() & j.status.isin(["open", "holdout", "backlog", "expired"])
    success = j.result.notnull() & ~failed
    return j.group_by("customer_id").aggregate(
        attempts=j.count(),
        failed=j.count(where=failed),
        pending=j.count(where=pending),
        succeeded=j.count(where=success),
        last_outcome_at=j.recorded_at.max(),
    )


def _lost_customers(ctx: RuleContext) -> ir.Table:
    """Lapsed (with a past visit) or high-risk customers with their absence key."""
    ch = ctx.churn
    lv = last_visits(ctx)
    j = ch.left_join(lv, "customer_id")
    j = j.filter(
        ((j.tier == TIER_ORDER[-1]) & j.last_visit_date.notnull()) | (j.risk_level == "high")
    )
    return j.select(
        "customer_id",
        "tier",
        "risk_level",
        "churn_reason",
        "reason_evidence",
        "conversation",
        "last_visit_date",
        absence=key(j.customer_id, j.last_visit_date.cast("string").fill_null("never")),
    )


def winback(ctx: RuleContext, rule: RuleConfig) -> ir.Table:
    """A-WINBACK: lapsed or high churn risk → call now, script and channel by churn reason."""
    actions = ctx.config.actions
    retry_days = actions.winback_retry_days
    lost = _lost_customers(ctx)
    lost = lost.filter(lost.conversation == "winback")
    history = _winback_history(ctx, lost.select("customer_id", "absence"))
    j = lost.left_join(history, "customer_id")
    last_out = j.last_outcome_at.date()
    ok = (
        (j.pending.fill_null(0) == 0)
        & (j.succeeded.fill_null(0) == 0)
        & (j.failed.fill_null(0) < actions.winback_max_attempts)
        & (last_out.isnull() | (shift(last_out, retry_days) <= as_date(ctx.as_of)))
    )
    j = j.filter(ok)
    attempt = (j.attempts.fill_null(0) + 1).cast("int64")
    reason = j.churn_reason
    channel = ibis.cases(
        (reason == "passive", PREFERRED), (reason == "price", "phone"), else_="phone"
    )
    channel = channel if rule.channel == "by_reason" else ibis.literal(rule.channel)
    return candidates(
        j,
        "A-WINBACK",
        rule,
        customer_id=j.customer_id,
        vin=None,
        trigger_key=j.absence + "|" + attempt.cast("string"),
        trigger_date=as_date(ctx.as_of),
        due_date=shift(as_date(ctx.as_of), rule.offset_days),
        channel=channel,
        assign_role=ibis.ifelse(reason == "experience", "manager", "advisor"),
        evidence=evidence(
            churn_reason=reason,
            reasons=j.reason_evidence,
            tier=j.tier,
            risk_level=j.risk_level,
            last_visit_date=j.last_visit_date,
            attempt=attempt,
            conversation=j.conversation,
        ),
    )


def trade_in(ctx: RuleContext, rule: RuleConfig) -> ir.Table:
    """A-TRADE-IN (optional rule): lost customers whose vehicles are all gone (R-VEHICLE-SOLD)."""
    lost = _lost_customers(ctx)
    lost = lost.filter(lost.conversation == "trade_in")
    return candidates(
        lost,
        TRADE_IN_RULE,
        rule,
        customer_id=lost.customer_id,
        vin=None,
        trigger_key=lost.absence,
        trigger_date=as_date(ctx.as_of),
        due_date=shift(as_date(ctx.as_of), rule.offset_days),
        evidence=evidence(
            conversation=lost.conversation, tier=lost.tier, last_visit_date=lost.last_visit_date
        ),
    )


def _tier_moved(moved: ir.Table, rule_id: str, rule: RuleConfig) -> ir.Table:
    """Candidates of a tier-move rule: one per customer and move, dated by the scores' date.

    Moves are of the effective tier (R-TIER-HOLD: the scores' ``tier``, ``previous_tier`` and
    ``move``), so a downgrade still held fires nothing; the evidence records the snapshot's
    date (``scored_on``) and effective tier, which the action's script shows.
    """
    s = moved
    return candidates(
        s,
        rule_id,
        rule,
        customer_id=s.customer_id,
        vin=None,
        trigger_key=key(s.customer_id, s.previous_tier, s.tier, s.snapshot_date),
        trigger_date=s.snapshot_date,
        evidence=evidence(previous_tier=s.previous_tier, tier=s.tier, scored_on=s.snapshot_date),
    )


def tier_up(ctx: RuleContext, rule: RuleConfig) -> ir.Table:
    """A-TIER-UP: effective tier moved into the top tier (platinum) → dedicated advisor's call.

    An upgrade takes effect in the snapshot that scores it (R-TIER-HOLD).
    """
    s = ctx.scores
    return _tier_moved(s.filter(s.move == "up", s.tier == TIER_ORDER[0]), "A-TIER-UP", rule)


def tier_down(ctx: RuleContext, rule: RuleConfig) -> ir.Table:
    """A-TIER-DOWN: a platinum or gold customer moved down (R-TIER-HIST alert) → call now.

    The effective tier (R-TIER-HOLD): only once the lower tier has held
    ``scoring.downgrade_hold_snapshots`` snapshots, never on a one-quarter dip.
    """
    s = ctx.scores
    alert_tiers = list(ctx.config.scoring.downgrade_alert_tiers)
    moved = s.filter(s.move == "down", s.previous_tier.isin(alert_tiers))
    return _tier_moved(moved, "A-TIER-DOWN", rule)


def custom(ctx: RuleContext, rule: CustomRuleConfig) -> ir.Table:
    """A user's rule: customers whose scores meet ``condition``, at most every
    ``repeat_after_days``."""
    s = ctx.scores
    s = s.filter(condition_filter(rule.rule_id, rule.condition, s))
    mine = ctx.actions.filter(ctx.actions.rule_id == rule.rule_id)
    last = mine.group_by(p_customer_id=mine.customer_id).aggregate(
        last_trigger=mine.trigger_date.max()
    )
    j = s.left_join(last, s.customer_id == last.p_customer_id)
    j = j.filter(
        j.last_trigger.isnull()
        | (shift(j.last_trigger, rule.repeat_after_days) <= as_date(ctx.as_of))
    )
    return candidates(
        j,
        rule.rule_id,
        rule,
        customer_id=j.customer_id,
        vin=None,
        trigger_key=key(j.customer_id, as_date(ctx.as_of)),
        trigger_date=as_date(ctx.as_of),
        evidence=evidence(condition=rule.condition, tier=j.tier, total_score=j.total_score),
    )
