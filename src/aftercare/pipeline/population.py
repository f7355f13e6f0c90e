"""Which customers exist as of a date (R-TIER-HIST: a customer enters a snapshot only from the
date they exist, ``created_at``, else their first event).

Ibis only, ``Table -> Table``; nothing here connects or executes. The one definition every
"as of" population uses (score snapshots, churn risk, lifecycle stages), so a past date never
counts a customer the centre did not have yet.

A customer exists from their *since date*:

- ``created_at`` of the customer record when it is filled (the DMS's 建档日期): the record's
  own word, even when an event looks earlier;
- without ``created_at``, their first event: the earliest of their first service order (any
  order, a refund too; an order is its own customer's, else its vehicle's current owner's, as
  ``staging.resolved_orders`` resolves it), their first vehicle delivery and their first
  interaction (its day);
- with neither a date nor an event, the customer has been there from the start: a record the
  DMS holds with nothing to date it is in every snapshot (left out, it would never be scored,
  as no event will ever date it).

A DMS whose ``created_at`` is the date the records were migrated into it, not the date the
customers came, dates every customer at the migration: map no ``created_at`` column for such
a file and the first events date them instead.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from aftercare.pipeline.staging import as_date


def first_events(
    customer_ids: ir.Table, service_orders: ir.Table, vehicles: ir.Table, interactions: ir.Table
) -> ir.Table:
    """Each customer's first event: first order, vehicle delivery or interaction.

    Grain: one row per customer of ``customer_ids`` (column ``customer_id``, unique) with at
    least one dated event. Every source is narrowed to these customers before anything else,
    so a few customers cost one scan of each table, not a join of every order with every
    vehicle.

    Parameters
    ----------
    customer_ids
        The customers to date (``customer_id``).
    service_orders, vehicles, interactions
        Canonical tables. An order is its own customer's, else its vehicle's current owner's
        (the rule of ``staging.resolved_orders``, applied to these customers' orders only).

    Returns
    -------
    ir.Table
        customer_id, first_event_date.
    """
    ids = customer_ids.select(c_customer_id=customer_ids.customer_id)
    theirs = vehicles.semi_join(ids, vehicles.customer_id == ids.c_customer_id)
    own = service_orders.semi_join(ids, service_orders.customer_id == ids.c_customer_id)
    unowned = service_orders.filter(service_orders.customer_id.isnull())
    owners = theirs.select(v_vin="vin", v_customer_id="customer_id")
    via_vin = unowned.join(owners, unowned.vin == owners.v_vin)
    talks = interactions.semi_join(ids, interactions.customer_id == ids.c_customer_id)
    events = ibis.union(
        own.select("customer_id", event_date="open_date"),
        via_vin.select(customer_id="v_customer_id", event_date="open_date"),
        talks.select("customer_id", event_date=talks.ts.date()),
        theirs.select("customer_id", event_date="delivery_date"),
        distinct=False,
    )
    dated = events.filter(events.event_date.notnull())
    return dated.group_by("customer_id").aggregate(first_event_date=dated.event_date.min())


def customer_since(
    customers: ir.Table, service_orders: ir.Table, vehicles: ir.Table, interactions: ir.Table
) -> ir.Table:
    """The date each customer exists from (module docstring).

    Grain: one row per customer of ``customers`` with a ``customer_id`` (unique).

    Parameters
    ----------
    customers
        Canonical customers (``customer_id``, ``created_at``).
    service_orders, vehicles, interactions
        Canonical tables (see :func:`first_events`).

    Returns
    -------
    ir.Table
        customer_id, created_at, first_event_date (NULL when none), since_date
        (``created_at``, else ``first_event_date``; NULL: there from the start).
    """
    known = customers.filter(customers.customer_id.notnull()).select("customer_id", "created_at")
    first = first_events(known, service_orders, vehicles, interactions).rename(
        e_customer_id="customer_id"
    )
    joined = known.left_join(first, known.customer_id == first.e_customer_id)
    return joined.select(
        "customer_id",
        "created_at",
        "first_event_date",
        since_date=joined.created_at.coalesce(joined.first_event_date),
    )


def customers_as_of(
    customers: ir.Table,
    service_orders: ir.Table,
    vehicles: ir.Table,
    interactions: ir.Table,
    *,
    as_of: dt.date | str,
) -> ir.Table:
    """The customers that exist on ``as_of``: since date on or before it, or none at all.

    Grain: one row per row of ``customers`` kept (every column kept; rows without a
    ``customer_id`` are left out). Customers with a ``created_at`` are decided by it alone;
    only the undated ones (usually none) are dated by their events, so a store whose
    customers all carry ``created_at`` pays no pass over its orders.

    Parameters
    ----------
    customers
        Canonical customers (``customer_id``, ``created_at``).
    service_orders, vehicles, interactions
        Canonical tables (see :func:`first_events`).
    as_of
        The date.

    Returns
    -------
    ir.Table
        The rows of ``customers`` whose customer exists on ``as_of`` (:func:`customer_since`).
    """
    as_of_lit = as_date(as_of)
    known = customers.filter(customers.customer_id.notnull())
    dated = known.filter(known.created_at <= as_of_lit)
    undated = known.filter(known.created_at.isnull())
    since = customer_since(undated, service_orders, vehicles, interactions)
    existing = since.filter(since.since_date.isnull() | (since.since_date <= as_of_lit))
    kept = undated.semi_join(existing, undated.customer_id == existing.customer_id)
    return dated.union(kept.select(*customers.columns), distinct=False)
