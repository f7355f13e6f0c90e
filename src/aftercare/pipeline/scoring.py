"""RFM+L scoring and tiers (SPEC §2: R-SCORE-R/F/M/L/T, R-TIER; R-IN-4, R-IN-5).

Ibis only, ``Table -> Table``; nothing here connects or executes. Every bin, point value and
cut-off comes from :class:`aftercare.config.ScoringConfig`.

Window rule (SPEC §2): an event counts when 0 <= (as_of - its date) <= ``window_days``; events
after ``as_of`` are ignored everywhere, so scores can be recomputed for any past date.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import ibis
import ibis.expr.datatypes as dt_
import ibis.expr.types as ir

from aftercare.config import TIER_ORDER, Config, ScoringConfig
from aftercare.pipeline.loyalty import LOYALTY_COLUMNS, loyalty_points, scoring_config
from aftercare.pipeline.population import customers_as_of
from aftercare.pipeline.staging import (
    as_date,
    orders_in_window,
    orders_up_to,
    resolved_orders,
    spend_orders,
    visit_orders,
    visits,
)

#: Type of the ``monetary`` column (net spend, CNY or the data's currency).
MONETARY_TYPE = dt_.Decimal(18, 2)

#: Columns of :func:`score_customers`, in order (exports rely on these names).
SCORE_COLUMNS: tuple[str, ...] = (
    "as_of_date",
    "customer_id",
    "last_visit_date",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    *LOYALTY_COLUMNS,
    "l_points",
    "total_score",
    "tier",
)


def _int(value: int) -> ir.IntegerScalar:
    return ibis.literal(value, type="int64")


def recency_points(
    recency_days: ir.IntegerValue, config: Config | ScoringConfig
) -> ir.IntegerValue:
    """R-SCORE-R: points for days since the last visit; NULL (never visited) gets the floor."""
    scoring = scoring_config(config)
    bins = sorted(scoring.recency_max_days)
    return ibis.cases(
        *[(recency_days <= max_days, _int(points)) for max_days, points in bins],
        else_=_int(scoring.recency_floor_points),
    ).cast("int64")


def frequency_points(frequency: ir.IntegerValue, config: Config | ScoringConfig) -> ir.IntegerValue:
    """R-SCORE-F: points for the visit count (bins checked from the top)."""
    scoring = scoring_config(config)
    bins = sorted(scoring.frequency_bins, key=lambda b: b.min, reverse=True)
    return ibis.cases(
        *[(frequency >= b.min, _int(b.points)) for b in bins],
        else_=_int(scoring.frequency_floor_points),
    ).cast("int64")


def monetary_points(monetary: ir.DecimalValue, config: Config | ScoringConfig) -> ir.IntegerValue:
    """R-SCORE-M: points for net spend (bins checked from the top, compared as decimals)."""
    scoring = scoring_config(config)
    bins = sorted(scoring.monetary_bins, key=lambda b: b.min, reverse=True)
    # Decimal thresholds: a float comparison could misplace 9999.99 vs 10000 on some engine.
    return ibis.cases(
        *[
            (monetary >= ibis.literal(Decimal(str(b.min)), type=dt_.Decimal(28, 6)), _int(b.points))
            for b in bins
        ],
        else_=_int(scoring.monetary_floor_points),
    ).cast("int64")


def tier_of(total_score: ir.IntegerValue, config: Config | ScoringConfig) -> ir.StringValue:
    """R-TIER: the tier whose minimum total the score reaches (a lower total gets the lowest)."""
    scoring = scoring_config(config)
    ordered = sorted(TIER_ORDER, key=lambda t: scoring.tier_min_total[t], reverse=True)
    return ibis.cases(
        *[(total_score >= _int(scoring.tier_min_total[t]), ibis.literal(t)) for t in ordered],
        else_=ibis.literal(ordered[-1]),
    )


def visit_facts(
    orders: ir.Table, *, as_of: dt.date | str, config: Config | ScoringConfig
) -> ir.Table:
    """Last visit and visit count per customer (R-SCORE-R, R-SCORE-F).

    Grain: one row per customer with at least one visit on or before ``as_of``.

    Parameters
    ----------
    orders
        Orders with a resolved ``customer_id`` (:func:`staging.resolved_orders`).

    Returns
    -------
    ir.Table
        ``customer_id``, ``last_visit_date`` (over all history up to ``as_of``) and
        ``frequency`` (distinct (customer, vehicle, open_date) visits in the window;
        refunds are not visits, R-IN-4; any payer counts, R-IN-5).
    """
    scoring = scoring_config(config)
    # The last visit needs only a max over the visits' orders; grouping all history into
    # visits first (customer, vehicle, day) was the slowest step of scoring at 10M orders.
    history = visit_orders(orders_up_to(orders, as_of))
    last = history.group_by("customer_id").aggregate(last_visit_date=history.open_date.max())
    window_visits = visits(orders_in_window(orders, as_of, scoring.window_days))
    counts = window_visits.group_by(f_customer_id=window_visits.customer_id).aggregate(
        frequency=window_visits.count().cast("int64")
    )
    joined = last.left_join(counts, last.customer_id == counts.f_customer_id)
    return joined.select(
        "customer_id",
        "last_visit_date",
        frequency=joined.frequency.fill_null(0).cast("int64"),
    )


def spend_facts(
    orders: ir.Table, *, as_of: dt.date | str, config: Config | ScoringConfig
) -> ir.Table:
    """Net spend per customer in the window (R-SCORE-M).

    Grain: one row per customer with at least one spend order in the window.

    Returns
    -------
    ir.Table
        ``customer_id``, ``monetary``: the sum of ``total_amount`` of orders whose payer is in
        ``spend_payers`` (R-IN-5), refunds netted (R-IN-4).
    """
    scoring = scoring_config(config)
    spend = spend_orders(orders_in_window(orders, as_of, scoring.window_days), scoring.spend_payers)
    return spend.group_by("customer_id").aggregate(
        monetary=spend.total_amount.sum().cast(MONETARY_TYPE)
    )


def score_resolved(
    customer_ids: ir.Table,
    orders: ir.Table,
    vehicles: ir.Table,
    interactions: ir.Table,
    *,
    as_of: dt.date | str,
    config: Config | ScoringConfig,
) -> ir.Table:
    """Score customers from orders whose customer is already resolved.

    Same output as :func:`score_customers`; ``customer_ids`` has one row per customer to score
    (column ``customer_id``). Used directly when the caller has filtered the orders (explain).
    """
    scoring = scoring_config(config)
    as_of_lit = as_date(as_of)
    facts = visit_facts(orders, as_of=as_of, config=scoring).rename(v_customer_id="customer_id")
    spend = spend_facts(orders, as_of=as_of, config=scoring).rename(s_customer_id="customer_id")
    loyalty = loyalty_points(vehicles, interactions, as_of=as_of, config=scoring).rename(
        l_customer_id="customer_id"
    )

    joined = (
        customer_ids.left_join(facts, customer_ids.customer_id == facts.v_customer_id)
        .left_join(spend, customer_ids.customer_id == spend.s_customer_id)
        .left_join(loyalty, customer_ids.customer_id == loyalty.l_customer_id)
    )
    zero_money = ibis.literal(Decimal("0.00"), type=MONETARY_TYPE)
    base = joined.select(
        as_of_date=as_of_lit,
        customer_id=joined.customer_id,
        last_visit_date=joined.last_visit_date,
        recency_days=as_of_lit.delta(joined.last_visit_date, unit="day").cast("int64"),
        frequency=joined.frequency.fill_null(0).cast("int64"),
        monetary=joined.monetary.cast(MONETARY_TYPE).fill_null(zero_money),
        **{c: joined[c].fill_null(0).cast("int64") for c in LOYALTY_COLUMNS},
    )
    scored = base.mutate(
        r_score=recency_points(base.recency_days, scoring),
        f_score=frequency_points(base.frequency, scoring),
        m_score=monetary_points(base.monetary, scoring),
        l_points=sum((base[c] for c in LOYALTY_COLUMNS[1:]), base[LOYALTY_COLUMNS[0]]).cast(
            "int64"
        ),
    )
    totalled = scored.mutate(
        total_score=(scored.r_score + scored.f_score + scored.m_score + scored.l_points).cast(
            "int64"
        )
    )
    return totalled.mutate(tier=tier_of(totalled.total_score, scoring)).select(*SCORE_COLUMNS)


def score_customers(
    customers: ir.Table,
    vehicles: ir.Table,
    service_orders: ir.Table,
    interactions: ir.Table,
    *,
    as_of: dt.date | str,
    config: Config | ScoringConfig,
) -> ir.Table:
    """RFM+L scores and tier of every customer as of a date (SPEC §2).

    Grain: one row per customer in ``customers`` that exists on ``as_of``
    (:func:`aftercare.pipeline.population.customers_as_of`: created on or before it, else
    dated by their first event, or undated; R-TIER-HIST). A customer with no visit still
    appears (recency NULL, frequency 0, monetary 0); a customer created after ``as_of`` does
    not; orders and interactions of customers absent from ``customers`` are not scored
    (unmatched, R-IN-6).

    Parameters
    ----------
    customers, vehicles, service_orders, interactions
        Canonical tables (see :mod:`aftercare.schema`).
    as_of
        Scoring date; events after it are ignored.
    config
        The scorecard (``ScoringConfig``) or the whole ``Config``.

    Returns
    -------
    ir.Table
        Columns :data:`SCORE_COLUMNS`: ``as_of_date``, ``customer_id``, ``last_visit_date``,
        ``recency_days`` (R-SCORE-R, over all history up to ``as_of``), ``frequency``
        (R-SCORE-F), ``monetary`` (decimal(18, 2), R-SCORE-M with R-IN-4/R-IN-5),
        ``r_score``, ``f_score``, ``m_score``, ``l_*`` signal points and ``l_points``
        (R-SCORE-L), ``total_score`` (R-SCORE-T) and ``tier`` (R-TIER).
    """
    existing = customers_as_of(customers, service_orders, vehicles, interactions, as_of=as_of)
    customer_ids = existing.select("customer_id").distinct()
    orders = resolved_orders(service_orders, vehicles)
    return score_resolved(customer_ids, orders, vehicles, interactions, as_of=as_of, config=config)
