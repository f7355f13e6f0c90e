"""Staging: canonical tables cleaned into the facts every mart starts from.

Ibis only, ``Table -> Table``; nothing here connects or executes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir


def as_date(value: dt.date | str) -> ir.DateScalar:
    """An Ibis date literal from a date or ISO string."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return ibis.literal(value, type="date")


#: The asked customer ids' column in :func:`resolved_orders_of`'s semi-join.
_ASKED = "_asked_customer_id"

#: Column :func:`resolved_orders` adds when asked: the order's VIN is a known vehicle's.
VIN_KNOWN = "vin_known"


def resolved_orders(
    service_orders: ir.Table, vehicles: ir.Table, *, vin_known: bool = False
) -> ir.Table:
    """Orders with their customer resolved.

    Grain: one row per service order. An order's customer is its own ``customer_id``, else the
    current owner of its vehicle (SPEC §2); orders whose customer is still unknown keep a NULL
    ``customer_id`` (R-IN-6: kept, listed as unmatched, not scored).

    Adds ``is_refund`` (negative total, R-IN-4) and, with ``vin_known``, :data:`VIN_KNOWN`
    (TRUE when a vehicle row holds the order's VIN: the join that resolves the customer also
    answers that, so the unmatched count needs no second join).
    """
    owners = vehicles.select(owner_vin=vehicles.vin, owner_customer_id=vehicles.customer_id)
    joined = service_orders.left_join(owners, service_orders.vin == owners.owner_vin)
    extra = {VIN_KNOWN: joined.owner_vin.notnull()} if vin_known else {}
    return joined.select(
        *[joined[c] for c in service_orders.columns if c != "customer_id"],
        customer_id=joined.customer_id.coalesce(joined.owner_customer_id),
        is_refund=joined.total_amount < 0,
        **extra,
    )


def resolved_orders_of(
    service_orders: ir.Table, vehicles: ir.Table, customer_ids: ir.Column | Sequence[str]
) -> ir.Table:
    """:func:`resolved_orders` of the customers in ``customer_ids`` only.

    Grain: one row per service order whose resolved customer is in ``customer_ids``. The
    same rows as filtering :func:`resolved_orders` by customer, but the orders are narrowed
    *before* the vehicle join: an order is one of theirs when its own ``customer_id`` is
    theirs, or it has none and its vehicle is theirs. No engine pushes a filter on the
    resolved (coalesced) customer below the join, so filtering afterwards resolves every
    order of the store (at 1M customers, 7.5M orders joined to 1M vehicles: seconds) to keep
    a handful.
    """
    owned = vehicles.filter(vehicles.customer_id.isin(customer_ids)).select("vin")
    # Two parts on disjoint rows (an order names a customer or it does not), stacked: not
    # one filter with IN … OR IN …, which PostgreSQL cannot hash (pipeline.membership), nor
    # membership flags by left joins, which read every order even when no customer is asked
    # for (no win-back outcome yet, issue 11); a semi-join on nothing reads nothing.
    if isinstance(customer_ids, ir.Column):
        ids = customer_ids.name(_ASKED).as_table()
        named = service_orders.semi_join(ids, service_orders.customer_id == ids[_ASKED])
    else:
        named = service_orders.filter(service_orders.customer_id.isin(customer_ids))
    unnamed = service_orders.filter(service_orders.customer_id.isnull())
    theirs = named.union(unnamed.semi_join(owned, unnamed.vin == owned.vin), distinct=False)
    resolved = resolved_orders(theirs, vehicles)
    # Kept although the narrowing implies it: a VIN listed twice would resolve an order to
    # both owners, as resolved_orders does, and only theirs belongs here.
    return resolved.filter(resolved.customer_id.isin(customer_ids))


def orders_in_window(orders: ir.Table, as_of: dt.date | str, window_days: int) -> ir.Table:
    """Orders with 0 ≤ (as_of − open_date) ≤ window_days (SPEC §2: later events are ignored)."""
    as_of_lit = as_date(as_of)
    return orders.filter(
        orders.open_date <= as_of_lit,
        orders.open_date >= as_of_lit - ibis.interval(days=window_days),
    )


def orders_up_to(orders: ir.Table, as_of: dt.date | str) -> ir.Table:
    """Orders opened on or before ``as_of``."""
    return orders.filter(orders.open_date <= as_date(as_of))


def visit_orders(orders: ir.Table) -> ir.Table:
    """The orders that make up :func:`visits`: a resolved customer and not a refund (R-IN-4).

    Grain: one row per order. For a fact that needs no grouping into visits (a last visit
    date is the max over these orders).
    """
    return orders.filter(orders.customer_id.notnull(), orders.total_amount >= 0)


def visits(orders: ir.Table) -> ir.Table:
    """Customer visits.

    Grain: one row per (customer_id, vin, open_date). Refund orders (negative total, R-IN-4)
    are not visits; several orders on one vehicle on one day are one visit (R-SCORE-F).
    Orders with no resolved customer are left out.
    """
    kept = visit_orders(orders)
    return kept.group_by(["customer_id", "vin", "open_date"]).aggregate(
        order_count=kept.order_id.count()
    )


def spend_orders(orders: ir.Table, spend_payers: Sequence[str]) -> ir.Table:
    """Orders whose amount counts toward a customer's spend (R-IN-5), refunds included (R-IN-4)."""
    return orders.filter(orders.customer_id.notnull(), orders.payer.isin(list(spend_payers)))
