"""The canonical tables of a store, as the pipeline takes them."""

from __future__ import annotations

from aftercare.pipeline.inputs import CanonicalTables
from aftercare.store.connect import Store

__all__ = ["CanonicalTables", "canonical_tables"]


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
