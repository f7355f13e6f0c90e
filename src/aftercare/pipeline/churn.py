"""Churn risk with its reasons, and the likely churn reason (R-CHURN-RISK, R-CHURN-REASON).

Ibis only, ``Table -> Table``; nothing here connects or executes. Windows are partitioned by
customer (never global).

Definitions (SPEC is silent on some; decided here):

- ``days_absent``: as-of − last visit (``staging.visits``, any time on or before as-of).
- ``usual_interval_days``: the customer's mean gap between visit days,
  (last − first) ÷ (visit days − 1), with at least two visit days.
- ``days_overdue``: days past the customer's *earliest* expectation: the earliest
  ``due_date`` of their vehicles' reminders (R-REMIND), or last visit + usual interval.
  The earliest, because missing either expectation is the first sign of drifting away.
- The level comes from ``days_overdue`` when any expectation exists, else from
  ``days_absent`` ("overdue-or-absent"): ≥ ``care_after_days`` → medium, ≥
  ``high_risk_after_days`` → high. A customer who services once a year is therefore not at
  risk 120 days after a visit, only 120 days after they were due.
- A low NPS (the latest ``nps_survey`` in the window scored ≤ ``low_nps_max``) or an
  unresolved complaint in the window (``resolved`` false or unknown) raises the level by one
  (both together: still one), up to high.
- ``reasons``: ';'-joined codes of everything that produced the level: ``overdue_<n>d`` or
  ``absent_<n>d``, ``low_nps``, ``unresolved_complaint``; NULL when there is none.
- Signals count over ``active_window_days`` back from as-of.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from aftercare.config import RetentionConfig
from aftercare.pipeline.latest import latest_per_key
from aftercare.pipeline.staging import as_date, orders_up_to, visits

LEVELS = ("low", "medium", "high")
SEPARATOR = ";"


def _joined_codes(parts: list[tuple[ir.BooleanValue, ir.StringValue | str]]) -> ir.StringValue:
    """';'-joined codes whose condition holds (NULL when none does)."""
    text = ibis.literal("")
    for cond, code in parts:
        text = text + ibis.ifelse(cond.fill_null(False), code + ibis.literal(SEPARATOR), "")
    return ibis.ifelse(text.length() > 0, text.substr(0, text.length() - 1), ibis.null("string"))


def _in_window(
    table: ir.Table, day: ir.DateValue, as_of: dt.date | str, window_days: int
) -> ir.Table:
    as_of_lit = as_date(as_of)
    return table.filter(day <= as_of_lit, day >= as_of_lit - ibis.interval(days=window_days))


def churn_signals(
    interactions: ir.Table,
    declined: ir.Table,
    *,
    as_of: dt.date | str,
    config: RetentionConfig,
    vehicles: ir.Table | None = None,
) -> ir.Table:
    """Negative signals per customer over the window (inputs of R-CHURN-RISK/REASON).

    Grain: one row per customer with any interaction or declined quote in the window.
    A declined quote's customer is its ``customer_id``, else its vehicle's owner (when
    ``vehicles`` is given).

    Returns
    -------
    ir.Table
        customer_id, latest_nps_score, has_low_nps, complaints, unresolved_complaints,
        competitor_visits, price_declines.
    """
    window = config.active_window_days
    recent = _in_window(interactions, interactions.ts.date(), as_of, window)
    counts = recent.group_by("customer_id").aggregate(
        complaints=recent.count(where=recent.type == "complaint"),
        unresolved_complaints=recent.count(
            where=(recent.type == "complaint") & ~recent.resolved.fill_null(False)
        ),
        competitor_visits=recent.count(where=recent.type == "competitor_visit"),
    )
    surveys = recent.filter(recent.type == "nps_survey", recent.score.notnull())
    latest = latest_per_key(surveys, "customer_id", [ibis.desc("ts"), ibis.desc("interaction_id")])
    nps = latest.select("customer_id", latest_nps_score=latest.score)

    if vehicles is not None:
        owners = vehicles.select(owner_vin=vehicles.vin, owner_id=vehicles.customer_id)
        declined = declined.left_join(owners, declined.vin == owners.owner_vin)
        declined = declined.mutate(customer_id=declined.customer_id.coalesce(declined.owner_id))
    quotes = _in_window(declined, declined.declined_date, as_of, window)
    quotes = quotes.filter(quotes.customer_id.notnull())
    price = quotes.group_by("customer_id").aggregate(
        price_declines=quotes.count(where=quotes.reason == "price")
    )

    ids = (
        counts.select("customer_id")
        .union(nps.select("customer_id"))
        .union(price.select("customer_id"))
        .distinct()
    )
    j = ids.left_join(counts, "customer_id").left_join(nps, "customer_id")
    j = j.left_join(price, "customer_id")
    return j.select(
        customer_id=j.customer_id,
        latest_nps_score=j.latest_nps_score,
        has_low_nps=(j.latest_nps_score <= config.low_nps_max).fill_null(False),
        complaints=j.complaints.coalesce(0).cast("int64"),
        unresolved_complaints=j.unresolved_complaints.coalesce(0).cast("int64"),
        competitor_visits=j.competitor_visits.coalesce(0).cast("int64"),
        price_declines=j.price_declines.coalesce(0).cast("int64"),
    )


def visit_history(orders: ir.Table, *, as_of: dt.date | str) -> ir.Table:
    """Each customer's visit days up to ``as_of`` (``staging.visits``).

    Grain: one row per customer with a visit.

    Returns
    -------
    ir.Table
        customer_id, last_visit_date, first_visit_date, visit_days.
    """
    seen = visits(orders_up_to(orders, as_of))
    days = seen.select("customer_id", "open_date").distinct()
    return days.group_by("customer_id").aggregate(
        last_visit_date=days.open_date.max(),
        first_visit_date=days.open_date.min(),
        visit_days=days.count(),
    )


def usual_interval_days(history: ir.Table) -> ir.FloatingValue:
    """The mean gap between visit days, (last − first) ÷ (visit days − 1); NULL below two.

    ``history`` carries :func:`visit_history`'s columns.
    """
    span = history.last_visit_date.delta(history.first_visit_date, unit="day").cast("float64")
    return ibis.ifelse(
        history.visit_days >= 2, span / (history.visit_days - 1), ibis.null("float64")
    )


def earliest_service_due(reminders: ir.Table) -> ir.Table:
    """The earliest R-REMIND due date of each customer's vehicles.

    Grain: one row per customer with a reminder. Returns customer_id, next_service_due_date.
    """
    return reminders.group_by("customer_id").aggregate(
        next_service_due_date=reminders.due_date.min()
    )


def churn_risk(
    orders: ir.Table,
    customers: ir.Table,
    reminders: ir.Table,
    signals: ir.Table,
    *,
    as_of: dt.date | str,
    config: RetentionConfig,
) -> ir.Table:
    """Churn risk level with its reasons (R-CHURN-RISK).

    Grain: one row per customer of ``customers`` as of ``as_of``. Definitions in the module
    docstring.

    Parameters
    ----------
    orders
        Orders with their customer resolved (``staging.resolved_orders``).
    customers
        Canonical customers (the population).
    reminders
        At least ``customer_id`` and ``due_date`` (``reminders.vehicle_reminders``).
    signals
        Output of :func:`churn_signals`.
    as_of
        The as-of date.
    config
        Thresholds.

    Returns
    -------
    ir.Table
        as_of_date, customer_id, last_visit_date, days_absent, usual_interval_days,
        next_service_due_date, days_overdue, has_low_nps, has_unresolved_complaint,
        risk_level ('low' | 'medium' | 'high'), reasons.
    """
    as_of_lit = as_date(as_of)
    j = (
        customers.select("customer_id")
        .left_join(visit_history(orders, as_of=as_of), "customer_id")
        .left_join(earliest_service_due(reminders), "customer_id")
        .left_join(signals, "customer_id")
    )
    usual = usual_interval_days(j)
    days_absent = as_of_lit.delta(j.last_visit_date, unit="day")
    by_interval = (days_absent.cast("float64") - usual).floor().cast("int64")
    by_service = as_of_lit.delta(j.next_service_due_date, unit="day").cast("int64")
    days_overdue = ibis.greatest(by_interval.coalesce(by_service), by_service.coalesce(by_interval))
    facts = j.select(
        customer_id=j.customer_id,
        last_visit_date=j.last_visit_date,
        days_absent=days_absent.cast("int64"),
        usual_interval_days=usual,
        next_service_due_date=j.next_service_due_date,
        days_overdue=days_overdue,
        has_low_nps=j.has_low_nps.fill_null(False),
        has_unresolved_complaint=j.unresolved_complaints.coalesce(0) > 0,
    )
    risk_days = facts.days_overdue.coalesce(facts.days_absent)
    base = ibis.cases(
        (risk_days >= config.high_risk_after_days, 2),
        (risk_days >= config.care_after_days, 1),
        else_=0,
    )
    raised = base + ibis.ifelse(facts.has_low_nps | facts.has_unresolved_complaint, 1, 0)
    level = ibis.least(raised, len(LEVELS) - 1)
    timing = ibis.ifelse(
        facts.days_overdue.notnull(),
        "overdue_" + facts.days_overdue.cast("string") + "d",
        "absent_" + facts.days_absent.cast("string") + "d",
    )
    reasons = _joined_codes(
        [
            (risk_days >= config.care_after_days, timing),
            (facts.has_low_nps, "low_nps"),
            (facts.has_unresolved_complaint, "unresolved_complaint"),
        ]
    )
    return facts.mutate(
        as_of_date=as_of_lit,
        risk_level=ibis.cases(*[(level == i, name) for i, name in enumerate(LEVELS)]),
        reasons=reasons,
    )


def churn_population(risk: ir.Table, tiers: ir.Table) -> ir.Table:
    """The customers R-CHURN-REASON is about: the lapsed tier or high churn risk.

    Grain: one row per customer in the lapsed tier or at high churn risk.

    Parameters
    ----------
    risk
        Output of :func:`churn_risk`.
    tiers
        At least ``customer_id`` and ``tier``.

    Returns
    -------
    ir.Table
        customer_id, tier, risk_level.
    """
    ids = (
        tiers.filter(tiers.tier == "lapsed")
        .select("customer_id")
        .union(risk.filter(risk.risk_level == "high").select("customer_id"))
        .distinct()
    )
    j = ids.left_join(tiers.select("customer_id", "tier"), "customer_id").left_join(
        risk.select("customer_id", "risk_level"), "customer_id"
    )
    return j.select("customer_id", "tier", "risk_level")


def likely_churn_reason(
    population: ir.Table,
    customers: ir.Table,
    signals: ir.Table,
    *,
    vehicle_flags: ir.Table | None = None,
) -> ir.Table:
    """Likely churn reason of each customer of ``population`` (R-CHURN-REASON).

    The one definition of the reason, for the churn mart, the action engine and the scripts.
    Grain: that of ``population`` (one row per customer).

    ``churn_reason`` by precedence: ``experience`` (a complaint or a low NPS in the window) >
    ``price`` (price_sensitivity high, a quote declined for price, or a competitor visit in
    the window) > ``passive`` (no negative signal). ``reason_evidence`` lists the signals.
    ``conversation`` is ``trade_in`` when all the customer's vehicles are sold or scrapped
    (R-VEHICLE-SOLD, from ``vehicle_flags``), else ``winback``.

    Parameters
    ----------
    population
        The customers (``customer_id``, one row each; other columns are kept).
    customers
        Canonical customers (``price_sensitivity``).
    signals
        Output of :func:`churn_signals`.
    vehicle_flags
        Optional output of ``reminders.vehicle_status_flags``.

    Returns
    -------
    ir.Table
        The columns of ``population``, churn_reason, reason_evidence, conversation.
    """
    sensitivity = customers.select(
        s_customer_id="customer_id", price_sensitivity="price_sensitivity"
    )
    facts = signals.select(
        g_customer_id="customer_id",
        complaints="complaints",
        has_low_nps="has_low_nps",
        price_declines="price_declines",
        competitor_visits="competitor_visits",
    )
    j = population.left_join(sensitivity, population.customer_id == sensitivity.s_customer_id)
    j = j.left_join(facts, j.customer_id == facts.g_customer_id)
    if vehicle_flags is not None:
        flags = vehicle_flags.select(
            f_customer_id="customer_id", needs_trade_in="needs_trade_in_conversation"
        )
        j = j.left_join(flags, j.customer_id == flags.f_customer_id)
        trade_in = j.needs_trade_in.fill_null(False)
    else:
        trade_in = ibis.literal(False)
    complaint = j.complaints.coalesce(0) > 0
    low_nps = j.has_low_nps.fill_null(False)
    sensitive = (j.price_sensitivity == "high").fill_null(False)
    declined = j.price_declines.coalesce(0) > 0
    competitor = j.competitor_visits.coalesce(0) > 0
    reason = ibis.cases(
        (complaint | low_nps, "experience"),
        (sensitive | declined | competitor, "price"),
        else_="passive",
    )
    evidence = _joined_codes(
        [
            (complaint, "complaint"),
            (low_nps, "low_nps"),
            (sensitive, "price_sensitivity_high"),
            (declined, "declined_price"),
            (competitor, "competitor_visit"),
        ]
    )
    return j.select(
        *[j[c] for c in population.columns],
        churn_reason=reason,
        reason_evidence=evidence,
        conversation=ibis.ifelse(trade_in, "trade_in", "winback"),
    )


def churn_reason(
    risk: ir.Table,
    tiers: ir.Table,
    customers: ir.Table,
    signals: ir.Table,
    *,
    vehicle_flags: ir.Table | None = None,
) -> ir.Table:
    """Likely churn reason of lapsed or high-risk customers (R-CHURN-REASON).

    :func:`likely_churn_reason` (which see for ``customers``, ``signals`` and
    ``vehicle_flags``) of :func:`churn_population` (``risk``, ``tiers``). Grain: one row per
    customer in the lapsed tier or at high churn risk.

    Returns
    -------
    ir.Table
        customer_id, tier, risk_level, churn_reason, reason_evidence, conversation.
    """
    return likely_churn_reason(
        churn_population(risk, tiers), customers, signals, vehicle_flags=vehicle_flags
    )
