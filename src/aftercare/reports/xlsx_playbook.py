"""The playbook sheets of the Excel report: this week's actions and the month's KPIs.

Written by :func:`aftercare.reports.xlsx.write_xlsx` after the analysis sheets (SPEC §7,
R-ACT-HOLDOUT, R-ACT-OUTCOME). Rates are fractions with a percent format, so a manager can
keep calculating with them; NPS is in points.
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from aftercare.reports import charts
from aftercare.reports.data import ReportData
from aftercare.reports.html_playbook import (
    PRIORITY_COLOURS,
    advisor_label,
    kpi_detail,
    kpi_status,
)
from aftercare.reports.xlsx_book import Book
from aftercare.reports.xlsx_series import cell_range, column_series
from aftercare.schema.playbook import PRIORITIES

PERCENT = 100.0


def actions_sheet(b: Book, data: ReportData) -> None:
    """This week's open actions: by priority and rule for the store, then per advisor."""
    t = b.t
    week = data.actions
    ws = b.sheet("actions", f"{t['sec.actions']} · {week.week_start} – {week.week_end}")
    if not week.by_rule:
        ws.write(2, 0, t["actions.none"])
        return
    rows = [
        (t.value("priority", a.priority), t.rule(a.rule_id), a.rule_id, a.customers, a.actions,
         a.overdue)
        for a in week.by_rule
    ]  # fmt: skip
    headers = [t["col.priority"], t["col.rule"], "", t["col.customers"], t["col.actions"],
               t["col.overdue"]]  # fmt: skip
    _, last = b.table(ws, 2, headers, rows, ["text", "text", "text", "int", "int", "int"])
    ws.write(last + 1, 0, t["col.total"], b.head)
    ws.write(last + 1, 4, week.total, b.fmt["int"])
    ws.write(last + 1, 5, week.overdue, b.fmt["int"])
    start = last + 4
    ws.write(start - 1, 0, t["actions.by_advisor"], b.title)
    advisor_rows = [
        [(a.advisor_name or a.advisor_id) if a.advisor_id else t["actions.pool"],
         a.advisor_id or ""]
        + [a.by_priority.get(p, 0) for p in PRIORITIES]
        + [a.actions, a.overdue]
        for a in week.by_advisor
    ]  # fmt: skip
    headers = [t["col.advisor"], ""] + [t.value("priority", p) for p in PRIORITIES]
    headers += [t["col.total"], t["col.overdue"]]
    first, last = b.table(
        ws, start, headers, advisor_rows, ["text", "text"] + ["int"] * (len(PRIORITIES) + 2)
    )
    ws.write(last + 2, 0, t["actions.note"])
    series = [
        {
            "name": t.value("priority", p),
            "categories": cell_range(ws, first, last, 0),
            "values": cell_range(ws, first, last, 2 + i),
            "fill": {"color": PRIORITY_COLOURS[p]},
        }
        for i, p in enumerate(PRIORITIES)
    ]
    b.chart(
        ws, "column", series, "I3", title=t["actions.by_advisor"], y_format="#,##0",
        subtype="stacked",
    )  # fmt: skip


def kpis_sheet(b: Book, data: ReportData) -> None:
    """KPIs against targets with a chart of the rates, rule lift and booking conversion."""
    t = b.t
    m = data.month_kpis
    ws = b.sheet("kpis", f"{t['sec.kpis']} · {m.month}")
    ws.set_column(0, 0, 30)
    headers = [t["col.kpi"], t["col.actual"], t["col.target"], t["col.status"], "n", "N",
               t["col.detail"]]  # fmt: skip
    rates = [k for k in m.kpis if k.unit == "%"]
    ordered = rates + [k for k in m.kpis if k.unit != "%"]  # rates first: one chart range
    for r, k in enumerate(ordered, start=3):
        scale = PERCENT if k.unit == "%" else 1.0
        kind = "pct" if k.unit == "%" else "num"
        ws.write(r, 0, t.value("kpi_name", k.key))
        if k.value is None:
            ws.write(r, 1, "—")
        else:
            ws.write(r, 1, k.value / scale, b.fmt[kind])
        ws.write(r, 2, k.target / scale, b.fmt[kind])
        ws.write(r, 3, kpi_status(k, t))
        for c, v in ((4, k.numerator), (5, k.denominator)):
            ws.write(r, c, v, b.fmt["int"]) if v is not None else ws.write_blank(r, c, None)
        ws.write(r, 6, kpi_detail(k, t))
    for c, h in enumerate(headers):
        ws.write(2, c, h, b.head)
    last = 2 + len(ordered)
    ws.write(last + 1, 0, t.fmt(
        "kpis.note", winback_days=m.settings.get("winback_visit_days", ""),
        promoter_min=m.settings.get("nps_promoter_min", ""),
        detractor_max=m.settings.get("nps_detractor_max", ""),
    ))  # fmt: skip
    if rates:
        first_rate, last_rate = 3, 2 + len(rates)
        series = column_series(
            ws,
            first_rate,
            last_rate,
            ((t["col.actual"], 1, charts.PRIMARY), (t["col.target"], 2, charts.SECONDARY)),
        )
        b.chart(ws, "column", series, "I3", title=t["kpis.chart"], y_format="0%")
    row = last + 4
    ws.write(row, 0, t["sec.lifts"], b.title)
    if m.lifts:
        lifts = [
            (t.rule(r["rule_id"]), r["rule_id"], r["treated_actions"], r["treated_rate"],
             r["control_actions"], r["control_rate"], r["lift"], r["assigned_actions"],
             r["assigned_rate"], r["lift_itt"])
            for r in m.lifts
        ]  # fmt: skip
        headers = [t["col.rule"], "", "n", t["col.treated"], "n", t["col.control"],
                   t["col.lift"], "n", t["col.assigned"], t["col.lift_itt"]]  # fmt: skip
        kinds = ["text", "text", "int", "pct", "int", "pct", "pct", "int", "pct", "pct"]
        _, row = b.table(ws, row + 1, headers, lifts, kinds)
        ws.write(row + 1, 0, t.fmt("lifts.note", days=m.settings.get("return_window_days", "")))
    else:
        ws.write(row + 1, 0, t["lifts.none"])
        row += 1
    row += 3
    ws.write(row, 0, f"{t['sec.bookings']} · {m.month}", b.title)
    if not m.bookings:
        ws.write(row + 1, 0, t["bookings.none"])
        row += 1
    else:
        row = _bookings(b, ws, data, row)
    _advisors(b, ws, data, row + 3)


def _bookings(b: Book, ws: Worksheet, data: ReportData, row: int) -> int:
    """The month's bookings per rule and their conversion; returns the last row written."""
    t = b.t
    m = data.month_kpis
    rows = [
        (t.rule(x.rule_id), x.rule_id, x.bookings, x.converted, x.pending, x.rate)
        for x in [*m.bookings, m.bookings_total]
    ]
    rows[-1] = (t["col.total"], "", *rows[-1][2:])
    headers = [t["col.rule"], "", t["col.bookings"], t["col.converted"], t["col.pending"],
               t["col.conversion"]]  # fmt: skip
    _, row = b.table(ws, row + 1, headers, rows, ["text", "text", "int", "int", "int", "pct"])
    ws.write(row + 1, 0, t.fmt("bookings.note", days=m.settings.get("booking_success_days", "")))
    return row + 1


def _advisors(b: Book, ws: Worksheet, data: ReportData, row: int) -> None:
    """Each advisor's calls made, reached, reach rate, bookings, visits and expired actions."""
    t = b.t
    m = data.month_kpis
    ws.write(row, 0, f"{t['sec.advisor_kpis']} · {m.month}", b.title)
    if not m.advisors:
        ws.write(row + 1, 0, t["advisor_kpis.none"])
        return
    rows = [
        (advisor_label(a, t), a.calls, a.reached, a.reach_rate, a.bookings, a.visits, a.expired)
        for a in m.advisors
    ]
    headers = [t["col.advisor"], t["col.calls"], t["col.reached"], t["col.reach_rate"],
               t["col.bookings"], t["col.visits"], t["col.expired"]]  # fmt: skip
    kinds = ["text", "int", "int", "pct", "int", "int", "int"]
    _, row = b.table(ws, row + 1, headers, rows, kinds)
    days = m.settings.get("booking_success_days", "")
    ws.write(row + 1, 0, t.fmt("advisor_kpis.note", days=days))
