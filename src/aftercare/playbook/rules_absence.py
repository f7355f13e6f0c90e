"""A-CARE-90D: the care call on an abnormal absence (SPEC §6, seed 004's 流失预警).

Ibis only, ``Table -> Table``. A customer is absent abnormally when they are
``retention.care_after_days`` (90) past the return Aftercare expected of them — churn risk's
expectation (R-CHURN-RISK): the earliest R-REMIND due date of their vehicles that falls
after their last visit (a car left unserviced while they keep coming with another is a
maintenance matter, not an absence), or their last visit + their usual interval between
visits, whichever comes first. So the call never fires before 90 days after the last
visit, nor for a customer who is simply not yet due (a
once-a-year customer is called 90 days after their yearly service was due, not 90 days after
the last one). With neither expectation (one visit, no vehicle to forecast) it is the last
visit + 90 days. Once per absence: the trigger is keyed by the last visit, so a visit starts
a new absence.

``actions.care_trigger = "since_last_visit"`` keeps the literal rule: 90 days after the last
visit, whatever the customer's rhythm.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from aftercare.config import RuleConfig
from aftercare.pipeline.churn import earliest_service_due, usual_interval_days, visit_history
from aftercare.pipeline.staging import as_date
from aftercare.playbook.rules import RuleContext, candidates, evidence, key, shift

CARE_RULE = "A-CARE-90D"


def _day_after(day: ir.DateValue, days: ir.NumericValue) -> ir.DateValue:
    return (day + days.ceil().cast("int64").as_interval("D")).cast("date")


def expected_return(ctx: RuleContext) -> ir.Table:
    """When each customer who has visited was expected back (R-CHURN-RISK's expectation).

    Grain: one row per customer with a visit on or before as-of.

    Returns
    -------
    ir.Table
        customer_id, last_visit_date, usual_interval_days, next_service_due_date,
        expected_return_date (NULL when nothing can be estimated).
    """
    history = visit_history(ctx.orders, as_of=ctx.as_of)
    # Only services due after the last visit: a second car left unserviced while the customer
    # keeps coming with the first is a maintenance reminder, not an absence.
    r = ctx.reminders.select("customer_id", "due_date")
    r = r.join(history.select("customer_id", "last_visit_date"), "customer_id")
    due = earliest_service_due(r.filter(r.due_date > r.last_visit_date))
    j = history.left_join(due, "customer_id")
    usual = usual_interval_days(j)
    by_interval = _day_after(j.last_visit_date, usual)
    by_service = j.next_service_due_date
    earliest = ibis.least(by_interval.coalesce(by_service), by_service.coalesce(by_interval))
    return j.select(
        customer_id=j.customer_id,
        last_visit_date=j.last_visit_date,
        usual_interval_days=usual,
        next_service_due_date=by_service,
        expected_return_date=earliest.cast("timestamp").date(),
    )


def care_triggers(ctx: RuleContext) -> ir.Table:
    """When each customer's care call falls due (module doc), on or after as-of too.

    Returns
    -------
    ir.Table
        :func:`expected_return`'s columns and ``trigger`` (the care call's date).
    """
    after = ctx.config.retention.care_after_days
    e = expected_return(ctx)
    literal = shift(e.last_visit_date, after)
    if ctx.config.actions.care_trigger == "overdue":
        overdue = shift(e.expected_return_date, after)
        trigger = ibis.greatest(overdue.coalesce(literal), literal)
    else:
        trigger = literal
    return e.mutate(trigger=trigger.cast("date"))


def care_key(customer_id: ir.Value, last_visit_date: ir.Value) -> ir.StringValue:
    """A-CARE-90D's trigger key: one call per absence (customer + last visit)."""
    return key(customer_id, last_visit_date)


def care_90d(ctx: RuleContext, rule: RuleConfig) -> ir.Table:
    """A-CARE-90D: ``care_after_days`` past the expected return → care call (module doc)."""
    e = care_triggers(ctx)
    e = e.filter(e.trigger <= as_date(ctx.as_of))
    return candidates(
        e,
        CARE_RULE,
        rule,
        customer_id=e.customer_id,
        vin=None,
        trigger_key=care_key(e.customer_id, e.last_visit_date),
        trigger_date=e.trigger,
        evidence=evidence(
            last_visit_date=e.last_visit_date,
            expected_return_date=e.expected_return_date,
            days_absent=as_date(ctx.as_of).delta(e.last_visit_date, unit="day"),
        ),
    )
