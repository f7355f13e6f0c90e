"""The seed 004 dashboard: monthly KPIs against targets, lifecycle distribution, this week's
actions by priority, and each rule's lift against its control group (SPEC §7, R-ACT-HOLDOUT).

Definitions of each KPI: :mod:`aftercare.playbook.kpis`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from aftercare.config import Config
from aftercare.pipeline.lifecycle import customer_lifecycle, stage_distribution
from aftercare.pipeline.marts import population_as_of
from aftercare.pipeline.retention import crr
from aftercare.pipeline.staging import as_date, resolved_orders
from aftercare.playbook.holdout import rule_lift
from aftercare.playbook.kpis import (
    advisor_activity,
    first_service_arrival,
    growth_value_added_penetration,
    month_bounds,
    net_promoter_score,
    winback_rate,
)
from aftercare.playbook.outcomes import (
    EXPIRED_STATUS,
    booking_success,
    current_status,
    winback_orders,
)
from aftercare.playbook.volumes import (
    SEED_004_WEEK,
    advisor_load,
    per_thousand,
    seed_per_thousand,
    seed_per_thousand_total,
)
from aftercare.reports.data import (
    AdvisorKpi,
    AdvisorWeek,
    BookingConversion,
    Kpi,
    RuleVolume,
    WeekActions,
    WeekVolume,
)
from aftercare.reports.labels import Labels, labels
from aftercare.schema.playbook import PRIORITIES
from aftercare.services.actions import iso_week
from aftercare.services.call_list import current_actions
from aftercare.services.capacity import BACKLOG_STATUS, backlog_summary, due_when_stored
from aftercare.services.inputs import canonical_tables
from aftercare.store.connect import Store

PERCENT = 100.0
#: The rule whose share of the week issue 10 watches (seed 004: 8 of 108 calls).
CARE_RULE = "A-CARE-90D"
#: CRR bands that meet the target (the seed's industry average or better).
CRR_OK_BANDS = ("excellent", "good", "average")


@dataclass(frozen=True)
class StageCount:
    """Customers in one lifecycle stage now and a month before (R-LIFE)."""

    stage: str
    customers: int
    previous_customers: int
    change_pct: float | None


@dataclass(frozen=True)
class Dashboard:
    """Everything ``aftercare kpis`` shows."""

    month: str
    month_start: dt.date
    #: The month's last day, or today while the month is in progress (see measured_until).
    month_end: dt.date
    kpis: list[Kpi]
    lifecycle: list[StageCount]
    week_start: dt.date
    week_end: dt.date
    week_actions: list[WeekActions]
    lifts: list[dict]
    bookings: list[BookingConversion]
    advisors: list[AdvisorKpi]
    volume: WeekVolume


def kpi_settings(config: Config) -> dict[str, int]:
    """The windows and thresholds the KPIs, lifts and booking conversions use."""
    return {
        "winback_visit_days": config.kpis.winback_visit_days,
        "return_window_days": config.actions.return_window_days,
        "booking_success_days": config.actions.booking_success_days,
        "nps_promoter_min": config.kpis.nps_promoter_min,
        "nps_detractor_max": config.retention.low_nps_max,
    }


def _one(table: ibis.Table) -> dict:
    return table.to_pyarrow().to_pylist()[0]


def _status(value: float | None, target: float) -> str:
    if value is None:
        return "no_data"
    return "ok" if value >= target - 1e-9 else "below"


def year_before(day: dt.date) -> dt.date:
    """The same calendar day a year earlier (29 February → 28 February): CRR's period start."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _pct(value: float | None) -> float | None:
    return None if value is None else value * PERCENT


def kpi_labels(lang: str) -> Labels:
    """The report's words in ``lang`` (``zh`` or ``en``), the KPIs' and rules' names among them.

    Any other view of the dashboard (``aftercare kpis``) names the KPIs and rules with these,
    so it and the report say the same (``labels.value("kpi_name", key)``,
    ``labels.rule(rule_id)``).

    Raises
    ------
    ValueError
        For another language.
    """
    return labels(lang)


def measured_until(month_end: dt.date, today: dt.date) -> dt.date:
    """The last day a month can be measured on: its end, or today while it is in progress."""
    return min(month_end, max(today, month_end.replace(day=1)))


def month_kpis(
    store: Store, month: str, config: Config, *, today: dt.date | None = None
) -> list[Kpi]:
    """The five KPIs of one month (``YYYY-MM``) against their targets (SPEC §7).

    A month still in progress is measured to ``today``: stocks (CRR, penetration) as of today,
    flows (first services, surveys, win-backs) over the month so far, never over days to come.
    """
    today = today or dt.date.today()
    start, end = month_bounds(month)
    end = measured_until(end, today)
    t = canonical_tables(store)
    orders = resolved_orders(t.service_orders, t.vehicles)
    targets = config.kpis
    first = _one(
        first_service_arrival(
            orders, t.vehicles, month_start=start, month_end=end, config=config.reminders,
            grace_days=targets.first_service_grace_days,
        )
    )  # fmt: skip
    growth = _one(
        growth_value_added_penetration(
            orders, t.vehicles, month_end=end, lifecycle=config.lifecycle,
            window_days=config.scoring.window_days,
            customers=population_as_of(t, as_of=end),
        )
    )  # fmt: skip
    winback = _one(
        winback_rate(
            store.table("actions"), store.table("action_outcomes"), orders,
            month_start=start, month_end=end, visit_days=targets.winback_visit_days,
        )
    )  # fmt: skip
    nps = _one(
        net_promoter_score(
            t.interactions, month_start=start, month_end=end,
            promoter_min=targets.nps_promoter_min,
            detractor_max=config.retention.low_nps_max,
        )
    )  # fmt: skip
    retention = _one(
        crr(orders, period_start=year_before(end), period_end=end,
            config=config.retention, customers=t.customers)
    )  # fmt: skip

    def rate(key: str, value: float | None, target: float, num: int, den: int, **kw) -> Kpi:
        pct = _pct(value)
        return Kpi(key, pct, target * PERCENT, "%", _status(pct, target * PERCENT), num, den, **kw)

    mean = nps["mean_score"]
    band = retention["band"]
    crr_value = retention["crr_pct"]
    return [
        rate("first_service_arrival_rate", first["arrival_rate"],
             targets.first_service_arrival_rate, first["first_services_on_time"],
             first["first_services_due"]),
        rate("growth_value_added_penetration", growth["penetration"],
             targets.growth_value_added_penetration, growth["value_added_buyers"],
             growth["growth_customers"]),
        rate("winback_rate", winback["winback_rate"], targets.winback_rate,
             winback["winback_returned"], winback["winback_contacted"],
             provisional=today <= end + dt.timedelta(days=targets.winback_visit_days)),
        Kpi("nps", nps["nps"], targets.nps, "points", _status(nps["nps"], targets.nps),
            nps["promoters"], nps["surveys"],
            detail="" if mean is None else f"{mean:.1f}"),
        Kpi("crr", crr_value, config.retention.crr_average_min, "%",
            "no_data" if band is None else ("ok" if band in CRR_OK_BANDS else "below"),
            retention["customers_at_end"] - retention["new_customers"],
            retention["customers_at_start"], detail=band or "",
            period_start=retention["period_start"], period_end=retention["period_end"]),
    ]  # fmt: skip


def lifecycle_change(store: Store, month_end: dt.date, config: Config) -> list[StageCount]:
    """Customers per stage at the month's end and the previous month's end (R-LIFE)."""
    previous_end = month_end.replace(day=1) - dt.timedelta(days=1)
    t = canonical_tables(store)
    # Each month end counts the customers of that date (R-TIER-HIST's as-of population).
    now, before = (
        customer_lifecycle(
            t.vehicles, as_of=day, config=config.lifecycle, customers=population_as_of(t, as_of=day)
        )
        for day in (month_end, previous_end)
    )
    rows = stage_distribution(now, before, config=config.lifecycle).to_pyarrow().to_pylist()
    found = {r["stage"]: r for r in rows}
    starts = config.lifecycle.stage_min_years
    stages = sorted(starts, key=lambda stage: starts[stage])
    return [
        StageCount(
            stage=s,
            customers=int(found.get(s, {}).get("customers") or 0),
            previous_customers=int(found.get(s, {}).get("previous_customers") or 0),
            change_pct=found.get(s, {}).get("change_pct"),
        )
        for s in stages
    ]


def _week_status(store: Store, day: dt.date, config: Config) -> tuple[dt.date, dt.date, ir.Table]:
    """Monday and Sunday of ``day``'s week and every action with its derived status as of
    ``day`` (R-ACT-EXPIRE: an action past its validity is expired, off the week's list): the
    call list's own definition (:func:`current_actions`)."""
    monday, sunday = iso_week(day)
    return monday, sunday, current_actions(store, config, as_of=day)


def _open_this_week(
    store: Store, day: dt.date, config: Config
) -> tuple[dt.date, dt.date, ir.Table]:
    """Monday and Sunday of ``day``'s week and the open actions due by that Sunday.

    Status is derived from the outcomes (R-ACT-OUTCOME), so a booked call leaves the list.
    """
    monday, sunday, status = _week_status(store, day, config)
    due = status.filter(status.status == "open", status.due_date <= as_date(sunday))
    return monday, sunday, due


def _priority_rank(priority: str) -> int:
    rank = {p: i for i, p in enumerate(PRIORITIES)}
    return rank.get(priority, len(rank))


def week_actions(store: Store, day: dt.date, config: Config) -> tuple[dt.date, dt.date, list]:
    """Open actions (status derived from outcomes) due by the end of ``day``'s week (Mon–Sun).

    Returns the week's Monday and Sunday and one :class:`WeekActions` per priority and rule.
    """
    monday, sunday, due = _open_this_week(store, day, config)
    grouped = due.group_by(["priority", "rule_id"]).aggregate(
        actions=due.count(),
        customers=due.customer_id.nunique(),
        overdue=due.count(where=due.due_date < as_date(monday)),
    )
    rows = grouped.to_pyarrow().to_pylist()
    rows.sort(key=lambda r: (_priority_rank(r["priority"]), -r["actions"], r["rule_id"]))
    return monday, sunday, [
        WeekActions(r["priority"], r["rule_id"], int(r["actions"]), int(r["customers"]),
                    int(r["overdue"]))
        for r in rows
    ]  # fmt: skip


def advisor_week_actions(store: Store, day: dt.date, config: Config) -> list[AdvisorWeek]:
    """The week's open actions (as :func:`week_actions`) per advisor and priority.

    Ordered by the advisor's number of actions (most first), then advisor id; the pool
    (no advisor) comes last.
    """
    monday, _, due = _open_this_week(store, day, config)
    advisors = store.table("advisors").select(adv_id="advisor_id", advisor_name="name")
    j = due.left_join(advisors, due.advisor_id == advisors.adv_id)
    rows = (
        j.group_by(["advisor_id", "advisor_name", "priority"])
        .aggregate(actions=j.count(), overdue=j.count(where=j.due_date < as_date(monday)))
        .to_pyarrow()
        .to_pylist()
    )
    found: dict[str | None, dict] = {}
    for r in rows:
        entry = found.setdefault(
            r["advisor_id"],
            {"name": r["advisor_name"], "by": dict.fromkeys(PRIORITIES, 0), "overdue": 0},
        )
        entry["by"][r["priority"]] = entry["by"].get(r["priority"], 0) + int(r["actions"])
        entry["overdue"] += int(r["overdue"])
    out = [AdvisorWeek(a, e["name"], e["by"], e["overdue"]) for a, e in found.items()]
    out.sort(key=lambda w: (w.advisor_id is None, -w.actions, w.advisor_id or ""))
    return out


def week_volume(store: Store, day: dt.date, config: Config) -> WeekVolume:
    """This week's planned contacts against seed 004's rates and the advisors' capacity.

    The week's planned contacts are the actions planned for a day of the week, Monday to
    Sunday: due that day when the engine stored them (the later of ``original_due_date`` and
    ``created_on``; a call carried over from last week counts in last week, one moved on to
    next week by capacity counts here), whether still to make, made, expired or in the
    backlog (held out and stopped ones are not contacts): per rule and in all per 1,000 of
    the customers that exist on ``day``, beside seed 004's rate
    (:mod:`aftercare.playbook.volumes`); A-CARE-90D's share; the unassigned pool. Each active
    advisor's load is the calls on their days of the week (due this week, open, made or
    expired, and the open ones overdue) on ``actions.capacity.channels``, against
    ``calls_per_day`` × working days (R-ACT-CAPACITY); then the store's backlog and its
    expected value.
    """
    monday, sunday, status = _week_status(store, day, config)
    first, last = as_date(monday), as_date(sunday)
    planned = status.filter(
        due_when_stored(status).between(first, last),
        status.status.isin(["open", "done", EXPIRED_STATUS, BACKLOG_STATUS]),
    )
    by_rule = {
        r["rule_id"]: int(r["actions"])
        for r in planned.group_by("rule_id").aggregate(actions=planned.count()).to_pyarrow()
        .to_pylist()
    }  # fmt: skip
    on_days = status.filter(
        (
            status.due_date.between(first, last)
            & status.status.isin(["open", "done", EXPIRED_STATUS])
        )
        | ((status.status == "open") & (status.due_date < first))
    )
    capacity = config.actions.capacity
    calls = on_days.filter(on_days.channel.isin(list(capacity.channels)))
    loads = {
        r["advisor_id"]: int(r["actions"])
        for r in calls.group_by("advisor_id").aggregate(actions=calls.count()).to_pyarrow()
        .to_pylist()
    }  # fmt: skip
    pool = int(planned.filter(planned.advisor_id.isnull()).count().to_pyarrow().as_py())
    held = backlog_summary(store, day, config)  # R-ACT-CAPACITY's one definition
    t = canonical_tables(store)
    customers = int(population_as_of(t, as_of=day).count().to_pyarrow().as_py())
    adv = store.table("advisors")
    people = adv.filter(adv.active.fill_null(True), adv.role.fill_null("advisor") == "advisor")
    advisor_ids = set(people.select("advisor_id").to_pyarrow().column(0).to_pylist())
    advisor_ids |= {a for a in loads if a is not None}  # assigned, since deactivated
    load = advisor_load([loads.get(a, 0) for a in sorted(advisor_ids)], capacity.calls_per_week)
    total = sum(by_rule.values())
    others = sorted((r for r in by_rule if r not in SEED_004_WEEK), key=lambda r: (-by_rule[r], r))
    rules = [
        RuleVolume(
            rule_id=r,
            actions=by_rule.get(r, 0),
            per_1000=per_thousand(by_rule.get(r, 0), customers),
            seed_actions=SEED_004_WEEK.get(r),
            seed_per_1000=seed_per_thousand(r),
        )
        for r in (*SEED_004_WEEK, *others)
    ]
    return WeekVolume(
        customers=customers,
        total=total,
        per_1000=per_thousand(total, customers),
        rules=rules,
        care_share=by_rule.get(CARE_RULE, 0) / total if total else None,
        advisors=load.advisors,
        least=load.least,
        median=load.median,
        most=load.most,
        capacity=load.capacity,
        over_capacity=load.over_capacity,
        pool=pool,
        backlog=sum(b.actions for b in held),
        backlog_value=sum(b.expected_value for b in held),
        seed_per_1000=seed_per_thousand_total(),
        seed_care_share=SEED_004_WEEK[CARE_RULE] / sum(SEED_004_WEEK.values()),
    )


def booking_conversions(
    store: Store, config: Config, *, month: str, today: dt.date
) -> list[BookingConversion]:
    """Bookings recorded in ``month`` per rule and how many ended in a visit (R-ACT-OUTCOME).

    Uses :func:`aftercare.playbook.outcomes.booking_success` with
    ``actions.booking_success_days``; a booking not converted by ``today`` whose window is
    still open is ``pending``. Ordered by rule id.
    """
    start, end = month_bounds(month)
    days = config.actions.booking_success_days
    t = canonical_tables(store)
    b = booking_success(
        store.table("actions"),
        store.table("action_outcomes"),
        resolved_orders(t.service_orders, t.vehicles),
        success_days=days,
    )
    b = b.filter(b.booked_date >= as_date(start), b.booked_date <= as_date(end))
    still_open = b.booked_date + ibis.interval(days=days) > as_date(today)
    rows = (
        b.group_by("rule_id")
        .aggregate(
            bookings=b.count(),
            converted=b.count(where=b.is_success),
            pending=b.count(where=~b.is_success & still_open),
        )
        .order_by("rule_id")
        .to_pyarrow()
        .to_pylist()
    )
    return [
        BookingConversion(r["rule_id"], int(r["bookings"]), int(r["converted"]), int(r["pending"]))
        for r in rows
    ]


def advisor_kpis(store: Store, config: Config, *, month: str, today: dt.date) -> list[AdvisorKpi]:
    """Each advisor's calls made, reach rate, bookings, visits and expired actions in
    ``month`` (:func:`aftercare.playbook.kpis.advisor_activity`; issue 10).

    A month in progress is measured to ``today``. Every active advisor is listed (one who
    made no call shows zeros), by advisor id; an advisor with activity who is no longer in
    the advisors table is listed too, and the unassigned pool comes last when it has any.
    """
    start, end = month_bounds(month)
    end = measured_until(end, today)
    t = canonical_tables(store)
    orders = resolved_orders(t.service_orders, t.vehicles)
    actions, outcomes = store.table("actions"), store.table("action_outcomes")
    status = current_status(
        actions,
        outcomes,
        store.table("contact_preferences"),
        winback_max_attempts=config.actions.winback_max_attempts,
        orders=winback_orders(actions, outcomes, t.service_orders, t.vehicles),
        as_of=today,  # R-ACT-EXPIRE: every expiry up to today is derived
    )
    bookings = booking_success(
        actions, outcomes, orders, success_days=config.actions.booking_success_days
    )
    rows = advisor_activity(status, outcomes, bookings, month_start=start, month_end=end)
    found = {r["advisor_id"]: r for r in rows.to_pyarrow().to_pylist()}
    adv = store.table("advisors")
    people = adv.filter(adv.active.fill_null(True), adv.role.fill_null("advisor") == "advisor")
    names = {
        r["advisor_id"]: r["name"]
        for r in people.select("advisor_id", "name").to_pyarrow().to_pylist()
    }
    if set(found) - set(names) - {None}:  # assigned actions of an advisor since deactivated
        every = adv.select("advisor_id", "name").to_pyarrow().to_pylist()
        names.update({r["advisor_id"]: r["name"] for r in every if r["advisor_id"] in found})
    ids: list[str | None] = sorted({a for a in (*names, *found) if a is not None})
    if None in found:
        ids.append(None)

    def kpi(advisor: str | None) -> AdvisorKpi:
        r = found.get(advisor, {})
        counts = [int(r.get(c) or 0) for c in ("calls", "reached", "bookings", "visits", "expired")]
        return AdvisorKpi(advisor, names.get(advisor) if advisor else None, *counts)

    return [kpi(a) for a in ids]


def rule_lifts(store: Store, config: Config, *, as_of: dt.date) -> list[dict]:
    """Each rule's return rates, treated vs control, and its lift (R-ACT-HOLDOUT)."""
    t = canonical_tables(store)
    lifts = rule_lift(
        store.table("actions"),
        store.table("action_outcomes"),
        resolved_orders(t.service_orders, t.vehicles),
        as_of=as_of,
        return_window_days=config.actions.return_window_days,
    )
    return lifts.order_by("rule_id").to_pyarrow().to_pylist()


def dashboard(
    store: Store, config: Config, *, month: str | None = None, today: dt.date | None = None
) -> Dashboard:
    """The seed 004 dashboard for ``month`` (default: the month of ``today``)."""
    today = today or dt.date.today()
    month = month or f"{today:%Y-%m}"
    start, end = month_bounds(month)
    end = measured_until(end, today)
    monday, sunday, actions = week_actions(store, today, config)
    lifts = [r for r in rule_lifts(store, config, as_of=today) if r["control_actions"]]
    return Dashboard(
        month=month,
        month_start=start,
        month_end=end,
        kpis=month_kpis(store, month, config, today=today),
        lifecycle=lifecycle_change(store, end, config),
        week_start=monday,
        week_end=sunday,
        week_actions=actions,
        lifts=lifts,
        bookings=booking_conversions(store, config, month=month, today=today),
        advisors=advisor_kpis(store, config, month=month, today=today),
        volume=week_volume(store, today, config),
    )
