"""Every mart of one as-of date, wired once from a store (SPEC §2–5).

Lazy Ibis expressions: nothing runs until a caller materialises what it needs. Reports,
summaries and the action engine take their inputs from here so every figure a manager sees
is computed one way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir

from aftercare.config import Config
from aftercare.errors import AftercareError
from aftercare.pipeline.churn import churn_reason, churn_risk, churn_signals
from aftercare.pipeline.lifecycle import customer_lifecycle
from aftercare.pipeline.reminders import vehicle_reminders, vehicle_status_flags
from aftercare.pipeline.staging import resolved_orders
from aftercare.pipeline.value import clv_inputs, customer_value
from aftercare.services.inputs import CanonicalTables, canonical_tables
from aftercare.services.scoring import SCORES_TABLE, score_snapshot, snapshot
from aftercare.store.connect import Store
from aftercare.store.export import export_expr
from aftercare.store.snapshots import snapshot_dates

#: The per-entity marts ``aftercare export NAME --as-of DATE`` computes (never stored), by grain.
MART_GRAINS: dict[str, str] = {
    "churn_risk": "one row per customer as of the date",
    "vehicle_reminders": "one row per active vehicle delivered on or before the date",
    "customer_value": "one row per scored customer as of the date",
}


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


def ensure_scores(store: Store, as_of: dt.date, config: Config) -> None:
    """Compute the ``as_of`` score snapshot unless it is stored already."""
    if as_of not in snapshot_dates(store, SCORES_TABLE):
        score_snapshot(store, as_of, config)


def build_marts(store: Store, as_of: dt.date, config: Config) -> Marts:
    """Wire every mart for ``as_of`` (the score snapshot is computed first when missing)."""
    ensure_scores(store, as_of, config)
    return wire_marts(canonical_tables(store), snapshot(store, as_of), as_of=as_of, config=config)


@contextmanager
def materialised_marts(store: Store, as_of: dt.date, config: Config) -> Iterator[Marts]:
    """:func:`build_marts` with the shared marts computed once, in the engine.

    Lazy marts are recomputed by every query that reads them: the churn-risk mart (orders,
    reminders, signals) was evaluated afresh for the risk counts, the churn reasons and the top
    risks of one headline. Here the resolved orders, reminders, signals, risk, value and churn
    reasons are each materialised once (Ibis ``cache``: a temporary table on DuckDB and
    PostgreSQL, a cached DataFrame on Spark) and released on exit, so a caller that asks many
    questions of one date — the headline, the report, the dashboard — pays for each mart once.
    The figures are the same as :func:`build_marts` gives.
    """
    ensure_scores(store, as_of, config)
    cached: list[ir.Table] = []

    def keep(table: ir.Table) -> ir.Table:
        table = table.cache()
        cached.append(table)
        return table

    try:
        yield wire_marts(
            canonical_tables(store), snapshot(store, as_of), as_of=as_of, config=config, keep=keep
        )
    finally:
        for table in reversed(cached):
            table.release()


def _lazy(table: ir.Table) -> ir.Table:
    return table


def risk_inputs(
    tables: CanonicalTables,
    orders: ir.Table,
    *,
    as_of: dt.date,
    config: Config,
    keep: Callable[[ir.Table], ir.Table] = _lazy,
) -> tuple[ir.Table, ir.Table, ir.Table]:
    """Reminders, churn signals and churn risk of ``as_of``, wired one way for every caller.

    ``orders`` are the resolved orders; ``keep`` as in :func:`wire_marts`.
    """
    reminders = keep(
        vehicle_reminders(orders, tables.vehicles, as_of=as_of, config=config.reminders)
    )
    signals = keep(
        churn_signals(
            tables.interactions,
            tables.declined_services,
            as_of=as_of,
            config=config.retention,
            vehicles=tables.vehicles,
        )
    )
    risk = keep(
        churn_risk(
            orders, tables.customers, reminders, signals, as_of=as_of, config=config.retention
        )
    )
    return reminders, signals, risk


def wire_marts(
    tables: CanonicalTables,
    scores: ir.Table,
    *,
    as_of: dt.date,
    config: Config,
    keep: Callable[[ir.Table], ir.Table] = _lazy,
) -> Marts:
    """Wire every mart from canonical tables and one date's scores (pure: no store needed).

    ``keep`` is applied to each mart that others are built on (default: left lazy); see
    :func:`materialised_marts`.
    """
    orders = keep(resolved_orders(tables.service_orders, tables.vehicles))
    reminders, signals, risk = risk_inputs(tables, orders, as_of=as_of, config=config, keep=keep)
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
        lifecycle=customer_lifecycle(tables.vehicles, as_of=as_of, config=config.lifecycle),
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


def customer_value_mart(marts: Marts, config: Config) -> ir.Table:
    """Customer value with the simple LTV and the probabilistic CLV beside it (R-VAL-LTV).

    Grain: one row per scored customer as of the date. Every column of ``marts.value``, then
    the clearly labelled model estimates of :mod:`aftercare.models.clv` (``clv_model``,
    ``clv_status``, ``clv_horizon_days``, ``probability_active``, ``expected_visits_horizon``,
    ``expected_spend_per_visit_cny``, ``clv_probabilistic_cny``). The models are fitted here,
    on the engine's one-row-per-customer inputs pulled as Arrow; a customer without any visit
    has no estimate (``clv_status`` = ``no visit``).
    """
    from aftercare.models.clv import CLV_COLUMNS, probabilistic_clv

    known = marts.orders.filter(marts.orders.customer_id.isin(marts.tables.customers.customer_id))
    inputs = clv_inputs(known, as_of=marts.as_of, value=config.value, scoring=config.scoring)
    fit = probabilistic_clv(inputs.order_by("customer_id").to_pyarrow(), config=config.value)
    estimates = ibis.memtable(fit.estimates).rename(e_customer_id="customer_id")
    value = marts.value
    j = value.left_join(estimates, value.customer_id == estimates.e_customer_id)
    return j.select(
        *[j[c] for c in value.columns],
        *[j[c] for c in CLV_COLUMNS if c not in {"customer_id", "clv_status"}],
        clv_status=j.clv_status.coalesce(NO_VISIT),
    )


#: ``clv_status`` of a customer with no visit on record: the models have nothing to go on.
NO_VISIT = "no visit"


def mart(marts: Marts, name: str, config: Config) -> ir.Table:
    """The per-entity mart called ``name`` (one of :data:`MART_GRAINS`).

    Raises
    ------
    AftercareError
        Unknown mart name.
    """
    if name == "churn_risk":
        return churn_risk_mart(marts)
    if name == "vehicle_reminders":
        return marts.reminders
    if name == "customer_value":
        return customer_value_mart(marts, config)
    raise AftercareError(f"no mart {name!r}; marts: {', '.join(MART_GRAINS)}")


def export_mart(store: Store, name: str, out: Path, *, as_of: dt.date, config: Config) -> int:
    """Compute mart ``name`` as of ``as_of`` and write it to ``out``; return the rows written.

    The ``as_of`` score snapshot is computed and stored first when it is missing.
    """
    table = mart(build_marts(store, as_of, config), name, config)
    key = ["vin"] if name == "vehicle_reminders" else ["customer_id"]
    return export_expr(table, out, order_by=key)
