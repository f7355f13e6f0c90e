"""Outcome and KPI commands: ``aftercare outcome`` and ``aftercare kpis`` (R-ACT-OUTCOME, SPEC §7).

``aftercare import outcomes FILE`` is routed by the ``import`` command to
:func:`aftercare.services.outcomes.import_outcomes`; :func:`print_outcome_import` prints it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.tree import Tree

from aftercare.cli.common import ConfigOption, DbOption, app, console, guarded, read_config

if TYPE_CHECKING:
    from aftercare.services.kpis import Dashboard, Kpi
    from aftercare.services.outcomes import OutcomeImport, RecordedOutcome

LANGS = ("zh", "en")
#: Words of the dashboard, Chinese (the seed's) and English.
WORDS = {
    "zh": {
        "lifecycle": "客户生命周期分布", "flat": "↔ 环比持平", "change": "{arrow} 环比{pct:+.0f}%",
        "people": "人", "surveys": "份",
        "week": "本周关键行动清单", "month": "本月目标达成情况", "overdue": "逾期",
        "kpi": "指标", "value": "实际", "target": "目标", "status": "状态", "detail": "明细",
        "ok": "✅ 达成", "below": "❌ 需加强", "no_data": "— 无数据", "provisional": "（未定）",
        "high": "【高优先级】", "medium": "【中优先级】", "low": "【低优先级】",
        "none": "无", "lifts": "规则效果（对照组）", "mean": "平均分",
        "bookings": "本月预约到店转化", "converted": "到店", "pending": "观察中",
        "volume": "本周计划外呼量", "customers": "客户", "per_k": "/千客户", "total": "合计",
        "seed": "种子004", "care_share": "流失预警客户关怀占比",
        "load": "服务顾问负荷", "advisors": "人", "least": "最少", "median": "中位",
        "most": "最多", "capacity": "产能", "per_week": "/周", "over": "超产能",
        "pool": "未分配", "backlog": "积压（有效期内排不进）", "ev": "预期价值",
    },
    "en": {
        "lifecycle": "Customer lifecycle", "flat": "↔ flat vs last month",
        "change": "{arrow} {pct:+.0f}% vs last month", "people": "", "surveys": " surveys",
        "week": "This week's actions", "month": "This month's targets", "overdue": "overdue",
        "kpi": "KPI", "value": "Actual", "target": "Target", "status": "Status",
        "detail": "Detail", "ok": "✅ met", "below": "❌ below", "no_data": "— no data",
        "provisional": " (provisional)", "high": "High priority", "medium": "Medium priority",
        "low": "Low priority",
        "none": "none", "lifts": "Rule lift (control groups)", "mean": "mean score",
        "bookings": "Bookings that converted this month", "converted": "visited",
        "pending": "pending",
        "volume": "Contacts planned this week", "customers": "customers",
        "per_k": "/1k customers", "total": "Total", "seed": "seed 004",
        "care_share": "A-CARE-90D share",
        "load": "Advisor load", "advisors": " advisors", "least": "min", "median": "median",
        "most": "max", "capacity": "capacity", "per_week": "/week", "over": "over capacity",
        "pool": "Unassigned", "backlog": "Backlog (no room within validity)",
        "ev": "expected value",
    },
}  # fmt: skip
STAGES = {
    "zh": {"new": "新客期(0-12月)", "activation": "激活期(1-3年)", "growth": "成长期(3-5年)",
           "mature": "成熟期(5-8年)", "decline": "衰退期(8年+)"},
    "en": {"new": "New (0-1 y)", "activation": "Activation (1-3 y)", "growth": "Growth (3-5 y)",
           "mature": "Mature (5-8 y)", "decline": "Decline (8 y+)"},
}  # fmt: skip


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise typer.BadParameter(f"unknown language {lang!r}; one of: {', '.join(LANGS)}")
    return lang


@app.command("outcome")
@guarded
def outcome_cmd(
    action_id: Annotated[str, typer.Argument(help="The action's id.")],
    result: Annotated[
        str,
        typer.Argument(
            help="reached, booked, visited, declined, no_answer, wrong_number, opted_out "
            "(or 已接通, 已预约, 已到店, 拒绝, 未接通, 空号, 退订 …)."
        ),
    ],
    note: Annotated[str | None, typer.Option("--note", help="Free text.")] = None,
    advisor: Annotated[
        str | None,
        typer.Option("--advisor", help="Who called: an advisor id or exact name."),
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Record what came of an action (appended, never overwritten; R-ACT-OUTCOME)."""
    from aftercare.services.advisors import resolve_advisor
    from aftercare.services.outcomes import record_outcome
    from aftercare.services.workspace import open_workspace

    cfg = read_config(config)
    with open_workspace(db) as store:
        # An unknown advisor is refused with the known ones (exit 1), nothing recorded.
        who = resolve_advisor(store, advisor).advisor_id if advisor else None
        done = record_outcome(store, action_id, result, config=cfg, note=note, advisor_id=who)
    print_recorded(done, cfg.actions.winback_max_attempts)


def print_recorded(done: RecordedOutcome, max_attempts: int) -> None:
    """One line for the outcome, one for each consequence."""
    what = "already recorded" if done.already_recorded else "recorded"
    console.print(
        f"{what} {done.outcome_id}: {done.action_id} ({done.rule_id}, customer "
        f"{done.customer_id}) → [bold]{done.result}[/]; action is now {done.status}",
        highlight=False,
    )
    if done.result == "opted_out":
        console.print(
            f"  customer {done.customer_id} set to do-not-contact; "
            f"{done.stopped_actions} open actions stopped",
            highlight=False,
        )
    if done.winback_failed_attempts is not None:
        if done.winback_exhausted:
            console.print(
                f"  win-back exhausted: {done.winback_failed_attempts} failed attempts "
                f"(limit {max_attempts}); no further win-back for {done.customer_id}",
                highlight=False,
            )
        else:
            console.print(
                f"  win-back: {done.winback_failed_attempts} of {max_attempts} failed attempts",
                highlight=False,
            )


def print_outcome_import(result: OutcomeImport, max_shown: int = 20) -> None:
    """What ``aftercare import outcomes FILE`` did, with the first rejects."""
    colour = "red" if result.rejects else "green"
    console.print(
        f"[bold]action_outcomes[/] ← {result.source_file}: {result.rows_read} rows read, "
        f"{result.inserted} recorded, {result.already_recorded} already recorded, "
        f"[{colour}]{len(result.rejects)} rejected[/], {result.opted_out} opted out, "
        f"{result.blank_rows} blank rows skipped",
        highlight=False,
    )
    if result.sheets:
        console.print(f"  sheets read: {', '.join(result.sheets)}", highlight=False)
    for r in result.rejects[:max_shown]:
        console.print(
            f"  {r.source_file}:{r.source_row}: {r.column_name or '(row)'}: {r.reason}",
            highlight=False,
        )
    if len(result.rejects) > max_shown:
        console.print(f"  … {len(result.rejects) - max_shown} more in table rejected_rows")


@app.command("kpis")
@guarded
def kpis_cmd(
    month: Annotated[
        str | None, typer.Option("--month", help="YYYY-MM (default: this month).")
    ] = None,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(
            "--as-of", formats=["%Y-%m-%d"], help="Today, for 'this week' (default: today)."
        ),
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="zh or en.")] = "zh",
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """The seed 004 dashboard: lifecycle, this week's actions, KPIs against targets."""
    from aftercare.services.kpis import dashboard
    from aftercare.services.workspace import open_workspace

    _check_lang(lang)
    cfg = read_config(config)
    today = as_of.date() if as_of else dt.date.today()
    with open_workspace(db) as store:
        board = dashboard(store, cfg, month=month, today=today)
    print_dashboard(board, lang)


def _change(pct: float | None, words: dict[str, str]) -> str:
    if pct is None:
        return ""
    if round(pct) == 0:
        return words["flat"]
    return words["change"].format(arrow="↑" if pct > 0 else "↓", pct=pct)


def _value(kpi: Kpi) -> str:
    if kpi.value is None:
        return "—"
    return f"{kpi.value:.1f}%" if kpi.unit == "%" else f"{kpi.value:.0f}"


def print_dashboard(board: Dashboard, lang: str) -> None:
    """Print the dashboard as the seed draws it: two trees and a table."""
    from aftercare.services.kpis import kpi_labels

    w = WORDS[lang]
    names = kpi_labels(lang)  # KPI and rule names, the report's
    life = Tree(f"[bold]{w['lifecycle']}[/] ({board.month_end})")
    for s in board.lifecycle:
        label = STAGES[lang].get(s.stage, s.stage)
        life.add(f"{label}: {s.customers}{w['people']} {_change(s.change_pct, w)}".rstrip())
    console.print(life, highlight=False)

    week = Tree(f"[bold]{w['week']}[/] ({board.week_start} – {board.week_end})")
    if not board.week_actions:
        week.add(w["none"])
    for priority in ("high", "medium", "low"):
        rows = [a for a in board.week_actions if a.priority == priority]
        if not rows:
            continue
        branch = week.add(w[priority])
        for a in rows:
            late = f", {w['overdue']} {a.overdue}" if a.overdue else ""
            label = names.rule(a.rule_id)
            branch.add(f"{label}: {a.customers}{w['people']} ({a.actions} {a.rule_id}{late})")
    console.print(week, highlight=False)
    print_volume(board, lang)

    grid = Table(title=f"{w['month']} ({board.month})")
    for col in ("kpi", "value", "target", "status", "detail"):
        grid.add_column(w[col], justify="right" if col in ("value", "target") else "left")
    for k in board.kpis:
        target = f"{k.target:.0f}%" if k.unit == "%" else f"{k.target:.0f}"
        ratio = f"{k.numerator}/{k.denominator}" if k.denominator else ""
        detail = k.detail
        if k.key == "nps":
            ratio = f"{k.denominator}{w['surveys']}" if k.denominator else ""
            detail = f"{w['mean']} {k.detail}" if k.detail else ""
        status = w[k.status] + (w["provisional"] if k.provisional else "")
        grid.add_row(names.value("kpi_name", k.key), _value(k), target, status, " ".join(
            p for p in (ratio, detail) if p))  # fmt: skip
    console.print(grid)
    _print_bookings(board, lang)
    _print_advisors(board, lang)

    if board.lifts:
        lifts = Table(title=w["lifts"])
        for col in ("rule", "treated", "control", "lift", "lift (ITT)"):
            lifts.add_column(col, justify="left" if col == "rule" else "right")
        for r in board.lifts:
            lifts.add_row(
                r["rule_id"],
                _rate(r["treated_rate"], r["treated_actions"]),
                _rate(r["control_rate"], r["control_actions"]),
                _points(r["lift"]),
                _points(r["lift_itt"]),
            )
        console.print(lifts)


def _per_1000(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def print_volume(board: Dashboard, lang: str) -> None:
    """This week's planned contacts per 1,000 customers beside seed 004's, per rule; the
    A-CARE-90D share; the advisors' load against capacity; the pool and the backlog."""
    from aftercare.services.kpis import kpi_labels

    w = WORDS[lang]
    names = kpi_labels(lang)
    v = board.volume
    tree = Tree(f"[bold]{w['volume']}[/] ({board.week_start} – {board.week_end})")
    tree.add(
        f"{w['total']}: {v.total:,}, {_per_1000(v.per_1000)}{w['per_k']} "
        f"({w['customers']} {v.customers:,}; {w['seed']} {v.seed_per_1000:.1f}{w['per_k']})"
    )
    for r in v.rules:
        seed = "" if r.seed_per_1000 is None else f" ({w['seed']} {r.seed_per_1000:.1f}"
        ratio = "" if r.seed_ratio is None else f", {r.seed_ratio:.1f}×"
        tree.add(
            f"{names.rule(r.rule_id)}: {r.actions:,}, {_per_1000(r.per_1000)}{w['per_k']}"
            + (f"{seed}{ratio})" if seed else "")
        )
    care = "—" if v.care_share is None else f"{v.care_share * 100:.1f}%"
    tree.add(f"{w['care_share']}: {care} ({w['seed']} {v.seed_care_share * 100:.1f}%)")
    if v.advisors:
        tree.add(
            f"{w['load']}: {v.advisors}{w['advisors']}, {w['least']} {v.least} / "
            f"{w['median']} {v.median:g} / {w['most']} {v.most} "
            f"({w['capacity']} {v.capacity}{w['per_week']}), {w['over']} {v.over_capacity}"
        )
    tree.add(f"{w['pool']}: {v.pool:,}")
    tree.add(f"{w['backlog']}: {v.backlog:,} ({w['ev']} {v.backlog_value:,.0f})")
    console.print(tree, highlight=False)


def _print_bookings(board: Dashboard, lang: str) -> None:
    """R-ACT-OUTCOME: the month's bookings that ended in a visit, overall and per rule."""
    from aftercare.services.kpis import BookingConversion, kpi_labels

    w = WORDS[lang]
    if not board.bookings:
        console.print(f"{w['bookings']}: {w['none']}", highlight=False)
        return
    total = BookingConversion(
        "*",
        sum(b.bookings for b in board.bookings),
        sum(b.converted for b in board.bookings),
        sum(b.pending for b in board.bookings),
    )

    def line(b: BookingConversion) -> str:
        rate = "—" if b.rate is None else f"{b.rate * 100:.1f}%"
        return f"{b.converted}/{b.decided} {w['converted']} ({rate}), {b.pending} {w['pending']}"

    names = kpi_labels(lang)
    tree = Tree(f"[bold]{w['bookings']}[/] ({board.month}): {line(total)}")
    for b in board.bookings:
        tree.add(f"{names.rule(b.rule_id)}: {line(b)}")
    console.print(tree, highlight=False)


def _print_advisors(board: Dashboard, lang: str) -> None:
    """Each advisor's calls of the month: calls made, reached (rate), bookings, visits,
    expired actions (issue 10)."""
    from aftercare.services.kpis import kpi_labels

    t = kpi_labels(lang)
    if not board.advisors:
        console.print(f"{t['sec.advisor_kpis']}: {t['advisor_kpis.none']}", highlight=False)
        return
    grid = Table(title=f"{t['sec.advisor_kpis']} ({board.month})")
    for key in ("advisor", "calls", "reached", "reach_rate", "bookings", "visits", "expired"):
        grid.add_column(t[f"col.{key}"], justify="left" if key == "advisor" else "right")
    for a in board.advisors:
        if a.advisor_id is None:
            who = t["actions.pool"]
        else:
            who = f"{a.advisor_name} ({a.advisor_id})" if a.advisor_name else a.advisor_id
        rate = "—" if a.reach_rate is None else f"{a.reach_rate * 100:.1f}%"
        grid.add_row(who, str(a.calls), str(a.reached), rate, str(a.bookings), str(a.visits),
                     str(a.expired))  # fmt: skip
    console.print(grid)


def _rate(rate: float | None, n: int) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}% (n={n})"


def _points(lift: float | None) -> str:
    return "—" if lift is None else f"{lift * 100:+.1f} pts"
