"""Records whose master record has not arrived yet (R-IN-6): kept, listed, counted."""

from __future__ import annotations

import ibis.expr.types as ir

from aftercare.pipeline.staging import resolved_orders


def unmatched_records(
    table: str, rows: ir.Table, *, customers: ir.Table, vehicles: ir.Table
) -> ir.Table | None:
    """Rows of canonical table ``table`` that reference a customer or vehicle not (yet) known.

    Grain: one row per unmatched record of ``table``; ``None`` for tables that reference
    nothing (customers, advisors). An order's customer is resolved through its vehicle first
    (:func:`~aftercare.pipeline.staging.resolved_orders`).

    Parameters
    ----------
    table
        The canonical table's name.
    rows
        Its rows.
    customers, vehicles
        The known customers and vehicles.
    """
    known_customer = customers.customer_id
    known_vin = vehicles.vin
    if table == "service_orders":
        orders = resolved_orders(rows, vehicles)
        return orders.filter(
            orders.customer_id.isnull()
            | ~orders.customer_id.isin(known_customer)
            | (orders.vin.notnull() & ~orders.vin.isin(known_vin))
        )
    if table in ("vehicles", "interactions"):
        return rows.filter(~rows.customer_id.isin(known_customer))
    if table == "declined_services":
        return rows.filter(
            (rows.customer_id.notnull() & ~rows.customer_id.isin(known_customer))
            | (rows.vin.notnull() & ~rows.vin.isin(known_vin))
        )
    return None
