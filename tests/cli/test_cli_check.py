"""`aftercare check` and the repair at open, through the CLI (R-IN-3)."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aftercare.cli import app
from aftercare.services.check import LAKE_NEEDS_NO_REPAIR
from aftercare.store import open_store

runner = CliRunner()


def _import_customers(tmp_path: Path, db: str) -> None:
    path = tmp_path / "customers.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["客户编号", "客户姓名"], ["C1", "王伟"], ["C2", "李娜"]])
    result = runner.invoke(app, ["import", "customers", str(path), "--db", db])
    assert result.exit_code == 0, result.output


def _execute(db: str, sql: str) -> None:
    with open_store(db, create=False) as store:
        native = store.con.con
        if store.kind == "duckdb":
            native.execute(sql)
        else:
            with native.cursor() as cur:
                cur.execute(sql)


@pytest.mark.lake
def test_r_in_3_check_of_a_sound_store_is_one_ok_line(tmp_path, store_url):
    """On DuckDB, PostgreSQL and a Spark lake; --repair finds nothing (a lake cannot tear)."""
    _import_customers(tmp_path, store_url)
    result = runner.invoke(app, ["check", "--db", store_url])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ok: "), result.output
    assert "keys unique, every load committed, counts match load_log" in lines[0]
    repaired = runner.invoke(app, ["check", "--repair", "--db", store_url])
    assert repaired.exit_code == 0, repaired.output
    expected = [LAKE_NEEDS_NO_REPAIR, lines[0]] if store_url.startswith("spark") else lines
    assert repaired.output.strip().splitlines() == expected


def test_r_in_3_check_lists_what_is_wrong_and_exits_1(tmp_path, store_url):
    """A load that never committed and an outcome of no action: one line each, exit 1;
    --repair removes the uncommitted rows and leaves what it cannot decide."""
    _import_customers(tmp_path, store_url)
    _execute(store_url, "INSERT INTO customers (customer_id, load_id) VALUES ('C9', 'L-torn')")
    _execute(store_url, "INSERT INTO action_outcomes (outcome_id, action_id) VALUES ('O1', 'A9')")
    result = runner.invoke(app, ["check", "--db", store_url])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.output.rstrip().splitlines()
    assert lines[:-1] == [
        "  customers: 1 row of load L-torn, which never committed (no load_log row); "
        "`aftercare check --repair` removes them",
        "  customers: 3 rows stored, but its committed loads added 2 "
        "(rows_inserted − rows_replaced in load_log)",
        "  action_outcomes: 1 row whose action_id is not in actions (e.g. A9)",
    ]
    assert lines[-1].startswith("error: ") and "3 problems" in lines[-1]

    repaired = runner.invoke(app, ["check", "--repair", "--db", store_url])
    assert repaired.exit_code == 1, repaired.output
    lines = repaired.output.rstrip().splitlines()
    assert lines[0] == (
        "repaired a torn write (aftercare check --repair): removed 1 row of customers written "
        "by load L-torn, which never committed; recorded in store_repairs"
    )
    assert lines[1:-1] == ["  action_outcomes: 1 row whose action_id is not in actions (e.g. A9)"]
    assert "1 problem in" in lines[-1]


def test_r_in_3_torn_import_is_repaired_at_the_next_command_with_one_stderr_line(tmp_path):
    """A DuckDB store killed with a torn write: the next command (any) repairs it, says so
    in one line on stderr, and goes on; the next one says nothing."""
    db = tmp_path / "store.duckdb"
    _import_customers(tmp_path, str(db))
    code = textwrap.dedent(
        f"""
        import os, signal, duckdb
        con = duckdb.connect({str(db)!r})
        con.execute("INSERT INTO customers SELECT * REPLACE ('L-torn' AS load_id) FROM customers")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert child.returncode == -signal.SIGKILL
    assert os.path.exists(f"{db}.wal")
    argv = [sys.executable, "-c", "from aftercare.cli import main; main()", "status", "--db"]
    first = subprocess.run([*argv, str(db)], capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert first.stderr.strip().splitlines() == [
        "aftercare: repaired a torn write (found at open after a crash): removed 2 rows of "
        "customers written by load L-torn, which never committed; recorded in store_repairs"
    ]
    line = next(ln for ln in first.stdout.splitlines() if "│ customers" in ln)
    assert line.split("│")[2].strip() == "2"
    second = subprocess.run([*argv, str(db)], capture_output=True, text=True, timeout=300)
    assert second.returncode == 0 and second.stderr == ""
    assert runner.invoke(app, ["check", "--db", str(db)]).exit_code == 0
