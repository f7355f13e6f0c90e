"""Customer lifecycle stage by vehicle age (R-LIFE, seed 004).

Ibis only, ``Table -> Table``; nothing here connects or executes.

Age is counted in whole calendar months since ``delivery_date`` (a month is complete on the
same day-of-month), so stage boundaries are exact anniversaries: a car delivered 2021-03-01
is exactly 3 years old on 2024-03-01 (growth) and 35 months old on 2024-02-29 (activation).
A car delivered on 29 February completes its year on 1 March in common years.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from aftercare.config import LifecycleConfig
from aftercare.pipeline.latest import latest_per_key
from aftercare.pipeline.staging import as_date

MONTHS_PER_YEAR = 12
#: Statuses of a vehicle the customer no longer drives (R-VEHICLE-SOLD).
GONE_STATUSES = ("sold", "scrapped")


def completed_months(start: ir.DateValue, end: ir.DateValue) -> ir.IntegerValue:
    """Whole calendar months from ``start`` to ``end`` (negative when ``end`` is earlier)."""
    months = (end.year() - start.year()) * MONTHS_PER_YEAR + (end.month() - start.month())
    return (months - ibis.ifelse(end.day() < start.day(), 1, 0)).cast("int64")


def _stage_of(months: ir.IntegerValue, config: LifecycleConfig) -> ir.StringValue:
    """The stage whose ``min_years`` is the largest one reached."""
    by_start = sorted(config.stage_min_years.items(), key=lambda kv: kv[1], reverse=True)
    return ibis.cases(
        *[(months >= min_years * MONTHS_PER_YEAR, stage) for stage, min_years in by_start[:-1]],
        else_=by_start[-1][0],
    )


def customer_lifecycle(
    vehicles: ir.Table,
    *,
    as_of: dt.date | str,
    config: LifecycleConfig,
    customers: ir.Table | None = None,
) -> ir.Table:
    """Each customer's lifecycle stage from their newest vehicle (R-LIFE).

    Grain: one row per customer with a vehicle delivered on or before ``as_of`` (of
    ``customers`` when given).

    The newest vehicle (latest ``delivery_date``, VIN as the tiebreaker) gives the stage.
    Vehicles marked sold or scrapped (R-VEHICLE-SOLD) are no longer the customer's car, so a
    customer's active vehicles are considered first; a customer whose vehicles are all gone
    keeps the stage of the newest of them and ``has_active_vehicle`` is false (the playbook
    moves them to a trade-in conversation, see ``reminders.vehicle_status_flags``).

    Parameters
    ----------
    vehicles
        Canonical vehicles.
    as_of
        The as-of date.
    config
        Stage starts in years (``stage_min_years``).
    customers
        Only these customers' vehicles (``customer_id``): the customers that exist on
        ``as_of`` (``population.customers_as_of``), so a past date does not count the owner
        of a second-hand car delivered years before they became a customer. None: every
        vehicle's owner.

    Returns
    -------
    ir.Table
        as_of_date, customer_id, vin, delivery_date, vehicle_age_months, vehicle_age_years,
        stage, has_active_vehicle.
    """
    as_of_lit = as_date(as_of)
    if customers is not None:
        ids = customers.select(p_customer_id=customers.customer_id)
        vehicles = vehicles.semi_join(ids, vehicles.customer_id == ids.p_customer_id)
    delivered = vehicles.filter(
        vehicles.delivery_date <= as_of_lit, vehicles.customer_id.notnull()
    ).mutate(is_active=~vehicles.status.coalesce("active").isin(GONE_STATUSES))
    newest = latest_per_key(
        delivered,
        "customer_id",
        [
            ibis.desc(ibis.ifelse(delivered.is_active, 1, 0)),
            ibis.desc("delivery_date"),
            ibis.asc("vin"),
        ],
    )
    months = completed_months(newest.delivery_date, as_of_lit)
    return newest.select(
        as_of_date=as_of_lit,
        customer_id=newest.customer_id,
        vin=newest.vin,
        delivery_date=newest.delivery_date,
        vehicle_age_months=months,
        vehicle_age_years=months.cast("float64") / MONTHS_PER_YEAR,
        stage=_stage_of(months, config),
        has_active_vehicle=newest.is_active,
    )


def stage_distribution(
    current: ir.Table, previous: ir.Table, *, config: LifecycleConfig
) -> ir.Table:
    """Customers per lifecycle stage with the change against the previous period (R-LIFE).

    Grain: one row per stage present in either period.

    Parameters
    ----------
    current, previous
        Outputs of :func:`customer_lifecycle` at two as-of dates.
    config
        Gives the stage order (``stage_order``: 0 = the earliest stage).

    Returns
    -------
    ir.Table
        stage, stage_order, customers, previous_customers, change, change_pct (NULL when the
        stage was empty before), share (of the current period's customers).
    """
    now = current.group_by("stage").aggregate(customers=current.count())
    before = previous.group_by("stage").aggregate(previous_customers=previous.count())
    joined = now.outer_join(before, now.stage == before.stage)
    stage = joined.stage.coalesce(joined.stage_right)
    customers = joined.customers.coalesce(0).cast("int64")
    prev = joined.previous_customers.coalesce(0).cast("int64")
    total = current.aggregate(total=current.count())
    by_start = sorted(config.stage_min_years.items(), key=lambda kv: kv[1])
    order = ibis.cases(*[(stage == name, i) for i, (name, _) in enumerate(by_start)], else_=None)
    counted = joined.select(
        stage=stage,
        stage_order=order.cast("int64"),
        customers=customers,
        previous_customers=prev,
        change=customers - prev,
        change_pct=(customers - prev).cast("float64") * 100 / prev.cast("float64").nullif(0),
    ).cross_join(total)
    return counted.select(
        "stage",
        "stage_order",
        "customers",
        "previous_customers",
        "change",
        "change_pct",
        share=counted.customers.cast("float64") / counted.total.cast("float64").nullif(0),
    )
