"""Every mart of one as-of date, wired once from a store (SPEC §2–5).

Lazy Ibis expressions: nothing runs until a caller materialises what it needs. Reports,
summaries and the action engine take their inputs from here so every figure a manager sees
is computed one way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis.expr.types as ir

from aftercare.config import Config
from aftercare.pipeline.churn import churn_reason, churn_risk, churn_signals
from aftercare.pipeline.lifecycle import customer_lifecycle
from aftercare.pipeline.reminders import vehicle_reminders, vehicle_status_flags
from aftercare.pipeline.staging import resolved_orders
from aftercare.pipeline.value import customer_value
from aftercare.services.inputs import CanonicalTables, canonical_tables
from aftercare.services.scoring import SCORES_TABLE, score_snapshot, snapshot
from aftercare.store.connect import Store
from aftercare.store.snapshots import snapshot_dates


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


def wire_marts(
    tables: CanonicalTables, scores: ir.Table, *, as_of: dt.date, config: Config
) -> Marts:
    """Wire every mart from canonical tables and one date's scores (pure: no store needed)."""
    orders = resolved_orders(tables.service_orders, tables.vehicles)
    reminders = vehicle_reminders(orders, tables.vehicles, as_of=as_of, config=config.reminders)
    flags = vehicle_status_flags(tables.vehicles)
    signals = churn_signals(
        tables.interactions,
        tables.declined_services,
        as_of=as_of,
        config=config.retention,
        vehicles=tables.vehicles,
    )
    risk = churn_risk(
        orders, tables.customers, reminders, signals, as_of=as_of, config=config.retention
    )
    return Marts(
        as_of=as_of,
        tables=tables,
        orders=orders,
        scores=scores,
        value=customer_value(
            orders,
            tables.interactions,
            scores,
            as_of=as_of,
            scoring=config.scoring,
            value=config.value,
        ),
        lifecycle=customer_lifecycle(tables.vehicles, as_of=as_of, config=config.lifecycle),
        reminders=reminders,
        vehicle_flags=flags,
        signals=signals,
        risk=risk,
        churn_reasons=churn_reason(risk, scores, tables.customers, signals, vehicle_flags=flags),
    )
