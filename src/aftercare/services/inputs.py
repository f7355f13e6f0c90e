"""The canonical tables of a store, as the pipeline takes them."""

from __future__ import annotations

from dataclasses import dataclass

import ibis.expr.types as ir

from aftercare.store.connect import Store


@dataclass(frozen=True)
class CanonicalTables:
    """Lazy Ibis tables of every canonical table in one store."""

    customers: ir.Table
    vehicles: ir.Table
    service_orders: ir.Table
    declined_services: ir.Table
    interactions: ir.Table
    advisors: ir.Table


def canonical_tables(store: Store) -> CanonicalTables:
    """The store's canonical tables (nothing is read until a query runs)."""
    return CanonicalTables(
        customers=store.table("customers"),
        vehicles=store.table("vehicles"),
        service_orders=store.table("service_orders"),
        declined_services=store.table("declined_services"),
        interactions=store.table("interactions"),
        advisors=store.table("advisors"),
    )
