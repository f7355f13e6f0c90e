"""R-IN-9 end to end: implausible values are rejected with their reason (issue 9, item 8), on
DuckDB and PostgreSQL.

The issue's reproductions: an order dated 2099 or 1900, a close date before the open date, an
order of 999,999,999,999.99 (that customer's M became 10¹²), an outcome dated 2030.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aftercare.cli import app
from aftercare.config import DEFAULT_CONFIG
from aftercare.errors import AftercareError
from aftercare.services.outcomes import record_outcome
from aftercare.store import open_store
from outcome_rows import make_actions

runner = CliRunner()

HEADER = ["接车单号", "客户编号", "接车日期", "完工日期", "结算金额"]
ORDERS = [
    ["RO1", "C1", "2024-03-05", "2024-03-06", "1200"],  # row 2: fine
    ["RO2", "C1", "2099-03-05", "", "800"],  # row 3: dated 2099
    ["RO3", "C1", "1900-01-01", "", "800"],  # row 4: a DMS's empty date
    ["RO4", "C1", "2024-05-10", "2024-05-01", "800"],  # row 5: closed before opened
    ["RO5", "C1", "2024-06-01", "2024-06-01", "999,999,999,999.99"],  # row 6: 10¹²
    ["RO6", "C1", "2024-06-02", "", "-999,999,999,999.99"],  # row 7: a refund as absurd
    ["RO7", "C1", "2024-06-03", "", "1000000"],  # row 8: the ceiling itself is fine
]


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _run(*args: str):
    return runner.invoke(app, list(args))


def test_r_in_9_implausible_orders_rejected_with_their_reason(store_url, tmp_path):
    path = _write(tmp_path / "工单.csv", [HEADER, *ORDERS])
    result = _run("import", "service_orders", str(path), "--db", store_url)
    assert result.exit_code == 3, result.output
    out = result.output
    latest = dt.date.today() + dt.timedelta(days=1)
    for line in (
        f"工单.csv:3: 接车日期: implausible date 2099-03-05: after {latest}",
        "工单.csv:4: 接车日期: implausible date 1900-01-01: before 1990-01-01",
        "工单.csv:5: 完工日期: closed before it was opened: 2024-05-01 is before the open "
        "date 2024-05-10",
        "工单.csv:6: 结算金额: implausible amount 999999999999.99: beyond ±1,000,000 per order",
        "工单.csv:7: 结算金额: implausible amount -999999999999.99: beyond ±1,000,000 per order",
    ):
        assert line in out, out
    with open_store(store_url) as store:
        stored = store.table("service_orders").to_pyarrow().to_pylist()
        rejected = store.table("rejected_rows").to_pyarrow().to_pylist()
    assert sorted(r["order_id"] for r in stored) == ["RO1", "RO7"]
    assert max(r["total_amount"] for r in stored) == Decimal("1000000")
    assert sorted(r["source_row"] for r in rejected) == [3, 4, 5, 6, 7]


def test_r_in_9_thresholds_come_from_the_config(store_url, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(
        "ingest:\n  earliest_date: 1800-01-01\n  max_order_amount: 1000\n", encoding="utf-8"
    )
    path = _write(tmp_path / "工单.csv", [HEADER, ORDERS[0], ORDERS[2], ORDERS[6]])
    result = _run("import", "service_orders", str(path), "--db", store_url, "--config", str(config))
    assert result.exit_code == 3, result.output
    assert "工单.csv:2: 结算金额: implausible amount 1200.00: beyond ±1,000 per order" in (
        result.output
    )
    assert "工单.csv:4: 结算金额: implausible amount 1000000.00" in result.output
    with open_store(store_url) as store:
        stored = store.table("service_orders").to_pyarrow().to_pylist()
    assert [r["order_id"] for r in stored] == ["RO3"]  # 1900 is plausible from 1800 on


@pytest.fixture
def db_with_action(store_url) -> str:
    actions = make_actions(
        [{"action_id": "A1", "rule_id": "A-WELCOME", "customer_id": "C1", "due_date": "2024-06-25"}]
    )
    with open_store(store_url) as store:
        store.con.insert("actions", actions)
    return store_url


def test_r_in_9_outcome_dated_2030_is_rejected(db_with_action, tmp_path):
    log = tmp_path / "回访记录.csv"
    log.write_bytes(
        (
            "任务编号,回访结果,回访时间\nA1,已预约,2024-06-25 10:00\nA1,已到店,2030-01-05 10:00\n"
        ).encode("gbk")
    )
    result = _run("import", "outcomes", str(log), "--db", db_with_action)
    assert result.exit_code == 3, result.output
    assert "2 rows read, 1 recorded, 0 already recorded, 1 rejected" in result.output
    assert "回访记录.csv:3: recorded_at: implausible date 2030-01-05 10:00:00: after" in (
        result.output
    )
    with open_store(db_with_action) as store:
        outcomes = store.table("action_outcomes").to_pyarrow().to_pylist()
    assert [o["recorded_at"].year for o in outcomes] == [2024]


def test_r_in_9_one_outcome_dated_2030_is_refused(db_with_action):
    with open_store(db_with_action) as store:
        with pytest.raises(AftercareError, match="implausible date 2030-01-05"):
            record_outcome(
                store,
                "A1",
                "booked",
                config=DEFAULT_CONFIG,
                recorded_at=dt.datetime(2030, 1, 5, 10, 0),
            )
        assert store.table("action_outcomes").count().to_pyarrow().as_py() == 0
