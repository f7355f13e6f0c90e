"""The canonical tables, bundled as the pipeline takes them."""

from __future__ import annotations

from dataclasses import dataclass

import ibis.expr.types as ir


@dataclass(frozen=True)
class CanonicalTables:
    """Lazy Ibis tables of every canonical table in one store (``schema.canonical``)."""

    customers: ir.Table
    vehicles: ir.Table
    service_orders: ir.Table
    declined_services: ir.Table
    interactions: ir.Table
    advisors: ir.Table
