"""Lift of each rule against its random control group (R-ACT-HOLDOUT).

Ibis only, ``Table -> Table``; nothing here connects or executes.

Definitions (SPEC says "return rate of treated vs control"; decided here):

- *base date* of an action: its ``original_due_date`` (before R-ACT-CAP moved it), else its
  ``due_date``; treated and control actions of one rule are dated the same way.
- *returned*: the customer has a visit (``staging.visits``: refunds are not visits) with
  base date ≤ open_date ≤ base date + ``return_window_days``.
- Only actions whose window has ended (base date + ``return_window_days`` ≤ as-of) count,
  so a recent action is never scored as "did not return" before it had the chance.
- *control*: actions the engine put in the rule's holdout (``status = 'holdout'``).
- *treated*: every other action with at least one recorded outcome (someone acted on it).
  ``lift`` = treated rate − control rate.
- *assigned* (intention to treat): every action not in the holdout, acted on or not. Because
  the holdout is drawn at random among all of a rule's actions, ``lift_itt`` = assigned rate
  − control rate is the unbiased effect of *having* the rule; ``lift`` can flatter a rule
  when the customers an advisor manages to reach were more likely to return anyway.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from aftercare.pipeline.latest import returned_within
from aftercare.pipeline.staging import as_date, visits
from aftercare.playbook.kpis import fraction


def action_returns(
    actions: ir.Table,
    outcomes: ir.Table,
    orders: ir.Table,
    *,
    as_of: dt.date | str,
    return_window_days: int,
) -> ir.Table:
    """Whether the customer of each action returned within the window (R-ACT-HOLDOUT).

    Grain: one row per action whose return window ended on or before ``as_of``.

    Returns
    -------
    ir.Table
        action_id, rule_id, customer_id, base_date, is_control, is_treated, returned.
    """
    as_of_lit = as_date(as_of)
    base = actions.mutate(base_date=actions.original_due_date.coalesce(actions.due_date))
    base = base.filter(base.base_date + ibis.interval(days=return_window_days) <= as_of_lit)
    acted = outcomes.select(o_action_id=outcomes.action_id).distinct()
    hits = returned_within(base, visits(orders), event_date="base_date", days=return_window_days)
    returned = hits.select(r_action_id=hits.action_id)
    j = base.left_join(acted, base.action_id == acted.o_action_id)
    j = j.left_join(returned, j.action_id == returned.r_action_id)
    is_control = j.status == "holdout"
    return j.select(
        "action_id",
        "rule_id",
        "customer_id",
        "base_date",
        is_control=is_control,
        is_treated=~is_control & j.o_action_id.notnull(),
        returned=j.r_action_id.notnull(),
    )


def rule_lift(
    actions: ir.Table,
    outcomes: ir.Table,
    orders: ir.Table,
    *,
    as_of: dt.date | str,
    return_window_days: int,
) -> ir.Table:
    """Return rates of treated, assigned and control actions per rule, and the lifts.

    Grain: one row per rule with at least one action whose window has ended.

    Parameters
    ----------
    actions, outcomes
        The stored ``actions`` and ``action_outcomes``.
    orders
        Orders with their customer resolved (``staging.resolved_orders``).
    as_of
        Only actions whose return window ended by this date count.
    return_window_days
        Days after the base date within which a visit counts as a return.

    Returns
    -------
    ir.Table
        rule_id, control_actions, control_returned, control_rate, treated_actions,
        treated_returned, treated_rate, lift, assigned_actions, assigned_returned,
        assigned_rate, lift_itt (rates are fractions; a lift is NULL without a control group).
    """
    r = action_returns(
        actions, outcomes, orders, as_of=as_of, return_window_days=return_window_days
    )
    assigned = ~r.is_control
    counts = r.group_by("rule_id").aggregate(
        control_actions=r.count(where=r.is_control),
        control_returned=r.count(where=r.is_control & r.returned),
        treated_actions=r.count(where=r.is_treated),
        treated_returned=r.count(where=r.is_treated & r.returned),
        assigned_actions=r.count(where=assigned),
        assigned_returned=r.count(where=assigned & r.returned),
    )
    control = fraction(counts.control_returned, counts.control_actions)
    treated = fraction(counts.treated_returned, counts.treated_actions)
    itt = fraction(counts.assigned_returned, counts.assigned_actions)
    return counts.select(
        "rule_id",
        control_actions=counts.control_actions.cast("int64"),
        control_returned=counts.control_returned.cast("int64"),
        control_rate=control,
        treated_actions=counts.treated_actions.cast("int64"),
        treated_returned=counts.treated_returned.cast("int64"),
        treated_rate=treated,
        lift=treated - control,
        assigned_actions=counts.assigned_actions.cast("int64"),
        assigned_returned=counts.assigned_returned.cast("int64"),
        assigned_rate=itt,
        lift_itt=itt - control,
    )
