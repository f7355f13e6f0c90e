"""Open the store a command works on: the way in for the CLI (and later the web app).

The edges never import :mod:`aftercare.store`; they open a workspace here and hand it to the
other services, which are the only code that reads or writes it. A store is opened
deliberately: only the commands that bring data in (``import``, ``demo``) may create one;
every other command refuses a store that does not exist instead of describing an empty one.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from aftercare.store import Store, open_store


def _to_stderr(line: str) -> None:
    print(f"aftercare: {line}", file=sys.stderr, flush=True)


def open_workspace(
    url: str | None = None,
    *,
    create: bool = False,
    notify: Callable[[str], None] | None = None,
) -> Store:
    """Open the store at ``url`` for one command (use it as a context manager).

    Parameters
    ----------
    url
        A DuckDB file, ``postgresql://…`` or ``spark:///path`` (a Parquet lake); ``None``:
        ``$AFTERCARE_DB``, else ``./aftercare.duckdb``.
    create
        Whether this command may create a new store (``import`` and ``demo`` do). Without
        it a store that does not exist is an error, so a read command, or a typo in
        ``--db``, never leaves an empty store behind.
    notify
        Told, one line each, what opening found and did: a torn write repaired after a crash
        (R-IN-3), a key PostgreSQL cannot enforce yet. Default: printed on stderr.

    Returns
    -------
    Store
        The open store; close it (``with open_workspace(url) as store: …``) when done.

    Raises
    ------
    StoreError
        The URL is not understood, is not a store (``:memory:``, a file that is not
        DuckDB's), names no store where one must exist, or the engine cannot be reached.
    """
    store = open_store(url, create=create)
    say = notify or _to_stderr
    for line in store.notices:
        say(line)
    return store
