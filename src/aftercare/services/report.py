"""Build the manager's report from a store for one as-of date (SPEC §7).

Every mart comes from :func:`aftercare.services.marts.materialised_marts` (each computed once),
so each figure is computed the way every other command computes it; only small aggregates come
back (``to_pyarrow`` of a handful of rows per section), so the report never pulls per-customer
rows into Python, whatever the size of the store.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import ibis.expr.types as ir

from aftercare.config import TIER_ORDER, Config
from aftercare.errors import AftercareError
from aftercare.pipeline.history import migration_matrix
from aftercare.pipeline.lifecycle import customer_lifecycle, stage_distribution
from aftercare.pipeline.marts import Marts, population_as_of
from aftercare.pipeline.retention import crr
from aftercare.pipeline.staging import as_date
from aftercare.pipeline.value import pareto_curve, pareto_summary, profit_by_tier
from aftercare.playbook.kpis import month_bounds
from aftercare.reports import call_sheets as sheets_xlsx
from aftercare.reports.call_sheets import CallSheets
from aftercare.reports.data import (
    ActionsWeek,
    ChurnSummary,
    MonthKpis,
    ReminderWeek,
    ReportData,
    Row,
)
from aftercare.reports.html import write_html
from aftercare.reports.xlsx import write_xlsx
from aftercare.services.actions import action_list, iso_week
from aftercare.services.kpis import (
    advisor_kpis,
    advisor_week_actions,
    booking_conversions,
    kpi_settings,
    month_kpis,
    rule_lifts,
    week_actions,
    year_before,
)
from aftercare.services.marts import materialised_marts
from aftercare.services.outputs import check_output_path, staged_output
from aftercare.services.scoring import (
    SCORES_TABLE,
    previous_snapshot_date,
    snapshot,
)
from aftercare.store.connect import Store
from aftercare.store.snapshots import snapshot_dates

#: Points of the Pareto curve (presentation only: 5 % steps of the customer base).
PARETO_POINTS = 20
DAYS_PER_WEEK = 7
CHURN_LEVELS = ("low", "medium", "high")
CHURN_REASONS = ("passive", "price", "experience")
#: The report's renderer by file suffix: one self-contained HTML page, or a workbook.
REPORT_WRITERS: dict[str, Callable[[ReportData, Path, str], Path]] = {
    ".html": write_html,
    ".htm": write_html,
    ".xlsx": write_xlsx,
}
#: The call sheets are a workbook.
CALL_SHEETS_SUFFIX = ".xlsx"


def months_before(day: dt.date, months: int) -> dt.date:
    """``day`` minus whole calendar months, clamped to the month's last day (31 May → 28 Feb)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _rows(table: ir.Table) -> list[Row]:
    return table.to_pyarrow().to_pylist()


def _tier_counts(scores: ir.Table) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(TIER_ORDER, 0)
    for r in _rows(scores.group_by("tier").aggregate(n=scores.count())):
        counts[r["tier"]] = int(r["n"])
    return counts


def _value_sections(value: ir.Table, config: Config) -> tuple[Row, list[Row], list[Row]]:
    """Pareto figures, curve and profit by tier (R-VAL-PROFIT, R-VAL-PARETO)."""
    # ``value`` is materialised already (materialised_marts): three small queries over it.
    summary = _rows(pareto_summary(value, value=config.value))[0]
    curve = _rows(pareto_curve(value, points=PARETO_POINTS).order_by("point"))
    by_tier = _rows(profit_by_tier(value).order_by("tier_order"))
    curve = [{"customer_share": 0.0, "net_profit_share": 0.0}] + [
        {"customer_share": r["customer_share"], "net_profit_share": r["net_profit_share"]}
        for r in curve
    ]
    return summary, curve, by_tier


def _churn_section(marts: Marts) -> ChurnSummary:
    """Risk levels and likely reasons (R-CHURN-RISK, R-CHURN-REASON, R-VEHICLE-SOLD)."""
    risk, reasons = marts.risk, marts.churn_reasons
    level_rows = _rows(risk.group_by("risk_level").aggregate(n=risk.count()))
    reason_rows = _rows(
        reasons.group_by("churn_reason").aggregate(
            n=reasons.count(), trade_in=reasons.count(where=reasons.conversation == "trade_in")
        )
    )
    levels = dict.fromkeys(CHURN_LEVELS, 0)
    levels.update({r["risk_level"]: int(r["n"]) for r in level_rows})
    counted = dict.fromkeys(CHURN_REASONS, 0)
    counted.update({r["churn_reason"]: int(r["n"]) for r in reason_rows})
    trade_in = sum(int(r["trade_in"]) for r in reason_rows)
    return ChurnSummary(levels=levels, reasons=counted, trade_in=trade_in)


def _reminder_load(
    reminders: ir.Table, as_of: dt.date, weeks: int
) -> tuple[list[ReminderWeek], int]:
    """Vehicles due per coming week and already overdue (R-REMIND): one aggregate query.

    Week k (1-based) covers as_of + 7(k−1) … as_of + 7k − 1: the as-of day is in week 1.
    """
    days = reminders.due_date.delta(as_date(as_of), unit="day")
    counts = {f"w{k}": reminders.count(where=(days // DAYS_PER_WEEK) == k) for k in range(weeks)}
    row = _rows(reminders.aggregate(overdue=reminders.count(where=days < 0), **counts))[0]
    load = [
        ReminderWeek(
            week=k + 1,
            start_date=as_of + dt.timedelta(days=DAYS_PER_WEEK * k),
            end_date=as_of + dt.timedelta(days=DAYS_PER_WEEK * (k + 1) - 1),
            vehicles=int(row[f"w{k}"] or 0),
        )
        for k in range(weeks)
    ]
    return load, int(row["overdue"] or 0)


def build_call_sheets(store: Store, as_of: dt.date, config: Config) -> CallSheets:
    """The advisors' call sheets of ``as_of``'s week (Monday–Sunday).

    Rows: :func:`aftercare.services.actions.action_list` through the week's Sunday (open by
    current status, overdue ones included, in call order R-ACT-RANK), each with its script
    in the customer's language. Reads the stored actions: ``aftercare actions --week``
    generates them.
    """
    monday, sunday = iso_week(as_of)
    rows = action_list(store, until=sunday, since=monday, config=config).to_pylist()
    return CallSheets(as_of=as_of, week_start=monday, week_end=sunday, rows=rows)


def actions_week(store: Store, as_of: dt.date, config: Config) -> ActionsWeek:
    """Open actions due by the end of ``as_of``'s week, for the store and per advisor."""
    monday, sunday, by_rule = week_actions(store, as_of, config)
    return ActionsWeek(monday, sunday, by_rule, advisor_week_actions(store, as_of, config))


def kpi_month(store: Store, month: str, config: Config, *, today: dt.date) -> MonthKpis:
    """The month's KPIs, the lifts of rules with a control group, booking conversions and
    each advisor's calls of the month."""
    start, end = month_bounds(month)
    return MonthKpis(
        month=month,
        month_start=start,
        month_end=end,
        kpis=month_kpis(store, month, config, today=today),
        lifts=[r for r in rule_lifts(store, config, as_of=today) if r["control_actions"]],
        bookings=booking_conversions(store, config, month=month, today=today),
        settings=kpi_settings(config),
        advisors=advisor_kpis(store, config, month=month, today=today),
    )


def build_report(
    store: Store,
    as_of: dt.date,
    config: Config,
    *,
    weeks: int | None = None,
    month: str | None = None,
    crr_start: dt.date | None = None,
) -> ReportData:
    """Compute every section of the manager's report as of ``as_of`` (SPEC §7).

    When the store has no score snapshot of ``as_of`` it is computed and stored first
    (:func:`~aftercare.services.marts.materialised_marts`). The lifecycle change compares with the
    previous stored snapshot, else ``config.scoring.snapshot_every_months`` before ``as_of``.
    CRR (R-CRR) covers the year ending at ``as_of`` unless ``crr_start`` is given: the same
    figure as the headline (``aftercare demo``/summary) and the KPI table for that date.

    Parameters
    ----------
    store
        An open store.
    as_of
        The report date.
    config
        The configuration (scorecard, value, lifecycle, retention, reminders, KPIs).
    weeks
        Coming weeks of reminder load to show (default ``reports.reminder_weeks``, 8).
    month
        ``YYYY-MM`` of the KPI section (default: the month of ``as_of``); its figures are
        as known on ``as_of``.
    crr_start
        Start of the CRR period (default: one year before ``as_of``).

    Returns
    -------
    ReportData
        Small aggregates only.
    """
    scored_now = as_of not in snapshot_dates(store, SCORES_TABLE)
    with materialised_marts(store, as_of, config) as marts:
        previous_as_of = previous_snapshot_date(store, as_of)
        period_start = previous_as_of or months_before(as_of, config.scoring.snapshot_every_months)
        tables, scores = marts.tables, marts.scores

        migration = None
        if previous_as_of is not None:
            matrix = migration_matrix(snapshot(store, previous_as_of), scores)
            migration = _rows(matrix.select("from_tier", "to_tier", "customers"))

        life_cfg = config.lifecycle
        lifecycle = _rows(
            stage_distribution(
                marts.lifecycle,
                customer_lifecycle(
                    tables.vehicles,
                    as_of=period_start,
                    config=life_cfg,
                    customers=population_as_of(tables, as_of=period_start),
                ),
                config=life_cfg,
            ).order_by("stage_order")
        )

        pareto, curve, by_tier = _value_sections(marts.value, config)

        retention = config.retention
        crr_row = _rows(
            crr(
                # view(): crr's semi-join on a projected join chain raises IntegrityError
                # in Ibis 12.
                marts.orders.view(),
                period_start=crr_start or year_before(as_of),
                period_end=as_of,
                config=retention,
                customers=tables.customers,
            )
        )[0]

        reminder_weeks, overdue = _reminder_load(
            marts.reminders, as_of, config.reports.reminder_weeks if weeks is None else weeks
        )

        return ReportData(
            as_of=as_of,
            previous_as_of=previous_as_of,
            period_start=period_start,
            scored_now=scored_now,
            currency=config.ingest.currency,
            tier_counts=_tier_counts(scores),
            expected_mix={str(k): v for k, v in config.scoring.expected_mix.items()},
            migration=migration,
            lifecycle=lifecycle,
            pareto=pareto,
            pareto_curve=curve,
            profit_by_tier=by_tier,
            crr=crr_row,
            crr_thresholds={
                "excellent_min": retention.crr_excellent_min,
                "average_max": retention.crr_average_max,
                "average_min": retention.crr_average_min,
                "alert_below": retention.crr_alert_below,
            },
            churn=_churn_section(marts),
            actions=actions_week(store, as_of, config),
            month_kpis=kpi_month(store, month or f"{as_of:%Y-%m}", config, today=as_of),
            reminder_weeks=reminder_weeks,
            reminders_overdue=overdue,
        )


def write_report(report: ReportData, path: Path, lang: str) -> Path:
    """Write the report to ``path``: HTML for ``.html``/``.htm``, a workbook for ``.xlsx``.

    Parameters
    ----------
    report
        What :func:`build_report` computed.
    path
        The file to write; its suffix chooses the format (:data:`REPORT_WRITERS`).
    lang
        Label language, ``zh`` or ``en``.

    Returns
    -------
    Path
        The file written (whole: it is written beside ``path`` and renamed into place).

    Raises
    ------
    AftercareError
        For another suffix; :class:`~aftercare.services.outputs.OutputPathError` when the
        file cannot be written (``path`` is left as it was).
    """
    writer = REPORT_WRITERS.get(path.suffix.lower())
    if writer is None:
        raise AftercareError(f"{path}: use a file ending in .html or .xlsx")
    with staged_output(path, option="--out") as staged:
        writer(report, staged, lang)
    return path


def write_call_sheets(sheets: CallSheets, path: Path, lang: str) -> Path:
    """Write the advisors' call sheets (:func:`build_call_sheets`) as a workbook at ``path``.

    A summary sheet and one sheet per advisor, phones unmasked, result and note columns to
    fill in (labels in ``lang``, ``zh`` or ``en``).

    Raises
    ------
    AftercareError
        When ``path`` is not an ``.xlsx`` file.
    """
    if path.suffix.lower() != CALL_SHEETS_SUFFIX:
        raise AftercareError(f"{path}: use a file ending in .xlsx")
    with staged_output(path, option="--call-sheets") as staged:
        sheets_xlsx.write_call_sheets(sheets, staged, lang)
    return path


def check_report_paths(out: Path | None, call_sheets: Path | None) -> None:
    """Check ``--out`` and ``--call-sheets`` before a store is opened or anything computed.

    Raises
    ------
    AftercareError
        Neither is given.
    OutputPathError
        A wrong suffix, or a path that cannot be written.
    """
    if out is None and call_sheets is None:
        raise AftercareError("nothing to write: give --out FILE and/or --call-sheets FILE.xlsx")
    if out is not None:
        if out.suffix.lower() not in REPORT_WRITERS:
            raise AftercareError(f"--out {out}: use a file ending in .html or .xlsx")
        check_output_path(out, option="--out")
    if call_sheets is not None:
        check_output_path(call_sheets, option="--call-sheets", suffixes=(CALL_SHEETS_SUFFIX,))
