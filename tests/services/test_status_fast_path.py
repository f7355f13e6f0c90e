"""``aftercare status`` on DuckDB in plain SQL gives Ibis's figures and opens as safely (issue 11).

The plain-SQL read (:func:`~aftercare.store.duckdb_status.duckdb_store_status`) and the Ibis
read (:func:`~aftercare.services.status.workspace_status`) are compared on a demo store with
unmatched records (R-IN-6), rejected rows, warnings, snapshots and actions, and with the edge
rows SQL's NULL rules decide. Where opening the store must do something (repair a crash's
torn write, wait for another process, migrate an older store, refuse what is no store),
the plain read steps aside and ``status`` behaves as before.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from aftercare.cli import app
from aftercare.errors import StoreError
from aftercare.pipeline.unmatched import unmatched_records
from aftercare.schema import TABLES
from aftercare.services import status as status_service
from aftercare.services.demo import run_demo
from aftercare.services.status import status_at, workspace_status
from aftercare.store import duckdb_status, open_store
from aftercare.store.duckdb_file import DEFAULT_DB, NO_STORE, STORE_ENV, resolve_url
from aftercare.store.duckdb_status import duckdb_store_status

runner = CliRunner()
AS_OF = "2025-06-30"

#: Orders for an unknown VIN and unknown customers, and six rows that are rejected.
ORDERS = [
    ["接车单号", "车架号", "客户编号", "接车日期", "行驶里程", "维修类别", "结算方式", "结算金额"],
    ["X-RO1", "LSVAA4182E2000001", "C-NEW", "2025-03-05", "12,000", "保养", "自费", "1234.50"],
    ["X-RO2", "", "C-GONE", "2025-04-01", "", "钣喷", "自费", "2000"],
    ["", "", "C1", "2025-03-05", "", "保养", "自费", "100"],
    ["X-RO7", "", "C1", "2025-02-30", "", "保养", "自费", "100"],
    ["X-RO8", "", "C1", "2025-03-05", "-5", "保养", "自费", "100"],
    ["X-RO9", "LSVAA4182E200000I", "C1", "2025-03-05", "", "保养", "自费", "100"],
    ["X-RO10", "", "C1", "2025-03-05", "", "保养", "自费", "一百"],
    ["X-RO11", "", "C1", "2025-03-05", "", "保养", "现金", "100"],
]

#: Rows SQL's NULL rules decide (a NULL customer or VIN), and a tie between two last loads.
EDGE_ROWS = """
    INSERT INTO vehicles SELECT * REPLACE ('EDGE-VIN-1' AS vin, NULL AS customer_id)
        FROM vehicles LIMIT 1;
    INSERT INTO vehicles SELECT * REPLACE ('EDGE-VIN-2' AS vin, 'C-NOBODY' AS customer_id)
        FROM vehicles LIMIT 1;
    INSERT INTO service_orders SELECT * REPLACE ('EDGE-RO-1' AS order_id, NULL AS vin,
        NULL AS customer_id) FROM service_orders LIMIT 1;
    INSERT INTO service_orders SELECT * REPLACE ('EDGE-RO-2' AS order_id, 'EDGE-VIN-1' AS vin,
        NULL AS customer_id) FROM service_orders LIMIT 1;
    INSERT INTO service_orders SELECT * REPLACE ('EDGE-RO-3' AS order_id, 'EDGE-VIN-2' AS vin,
        NULL AS customer_id) FROM service_orders LIMIT 1;
    INSERT INTO declined_services SELECT * REPLACE (NULL AS customer_id, 'NO-SUCH-VIN' AS vin)
        FROM declined_services LIMIT 1;
    INSERT INTO declined_services SELECT * REPLACE (NULL AS customer_id, NULL AS vin)
        FROM declined_services LIMIT 1;
    INSERT INTO interactions SELECT * REPLACE (NULL AS customer_id) FROM interactions LIMIT 1;
    INSERT INTO load_log SELECT * REPLACE (load_id || '~tie' AS load_id,
        'tie-' || source_file AS source_file)
        FROM load_log WHERE table_name = 'advisors'
        QUALIFY row_number() OVER (ORDER BY finished_at DESC, load_id DESC) = 1;
"""


def _write_gbk(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code in (0, 3), result.output  # 3: loaded, with rejects
    return result.output


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A demo store with unmatched records, rejects, warnings, a snapshot and actions."""
    folder = tmp_path_factory.mktemp("status-demo")
    db = str(folder / "demo.duckdb")
    run_demo(150, seed=5, as_of=dt.date.fromisoformat(AS_OF), years=1, out_dir=folder, db=db)
    orders = _write_gbk(folder / "orders.csv", ORDERS)
    _ok(["import", "service_orders", str(orders), "--db", db])
    _ok(["score", "--as-of", AS_OF, "--db", db])
    _ok(["actions", "--as-of", AS_OF, "--db", db])
    con = duckdb.connect(db)
    con.execute(EDGE_ROWS)
    con.close()
    return db


def _ibis_status(db: str) -> status_service.StoreStatus:
    with open_store(db, create=False) as store:
        return workspace_status(store)


def test_plain_sql_gives_ibis_figures_on_a_demo_store(demo_db):
    fast = duckdb_store_status(demo_db)
    assert fast is not None
    assert fast == _ibis_status(demo_db)
    by_name = {t.name: t for t in fast.tables}
    with duckdb.connect(demo_db, read_only=True) as con:
        held = {name for (name,) in con.sql("SHOW TABLES").fetchall()}
        snapshots = con.sql("SELECT count(*) FROM customer_scores").fetchone()
        actions = con.sql("SELECT count(*) FROM actions").fetchone()
    assert {"customer_scores", "actions"} <= held and snapshots and actions
    assert snapshots[0] > 0 and actions[0] > 0
    orders = by_name["service_orders"]
    # Unmatched on each side of the definition, six rejected rows, the demo's warnings.
    assert orders.unmatched >= 4 and orders.rejected_rows == 6 and orders.warnings > 0
    assert by_name["vehicles"].unmatched >= 1 and by_name["declined_services"].unmatched >= 1
    assert by_name["advisors"].last_file and by_name["advisors"].last_file.startswith("tie-")


def test_status_prints_the_same_text_either_way(demo_db, monkeypatch):
    fast = runner.invoke(app, ["status", "--db", demo_db])
    monkeypatch.setattr(status_service, "duckdb_store_status", lambda url: None)
    full = runner.invoke(app, ["status", "--db", demo_db])
    assert fast.exit_code == full.exit_code == 0, fast.output + full.output
    assert fast.output == full.output


def test_plain_sql_gives_ibis_figures_on_a_store_with_one_table(tmp_path):
    db = tmp_path / "one.duckdb"
    customers = _write_gbk(tmp_path / "c.csv", [["客户编号", "客户姓名"], ["C1", "王伟"]])
    _ok(["import", "customers", str(customers), "--db", str(db)])
    fast = duckdb_store_status(str(db))
    assert fast is not None and fast == _ibis_status(str(db))
    assert [t.rows for t in fast.tables] == [1, 0, 0, 0, 0, 0]


def test_the_table_list_is_the_owners(tmp_path):
    assert tuple(TABLES) == duckdb_status.CANONICAL_TABLES
    with open_store(str(tmp_path / "s.duckdb")) as store:
        customers, vehicles = store.table("customers"), store.table("vehicles")
        referencing = {
            name
            for name in TABLES
            if unmatched_records(name, store.table(name), customers=customers, vehicles=vehicles)
            is not None
        }
    assert referencing == set(duckdb_status._UNMATCHED)  # R-IN-6 counted for the same tables


def test_the_default_store_is_resolved_as_every_command_resolves_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(STORE_ENV, raising=False)
    with pytest.raises(StoreError, match=f"no store at {resolve_url(None)};"):
        duckdb_store_status(None)
    elsewhere = tmp_path / "elsewhere.duckdb"
    monkeypatch.setenv(STORE_ENV, str(elsewhere))
    assert resolve_url(None) == str(elsewhere)
    with pytest.raises(StoreError, match=f"no store at {elsewhere};"):
        duckdb_store_status(None)
    assert not elsewhere.exists() and not (tmp_path / DEFAULT_DB).exists()


def test_a_missing_store_is_the_usual_error_and_nothing_is_created(tmp_path):
    typo = tmp_path / "aftercare.duckbd"
    with pytest.raises(StoreError) as caught:
        status_at(str(typo))
    assert str(caught.value) == NO_STORE.format(where=typo)
    assert not typo.exists()


def test_other_engines_take_the_full_way():
    assert duckdb_store_status("postgresql://nobody@127.0.0.1:1/none") is None
    assert duckdb_store_status("spark:///no/such/lake") is None


def test_a_duckdb_file_without_a_store_takes_the_full_way(tmp_path):
    path = tmp_path / "other.duckdb"
    duckdb.connect(str(path)).close()
    assert duckdb_store_status(str(path)) is None
    with pytest.raises(StoreError, match="no store at"):
        status_at(str(path))


def test_a_crash_left_wal_is_repaired_by_the_full_way(tmp_path):
    """R-IN-3: a torn write is never counted; the full open repairs it, then SQL reads."""
    db = tmp_path / "store.duckdb"
    customers = _write_gbk(
        tmp_path / "c.csv", [["客户编号", "客户姓名"], ["C1", "王"], ["C2", "李"]]
    )
    _ok(["import", "customers", str(customers), "--db", str(db)])
    # Killed with a load's rows appended and not committed: the .wal holds a torn write.
    torn = "INSERT INTO customers SELECT * REPLACE ('L-torn' AS load_id) FROM customers"
    crash = "import os, sys, duckdb; con = duckdb.connect(sys.argv[1]); "
    crash += "con.execute(sys.argv[2]); os.kill(os.getpid(), 9)"
    child = subprocess.run([sys.executable, "-c", crash, str(db), torn], timeout=120)
    assert child.returncode == -signal.SIGKILL and os.path.exists(f"{db}.wal")
    assert duckdb_store_status(str(db)) is None
    assert os.path.exists(f"{db}.wal")  # looked at, not replayed away
    notes: list[str] = []
    with open_store(str(db), create=False) as store:
        notes += store.notices
        repaired = workspace_status(store)
    assert len(notes) == 1 and "removed 2 rows of customers" in notes[0]
    assert repaired.tables[0].rows == 2
    assert duckdb_store_status(str(db)) == repaired


def test_a_store_another_process_holds_is_waited_for_by_the_full_way(tmp_path, monkeypatch):
    db = tmp_path / "store.duckdb"
    open_store(str(db)).close()
    hold = "import sys, duckdb; con = duckdb.connect(sys.argv[1]); print('held', flush=True); "
    hold += "sys.stdin.readline()"
    child = subprocess.Popen(
        [sys.executable, "-c", hold, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        assert duckdb_store_status(str(db)) is None
        monkeypatch.setenv("AFTERCARE_LOCK_TIMEOUT", "0")
        result = runner.invoke(app, ["status", "--db", str(db)])
        assert result.exit_code == 1
        assert "another aftercare run is in progress" in result.output
        assert f"process {child.pid} has it open" in result.output
    finally:
        child.kill()
        child.wait(30)


def test_an_older_store_is_migrated_by_the_full_way(tmp_path):
    """A store made before a column existed: read after the full open has added it."""
    db = tmp_path / "old.duckdb"
    open_store(str(db)).close()
    with duckdb.connect(str(db)) as con:
        con.execute("ALTER TABLE load_warnings DROP COLUMN source_row")
    assert duckdb_store_status(str(db)) is None
    assert runner.invoke(app, ["status", "--db", str(db)]).exit_code == 0
    migrated = duckdb_store_status(str(db))
    assert migrated is not None and migrated == _ibis_status(str(db))
