"""Customer value: gross profit, cost to serve, net profit, LTV and the Pareto report (SPEC §3).

Ibis only, ``Table -> Table``; nothing here connects or executes.

Money in these marts is float64 CNY: the canonical DECIMAL(14, 2) amounts are cast once, at
the order level, because Ibis cannot mix decimal precisions in arithmetic and engines differ
on decimal division (IBIS-NOTES); sums of a few thousand cents stay exact to well under a fen.

Ranking without a global window (R-VAL-PARETO)
----------------------------------------------
The Pareto share needs each customer's rank by net profit. A ``row_number()`` over all
customers is a global window, which Spark runs on one partition. Instead
:func:`_ranked_by_net_profit` computes an *exact* rank in two parallel steps:

1. customers are grouped into one-yuan buckets ``floor(net_profit)``; a cumulative count over
   the buckets (a window over the small aggregated table, one row per bucket) gives, for each
   bucket, how many customers sit in higher buckets;
2. a ``row_number()`` *partitioned by bucket* (net profit desc, then customer_id as the unique
   tiebreaker) ranks customers inside their bucket.

rank = customers in higher buckets + rank inside the bucket. This is the same rank a global
``row_number()`` would give, with the heavy sort spread over partitions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from fractions import Fraction

import ibis
import ibis.expr.types as ir

from aftercare.config import TIER_ORDER, ScoringConfig, TierName, ValueConfig
from aftercare.pipeline.staging import (
    as_date,
    orders_in_window,
    orders_up_to,
    spend_orders,
    visits,
)

#: Days per week: the probabilistic CLV's time unit is the week (R-VAL-LTV).
DAYS_PER_WEEK = 7.0

#: Interaction types that are outbound contacts, by unit cost (R-VAL-PROFIT).
PHONE_CONTACT_TYPES = ("call",)
DIGITAL_CONTACT_TYPES = ("sms", "wechat", "app_push")


def order_profit(orders: ir.Table, *, config: ValueConfig) -> ir.Table:
    """Gross profit of each service order (R-VAL-PROFIT).

    Grain: one row per service order (the input's rows, all columns kept).

    Gross profit = total − cost; when ``cost_amount`` is missing the cost is
    ``total × (1 − default margin of the order's category)`` (unknown category → the
    ``other`` margin). Adds ``total_cny``, ``cost_cny``, ``gross_profit_cny`` (float64) and
    ``is_cost_estimated``.

    Parameters
    ----------
    orders
        Service orders (canonical or :func:`~aftercare.pipeline.staging.resolved_orders`).
    config
        Value settings (default margins by category).

    Returns
    -------
    ir.Table
        The orders with the profit columns added.
    """
    margins = config.default_margin_by_category
    fallback_margin = margins.get("other", 0.0)
    margin = ibis.cases(
        *[(orders.category == cat, ibis.literal(m, type="float64")) for cat, m in margins.items()],
        else_=ibis.literal(fallback_margin, type="float64"),
    )
    total = orders.total_amount.cast("float64")
    cost = orders.cost_amount.cast("float64").coalesce(total * (1.0 - margin))
    return orders.mutate(
        total_cny=total,
        cost_cny=cost,
        gross_profit_cny=total - cost,
        is_cost_estimated=orders.cost_amount.isnull(),
    )


def _interactions_in_window(
    interactions: ir.Table, as_of: dt.date | str, window_days: int
) -> ir.Table:
    """Interactions with 0 ≤ (as_of − date(ts)) ≤ window_days (SPEC §2 window)."""
    day = interactions.ts.date()
    as_of_lit = as_date(as_of)
    return interactions.filter(day <= as_of_lit, day >= as_of_lit - ibis.interval(days=window_days))


def _tier_lookup(tier: ir.StringValue, values: Mapping[TierName, float]) -> ir.FloatingValue:
    """A float per tier from a config mapping (NULL for a tier the mapping does not name)."""
    return ibis.cases(
        *[(tier == name, ibis.literal(v, type="float64")) for name, v in values.items()],
        else_=ibis.null("float64"),
    )


def customer_value(
    orders: ir.Table,
    interactions: ir.Table,
    tiers: ir.Table,
    *,
    as_of: dt.date | str,
    scoring: ScoringConfig,
    value: ValueConfig,
) -> ir.Table:
    """Per-customer profit, cost to serve, net profit and simple LTV (R-VAL-PROFIT, R-VAL-LTV).

    Grain: one row per customer of ``tiers`` as of ``as_of``.

    Over the scoring window (0 ≤ as_of − date ≤ ``scoring.window_days``):

    - ``annual_spend``: spend per R-IN-5 (``scoring.spend_payers``, refunds net), the same
      definition as M; the default window is one year.
    - ``gross_profit``: gross profit of those same orders, so ``gross_margin`` =
      gross_profit / annual_spend is the customer's own margin (NULL when spend is 0). Orders
      paid by warranty/internal are the maker's or the centre's, not the customer's value.
    - ``visits_handled``: visits whatever the payer (a warranty visit still costs reception).
    - ``phone_contacts`` (type ``call``), ``digital_contacts`` (sms, wechat, app_push),
      ``complaints_handled`` (complaints logged).
    - ``tier_benefit_cost``: the tier's yearly benefit cost.
    - ``cost_to_serve`` = the unit costs × counts + tier benefit; ``net_profit`` =
      gross_profit − cost_to_serve; ``is_loss_making`` = net_profit < 0.
    - ``ltv`` = annual_spend × gross_margin × lifetime_years[tier] (R-VAL-LTV).

    Parameters
    ----------
    orders
        Orders with their customer resolved (:func:`~aftercare.pipeline.staging.resolved_orders`).
    interactions
        Canonical interactions.
    tiers
        At least ``customer_id`` and ``tier`` (one row per customer).
    as_of
        The as-of date.
    scoring
        Window and spend payers (shared with M).
    value
        Unit costs, tier benefits, margins and lifetime years.

    Returns
    -------
    ir.Table
        customer_id, tier, as_of_date and the value columns above.
    """
    window = orders_in_window(orders, as_of, scoring.window_days)
    spend = order_profit(spend_orders(window, scoring.spend_payers), config=value)
    money = spend.group_by("customer_id").aggregate(
        annual_spend=spend.total_cny.sum(), gross_profit=spend.gross_profit_cny.sum()
    )
    handled = visits(window)
    visit_counts = handled.group_by("customer_id").aggregate(visits_handled=handled.count())

    recent = _interactions_in_window(interactions, as_of, scoring.window_days)
    contacts = recent.group_by("customer_id").aggregate(
        phone_contacts=recent.count(where=recent.type.isin(PHONE_CONTACT_TYPES)),
        digital_contacts=recent.count(where=recent.type.isin(DIGITAL_CONTACT_TYPES)),
        complaints_handled=recent.count(where=recent.type == "complaint"),
    )

    base = tiers.select("customer_id", "tier")
    joined = (
        base.left_join(money, "customer_id")
        .left_join(visit_counts, "customer_id")
        .left_join(contacts, "customer_id")
    )
    facts = joined.select(
        customer_id=joined.customer_id,
        tier=joined.tier,
        annual_spend=joined.annual_spend.coalesce(0.0),
        gross_profit=joined.gross_profit.coalesce(0.0),
        visits_handled=joined.visits_handled.coalesce(0).cast("int64"),
        phone_contacts=joined.phone_contacts.coalesce(0).cast("int64"),
        digital_contacts=joined.digital_contacts.coalesce(0).cast("int64"),
        complaints_handled=joined.complaints_handled.coalesce(0).cast("int64"),
        tier_benefit_cost=_tier_lookup(joined.tier, value.tier_benefit_per_year).coalesce(0.0),
    )
    cost_to_serve = (
        facts.visits_handled * value.cost_per_visit
        + facts.phone_contacts * value.cost_per_phone_contact
        + facts.digital_contacts * value.cost_per_digital_contact
        + facts.complaints_handled * value.cost_per_complaint
        + facts.tier_benefit_cost
    )
    gross_margin = facts.gross_profit / facts.annual_spend.nullif(0.0)
    priced = facts.mutate(
        as_of_date=as_date(as_of),
        gross_margin=gross_margin,
        cost_to_serve=cost_to_serve,
        net_profit=facts.gross_profit - cost_to_serve,
        ltv=facts.annual_spend * gross_margin * _tier_lookup(facts.tier, value.lifetime_years),
    )
    return priced.mutate(is_loss_making=priced.net_profit < 0)


def clv_inputs(
    orders: ir.Table, *, as_of: dt.date | str, value: ValueConfig, scoring: ScoringConfig
) -> ir.Table:
    """Per-customer inputs of the probabilistic CLV (R-VAL-LTV, BG/NBD + Gamma-Gamma).

    Grain: one row per customer with at least one visit on or before ``as_of`` (all history,
    not only the scoring window). A *visit* is a visit day of the customer (several vehicles
    or orders on one day are one transaction for the model).

    - ``visit_days``; ``frequency`` = visit_days − 1 (repeat visits, the BG/NBD x);
    - ``recency_weeks`` = (last − first visit) ÷ 7 (t_x); ``age_weeks`` = (as_of − first
      visit) ÷ 7 (T);
    - ``spend_cny``, ``gross_profit_cny``: spend per R-IN-5 (refunds net) and its gross profit
      over the same history; ``spend_per_visit_cny`` = spend ÷ visit days (the Gamma-Gamma
      mean spend m over ``visit_days`` visits); ``gross_margin_history`` = profit ÷ spend
      (NULL when spend ≤ 0).

    Returns
    -------
    ir.Table
        customer_id, visit_days, frequency, recency_weeks, age_weeks, spend_cny,
        gross_profit_cny, spend_per_visit_cny, gross_margin_history.
    """
    history = orders_up_to(orders, as_of)
    seen = visits(history)
    days = seen.select("customer_id", "open_date").distinct()
    span = days.group_by("customer_id").aggregate(
        first_visit_date=days.open_date.min(),
        last_visit_date=days.open_date.max(),
        visit_days=days.count(),
    )
    spend = order_profit(spend_orders(history, scoring.spend_payers), config=value)
    money = spend.group_by("customer_id").aggregate(
        spend_cny=spend.total_cny.sum(), gross_profit_cny=spend.gross_profit_cny.sum()
    )
    j = span.left_join(money, "customer_id")
    visit_days = j.visit_days.cast("int64")
    total = j.spend_cny.coalesce(0.0)
    weeks = ibis.literal(str(DAYS_PER_WEEK)).cast("float64")
    return j.select(
        customer_id=j.customer_id,
        visit_days=visit_days,
        frequency=visit_days - 1,
        recency_weeks=j.last_visit_date.delta(j.first_visit_date, unit="day").cast("float64")
        / weeks,
        age_weeks=as_date(as_of).delta(j.first_visit_date, unit="day").cast("float64") / weeks,
        spend_cny=total,
        gross_profit_cny=j.gross_profit_cny.coalesce(0.0),
        spend_per_visit_cny=total / visit_days.cast("float64"),
        gross_margin_history=ibis.ifelse(
            total > 0, j.gross_profit_cny / total, ibis.null("float64")
        ),
    )


def _ceil_share(count: ir.IntegerValue, share: float) -> ir.IntegerValue:
    """ceil(count × share) in exact integer arithmetic (float products misround: 35 × 0.2)."""
    frac = Fraction(str(share)).limit_denominator(1_000_000)
    num, den = frac.numerator, frac.denominator
    return ((count * num + (den - 1)) // den).cast("int64")


def _ranked_by_net_profit(customer_value: ir.Table) -> ir.Table:
    """Each customer's exact rank by net profit, 1 = most profitable (see module docstring).

    Grain: one row per customer. Adds ``profit_rank`` and ``customers`` (the total count).
    """
    cv = customer_value.select("customer_id", "net_profit").mutate(
        bucket=customer_value.net_profit.floor().cast("int64")
    )
    buckets = cv.group_by("bucket").aggregate(bucket_customers=cv.count())
    # A window over the aggregated buckets (one row each, bucket unique), not over customers.
    above = ibis.window(order_by=ibis.desc("bucket"), rows=(None, 0))
    cumulative = buckets.mutate(
        customers_above=buckets.bucket_customers.sum().over(above) - buckets.bucket_customers
    )
    totals = buckets.aggregate(customers=buckets.bucket_customers.sum())
    in_bucket = ibis.window(
        group_by="bucket", order_by=[ibis.desc("net_profit"), ibis.asc("customer_id")]
    )
    ranked_in_bucket = cv.mutate(rank_in_bucket=ibis.row_number().over(in_bucket) + 1)
    joined = ranked_in_bucket.inner_join(cumulative, "bucket").cross_join(totals)
    return joined.select(
        customer_id=joined.customer_id,
        net_profit=joined.net_profit,
        profit_rank=(joined.customers_above + joined.rank_in_bucket).cast("int64"),
        customers=joined.customers.cast("int64"),
    )


def pareto_summary(customer_value: ir.Table, *, value: ValueConfig) -> ir.Table:
    """The Pareto report figures (R-VAL-PARETO).

    Grain: one row (the whole customer base of ``customer_value``).

    ``top_customers`` = ceil(customers × ``value.pareto_top_share``) (at least one customer
    when there is any); ``top_net_profit_share`` = their net profit ÷ total net profit
    (NULL when the total is 0; above 1 when loss-makers eat into the total);
    ``loss_making_share`` = loss-making customers ÷ customers. Ties in net profit do not
    change the share (tied customers have equal profit).

    Parameters
    ----------
    customer_value
        Output of :func:`customer_value`.
    value
        ``pareto_top_share``.

    Returns
    -------
    ir.Table
        customers, top_share, top_customers, top_net_profit, top_net_profit_share,
        loss_making_customers, loss_making_share, total_net_profit.
    """
    totals = customer_value.aggregate(
        customers=customer_value.count(),
        total_net_profit=customer_value.net_profit.sum(),
        loss_making_customers=customer_value.count(where=customer_value.is_loss_making),
    )
    ranked = _ranked_by_net_profit(customer_value)
    ranked = ranked.mutate(top_customers=_ceil_share(ranked.customers, value.pareto_top_share))
    top = ranked.filter(ranked.profit_rank <= ranked.top_customers).aggregate(
        top_net_profit=ranked.net_profit.sum()
    )
    joined = totals.cross_join(top)
    return joined.select(
        customers=joined.customers.cast("int64"),
        # PostgreSQL types a bare float literal as NUMERIC; a cast string stays float64.
        top_share=ibis.literal(str(value.pareto_top_share)).cast("float64"),
        top_customers=_ceil_share(joined.customers, value.pareto_top_share),
        top_net_profit=joined.top_net_profit.coalesce(0.0),
        top_net_profit_share=joined.top_net_profit / joined.total_net_profit.nullif(0.0),
        loss_making_customers=joined.loss_making_customers.coalesce(0).cast("int64"),
        loss_making_share=joined.loss_making_customers.cast("float64")
        / joined.customers.cast("float64").nullif(0.0),
        total_net_profit=joined.total_net_profit.coalesce(0.0),
    )


def pareto_curve(customer_value: ir.Table, *, points: int = 20) -> ir.Table:
    """Cumulative share of net profit by share of customers, best first (R-VAL-PARETO chart).

    Grain: one row per curve point; point ``i`` (1…``points``) closes after the top
    ceil(customers × i / points) customers. Fewer customers than points → fewer rows. The
    shares are exact (``customer_share`` is the real cumulative share, not i / points).

    Returns
    -------
    ir.Table
        point, customers_cum, customer_share, net_profit_cum, net_profit_share.
    """
    ranked = _ranked_by_net_profit(customer_value)
    # The smallest i with ceil(n·i/P) ≥ rank is floor((rank − 1)·P / n) + 1.
    ranked = ranked.mutate(point=((ranked.profit_rank - 1) * points // ranked.customers + 1))
    per_point = ranked.group_by("point").aggregate(
        point_customers=ranked.count(),
        point_net_profit=ranked.net_profit.sum(),
        customers=ranked.customers.max(),
    )
    totals = customer_value.aggregate(total_net_profit=customer_value.net_profit.sum())
    cum = ibis.window(order_by="point", rows=(None, 0))  # over ≤ points rows
    curve = per_point.cross_join(totals).mutate(
        customers_cum=per_point.point_customers.sum().over(cum),
        net_profit_cum=per_point.point_net_profit.sum().over(cum),
    )
    return curve.select(
        point=curve.point.cast("int64"),
        customers_cum=curve.customers_cum.cast("int64"),
        customer_share=curve.customers_cum.cast("float64") / curve.customers.cast("float64"),
        net_profit_cum=curve.net_profit_cum,
        net_profit_share=curve.net_profit_cum / curve.total_net_profit.nullif(0.0),
    )


def profit_by_tier(customer_value: ir.Table) -> ir.Table:
    """Value summed by tier (R-VAL-PARETO: profit by tier).

    Grain: one row per tier present in ``customer_value``. ``tier_order`` sorts platinum
    first; ``net_profit_share`` is the tier's share of total net profit (from aggregates).

    Returns
    -------
    ir.Table
        tier, tier_order, customers, annual_spend, gross_profit, cost_to_serve, net_profit,
        loss_making_customers, net_profit_share, mean_ltv.
    """
    cv = customer_value
    by_tier = cv.group_by("tier").aggregate(
        customers=cv.count(),
        annual_spend=cv.annual_spend.sum(),
        gross_profit=cv.gross_profit.sum(),
        cost_to_serve=cv.cost_to_serve.sum(),
        net_profit=cv.net_profit.sum(),
        loss_making_customers=cv.count(where=cv.is_loss_making),
        mean_ltv=cv.ltv.mean(),
    )
    totals = cv.aggregate(total_net_profit=cv.net_profit.sum())
    joined = by_tier.cross_join(totals)
    order = ibis.cases(
        *[(joined.tier == t, i) for i, t in enumerate(TIER_ORDER)], else_=len(TIER_ORDER)
    )
    return joined.select(
        tier=joined.tier,
        tier_order=order.cast("int64"),
        customers=joined.customers.cast("int64"),
        annual_spend=joined.annual_spend,
        gross_profit=joined.gross_profit,
        cost_to_serve=joined.cost_to_serve,
        net_profit=joined.net_profit,
        loss_making_customers=joined.loss_making_customers.cast("int64"),
        net_profit_share=joined.net_profit / joined.total_net_profit.nullif(0.0),
        mean_ltv=joined.mean_ltv,
    )
