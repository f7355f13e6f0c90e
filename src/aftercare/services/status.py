"""``aftercare status``: what is in the store, and the rows a load rejected.

Rows, unmatched records, rejects and the last load of every canonical table
(:func:`workspace_status`); the first rejected rows of one load and how many there are
(:func:`load_rejects`), for the import to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aftercare.services.unmatched import unmatched_count
from aftercare.store.connect import Store
from aftercare.store.status import StoreStatus, TableStatus, store_status

__all__ = ["LoadRejects", "StoreStatus", "TableStatus", "load_rejects", "workspace_status"]


@dataclass(frozen=True)
class LoadRejects:
    """The first rejected rows of one load, and how many problems it recorded in all.

    ``rows``: ``source_file``, ``source_row``, ``column_name``, ``reason``, by source row
    then column; ``total``: every ``rejected_rows`` record of the load (one per problem).
    """

    rows: list[dict[str, Any]]
    total: int


def workspace_status(store: Store) -> StoreStatus:
    """Rows, unmatched records, rejected rows, warnings and last load of every table.

    A handful of small aggregate queries, whatever the size of the store.
    """
    return store_status(store, unmatched=lambda name: unmatched_count(store, name))


def load_rejects(store: Store, load_id: str, *, limit: int) -> LoadRejects:
    """The first ``limit`` problems that load ``load_id`` rejected rows for, and the total.

    Parameters
    ----------
    store
        An open store.
    load_id
        The load (an import's ``LoadResult.load_id``).
    limit
        Rows returned at most.
    """
    rejected = store.table("rejected_rows")
    of_load = rejected.filter(rejected.load_id == load_id)
    rows = (
        of_load.order_by(["source_row", "column_name"])
        .select("source_file", "source_row", "column_name", "reason")
        .limit(limit)
        .to_pyarrow()
        .to_pylist()
    )
    total = int(of_load.count().to_pyarrow().as_py())
    return LoadRejects(rows=rows, total=total)
