"""One writer at a time per store (issue 9, item 6): the locks of :mod:`aftercare.store.locks`.

PostgreSQL: the run lock is an advisory lock per database; a second holder waits (saying so
once) or, past ``$AFTERCARE_LOCK_TIMEOUT``, is told another run is in progress; concurrent
first opens of a fresh database create its schema once. DuckDB: the file belongs to one
process, so an open waits for the process that has it (and names it when giving up).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aftercare.errors import StoreError
from aftercare.store import open_store
from aftercare.store.locks import (
    RUNS,
    SCHEMA,
    TIMEOUT_ENV,
    WAITING_NOTE,
    StoreBusyError,
    connect_duckdb,
    lock_key,
    reporting_waits,
    store_lock,
    timeout_seconds,
)
from store_fixtures import make_store_url

BUSY = "another aftercare run is in progress"


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    """A fresh PostgreSQL database (skipped with the reason when there is no server)."""
    yield from make_store_url("postgres", tmp_path)


def _child(code: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_lock_key_is_stable_per_database_and_lock():
    # Stable across processes and versions (not Python's salted hash): a fixed value.
    assert lock_key("aftercare", RUNS) == lock_key("aftercare", RUNS)
    assert lock_key("aftercare", RUNS) == -570967020549487879
    assert lock_key("aftercare", RUNS) != lock_key("other", RUNS)
    assert lock_key("aftercare", RUNS) != lock_key("aftercare", SCHEMA)
    assert -(2**63) <= lock_key("x", "y") < 2**63


def test_lock_timeout_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(TIMEOUT_ENV, raising=False)
    assert timeout_seconds() is None  # wait as long as the other run takes
    monkeypatch.setenv(TIMEOUT_ENV, "0")
    assert timeout_seconds() == 0.0
    monkeypatch.setenv(TIMEOUT_ENV, " 2.5 ")
    assert timeout_seconds() == 2.5
    for bad in ("soon", "-1", "nan"):
        monkeypatch.setenv(TIMEOUT_ENV, bad)
        with pytest.raises(StoreError, match=TIMEOUT_ENV):
            timeout_seconds()


@pytest.mark.postgres
def test_a_second_run_waits_then_says_another_run_is_in_progress(pg_url, monkeypatch):
    """Issue 9 item 6: the run lock of one PostgreSQL store has one holder at a time."""
    notes: list[str] = []
    with open_store(pg_url) as first, open_store(pg_url) as second:
        with store_lock(first):
            monkeypatch.setenv(TIMEOUT_ENV, "0")
            with pytest.raises(StoreBusyError, match=BUSY), store_lock(second):
                pass
            monkeypatch.setenv(TIMEOUT_ENV, "0.6")
            started = time.monotonic()
            waiting = pytest.raises(StoreBusyError, match="waited")
            with reporting_waits(notes.append), waiting, store_lock(second):
                pass
            assert time.monotonic() - started >= 0.6
            with store_lock(second, SCHEMA):  # another lock of the same store is free
                pass
        assert notes == [WAITING_NOTE]  # one line, once
        with store_lock(second):  # released with the first run's block
            pass


@pytest.mark.postgres
def test_a_waiting_run_goes_on_when_the_first_ends(pg_url, monkeypatch):
    monkeypatch.delenv(TIMEOUT_ENV, raising=False)
    notes: list[str] = []
    order: list[str] = []
    with open_store(pg_url) as first, open_store(pg_url) as second:
        holding = threading.Event()

        def hold() -> None:
            with store_lock(first):
                holding.set()
                time.sleep(0.8)
                order.append("first done")

        holder = threading.Thread(target=hold)
        holder.start()
        holding.wait(10)
        with reporting_waits(notes.append), store_lock(second):
            order.append("second in")
        holder.join()
    assert order == ["first done", "second in"]
    assert notes == [WAITING_NOTE]


@pytest.mark.postgres
def test_the_run_lock_is_reentrant_and_released_by_the_outer_block(pg_url, monkeypatch):
    monkeypatch.setenv(TIMEOUT_ENV, "0")
    with open_store(pg_url) as first, open_store(pg_url) as second:
        with store_lock(first):
            with store_lock(first):  # the demo imports (locked), then scores (locked)
                pass
            # still held by the outer block
            with pytest.raises(StoreBusyError), store_lock(second):
                pass
        with store_lock(second):
            pass


@pytest.mark.postgres
def test_a_crashed_run_leaves_no_lock_behind(pg_url, monkeypatch):
    """The server releases a session's advisory lock when its process dies (kill -9)."""
    monkeypatch.setenv(TIMEOUT_ENV, "0")
    child = _child(
        f"""
        import os, signal, sys
        from aftercare.store import open_store
        from aftercare.store.locks import store_lock
        store = open_store({pg_url!r})
        with store_lock(store):
            print("locked", flush=True)
            sys.stdin.readline()
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    assert child.stdout is not None and child.stdin is not None
    assert child.stdout.readline().strip() == "locked", child.stderr and child.stderr.read()
    with open_store(pg_url) as store:
        with pytest.raises(StoreBusyError), store_lock(store):
            pass
        child.stdin.write("\n")
        child.stdin.flush()
        child.wait(30)
        assert child.returncode == -9
        deadline = time.monotonic() + 10
        while True:  # the server notices the closed socket within moments
            try:
                with store_lock(store):
                    break
            except StoreBusyError:
                assert time.monotonic() < deadline, "the dead run's lock was never released"
                time.sleep(0.1)


OPEN_ON_GO = """
    import sys
    from aftercare.store import open_store
    print("ready", flush=True)
    sys.stdin.readline()
    open_store({url!r}).close()
    print("opened", flush=True)
"""


@pytest.mark.postgres
def test_concurrent_first_opens_create_the_schema_once(pg_url):
    """Issue 9 item 6: six processes open a fresh database at the same instant.

    Without the schema lock most of them failed with ``DuplicateTable`` (7 of 8 measured).
    """
    children = [_child(OPEN_ON_GO.format(url=pg_url)) for _ in range(6)]
    for child in children:  # every child has imported Aftercare: then all go at once
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready", child.stderr and child.stderr.read()
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    results = [c.communicate(timeout=120) for c in children]
    for child, (out, err) in zip(children, results, strict=True):
        assert child.returncode == 0, err[-2000:]
        assert out.strip() == "opened"
        assert "Traceback" not in err
    with open_store(pg_url, create=False) as store:
        assert {"actions", "action_moves", "dedicated_advisors"} <= set(store.list_tables())


HOLD_FILE = """
    import sys, duckdb
    con = duckdb.connect({path!r})
    print("holding", flush=True)
    sys.stdin.readline()
    con.close()
    print("released", flush=True)
    sys.stdin.readline()
"""


@pytest.fixture
def held_duckdb(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen]]:
    """A DuckDB file another process keeps open until a line is written to its stdin."""
    path = tmp_path / "store.duckdb"
    open_store(str(path)).close()
    child = _child(HOLD_FILE.format(path=str(path)))
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "holding"
    yield path, child
    child.kill()
    child.wait(30)


def _release(child: subprocess.Popen) -> None:
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write("\n")
    child.stdin.flush()
    assert child.stdout.readline().strip() == "released"


def test_duckdb_open_says_which_process_has_the_file(held_duckdb, monkeypatch):
    """Issue 9 item 6 on DuckDB: a clear one-line error, not DuckDB's IO error."""
    path, child = held_duckdb
    monkeypatch.setenv(TIMEOUT_ENV, "0")
    with pytest.raises(StoreBusyError) as caught:
        connect_duckdb(path)
    message = str(caught.value)
    assert BUSY in message and str(path) in message
    assert f"process {child.pid} has it open" in message
    assert "\n" not in message
    with pytest.raises(StoreBusyError, match=BUSY):
        open_store(str(path))  # the store's own open says the same


def test_duckdb_open_waits_for_the_process_that_has_the_file(held_duckdb, monkeypatch):
    path, child = held_duckdb
    monkeypatch.delenv(TIMEOUT_ENV, raising=False)
    notes: list[str] = []
    timer = threading.Timer(0.8, _release, [child])
    timer.start()
    started = time.monotonic()
    with reporting_waits(notes.append):
        con = connect_duckdb(path)
    timer.join()
    assert time.monotonic() - started >= 0.7
    assert notes == [WAITING_NOTE]
    assert "actions" in con.list_tables()
    con.disconnect()


def test_duckdb_threads_of_one_process_take_turns(tmp_path):
    """In one process the file is shared: the run lock orders its threads."""
    order: list[str] = []
    path = str(tmp_path / "store.duckdb")
    with open_store(path) as first, open_store(path) as second:
        holding = threading.Event()

        def hold() -> None:
            with store_lock(first):
                holding.set()
                time.sleep(0.5)
                order.append("first done")

        holder = threading.Thread(target=hold)
        holder.start()
        holding.wait(10)
        with store_lock(second):
            order.append("second in")
        holder.join()
    assert order == ["first done", "second in"]


def test_the_lock_is_a_no_op_where_nothing_competes(tmp_path, monkeypatch):
    monkeypatch.setenv(TIMEOUT_ENV, "0")
    path = str(tmp_path / "store.duckdb")
    with open_store(path) as store, store_lock(store), store_lock(store):
        assert os.path.exists(path)
