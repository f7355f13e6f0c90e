"""R-IN-3 at the storage layer: loads killed at their commit, torn writes repaired, keys kept.

Processes are killed for real (``kill -9``): at a fault point inside the load (after the rows
are appended, before the ``load_log`` row), and from outside at the moment DuckDB's ``.wal``
appears, the moment at which DuckDB can recover a bulk append without the rest of its
transaction (issue 9: 27,290 order ids twice). A torn write is also made on purpose (rows of a
load with no ``load_log`` row, committed, then the process killed) so the repair at open is
proved every time, not only when the race is lost.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from load_batches import order_ids, orders_batch

from aftercare.services.check import check_store
from aftercare.services.workspace import open_workspace
from aftercare.store import open_store
from aftercare.store.integrity import dangling_references
from aftercare.store.load import FAULT_ENV
from aftercare.store.writer import apply_load

HERE = Path(__file__).parent
CHILD_PATH = os.pathsep.join([str(HERE), str(HERE.parent)])


def _orders(store) -> dict[str, float]:
    t = store.table("service_orders").select("order_id", "total_amount").to_pyarrow()
    return {r["order_id"]: float(r["total_amount"]) for r in t.to_pylist()}


def _count(store, table: str) -> int:
    return int(store.table(table).count().to_pyarrow().as_py())


def _child(code: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    full = dict(os.environ, **(env or {}))
    full["PYTHONPATH"] = os.pathsep.join([CHILD_PATH, full.get("PYTHONPATH", "")])
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


LOAD_IN_CHILD = """
    from load_batches import order_ids, orders_batch
    from aftercare.store import open_store
    from aftercare.store.writer import apply_load
    batch = orders_batch(order_ids({first}, {last}), "L2", amount=9)
    store = open_store({url!r})
    apply_load(store, batch)
    store.close()
"""


def test_r_in_3_kill_after_append_before_load_log_leaves_previous_state(store_url):
    """R-IN-3: killed after the rows are appended, before the log row: the previous state."""
    with open_store(store_url) as store:
        apply_load(store, orders_batch(order_ids(0, 3), "L1"))
        before = _orders(store)
    child = _child(
        LOAD_IN_CHILD.format(first=1, last=5, url=store_url), {FAULT_ENV: "after-append"}
    )
    _, err = child.communicate(timeout=120)
    assert child.returncode == -9, err.decode()[-2000:]
    with open_store(store_url) as store:
        assert _orders(store) == before
        assert _count(store, "load_log") == 1
        assert _count(store, "row_history") == 0
        assert check_store(store).ok


TORN_COMMIT = """
    import os, signal
    import duckdb
    con = duckdb.connect({path!r})
    # What DuckDB may recover of a load killed at its commit: the appended rows (new versions
    # of stored keys, and new keys) without the deletes and without the load_log row.
    con.execute(
        "INSERT INTO service_orders SELECT * REPLACE ('L-torn' AS load_id, 9 AS total_amount) "
        "FROM service_orders"
    )
    con.execute(
        "INSERT INTO service_orders SELECT * REPLACE ('L-torn' AS load_id, 'X' || order_id "
        "AS order_id) FROM service_orders WHERE load_id = 'L1'"
    )
    con.execute(
        "INSERT INTO row_history SELECT 'L-torn', 'service_orders', order_id, row_hash, 'h', "
        "'{{}}', loaded_at FROM service_orders WHERE load_id = 'L1'"
    )
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _torn_store(tmp_path: Path) -> tuple[str, dict[str, float]]:
    """A DuckDB store with one committed load and a crash's torn write (its .wal left)."""
    path = tmp_path / "torn.duckdb"
    with open_store(str(path)) as store:
        apply_load(store, orders_batch(order_ids(0, 50), "L1"))
        before = _orders(store)
    child = _child(TORN_COMMIT.format(path=str(path)))
    _, err = child.communicate(timeout=120)
    assert child.returncode == -9, err.decode()[-2000:]
    assert path.with_name(path.name + ".wal").exists()
    return str(path), before


def test_r_in_3_torn_commit_is_repaired_at_open_reported_and_recorded(tmp_path):
    """R-IN-3: rows of a load with no load_log row are removed at the next open, in one line."""
    url, before = _torn_store(tmp_path)
    said: list[str] = []
    with open_workspace(url, notify=said.append) as store:
        assert _orders(store) == before
        assert _count(store, "row_history") == 0
        assert len(said) == 1
        assert "100 rows of service_orders, 50 rows of row_history" in said[0]
        assert "L-torn" in said[0] and "never committed" in said[0]
        repairs = store.table("store_repairs").to_pyarrow().to_pylist()
        assert {(r["table_name"], r["removed_kind"], r["removed_id"], r["rows_removed"])
                for r in repairs} == {
            ("service_orders", "load", "L-torn", 100),
            ("row_history", "load", "L-torn", 50),
        }  # fmt: skip
        assert check_store(store).ok
    said.clear()
    with open_workspace(url, notify=said.append) as store:  # repaired once, then quiet
        assert said == []
        assert _count(store, "store_repairs") == 2


def test_r_in_3_torn_snapshot_is_removed_at_open(tmp_path):
    """R-IN-3: a snapshot date holding a customer twice (a torn re-score) is removed whole."""
    path = tmp_path / "s.duckdb"
    with open_store(str(path)) as store:
        store.con.con.execute(
            "INSERT INTO customer_scores (as_of_date, customer_id, tier) VALUES "
            "('2025-03-31', 'C1', 'gold'), ('2025-06-30', 'C1', 'gold'), "
            "('2025-06-30', 'C2', 'silver')"
        )
    child = _child(
        f"""
        import os, signal, duckdb
        con = duckdb.connect({str(path)!r})
        con.execute("INSERT INTO customer_scores (as_of_date, customer_id, tier) "
                    "VALUES ('2025-06-30', 'C1', 'lapsed')")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    child.communicate(timeout=120)
    said: list[str] = []
    with open_workspace(str(path), notify=said.append) as store:
        dates = store.table("customer_scores").as_of_date.to_pyarrow().to_pylist()
        assert [d.isoformat() for d in dates] == ["2025-03-31"]
        assert len(said) == 1 and "aftercare score --as-of 2025-06-30" in said[0]


WAL_RACE = """
    from load_batches import order_ids, orders_batch
    from aftercare.store import open_store
    from aftercare.store.writer import apply_load
    # 40,000 changed rows and 130,000 new ones: more than a row group (122,880 rows), so DuckDB
    # writes them to the file before the commit (its optimistic bulk append).
    batch = orders_batch(order_ids(0, 170_000), "L2", amount=9)
    store = open_store({url!r})
    print("ready", flush=True)
    apply_load(store, batch)
    store.close()
"""


def test_r_in_3_import_killed_when_the_wal_appears_is_all_or_nothing(tmp_path):
    """R-IN-3: kill -9 at the moment DuckDB starts its WAL: after reopening, the store holds
    the previous load or the new one, never a mix (issue 9: 27,290 order ids twice)."""
    path = tmp_path / "race.duckdb"
    wal = path.with_name(path.name + ".wal")
    for attempt in range(2):
        path.unlink(missing_ok=True)
        with open_store(str(path)) as store:
            apply_load(store, orders_batch(order_ids(0, 40_000), "L1"))
            before = _orders(store)
        assert not wal.exists()
        child = _child(WAL_RACE.format(url=str(path)))
        assert child.stdout is not None
        assert child.stdout.readline().strip() == b"ready"
        deadline = time.monotonic() + 120
        while child.poll() is None and not wal.exists() and time.monotonic() < deadline:
            time.sleep(0.0002)
        child.kill()
        child.communicate(timeout=60)
        with open_workspace(str(path), notify=lambda _line: None) as store:
            orders = _orders(store)
            loads = store.table("load_log").load_id.to_pyarrow().to_pylist()
            if loads == ["L1"]:
                assert orders == before, f"attempt {attempt}: rows of an uncommitted load kept"
            else:
                assert sorted(loads) == ["L1", "L2"]
                assert orders == dict.fromkeys(order_ids(0, 170_000), 9.0)
            report = check_store(store)
            assert report.ok, report.findings


def _insert(store, sql: str) -> None:
    native = store.con.con
    if store.kind == "duckdb":
        native.execute(sql)
    else:
        with native.cursor() as cur:
            cur.execute(sql)


def test_r_in_3_check_finds_and_repair_removes_uncommitted_rows(store_url):
    """R-IN-3 on demand: `check` names the uncommitted load; `--repair` removes its rows."""
    with open_store(store_url) as store:
        apply_load(store, orders_batch(order_ids(0, 5), "L1"))
        _insert(
            store,
            "INSERT INTO service_orders (order_id, load_id, total_amount) "
            "VALUES ('ROX1', 'L-stray', 1), ('ROX2', 'L-stray', 1)",
        )
        report = check_store(store)
        kinds = {(f.kind, f.table) for f in report.findings}
        assert kinds == {("uncommitted", "service_orders"), ("count", "service_orders")}
        assert any("L-stray" in f.detail for f in report.findings)
        repaired = check_store(store, repair=True)
        assert repaired.ok, repaired.findings
        assert repaired.repaired is not None and "2 rows of service_orders" in repaired.repaired
        assert sorted(_orders(store)) == order_ids(0, 5)
        assert _count(store, "store_repairs") == 1


def test_check_finds_keys_twice_and_rows_pointing_at_nothing(store_url):
    """`check` lists a key held twice, a snapshot with a customer twice, a dangling outcome."""
    with open_store(store_url) as store:
        apply_load(store, orders_batch(order_ids(0, 2), "L1"))
        if store.kind == "postgres":  # the unique indexes refuse duplicates: drop two
            _insert(store, 'DROP INDEX "actions__key"; DROP INDEX "customer_scores__key"')
        _insert(
            store,
            "INSERT INTO customers (customer_id, load_id) VALUES ('C1', 'L1')",
        )
        _insert(
            store,
            "INSERT INTO actions (action_id, customer_id) VALUES ('A1', 'C1'), ('A1', 'C1'), "
            "('A2', 'C404')",
        )
        _insert(store, "INSERT INTO action_outcomes (outcome_id, action_id) VALUES ('O1', 'A9')")
        _insert(
            store,
            "INSERT INTO customer_scores (as_of_date, customer_id) VALUES "
            "('2025-03-31', 'C1'), ('2025-03-31', 'C1')",
        )
        report = check_store(store)
    found = {(f.kind, f.table): f.detail for f in report.findings}
    assert set(found) == {
        ("key", "actions"),
        ("key", "customer_scores"),
        ("count", "customers"),
        ("reference", "actions"),
        ("reference", "action_outcomes"),
    }
    assert "A1" in found[("key", "actions")]
    assert "one snapshot per date per customer" in found[("key", "customer_scores")]
    assert "C404" in found[("reference", "actions")]
    assert "A9" in found[("reference", "action_outcomes")]


def test_r_in_3_postgres_enforces_keys_and_adds_them_to_an_older_store(store_url):
    """PostgreSQL: every key is a unique index (the playbook's ON CONFLICT relies on three);
    an older store gains them at open; data that breaks one is reported, not raised."""
    if not store_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's unique indexes; DuckDB's keys are checked (tests above)")
    import psycopg

    with open_store(store_url) as store:
        native = store.con.con
        for table, columns in (
            ("actions", "(action_id)"),
            ("action_moves", "(action_id, moved_on)"),
            ("dedicated_advisors", "(customer_id, assigned_on)"),
        ):
            row = "('A1')" if table == "actions" else "('A1', '2025-01-01')"
            for _ in range(2):  # ON CONFLICT needs the unique index: the second adds nothing
                native.execute(f"INSERT INTO {table} {columns} VALUES {row} ON CONFLICT DO NOTHING")
            assert native.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 1
        with pytest.raises(psycopg.errors.UniqueViolation):
            native.execute("INSERT INTO actions (action_id) VALUES ('A1')")
        native.execute('DROP INDEX "actions__key"')
        native.execute("INSERT INTO actions (action_id) VALUES ('A1')")
    with open_store(store_url) as store:  # an index over duplicates cannot be built: said
        assert store.notices == [
            "actions holds some action_id more than once, so its key is not enforced; "
            "`aftercare check` lists them"
        ]
        store.con.con.execute("DELETE FROM actions WHERE ctid = (SELECT max(ctid) FROM actions)")
    with open_store(store_url) as store:  # fixed: the index is back, nothing to say
        assert store.notices == []
        names = store.con.con.execute("SELECT indexname FROM pg_indexes").fetchall()
        assert ("actions__key",) in names


def test_schema_and_keys_are_created_once_idempotent(store_url):
    """Opening a store again creates nothing and says nothing."""
    with open_store(store_url) as store:
        tables = sorted(store.list_tables())
        assert store.notices == []
    with open_store(store_url, create=False) as store:
        assert sorted(store.list_tables()) == tables
        assert store.notices == []


#: Per case: the customers stored, actions beside A1-A4 (below), then what
#: ``dangling_references`` reports per table: (rows, first example).
DANGLING_CASES = {
    "plain": (["'C1'", "'C2'"], [], {"actions": (1, "C404"), "action_outcomes": (2, "A8")}),
    "null_in_target": (["'C1'", "NULL"], ["(NULL, 'C1')"], {}),
    "empty_target": ([], [], {"actions": (3, "C1"), "action_outcomes": (2, "A8")}),
}


@pytest.mark.parametrize("case", sorted(DANGLING_CASES))
def test_dangling_references_follow_sql_null_rules(store_url, case):
    """A NULL reference is not reported; a target holding a NULL dangles nothing, an empty
    one every non-NULL reference: SQL's ``NOT (x IN targets)``, as the check always said."""
    customers, more_actions, expected = DANGLING_CASES[case]
    with open_store(store_url) as store:
        if customers:
            values = ", ".join(f"({c})" for c in customers)
            _insert(store, f"INSERT INTO customers (customer_id) VALUES {values}")
        # A1 and A3 point at the same customer, A2 at no one, A4 at a customer never stored.
        actions = ["('A1', 'C1')", "('A2', NULL)", "('A3', 'C1')", "('A4', 'C404')"]
        _insert(
            store,
            "INSERT INTO actions (action_id, customer_id) VALUES "
            + ", ".join(actions + more_actions),
        )
        _insert(
            store,
            "INSERT INTO action_outcomes (outcome_id, action_id) VALUES "
            "('O1', 'A1'), ('O2', 'A1'), ('O3', NULL), ('O4', 'A9'), ('O5', 'A8')",
        )
        _insert(store, "INSERT INTO action_moves (action_id, moved_on) VALUES ('A4', NULL)")
        found = {f.table: f for f in dangling_references(store)}
    assert {t: f.kind for t, f in found.items()} == dict.fromkeys(expected, "reference")
    for table, (rows, example) in expected.items():
        assert found[table].rows == rows, found[table]
        assert f"(e.g. {example})" in found[table].detail, found[table]
