"""Concurrent ``aftercare`` processes on one store (issue 9, item 6), through the real CLI.

Before: 42 concurrent ``aftercare actions`` runs on one PostgreSQL store — one crashed
(``UniqueViolation``), ``dedicated_advisors`` got 56–65 rows for 44 assignments,
``action_moves`` 17 rows for 5 moves, and every process claimed every new action. Now runs
take turns on the store (an advisory lock; DuckDB's file lock), a waiting run says so in one
line, one that may not wait says "another run is in progress", and each prints what it stored.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aftercare.services.demo import run_demo
from aftercare.store import open_store
from aftercare.store.locks import TIMEOUT_ENV, WAITING_NOTE, store_lock
from conftest import POSTGRES_URL
from store_fixtures import make_store_url

AS_OF = dt.date(2026, 6, 30)
CUSTOMERS = 300
AFTERCARE = [sys.executable, "-c", "from aftercare.cli import main; main()"]
BUSY = "another aftercare run is in progress"
#: Per-store keys of the engine's tables: none may be stored twice.
KEYS = {
    "actions": ("action_id",),
    "action_moves": ("action_id", "moved_on"),
    "dedicated_advisors": ("customer_id", "assigned_on"),
}


@dataclass(frozen=True)
class Ran:
    """One finished ``aftercare`` process."""

    returncode: int
    out: str
    err: str

    def count(self, pattern: str) -> int:
        """The number ``pattern`` (one group) captures in the run's summary line."""
        found = re.search(pattern, self.out)
        assert found, f"no {pattern!r} in:\n{self.out[-2000:]}\n{self.err[-2000:]}"
        return int(found.group(1))


def _start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [*AFTERCARE, *args],
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(procs: list[subprocess.Popen]) -> list[Ran]:
    done = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        done.append(Ran(p.returncode, out, err))
    return done


def _actions_args(db: str) -> list[str]:
    return ["actions", "--as-of", AS_OF.isoformat(), "--week", "--limit", "1", "--db", db]


def _rows(url: str, table: str) -> tuple[int, int]:
    """Rows of ``table`` and distinct keys among them."""
    with open_store(url) as store:
        t = store.table(table)
        rows = int(t.count().to_pyarrow().as_py())
        keys = int(t.select(*KEYS[table]).distinct().count().to_pyarrow().as_py())
    return rows, keys


def _assert_clean(ran: Ran) -> None:
    assert ran.returncode == 0, ran.err[-3000:]
    assert "Traceback" not in ran.err and "error:" not in ran.err, ran.err[-3000:]


@pytest.fixture(scope="module")
def pg_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A 300-customer demo store on a fresh PostgreSQL database, with its files."""
    tmp = tmp_path_factory.mktemp("pg-demo")
    for url in make_store_url("postgres", tmp):
        run_demo(CUSTOMERS, seed=1, as_of=AS_OF, out_dir=tmp / "files", db=url)
        yield url, tmp / "files"


@pytest.fixture
def pg_copy(pg_demo: tuple[str, Path]) -> Iterator[str]:
    """A copy of the demo database (PostgreSQL clones it from the original as a template)."""
    psycopg = pytest.importorskip("psycopg")
    source = pg_demo[0].rsplit("/", 1)[1]
    name = f"aftercare_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        try:
            yield f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


CREATED = r"generated (\d+) new actions"
MOVED = r"(\d+) earlier ones moved"
DEDICATED = r"(\d+) dedicated advisors assigned"


@pytest.mark.postgres
def test_ten_concurrent_actions_runs_store_and_count_everything_once(pg_demo, pg_copy):
    """Issue 9 item 6: ten ``aftercare actions`` at once on one PostgreSQL store.

    No process crashes, no key is stored twice, one assignment per platinum customer, and the
    "generated N new actions" of all processes add up to the actions stored — the same store
    a single run makes (run on a copy of the demo database, at the same time).
    """
    url = pg_demo[0]
    alone = _start(*_actions_args(pg_copy))
    ten = [_start(*_actions_args(url)) for _ in range(10)]
    runs = _finish(ten)
    single = _finish([alone])[0]
    for ran in (*runs, single):
        _assert_clean(ran)
        assert set(ran.err.splitlines()) <= {WAITING_NOTE}, ran.err  # a note, nothing else
    created = [r.count(CREATED) for r in runs]
    expected = single.count(CREATED)
    assert expected > 0
    assert sorted(created) == [0] * 9 + [expected]  # one run stored them all; nine waited
    for table, pattern in (
        ("actions", CREATED),
        ("action_moves", MOVED),
        ("dedicated_advisors", DEDICATED),
    ):
        rows, keys = _rows(url, table)
        assert rows == keys, f"{table}: {rows} rows for {keys} keys"
        assert rows == sum(r.count(pattern) for r in runs) == single.count(pattern), table
        assert _rows(pg_copy, table) == (rows, rows)
    assert single.count(DEDICATED) > 0  # the demo's platinum customers got their advisors
    with open_store(url) as store:
        d = store.table("dedicated_advisors")
        assignments = d.select("customer_id", "advisor_id").distinct().count().to_pyarrow()
        assert assignments.as_py() == _rows(url, "dedicated_advisors")[0]


@pytest.mark.postgres
def test_a_run_that_may_not_wait_says_another_run_is_in_progress(pg_demo):
    """Issue 9 item 6: actions, score, an import and an outcome on a store another run holds:
    one line each, exit 1 ("nothing changed"), and nothing changed."""
    url, files = pg_demo
    with open_store(url) as store:
        before = {t: _rows(url, t) for t in KEYS}
        loads_before = int(store.table("load_log").count().to_pyarrow().as_py())
        with store_lock(store):
            procs = [
                _start(*_actions_args(url), env={TIMEOUT_ENV: "1"}),
                _start("score", "--as-of", AS_OF.isoformat(), "--db", url, env={TIMEOUT_ENV: "0"}),
                _start(
                    "import", "customers", str(files / "customers.csv"), "--db", url,
                    env={TIMEOUT_ENV: "0"},
                ),
                _start("outcome", "A0", "booked", "--db", url, env={TIMEOUT_ENV: "0"}),
            ]  # fmt: skip
            actions, score, imported, outcome = _finish(procs)
        for ran in (actions, score, imported, outcome):
            assert ran.returncode == 1, ran.out[-2000:] + ran.err[-2000:]
            assert "Traceback" not in ran.err
            errors = [line for line in ran.err.splitlines() if line.startswith("error:")]
            assert len(errors) == 1 and BUSY in errors[0] and url in errors[0], ran.err
        assert actions.err.splitlines()[0] == WAITING_NOTE  # it waited the second it was given
        assert "(waited 1 s)" in actions.err
        assert WAITING_NOTE not in score.err  # told at once: it may not wait
        assert {t: _rows(url, t) for t in KEYS} == before
        assert int(store.table("load_log").count().to_pyarrow().as_py()) == loads_before


@pytest.fixture(scope="module")
def duckdb_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 300-customer demo store in a DuckDB file (the demo's own), and its files beside."""
    out = tmp_path_factory.mktemp("duckdb-demo")
    result = run_demo(CUSTOMERS, seed=1, as_of=AS_OF, out_dir=out)
    assert result.db_url is not None
    return Path(result.db_url)


def test_two_concurrent_actions_runs_on_duckdb_take_turns(duckdb_demo):
    """Issue 9 item 6 on DuckDB: the second process waits for the file (one note), no
    traceback, nothing stored twice, and the counts add up."""
    db = str(duckdb_demo)
    runs = _finish([_start(*_actions_args(db)) for _ in range(2)])
    for ran in runs:
        _assert_clean(ran)
    assert sum(WAITING_NOTE in r.err for r in runs) == 1
    created = sorted(r.count(CREATED) for r in runs)
    assert created[0] == 0 < created[1]
    for table, pattern in (
        ("actions", CREATED),
        ("action_moves", MOVED),
        ("dedicated_advisors", DEDICATED),
    ):
        rows, keys = _rows(db, table)
        assert rows == keys == sum(r.count(pattern) for r in runs), table


def test_a_duckdb_store_another_process_has_says_so(duckdb_demo):
    """Issue 9 item 6 on DuckDB: one line naming the store and the process, exit 1."""
    import duckdb

    holder = duckdb.connect(str(duckdb_demo))  # this test's process has the file
    try:
        ran = _finish([_start(*_actions_args(str(duckdb_demo)), env={TIMEOUT_ENV: "0"})])[0]
    finally:
        holder.close()
    assert ran.returncode == 1, ran.out[-2000:] + ran.err[-2000:]
    assert "Traceback" not in ran.err
    assert ran.err.strip().splitlines() == [
        f"error: {BUSY} on {duckdb_demo} (process {os.getpid()} has it open); try again when "
        f"it ends, or set ${TIMEOUT_ENV} to wait longer"
    ]
