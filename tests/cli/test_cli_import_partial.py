"""R-IN-8 end to end: a file updates only what it carries (issue 9, item 1), on DuckDB and
PostgreSQL (and the two-column case on a Spark lake).

The reproductions of the issue: a two-column file (客户编号, 姓名) for one customer turned
``do_not_contact`` from true to false and cleared the phone; ``import customers vehicles.xlsx``
wiped 20,000 customers' names and phones; 顾问姓名 (the advisor's name) became the customer's.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aftercare.cli import app
from aftercare.store import open_store

runner = CliRunner()

CUSTOMER_HEADER = ["客户编号", "客户姓名", "手机号码", "城市", "同意营销", "勿扰", "语言"]
CUSTOMERS = [
    ["C1", "王伟", "13800138001", "深圳", "是", "是", "英文"],
    ["C2", "李娜", "13800138002", "广州", "否", "否", "中文"],
    ["C3", "张敏", "13800138003", "深圳", "是", "否", ""],
    ["C4", "刘洋", "13800138004", "佛山", "否", "是", ""],
    ["C5", "陈静", "13800138005", "深圳", "是", "否", ""],
    ["C6", "杨磊", "13800138006", "广州", "否", "否", ""],
    ["C7", "赵丽", "13800138007", "深圳", "是", "否", ""],
    ["C8", "黄强", "13800138008", "东莞", "否", "否", ""],
    ["C9", "周杰", "13800138009", "深圳", "是", "否", ""],
    ["C10", "吴芳", "13800138010", "广州", "否", "否", ""],
]
VEHICLES = [
    ["车架号", "客户编号", "车牌号", "品牌", "车型", "提车日期", "质保到期日", "车辆状态"],
    ["LSVAA4182E2000001", "C1", "粤B12345", "大众", "帕萨特", "2022-05-01", "2025-05-01", "在用"],
    ["LSVAA4182E2000002", "C2", "粤A54321", "丰田", "凯美瑞", "2021-03-15", "2024-03-15", "在用"],
    ["LSVAA4182E2000003", "C3", "粤B88888", "本田", "雅阁", "2023-07-20", "2026-07-20", "在用"],
]


def _write(path: Path, rows: list[list[str]], encoding: str = "gbk") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _customers(db: str) -> dict[str, dict]:
    with open_store(db) as store:
        rows = store.table("customers").to_pyarrow().to_pylist()
    return {r["customer_id"]: r for r in rows}


def _canonical(rows: dict[str, dict]) -> dict[str, dict]:
    """The customers' values, without the lineage of the load that wrote them."""
    lineage = {"source_file", "source_row", "load_id", "loaded_at", "row_hash"}
    return {k: {c: v for c, v in r.items() if c not in lineage} for k, r in rows.items()}


def _count(db: str, table: str) -> int:
    with open_store(db) as store:
        return int(store.table(table).count().to_pyarrow().as_py())


def _import(db: str, table: str, path: Path, *extra: str):
    return runner.invoke(app, ["import", table, str(path), "--db", db, *extra])


@pytest.fixture
def db(store_url: str, tmp_path: Path) -> str:
    """A store holding ten customers, C1 and C4 opted out (do_not_contact)."""
    path = _write(tmp_path / "客户档案.csv", [CUSTOMER_HEADER, *CUSTOMERS])
    result = _import(store_url, "customers", path)
    assert result.exit_code == 0, result.output
    return store_url


def test_r_in_8_two_column_file_keeps_phone_and_do_not_contact(db, tmp_path):
    """The issue's reproduction: (客户编号, 姓名) for one customer changes only the name."""
    before = _customers(db)
    path = _write(tmp_path / "改名.csv", [["客户编号", "姓名"], ["C1", "王伟强"]])
    result = _import(db, "customers", path)
    assert result.exit_code == 0, result.output
    assert "1 stored (1 replaced)" in result.output
    after = _customers(db)
    assert after["C1"]["name"] == "王伟强"
    for column in ("phone", "do_not_contact", "marketing_consent", "city", "language"):
        assert after["C1"][column] == before["C1"][column], column
    assert after["C1"]["do_not_contact"] is True
    assert after["C1"]["phone"] == "13800138001"
    assert after["C1"]["language"] == "en"  # not reset to the default zh-CN
    others = {k: v for k, v in _canonical(after).items() if k != "C1"}
    assert others == {k: v for k, v in _canonical(before).items() if k != "C1"}
    again = _import(db, "customers", path)  # R-IN-2 still holds for a partial file
    assert "0 stored (0 replaced), 1 unchanged" in again.output


def test_r_in_8_empty_cells_keep_stored_values(db, tmp_path):
    """An empty cell of a carried column keeps the stored value (default: empty keeps)."""
    header = ["客户编号", "客户姓名", "手机号码", "勿扰", "同意营销"]
    path = _write(
        tmp_path / "部分.csv", [header, ["C1", "", "", "", ""], ["C4", "刘洋洋", "", "", ""]]
    )
    result = _import(db, "customers", path)
    assert result.exit_code == 0, result.output
    after = _customers(db)
    assert (after["C1"]["name"], after["C1"]["phone"]) == ("王伟", "13800138001")
    assert (after["C1"]["do_not_contact"], after["C1"]["marketing_consent"]) == (True, True)
    assert (after["C4"]["name"], after["C4"]["do_not_contact"]) == ("刘洋洋", True)


def test_r_in_8_consent_relaxed_only_explicitly_and_kept_in_history(db, tmp_path):
    """do_not_contact goes true → false only by an explicit 否; the change is in row_history."""
    path = _write(tmp_path / "勿扰.csv", [["客户编号", "勿扰"], ["C1", "否"], ["C4", ""]])
    result = _import(db, "customers", path)
    assert result.exit_code == 0, result.output
    after = _customers(db)
    assert after["C1"]["do_not_contact"] is False  # explicit value, explicit column
    assert after["C4"]["do_not_contact"] is True  # empty cell: kept
    with open_store(db) as store:
        history = store.table("row_history").to_pyarrow().to_pylist()
    assert [(h["table_name"], h["natural_key"]) for h in history] == [("customers", "C1")]
    assert json.loads(history[0]["old_record"])["do_not_contact"] is True
    assert history[0]["new_row_hash"] == after["C1"]["row_hash"]


def test_r_in_8_wrong_file_is_refused_and_nothing_changes(db, tmp_path):
    """`import customers vehicles.csv` is refused (exit 1) naming the columns; nothing changes."""
    before = _customers(db)
    loads = _count(db, "load_log")
    path = _write(tmp_path / "vehicles.csv", VEHICLES)
    result = _import(db, "customers", path)
    assert result.exit_code == 1, result.output
    message = result.output.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert "vehicles.csv does not look like a customers file" in message
    assert "客户编号 → customer_id" in message and "车架号" in message and "车牌号" in message
    assert "--allow-blanking" in message
    assert _customers(db) == before
    assert _count(db, "load_log") == loads


def test_r_in_8_wrong_file_with_allow_blanking_still_keeps_master_data(db, tmp_path):
    """Let through, the wrong file still cannot wipe names and phones (it carries neither)."""
    before = _canonical(_customers(db))
    path = _write(tmp_path / "vehicles.csv", VEHICLES)
    result = _import(db, "customers", path, "--allow-blanking")
    assert result.exit_code == 0, result.output
    assert "0 stored (0 replaced), 3 unchanged" in result.output
    assert _canonical(_customers(db)) == before


def test_r_in_8_advisor_name_is_not_the_customer_name(db, tmp_path):
    """顾问姓名 (the advisor's name) maps onto advisors.name, never onto a customer's name."""
    path = _write(
        tmp_path / "客户顾问.csv",
        [["客户编号", "顾问姓名", "手机号码"], ["C2", "顾问小王", "13900000002"]],
    )
    result = _import(db, "customers", path)
    assert result.exit_code == 0, result.output
    assert "ignored columns: 顾问姓名" in result.output
    after = _customers(db)
    assert (after["C2"]["name"], after["C2"]["phone"]) == ("李娜", "13900000002")
    advisors = _write(tmp_path / "advisors.csv", [["顾问编号", "顾问姓名"], ["SA01", "顾问小王"]])
    assert _import(db, "advisors", advisors).exit_code == 0
    with open_store(db) as store:
        rows = store.table("advisors").to_pyarrow().to_pylist()
    assert [(r["advisor_id"], r["name"]) for r in rows] == [("SA01", "顾问小王")]


@pytest.fixture
def phones_clear(tmp_path: Path) -> Path:
    """A mapping whose empty phone cells clear the stored phone (R-IN-8's opt-in)."""
    path = tmp_path / "clear_phone.yaml"
    path.write_text("empty_clears: [phone]\n", encoding="utf-8")
    return path


def test_r_in_8_blanking_more_than_20_percent_refused(db, tmp_path, phones_clear):
    """Blanking phone in 3 of 10 stored rows (30 % > 20 %) is refused: exit 1, nothing changed."""
    rows = [["客户编号", "手机号码"]] + [
        [f"C{i}", "" if i <= 3 else f"1390000000{i}"] for i in range(1, 11)
    ]
    path = _write(tmp_path / "phones.csv", rows)
    before = _customers(db)
    loads = _count(db, "load_log")
    result = _import(db, "customers", path, "--mapping", str(phones_clear))
    assert result.exit_code == 1, result.output
    message = result.output.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert "would blank phone in 3 of the 10 stored rows it updates (30%)" in message
    assert _customers(db) == before
    assert _count(db, "load_log") == loads

    allowed = _import(db, "customers", path, "--mapping", str(phones_clear), "--allow-blanking")
    assert allowed.exit_code == 0, allowed.output
    after = _customers(db)
    assert [after[f"C{i}"]["phone"] for i in (1, 2, 3)] == [None, None, None]
    assert after["C4"]["phone"] == "13900000004"


def test_r_in_8_blanking_up_to_20_percent_goes_through(db, tmp_path, phones_clear):
    rows = [["客户编号", "手机号码"]] + [
        [f"C{i}", "" if i <= 2 else f"1390000000{i}"] for i in range(1, 11)
    ]
    result = _import(
        db, "customers", _write(tmp_path / "phones.csv", rows), "--mapping", str(phones_clear)
    )
    assert result.exit_code == 0, result.output
    assert _customers(db)["C1"]["phone"] is None


def test_r_in_8_consent_field_cannot_be_cleared_by_a_mapping(db, tmp_path):
    mapping = tmp_path / "bad.yaml"
    mapping.write_text("empty_clears: [phone, do_not_contact]\n", encoding="utf-8")
    path = _write(tmp_path / "x.csv", [["客户编号", "勿扰"], ["C1", ""]])
    result = _import(db, "customers", path, "--mapping", str(mapping))
    assert result.exit_code == 1
    assert "do_not_contact is a consent field" in result.output
    assert _customers(db)["C1"]["do_not_contact"] is True


@pytest.mark.lake
def test_r_in_8_two_column_file_on_every_engine(store_url, tmp_path):
    """The same partial-file semantics on DuckDB, PostgreSQL and a Spark lake."""
    full = _write(tmp_path / "客户档案.csv", [CUSTOMER_HEADER, *CUSTOMERS[:2]])
    assert _import(store_url, "customers", full).exit_code == 0
    path = _write(tmp_path / "改名.csv", [["客户编号", "姓名", "勿扰"], ["C1", "王伟强", ""]])
    result = _import(store_url, "customers", path)
    assert result.exit_code == 0, result.output
    after = _customers(store_url)
    assert (after["C1"]["name"], after["C1"]["phone"]) == ("王伟强", "13800138001")
    assert (after["C1"]["do_not_contact"], after["C1"]["language"]) == (True, "en")
    assert after["C2"]["name"] == "李娜"
    assert "1 unchanged" in _import(store_url, "customers", path).output
