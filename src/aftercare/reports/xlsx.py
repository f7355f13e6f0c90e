"""The manager's report as an Excel workbook: one sheet per section, native Excel charts.

Numbers are written as numbers (shares as fractions with a percent format, money with a
thousands format) so a manager can keep calculating with them.
"""

from __future__ import annotations

from pathlib import Path

from aftercare.config import TIER_ORDER
from aftercare.reports import charts
from aftercare.reports.data import ReportData
from aftercare.reports.labels import DEFAULT_LANG, labels
from aftercare.reports.xlsx_book import CHART_SIZE, Book
from aftercare.reports.xlsx_playbook import actions_sheet, kpis_sheet
from aftercare.reports.xlsx_series import cell_range, column_series


def _summary(b: Book, data: ReportData) -> None:
    t = b.t
    ws = b.sheet("summary", f"{t['title']} · {data.as_of}")
    ws.set_column(0, 0, 36)
    top = f"{data.pareto['top_share']:.0%}"
    rows = [
        (t["as_of"], data.as_of.isoformat(), "text"),
        (t["previous_snapshot"], str(data.previous_as_of or t["none"]), "text"),
        (t["comparison_period"], f"{data.period_start} → {data.as_of}", "text"),
        (t["kpi.customers"], data.customers, "int"),
        (t["kpi.crr"], data.crr["crr_pct"], "pctv"),
        (t["crr.band"], t.value("band", data.crr["band"]), "text"),
        (t["crr.period"], f"{data.crr['period_start']} → {data.crr['period_end']}", "text"),
        (t.fmt("kpi.top_share", top=top), data.pareto["top_net_profit_share"], "pct"),
        (t["kpi.loss_making"], data.pareto["loss_making_share"], "pct"),
        (t["kpi.high_risk"], data.churn.levels.get("high", 0), "int"),
        (t.fmt("kpi.reminders", weeks=len(data.reminder_weeks)), data.reminders_due, "int"),
    ]
    for r, (label, value, kind) in enumerate(rows, start=2):
        ws.write(r, 0, label)
        ws.write(r, 1, value, b.fmt[kind]) if value is not None else ws.write_blank(r, 1, None)
    ws.set_column(1, 1, 26)


def _tier_mix(b: Book, data: ReportData) -> None:
    t = b.t
    ws = b.sheet("tier_mix", t["sec.tier_mix"])
    rows = [
        (t.tier(x), data.tier_counts.get(x, 0), data.tier_share(x), data.expected_mix.get(x, 0.0))
        for x in TIER_ORDER
    ]
    headers = [t["col.tier"], t["col.customers"], t["col.share"], t["col.expected"]]
    first, last = b.table(ws, 2, headers, rows, ["text", "int", "pct", "pct"])
    series = column_series(
        ws,
        first,
        last,
        ((t["series.actual"], 2, charts.PRIMARY), (t["series.expected"], 3, charts.SECONDARY)),
    )
    b.chart(ws, "column", series, "F3", title=t["sec.tier_mix"], y_format="0%")


def _migration(b: Book, data: ReportData) -> None:
    t = b.t
    ws = b.sheet("migration", t["sec.migration"])
    if data.migration is None:
        ws.write(2, 0, t["migration.none"])
        return
    ws.write(1, 0, f"{data.previous_as_of} → {data.as_of}")
    tiers: list[str | None] = [*TIER_ORDER, None]
    headers = [t["migration.from_to"]] + [t.tier(x) if x else t["migration.gone"] for x in tiers]
    rows = [
        [t.tier(src) if src else t["migration.new"]]
        + [data.migration_cell(src, dst) for dst in tiers]
        for src in tiers
    ]
    first, last = b.table(ws, 2, headers, rows, ["text"] + ["int"] * len(tiers))
    ws.conditional_format(
        first, 1, last, len(tiers), {"type": "2_color_scale", "max_color": "#5B8DEF"}
    )
    ws.write(last + 2, 0, t["migration.note"])


def _lifecycle(b: Book, data: ReportData) -> None:
    t = b.t
    ws = b.sheet("lifecycle", f"{t['sec.lifecycle']} · {data.period_start} → {data.as_of}")
    rows = [
        (
            t.value("stage", r["stage"]),
            r["previous_customers"],
            r["customers"],
            r["share"],
            r["change"],
            None if r["change_pct"] is None else r["change_pct"] / 100,
        )
        for r in data.lifecycle
    ]
    headers = [
        t["col.stage"],
        t["col.previous"],
        t["col.current"],
        t["col.stage_share"],
        t["col.change"],
        t["col.change_pct"],
    ]
    first, last = b.table(ws, 2, headers, rows, ["text", "int", "int", "pct", "int", "pct"])
    series = [
        {
            "name": name,
            "categories": cell_range(ws, first, last, 0),
            "values": cell_range(ws, first, last, col),
            "fill": {"color": colour},
        }
        for name, col, colour in (
            (t["series.previous"], 1, charts.SECONDARY),
            (t["series.current"], 2, charts.PRIMARY),
        )
    ]
    b.chart(ws, "column", series, "H3", title=t["sec.lifecycle"], y_format="#,##0")


def _pareto(b: Book, data: ReportData) -> None:
    t = b.t
    p = data.pareto
    ws = b.sheet("pareto", t["sec.pareto"])
    top = f"{p['top_share']:.0%}"
    facts = [
        (t["pareto.total_net_profit"], p["total_net_profit"], "money"),
        (t.fmt("pareto.top_customers", top=top), p["top_customers"], "int"),
        (t.fmt("kpi.top_share", top=top), p["top_net_profit_share"], "pct"),
        (t["pareto.loss_making"], p["loss_making_customers"], "int"),
        (t["kpi.loss_making"], p["loss_making_share"], "pct"),
    ]
    for r, (label, value, kind) in enumerate(facts, start=2):
        ws.write(r, 0, label)
        ws.write(r, 1, value, b.fmt[kind]) if value is not None else ws.write_blank(r, 1, None)
    rows = [(r["customer_share"], r["net_profit_share"]) for r in data.pareto_curve]
    headers = [t["axis.customer_share"], t["axis.profit_share"]]
    first, last = b.table(ws, 9, headers, rows, ["pct", "pct"])
    chart = b.wb.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
    chart.add_series(
        {
            "name": t["pareto.curve"],
            "categories": cell_range(ws, first, last, 0),
            "values": cell_range(ws, first, last, 1),
            "line": {"color": charts.PRIMARY, "width": 2.25},
            "marker": {"type": "circle", "size": 4},
        }
    )
    chart.set_title({"name": t["pareto.curve"], "name_font": {"size": 11}})
    chart.set_x_axis({"num_format": "0%", "min": 0, "max": 1, "name": t["axis.customer_share"]})
    chart.set_y_axis({"num_format": "0%", "name": t["axis.profit_share"]})
    chart.set_legend({"position": "none"})
    ws.insert_chart("E3", chart, CHART_SIZE)


def _profit_by_tier(b: Book, data: ReportData) -> None:
    t = b.t
    ws = b.sheet("profit_by_tier", t["sec.profit_by_tier"])
    keys = [
        ("col.customers", "customers", "int"),
        ("col.annual_spend", "annual_spend", "money"),
        ("col.gross_profit", "gross_profit", "money"),
        ("col.cost_to_serve", "cost_to_serve", "money"),
        ("col.net_profit", "net_profit", "money"),
        ("col.net_profit_share", "net_profit_share", "pct"),
        ("col.loss_making", "loss_making_customers", "int"),
        ("col.mean_ltv", "mean_ltv", "money"),
    ]
    headers = [t["col.tier"]] + [t[k] for k, _, _ in keys]
    rows = [[t.tier(r["tier"])] + [r[c] for _, c, _ in keys] for r in data.profit_by_tier]
    first, last = b.table(ws, 2, headers, rows, ["text"] + [k for _, _, k in keys])
    points = [{"fill": {"color": charts.TIER_COLOURS.get(r["tier"], charts.PRIMARY)}}
              for r in data.profit_by_tier]  # fmt: skip
    series = [
        {
            "name": t["col.net_profit"],
            "categories": cell_range(ws, first, last, 0),
            "values": cell_range(ws, first, last, 5),
            "points": points,
        }
    ]
    b.chart(ws, "column", series, f"B{last + 4}", title=t["col.net_profit"], y_format="#,##0")


def _crr(b: Book, data: ReportData) -> None:
    t = b.t
    c = data.crr
    ws = b.sheet("crr", t["sec.crr"])
    ws.set_column(0, 0, 30)
    rows = [
        (t["crr.period"], f"{c['period_start']} → {c['period_end']}", "text"),
        (t["crr.at_start"], c["customers_at_start"], "int"),
        (t["crr.at_end"], c["customers_at_end"], "int"),
        (t["crr.new"], c["new_customers"], "int"),
        (t["crr.retained"], c["retained_customers"], "int"),
        (t["crr.reactivated"], c["reactivated_customers"], "int"),
        (t["crr.value"], c["crr_pct"], "pctv"),
        (t["crr.band"], t.value("band", c["band"]), "text"),
    ]
    for r, (label, value, kind) in enumerate(rows, start=2):
        ws.write(r, 0, label)
        ws.write(r, 1, value, b.fmt[kind]) if value is not None else ws.write(r, 1, t["crr.na"])
    ws.write(len(rows) + 3, 0, t["crr.formula"])
    th = data.crr_thresholds
    bands = [
        (t.value("band", "excellent"), f"≥ {th['excellent_min']:g}%"),
        (t.value("band", "average"), f"{th['average_min']:g}–{th['average_max']:g}%"),
        (t.value("band", "alert"), f"< {th['alert_below']:g}%"),
    ]
    b.table(ws, len(rows) + 5, [t["crr.band"], "%"], bands, ["text", "text"])


def _churn(b: Book, data: ReportData) -> None:
    t = b.t
    ws = b.sheet("churn", t["sec.churn"])
    ch = data.churn
    levels = [(t.value("level", k), n) for k, n in ch.levels.items()]
    first, last = b.table(ws, 2, [t["col.level"], t["col.customers"]], levels, ["text", "int"])
    level_points = [{"fill": {"color": charts.LEVEL_COLOURS.get(k, charts.PRIMARY)}}
                    for k in ch.levels]  # fmt: skip
    b.chart(
        ws,
        "bar",
        [
            {
                "name": t["churn.levels"],
                "categories": cell_range(ws, first, last, 0),
                "values": cell_range(ws, first, last, 1),
                "points": level_points,
            }
        ],
        "E3",
        title=t["churn.levels"],
    )
    reasons = [(t.value("reason", k), n) for k, n in ch.reasons.items()]
    start = last + 3
    ws.write(start - 1, 0, t["churn.reasons"], b.title)
    first, last = b.table(
        ws, start, [t["col.reason"], t["col.customers"]], reasons, ["text", "int"]
    )
    ws.write(last + 2, 0, t["churn.trade_in"])
    ws.write(last + 2, 1, ch.trade_in, b.fmt["int"])
    reason_points = [{"fill": {"color": charts.REASON_COLOURS.get(k, charts.PRIMARY)}}
                     for k in ch.reasons]  # fmt: skip
    b.chart(
        ws,
        "bar",
        [
            {
                "name": t["churn.reasons"],
                "categories": cell_range(ws, first, last, 0),
                "values": cell_range(ws, first, last, 1),
                "points": reason_points,
            }
        ],
        "E20",
        title=t["churn.reasons"],
    )


def _reminders(b: Book, data: ReportData) -> None:
    t = b.t
    ws = b.sheet("reminders", t["sec.reminders"])
    rows = [
        (t.fmt("week_n", n=w.week), w.start_date, w.end_date, w.vehicles)
        for w in data.reminder_weeks
    ]
    headers = [t["col.week"], t["col.dates"], "", t["col.vehicles"]]
    first, last = b.table(ws, 2, headers, rows, ["text", "date", "date", "int"])
    ws.write(last + 1, 0, t["reminders.overdue"])
    ws.write(last + 1, 3, data.reminders_overdue, b.fmt["int"])
    ws.write(last + 3, 0, t["reminders.note"])
    series = [
        {
            "name": t["col.vehicles"],
            "categories": cell_range(ws, first, last, 0),
            "values": cell_range(ws, first, last, 3),
            "fill": {"color": charts.PRIMARY},
        }
    ]
    b.chart(ws, "column", series, "F3", title=t["sec.reminders"], y_format="#,##0")


def write_xlsx(data: ReportData, path: str | Path, lang: str = DEFAULT_LANG) -> Path:
    """Write the report as an .xlsx workbook at ``path`` (labels in ``lang``)."""
    path = Path(path)
    book = Book(path, labels(lang))
    for section in (
        _summary,
        _tier_mix,
        _migration,
        _lifecycle,
        _pareto,
        _profit_by_tier,
        _crr,
        _churn,
        _reminders,
        kpis_sheet,
        actions_sheet,
    ):
        section(book, data)
    book.wb.close()
    return path
