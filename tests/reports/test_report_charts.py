"""Inline SVG charts and number formats of the report."""

from __future__ import annotations

import re

import pytest

from aftercare.reports import charts
from aftercare.reports.formatting import (
    fmt_int,
    fmt_money,
    fmt_money_short,
    fmt_pct,
    fmt_pct_value,
    fmt_signed,
    fmt_signed_pct,
)


def rects(svg: str) -> list[dict[str, float]]:
    out = []
    for tag in re.findall(r"<rect ([^>]*)/>", svg):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', tag))
        out.append({k: float(attrs[k]) for k in ("x", "y", "width", "height") if k in attrs})
    return out


def test_nice_ticks_cover_range_and_zero():
    assert charts.nice_ticks(0, 0.4) == pytest.approx([0, 0.1, 0.2, 0.3, 0.4])
    ticks = charts.nice_ticks(-28510, 6725617)
    assert ticks[0] <= -28510 and ticks[-1] >= 6725617 and 0 in ticks
    assert charts.nice_ticks(0, 0) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])


def test_bar_heights_are_proportional_and_negatives_go_down():
    svg = charts.bar_chart(
        ["a", "b", "c"],
        [charts.Series("s", [10, 20, -10], "#000")],
        title="t",
        y_format=str,
    )
    a, b, c = rects(svg)
    assert b["height"] == pytest.approx(2 * a["height"], rel=1e-2)
    assert c["height"] == pytest.approx(a["height"], rel=1e-2)
    assert c["y"] == pytest.approx(a["y"] + a["height"], abs=0.2)  # starts at the zero line


def test_grouped_bars_have_a_legend_and_labels_are_escaped():
    svg = charts.bar_chart(
        ["<b>", "x"],
        [charts.Series("actual", [1, 2], "#111"), charts.Series("expected", [2, 1], "#222")],
        title="a & b",
        y_format=str,
    )
    assert "&lt;b&gt;" in svg and "<b>" not in svg
    assert 'aria-label="a &amp; b"' in svg
    assert ">actual<" in svg and ">expected<" in svg
    assert len(rects(svg)) == 4 + 2  # bars + legend swatches


def test_hbar_widths_proportional():
    svg = charts.hbar_chart(["a", "b"], [100, 25], ["#1", "#2"], title="t", label_format=str)
    a, b = rects(svg)
    assert b["width"] == pytest.approx(a["width"] / 4, rel=1e-2)
    assert ">100<" in svg and ">25<" in svg


def test_pareto_marker_at_top_share():
    svg = charts.pareto_chart(
        [(0, 0), (0.2, 0.8), (1, 1)],
        top_share=0.2,
        top_value=0.8,
        title="p",
        x_label="x",
        y_label="y",
        equal_label="even",
        top_label="Top 20%: ",
    )
    cx = float(re.search(r'<circle cx="([\d.]+)"', svg).group(1))
    left, plot_w = 60, 640 - 60 - 16
    assert cx == pytest.approx(left + plot_w * 0.2, abs=0.1)
    assert "Top 20%: 80.0%" in svg and "<polyline" in svg


def test_crr_gauge_marks_the_value_or_nothing():
    th = {"excellent_min": 90.0, "average_max": 88.0, "average_min": 82.0, "alert_below": 80.0}
    names = {b: b for b in charts.BAND_COLOURS}
    svg = charts.crr_gauge(75.0, th, names, title="crr")
    assert ">75.0%<" in svg and "<path" in svg
    assert len(rects(svg)) == 5
    assert "<path" not in charts.crr_gauge(None, th, names, title="crr")


def test_heat_style_depth_by_count():
    assert charts.heat_style(0, 10, "up").startswith("background:#fafbfc")
    assert "rgba(200,85,61,0.90)" in charts.heat_style(10, 10, "down")
    assert "0.12" not in charts.heat_style(1, 100, "same")  # sqrt scale: 0.12 + 0.078


@pytest.mark.parametrize(
    ("func", "value", "expected"),
    [
        (fmt_int, 20000, "20,000"),
        (fmt_int, None, "—"),
        (fmt_signed, -1, "−1"),
        (fmt_signed, 411, "+411"),
        (fmt_signed, 0, "0"),
        (fmt_pct, 5970 / 7390, "80.8%"),
        (fmt_pct, -0.0018, "−0.2%"),
        (fmt_pct_value, 75.0, "75.0%"),
        (fmt_signed_pct, -50.0, "−50.0%"),
        (fmt_signed_pct, None, "—"),
        (fmt_money, -240, "−¥240"),
        (fmt_money, 15189658.14, "¥15,189,658"),
        (fmt_money_short, 4644591, "¥4.6M"),
        (fmt_money_short, -28510, "−¥28.5k"),
        (fmt_money_short, 950, "¥950"),
    ],
)
def test_formats(func, value, expected):
    assert func(value) == expected


def test_money_in_another_currency():
    assert fmt_money(1234.4, "HKD") == "1,234 HKD"
