"""The Excel report: one sheet per section, numbers as numbers, native charts."""

from __future__ import annotations

import dataclasses
import zipfile

import openpyxl
import pytest
from report_store import hand  # noqa: F401  (hand: the session fixture)

from aftercare.reports.xlsx import write_xlsx


@pytest.fixture(scope="module")
def report(hand):  # noqa: F811
    """The report at A, on DuckDB and on PostgreSQL."""
    return hand.at_a


@pytest.fixture(scope="module")
def book(report, tmp_path_factory):
    path = write_xlsx(report, tmp_path_factory.mktemp("out") / "r.xlsx")
    return path, openpyxl.load_workbook(path)


def cells(ws) -> dict[str, list]:
    """Rows keyed by their first cell."""
    return {r[0]: list(r[1:]) for r in ws.iter_rows(values_only=True) if r and r[0] is not None}


def test_sheets_chinese_by_default(book):
    _, wb = book
    assert wb.sheetnames == ["概览", "分层结构", "等级迁移", "生命周期", "帕累托", "各等级利润",
                             "留存率", "流失风险", "保养提醒", "月度KPI", "本周行动"]  # fmt: skip


def test_native_charts(book):
    path, _ = book
    with zipfile.ZipFile(path) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
    # tier mix, lifecycle, Pareto curve, profit by tier, churn levels + reasons, reminders,
    # KPIs vs targets, actions per advisor
    assert len(charts) == 9


def test_summary_numbers(book):
    rows = cells(book[1]["概览"])
    assert rows["客户总数"][0] == 7
    assert rows["客户留存率 CRR"][0] == pytest.approx(50.0)
    assert rows["统计期"][0] == "2023-06-30 → 2024-06-30"
    assert rows["水平"][0] == "警戒"
    assert rows["前20%客户贡献净利润"][0] == pytest.approx(5970 / 7390)
    assert rows["亏损客户占比"][0] == pytest.approx(1 / 7)
    assert rows["高流失风险客户"][0] == 2
    assert rows["未来8周到期保养"][0] == 2


def test_section_sheets(book):
    wb = book[1]
    tiers = cells(wb["分层结构"])
    assert tiers["白银"][:3] == [3, pytest.approx(3 / 7), 0.30]
    migration = cells(wb["等级迁移"])
    assert migration["黄金"] == [1, 0, 1, 0, 0, 0]
    assert migration["流失"] == [0, 0, 1, 0, 1, 0]
    assert migration["新增"] == [0, 0, 1, 0, 0, 0]  # C4, new since P (R-TIER-HIST)
    life = cells(wb["生命周期"])
    assert life["成长期"] == [2, 1, pytest.approx(1 / 6), -1, pytest.approx(-0.5)]
    assert life["激活期"][4] is None
    pareto = cells(wb["帕累托"])
    assert pareto["净利润合计"][0] == pytest.approx(7390)
    profit = cells(wb["各等级利润"])
    assert profit["白银"][:5] == pytest.approx([3, 11700, 5750, 1620, 4130])
    crr = cells(wb["留存率"])
    assert (crr["期初客户数"][0], crr["期末客户数"][0], crr["期间新增客户数"][0]) == (2, 5, 4)
    churn = cells(wb["流失风险"])
    assert (churn["低"][0], churn["中"][0], churn["高"][0]) == (4, 1, 2)
    assert (churn["被动流失（搬迁、忙碌等）"][0], churn["价格因素"][0], churn["服务体验"][0]) == (
        2,
        1,
        1,
    )
    due = cells(wb["保养提醒"])
    assert [due[f"第{k}周"][2] for k in range(1, 9)] == [1, 0, 0, 1, 0, 0, 0, 0]
    assert due["已逾期未回厂车辆"][2] == 2


def test_english_and_missing_sections(report, tmp_path):
    path = write_xlsx(dataclasses.replace(report, migration=None), tmp_path / "e.xlsx", "en")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "Summary" and "Churn risk" in wb.sheetnames
    assert "No earlier score snapshot" in wb["Migration"]["A3"].value
