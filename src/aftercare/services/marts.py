"""Every mart of one as-of date, from a store: wired, materialised, exportable (SPEC §2–5).

The wiring itself is pure and lives in :mod:`aftercare.pipeline.marts`; this module reads the
store's tables, makes sure the date's score snapshot exists, materialises the shared marts
for callers that ask many questions of one date, and gives per-entity marts to exports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import ibis
import ibis.expr.types as ir

from aftercare.config import Config
from aftercare.errors import AftercareError
from aftercare.pipeline.marts import Marts, churn_risk_mart, wire_marts
from aftercare.pipeline.value import clv_inputs
from aftercare.services.inputs import canonical_tables
from aftercare.services.scoring import SCORES_TABLE, score_snapshot, snapshot
from aftercare.store.connect import Store
from aftercare.store.snapshots import snapshot_dates

#: The per-entity marts ``aftercare export NAME --as-of DATE`` computes (never stored), by grain.
MART_GRAINS: dict[str, str] = {
    "churn_risk": "one row per customer as of the date",
    "vehicle_reminders": "one row per active vehicle delivered on or before the date",
    "customer_value": "one row per scored customer as of the date",
}


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


def mart_rows(store: Store, name: str, *, as_of: dt.date, config: Config) -> ir.Table:
    """Mart ``name`` as of ``as_of`` as an export writes it: one row per entity, in key order.

    The ``as_of`` score snapshot is computed and stored first when it is missing.
    """
    table = mart(build_marts(store, as_of, config), name, config)
    return table.order_by("vin" if name == "vehicle_reminders" else "customer_id")
