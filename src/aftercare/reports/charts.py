"""Inline SVG charts drawn in Python: no JavaScript, no network, no external files.

Each function returns :class:`markupsafe.Markup` holding one ``<svg>`` element that scales to
its container (``viewBox``). Every text placed in a chart is escaped here. Colours, not
numbers, live in this module; the numbers come from :class:`~aftercare.reports.data.ReportData`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

#: Tier colours, platinum first (also used by the Excel charts).
TIER_COLOURS = {
    "platinum": "#44546a",
    "gold": "#d4a72c",
    "silver": "#9aa7b4",
    "regular": "#5b8def",
    "lapsed": "#c8553d",
}
LEVEL_COLOURS = {"low": "#5aa469", "medium": "#e9a23b", "high": "#c8553d"}
REASON_COLOURS = {"passive": "#8c9bab", "price": "#e9a23b", "experience": "#c8553d"}
BAND_COLOURS = {
    "alert": "#d9534f",
    "below_average": "#f0a05a",
    "average": "#f2d06b",
    "good": "#a8d08d",
    "excellent": "#5aa469",
}
PRIMARY = "#2f5f8f"
SECONDARY = "#b8c7d9"
GRID = "#e3e7ec"
AXIS = "#8a94a0"
TEXT = "#2b2f36"
MUTED = "#6b7580"

Fmt = Callable[[float], str]


@dataclass(frozen=True)
class Series:
    """One series of a bar chart: a name for the legend, values, a colour."""

    name: str
    values: Sequence[float]
    colour: str


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] in steps of 1, 2 or 5 × 10^k (0 always a tick)."""
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    value = start
    while value < hi + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _text(
    x: float,
    y: float,
    body: str,
    *,
    size: int = 11,
    anchor: str = "middle",
    colour: str = TEXT,
    weight: str = "normal",
    extra: str = "",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{colour}" font-weight="{weight}"{extra}>{escape(body)}</text>'
    )


def _svg(width: int, height: int, title: str, parts: list[str]) -> Markup:
    body = "".join(parts)
    return Markup(
        f'<svg viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f"{body}</svg>"
    )


def _text_width(text: str) -> int:
    """Width of ``text`` in half-width character units (a CJK character counts two)."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _legend(series: Sequence[tuple[str, str]], x: float, y: float) -> list[str]:
    parts = []
    for name, colour in series:
        parts.append(
            f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" rx="2" fill="{colour}"/>'
        )
        parts.append(_text(x + 14, y, name, anchor="start", colour=MUTED))
        x += 28 + 6.5 * _text_width(name)
    return parts


def bar_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    y_format: Fmt,
    label_format: Fmt | None = None,
    colours: Sequence[str] | None = None,
    width: int = 640,
    height: int = 300,
) -> Markup:
    """Vertical bars, grouped by category, one bar per series; negative values go down.

    Parameters
    ----------
    categories
        X-axis labels.
    series
        One or more series with one value per category.
    title
        Accessible title (``<title>``) of the chart.
    y_format, label_format
        Formats of the axis ticks and of the value printed on each bar (default: y_format).
    colours
        With a single series: a colour per category instead of the series colour.
    """
    label_format = label_format or y_format
    left, right, top, bottom = 64, 12, 30 if len(series) > 1 else 14, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series for v in s.values] or [0.0]
    ticks = nice_ticks(min(0.0, *values), max(0.0, *values))
    lo, hi = ticks[0], ticks[-1]

    def y_of(v: float) -> float:
        return top + plot_h * (hi - v) / (hi - lo)

    parts: list[str] = []
    for t in ticks:
        y = y_of(t)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{AXIS if t == 0 else GRID}" stroke-width="1"/>'
        )
        parts.append(_text(left - 6, y + 4, y_format(t), anchor="end", size=10, colour=MUTED))
    n = max(len(categories), 1)
    group = plot_w / n
    bar = group * 0.72 / max(len(series), 1)
    for i, cat in enumerate(categories):
        x0 = left + group * i + group * 0.14
        for j, s in enumerate(series):
            v = float(s.values[i] or 0.0)
            colour = colours[i] if colours and len(series) == 1 else s.colour
            y_top, y_bottom = sorted((y_of(v), y_of(0.0)))
            x = x0 + bar * j
            parts.append(
                f'<rect x="{x:.1f}" y="{y_top:.1f}" width="{bar - 2:.1f}" '
                f'height="{max(y_bottom - y_top, 0.5):.1f}" rx="2" fill="{colour}"/>'
            )
            label_y = y_top - 4 if v >= 0 else y_bottom + 12
            parts.append(_text(x + (bar - 2) / 2, label_y, label_format(v), size=10))
        parts.append(_text(left + group * (i + 0.5), height - bottom + 18, cat, size=12))
    if len(series) > 1:
        parts.extend(_legend([(s.name, s.colour) for s in series], left, 14))
    return _svg(width, height, title, parts)


def hbar_chart(
    categories: Sequence[str],
    values: Sequence[float],
    colours: Sequence[str],
    *,
    title: str,
    label_format: Fmt,
    width: int = 520,
    row_height: int = 34,
    label_width: int = 180,
) -> Markup:
    """Horizontal bars, one per category, with the value at the end of each bar."""
    height = row_height * max(len(categories), 1) + 10
    plot_w = width - label_width - 70
    top_value = max([float(v or 0) for v in values] + [1e-9])
    parts: list[str] = []
    for i, (cat, v) in enumerate(zip(categories, values, strict=True)):
        y = 5 + row_height * i
        w = plot_w * float(v or 0) / top_value
        parts.append(_text(label_width - 8, y + row_height / 2 + 4, cat, anchor="end", size=12))
        parts.append(
            f'<rect x="{label_width}" y="{y + 6}" width="{max(w, 0.5):.1f}" '
            f'height="{row_height - 12}" rx="3" fill="{colours[i]}"/>'
        )
        parts.append(
            _text(
                label_width + w + 6,
                y + row_height / 2 + 4,
                label_format(v if v is not None else 0),
                anchor="start",
                size=12,
                weight="bold",
            )
        )
    return _svg(width, height, title, parts)


def pareto_chart(
    points: Sequence[tuple[float, float]],
    *,
    top_share: float,
    top_value: float | None,
    title: str,
    x_label: str,
    y_label: str,
    equal_label: str,
    top_label: str,
    width: int = 640,
    height: int = 330,
) -> Markup:
    """Cumulative share of net profit against cumulative share of customers (R-VAL-PARETO).

    ``points`` are (customer share, net profit share) from (0, 0), best customers first; the
    profit share can exceed 1 when loss-making customers eat into the total. A dashed diagonal
    is the even spread; a marker shows the top ``top_share`` with its share ``top_value``.
    """
    pct: Fmt = lambda v: f"{v * 100:.0f}%"  # noqa: E731
    left, right, top, bottom = 60, 16, 16, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    ys = [y for _, y in points] or [0.0]
    y_ticks = nice_ticks(min(0.0, *ys), max(1.0, *ys), count=6)
    lo, hi = y_ticks[0], y_ticks[-1]

    def xy(x: float, y: float) -> tuple[float, float]:
        return left + plot_w * x, top + plot_h * (hi - y) / (hi - lo)

    parts: list[str] = []
    for t in y_ticks:
        _, y = xy(0, t)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{AXIS if t == 0 else GRID}"/>'
        )
        parts.append(_text(left - 6, y + 4, pct(t), anchor="end", size=10, colour=MUTED))
    for i in range(0, 11, 2):
        x, y0 = xy(i / 10, lo)
        parts.append(_text(x, y0 + 16, pct(i / 10), size=10, colour=MUTED))
    parts.append(_text(left + plot_w / 2, height - 8, x_label, size=11, colour=MUTED))
    parts.append(
        _text(
            14,
            top + plot_h / 2,
            y_label,
            size=11,
            colour=MUTED,
            extra=f' transform="rotate(-90 14 {top + plot_h / 2:.1f})"',
        )
    )
    (x0, y0), (x1, y1) = xy(0, 0), xy(1, 1)
    parts.append(
        f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" '
        f'stroke="{AXIS}" stroke-dasharray="5 4"/>'
    )
    parts.append(_text(x1 - 4, y1 + 14, equal_label, anchor="end", size=10, colour=MUTED))
    if points:
        coords = [xy(x, y) for x, y in points]
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        base = xy(0, 0)[1]
        area = f"{coords[0][0]:.1f},{base:.1f} {line} {coords[-1][0]:.1f},{base:.1f}"
        parts.append(f'<polygon points="{area}" fill="{PRIMARY}" fill-opacity="0.10"/>')
        parts.append(
            f'<polyline points="{line}" fill="none" stroke="{PRIMARY}" '
            f'stroke-width="2.5" stroke-linejoin="round"/>'
        )
    if top_value is not None:
        mx, my = xy(top_share, top_value)
        _, base_y = xy(top_share, lo)
        parts.append(
            f'<line x1="{mx:.1f}" x2="{mx:.1f}" y1="{my:.1f}" y2="{base_y:.1f}" '
            f'stroke="{TIER_COLOURS["lapsed"]}" stroke-dasharray="3 3"/>'
        )
        parts.append(f'<circle cx="{mx:.1f}" cy="{my:.1f}" r="5" fill="{TIER_COLOURS["lapsed"]}"/>')
        parts.append(
            _text(
                mx + 9,
                my + 16,
                f"{top_label}{top_value * 100:.1f}%",
                anchor="start",
                size=12,
                weight="bold",
            )
        )
    return _svg(width, height, title, parts)


def crr_gauge(
    pct: float | None,
    thresholds: dict[str, float],
    band_labels: dict[str, str],
    *,
    title: str,
    width: int = 640,
    height: int = 72,
) -> Markup:
    """CRR on a band scale (R-CRR): coloured bands and a marker at ``pct`` (percent).

    ``thresholds``: ``alert_below``, ``average_min``, ``average_max``, ``excellent_min``.
    """
    left, right = 12, 12
    scale_lo = min(60.0, math.floor((pct if pct is not None else 100.0) / 10) * 10)
    scale_hi = 100.0
    bands = [
        ("alert", scale_lo, thresholds["alert_below"]),
        ("below_average", thresholds["alert_below"], thresholds["average_min"]),
        ("average", thresholds["average_min"], thresholds["average_max"]),
        ("good", thresholds["average_max"], thresholds["excellent_min"]),
        ("excellent", thresholds["excellent_min"], scale_hi),
    ]

    def x_of(v: float) -> float:
        clipped = min(max(v, scale_lo), scale_hi)
        return left + (width - left - right) * (clipped - scale_lo) / (scale_hi - scale_lo)

    parts: list[str] = []
    bar_y, bar_h = 30, 22
    for name, a, b in bands:
        if b <= a:
            continue
        xa, xb = x_of(a), x_of(b)
        parts.append(
            f'<rect x="{xa:.1f}" y="{bar_y}" width="{xb - xa:.1f}" height="{bar_h}" '
            f'fill="{BAND_COLOURS[name]}"/>'
        )
        if xb - xa > 7 * len(band_labels[name]) + 8:
            parts.append(_text((xa + xb) / 2, bar_y + 15, band_labels[name], size=11))
    for v in sorted({scale_lo, *thresholds.values(), scale_hi}):
        parts.append(_text(x_of(v), bar_y + bar_h + 14, f"{v:g}%", size=10, colour=MUTED))
    if pct is not None:
        x = x_of(pct)
        parts.append(
            f'<path d="M{x - 7:.1f},{bar_y - 20} L{x + 7:.1f},{bar_y - 20} '
            f'L{x:.1f},{bar_y - 8} Z" fill="{TEXT}"/>'
        )
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bar_y - 8}" y2="{bar_y + bar_h}" '
            f'stroke="{TEXT}" stroke-width="2.5"/>'
        )
        anchor = "end" if x > width * 0.8 else "start"
        dx = -10 if anchor == "end" else 10
        parts.append(
            _text(x + dx, bar_y - 10, f"{pct:.1f}%", anchor=anchor, size=13, weight="bold")
        )
    return _svg(width, height, title, parts)


def heat_style(count: int, max_count: int, move: str) -> str:
    """Inline CSS of a migration matrix cell: hue by move (up/down/same), depth by count."""
    if count <= 0 or max_count <= 0:
        return "background:#fafbfc;color:#b0b7bf"
    hue = {"up": (90, 164, 105), "down": (200, 85, 61), "same": (47, 95, 143)}[move]
    depth = 0.12 + 0.78 * math.sqrt(count / max_count)
    r, g, b = hue
    colour = "#ffffff" if depth > 0.55 else TEXT
    return f"background:rgba({r},{g},{b},{depth:.2f});color:{colour}"
