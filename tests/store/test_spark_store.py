"""The analytics CLI on a Spark lake (``--db spark:///…``), checked against the same data on DuckDB.

One Spark context for the whole module (it takes 7–14 s to start): every command opens the
lake with ``open_store``, which reuses it. Skipped with the reason when PySpark or Java is absent.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from aftercare.cli import app
from aftercare.store import open_store

pytestmark = pytest.mark.spark

runner = CliRunner()

if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip(
        "Spark store tests need Java (no java on PATH, JAVA_HOME unset)", allow_module_level=True
    )
pytest.importorskip("pyspark", reason="Spark store tests need aftercare[spark] (PySpark)")

ORDER_HEADER = [
    "接车单号",
    "车架号",
    "客户编号",
    "接车日期",
    "行驶里程",
    "维修类别",
    "结算方式",
    "结算金额",
]
VIN1, VIN2, VIN3 = "LSVAA4182E2000001", "LSVAA4182E2000002", "LSVAA4182E2000003"
# Six customers with different histories, so the tiers differ and some move between quarters.
GOOD_ORDERS = [
    ["RO01", VIN1, "C1", "2024-01-15", "10,000", "保养", "自费", "￥2,400.00"],
    ["RO02", VIN1, "C1", "2024-04-20", "15000", "一般维修", "自费", "3100.5"],
    ["RO03", VIN1, "C1", "2024-08-02", "20000", "保养", "自费", "1800"],
    ["RO04", VIN1, "C1", "2024-11-30", "25000", "钣喷", "保险", "6000"],
    ["RO05", VIN1, "C1", "2025-03-10", "30000", "保养", "自费", "2100"],
    ["RO06", VIN2, "C2", "2023-06-01", "50000", "保养", "自费", "900"],
    ["RO07", VIN2, "C2", "2024-02-10", "58000", "一般维修", "自费", "1500"],
    ["RO08", "", "C3", "2024年12月5日", "", "精品", "自费", "300.5"],
    ["RO09", "", "C3", "20250301", "", "保养", "自费", "700"],
    ["RO10", VIN3, "C4", "2024/6/9", "8000", "保养", "自费", "650"],
    ["RO11", VIN3, "C4", "2024-09-18", "12000", "新能源检测", "自费", "99"],  # → other (R-IN-7)
    ["RO12", "", "C5", "2022-05-05", "", "保养", "自费", "400"],
    ["RO13", "", "C6", "2025-02-14", "", "一般维修", "保险", "5200"],
]
BAD_ORDERS = [
    ["", "", "C1", "2024-03-05", "", "保养", "自费", "100"],  # row 15: missing order_id
    ["RO91", "", "C1", "2024-02-30", "", "保养", "自费", "100"],  # row 16: impossible date
    ["RO92", "", "C1", "2024-03-05", "-5", "保养", "自费", "100"],  # row 17: negative odometer
    ["RO93", "", "C1", "2024-03-05", "", "保养", "自费", "一百"],  # row 18: amount
]
CUSTOMERS = [
    ["客户编号", "客户姓名", "手机号码"],
    *[[f"C{i}", name, f"1380013800{i}"] for i, name in enumerate("王李张刘陈杨", start=1)],
]
VEHICLES = [
    ["车架号", "客户编号", "提车日期", "extended_warranty_end"],
    [VIN1, "C1", "2021-01-01", "2026-01-01"],
    [VIN2, "C2", "2018-05-01", ""],
    [VIN3, "C4", "2023-12-01", ""],
]
QUARTERS = ("2024-12-31", "2025-03-31")


def _gbk(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _summary(output: str) -> str:
    """The one-line summary of an import."""
    return next(line for line in output.splitlines() if "←" in line)


def _import_all(db: str, files: dict[str, Path]) -> dict[str, tuple[int, str]]:
    return {table: _run("import", table, str(path), "--db", db) for table, path in files.items()}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The same GBK exports imported and scored on a Spark lake and on DuckDB."""
    root = tmp_path_factory.mktemp("spark-store")
    files = {
        "customers": _gbk(root / "客户.csv", CUSTOMERS),
        "vehicles": _gbk(root / "车辆.csv", VEHICLES),
        "service_orders": _gbk(root / "工单导出.csv", [ORDER_HEADER, *GOOD_ORDERS, *BAD_ORDERS]),
    }
    lake, duck = f"spark://{root / 'lake'}", str(root / "store.duckdb")
    out = {"root": root, "files": files, "lake": lake, "duck": duck}
    out["imports"] = _import_all(lake, files)
    out["duck_imports"] = _import_all(duck, files)
    for db in (lake, duck):
        code, text = _run("score", "--quarterly", QUARTERS[0], QUARTERS[1], "--db", db)
        assert code == 0, text
        out.setdefault("score", {})[db] = text
    return out


def test_import_gbk_with_bad_rows_exit_3_and_rejects_kept(data):
    """R-IN-1 on a lake: exit 3, each bad row reported and kept in rejected_rows, like DuckDB."""
    code, text = data["imports"]["service_orders"]
    assert code == 3, text
    assert "13 stored (0 replaced), 0 unchanged" in text and "4 rejected" in text
    # Each bad row located by file, row and the column as the export names it.
    for row, column in [(15, "接车单号"), (16, "接车日期"), (17, "行驶里程"), (18, "结算金额")]:
        assert f"工单导出.csv:{row}: {column}:" in text
    duck_text = data["duck_imports"]["service_orders"][1]
    assert _summary(duck_text) == _summary(text)

    def rejects(db: str) -> list[tuple]:
        with open_store(db, create=False) as store:
            rows = store.table("rejected_rows").to_pyarrow().to_pylist()
        return sorted((r["source_row"], r["column_name"], r["reason"]) for r in rows)

    assert rejects(data["lake"]) == rejects(data["duck"]) and len(rejects(data["lake"])) == 4


def test_status_on_lake_matches_duckdb(data):
    """`status` shows the same rows, unmatched, rejects and warnings as on DuckDB."""
    code, text = _run("status", "--db", data["lake"])
    assert code == 0, text
    _, duck = _run("status", "--db", data["duck"])
    grid = [line.split("│")[1:6] for line in text.splitlines() if line.count("│") > 5]
    duck_grid = [line.split("│")[1:6] for line in duck.splitlines() if line.count("│") > 5]
    assert grid == duck_grid
    assert any(cells[0].strip() == "service_orders" and cells[1].strip() == "13" for cells in grid)


def _manifest(lake: str) -> dict:
    return json.loads((Path(lake.removeprefix("spark://")) / "_aftercare.json").read_text())


def test_r_in_2_reimport_changes_nothing(data):
    """R-IN-2: the same file again stores nothing new and leaves the table's files alone."""
    before = _manifest(data["lake"])["tables"]["service_orders"]["parts"]
    code, text = _run(
        "import", "service_orders", str(data["files"]["service_orders"]), "--db", data["lake"]
    )
    assert code == 3, text
    assert "0 stored (0 replaced), 13 unchanged" in text
    assert _manifest(data["lake"])["tables"]["service_orders"]["parts"] == before
    with open_store(data["lake"], create=False) as store:
        assert store.table("service_orders").count().to_pyarrow().as_py() == 13
        assert (
            store.table("rejected_rows").count().to_pyarrow().as_py() == 4
        )  # replaced, not doubled
        assert store.table("row_history").count().to_pyarrow().as_py() == 0


def test_crash_before_switch_keeps_previous_version(data, monkeypatch):
    """R-IN-3: a load that dies after writing its files, before the switch, changes nothing."""
    from aftercare.store import spark_writer

    changed = [list(r) for r in GOOD_ORDERS]
    changed[0][7] = "9999"  # RO01's amount
    (data["root"] / "changed").mkdir()
    path = _gbk(data["root"] / "changed" / "工单导出.csv", [ORDER_HEADER, *changed])

    def die() -> None:
        raise RuntimeError("killed")  # stands in for kill -9: nothing after this point runs

    monkeypatch.setattr(spark_writer, "maybe_crash", die)
    code, _ = _run("import", "service_orders", str(path), "--db", data["lake"])
    assert code != 0
    with open_store(data["lake"], create=False) as store:
        orders = store.table("service_orders")
        ro01 = orders.filter(orders.order_id == "RO01").to_pyarrow().to_pylist()
        assert ro01[0]["total_amount"] == Decimal("2400.00")
        assert store.table("row_history").count().to_pyarrow().as_py() == 0
        assert store.table("load_log").count().to_pyarrow().as_py() == 4  # 3 imports + re-import
    lake_dir = Path(data["lake"].removeprefix("spark://"))
    named = {rel for t in _manifest(data["lake"])["tables"].values() for rel in t["parts"].values()}
    on_disk = {str(p.relative_to(lake_dir)) for p in lake_dir.glob("service_orders/v-*")}
    assert on_disk == {rel for rel in named if rel.startswith("service_orders/")}  # orphan removed


def _exported(db: str, out: Path) -> list[dict]:
    code, text = _run("export", "customer_scores", "--out", str(out), "--db", db)
    assert code == 0, text
    rows = pq.read_table(out).to_pylist()
    for r in rows:
        for k, v in r.items():
            if isinstance(v, Decimal):
                r[k] = float(v)
            elif isinstance(v, float):
                r[k] = round(v, 9)
    return sorted(rows, key=lambda r: (r["as_of_date"], r["customer_id"]))


def test_scores_migration_and_export_match_duckdb(data):
    """score --quarterly, migration and export customer_scores: the same on Spark as DuckDB."""
    assert "scored 6 customers as of 2025-03-31" in data["score"][data["lake"]]
    lake_rows = _exported(data["lake"], data["root"] / "lake_scores.parquet")
    duck_rows = _exported(data["duck"], data["root"] / "duck_scores.parquet")
    # 6 + 5: C6 (no created_at, first order 2025-02-14) is not yet a customer on 2024-12-31
    # (R-TIER-HIST; before issue 9 it was scored there, lapsed).
    assert len(lake_rows) == 11
    assert {r["as_of_date"] for r in lake_rows} == {dt.date.fromisoformat(d) for d in QUARTERS}
    assert lake_rows == duck_rows
    code, text = _run("migration", *QUARTERS, "--db", data["lake"])
    assert code == 0, text
    assert text == _run("migration", *QUARTERS, "--db", data["duck"])[1]
    # The snapshots are partitions of their own.
    parts = _manifest(data["lake"])["tables"]["customer_scores"]["parts"]
    assert set(parts) == set(QUARTERS)
    assert all(f"as_of_date={d}/" in parts[d] for d in QUARTERS)


def test_rescoring_one_date_leaves_the_other_partition(data):
    """R-TIER-HIST on a lake: re-scoring a date rewrites only that date's partition."""
    before = _manifest(data["lake"])["tables"]["customer_scores"]["parts"]
    code, text = _run("score", "--as-of", QUARTERS[1], "--db", data["lake"])
    assert code == 0, text
    after = _manifest(data["lake"])["tables"]["customer_scores"]["parts"]
    assert after[QUARTERS[0]] == before[QUARTERS[0]] and after[QUARTERS[1]] != before[QUARTERS[1]]
    with open_store(data["lake"], create=False) as store:
        assert store.table("customer_scores").count().to_pyarrow().as_py() == 11  # C6 from 2025


@pytest.mark.parametrize(
    "args",
    [
        ("actions", "--as-of", "2025-03-31"),
        ("outcome", "A1", "reached"),
        ("import", "outcomes", "calls.csv"),
    ],
    ids=["actions", "outcome", "import-outcomes"],
)
def test_playbook_commands_refuse_a_lake_in_one_line(data, args):
    """The playbook's transactional tables are not built on Spark: a plain one-line refusal."""
    args = tuple(str(data["root"] / a) if a == "calls.csv" else a for a in args)
    if "calls.csv" in args[-1]:
        Path(args[-1]).write_text("action_id,result\nA1,reached\n", encoding="utf-8")
    code, text = _run(*args, "--db", data["lake"])
    assert code == 1, text
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[-1].startswith("error: ") and "need a DuckDB or PostgreSQL store" in lines[-1]
