"""Stores opened deliberately (issue 9, item 5): ``--db`` must name a DuckDB store.

``--db existing.csv``, ``--db data.parquet`` or ``--db :memory:`` opened an in-memory database
("7 stored", exit 0, nothing kept); a typo such as ``--db aftercare.duckbd`` silently created an
empty store that read commands described ("0 open actions", exit 0). Now each is a one-line
error, exit 1, no traceback, nothing created or changed; only ``import`` and ``demo`` create a
store.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from aftercare.cli import app

runner = CliRunner()

NO_STORE = (
    "run `aftercare import` or `aftercare demo` first; "
    "the demo's store is aftercare-demo/aftercare.duckdb"
)

#: Every command that reads or updates a store, none of which may create one.
READ_COMMANDS = [
    ["status"],
    ["check"],
    ["export", "customers", "--out", "{tmp}/out.csv"],
    ["score", "--as-of", "2025-06-30"],
    ["migration", "2025-03-31", "2025-06-30"],
    ["explain", "C1", "--as-of", "2025-06-30"],
    ["actions", "--as-of", "2025-06-30"],
    ["outcome", "A1", "booked"],
    ["kpis", "--month", "2025-06"],
    ["segment"],
    ["report", "--as-of", "2025-06-30", "--out", "{tmp}/r.html"],
    ["import", "outcomes", "{tmp}/calls.csv"],
]


def _customers_csv(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["客户编号", "客户姓名"], ["C1", "王伟"], ["C2", "李娜"]])
    return path


def _one_line_error(result, *needles: str) -> str:
    """The result is exit 1 with one line of error, no traceback; returns the line."""
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: "-".join(c[:2]))
def test_read_commands_refuse_a_store_that_does_not_exist(tmp_path, command):
    """A typo in --db (aftercare.duckbd) is refused, not created and described as empty."""
    typo = tmp_path / "aftercare.duckbd"
    args = [a.format(tmp=tmp_path) for a in command]
    (tmp_path / "calls.csv").write_text("action_id,result\nA1,booked\n", encoding="utf-8")
    result = runner.invoke(app, [*args, "--db", str(typo)])
    _one_line_error(result, f"no store at {typo}; {NO_STORE}")
    assert not typo.exists()


def test_read_command_without_db_names_the_default_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AFTERCARE_DB", raising=False)
    result = runner.invoke(app, ["status"])
    _one_line_error(result, f"no store at aftercare.duckdb; {NO_STORE}")
    assert not (tmp_path / "aftercare.duckdb").exists()


def test_import_creates_the_store_and_read_commands_then_work(tmp_path):
    db = tmp_path / "new.duckdb"
    imported = runner.invoke(
        app, ["import", "customers", str(_customers_csv(tmp_path)), "--db", str(db)]
    )
    assert imported.exit_code == 0, imported.output
    assert db.exists()
    status = runner.invoke(app, ["status", "--db", str(db)])
    assert status.exit_code == 0, status.output


def _existing_csv(tmp_path: Path) -> Path:
    path = tmp_path / "existing.csv"
    path.write_text("客户编号,客户姓名\nC1,王伟\n", encoding="utf-8")
    return path


def _parquet(tmp_path: Path) -> Path:
    path = tmp_path / "data.parquet"
    pq.write_table(pa.table({"customer_id": ["C1"]}), path)
    return path


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.duckdb"
    path.write_bytes(b"")
    return path


@pytest.mark.parametrize("make", [_existing_csv, _parquet, _empty], ids=["csv", "parquet", "empty"])
@pytest.mark.parametrize("command", ["import", "status"])
def test_db_that_is_not_a_duckdb_file_is_refused_and_left_alone(tmp_path, make, command):
    """--db existing.csv / data.parquet: refused by the file's header, the file unchanged."""
    target = make(tmp_path)
    before = target.read_bytes()
    args = (
        ["import", "customers", str(_customers_csv(tmp_path))]
        if command == "import"
        else ["status"]
    )
    result = runner.invoke(app, [*args, "--db", str(target)])
    _one_line_error(result, f"{target} is not a DuckDB store")
    assert target.read_bytes() == before
    assert not target.with_name(target.name + ".wal").exists()


@pytest.mark.parametrize("command", ["import", "status"])
def test_db_memory_is_refused(tmp_path, command):
    """--db :memory: would keep nothing: refused, for import as for every other command."""
    args = (
        ["import", "customers", str(_customers_csv(tmp_path))]
        if command == "import"
        else ["status"]
    )
    result = runner.invoke(app, [*args, "--db", ":memory:"])
    _one_line_error(result, "--db :memory: keeps nothing")


@pytest.mark.parametrize("name", ["new.csv", "new.parquet", "new.xlsx"])
def test_import_does_not_create_a_store_named_like_a_data_file(tmp_path, name):
    target = tmp_path / name
    result = runner.invoke(
        app, ["import", "customers", str(_customers_csv(tmp_path)), "--db", str(target)]
    )
    _one_line_error(result, f"no store at {target}", "aftercare.duckdb")
    assert not target.exists()


def test_a_folder_is_refused(tmp_path):
    result = runner.invoke(app, ["status", "--db", str(tmp_path)])
    _one_line_error(result, "is a folder")


def test_postgres_database_without_a_store_is_refused_by_read_commands(store_url):
    """An empty PostgreSQL database is no store: read commands say so, import creates it."""
    if not store_url.startswith("postgresql"):
        pytest.skip("the DuckDB cases are the tests above")
    _one_line_error(runner.invoke(app, ["status", "--db", store_url]), "no store at", NO_STORE)
    assert runner.invoke(app, ["check", "--db", store_url]).exit_code == 1
