"""The store: where canonical tables, bookkeeping and results live (DuckDB or PostgreSQL).

``Store``, ``open_store`` and ``resolve_url`` are loaded from :mod:`.connect` on first use, so
that importing a light submodule (the locks, the plain-SQL ``status`` of a DuckDB file) does
not import Ibis (issue 11).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aftercare.store.connect import Store, open_store, resolve_url

__all__ = ["Store", "open_store", "resolve_url"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from aftercare.store import connect

        return getattr(connect, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
