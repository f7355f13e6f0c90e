"""``aftercare status``: what is in the store, and the rows a load rejected.

Rows, unmatched records, rejects and the last load of every canonical table
(:func:`status_at` for a store named by its URL, :func:`workspace_status` for an open one);
the first rejected rows of one load and how many there are (:func:`load_rejects`), for the
import to show. Importing this module imports no Ibis: ``aftercare status`` on a DuckDB file
reads its figures in plain SQL (issue 11).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aftercare.store.duckdb_status import duckdb_store_status
from aftercare.store.status import StoreStatus, TableStatus, store_status

if TYPE_CHECKING:
    from aftercare.store.connect import Store

__all__ = [
    "LoadRejects",
    "StoreStatus",
    "TableStatus",
    "load_rejects",
    "status_at",
    "workspace_status",
]


@dataclass(frozen=True)
class LoadRejects:
    """The first rejected rows of one load, and how many problems it recorded in all.

    ``rows``: ``source_file``, ``source_row``, ``column_name``, ``reason``, by source row
    then column; ``total``: every ``rejected_rows`` record of the load (one per problem).
    """

    rows: list[dict[str, Any]]
    total: int


def status_at(url: str | None) -> StoreStatus:
    """Rows, unmatched records, rejected rows, warnings and last load of the store at ``url``.

    A DuckDB file that opening would leave as it is is read in plain SQL, without Ibis
    (:func:`~aftercare.store.duckdb_status.duckdb_store_status`); any other store, or one
    that opening must repair, wait for or migrate, is opened as every command opens it
    (:func:`~aftercare.services.workspace.open_workspace`, its notices on stderr) and read
    by :func:`workspace_status`. Both give the same figures.

    Parameters
    ----------
    url
        The store URL (``None``: ``$AFTERCARE_DB``, else ``./aftercare.duckdb``).

    Raises
    ------
    StoreError
        No store at ``url``, or the engine cannot be reached.
    """
    fast = duckdb_store_status(url)
    if fast is not None:
        return fast
    from aftercare.services.workspace import open_workspace  # Ibis: only on the full open

    with open_workspace(url) as store:
        return workspace_status(store)


def workspace_status(store: Store) -> StoreStatus:
    """Rows, unmatched records, rejected rows, warnings and last load of every table.

    A handful of small aggregate queries, whatever the size of the store.
    """
    from aftercare.services.unmatched import unmatched_count  # Ibis and the pipeline

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
