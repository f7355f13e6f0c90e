"""Records whose master record has not arrived yet (R-IN-6): kept, listed, counted."""

from __future__ import annotations

import ibis.expr.types as ir

from aftercare.pipeline.staging import resolved_orders
from aftercare.store.connect import Store


def unmatched_records(store: Store, table: str) -> ir.Table | None:
    """Rows of ``table`` that reference a customer or vehicle not (yet) in the data.

    Grain: one row per unmatched record of ``table``; ``None`` for tables that reference
    nothing (customers, advisors).
    """
    customers = store.table("customers").select("customer_id")
    vehicles = store.table("vehicles").select("vin")
    known_customer = customers.customer_id
    known_vin = vehicles.vin
    if table == "service_orders":
        orders = resolved_orders(store.table("service_orders"), store.table("vehicles"))
        return orders.filter(
            orders.customer_id.isnull()
            | ~orders.customer_id.isin(known_customer)
            | (orders.vin.notnull() & ~orders.vin.isin(known_vin))
        )
    if table == "vehicles":
        t = store.table("vehicles")
        return t.filter(~t.customer_id.isin(known_customer))
    if table == "interactions":
        t = store.table("interactions")
        return t.filter(~t.customer_id.isin(known_customer))
    if table == "declined_services":
        t = store.table("declined_services")
        return t.filter(
            (t.customer_id.notnull() & ~t.customer_id.isin(known_customer))
            | (t.vin.notnull() & ~t.vin.isin(known_vin))
        )
    return None


def unmatched_count(store: Store, table: str) -> int:
    """How many records of ``table`` are unmatched (0 for tables that reference nothing)."""
    records = unmatched_records(store, table)
    return 0 if records is None else int(records.count().to_pyarrow().as_py())
