"""Monthly KPIs of the seed 004 dashboard (SPEC §7).

Ibis only, ``Table -> Table``; nothing here connects or executes. Each function returns one
row for one calendar month (``month_start`` … ``month_end``, both inclusive).

Definitions (SPEC leaves these open; decided here):

- **First-service arrival rate** (新客户首保到店率). A vehicle's first service is due at
  delivery + ``reminders.first_service_months`` (``first_service_by_brand`` overrides per
  brand); ``first_service_km`` can only make it due *earlier*, so a car serviced early by
  mileage is on time too. Its *window* runs from delivery to due + ``grace_days``. A vehicle
  is *due in the month* when its window **closes** in the month, so a month's figure is final
  at the month's end. *Done within its window*: a ``maintenance`` order (not a refund) on
  the VIN opened inside the window. Sold or scrapped vehicles are left out (R-VEHICLE-SOLD).
- **Growth-stage value-added penetration** (成长期增值渗透率). Customers in the growth stage
  (R-LIFE) at the month's end; of those, the ones with a ``value_added`` order (not a refund)
  opened in the trailing ``window_days`` up to the month's end.
- **Win-back rate** (流失客户召回率), SPEC: "lapsed customers contacted who visited within
  60 days". *Lapsed*: the ``A-WINBACK`` attempt was made for a customer of the lapsed tier
  (流失, R-TIER) — the tier the engine recorded in the action's evidence when it created the
  attempt. A-WINBACK also calls high-risk customers of other tiers (流失预警, R-CHURN-RISK);
  they are not lapsed yet, would flatter the rate, and are measured by the rule lift instead
  (R-ACT-HOLDOUT). *Contacted*: an outcome recorded in the month that reached the customer
  (``CONTACT_RESULTS``: reached, booked, visited, declined); a missed call or a wrong number
  is an attempt, not a contact, and an opt-out leaves the win-back population. Counted per
  customer. *Returned*: a visit (not a refund) on or after the customer's first contact of the
  month and at most ``visit_days`` later. The figure is provisional until ``visit_days`` after
  the end of the month.
- **NPS** (客户NPS). ``nps_survey`` interactions with a score, dated in the month: promoters
  score ≥ ``promoter_min`` (9), detractors ≤ ``detractor_max`` (6); NPS = (promoters −
  detractors) ÷ surveys × 100, on −100…100. The mean score (0–10) is reported beside it.
- **Per-advisor activity** (calls made, reach rate, bookings, visits, expired): see
  :func:`advisor_activity`; an action belongs to the advisor it is assigned to.
- **CRR** (客户留存率) over the trailing year ending at the month's end (see
  :func:`aftercare.pipeline.retention.crr`; the seed's bands are annual figures, and a
  one-month CRR would sit near 100 % whatever happens).
"""

from __future__ import annotations

import calendar
import datetime as dt

import ibis
import ibis.expr.types as ir

from aftercare.config import TIER_ORDER, LifecycleConfig, ReminderConfig
from aftercare.errors import AftercareError
from aftercare.pipeline.latest import returned_within
from aftercare.pipeline.lifecycle import GONE_STATUSES, customer_lifecycle
from aftercare.pipeline.staging import as_date, visits
from aftercare.playbook.outcomes import EXPIRED_STATUS, WINBACK_RULE

PERCENT = 100.0
FIRST_SERVICE_CATEGORY = "maintenance"
VALUE_ADDED_CATEGORY = "value_added"
GROWTH_STAGE = "growth"
#: Outcomes that reached the customer: a win-back *contact* (a missed call is only an attempt).
CONTACT_RESULTS = ("reached", "booked", "visited", "declined")
LAPSED_TIER = TIER_ORDER[-1]


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """First and last day of a ``YYYY-MM`` month.

    Raises
    ------
    AftercareError
        When ``month`` is not ``YYYY-MM``.
    """
    try:
        year, mon = (int(part) for part in month.split("-"))
        first = dt.date(year, mon, 1)
    except ValueError:
        raise AftercareError(f"bad month {month!r}: expected YYYY-MM, e.g. 2025-03") from None
    return first, dt.date(year, mon, calendar.monthrange(year, mon)[1])


def fraction(hits: ir.IntegerValue, total: ir.IntegerValue) -> ir.FloatingValue:
    """``hits`` ÷ ``total`` as a fraction; NULL when ``total`` is 0."""
    return hits.cast("float64") / total.cast("float64").nullif(0)


def _share(
    population: ir.Table, hits: ir.Table, *, key: str, names: tuple[str, str, str]
) -> ir.Table:
    """One row: the rows of ``population``, how many have their ``key`` in ``hits``, and the
    fraction, named ``names`` (total, hits, rate)."""
    total, hit, rate = names
    found = hits.select(h_key=hits[key]).distinct()
    j = population.left_join(found, population[key] == found.h_key)
    counts = j.aggregate(n_total=j.count(), n_hits=j.count(where=j.h_key.notnull()))
    return counts.select(
        **{
            total: counts.n_total.cast("int64"),
            hit: counts.n_hits.cast("int64"),
            rate: fraction(counts.n_hits, counts.n_total),
        }
    )


def first_service_arrival(
    orders: ir.Table,
    vehicles: ir.Table,
    *,
    month_start: dt.date,
    month_end: dt.date,
    config: ReminderConfig,
    grace_days: int,
) -> ir.Table:
    """First services due in the month and how many were done within their window.

    Grain: one row (the month). See the module docstring for "due" and "window".

    Returns
    -------
    ir.Table
        first_services_due, first_services_on_time, arrival_rate (fraction; NULL if none due).
    """
    cars = vehicles.filter(
        vehicles.delivery_date.notnull(),
        ~vehicles.status.coalesce("active").isin(GONE_STATUSES),
    )
    due = cars.delivery_date + ibis.interval(months=config.first_service_months)
    for brand, rule in config.first_service_by_brand.items():
        months = rule.get("months", config.first_service_months)
        due = ibis.ifelse(
            cars.brand == brand, cars.delivery_date + ibis.interval(months=months), due
        )
    cars = cars.select("vin", "delivery_date", closes=due + ibis.interval(days=grace_days))
    cars = cars.filter(cars.closes >= as_date(month_start), cars.closes <= as_date(month_end))
    # Not staging.visits: a first service is a maintenance order on the VIN, whoever the
    # customer (a car whose owner is not resolved yet was still serviced on time).
    service = orders.filter(
        orders.category == FIRST_SERVICE_CATEGORY, orders.total_amount >= 0, orders.vin.notnull()
    ).select(o_vin="vin", open_date="open_date")
    hits = cars.join(
        service,
        [
            cars.vin == service.o_vin,
            service.open_date >= cars.delivery_date,
            service.open_date <= cars.closes,
        ],
    )
    names = ("first_services_due", "first_services_on_time", "arrival_rate")
    return _share(cars, hits.select("vin"), key="vin", names=names)


def growth_value_added_penetration(
    orders: ir.Table,
    vehicles: ir.Table,
    *,
    month_end: dt.date,
    lifecycle: LifecycleConfig,
    window_days: int,
    customers: ir.Table | None = None,
) -> ir.Table:
    """Growth-stage customers who bought value-added services in the trailing window.

    Grain: one row (the month).

    Parameters
    ----------
    orders
        Orders with their customer resolved (``staging.resolved_orders``).
    vehicles
        Canonical vehicles (for the lifecycle stage, R-LIFE).
    month_end
        Stage and window are taken at this date.
    lifecycle
        Stage starts.
    window_days
        Trailing window for the value-added purchase (``scoring.window_days``).
    customers
        The customers that exist at ``month_end`` (``population.customers_as_of``); None:
        every vehicle's owner (see ``lifecycle.customer_lifecycle``).

    Returns
    -------
    ir.Table
        growth_customers, value_added_buyers, penetration (fraction; NULL if none in growth).
    """
    end = as_date(month_end)
    stages = customer_lifecycle(vehicles, as_of=month_end, config=lifecycle, customers=customers)
    growth = stages.filter(stages.stage == GROWTH_STAGE).select("customer_id")
    # Not staging.visits: a purchase of one category, not any visit (refunds still excluded).
    bought = orders.filter(
        orders.category == VALUE_ADDED_CATEGORY,
        orders.total_amount >= 0,
        orders.customer_id.notnull(),
        orders.open_date <= end,
        orders.open_date >= end - ibis.interval(days=window_days),
    )
    names = ("growth_customers", "value_added_buyers", "penetration")
    return _share(growth, bought, key="customer_id", names=names)


def winback_rate(
    actions: ir.Table,
    outcomes: ir.Table,
    orders: ir.Table,
    *,
    month_start: dt.date,
    month_end: dt.date,
    visit_days: int,
    contact_results: tuple[str, ...] = CONTACT_RESULTS,
    lapsed_tier: str = LAPSED_TIER,
) -> ir.Table:
    """Lapsed customers contacted in the month who came back within ``visit_days``.

    Grain: one row (the month). See the module docstring for *lapsed*, *contacted* and
    *returned*.

    Parameters
    ----------
    actions, outcomes
        The stored ``actions`` (their ``evidence`` holds the tier at creation) and
        ``action_outcomes``.
    orders
        Orders with their customer resolved (``staging.resolved_orders``).
    month_start, month_end
        The month of the contacts.
    visit_days
        Days after the first contact within which a visit is a return
        (``kpis.winback_visit_days``).
    contact_results
        Outcome results that count as having reached the customer.
    lapsed_tier
        The tier whose customers the KPI is about.

    Returns
    -------
    ir.Table
        winback_contacted, winback_returned, winback_rate (fraction; NULL if nobody was
        contacted).
    """
    # The evidence is the engine's JSON text (rules.evidence): `"tier":"lapsed"` is exact.
    was_lapsed = actions.evidence.contains(f'"tier":"{lapsed_tier}"').fill_null(False)
    wb = actions.filter(actions.rule_id == WINBACK_RULE, was_lapsed).select(
        "action_id", "customer_id"
    )
    day = outcomes.recorded_at.date()
    in_month = outcomes.filter(
        day >= as_date(month_start),
        day <= as_date(month_end),
        outcomes.result.isin(list(contact_results)),
    )
    j = in_month.join(wb, "action_id")
    contacted = j.group_by("customer_id").aggregate(contact_date=j.recorded_at.date().min())
    back = returned_within(contacted, visits(orders), event_date="contact_date", days=visit_days)
    names = ("winback_contacted", "winback_returned", "winback_rate")
    return _share(contacted, back, key="customer_id", names=names)


def net_promoter_score(
    interactions: ir.Table,
    *,
    month_start: dt.date,
    month_end: dt.date,
    promoter_min: int,
    detractor_max: int,
) -> ir.Table:
    """NPS and mean score of the month's surveys.

    Grain: one row (the month).

    Returns
    -------
    ir.Table
        surveys, promoters, detractors, nps (−100…100; NULL without surveys), mean_score.
    """
    day = interactions.ts.date()
    s = interactions.filter(
        interactions.type == "nps_survey",
        interactions.score.notnull(),
        day >= as_date(month_start),
        day <= as_date(month_end),
    )
    counts = s.aggregate(
        surveys=s.count(),
        promoters=s.count(where=s.score >= promoter_min),
        detractors=s.count(where=s.score <= detractor_max),
        score_sum=s.score.cast("float64").sum(),
    )
    total = counts.surveys.cast("float64").nullif(0)
    return counts.select(
        surveys=counts.surveys.cast("int64"),
        promoters=counts.promoters.cast("int64"),
        detractors=counts.detractors.cast("int64"),
        nps=(counts.promoters - counts.detractors).cast("float64") * PERCENT / total,
        mean_score=counts.score_sum / total,
    )


def advisor_activity(
    status: ir.Table,
    outcomes: ir.Table,
    bookings: ir.Table,
    *,
    month_start: dt.date,
    month_end: dt.date,
    contact_results: tuple[str, ...] = CONTACT_RESULTS,
    expired_status: str = EXPIRED_STATUS,
) -> ir.Table:
    """Each advisor's calls of the month and what came of them (issue 10's per-advisor KPIs).

    Grain: one row per advisor (``advisor_id`` of the action; NULL: the store's unassigned
    pool) with anything to count in the month.

    - **calls**: actions with an outcome recorded in the month (an action called twice is one
      call made; a missed call counts: it was made);
    - **reached**: of those, actions with an outcome in ``contact_results`` recorded in the
      month (reached, booked, visited, declined: the customer was spoken to, as for the
      win-back KPI; a missed call, a wrong number or an opt-out is not);
    - **bookings**: ``booked`` outcomes recorded in the month (rows of ``bookings``);
    - **visits**: of those bookings, the ones that ended in a visit within the booking window
      (``booking_success``'s ``is_success``, ``actions.booking_success_days``);
    - **expired**: actions whose derived status is ``expired_status`` (R-ACT-EXPIRE) and that
      expired in the month: the day after their ``valid_until`` (the last day they could be
      worked) falls in it.

    Parameters
    ----------
    status
        Every action with its derived status (:func:`aftercare.playbook.outcomes.current_status`,
        given an ``as_of`` on or after the month's end so that its expiries are derived).
    outcomes
        The stored ``action_outcomes``.
    bookings
        :func:`aftercare.playbook.outcomes.booking_success` (one row per ``booked`` outcome).
    month_start, month_end
        The month (both inclusive).
    contact_results
        Results that reached the customer.
    expired_status
        The status of an expired action.

    Returns
    -------
    ir.Table
        advisor_id, calls, reached, bookings, visits, expired (int64), reach_rate (fraction;
        NULL without calls).
    """
    start, end = as_date(month_start), as_date(month_end)
    owner = status.select(o_action_id="action_id", o_advisor_id="advisor_id")
    day = outcomes.recorded_at.date()
    made = outcomes.filter(day >= start, day <= end)
    made = made.join(owner, made.action_id == owner.o_action_id)
    is_contact = made.result.isin(list(contact_results))
    calls = made.group_by(advisor_id=made.o_advisor_id).aggregate(
        calls=made.action_id.nunique(),
        reached=made.action_id.nunique(where=is_contact),
    )
    booked = bookings.filter(bookings.booked_date >= start, bookings.booked_date <= end)
    booked = booked.join(owner, booked.action_id == owner.o_action_id)
    booked = booked.group_by(advisor_id=booked.o_advisor_id).aggregate(
        bookings=booked.count(), visits=booked.count(where=booked.is_success)
    )
    expired_on = status.valid_until + ibis.interval(days=1)
    gone = status.filter(status.status == expired_status, expired_on >= start, expired_on <= end)
    gone = gone.group_by("advisor_id").aggregate(expired=gone.count())
    zero = ibis.literal(0, "int64")
    columns = ("calls", "reached", "bookings", "visits", "expired")

    def padded(t: ir.Table) -> ir.Table:
        return t.select(
            "advisor_id", **{c: t[c].cast("int64") if c in t.columns else zero for c in columns}
        )

    # A union, not outer joins: the pool's NULL advisor id is one group, never equal in a join.
    every = padded(calls).union(padded(booked)).union(padded(gone))
    totals = every.group_by("advisor_id").aggregate(**{c: every[c].sum() for c in columns})
    return totals.select(
        "advisor_id",
        **{c: totals[c].cast("int64") for c in columns},
        reach_rate=fraction(totals.reached, totals.calls),
    )
