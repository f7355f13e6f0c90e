"""Next service due per vehicle, odometer forecast and its error (R-REMIND, R-VEHICLE-SOLD).

Ibis only, ``Table -> Table``; nothing here connects or executes. Windows are partitioned by
VIN (never global).

Definitions (SPEC is silent on some; decided here):

- *reading*: an order with ``odometer_km`` on a VIN, opened on or before as-of; several on one
  day are one reading (the highest km).
- *service*: an order of category ``maintenance`` (not a refund). A vehicle with none since
  delivery is due its *first service*: delivery + ``first_service_months`` or
  ``first_service_km`` from 0 km, per-brand overrides in ``first_service_by_brand``.
- *daily km* (``rate_source = 'own'``): with at least ``min_readings_for_own_rate`` readings,
  the slope between the first and the last reading (equal to the time-weighted mean of the
  interval rates; robust to one odd reading in between). A negative slope (odometer swapped
  or mistyped) is not trusted. Otherwise ``'model'``: the median own rate of vehicles of the
  same model; else ``'store'``: the median own rate of every vehicle in the data (the
  centre's, or a dealer group's network when its data is loaded together; at least two
  vehicles with an own rate); else ``'config'``: ``fallback_daily_km``.
- *forecast*: from the latest reading (else delivery at 0 km), the date the odometer reaches
  the target km (last service km + ``maintenance_interval_km``); due date = the earlier of that
  and the time due (last service + ``maintenance_interval_months``); ties go to ``time``.
- *forecast error* (:func:`forecast_error`): measured on each reading that arrives after
  enough earlier ones to forecast it; its relative error is |forecast − actual| ÷ km driven.
- *uncertainty band*: daily km × (1 ∓ e), the low end floored at 0 km/day, where e is the
  median absolute relative error of past forecasts (``band_error_source``): ``'own'`` the
  vehicle's own measured forecasts (it has more than ``min_readings_for_own_rate``
  readings); else, for an own rate, ``'store'`` the median over every measured forecast in
  the data; for a model/store rate, ``'fallback'`` the median of |store median − own rate|
  ÷ own rate over the vehicles with an own rate (how far a borrowed rate misses); none
  without a store median, and none for the config rate (nothing was measured). Both ends
  are capped by the time due, like the due date. ``forecast_median_abs_error_km`` is the
  vehicle's own median absolute error in km; ``forecast_error_pct`` is the e used, in %.
- Vehicles marked sold or scrapped get no reminder (R-VEHICLE-SOLD).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from aftercare.config import ReminderConfig
from aftercare.pipeline.lifecycle import GONE_STATUSES
from aftercare.pipeline.staging import as_date, orders_up_to

PERCENT = 100.0
#: Fewest vehicles with an own rate that make a store median and measure its misses.
MIN_VEHICLES_FOR_SPREAD = 2


def odometer_readings(orders: ir.Table, *, as_of: dt.date | str) -> ir.Table:
    """Odometer readings. Grain: one row per (vin, reading_date) on or before ``as_of``."""
    known = orders_up_to(orders, as_of)
    known = known.filter(known.vin.notnull(), known.odometer_km.notnull())
    return known.group_by(["vin", known.open_date.name("reading_date")]).aggregate(
        odometer_km=known.odometer_km.max()
    )


def _with_intervals(readings: ir.Table) -> ir.Table:
    """Readings with the previous and the first reading of their VIN, and a 0-based index."""
    w = ibis.window(group_by="vin", order_by="reading_date")  # reading_date unique per vin
    return readings.mutate(
        reading_index=ibis.row_number().over(w),
        prev_date=readings.reading_date.lag().over(w),
        prev_km=readings.odometer_km.lag().over(w),
        first_date=readings.reading_date.first().over(w),
        first_km=readings.odometer_km.first().over(w),
    )


def _slope(km_to: ir.Value, km_from: ir.Value, day_to: ir.Value, day_from: ir.Value) -> ir.Value:
    """km per day between two readings (NULL over zero days)."""
    days = day_to.delta(day_from, unit="day").cast("float64")
    return (km_to - km_from).cast("float64") / days.nullif(0.0)


def _error_spread(orders: ir.Table, *, as_of: dt.date | str, config: ReminderConfig):
    """The measured forecast errors: per VIN and store-wide (R-REMIND).

    Returns ``(per_vin, store)``: per_vin has one row per VIN with a measured forecast
    (forecast_errors_measured, forecast_median_abs_error_km, own_error_rel); store is one row
    (store_error_rel). ``*_error_rel`` are median absolute relative errors (0.25 = 25 %).
    """
    errors = forecast_error(orders, as_of=as_of, config=config)
    rel = errors.abs_error_pct / PERCENT
    per_vin = errors.group_by("vin").aggregate(
        forecast_errors_measured=errors.count(),
        forecast_median_abs_error_km=errors.abs_error_km.median(),
        own_error_rel=rel.median(),
    )
    store = errors.aggregate(store_error_rel=rel.median())
    return per_vin, store


@dataclass(frozen=True)
class FleetRates:
    """What every vehicle's rate borrows from the others (R-REMIND): the vehicles with an own
    rate (``peers``: model, own_rate) and the store's forecast error (``store_error``: one
    row, store_error_rel). The model and store medians and the spread of a borrowed rate are
    computed from them."""

    peers: ir.Table
    store_error: ir.Table


def _own_vehicle_rates(
    orders: ir.Table, vehicles: ir.Table, *, as_of: dt.date | str, config: ReminderConfig
) -> ir.Table:
    """Each vehicle's readings and own rate (R-REMIND). Grain: one row per vehicle of
    ``vehicles`` (vin, model, readings, last_reading_date, last_reading_km, own_rate)."""
    r = odometer_readings(orders, as_of=as_of)
    # reading_date is unique per vin, so arg max/min pick one reading without ties (an
    # aggregate: no window sorts over every reading).
    ends = r.group_by("vin").aggregate(
        readings=r.count(),
        last_reading_date=r.reading_date.max(),
        last_reading_km=r.odometer_km.argmax(r.reading_date),
        first_date=r.reading_date.min(),
        first_km=r.odometer_km.argmin(r.reading_date),
    )
    own = ends.select(
        "vin",
        "readings",
        "last_reading_date",
        "last_reading_km",
        own_rate=_slope(
            ends.last_reading_km, ends.first_km, ends.last_reading_date, ends.first_date
        ),
    )
    own = own.mutate(
        own_rate=ibis.ifelse(
            (own.readings >= config.min_readings_for_own_rate) & (own.own_rate >= 0),
            own.own_rate,
            ibis.null("float64"),
        )
    )
    v = vehicles.select("vin", "model").left_join(own, "vin")
    return v.select(*[c for c in v.columns if c != "vin_right"])


def _own_rates(
    orders: ir.Table, vehicles: ir.Table, *, as_of: dt.date | str, config: ReminderConfig
) -> tuple[ir.Table, ir.Table]:
    """Each vehicle's own rate and measured errors, and the store's error (R-REMIND).

    Returns ``(per_vehicle, store_error)``: per_vehicle has one row per vehicle of
    ``vehicles`` (vin, model, readings, last_reading_date, last_reading_km, own_rate,
    forecast_errors_measured, forecast_median_abs_error_km, own_error_rel).
    """
    v = _own_vehicle_rates(orders, vehicles, as_of=as_of, config=config)
    errors, store_error = _error_spread(orders, as_of=as_of, config=config)
    v = v.left_join(errors, "vin")
    return v.select(*[c for c in v.columns if c != "vin_right"]), store_error


def fleet_rates(
    orders: ir.Table, vehicles: ir.Table, *, as_of: dt.date | str, config: ReminderConfig
) -> FleetRates:
    """The :class:`FleetRates` of ``vehicles`` from ``orders`` as of ``as_of``.

    For a run that plans some customers only (their vehicles' rates are computed from
    their own orders, the borrowed ones from the whole store's: the same figures as a run
    over every customer).
    """
    return _fleet_of(*_own_rates(orders, vehicles, as_of=as_of, config=config))


def fleet_facts(
    orders: ir.Table, vehicles: ir.Table, *, as_of: dt.date | str, config: ReminderConfig
) -> tuple[ir.Table, ir.Table]:
    """What :class:`FleetRates` is made of, per vehicle and per reading, to keep in a table
    and refresh for the vehicles whose orders changed (issue 11: incremental runs).

    Each vehicle's rows come from its own orders only, so ``orders`` and ``vehicles`` may be
    narrowed to some VINs; :func:`kept_fleet` makes the rates of the rows of every vehicle.

    Returns
    -------
    tuple
        ``(rates, errors)``: rates has one row per vehicle of ``vehicles`` with an own rate
        (vin, model, own_rate); errors one row per measured forecast of a reading of
        ``orders`` (vin, reading_date, error_rel: |error| ÷ km driven, 0.25 = 25 %).
    """
    r = _own_vehicle_rates(orders, vehicles, as_of=as_of, config=config)
    rates = r.filter(r.own_rate.notnull()).select("vin", "model", "own_rate")
    e = forecast_error(orders, as_of=as_of, config=config)
    errors = e.select("vin", "reading_date", error_rel=e.abs_error_pct / PERCENT)
    return rates, errors


def kept_fleet(rates: ir.Table, errors: ir.Table) -> FleetRates:
    """The :class:`FleetRates` of every vehicle's :func:`fleet_facts` (the same figures as
    :func:`fleet_rates` of the whole store)."""
    return FleetRates(
        peers=rates.select("model", "own_rate"),
        store_error=errors.aggregate(store_error_rel=errors.error_rel.median()),
    )


def _fleet_of(per_vehicle: ir.Table, store_error: ir.Table) -> FleetRates:
    """The :class:`FleetRates` of :func:`_own_rates`' result."""
    peers = per_vehicle.filter(per_vehicle.own_rate.notnull()).select("model", "own_rate")
    return FleetRates(peers=peers, store_error=store_error)


def vehicle_daily_km(
    orders: ir.Table,
    vehicles: ir.Table,
    *,
    as_of: dt.date | str,
    config: ReminderConfig,
    fleet: FleetRates | None = None,
) -> ir.Table:
    """Each vehicle's daily km with its source, measured error and band (R-REMIND).

    Grain: one row per vehicle of ``vehicles`` (whatever its status). Definitions in the
    module docstring. ``fleet``: the borrowed figures' sources (default: ``vehicles`` and
    ``orders`` themselves; :func:`fleet_rates` of the whole store when these are some
    customers' only).

    Returns
    -------
    ir.Table
        vin, readings, last_reading_date, last_reading_km, daily_km, daily_km_low,
        daily_km_high, rate_source ('own', 'model', 'store', 'config'),
        forecast_errors_measured, forecast_median_abs_error_km, forecast_error_pct,
        band_error_source ('own', 'store', 'fallback'; NULL: no band).
    """
    v, own_store_error = _own_rates(orders, vehicles, as_of=as_of, config=config)
    fleet = fleet or _fleet_of(v, own_store_error)
    peers, store_error = fleet.peers, fleet.store_error
    by_model = peers.filter(peers.model.notnull())
    by_model = by_model.group_by("model").aggregate(model_rate=by_model.own_rate.median())
    # One vehicle's rate is no store median (nor a spread of misses): both need two.
    enough = peers.count() >= MIN_VEHICLES_FOR_SPREAD
    store_rate = peers.aggregate(
        store_rate=ibis.ifelse(enough, peers.own_rate.median(), ibis.null("float64"))
    )
    # How far the store's median is from the vehicles' own rates: the error of a fallback.
    spread = peers.cross_join(store_rate)
    miss = (spread.store_rate - spread.own_rate).abs() / spread.own_rate.nullif(0.0)
    fallback = spread.aggregate(fallback_error_rel=miss.median())
    j = (
        v.left_join(by_model, "model")
        .cross_join(store_rate)
        .cross_join(fallback)
        .cross_join(store_error)
    )
    has_own = j.own_rate.notnull()
    has_model = j.model_rate.notnull()
    has_store = j.store_rate.notnull()
    source = ibis.cases(
        (has_own, "own"), (has_model, "model"), (has_store, "store"), else_="config"
    )
    rate = ibis.cases(
        (has_own, j.own_rate),
        (has_model, j.model_rate),
        (has_store, j.store_rate),
        else_=ibis.literal(str(config.fallback_daily_km)).cast("float64"),
    )
    band_source = ibis.cases(
        (has_own & j.own_error_rel.notnull(), "own"),
        (has_own & j.store_error_rel.notnull(), "store"),
        (~has_own & (has_model | has_store) & j.fallback_error_rel.notnull(), "fallback"),
        else_=ibis.null("string"),
    )
    error_rel = ibis.cases(
        (band_source == "own", j.own_error_rel),
        (band_source == "store", j.store_error_rel),
        (band_source == "fallback", j.fallback_error_rel),
        else_=ibis.null("float64"),
    )
    return j.select(
        vin=j.vin,
        readings=j.readings.coalesce(0).cast("int64"),
        last_reading_date=j.last_reading_date,
        last_reading_km=j.last_reading_km,
        daily_km=rate,
        # not ibis.greatest: engines skip its NULLs, and a NULL error must give no band
        daily_km_low=rate * ibis.ifelse(error_rel >= 1.0, 0.0, 1.0 - error_rel),
        daily_km_high=rate * (1.0 + error_rel),
        rate_source=source,
        forecast_errors_measured=j.forecast_errors_measured.coalesce(0).cast("int64"),
        forecast_median_abs_error_km=j.forecast_median_abs_error_km,
        forecast_error_pct=error_rel * PERCENT,
        band_error_source=band_source,
    )


def _last_service(orders: ir.Table, *, as_of: dt.date | str) -> ir.Table:
    """Latest maintenance visit per VIN. Grain: one row per serviced vin."""
    known = orders_up_to(orders, as_of)
    # Not staging.visits: services of the vehicle (maintenance only), whoever its customer.
    maint = known.filter(
        known.vin.notnull(), known.category == "maintenance", known.total_amount >= 0
    )
    days = maint.group_by(["vin", "open_date"]).aggregate(service_km=maint.odometer_km.max())
    # open_date is unique per vin here: arg max has no ties to break.
    return days.group_by("vin").aggregate(
        last_service_date=days.open_date.max(),
        last_service_km=days.service_km.argmax(days.open_date),
    )


def _due_days(
    km_remaining: ir.Value, rate: ir.Value, days_time: ir.IntegerValue
) -> ir.IntegerValue:
    """Days from the base reading until due: by mileage at ``rate``, capped by the time due."""
    mileage_days = ibis.ifelse(
        rate > 0, (km_remaining.cast("float64") / rate).ceil(), ibis.null("float64")
    )
    return ibis.least(days_time.cast("float64"), mileage_days.coalesce(days_time)).cast("int64")


def vehicle_reminders(
    orders: ir.Table,
    vehicles: ir.Table,
    *,
    as_of: dt.date | str,
    config: ReminderConfig,
    fleet: FleetRates | None = None,
) -> ir.Table:
    """Next service due per vehicle, by time or forecast mileage (R-REMIND).

    Grain: one row per active vehicle (status not sold/scrapped, R-VEHICLE-SOLD) delivered on
    or before ``as_of``. See the module docstring for every definition.

    Parameters
    ----------
    orders
        Service orders (canonical or resolved); only ``vin`` matters.
    vehicles
        Canonical vehicles.
    as_of
        The as-of date; later orders are ignored.
    config
        Intervals, first-service rules, fallback rate.
    fleet
        The borrowed rates' sources (:func:`vehicle_daily_km`); default: these vehicles.

    Returns
    -------
    ir.Table
        as_of_date, vin, customer_id, brand, model, delivery_date, is_first_service,
        last_service_date, last_service_km, last_reading_date, last_reading_km, readings,
        daily_km, daily_km_low, daily_km_high, rate_source, forecast_errors_measured,
        forecast_median_abs_error_km, forecast_error_pct, band_error_source, target_km,
        time_due_date, due_date, due_reason ('time' | 'mileage'), due_earliest_date,
        due_latest_date.
    """
    as_of_lit = as_date(as_of)
    active = vehicles.filter(
        vehicles.delivery_date <= as_of_lit,
        ~vehicles.status.coalesce("active").isin(GONE_STATUSES),
    ).select("vin", "customer_id", "brand", "model", "delivery_date")
    rates = vehicle_daily_km(orders, vehicles, as_of=as_of, config=config, fleet=fleet)
    j = active.left_join(_last_service(orders, as_of=as_of), "vin")
    j = j.select(*[c for c in j.columns if c != "vin_right"])
    j = j.left_join(rates, "vin")
    j = j.select(*[c for c in j.columns if c != "vin_right"])

    first = j.last_service_date.isnull()
    brands = config.first_service_by_brand
    # ibis.cases needs at least one branch: without brand overrides it is the default.
    first_km = (
        ibis.cases(
            *[
                (j.brand == b, rule.get("km", config.first_service_km))
                for b, rule in brands.items()
            ],
            else_=config.first_service_km,
        )
        if brands
        else ibis.literal(config.first_service_km, type="int64")
    )
    time_due = ibis.cases(
        *[
            (
                first & (j.brand == b),
                j.delivery_date
                + ibis.interval(months=rule.get("months", config.first_service_months)),
            )
            for b, rule in brands.items()
        ],
        (first, j.delivery_date + ibis.interval(months=config.first_service_months)),
        else_=j.last_service_date + ibis.interval(months=config.maintenance_interval_months),
    )
    target_km = ibis.ifelse(
        first, first_km, j.last_service_km + config.maintenance_interval_km
    ).cast("int64")
    # Forecast from the latest reading; a car never read starts at delivery with 0 km.
    base_date = j.last_reading_date.coalesce(j.delivery_date)
    base_km = j.last_reading_km.coalesce(0)
    facts = j.mutate(
        is_first_service=first,
        target_km=target_km,
        time_due_date=time_due,
        base_date=base_date,
        km_remaining=target_km - base_km,
    )
    days_time = facts.time_due_date.delta(facts.base_date, unit="day")
    due_days = _due_days(facts.km_remaining, facts.daily_km, days_time)
    low_days = _due_days(facts.km_remaining, facts.daily_km_high, days_time)
    high_days = _due_days(facts.km_remaining, facts.daily_km_low, days_time)
    has_band = facts.daily_km_low.notnull() & facts.km_remaining.notnull()
    return facts.select(
        as_of_date=as_of_lit,
        vin=facts.vin,
        customer_id=facts.customer_id,
        brand=facts.brand,
        model=facts.model,
        delivery_date=facts.delivery_date,
        is_first_service=facts.is_first_service,
        last_service_date=facts.last_service_date,
        last_service_km=facts.last_service_km,
        last_reading_date=facts.last_reading_date,
        last_reading_km=facts.last_reading_km,
        readings=facts.readings.coalesce(0).cast("int64"),
        daily_km=facts.daily_km,
        daily_km_low=facts.daily_km_low,
        daily_km_high=facts.daily_km_high,
        rate_source=facts.rate_source,
        forecast_errors_measured=facts.forecast_errors_measured,
        forecast_median_abs_error_km=facts.forecast_median_abs_error_km,
        forecast_error_pct=facts.forecast_error_pct,
        band_error_source=facts.band_error_source,
        target_km=facts.target_km,
        time_due_date=facts.time_due_date,
        due_date=facts.base_date + due_days.as_interval("D"),
        due_reason=ibis.ifelse(due_days < days_time, "mileage", "time"),
        due_earliest_date=ibis.ifelse(
            has_band, facts.base_date + low_days.as_interval("D"), ibis.null("date")
        ),
        due_latest_date=ibis.ifelse(
            has_band, facts.base_date + high_days.as_interval("D"), ibis.null("date")
        ),
    )


def vehicle_status_flags(vehicles: ir.Table) -> ir.Table:
    """Owners of sold or scrapped vehicles (R-VEHICLE-SOLD).

    Grain: one row per customer with at least one sold or scrapped vehicle.
    ``needs_trade_in_conversation`` is true when none of their vehicles is still active: the
    playbook talks trade-in with them, not win-back.

    Returns
    -------
    ir.Table
        customer_id, active_vehicles, sold_vehicles, scrapped_vehicles,
        needs_trade_in_conversation.
    """
    status = vehicles.status.coalesce("active")
    counts = vehicles.group_by("customer_id").aggregate(
        active_vehicles=vehicles.count(where=~status.isin(GONE_STATUSES)),
        sold_vehicles=vehicles.count(where=status == "sold"),
        scrapped_vehicles=vehicles.count(where=status == "scrapped"),
    )
    flagged = counts.filter(counts.sold_vehicles + counts.scrapped_vehicles > 0)
    return flagged.select(
        "customer_id",
        active_vehicles=flagged.active_vehicles.cast("int64"),
        sold_vehicles=flagged.sold_vehicles.cast("int64"),
        scrapped_vehicles=flagged.scrapped_vehicles.cast("int64"),
        needs_trade_in_conversation=flagged.active_vehicles == 0,
    )


def forecast_error(orders: ir.Table, *, as_of: dt.date | str, config: ReminderConfig) -> ir.Table:
    """Error of the odometer forecast, measured on each past reading (R-REMIND).

    Grain: one row per reading that has at least ``min_readings_for_own_rate`` earlier
    readings of its vehicle. The forecast is the one :func:`vehicle_reminders` would have made
    just before the reading arrived: the earlier readings' first-to-last slope, projected from
    the previous reading. ``error_km`` = forecast − actual (positive: over-forecast);
    ``abs_error_pct`` = |error| ÷ km actually driven since the previous reading × 100.

    Returns
    -------
    ir.Table
        vin, reading_date, odometer_km, forecast_km, error_km, abs_error_km, abs_error_pct.
    """
    r = _with_intervals(odometer_readings(orders, as_of=as_of))
    scored = r.filter(r.reading_index >= config.min_readings_for_own_rate)
    rate = _slope(scored.prev_km, scored.first_km, scored.prev_date, scored.first_date)
    ahead = scored.reading_date.delta(scored.prev_date, unit="day").cast("float64")
    forecast = scored.prev_km.cast("float64") + rate * ahead
    error = forecast - scored.odometer_km.cast("float64")
    driven = (scored.odometer_km - scored.prev_km).cast("float64")
    # Over no km driven (or a swapped odometer) a relative error means nothing: NULL.
    driven = ibis.ifelse(driven > 0, driven, ibis.null("float64"))
    return scored.select(
        "vin",
        "reading_date",
        "odometer_km",
        forecast_km=forecast,
        error_km=error,
        abs_error_km=error.abs(),
        abs_error_pct=error.abs() * PERCENT / driven,
    )


def forecast_error_summary(errors: ir.Table) -> ir.Table:
    """Mean forecast error over the readings of :func:`forecast_error`. Grain: one row.

    Returns
    -------
    ir.Table
        readings_evaluated, vehicles, mean_abs_error_km, mean_abs_error_pct, mean_error_km
        (the bias: positive when forecasts run ahead of the odometer).
    """
    return errors.aggregate(
        readings_evaluated=errors.count(),
        vehicles=errors.vin.nunique(),
        mean_abs_error_km=errors.abs_error_km.mean(),
        mean_abs_error_pct=errors.abs_error_pct.mean(),
        mean_error_km=errors.error_km.mean(),
    )
