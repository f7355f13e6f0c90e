"""The store: where canonical tables, bookkeeping and results live (DuckDB or PostgreSQL)."""

from __future__ import annotations

from aftercare.store.connect import Store, open_store, resolve_url

__all__ = ["Store", "open_store", "resolve_url"]
