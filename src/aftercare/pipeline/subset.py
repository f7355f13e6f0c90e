"""The canonical tables narrowed to some customers, for a run that plans only them (issue 11).

Ibis only, ``Table -> Table``; nothing here connects or executes.

What a customer's figures read: their own master row, scores and interactions; their
vehicles; every order of theirs and every order on their vehicles, whoever brought it (a
vehicle's readings, services and first service are the vehicle's, R-REMIND); every declined
quote of theirs or on their vehicles. Narrowed so, each of their per-customer and
per-vehicle figures equals the whole store's. Rows of other customers that come along (an
order someone else brought one of their cars in for) yield figures of those others, which a
caller planning these customers filters out. The only figures borrowed from every vehicle,
the fleet rates of the reminders, must come from the whole store
(:func:`aftercare.pipeline.reminders.fleet_rates`).
"""

from __future__ import annotations

import ibis.expr.types as ir

from aftercare.pipeline.inputs import CanonicalTables
from aftercare.pipeline.membership import matching_any
from aftercare.schema.canonical import table_spec


def tables_of_customers(tables: CanonicalTables, customer_ids: ir.Table) -> CanonicalTables:
    """``tables`` narrowed to what the figures of the customers of ``customer_ids`` read.

    Parameters
    ----------
    tables
        The whole store's canonical tables.
    customer_ids
        One row per customer to keep (column ``customer_id``).

    Returns
    -------
    CanonicalTables
        Customers, vehicles and interactions of those customers; orders and declined quotes
        of those customers or on their vehicles; every advisor.
    """
    ids = customer_ids.customer_id
    c, v = tables.customers, tables.vehicles
    vehicles = v.filter(v.customer_id.isin(ids))
    vins = vehicles.vin
    o = without_lineage(tables.service_orders, "service_orders")
    d = without_lineage(tables.declined_services, "declined_services")
    i = without_lineage(tables.interactions, "interactions")
    return CanonicalTables(
        customers=c.filter(c.customer_id.isin(ids)),
        vehicles=vehicles,
        service_orders=matching_any(o, customer_id=ids, vin=vins),
        declined_services=matching_any(d, customer_id=ids, vin=vins),
        interactions=i.filter(i.customer_id.isin(ids)),
        advisors=tables.advisors,
    )


def without_lineage(table: ir.Table, name: str) -> ir.Table:
    """``table`` (the canonical table ``name``) with its canonical columns only, without the
    lineage and raw-text ones: no figure reads them, and a plan that keeps the narrowed rows
    (a CTE named more than once) would carry them."""
    return table.select(*table_spec(name).column_names)
