"""The manager's report as one self-contained HTML file (inline CSS and SVG, opens offline).

:func:`render_html` turns :class:`~aftercare.reports.data.ReportData` into a page: this module
formats the numbers and draws the charts, ``templates/report.html.j2`` lays them out
(Jinja2, autoescaped). Nothing is fetched: no script, stylesheet, font or image URL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from aftercare.config import TIER_ORDER
from aftercare.reports import charts
from aftercare.reports.data import ReportData
from aftercare.reports.formatting import (
    fmt_int,
    fmt_money,
    fmt_money_short,
    fmt_pct,
    fmt_pct_value,
    fmt_signed,
    fmt_signed_pct,
)
from aftercare.reports.html_playbook import playbook_context
from aftercare.reports.labels import DEFAULT_LANG, Labels, labels

_ENV = Environment(
    loader=PackageLoader("aftercare.reports", "templates"),
    autoescape=select_autoescape(["html", "j2"], default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _pct0(v: float) -> str:
    return f"{v * 100:.0f}%"


def _tier_mix(data: ReportData, t: Labels) -> dict[str, Any]:
    rows = [
        {
            "tier": tier,
            "label": t.tier(tier),
            "colour": charts.TIER_COLOURS[tier],
            "customers": fmt_int(data.tier_counts.get(tier, 0)),
            "share": fmt_pct(data.tier_share(tier)),
            "expected": fmt_pct(data.expected_mix.get(tier, 0.0), 0),
            "gap": fmt_signed_pct(
                (data.tier_share(tier) - data.expected_mix.get(tier, 0.0)) * 100
            ).rstrip("%"),
        }
        for tier in TIER_ORDER
    ]
    chart = charts.bar_chart(
        [t.tier(tier) for tier in TIER_ORDER],
        [
            charts.Series(t["series.actual"], [data.tier_share(x) for x in TIER_ORDER], "#2f5f8f"),
            charts.Series(
                t["series.expected"],
                [data.expected_mix.get(x, 0.0) for x in TIER_ORDER],
                charts.SECONDARY,
            ),
        ],
        title=t["sec.tier_mix"],
        y_format=_pct0,
        label_format=fmt_pct,
    )
    return {"rows": rows, "chart": chart, "total": fmt_int(data.customers)}


def _migration(data: ReportData, t: Labels) -> dict[str, Any] | None:
    if data.migration is None:
        return None
    # The "new" row and "removed" column only when someone is in them.
    has_new = any(r["from_tier"] is None for r in data.migration)
    has_gone = any(r["to_tier"] is None for r in data.migration)
    sources: list[str | None] = [*TIER_ORDER, *([None] if has_new else [])]
    targets: list[str | None] = [*TIER_ORDER, *([None] if has_gone else [])]
    rank: dict[str | None, int] = {tier: i for i, tier in enumerate(TIER_ORDER)}
    peak = max([int(r["customers"]) for r in data.migration] + [1])
    rows = []
    for src in sources:
        cells = []
        for dst in targets:
            n = data.migration_cell(src, dst)
            if src is None or dst is None or src == dst:
                move = "same"
            else:
                move = "up" if rank[dst] < rank[src] else "down"
            cells.append({"value": fmt_int(n), "style": charts.heat_style(n, peak, move)})
        total = sum(data.migration_cell(src, d) for d in targets)
        label = t.tier(src) if src else t["migration.new"]
        rows.append({"label": label, "cells": cells, "total": fmt_int(total)})
    ups = sum(
        int(r["customers"])
        for r in data.migration
        if r["from_tier"] in rank
        and r["to_tier"] in rank
        and rank[r["to_tier"]] < rank[r["from_tier"]]
    )
    downs = sum(
        int(r["customers"])
        for r in data.migration
        if r["from_tier"] in rank
        and r["to_tier"] in rank
        and rank[r["to_tier"]] > rank[r["from_tier"]]
    )
    return {
        "columns": [t.tier(d) if d else t["migration.gone"] for d in targets],
        "rows": rows,
        "up": fmt_int(ups),
        "down": fmt_int(downs),
    }


def _lifecycle(data: ReportData, t: Labels) -> dict[str, Any]:
    rows = [
        {
            "label": t.value("stage", r["stage"]),
            "previous": fmt_int(r["previous_customers"]),
            "current": fmt_int(r["customers"]),
            "share": fmt_pct(r["share"]),
            "change": fmt_signed(r["change"]),
            "change_pct": fmt_signed_pct(r["change_pct"]),
            "trend": "up" if r["change"] > 0 else "down" if r["change"] < 0 else "flat",
        }
        for r in data.lifecycle
    ]
    chart = charts.bar_chart(
        [t.value("stage", r["stage"]) for r in data.lifecycle],
        [
            charts.Series(
                t["series.previous"],
                [r["previous_customers"] for r in data.lifecycle],
                charts.SECONDARY,
            ),
            charts.Series(
                t["series.current"], [r["customers"] for r in data.lifecycle], charts.PRIMARY
            ),
        ],
        title=t["sec.lifecycle"],
        y_format=fmt_int,
    )
    return {"rows": rows, "chart": chart}


def _value(data: ReportData, t: Labels) -> dict[str, Any]:
    p, cur = data.pareto, data.currency
    top = fmt_pct(p["top_share"], 0)
    curve = charts.pareto_chart(
        [(r["customer_share"], r["net_profit_share"] or 0.0) for r in data.pareto_curve],
        top_share=p["top_share"],
        top_value=p["top_net_profit_share"],
        title=t["pareto.curve"],
        x_label=t["axis.customer_share"],
        y_label=t["axis.profit_share"],
        equal_label=t["pareto.equal"],
        top_label=t.fmt("pareto.top", top=top) + t["sep"],
    )
    tiers = [r["tier"] for r in data.profit_by_tier]
    profit_chart = charts.bar_chart(
        [t.tier(x) for x in tiers],
        [charts.Series(t["col.net_profit"], [r["net_profit"] for r in data.profit_by_tier], "")],
        colours=[charts.TIER_COLOURS.get(x, charts.PRIMARY) for x in tiers],
        title=t["sec.profit_by_tier"],
        y_format=lambda v: fmt_money_short(v, cur),
    )
    total = sum(int(r["customers"]) for r in data.profit_by_tier)
    share_chart = charts.bar_chart(
        [t.tier(x) for x in tiers],
        [
            charts.Series(
                t["col.customer_share"],
                [r["customers"] / total if total else 0.0 for r in data.profit_by_tier],
                charts.SECONDARY,
            ),
            charts.Series(
                t["col.net_profit_share"],
                [r["net_profit_share"] or 0.0 for r in data.profit_by_tier],
                charts.PRIMARY,
            ),
        ],
        title=t["col.net_profit_share"],
        y_format=_pct0,
        label_format=fmt_pct,
    )
    rows = [
        {
            "label": t.tier(r["tier"]),
            "colour": charts.TIER_COLOURS.get(r["tier"], charts.PRIMARY),
            "customers": fmt_int(r["customers"]),
            "annual_spend": fmt_money(r["annual_spend"], cur),
            "gross_profit": fmt_money(r["gross_profit"], cur),
            "cost_to_serve": fmt_money(r["cost_to_serve"], cur),
            "net_profit": fmt_money(r["net_profit"], cur),
            "negative": r["net_profit"] < 0,
            "net_profit_share": fmt_pct(r["net_profit_share"]),
            "loss_making": fmt_int(r["loss_making_customers"]),
            "mean_ltv": fmt_money(r["mean_ltv"], cur),
        }
        for r in data.profit_by_tier
    ]
    facts = [
        (t["pareto.total_net_profit"], fmt_money(p["total_net_profit"], cur)),
        (t.fmt("pareto.top_customers", top=top), fmt_int(p["top_customers"])),
        (t.fmt("kpi.top_share", top=top), fmt_pct(p["top_net_profit_share"])),
        (t["pareto.loss_making"], fmt_int(p["loss_making_customers"])),
        (t["kpi.loss_making"], fmt_pct(p["loss_making_share"])),
    ]
    return {
        "curve": curve,
        "profit_chart": profit_chart,
        "share_chart": share_chart,
        "rows": rows,
        "facts": facts,
    }


def _crr(data: ReportData, t: Labels) -> dict[str, Any]:
    c = data.crr
    bands = ("excellent", "good", "average", "below_average", "alert")
    gauge = charts.crr_gauge(
        c["crr_pct"],
        data.crr_thresholds,
        {b: t.value("band", b) for b in bands},
        title=t["sec.crr"],
    )
    facts = [
        (t["crr.period"], f"{c['period_start']} → {c['period_end']}"),
        (t["crr.at_start"], fmt_int(c["customers_at_start"])),
        (t["crr.at_end"], fmt_int(c["customers_at_end"])),
        (t["crr.new"], fmt_int(c["new_customers"])),
        (t["crr.retained"], fmt_int(c["retained_customers"])),
        (t["crr.reactivated"], fmt_int(c["reactivated_customers"])),
    ]
    return {
        "gauge": gauge,
        "facts": facts,
        "value": fmt_pct_value(c["crr_pct"]) if c["crr_pct"] is not None else t["crr.na"],
        "band": c["band"],
        "band_label": t.value("band", c["band"]) if c["band"] else "",
        "band_colour": charts.BAND_COLOURS.get(c["band"] or "", "#cccccc"),
    }


def _churn(data: ReportData, t: Labels) -> dict[str, Any]:
    ch = data.churn
    levels, reasons = list(ch.levels), list(ch.reasons)

    def share(n: int, total: int) -> str:
        return fmt_pct(n / total) if total else "—"

    return {
        "levels_chart": charts.hbar_chart(
            [t.value("level", x) for x in levels],
            [ch.levels[x] for x in levels],
            [charts.LEVEL_COLOURS.get(x, charts.PRIMARY) for x in levels],
            title=t["churn.levels"],
            label_format=fmt_int,
            label_width=90,
        ),
        "reasons_chart": charts.hbar_chart(
            [t.value("reason", x) for x in reasons],
            [ch.reasons[x] for x in reasons],
            [charts.REASON_COLOURS.get(x, charts.PRIMARY) for x in reasons],
            title=t["churn.reasons"],
            label_format=fmt_int,
        ),
        "levels": [
            (t.value("level", x), fmt_int(n), share(n, ch.customers)) for x, n in ch.levels.items()
        ],
        "reasons": [
            (t.value("reason", x), fmt_int(n), share(n, ch.winback_customers))
            for x, n in ch.reasons.items()
        ],
        "trade_in": fmt_int(ch.trade_in),
    }


def _reminders(data: ReportData, t: Labels) -> dict[str, Any]:
    weeks = data.reminder_weeks
    names = [t.fmt("week_n", n=w.week) for w in weeks]
    chart = charts.bar_chart(
        names,
        [charts.Series(t["col.vehicles"], [w.vehicles for w in weeks], charts.PRIMARY)],
        title=t["sec.reminders"],
        y_format=fmt_int,
    )
    rows = [
        {
            "label": name,
            "dates": f"{w.start_date:%m-%d} – {w.end_date:%m-%d}",
            "vehicles": fmt_int(w.vehicles),
        }
        for name, w in zip(names, weeks, strict=True)
    ]
    return {"chart": chart, "rows": rows, "overdue": fmt_int(data.reminders_overdue)}


def report_context(data: ReportData, lang: str = DEFAULT_LANG) -> dict[str, Any]:
    """Everything the template shows, formatted, with its charts."""
    t = labels(lang)
    top = fmt_pct(data.pareto["top_share"], 0)
    crr = _crr(data, t)
    kpis = [
        (t["kpi.customers"], fmt_int(data.customers), ""),
        (t["kpi.crr"], crr["value"], crr["band_label"]),
        (t.fmt("kpi.top_share", top=top), fmt_pct(data.pareto["top_net_profit_share"]), ""),
        (t["kpi.loss_making"], fmt_pct(data.pareto["loss_making_share"]), ""),
        (
            t["kpi.high_risk"],
            fmt_int(data.churn.levels.get("high", 0)),
            "",
        ),
        (t.fmt("kpi.reminders", weeks=len(data.reminder_weeks)), fmt_int(data.reminders_due), ""),
    ]
    return {
        "t": t,
        "data": data,
        "kpis": kpis,
        "tier_mix": _tier_mix(data, t),
        "migration": _migration(data, t),
        "lifecycle": _lifecycle(data, t),
        "value": _value(data, t),
        "crr": crr,
        "churn": _churn(data, t),
        "reminders": _reminders(data, t),
        **playbook_context(data, t),
    }


def render_html(data: ReportData, lang: str = DEFAULT_LANG) -> str:
    """The whole report as one HTML document (labels in ``lang``: ``zh`` or ``en``)."""
    return _ENV.get_template("report.html.j2").render(**report_context(data, lang))


def write_html(data: ReportData, path: str | Path, lang: str = DEFAULT_LANG) -> Path:
    """Write :func:`render_html` to ``path`` (UTF-8) and return the path."""
    path = Path(path)
    path.write_text(render_html(data, lang), encoding="utf-8")
    return path
