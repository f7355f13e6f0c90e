"""When a customer's plan may next change with the date alone (issue 11: incremental runs).

Ibis only, ``Table -> Table``; nothing here connects or executes. After an engine run has
planned some customers and stored their new actions, :func:`wake_dates` gives each of them
the earliest later date on which the engine could find something new for them *if none of
their data changed*; the incremental run (:mod:`aftercare.services.incremental`) plans a
customer again when that date comes (or their data changes, :mod:`.changes`). Waking early
only costs time; waking late would lose an action, so every date here errs early:

- *a trigger not acted on* (any rule's candidate whose stable id is not stored) and not due
  yet: on its due date (one due already was blocked by consent, kept in ``engine_blocked``,
  or superseded by a newer trigger of its subject);
- A-INSPECTION picks its inspection date relative to as-of: the day after its catch-up
  ends, when the next inspection becomes the one;
- A-BIRTHDAY plans the years from as-of's: the 1st of January of the next year;
- A-CARE-90D: the day the absence's care call falls due (:func:`.rules_absence.care_triggers`);
- A-WINBACK and A-TRADE-IN follow the churn risk level (R-CHURN-RISK), which rises when the
  days overdue or absent reach ``care_after_days`` or ``high_risk_after_days``: each such
  date counted from the last visit, from the last visit + the usual interval, and from
  every service due date of the customer's vehicles; the day after a low NPS or an
  unresolved complaint leaves the window (the level may fall); and a win-back's next
  attempt ``winback_retry_days`` after its last outcome;
- custom rules: ``repeat_after_days`` after the customer's last action of the rule.

Tier moves come with a new snapshot and new events with their rows (:mod:`.changes`); a
reminder whose vehicle borrows the fleet's rate moves with everyone's data, so those
vehicles' due dates are kept (:func:`fleet_borrowers`) and compared every run.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from aftercare.pipeline.staging import as_date
from aftercare.playbook.engine import candidate_actions, enabled_rules, stable_action_id
from aftercare.playbook.rules import RuleContext, shift
from aftercare.playbook.rules_absence import CARE_RULE, care_triggers
from aftercare.playbook.rules_state import TRADE_IN_RULE

#: The reminder rate sources that borrow from other vehicles (R-REMIND).
BORROWED_RATES = ("model", "store", "config")


def _pending_triggers(ctx: RuleContext, cands: ir.Table) -> ir.Table:
    """customer_id, on: each candidate not stored yet and not due yet, on its due date;
    A-INSPECTION also the day after its catch-up ends.

    A candidate due already and not stored was blocked by consent (the run keeps it in
    ``engine_blocked`` and counts it again on the days it does not plan the customer) or
    superseded by a newer trigger (it never fires): neither wakes the customer.
    """
    cands = cands.filter(cands.due_date.notnull())
    c = cands.mutate(action_id=stable_action_id(cands.rule_id, cands.trigger_key))
    stored = ctx.actions.select(s_action_id="action_id")
    pending = c.anti_join(stored, c.action_id == stored.s_action_id)
    pending = pending.filter(pending.due_date > as_date(ctx.as_of))
    out = pending.select(customer_id=pending.customer_id, on=pending.due_date.cast("date"))
    insp = c.filter(c.rule_id == "A-INSPECTION", c.catch_up_days.notnull())
    after = (insp.due_date + (insp.catch_up_days + 1).as_interval("D")).cast("timestamp").date()
    return out.union(insp.select(customer_id=insp.customer_id, on=after), distinct=False)


def _risk_dates(ctx: RuleContext, e: ir.Table) -> list[ir.Table]:
    """The days a customer's churn risk level may rise (module doc), as customer_id, on.
    ``e``: :func:`~.rules_absence.care_triggers` of ``ctx``."""
    retention = ctx.config.retention
    due = ctx.reminders.group_by("customer_id").aggregate(first_due=ctx.reminders.due_date.min())
    e = e.left_join(due, "customer_id")
    # floor(days absent − usual) ≥ t from the day days absent reaches t + ceil(usual). A
    # date too early is as wrong as one too late: one on or before as-of is dropped.
    usual = e.usual_interval_days.ceil().cast("int64")
    by_interval = (e.last_visit_date + usual.as_interval("D")).cast("timestamp").date()
    bases = (e.last_visit_date, by_interval, e.next_service_due_date, e.first_due)
    out = []
    for days in (retention.care_after_days, retention.high_risk_after_days):
        for base in bases:
            out.append(e.select(customer_id=e.customer_id, on=shift(base, days).cast("date")))
    # A low NPS or an unresolved complaint raises the level while it is in the window: the
    # day after it leaves, the level may fall (a blocked win-back is then met no more).
    i = ctx.interactions
    signals = i.filter(i.type.isin(["complaint", "nps_survey"]), i.customer_id.notnull())
    leaves = shift(signals.ts.date(), retention.active_window_days + 1).cast("date")
    out.append(signals.select(customer_id=signals.customer_id, on=leaves))
    return out


def _retry_dates(ctx: RuleContext) -> ir.Table:
    """A win-back's next attempt: ``winback_retry_days`` after its last outcome."""
    a = ctx.actions.filter(ctx.actions.rule_id == "A-WINBACK")
    o = ctx.outcomes.select(o_action_id="action_id", recorded_at="recorded_at")
    j = a.inner_join(o, a.action_id == o.o_action_id)
    last = j.group_by("customer_id").aggregate(last_outcome=j.recorded_at.max().date())
    retry = ctx.config.actions.winback_retry_days
    return last.select("customer_id", on=shift(last.last_outcome, retry).cast("date"))


def _repeat_dates(ctx: RuleContext) -> list[ir.Table]:
    """Custom rules: ``repeat_after_days`` after the customer's last action of the rule."""
    out = []
    for rule in ctx.config.actions.custom_rules:
        if not rule.enabled:
            continue
        mine = ctx.actions.filter(ctx.actions.rule_id == rule.rule_id)
        last = mine.group_by("customer_id").aggregate(last=mine.trigger_date.max())
        out.append(last.select("customer_id", on=shift(last.last, rule.repeat_after_days)))
    return out


def wake_dates(ctx: RuleContext) -> ir.Table | None:
    """The earliest date after as-of on which each customer's plan may change with the date
    alone (module doc), from the actions stored before the run (``ctx.actions``): the
    run's own new actions are due by its ``through``, which no wake date here counts
    (a custom rule's next repeat after today's action is the caller's to add).

    Grain: one row per customer with such a date.

    Returns
    -------
    ir.Table | None
        customer_id, wake_on; None when no rule is enabled.
    """
    enabled = enabled_rules(ctx.config)
    parts: list[ir.Table] = []
    cands = candidate_actions(ctx)
    if cands is not None:
        parts.append(_pending_triggers(ctx, cands))
        if "A-BIRTHDAY" in enabled:
            b = cands.filter(cands.rule_id == "A-BIRTHDAY")
            next_year = ibis.date(as_date(ctx.as_of).year() + 1, 1, 1)
            parts.append(b.select(customer_id=b.customer_id, on=next_year))
    triggers = care_triggers(ctx)  # one expression for both uses: one computation
    if CARE_RULE in enabled:
        parts.append(triggers.select(customer_id=triggers.customer_id, on=triggers.trigger))
    if "A-WINBACK" in enabled or TRADE_IN_RULE in enabled:
        parts.extend(_risk_dates(ctx, triggers))
    if "A-WINBACK" in enabled:
        parts.append(_retry_dates(ctx))
    parts.extend(_repeat_dates(ctx))
    if not parts:
        return None
    dated = parts[0].select("customer_id", "on")
    for part in parts[1:]:
        dated = dated.union(part.select("customer_id", "on"), distinct=False)
    later = dated.filter(dated.customer_id.notnull(), dated.on > as_date(ctx.as_of))
    return later.group_by("customer_id").aggregate(wake_on=later.on.min())


def fleet_borrowers(ctx: RuleContext) -> ir.Table:
    """Vehicles whose reminder borrows a rate from other vehicles (R-REMIND): their due date
    moves with everyone's data, so it is kept and compared every run.

    Returns
    -------
    ir.Table
        vin, customer_id, rate_source, due_date.
    """
    r = ctx.reminders
    r = r.filter(r.rate_source.isin(list(BORROWED_RATES)))
    return r.select("vin", "customer_id", "rate_source", "due_date")
