"""One writer at a time per store: advisory locks on PostgreSQL, the file lock on DuckDB.

Two processes writing one store at once duplicated moves and advisor assignments and crashed
on PostgreSQL (issue 9, item 6). So every run that writes — ``actions``, ``score``, an import —
holds the store's :data:`RUNS` lock while it reads what it builds on and writes what it
decided, and the schema is created or migrated under the :data:`SCHEMA` lock, once.

- PostgreSQL: a session-level ``pg_advisory_lock`` keyed by a stable hash of the database and
  the lock's name (:func:`lock_key`). Advisory locks belong to one database, so every URL
  naming the same database (``localhost`` or ``127.0.0.1``) meets the same lock; the server
  releases it when the process dies, so a crash never leaves a store locked.
- DuckDB: the engine lets one process open the file at a time, so :func:`connect_duckdb`
  waits for the file instead; the run lock only orders the threads of that one process.
- A Spark lake has no writers to order (it refuses the playbook's writes); the lock is a no-op.

How long to wait: ``$AFTERCARE_LOCK_TIMEOUT`` seconds (unset: as long as the other run takes;
``0``: do not wait). A wait prints :data:`WAITING_NOTE` once through the notifier the caller
installed (:func:`reporting_waits`); giving up raises :class:`StoreBusyError` ("another run is
in progress"), a one-line user error.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from aftercare.errors import StoreError

if TYPE_CHECKING:
    import ibis

__all__ = [
    "RUNS",
    "SCHEMA",
    "TIMEOUT_ENV",
    "WAITING_NOTE",
    "StoreBusyError",
    "connect_duckdb",
    "lock_key",
    "reporting_waits",
    "store_lock",
]

#: The lock every writing run holds (actions, score, imports): one writer per store.
RUNS = "runs"
#: The lock around creating and migrating the store's tables at open.
SCHEMA = "schema"
#: Seconds to wait for another run before giving up (unset: wait; 0: do not wait).
TIMEOUT_ENV = "AFTERCARE_LOCK_TIMEOUT"
WAITING_NOTE = "waiting for another aftercare run on this store…"
#: How often a waiting process asks again (seconds).
POLL_SECONDS = 0.2

# DuckDB's message when another process holds the file, e.g. "IO Error: Could not set lock on
# file "x.duckdb": Conflicting lock is held in /usr/bin/python3 (PID 4242) by user me."
_DUCKDB_LOCKED = re.compile(r"Could not set lock on file|Conflicting lock is held")
_DUCKDB_PID = re.compile(r"\(PID (\d+)\)")


class LockableStore(Protocol):
    """What a lock needs of a :class:`~aftercare.store.connect.Store` (which opens with one)."""

    @property
    def url(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def con(self) -> Any: ...


class StoreBusyError(StoreError):
    """Another run holds the store and the wait allowed (``$AFTERCARE_LOCK_TIMEOUT``) is over."""


@dataclass
class _Waits:
    """How this process reports a wait: the notifier, and whether it has spoken already."""

    notify: Callable[[str], None] | None = None
    noted: bool = field(default=False)


_WAITS: ContextVar[_Waits | None] = ContextVar("aftercare_lock_waits", default=None)


@contextmanager
def reporting_waits(notify: Callable[[str], None]) -> Iterator[None]:
    """Report a wait for another run through ``notify`` (once) while the block runs.

    The CLI passes its stderr console, so a waiting command says why it is not moving.
    """
    token = _WAITS.set(_Waits(notify=notify))
    try:
        yield
    finally:
        _WAITS.reset(token)


def timeout_seconds() -> float | None:
    """The wait allowed by ``$AFTERCARE_LOCK_TIMEOUT`` (``None``: as long as it takes).

    Raises
    ------
    StoreError
        When the variable is not a number of seconds ≥ 0.
    """
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise StoreError(f"${TIMEOUT_ENV}={raw!r}: give a number of seconds ≥ 0 (0: do not wait)")
    return value


def lock_key(database: str, name: str) -> int:
    """The advisory-lock key of lock ``name`` in ``database``: a signed 64-bit integer.

    Stable across processes, versions and machines (SHA-256, not Python's salted ``hash``).
    """
    digest = hashlib.sha256(f"aftercare:{database}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _wait_until(
    attempt: Callable[[], bool], busy_message: Callable[[float], str], timeout: float | None
) -> None:
    """Call ``attempt`` until it succeeds, noting the wait once; give up after ``timeout``."""
    if attempt():
        return
    waits = _WAITS.get()
    if timeout is not None and timeout <= 0:
        raise StoreBusyError(busy_message(0.0))
    if waits is not None and waits.notify is not None and not waits.noted:
        waits.notify(WAITING_NOTE)
        waits.noted = True
    started = time.monotonic()
    while True:
        waited = time.monotonic() - started
        if timeout is not None and waited >= timeout:
            raise StoreBusyError(busy_message(waited))
        time.sleep(POLL_SECONDS if timeout is None else min(POLL_SECONDS, timeout - waited))
        if attempt():
            return


def _busy(where: str, holder: str = "") -> Callable[[float], str]:
    def message(waited: float) -> str:
        after = f" (waited {waited:.0f} s)" if waited else ""
        return (
            f"another aftercare run is in progress on {where}{holder}{after}; "
            f"try again when it ends, or set ${TIMEOUT_ENV} to wait longer"
        )

    return message


@contextmanager
def store_lock(store: LockableStore, name: str = RUNS) -> Iterator[None]:
    """Hold the store's lock ``name`` while the block runs (see the module's notes).

    Re-entrant: a run that holds it may take it again (the demo imports, then scores).

    Raises
    ------
    StoreBusyError
        Another process holds it longer than ``$AFTERCARE_LOCK_TIMEOUT`` allows.
    """
    if store.kind == "duckdb":
        # The file is this process's since open; its threads share one database, so they take
        # turns here (a connection per thread, as a web app would have).
        with _file_lock(store.url, name):
            yield
        return
    if store.kind != "postgres":
        yield  # a lake has no writers to order
        return
    timeout = timeout_seconds()
    pg = store.con.con  # the native psycopg connection (autocommit: the lock is the session's)
    with pg.cursor() as cur:
        cur.execute("SELECT current_database()")
        row = cur.fetchone()
    key = lock_key(str(row[0]) if row else store.url, name)

    def attempt() -> bool:
        with pg.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", [key])
            got = cur.fetchone()
        return bool(got and got[0])

    _wait_until(attempt, _busy(store.url), timeout)
    try:
        yield
    finally:
        _unlock(pg, key)


_FILE_LOCKS: dict[tuple[str, str], threading.RLock] = {}
_FILE_LOCKS_GUARD = threading.Lock()


def _file_lock(path: str, name: str) -> threading.RLock:
    """The process's lock ``name`` on the DuckDB file at ``path`` (re-entrant per thread)."""
    key = (str(Path(path).resolve()), name)
    with _FILE_LOCKS_GUARD:
        return _FILE_LOCKS.setdefault(key, threading.RLock())


def _unlock(pg: Any, key: int) -> None:
    """Release the lock; a broken connection has released it already (server side)."""
    import psycopg

    try:
        if pg.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
            pg.rollback()
        with pg.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", [key])
    except psycopg.Error:
        pass  # the session is gone, and its locks with it


def connect_duckdb(
    path: Path, *, before_attempt: Callable[[], None] | None = None
) -> ibis.BaseBackend:
    """Open the DuckDB file at ``path``, waiting while another process has it open.

    ``before_attempt`` runs right before each try: what it sees of the file (its ``.wal``)
    is then the state the successful open found, not the state while another run had it.

    Raises
    ------
    StoreBusyError
        Another process keeps the file longer than ``$AFTERCARE_LOCK_TIMEOUT`` allows.
    duckdb.Error
        Any other failure to open it (not a DuckDB file, no permission, …).
    """
    import duckdb
    import ibis

    timeout = timeout_seconds()
    opened: list[ibis.BaseBackend] = []
    holder = [""]

    def attempt() -> bool:
        if before_attempt is not None:
            before_attempt()
        try:
            opened.append(ibis.duckdb.connect(str(path)))
        except duckdb.IOException as exc:
            if not _DUCKDB_LOCKED.search(str(exc)):
                raise
            pid = _DUCKDB_PID.search(str(exc))
            holder[0] = f" (process {pid.group(1)} has it open)" if pid else ""
            return False
        return True

    def message(waited: float) -> str:
        return _busy(str(path), holder[0])(waited)

    _wait_until(attempt, message, timeout)
    return opened[0]
