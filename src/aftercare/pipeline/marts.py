"""Every mart of one as-of date, wired once from the canonical tables (SPEC §2–5).

Ibis only, ``Table -> Table``; nothing here connects or executes. Reports, summaries, the
exports and the action engine take their inputs from :func:`wire_marts`, so every figure a
manager sees, and every action the engine plans, is computed one way. The service
(:mod:`aftercare.services.marts`) reads the tables from a store and materialises the marts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import ibis.expr.types as ir

from aftercare.config import Config
from aftercare.pipeline.churn import churn_reason, churn_risk, churn_signals, likely_churn_reason
from aftercare.pipeline.inputs import CanonicalTables
from aftercare.pipeline.lifecycle import customer_lifecycle
from aftercare.pipeline.population import customers_as_of
from aftercare.pipeline.reminders import (
    FleetRates,
    vehicle_reminders,
    vehicle_status_flags,
)
from aftercare.pipeline.staging import resolved_orders
from aftercare.pipeline.value import customer_value

#: What :func:`wire_marts` applies to each mart others are built on (e.g. ``Table.cache``).
Keep = Callable[[ir.Table], ir.Table]


@dataclass(frozen=True)
class Marts:
    """The marts of one as-of date (each docstring in ``pipeline/`` states its grain)."""

    as_of: dt.date
    tables: CanonicalTables
    orders: ir.Table  # one row per order, customer resolved
    scores: ir.Table  # one row per customer: RFM+L, tier, previous tier, move
    value: ir.Table  # one row per customer: profit, cost to serve, net profit, LTV
    lifecycle: ir.Table  # one row per customer: stage by newest vehicle
    reminders: ir.Table  # one row per active vehicle: next service due
    vehicle_flags: ir.Table  # one row per customer with a sold/scrapped vehicle
    signals: ir.Table  # one row per customer: NPS, complaints, competitor visits, declines
    risk: ir.Table  # one row per customer: churn risk level and reasons
    churn_reasons: ir.Table  # one row per lapsed or high-risk customer: likely reason


def _lazy(table: ir.Table) -> ir.Table:
    return table


def population_as_of(tables: CanonicalTables, *, as_of: dt.date) -> ir.Table:
    """The customers that exist on ``as_of`` (``population.customers_as_of``, R-TIER-HIST).

    Grain: one row per customer (every column of ``customers``).
    """
    return customers_as_of(
        tables.customers, tables.service_orders, tables.vehicles, tables.interactions, as_of=as_of
    )


def signals_as_of(tables: CanonicalTables, *, as_of: dt.date, config: Config) -> ir.Table:
    """The churn signals of ``as_of`` (``churn.churn_signals``), wired one way for every caller.

    Grain: one row per customer with any interaction or declined quote in the window; a
    declined quote without a customer is its vehicle's owner's.
    """
    return churn_signals(
        tables.interactions,
        tables.declined_services,
        as_of=as_of,
        config=config.retention,
        vehicles=tables.vehicles,
    )


def risk_inputs(
    tables: CanonicalTables,
    orders: ir.Table,
    *,
    as_of: dt.date,
    config: Config,
    keep: Keep = _lazy,
    fleet: FleetRates | None = None,
) -> tuple[ir.Table, ir.Table, ir.Table]:
    """Reminders, churn signals and churn risk of ``as_of``, wired one way for every caller.

    ``orders`` are the resolved orders; ``keep`` and ``fleet`` as in :func:`wire_marts`.
    """
    reminders = keep(
        vehicle_reminders(
            orders, tables.vehicles, as_of=as_of, config=config.reminders, fleet=fleet
        )
    )
    signals = keep(signals_as_of(tables, as_of=as_of, config=config))
    # The customers of that date: a past date's risk never lists one created later.
    population = population_as_of(tables, as_of=as_of)
    risk = keep(
        churn_risk(orders, population, reminders, signals, as_of=as_of, config=config.retention)
    )
    return reminders, signals, risk


def churn_reasons_of(
    tables: CanonicalTables, customer_ids: ir.Table, *, as_of: dt.date, config: Config
) -> ir.Table:
    """R-CHURN-REASON of the customers of ``customer_ids`` as of ``as_of``, whatever their tier.

    The reason the churn mart and the engine give (``churn.likely_churn_reason`` on the same
    signals and vehicle flags), for customers named by someone else: e.g. the win-back
    actions whose script needs a reason the action's evidence does not carry.

    Grain: one row per distinct customer of ``customer_ids``.

    Returns
    -------
    ir.Table
        customer_id, churn_reason, reason_evidence, conversation.
    """
    population = customer_ids.select("customer_id").distinct()
    return likely_churn_reason(
        population,
        tables.customers,
        signals_as_of(tables, as_of=as_of, config=config),
        vehicle_flags=vehicle_status_flags(tables.vehicles),
    )


def wire_marts(
    tables: CanonicalTables,
    scores: ir.Table,
    *,
    as_of: dt.date,
    config: Config,
    keep: Keep = _lazy,
    fleet: FleetRates | None = None,
) -> Marts:
    """Wire every mart from canonical tables and one date's scores.

    ``scores`` needs at least ``customer_id`` and ``tier`` (one row per customer). ``keep``
    is applied to each mart that others are built on (default: left lazy), e.g. to compute
    each once in the engine (``services.marts.materialised_marts``). ``fleet``: the rates
    the reminders borrow (``reminders.fleet_rates`` of the whole store when ``tables`` hold
    some customers only; default: from ``tables``).
    """
    orders = keep(resolved_orders(tables.service_orders, tables.vehicles))
    reminders, signals, risk = risk_inputs(
        tables, orders, as_of=as_of, config=config, keep=keep, fleet=fleet
    )
    flags = vehicle_status_flags(tables.vehicles)
    value = customer_value(
        orders, tables.interactions, scores, as_of=as_of, scoring=config.scoring, value=config.value
    )
    reasons = churn_reason(risk, scores, tables.customers, signals, vehicle_flags=flags)
    return Marts(
        as_of=as_of,
        tables=tables,
        orders=orders,
        scores=scores,
        value=keep(value),
        lifecycle=customer_lifecycle(
            tables.vehicles,
            as_of=as_of,
            config=config.lifecycle,
            customers=population_as_of(tables, as_of=as_of),
        ),
        reminders=reminders,
        vehicle_flags=flags,
        signals=signals,
        risk=risk,
        churn_reasons=keep(reasons),
    )


def churn_risk_mart(marts: Marts) -> ir.Table:
    """Churn risk with its reasons and the likely churn reason (R-CHURN-RISK, R-CHURN-REASON).

    Grain: one row per customer as of the date. ``churn_reason``, ``reason_evidence`` and
    ``conversation`` are NULL for customers neither lapsed nor at high risk (no reason is
    guessed for them); ``tier`` is the customer's tier in the date's score snapshot.

    Returns
    -------
    ir.Table
        as_of_date, customer_id, tier, risk_level, reasons, last_visit_date, days_absent,
        usual_interval_days, next_service_due_date, days_overdue, has_low_nps,
        has_unresolved_complaint, churn_reason, reason_evidence, conversation.
    """
    risk = marts.risk
    tiers = marts.scores.select(t_customer_id=marts.scores.customer_id, tier=marts.scores.tier)
    reasons = marts.churn_reasons.select(
        r_customer_id=marts.churn_reasons.customer_id,
        churn_reason=marts.churn_reasons.churn_reason,
        reason_evidence=marts.churn_reasons.reason_evidence,
        conversation=marts.churn_reasons.conversation,
    )
    j = risk.left_join(tiers, risk.customer_id == tiers.t_customer_id).left_join(
        reasons, risk.customer_id == reasons.r_customer_id
    )
    return j.select(
        "as_of_date",
        "customer_id",
        "tier",
        "risk_level",
        "reasons",
        "last_visit_date",
        "days_absent",
        "usual_interval_days",
        "next_service_due_date",
        "days_overdue",
        "has_low_nps",
        "has_unresolved_complaint",
        "churn_reason",
        "reason_evidence",
        "conversation",
    )
