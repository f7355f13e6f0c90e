"""The rules' inputs of one as-of date, wired from the canonical tables (SPEC §6).

Ibis only, ``Table -> Table``; nothing here connects or executes. The service
(:mod:`aftercare.services.actions`) reads the tables and the stored scores from a store and
hands them here; tests hand in tables of any engine.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from aftercare.config import Config
from aftercare.pipeline.inputs import CanonicalTables
from aftercare.pipeline.marts import wire_marts
from aftercare.pipeline.reminders import FleetRates
from aftercare.pipeline.scoring import score_customers
from aftercare.playbook.rules import RuleContext


def computed_scores(tables: CanonicalTables, *, as_of: dt.date, config: Config) -> ir.Table:
    """Scores computed for ``as_of``, for a run with no stored snapshot on or before it.

    Grain: one row per customer. Without a previous snapshot there are no tier moves:
    ``previous_tier`` is NULL and ``move`` is ``new`` (A-TIER-UP/DOWN fire on none).

    Returns
    -------
    ir.Table
        The score columns, previous_tier, move, snapshot_date (``as_of``).
    """
    s = score_customers(
        tables.customers,
        tables.vehicles,
        tables.service_orders,
        tables.interactions,
        as_of=as_of,
        config=config,
    )
    return s.mutate(
        previous_tier=ibis.null("string"),
        move=ibis.literal("new"),
        snapshot_date=ibis.literal(as_of, type="date"),
    )


def wire_rule_context(
    tables: CanonicalTables,
    scores: ir.Table,
    *,
    actions: ir.Table,
    outcomes: ir.Table,
    as_of: dt.date,
    config: Config,
    through: dt.date | None = None,
    years_ahead: int | None = None,
    fleet: FleetRates | None = None,
) -> tuple[RuleContext, ir.Table]:
    """The rules' lazy inputs for one as-of date, and the customer value.

    Orders, reminders, churn risk and reasons and value come from
    :func:`aftercare.pipeline.marts.wire_marts`, so the engine sees the figures the reports
    show.

    Parameters
    ----------
    tables
        The canonical tables.
    scores
        One row per customer: the score columns, ``previous_tier``, ``move`` and
        ``snapshot_date`` (a stored snapshot, or :func:`computed_scores`).
    actions, outcomes
        The stored ``actions`` and ``action_outcomes``.
    as_of, through
        The run's date and the last due date it plans (default and at least ``as_of``).
    config
        The whole configuration.
    years_ahead
        ``through.year - as_of.year`` (default: from the two dates; given when they are
        stand-ins for compiling once, see :mod:`aftercare.store.plans`).
    fleet
        The rates the reminders borrow from every vehicle, when ``tables`` hold some
        customers only (:func:`aftercare.pipeline.marts.wire_marts`).

    Returns
    -------
    tuple
        The :class:`~aftercare.playbook.rules.RuleContext` (its scores with ``risk_level``)
        and ``value.customer_value`` (one row per customer).
    """
    marts = wire_marts(tables, scores, as_of=as_of, config=config, fleet=fleet)
    levels = marts.risk.select(r_customer_id="customer_id", risk_level="risk_level")
    scored = scores.left_join(levels, scores.customer_id == levels.r_customer_id).drop(
        "r_customer_id"
    )
    through = max(through or as_of, as_of)
    ctx = RuleContext(
        as_of=as_of,
        through=through,
        customers=tables.customers,
        vehicles=tables.vehicles,
        orders=marts.orders,
        declined=tables.declined_services,
        interactions=tables.interactions,
        scores=scored,
        reminders=marts.reminders,
        churn=marts.churn_reasons,
        actions=actions,
        outcomes=outcomes,
        config=config,
        years_ahead=through.year - as_of.year if years_ahead is None else years_ahead,
    )
    return ctx, marts.value
