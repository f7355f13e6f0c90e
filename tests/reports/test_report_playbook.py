"""The report's playbook sections: this week's actions, monthly KPIs, rule lift, bookings.

Hand computations from ``report_store.py`` (ACTIONS, OUTCOMES): as of A = 2024-06-30 the
week is 2024-06-24 … 2024-06-30 and the month 2024-06. Runs on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re

import openpyxl
import pytest
from report_store import A, hand  # noqa: F401  (hand: the session fixture)
from test_report_html import CJK, row, section

from aftercare.config import DEFAULT_CONFIG
from aftercare.reports.html import render_html
from aftercare.reports.xlsx import write_xlsx
from aftercare.services.report import kpi_month
from aftercare.store import open_store


@pytest.fixture(scope="module")
def report(hand):  # noqa: F811
    return hand.at_a


@pytest.fixture(scope="module")
def zh(report):
    return render_html(report)


def _sheet_rows(ws) -> dict[str, list]:
    """Rows keyed by their first cell; the first row wins when a label repeats."""
    rows: dict[str, list] = {}
    for r in ws.iter_rows(values_only=True):
        if r and r[0] is not None:
            rows.setdefault(r[0], list(r[1:]))
    return rows


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_week_actions_for_the_store_sec7(report):
    week = report.actions
    assert (week.week_start, week.week_end) == (dt.date(2024, 6, 24), A)
    got = [(a.priority, a.rule_id, a.actions, a.customers, a.overdue) for a in week.by_rule]
    # X5 is due next week; booked, reached, held-out and stopped actions are not open;
    # X12's missed call (no_answer) leaves it open.
    assert got == [
        ("high", "A-CARE-90D", 1, 1, 1),  # X2 due 06-20, before the week: overdue
        ("high", "A-WELCOME", 1, 1, 0),
        ("medium", "A-DECLINED", 1, 1, 0),
        ("medium", "A-MAINTENANCE", 1, 1, 0),
        ("low", "A-FIRST-SERVICE-30D", 1, 1, 0),
    ]
    assert (week.total, week.overdue, week.priority_total("high")) == (5, 1, 2)


def test_week_actions_per_advisor(report):
    got = [
        (a.advisor_id, a.advisor_name, a.by_priority, a.actions, a.overdue)
        for a in report.actions.by_advisor
    ]
    assert got == [
        ("S1", "王顾问", {"high": 2, "medium": 0, "low": 0}, 2, 1),  # X1, X2
        ("S2", "李顾问", {"high": 0, "medium": 2, "low": 0}, 2, 0),  # X3, X12
        (None, None, {"high": 0, "medium": 0, "low": 1}, 1, 0),  # X4: the store's pool
    ]


def test_month_kpis_against_targets_sec7(report):
    m = report.month_kpis
    assert (m.month, m.month_start, m.month_end) == ("2024-06", dt.date(2024, 6, 1), A)
    first = m.kpi("first_service_arrival_rate")
    assert (first.value, first.status, first.denominator) == (None, "no_data", 0)
    growth = m.kpi("growth_value_added_penetration")  # C1 is in growth, bought none
    assert (growth.value, growth.numerator, growth.denominator) == (0.0, 0, 1)
    assert (growth.target, growth.status) == (pytest.approx(15.0), "below")
    winback = m.kpi("winback_rate")
    # Lapsed customers reached in June: C2 (not back) and C3 (back 06-01); C7 never
    # answered; C1 and C6 were high-risk, not lapsed.
    assert (winback.numerator, winback.denominator) == (1, 2)
    assert winback.value == pytest.approx(50.0) and winback.provisional
    nps = m.kpi("nps")  # June: 10 and 8 -> (1 - 0) / 2
    assert (nps.value, nps.detail, nps.denominator, nps.status) == (
        pytest.approx(50.0), "9.0", 2, "below",
    )  # fmt: skip
    crr = m.kpi("crr")  # 2023-06-30 .. 2024-06-30: start C2 C5; end C1 C3 C4 C5 C6, 4 new
    assert (crr.value, crr.numerator, crr.denominator) == (pytest.approx(50.0), 1, 2)
    assert (crr.detail, crr.status) == ("alert", "below")
    assert (crr.period_start, crr.period_end) == (dt.date(2023, 6, 30), A)


def test_rule_lift_from_control_groups_r_act_holdout(report):
    (care,) = report.month_kpis.lifts
    assert care["rule_id"] == "A-CARE-90D"
    assert (care["control_actions"], care["control_returned"]) == (2, 1)  # K1, K2
    assert (care["treated_actions"], care["treated_returned"]) == (3, 2)  # T1, T2, T4
    assert (care["assigned_actions"], care["assigned_returned"]) == (4, 2)  # + T3
    assert care["lift"] == pytest.approx(2 / 3 - 1 / 2)
    assert care["lift_itt"] == pytest.approx(0.0)


def test_bookings_that_converted_r_act_outcome(report, hand):  # noqa: F811
    june = {b.rule_id: (b.bookings, b.converted, b.pending, b.rate)
            for b in report.month_kpis.bookings}  # fmt: skip
    # X6 C1 booked 06-15, visit 06-20; X7 C5 booked 06-10, no visit yet, window to 07-10.
    assert june == {"A-MAINTENANCE": (1, 1, 0, 1.0), "A-CARE-90D": (1, 0, 1, None)}
    total = report.month_kpis.bookings_total
    assert (total.bookings, total.converted, total.pending, total.rate) == (2, 1, 1, 1.0)
    with open_store(hand.url, create=False) as store:
        may = kpi_month(store, "2024-05", DEFAULT_CONFIG, today=A)
    # X10 C2 booked 05-10, never came (window closed 06-09); X11 C3 booked 05-20, came 06-01.
    got = {b.rule_id: (b.bookings, b.converted, b.pending) for b in may.bookings}
    assert got == {"A-WINBACK": (1, 0, 0), "A-MAINTENANCE": (1, 1, 0)}
    assert may.bookings_total.rate == pytest.approx(0.5)


def test_html_kpi_section(zh):
    s = section(zh, "kpis-month")
    assert "2024-06" in s and s.count("<svg") == 1  # actual vs target bars
    assert row(s, "新客户首保到店率") == ["—", "90%", "无数据", "", ""]
    assert row(s, "成长期增值渗透率") == ["0.0%", "15%", "需加强", "0/1", ""]
    assert row(s, "流失客户召回率") == ["50.0%", "10%", "达成", "1/2", "（未定：观察期未结束）"]
    assert row(s, "客户NPS") == ["50", "75", "需加强", "2份问卷", "平均分 9.0"]
    assert row(s, "客户留存率CRR") == [
        "50.0%", "82%", "需加强", "1/2", "警戒; 统计期 2023-06-30 → 2024-06-30",
    ]  # fmt: skip


def test_html_actions_section(zh):
    s = section(zh, "actions")
    assert "2024-06-24 – 2024-06-30" in s and s.count("<svg") == 1
    assert row(s, "流失预警客户关怀 A-CARE-90D") == ["1", "1", "1"]
    assert row(s, "新客户welcome call A-WELCOME") == ["1", "1", "0"]
    assert row(s, "合计") == ["", "5", "1"]
    # advisor, high, medium, low, total, overdue
    assert row(s, "王顾问") == ["2", "0", "0", "2", "1"]
    assert row(s, "李顾问") == ["0", "2", "0", "2", "0"]
    assert row(s, "未分配（门店公共池）") == ["0", "0", "1", "1", "0"]


def test_html_lift_and_bookings(zh):
    s = section(zh, "lifts")
    # treated, control, lift, assigned, ITT lift
    assert row(s, "流失预警客户关怀") == [
        "66.7% (n=3)", "50.0% (n=2)", "+16.7", "50.0% (n=4)", "0.0",
    ]  # fmt: skip
    assert row(s, "常规保养提醒") == ["1", "1", "0", "100.0%"]
    assert row(s, "合计") == ["2", "1", "1", "100.0%"]
    assert "30天内到店即为成功" in _text(s)


def test_html_playbook_sections_in_english(report):
    en = render_html(report, "en")
    s = section(en, "kpis-month")
    assert row(s, "NPS") == ["50", "75", "Below target", "2 surveys", "mean score 9.0"]
    assert row(section(en, "actions"), "Unassigned (store pool)") == ["0", "0", "1", "1", "0"]
    assert "Bookings that converted" in section(en, "lifts")
    names = ("王顾问", "李顾问")  # data, not labels
    assert not CJK.findall(re.sub("|".join(names), "", en))


def test_xlsx_playbook_sheets(report, tmp_path):
    wb = openpyxl.load_workbook(write_xlsx(report, tmp_path / "r.xlsx"))
    rows = _sheet_rows(wb["月度KPI"])
    assert rows["流失客户召回率"][:5] == [pytest.approx(0.5), pytest.approx(0.10), "达成", 1, 2]
    assert rows["客户NPS"][:5] == [pytest.approx(50.0), 75, "需加强", 1, 2]
    assert rows["客户留存率CRR"][:2] == [pytest.approx(0.5), pytest.approx(0.82)]
    assert rows["新客户首保到店率"][0] == "—"
    assert rows["流失预警客户关怀"][1:6] == [3, pytest.approx(2 / 3), 2, 0.5, pytest.approx(1 / 6)]
    assert rows["常规保养提醒"][1:5] == [1, 1, 0, 1.0]
    assert rows["合计"][1:5] == [2, 1, 1, 1.0]
    acts = _sheet_rows(wb["本周行动"])
    assert acts["王顾问"] == ["S1", 2, 0, 0, 2, 1]
    assert acts["未分配（门店公共池）"] == [None, 0, 0, 1, 1, 0]
    assert acts["合计"][3:5] == [5, 1]


def test_advisor_kpis_of_the_month(report):
    # June's outcomes: S1 X6 booked 06-15 (C1 came 06-20: a visit); S2 X7 booked 06-10 (C5
    # not back) and X12 no answer 06-25; the pool's win-backs W2, W3, W1, W6 reached and W7
    # no answer. X10, X11 (May) and T1, T2, T4 (March, April) are other months.
    got = [(a.advisor_id, a.advisor_name, a.calls, a.reached, a.bookings, a.visits, a.expired,
            a.reach_rate) for a in report.month_kpis.advisors]  # fmt: skip
    assert got == [
        ("S1", "王顾问", 1, 1, 1, 1, 0, 1.0),
        ("S2", "李顾问", 2, 1, 1, 0, 0, 0.5),
        (None, None, 5, 4, 0, 0, 0, 0.8),
    ]


def test_html_and_xlsx_advisor_kpis(zh, report, tmp_path):
    s = section(zh, "advisor-kpis")
    # calls, reached, reach rate, bookings, visits, expired
    assert row(s, "王顾问 (S1)") == ["1", "1", "100.0%", "1", "1", "0"]
    assert row(s, "李顾问 (S2)") == ["2", "1", "50.0%", "1", "0", "0"]
    assert row(s, "未分配（门店公共池）") == ["5", "4", "80.0%", "0", "0", "0"]
    assert "30天内到店" in _text(s)
    en = section(render_html(report, "en"), "advisor-kpis")
    assert row(en, "Unassigned (store pool)") == ["5", "4", "80.0%", "0", "0", "0"]
    wb = openpyxl.load_workbook(write_xlsx(report, tmp_path / "a.xlsx"))
    rows = _sheet_rows(wb["月度KPI"])
    assert rows["王顾问 (S1)"][:6] == [1, 1, 1.0, 1, 1, 0]
    assert rows["李顾问 (S2)"][:6] == [2, 1, 0.5, 1, 0, 0]
    assert rows["未分配（门店公共池）"][:6] == [5, 4, pytest.approx(0.8), 0, 0, 0]
