"""Customer retention rate (R-CRR, seed 002).

Ibis only, ``Table -> Table``; nothing here connects or executes.

Definitions (SPEC is silent on some; decided here):

- *a customer of the centre* on a date: a customer with a visit (``staging.visits``: refunds
  are not visits) in the trailing window, 0 ≤ date − open_date ≤ ``active_window_days``;
- *customers at start / at end*: customers of the centre on ``period_start`` / ``period_end``;
- *new customers*: customers at end whose first-ever visit lies inside the period
  (period_start < first visit ≤ period_end). A customer who lapsed and came back is not new:
  the seed's 期间新增客户数 counts acquisitions. ``reactivated_customers`` (at end, not at
  start, first visit on or before period_start) and ``retained_customers`` (at start and at
  end) are reported beside the ratio so the difference is visible;
- ``crr_pct`` = (at end − new) ÷ at start × 100 (NULL when nobody was a customer at start).

Bands (SPEC: ≥90 excellent; 82–88 industry average; <80 alert) with the gaps named:
``excellent`` ≥ 90; ``good`` (88, 90); ``average`` [82, 88]; ``below_average`` [80, 82);
``alert`` < 80.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.types as ir

from aftercare.config import RetentionConfig
from aftercare.pipeline.staging import as_date, orders_in_window, orders_up_to, visits

PERCENT = 100.0


def crr_pct(customers_at_start: int, customers_at_end: int, new_customers: int) -> float | None:
    """CRR in percent, (end − new) ÷ start × 100 (R-CRR); ``None`` when start is 0.

    Seed 002: ``crr_pct(3200, 3450, 400)`` is 95.3125 (shown as 95.3 %).
    """
    if customers_at_start == 0:
        return None
    return (customers_at_end - new_customers) * PERCENT / customers_at_start


def _band_rules(config: RetentionConfig) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    """The CRR bands, best first, as (name, test): the one definition of R-CRR's bands.

    Each test takes a float or an Ibis numeric value, so :func:`crr_band` (Python) and
    :func:`crr_band_expr` (engine) cannot drift apart. Below the last test: ``alert``.
    """
    return (
        ("excellent", lambda pct: pct >= config.crr_excellent_min),
        ("good", lambda pct: pct > config.crr_average_max),
        ("average", lambda pct: pct >= config.crr_average_min),
        ("below_average", lambda pct: pct >= config.crr_alert_below),
    )


ALERT_BAND = "alert"


def crr_band(pct: float | None, config: RetentionConfig) -> str | None:
    """The band of a CRR percentage (R-CRR; see the module docstring for the gaps)."""
    if pct is None:
        return None
    for name, test in _band_rules(config):
        if test(pct):
            return name
    return ALERT_BAND


def crr_band_expr(pct: ir.FloatingValue, config: RetentionConfig) -> ir.StringValue:
    """:func:`crr_band` in the engine (NULL for a NULL percentage)."""
    return ibis.cases(
        *[(test(pct), name) for name, test in _band_rules(config)],
        (pct.notnull(), ALERT_BAND),
        else_=ibis.null("string"),
    )


def crr_pct_expr(
    customers_at_start: ir.IntegerValue,
    customers_at_end: ir.IntegerValue,
    new_customers: ir.IntegerValue,
) -> ir.FloatingValue:
    """:func:`crr_pct` in the engine: (end − new) ÷ start × 100, NULL when start is 0."""
    return (
        (customers_at_end - new_customers).cast("float64")
        * PERCENT
        / customers_at_start.cast("float64").nullif(0)
    )


def active_customers(orders: ir.Table, *, as_of: dt.date | str, window_days: int) -> ir.Table:
    """Customers with a visit in the trailing window (R-CRR's "a customer of the centre").

    Grain: one row per customer with a visit with 0 ≤ as_of − open_date ≤ ``window_days``.

    Parameters
    ----------
    orders
        Orders with their customer resolved (``staging.resolved_orders``).
    as_of
        The date the set is taken on.
    window_days
        Trailing window length.

    Returns
    -------
    ir.Table
        customer_id, last_visit_date, visits_in_window.
    """
    seen = visits(orders_in_window(orders, as_of, window_days))
    return seen.group_by("customer_id").aggregate(
        last_visit_date=seen.open_date.max(), visits_in_window=seen.count()
    )


def crr(
    orders: ir.Table,
    *,
    period_start: dt.date | str,
    period_end: dt.date | str,
    config: RetentionConfig,
    customers: ir.Table | None = None,
) -> ir.Table:
    """Customer retention rate over a period (R-CRR).

    Grain: one row per period.

    Parameters
    ----------
    orders
        Orders with their customer resolved (``staging.resolved_orders``).
    period_start, period_end
        The period; start is exclusive for new customers, end inclusive.
    config
        ``active_window_days`` and the bands.
    customers
        Optional: count only these customers (e.g. leave out orders whose customer record
        has not arrived yet, R-IN-6).

    Returns
    -------
    ir.Table
        period_start, period_end, customers_at_start, customers_at_end, new_customers,
        retained_customers, reactivated_customers, crr_pct, band.
    """
    if customers is not None:
        # IN (subquery), not semi_join: ibis rejects a semi join onto a join-derived table
        # such as staging.resolved_orders (IntegrityError).
        orders = orders.filter(orders.customer_id.isin(customers.customer_id))
    start_lit, end_lit = as_date(period_start), as_date(period_end)
    window = config.active_window_days
    at_start = active_customers(orders, as_of=period_start, window_days=window).select(
        "customer_id", at_start=ibis.literal(1)
    )
    at_end = active_customers(orders, as_of=period_end, window_days=window).select("customer_id")
    history = visits(orders_up_to(orders, period_end))
    first = history.group_by("customer_id").aggregate(first_visit_date=history.open_date.min())
    end = at_end.left_join(at_start, "customer_id").inner_join(first, "customer_id")
    is_new = (end.first_visit_date > start_lit) & (end.first_visit_date <= end_lit)
    was_at_start = end.at_start.notnull()
    end_counts = end.aggregate(
        customers_at_end=end.count(),
        new_customers=end.count(where=is_new),
        retained_customers=end.count(where=was_at_start),
        reactivated_customers=end.count(where=~was_at_start & ~is_new),
    )
    start_counts = at_start.aggregate(customers_at_start=at_start.count())
    joined = start_counts.cross_join(end_counts)
    start_n = joined.customers_at_start.cast("int64")
    end_n = joined.customers_at_end.cast("int64")
    new_n = joined.new_customers.cast("int64")
    pct = crr_pct_expr(start_n, end_n, new_n)
    return joined.select(
        period_start=start_lit,
        period_end=end_lit,
        customers_at_start=start_n,
        customers_at_end=end_n,
        new_customers=new_n,
        retained_customers=joined.retained_customers.cast("int64"),
        reactivated_customers=joined.reactivated_customers.cast("int64"),
        crr_pct=pct,
        band=crr_band_expr(pct, config),
    )
