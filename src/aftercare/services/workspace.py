"""Open the store a command works on: the way in for the CLI (and later the web app).

The edges never import :mod:`aftercare.store`; they open a workspace here and hand it to the
other services, which are the only code that reads or writes it.
"""

from __future__ import annotations

from aftercare.store import Store, open_store


def open_workspace(url: str | None = None, *, create: bool = True) -> Store:
    """Open the store at ``url`` for one command (use it as a context manager).

    Parameters
    ----------
    url
        A DuckDB file, ``postgresql://…`` or ``spark:///path`` (a Parquet lake); ``None``:
        ``$AFTERCARE_DB``, else ``./aftercare.duckdb``.
    create
        Create the store's missing tables; with ``False`` a missing DuckDB file is an error,
        so a read-only command never leaves an empty store behind.

    Returns
    -------
    Store
        The open store; close it (``with open_workspace(url) as store: …``) when done.

    Raises
    ------
    StoreError
        The URL is not understood or the engine cannot be reached.
    """
    return open_store(url, create=create)
