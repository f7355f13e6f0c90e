"""The playbook sections of the HTML report: this week's actions, monthly KPIs, rule lift,
bookings and each advisor's calls of the month.

Formats :class:`~aftercare.reports.data.ActionsWeek` and
:class:`~aftercare.reports.data.MonthKpis` for ``templates/report.html.j2`` and draws their
charts (SPEC §7, R-ACT-HOLDOUT, R-ACT-OUTCOME). Numbers are formatted here, never computed:
:mod:`aftercare.services.kpis` computes them.
"""

from __future__ import annotations

from typing import Any

from aftercare.reports import charts
from aftercare.reports.data import AdvisorKpi, BookingConversion, Kpi, ReportData
from aftercare.reports.formatting import fmt_int, fmt_pct, fmt_pct_value
from aftercare.reports.labels import Labels
from aftercare.schema.playbook import PRIORITIES

PRIORITY_COLOURS = {"high": "#c8553d", "medium": "#e9a23b", "low": "#8c9bab"}
STATUS_COLOURS = {"ok": "#5aa469", "below": "#d9534f", "no_data": "#cccccc"}


def _points(lift: float | None) -> str:
    """A difference of two rates (fractions) in percentage points: ``+12.5``."""
    if lift is None:
        return "—"
    pp = lift * 100
    if round(pp, 1) == 0:
        return "0.0"
    return f"{'+' if pp > 0 else '−'}{abs(pp):.1f}"


def _rate_n(rate: float | None, n: int) -> str:
    return f"{fmt_pct(rate)} (n={fmt_int(n)})"


def kpi_value(kpi: Kpi) -> str:
    """The KPI's figure: ``90.0%`` for rates, ``50`` for NPS points."""
    if kpi.value is None:
        return "—"
    return fmt_pct_value(kpi.value) if kpi.unit == "%" else f"{kpi.value:.0f}"


def kpi_target(kpi: Kpi) -> str:
    """The KPI's target as the seed writes it: ``90%``, ``75``."""
    return f"{kpi.target:g}%" if kpi.unit == "%" else f"{kpi.target:g}"


def kpi_basis(kpi: Kpi, t: Labels) -> str:
    """What the figure is made of: ``9/10``, or ``10份问卷`` for NPS."""
    if not kpi.denominator:
        return ""
    if kpi.key == "nps":
        return t.fmt("kpi.surveys", n=fmt_int(kpi.denominator))
    return f"{fmt_int(kpi.numerator)}/{fmt_int(kpi.denominator)}"


def kpi_detail(kpi: Kpi, t: Labels) -> str:
    """Mean NPS score, CRR band and period, a provisional figure's caveat."""
    parts = []
    if kpi.key == "nps" and kpi.detail:
        parts.append(t.fmt("kpi.mean_score", mean=kpi.detail))
    elif kpi.key == "crr" and kpi.detail:
        parts.append(t.value("band", kpi.detail))
    if kpi.period_start and kpi.period_end:
        parts.append(t.fmt("kpi.crr_period", start=kpi.period_start, end=kpi.period_end))
    text = "; ".join(parts)
    return text + (t["kpi.provisional"] if kpi.provisional else "")


def kpi_status(kpi: Kpi, t: Labels) -> str:
    """``达成`` / ``需加强`` / ``无数据``."""
    return t.value("status", kpi.status)


def _actions(data: ReportData, t: Labels) -> dict[str, Any]:
    week = data.actions
    groups = []
    for priority in PRIORITIES:
        rows = [a for a in week.by_rule if a.priority == priority]
        if rows:
            groups.append(
                {
                    "label": t.value("priority", priority),
                    "colour": PRIORITY_COLOURS[priority],
                    "total": fmt_int(week.priority_total(priority)),
                    "rows": [
                        {
                            "label": t.rule(a.rule_id),
                            "rule_id": a.rule_id,
                            "customers": fmt_int(a.customers),
                            "actions": fmt_int(a.actions),
                            "overdue": fmt_int(a.overdue),
                        }
                        for a in rows
                    ],
                }
            )
    advisors = [
        {
            "label": (a.advisor_name or a.advisor_id) if a.advisor_id else t["actions.pool"],
            "id": a.advisor_id or "",
            "counts": [fmt_int(a.by_priority.get(p, 0)) for p in PRIORITIES],
            "total": fmt_int(a.actions),
            "overdue": fmt_int(a.overdue),
        }
        for a in week.by_advisor
    ]
    chart = None
    if week.by_advisor:
        chart = charts.bar_chart(
            [str(r["label"]) for r in advisors],
            [
                charts.Series(
                    t.value("priority", p),
                    [a.by_priority.get(p, 0) for a in week.by_advisor],
                    PRIORITY_COLOURS[p],
                )
                for p in PRIORITIES
            ],
            title=t["actions.by_advisor"],
            y_format=fmt_int,
        )
    return {
        "dates": f"{week.week_start} – {week.week_end}",
        "groups": groups,
        "advisors": advisors,
        "priorities": [t.value("priority", p) for p in PRIORITIES],
        "totals": [fmt_int(week.priority_total(p)) for p in PRIORITIES],
        "total": fmt_int(week.total),
        "overdue": fmt_int(week.overdue),
        "chart": chart,
    }


def _booking_row(label: str, b: BookingConversion) -> dict[str, str]:
    return {
        "label": label,
        "bookings": fmt_int(b.bookings),
        "converted": fmt_int(b.converted),
        "pending": fmt_int(b.pending),
        "rate": fmt_pct(b.rate),
    }


def advisor_label(a: AdvisorKpi, t: Labels) -> str:
    """``王顾问 (S1)``, the advisor id alone without a name, or the pool's label."""
    if a.advisor_id is None:
        return t["actions.pool"]
    name = a.advisor_name
    return f"{name} ({a.advisor_id})" if name and name != a.advisor_id else a.advisor_id


def _advisor_row(a: AdvisorKpi, t: Labels) -> dict[str, str]:
    return {
        "label": advisor_label(a, t),
        "calls": fmt_int(a.calls),
        "reached": fmt_int(a.reached),
        "reach_rate": fmt_pct(a.reach_rate),
        "bookings": fmt_int(a.bookings),
        "visits": fmt_int(a.visits),
        "expired": fmt_int(a.expired),
    }


def _kpis(data: ReportData, t: Labels) -> dict[str, Any]:
    m = data.month_kpis
    rows = [
        {
            "label": t.value("kpi_name", k.key),
            "key": k.key,
            "value": kpi_value(k),
            "target": kpi_target(k),
            "status": kpi_status(k, t),
            "status_colour": STATUS_COLOURS.get(k.status, "#cccccc"),
            "basis": kpi_basis(k, t),
            "detail": kpi_detail(k, t),
        }
        for k in m.kpis
    ]
    rates = [k for k in m.kpis if k.unit == "%"]
    chart = charts.bar_chart(
        [t.value("kpi_name", k.key) for k in rates],
        [
            charts.Series(t["col.actual"], [k.value or 0.0 for k in rates], charts.PRIMARY),
            charts.Series(t["col.target"], [k.target for k in rates], charts.SECONDARY),
        ],
        title=t["kpis.chart"],
        y_format=lambda v: f"{v:.0f}%",
        label_format=lambda v: f"{v:.1f}%",
        width=760,
    )
    s = m.settings
    lifts = [
        {
            "label": t.rule(r["rule_id"]),
            "rule_id": r["rule_id"],
            "control": _rate_n(r["control_rate"], r["control_actions"]),
            "treated": _rate_n(r["treated_rate"], r["treated_actions"]),
            "assigned": _rate_n(r["assigned_rate"], r["assigned_actions"]),
            "lift": _points(r["lift"]),
            "lift_itt": _points(r["lift_itt"]),
        }
        for r in m.lifts
    ]
    bookings = [_booking_row(t.rule(b.rule_id), b) for b in m.bookings]
    if bookings:
        bookings.append(_booking_row(t["col.total"], m.bookings_total))
    return {
        "month": m.month,
        "dates": f"{m.month_start} – {m.month_end}",
        "rows": rows,
        "note": t.fmt(
            "kpis.note",
            winback_days=s.get("winback_visit_days", ""),
            promoter_min=s.get("nps_promoter_min", ""),
            detractor_max=s.get("nps_detractor_max", ""),
        ),
        "chart": chart,
        "lifts": lifts,
        "lifts_note": t.fmt("lifts.note", days=s.get("return_window_days", "")),
        "bookings": bookings,
        "bookings_note": t.fmt("bookings.note", days=s.get("booking_success_days", "")),
        "advisors": [_advisor_row(a, t) for a in m.advisors],
        "advisors_note": t.fmt("advisor_kpis.note", days=s.get("booking_success_days", "")),
    }


def playbook_context(data: ReportData, t: Labels) -> dict[str, Any]:
    """The template's ``actions`` and ``month`` sections."""
    return {"actions": _actions(data, t), "month": _kpis(data, t)}
