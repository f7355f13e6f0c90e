"""`aftercare import / status / export` end to end on real files (issue 2's "done when")."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from aftercare.cli import app
from aftercare.store import open_store

runner = CliRunner()

HEADER = [
    "接车单号",
    "车架号",
    "客户编号",
    "接车日期",
    "行驶里程",
    "维修类别",
    "结算方式",
    "结算金额",
]
GOOD = [
    ["RO1", "LSVAA4182E2000001", "C1", "2024-03-05", "12,000", "保养", "自费", "￥1,234.50"],
    ["RO2", "LSVAA4182E2000001", "C1", "2024/3/9", "12500", "一般维修", "保险", "￥800"],
    ["RO3", "", "C2", "2024年4月1日", "", "钣喷", "自费", "2000"],
    ["RO4", "", "C3", "20240405", "", "精品", "自费", "300.5"],
    ["RO5", "", "C9", "45356", "", "新能源检测", "自费", "99"],  # unknown category → other
]
BAD = [
    ["", "", "C1", "2024-03-05", "", "保养", "自费", "100"],  # row 7: missing order_id
    ["RO7", "", "C1", "2024-02-30", "", "保养", "自费", "100"],  # row 8: impossible date
    ["RO8", "", "C1", "2024-03-05", "-5", "保养", "自费", "100"],  # row 9: negative odometer
    ["RO9", "LSVAA4182E200000I", "C1", "2024-03-05", "", "保养", "自费", "100"],  # row 10: VIN
    ["RO10", "", "C1", "2024-03-05", "", "保养", "自费", "一百"],  # row 11: amount
    ["RO11", "", "C1", "2024-03-05", "", "保养", "现金", "100"],  # row 12: unknown payer
]
CUSTOMERS = [
    ["客户编号", "客户姓名", "手机号码"],
    ["C1", "王伟", "13800138000"],
    ["C2", "李娜", "13900139000"],
]


def _write_gbk(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


@pytest.fixture
def db(store_url):
    """The whole import path through the CLI on each engine (a fresh database each test)."""
    return store_url


@pytest.fixture
def orders_csv(tmp_path: Path) -> Path:
    return _write_gbk(tmp_path / "工单导出.csv", [HEADER, *GOOD, *BAD])


def _orders(db: str) -> dict[str, dict]:
    with open_store(db) as store:
        rows = store.table("service_orders").to_pyarrow().to_pylist()
    return {r["order_id"]: r for r in rows}


def test_r_in_1_gbk_export_with_bad_rows_exits_3_and_keeps_them(db, orders_csv, tmp_path):
    """Exit 3, every bad row reported with row and reason, every good row stored."""
    rejects = tmp_path / "rejects.csv"
    result = runner.invoke(
        app, ["import", "service_orders", str(orders_csv), "--db", db, "--rejects", str(rejects)]
    )
    assert result.exit_code == 3, result.output
    out = result.output
    for row, column in [
        (7, "接车单号: missing order_id"),
        (8, "接车日期: bad date '2024-02-30'"),
        (9, "行驶里程: negative odometer"),
        (10, "车架号: bad VIN"),
        (11, "结算金额: amount not a number"),
        (12, "结算方式: unknown payer '现金'"),
    ]:
        # the column as the user's file names it, then the reason
        assert f"工单导出.csv:{row}: {column}" in out, out
    stored = _orders(db)
    assert sorted(stored) == ["RO1", "RO2", "RO3", "RO4", "RO5"]
    assert float(stored["RO1"]["total_amount"]) == 1234.50
    assert stored["RO1"]["odometer_km"] == 12000
    assert stored["RO2"]["open_date"] == dt.date(2024, 3, 9)
    assert stored["RO2"]["payer"] == "insurance"
    assert stored["RO3"]["open_date"] == dt.date(2024, 4, 1)
    assert stored["RO4"]["open_date"] == dt.date(2024, 4, 5)
    assert stored["RO5"]["open_date"] == dt.date(2024, 3, 5)  # Excel serial 45356
    assert (stored["RO5"]["category"], stored["RO5"]["category_raw"]) == ("other", "新能源检测")
    assert stored["RO1"]["source_row"] == 2
    with rejects.open(encoding="utf-8-sig") as fh:
        rejected_rows = {int(r["source_row"]) for r in csv.DictReader(fh)}
    assert rejected_rows == {7, 8, 9, 10, 11, 12}
    with open_store(db) as store:
        quarantine = store.table("rejected_rows").to_pyarrow().to_pylist()
        assert {r["source_row"] for r in quarantine} == {7, 8, 9, 10, 11, 12}
        assert all(r["raw_record"] for r in quarantine)


def test_r_in_2_reimport_changes_nothing(db, orders_csv):
    """R-IN-2: the same file again: nothing inserted or replaced, no duplicate rejects."""
    runner.invoke(app, ["import", "service_orders", str(orders_csv), "--db", db])
    before = _orders(db)
    again = runner.invoke(app, ["import", "service_orders", str(orders_csv), "--db", db])
    assert again.exit_code == 3
    assert "0 stored (0 replaced), 5 unchanged" in again.output
    assert _orders(db) == before
    with open_store(db) as store:
        assert store.table("rejected_rows").count().to_pyarrow().as_py() == 6
        assert store.table("row_history").count().to_pyarrow().as_py() == 0


def test_r_in_2_changed_row_is_replaced_and_recorded(db, tmp_path):
    first = _write_gbk(tmp_path / "a.csv", [HEADER, GOOD[0]])
    second = _write_gbk(tmp_path / "b.csv", [HEADER, [*GOOD[0][:-1], "1300"]])
    assert runner.invoke(app, ["import", "service_orders", str(first), "--db", db]).exit_code == 0
    result = runner.invoke(app, ["import", "service_orders", str(second), "--db", db])
    assert result.exit_code == 0
    assert "1 stored (1 replaced)" in result.output
    assert float(_orders(db)["RO1"]["total_amount"]) == 1300
    with open_store(db) as store:
        assert store.table("row_history").count().to_pyarrow().as_py() == 1


def test_unmatched_orders_kept_and_counted(db, orders_csv, tmp_path):
    """R-IN-6: orders for customers not yet loaded are kept and counted until they arrive."""
    runner.invoke(app, ["import", "service_orders", str(orders_csv), "--db", db])
    customers = _write_gbk(tmp_path / "customers.csv", CUSTOMERS)
    result = runner.invoke(app, ["import", "customers", str(customers), "--db", db])
    assert result.exit_code == 0, result.output
    status = runner.invoke(app, ["status", "--db", db])
    assert status.exit_code == 0
    line = next(ln for ln in status.output.splitlines() if "service_orders" in ln)
    # RO1/RO2 name a VIN not in vehicles; RO4 (C3) and RO5 (C9) name unknown customers.
    cells = [c.strip() for c in line.split("│")]
    # table, rows, unmatched, rejected rows, warnings (新能源检测 → other), last load
    assert cells[1:6] == ["service_orders", "5", "4", "6", "1"], status.output
    with open_store(db) as store:
        log = store.table("load_log")
        last = log.filter(log.table_name == "service_orders").finished_at.max().to_pyarrow()
    assert cells[6].startswith(f"{last.as_py():%Y-%m-%d}"), status.output  # last load (wraps)
    customers_line = next(ln for ln in status.output.splitlines() if "│ customers" in ln)
    assert [c.strip() for c in customers_line.split("│")][1:5] == ["customers", "2", "0", "0"]


def test_r_in_1_missing_file_exits_1_in_one_line(db, tmp_path):
    result = runner.invoke(
        app, ["import", "service_orders", str(tmp_path / "nope.csv"), "--db", db]
    )
    assert result.exit_code == 1
    assert "nope.csv" in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    if "://" not in db:  # a failed import changes nothing, not even an empty store
        assert not Path(db).exists()


def test_same_name_in_two_folders_keeps_both_quarantines(db, tmp_path):
    """R-IN-1: monthly exports share a name; one's rejects must not erase the other's."""
    (tmp_path / "may").mkdir()
    (tmp_path / "june").mkdir()
    may = _write_gbk(tmp_path / "may" / "工单导出.csv", [HEADER, GOOD[0], BAD[1]])
    june = _write_gbk(tmp_path / "june" / "工单导出.csv", [HEADER, GOOD[2], BAD[4]])
    for path in (may, june, june):  # june twice: its own quarantine is replaced, not doubled
        assert (
            runner.invoke(app, ["import", "service_orders", str(path), "--db", db]).exit_code == 3
        )
    with open_store(db) as store:
        rejects = store.table("rejected_rows").to_pyarrow().to_pylist()
    assert sorted((r["source_row"], r["column_name"]) for r in rejects) == [
        (3, "接车日期"),  # may: the impossible date
        (3, "结算金额"),  # june: the amount that is not a number
    ]


def test_fixed_file_clears_its_quarantine(db, tmp_path):
    """A corrected export at the same path replaces that file's earlier rejects."""
    path = _write_gbk(tmp_path / "工单导出.csv", [HEADER, GOOD[0], BAD[1]])
    assert runner.invoke(app, ["import", "service_orders", str(path), "--db", db]).exit_code == 3
    _write_gbk(path, [HEADER, GOOD[0], [*BAD[1][:3], "2024-02-28", *BAD[1][4:]]])
    assert runner.invoke(app, ["import", "service_orders", str(path), "--db", db]).exit_code == 0
    with open_store(db) as store:
        assert store.table("rejected_rows").count().to_pyarrow().as_py() == 0
    assert sorted(_orders(db)) == ["RO1", "RO7"]


def test_r_in_1_unknown_table_is_usage_error_exit_2(db, orders_csv):
    result = runner.invoke(app, ["import", "orders", str(orders_csv), "--db", db])
    assert result.exit_code == 2


def test_r_in_1_bad_mapping_exits_1_with_nothing_changed(db, orders_csv, tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns:\n  接车单号: not_a_field\n  车架号: nor_this\n", encoding="utf-8")
    result = runner.invoke(
        app, ["import", "service_orders", str(orders_csv), "--mapping", str(mapping), "--db", db]
    )
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()  # one line, every problem in it
    assert "m.yaml: line 2: " in line and "; line 3: " in line
    assert _orders(db) == {}


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_export_round_trip(db, orders_csv, tmp_path, suffix):
    runner.invoke(app, ["import", "service_orders", str(orders_csv), "--db", db])
    out = tmp_path / f"orders{suffix}"
    result = runner.invoke(app, ["export", "service_orders", "--out", str(out), "--db", db])
    assert result.exit_code == 0, result.output
    assert "5 rows" in result.output
    if suffix == ".parquet":
        assert pq.read_table(out).num_rows == 5
    elif suffix == ".csv":
        with out.open(encoding="utf-8") as fh:
            assert len(list(csv.DictReader(fh))) == 5
    else:
        # an export re-imports: the xlsx has canonical headers
        again = runner.invoke(app, ["import", "service_orders", str(out), "--db", db])
        assert again.exit_code == 0, again.output
        assert "5 unchanged" in again.output


def test_export_unknown_table(db):
    open_store(db).close()  # an existing store: read commands create none (issue 9, item 5)
    result = runner.invoke(app, ["export", "nope", "--out", "x.csv", "--db", db])
    assert result.exit_code == 1
    assert "no table 'nope'" in result.output


def _import_killed_mid_load(path: Path, db: str) -> None:
    """Run `aftercare import` in a child that kills itself with -9 inside the write."""
    import os
    import subprocess
    import sys

    from aftercare.store.load import FAULT_ENV

    env = dict(os.environ, **{FAULT_ENV: "mid-load"})
    code = "from aftercare.cli import main; main()"
    argv = [sys.executable, "-c", code, "import", "service_orders", str(path), "--db", db]
    proc = subprocess.run(argv, env=env, capture_output=True, timeout=120)
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]


def _system_rows(db: str) -> dict[str, int]:
    with open_store(db) as store:
        return {
            name: int(store.table(name).count().to_pyarrow().as_py())
            for name in ("load_log", "rejected_rows", "load_warnings", "row_history")
        }


def test_r_in_3_kill_9_during_first_import_leaves_an_empty_table(db, orders_csv):
    """R-IN-3 through the CLI, on the first load's plain-insert path."""
    open_store(db).close()
    _import_killed_mid_load(orders_csv, db)
    assert _orders(db) == {}
    assert _system_rows(db) == {
        "load_log": 0,
        "rejected_rows": 0,
        "load_warnings": 0,
        "row_history": 0,
    }


def test_r_in_3_kill_9_during_reimport_keeps_rows_rejects_and_warnings(db, orders_csv, tmp_path):
    """R-IN-3: a changed export killed mid-merge leaves every table as the last good load."""
    assert runner.invoke(app, ["import", "service_orders", str(orders_csv), "--db", db]).exit_code
    before, system = _orders(db), _system_rows(db)
    assert system["rejected_rows"] == 6 and system["load_warnings"] == 1
    changed = [
        HEADER,
        *[[*row[:-1], "1"] for row in GOOD],
        ["RO99", "", "C1", "2024-05-05", "", "保养", "自费", "50"],
    ]
    _write_gbk(orders_csv, changed)  # same file, every amount changed, one new row, no rejects
    _import_killed_mid_load(orders_csv, db)
    assert _orders(db) == before
    assert _system_rows(db) == system


def test_damaged_csv_rejects_only_the_damaged_rows(db, tmp_path):
    """Issue 9 item 7 end to end: a 3 MB cell, a quote never closed and GBK lines in a UTF-8
    export each reject their own row (reported with its row), the other rows load (exit 3)."""
    rows = [",".join(HEADER)]
    rows += [f"RO{i},,C{i},2024-03-05,,保养,自费,100" for i in range(1, 6)]  # rows 2-6
    rows[2] = "RO2,,C2,2024-03-05,,保养,自费," + "9" * (3 << 20)  # row 3: a 3 MB amount
    rows[4] = 'RO4,,C4,2024-03-05,,"保养,自费,100'  # row 5: its quote never closes
    utf8 = ("\n".join(rows) + "\n").encode("utf-8")
    gbk = "RO7,,C7,2024-03-05,,保养,自费,100\n".encode("gbk")  # row 7: not UTF-8
    tail = "RO8,,C8,2024-03-05,,保养,自费,100\n".encode()  # row 8
    path = tmp_path / "工单导出.csv"
    path.write_bytes(utf8 + gbk + tail)
    result = runner.invoke(app, ["import", "service_orders", str(path), "--db", db])
    assert result.exit_code == 3, result.output
    assert "7 rows read, 4 stored (0 replaced)" in result.output, result.output
    for line in (
        "工单导出.csv:3: (whole row): a cell of 1 MB or more",
        "工单导出.csv:5: (whole row): unterminated quote",
        "工单导出.csv:7: (whole row): not valid utf-8 text",
    ):
        assert line in result.output, result.output
    assert sorted(_orders(db)) == ["RO1", "RO3", "RO5", "RO8"]
