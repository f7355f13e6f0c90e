"""The HTML report: one self-contained file, Chinese by default, every section with its numbers."""

from __future__ import annotations

import dataclasses
import re

import pytest
from report_store import A, P, hand  # noqa: F401  (hand: the session fixture)

from aftercare.reports.html import render_html, write_html
from aftercare.reports.labels import TABLES, labels

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
SECTIONS = ("tier-mix", "migration", "lifecycle", "pareto", "profit-by-tier", "crr", "churn",
            "reminders", "kpis-month", "actions", "lifts")  # fmt: skip


@pytest.fixture(scope="module")
def report(hand):  # noqa: F811
    """The report at A, on DuckDB and on PostgreSQL."""
    return hand.at_a


@pytest.fixture(scope="module")
def zh(report):
    return render_html(report)


@pytest.fixture(scope="module")
def en(report):
    return render_html(report, "en")


def section(html: str, name: str) -> str:
    match = re.search(rf'<section id="{name}">(.*?)</section>', html, re.S)
    assert match, f"section {name} missing"
    return match.group(1)


def row(html: str, first_cell: str) -> list[str]:
    """Texts of the cells of the table row whose first cell shows ``first_cell``."""
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        cells = [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, re.S)
        ]
        if cells and cells[0] == first_cell:
            return cells[1:]
    raise AssertionError(f"no row {first_cell!r}")


def test_self_contained_offline(zh, en):
    for html in (zh, en):
        assert "http://" not in html and "https://" not in html
        assert "<script" not in html and "<link" not in html and "<img" not in html
        assert " src=" not in html and "url(" not in html and "@import" not in html
        assert html.count("<svg") >= 10  # charts, not only tables
        assert html.count("<style>") == 1


def test_chinese_by_default_english_on_request(zh, en):
    assert '<html lang="zh-CN">' in zh and "客户经营月报" in zh and "白金" in zh
    assert '<html lang="en">' in en and "Customer Management Report" in en
    assert "Platinum" in en and "Week 1" in en
    data = re.sub("王顾问|李顾问", "", en)  # advisor names are data, not labels
    assert not CJK.findall(data), "untranslated label in the English report"


def test_every_label_has_both_languages():
    assert set(TABLES["zh"]) == set(TABLES["en"])
    with pytest.raises(ValueError, match="unknown report language"):
        labels("fr")


def test_headline_kpis(zh):
    kpis = re.search(r'id="kpis">(.*?)<div class="mix"', zh, re.S).group(1)
    values = re.findall(r'<div class="value">([^<]*)</div>', kpis)
    # customers; CRR (5 − 4) ÷ 2; top 20 % = 5970 ÷ 7390; loss-making 1 ÷ 7; high risk; due
    assert values == ["7", "50.0%", "80.8%", "14.3%", "2", "2"]
    assert "警戒" in kpis
    mix = re.search(r'id="kpi-tier-mix">(.*?)</div>', zh, re.S).group(1)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", mix))
    assert "白金 14.3% / 5%" in text and "白银 42.9% / 30%" in text and "黄金 0.0% / 15%" in text


def test_tier_mix_section(zh):
    s = section(zh, "tier-mix")
    assert row(s, "白银") == ["3", "42.9%", "30%", "+12.9"]
    assert row(s, "黄金") == ["0", "0.0%", "15%", "−15.0"]
    assert row(s, "Σ")[0] == "7"


def test_migration_section(zh):
    s = section(zh, "migration")
    assert "2024-03-31 → 2024-06-30" in s
    # columns: platinum gold silver regular lapsed removed Σ
    assert row(s, "黄金") == ["1", "0", "1", "0", "0", "2"]
    assert row(s, "流失") == ["0", "0", "1", "0", "1", "2"]
    # C4 is new since P (R-TIER-HIST; before issue 9 it was lapsed → silver, an upgrade).
    assert row(s, "新增") == ["0", "0", "1", "0", "0", "1"]
    assert "移除" not in s  # nobody removed between the snapshots
    assert "升级 2" in s and "降级 3" in s


def test_lifecycle_section(zh):
    s = section(zh, "lifecycle")
    assert "2024-03-31 → 2024-06-30" in s
    assert row(s, "成长期") == ["2", "1", "16.7%", "−1", "−50.0%"]
    assert row(s, "激活期") == ["0", "1", "16.7%", "+1", "—"]
    assert row(s, "新客期") == ["2", "2", "33.3%", "0", "0.0%"]


def test_pareto_and_profit_sections(zh):
    s = re.sub(r"<[^>]+>", " ", section(zh, "pareto"))
    assert "¥7,390" in s and "80.8%" in s and "14.3%" in s
    p = section(zh, "profit-by-tier")
    assert row(p, "白金") == ["1", "¥12,000", "¥6,000", "¥3,220", "¥2,780", "37.6%", "0", "¥48,000"]
    assert row(p, "白银") == ["3", "¥11,700", "¥5,750", "¥1,620", "¥4,130", "55.9%", "1", "¥9,583"]
    assert row(p, "流失")[-1] == "—"


def test_crr_section(zh):
    s = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section(zh, "crr")))
    assert "50.0%" in s and "警戒" in s
    assert "客户留存率（CRR） · 2023-06-30 → 2024-06-30" in s  # the year to as-of, labelled
    for label, value in (("期初客户数", "2"), ("期末客户数", "5"), ("期间新增客户数", "4"),
                         ("留存客户数", "1")):  # fmt: skip
        assert f"{label} {value}" in s


def test_churn_section(zh):
    s = section(zh, "churn")
    assert row(s, "低") == ["4", "57.1%"]
    assert row(s, "中") == ["1", "14.3%"]
    assert row(s, "高") == ["2", "28.6%"]
    assert row(s, "被动流失（搬迁、忙碌等）") == ["2", "50.0%"]
    assert row(s, "价格因素") == ["1", "25.0%"]
    assert row(s, "服务体验") == ["1", "25.0%"]


def test_reminders_section(zh):
    s = section(zh, "reminders")
    assert row(s, "第1周") == ["06-30 – 07-06", "1"]
    assert row(s, "第4周") == ["07-21 – 07-27", "1"]
    assert row(s, "第2周") == ["07-07 – 07-13", "0"]
    assert row(s, "已逾期未回厂车辆") == ["", "2"]


def test_all_sections_in_both_languages(zh, en):
    for html in (zh, en):
        for name in SECTIONS:
            assert section(html, name).strip()


def test_missing_migration_says_so(report):
    html = render_html(dataclasses.replace(report, migration=None))
    assert "没有更早的评分快照" in section(html, "migration")
    en = render_html(dataclasses.replace(report, migration=None), "en")
    assert "No earlier score snapshot" in section(en, "migration")


def test_text_is_escaped(report):
    odd = [dict(report.lifecycle[0], stage="<script>alert(1)</script>")]
    html = render_html(dataclasses.replace(report, lifecycle=odd))
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_write_html_utf8(report, tmp_path):
    path = write_html(report, tmp_path / "r.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert (report.as_of, report.previous_as_of) == (A, P)


def test_migration_shows_new_and_removed_customers_when_any(report):
    extra = [
        *[r for r in report.migration if r["from_tier"] is not None],
        {"from_tier": None, "to_tier": "silver", "customers": 4},
        {"from_tier": "gold", "to_tier": None, "customers": 1},
    ]
    s = section(render_html(dataclasses.replace(report, migration=extra)), "migration")
    # columns: platinum gold silver regular lapsed removed Σ
    assert row(s, "新增") == ["0", "0", "4", "0", "0", "0", "4"]
    assert row(s, "黄金") == ["1", "0", "1", "0", "0", "1", "3"]
