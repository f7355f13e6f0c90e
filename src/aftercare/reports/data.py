"""What the manager's report shows: small, already-reduced results (SPEC §7).

The types the renderers own: the services fill them
(:func:`aftercare.services.report.build_report`, :mod:`aftercare.services.kpis`) and
:mod:`aftercare.reports.html` and :mod:`aftercare.reports.xlsx` render them, so reports import
no service. :class:`ReportData` holds only aggregates (a few dozen numbers per section), never
per-customer rows, so rendering is the same whether the store has 200 or 2 million customers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]


@dataclass(frozen=True)
class Kpi:
    """One KPI of the month against its target.

    ``value`` and ``target`` are in ``unit`` (``%`` for rates, ``points`` for NPS);
    ``status`` is ``ok`` (target met), ``below`` or ``no_data``; ``provisional`` when its
    window has not closed yet.
    """

    key: str
    value: float | None
    target: float
    unit: str
    status: str
    numerator: int | None
    denominator: int | None
    detail: str = ""
    provisional: bool = False
    period_start: dt.date | None = None  # the period the figure covers, when not the month
    period_end: dt.date | None = None


@dataclass(frozen=True)
class WeekActions:
    """Open actions of one rule due by the end of the week."""

    priority: str
    rule_id: str
    actions: int
    customers: int
    overdue: int  # due before the week started, still open


@dataclass(frozen=True)
class AdvisorWeek:
    """One advisor's open actions due by the end of the week, per priority.

    ``advisor_id`` is ``None`` for actions nobody is assigned to (the store's pool).
    """

    advisor_id: str | None
    advisor_name: str | None
    by_priority: dict[str, int]
    overdue: int  # due before the week started, still open

    @property
    def actions(self) -> int:
        """All of the advisor's open actions due by the end of the week."""
        return sum(self.by_priority.values())


@dataclass(frozen=True)
class BookingConversion:
    """Bookings recorded in the month on one rule's actions, and how many became visits.

    R-ACT-OUTCOME: a booking that ends in a visit within ``actions.booking_success_days``
    counts as a success. ``pending``: not converted yet but still inside that window, so
    ``rate`` = converted ÷ (bookings − pending), the bookings whose fate is known (``None``
    when none is).
    """

    rule_id: str
    bookings: int
    converted: int
    pending: int

    @property
    def decided(self) -> int:
        """Bookings that converted or whose window closed without a visit."""
        return self.bookings - self.pending

    @property
    def rate(self) -> float | None:
        """Share of decided bookings that converted (fraction)."""
        return self.converted / self.decided if self.decided else None


@dataclass(frozen=True)
class RuleVolume:
    """One rule's contacts planned this week, per 1,000 customers, beside seed 004's rate.

    ``seed_actions`` / ``seed_per_1000``: seed 004's week for that rule (``None``: the seed
    lists none), see :mod:`aftercare.playbook.volumes`.
    """

    rule_id: str
    actions: int
    per_1000: float | None
    seed_actions: int | None
    seed_per_1000: float | None

    @property
    def seed_ratio(self) -> float | None:
        """This store's rate ÷ the seed's (issue 10 asks for a factor of 3 either way)."""
        if self.per_1000 is None or not self.seed_per_1000:
            return None
        return self.per_1000 / self.seed_per_1000


@dataclass(frozen=True)
class WeekVolume:
    """This week's planned contacts: total and per rule per 1,000 customers, the A-CARE-90D
    share, and the advisors' load against their capacity (issue 10, R-ACT-CAPACITY).

    Attributes
    ----------
    customers
        Customers that exist today (R-TIER-HIST's as-of population): the rates' base.
    total, per_1000
        Open actions due by the week's end (overdue ones included), and per 1,000 customers.
    rules
        Per rule: seed 004's rules first (in the seed's order, listed even at 0), then the
        others by count.
    care_share
        A-CARE-90D's share of ``total`` (fraction; ``None`` when nothing is planned).
    advisors, least, median, most
        Active advisors and their fewest / median / most contacts this week on the capacity
        channels (``actions.capacity.channels``).
    capacity, over_capacity
        An advisor's weekly capacity (``calls_per_day`` × working days) and how many
        advisors are over it.
    pool
        Planned actions nobody is assigned to.
    backlog, backlog_value
        Actions in the store's backlog (R-ACT-CAPACITY: no day with room within their
        validity) and their expected value.
    seed_per_1000, seed_care_share
        Seed 004's whole week per 1,000 customers (108 of 1,997: 54.1) and its A-CARE-90D
        share (8 of 108).
    """

    customers: int
    total: int
    per_1000: float | None
    rules: list[RuleVolume]
    care_share: float | None
    advisors: int
    least: int | None
    median: float | None
    most: int | None
    capacity: int
    over_capacity: int
    pool: int
    backlog: int
    backlog_value: float
    seed_per_1000: float
    seed_care_share: float


@dataclass(frozen=True)
class AdvisorKpi:
    """One advisor's calls of the month and what came of them (issue 10).

    Definitions: :func:`aftercare.playbook.kpis.advisor_activity`. ``advisor_id`` is
    ``None`` for the store's unassigned pool. ``visits`` are bookings converted within
    ``actions.booking_success_days``; ``expired`` are actions that ran out of their validity
    (R-ACT-EXPIRE).
    """

    advisor_id: str | None
    advisor_name: str | None
    calls: int
    reached: int
    bookings: int
    visits: int
    expired: int

    @property
    def reach_rate(self) -> float | None:
        """Reached ÷ calls made (fraction; ``None`` without calls)."""
        return self.reached / self.calls if self.calls else None


@dataclass(frozen=True)
class ChurnSummary:
    """Churn-risk counts (R-CHURN-RISK) and likely reasons (R-CHURN-REASON).

    Attributes
    ----------
    levels
        Customers per risk level (``low``, ``medium``, ``high``).
    reasons
        Lapsed or high-risk customers per likely reason (``passive``, ``price``,
        ``experience``).
    trade_in
        Of those, customers whose vehicles are all sold or scrapped (R-VEHICLE-SOLD): a
        trade-in conversation, not a win-back.
    """

    levels: dict[str, int]
    reasons: dict[str, int]
    trade_in: int

    @property
    def customers(self) -> int:
        """Customers rated."""
        return sum(self.levels.values())

    @property
    def winback_customers(self) -> int:
        """Customers with a likely reason (lapsed tier or high risk)."""
        return sum(self.reasons.values())


@dataclass(frozen=True)
class ReminderWeek:
    """Vehicles whose next service falls due in one week after the as-of date (R-REMIND).

    Week ``week`` (1-based) covers ``start_date`` … ``end_date``, both inclusive.
    """

    week: int
    start_date: dt.date
    end_date: dt.date
    vehicles: int


@dataclass(frozen=True)
class ActionsWeek:
    """Open actions due by the end of the week containing the as-of date (SPEC §7).

    Attributes
    ----------
    week_start, week_end
        Monday and Sunday of the week.
    by_rule
        The store's open actions per priority and rule (overdue ones included).
    by_advisor
        The same actions per advisor and priority (the unassigned pool last).
    """

    week_start: dt.date
    week_end: dt.date
    by_rule: list[WeekActions]
    by_advisor: list[AdvisorWeek]

    def priority_total(self, priority: str) -> int:
        """The store's open actions of ``priority``."""
        return sum(a.actions for a in self.by_rule if a.priority == priority)

    @property
    def total(self) -> int:
        """All open actions due by the end of the week."""
        return sum(a.actions for a in self.by_rule)

    @property
    def overdue(self) -> int:
        """Of those, actions due before the week started."""
        return sum(a.overdue for a in self.by_rule)


@dataclass(frozen=True)
class MonthKpis:
    """The month's KPIs against targets, rule lifts and booking conversions (SPEC §7).

    Attributes
    ----------
    month, month_start, month_end
        ``YYYY-MM`` and its first and last day.
    kpis
        First-service arrival rate, growth-stage value-added penetration, win-back rate,
        NPS (mean score in ``detail``) and CRR (band in ``detail``), from
        :func:`aftercare.services.kpis.month_kpis`.
    lifts
        Rows of :func:`aftercare.playbook.holdout.rule_lift` for rules with a control group
        (R-ACT-HOLDOUT).
    bookings
        Bookings recorded in the month per rule and their conversion to visits
        (R-ACT-OUTCOME).
    advisors
        Each advisor's calls made, reach, bookings, visits and expired actions in the month
        (every active advisor, the pool last).
    settings
        The windows and thresholds behind the figures, for the notes: ``winback_visit_days``,
        ``return_window_days``, ``booking_success_days``, ``nps_promoter_min``,
        ``nps_detractor_max``.
    """

    month: str
    month_start: dt.date
    month_end: dt.date
    kpis: list[Kpi]
    lifts: list[Row]
    bookings: list[BookingConversion]
    settings: dict[str, int] = field(default_factory=dict)
    advisors: list[AdvisorKpi] = field(default_factory=list)

    def kpi(self, key: str) -> Kpi:
        """The KPI called ``key`` (e.g. ``nps``)."""
        return next(k for k in self.kpis if k.key == key)

    @property
    def bookings_total(self) -> BookingConversion:
        """All rules' bookings together (``rule_id`` ``*``)."""
        return BookingConversion(
            "*",
            sum(b.bookings for b in self.bookings),
            sum(b.converted for b in self.bookings),
            sum(b.pending for b in self.bookings),
        )


@dataclass(frozen=True)
class ReportData:
    """Every number of the manager's report for one as-of date.

    Attributes
    ----------
    as_of
        The report date (the score snapshot shown).
    previous_as_of
        The previous stored score snapshot (migration), ``None`` when there is none.
    period_start
        Start of the comparison period of the lifecycle change: the previous snapshot date,
        else as_of minus ``scoring.snapshot_every_months`` (CRR has its own period, in
        ``crr``).
    scored_now
        The as-of snapshot did not exist and was computed for this report.
    currency
        Currency of the money figures.
    tier_counts, expected_mix
        Customers per tier (R-TIER) and the seed's expected share of each tier.
    migration
        Rows ``from_tier``, ``to_tier``, ``customers`` (NULL from = new, NULL to = gone);
        ``None`` without a previous snapshot.
    lifecycle
        Rows ``stage``, ``stage_order``, ``customers``, ``previous_customers``, ``change``,
        ``change_pct``, ``share`` (R-LIFE), in stage order.
    pareto
        ``customers``, ``top_share``, ``top_customers``, ``top_net_profit``,
        ``top_net_profit_share``, ``loss_making_customers``, ``loss_making_share``,
        ``total_net_profit`` (R-VAL-PARETO).
    pareto_curve
        Rows ``customer_share``, ``net_profit_share`` (best customers first).
    profit_by_tier
        Rows per tier in tier order: ``tier``, ``customers``, ``annual_spend``,
        ``gross_profit``, ``cost_to_serve``, ``net_profit``, ``loss_making_customers``,
        ``net_profit_share``, ``mean_ltv``.
    crr
        ``period_start``, ``period_end``, ``customers_at_start``, ``customers_at_end``,
        ``new_customers``, ``retained_customers``, ``reactivated_customers``, ``crr_pct``,
        ``band`` (R-CRR). The period is the year ending at as-of unless the report was asked
        for another one: the same CRR as the headline and the KPI table for that date.
    crr_thresholds
        The band limits in percent: ``excellent_min``, ``average_max``, ``average_min``,
        ``alert_below``.
    churn
        Churn-risk levels and likely reasons.
    actions
        This week's open actions by priority, for the store and per advisor.
    month_kpis
        The month's KPIs against targets, rule lifts and booking conversions.
    reminder_weeks, reminders_overdue
        Vehicles due per coming week, and vehicles already past due on the as-of date.
    """

    as_of: dt.date
    previous_as_of: dt.date | None
    period_start: dt.date
    scored_now: bool
    currency: str
    tier_counts: dict[str, int]
    expected_mix: dict[str, float]
    migration: list[Row] | None
    lifecycle: list[Row]
    pareto: Row
    pareto_curve: list[Row]
    profit_by_tier: list[Row]
    crr: Row
    crr_thresholds: dict[str, float]
    churn: ChurnSummary
    actions: ActionsWeek
    month_kpis: MonthKpis
    reminder_weeks: list[ReminderWeek] = field(default_factory=list)
    reminders_overdue: int = 0

    @property
    def customers(self) -> int:
        """Customers in the as-of snapshot."""
        return sum(self.tier_counts.values())

    def tier_share(self, tier: str) -> float:
        """Actual share of ``tier`` in the snapshot (0 when nobody was scored)."""
        total = self.customers
        return self.tier_counts.get(tier, 0) / total if total else 0.0

    @property
    def reminders_due(self) -> int:
        """Vehicles due in the weeks shown."""
        return sum(w.vehicles for w in self.reminder_weeks)

    def migration_cell(self, from_tier: str | None, to_tier: str | None) -> int:
        """Customers that moved from ``from_tier`` to ``to_tier`` (``None``: new / gone)."""
        for row in self.migration or []:
            if row["from_tier"] == from_tier and row["to_tier"] == to_tier:
                return int(row["customers"])
        return 0
