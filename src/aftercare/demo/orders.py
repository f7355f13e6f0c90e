"""Repair orders of the synthetic centre.

Grain: one row per repair order (接车单). Two streams per vehicle, both column-wise:

* scheduled maintenance: the first service 85–125 days after delivery (most come after the
  first-service reminder, 3 days before the 3-month due date), then every
  6–12 months (the model's time or mileage interval, whichever comes first at the vehicle's
  own daily km), with a little jitter;
* unscheduled visits (repair, bodywork, warranty, accident, accessories) as a Poisson process
  whose rate depends on the customer's latent segment.

Then: same-day add-on orders, credit notes (negative totals, R-IN-4), internal orders, a few
orders whose vehicle and customer have no master record (R-IN-6), a few with a category text
the DMS invented (R-IN-7), and blank customer numbers that the VIN resolves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from aftercare.demo import names
from aftercare.demo.params import (
    BODYWORK,
    CATEGORIES,
    INSURANCE,
    MAINTENANCE,
    MODELS,
    PAY_CUSTOMER,
    PAY_INSURANCE,
    PAY_INTERNAL,
    PAY_WARRANTY,
    PAYERS,
    REPAIR,
    VALUE_ADDED,
    WARRANTY,
    DemoParams,
)
from aftercare.demo.population import DAYS_PER_YEAR, Population, rank_in_group, to_date32

NEW_CATEGORY_TEXTS = ("电池健康检测", "空调清洗", "底盘装甲")
_LABOR_SHARE = (0.35, 0.45, 0.55, 0.40, 0.45, 0.10)


@dataclass(frozen=True)
class Orders:
    """Generated orders: the canonical table plus the arrays later generators need."""

    table: pa.Table
    vehicle: np.ndarray  # vehicle index (-1: a vehicle with no master record)
    customer: np.ndarray  # customer index (-1: a customer with no master record)
    open_day: np.ndarray
    close_day: np.ndarray
    category: np.ndarray
    total_cents: np.ndarray


def _maintenance(rng: np.random.Generator, pop: Population, params: DemoParams):
    """Scheduled maintenance visits: (vehicle index, day)."""
    nv = len(pop.delivery)
    lo, hi = params.first_service_days
    first = pop.delivery + rng.integers(lo, hi + 1, nv)
    step = pop.interval_days
    k_min = np.maximum(0, np.ceil((pop.history_start - first) / step)).astype(np.int64)
    k_max = np.floor((pop.vehicle_until - first) / step).astype(np.int64)
    count = np.clip(k_max - k_min + 1, 0, None)
    veh = np.repeat(np.arange(nv), count)
    k = k_min[veh] + rank_in_group(count)
    jitter = rng.uniform(-1, 1, len(veh)) * params.maintenance_jitter * step[veh]
    day = first[veh] + k * step[veh] + np.where(k > 0, np.round(jitter), 0)
    keep = (day >= pop.history_start) & (day <= pop.vehicle_until[veh])
    return veh[keep], day[keep].astype(np.int64)


def _unscheduled(rng: np.random.Generator, pop: Population, params: DemoParams):
    """Unscheduled visits: (vehicle index, day, category)."""
    start = np.maximum(pop.history_start, pop.delivery)
    span = np.clip(pop.vehicle_until - start, 0, None)
    per_customer = np.asarray(params.extra_visits_per_year)[pop.segment]
    vehicles_of_owner = np.bincount(pop.vehicle_owner, minlength=pop.n_customers)
    rate = per_customer[pop.vehicle_owner] / vehicles_of_owner[pop.vehicle_owner]
    count = rng.poisson(rate * span / DAYS_PER_YEAR)
    veh = np.repeat(np.arange(len(start)), count)
    day = start[veh] + np.floor(rng.random(len(veh)) * (span[veh] + 1)).astype(np.int64)
    mix = np.asarray(params.extra_mix) / np.sum(params.extra_mix)
    category = rng.choice([REPAIR, BODYWORK, WARRANTY, INSURANCE, VALUE_ADDED], len(veh), p=mix)
    # Warranty repairs only while the factory warranty runs; afterwards the customer pays.
    category = np.where((category == WARRANTY) & (day > pop.factory_end[veh]), REPAIR, category)
    return veh, day, category


def _calendar(first_day: int, last_day: int) -> np.ndarray:
    """yyyymmdd integers for every day from ``first_day`` to ``last_day`` (epoch days)."""
    d = np.arange(first_day, last_day + 1).astype("datetime64[D]")
    month_start = d.astype("datetime64[M]")
    year = month_start.astype("datetime64[Y]").astype(np.int64) + 1970
    month = month_start.astype(np.int64) % 12 + 1
    day = (d - month_start).astype(np.int64) + 1
    return year * 10000 + month * 100 + day


def _odometer(rng: np.random.Generator, pop: Population, veh: np.ndarray, day: np.ndarray):
    """Odometer at check-in: the vehicle's daily km with a seasonal wobble.

    km(t) = rate × t + A sin(ω t + φ) with A ω = rate / 2, so km'(t) ≥ rate / 2 > 0: readings
    rise with the date for every vehicle without sorting 10M rows.
    """
    nv = len(pop.delivery)
    omega = 2 * np.pi / rng.uniform(90, 240, nv)
    phase = rng.uniform(0, 2 * np.pi, nv)
    amplitude = 0.5 * pop.daily_km / omega
    t = (day - pop.delivery[veh]).astype(np.float64)
    km = pop.daily_km[veh] * t + amplitude[veh] * (
        np.sin(omega[veh] * t + phase[veh]) - np.sin(phase[veh])
    )
    return np.round(np.maximum(km, 0)).astype(np.int64)


def make_orders(rng: np.random.Generator, pop: Population, params: DemoParams) -> Orders:
    """Generate the service orders of ``pop``'s vehicles over the history."""
    m_veh, m_day = _maintenance(rng, pop, params)
    x_veh, x_day, x_cat = _unscheduled(rng, pop, params)
    addon = rng.random(len(m_veh)) < params.same_day_addon
    veh = np.concatenate([m_veh, x_veh, m_veh[addon]])
    day = np.concatenate([m_day, x_day, m_day[addon]])
    category = np.concatenate(
        [np.full(len(m_veh), MAINTENANCE), x_cat, np.full(int(addon.sum()), VALUE_ADDED)]
    ).astype(np.int8)
    n = len(veh)
    cust = pop.vehicle_owner[veh]
    seg = pop.segment[cust]

    # Amounts in cents: a mean-preserving lognormal around the category mean × segment level.
    sigma = 0.55
    mean = np.asarray(params.category_mean_amount)[category]
    level = np.asarray(params.spend_multiplier)[seg]
    gross = np.round(mean * level * rng.lognormal(-(sigma**2) / 2, sigma, n) * 100)
    gross = np.maximum(gross, 5000).astype(np.int64)
    payer = np.full(n, PAY_CUSTOMER, dtype=np.int8)
    payer[category == WARRANTY] = PAY_WARRANTY
    payer[category == INSURANCE] = PAY_INSURANCE
    internal = (category == REPAIR) & (rng.random(n) < params.internal_share)
    payer[internal] = PAY_INTERNAL
    discounted = (payer == PAY_CUSTOMER) & (rng.random(n) < 0.3)
    discount = np.where(discounted, np.round(gross * rng.uniform(0.05, 0.15, n)), 0)
    discount = discount.astype(np.int64)
    labor_share = np.clip(np.asarray(_LABOR_SHARE)[category] + rng.normal(0, 0.05, n), 0, 1)
    labor = np.round(gross * labor_share).astype(np.int64)
    total = gross - discount
    margin = (
        np.asarray(params.gross_margin)[seg]
        + np.asarray(params.category_margin_offset)[category]
        + rng.normal(0, 0.04, n)
    )
    cost = np.round(total * (1 - np.clip(margin, 0.02, 0.9))).astype(np.int64)
    is_bodywork = (category == BODYWORK) | (category == INSURANCE)
    close_lag = np.where(
        is_bodywork,
        rng.integers(2, 15, n),
        np.where(rng.random(n) < 0.7, 0, rng.integers(1, 3, n)),
    )

    # Extra rows point back at a source row: credit notes (R-IN-4) — a later order of the
    # same vehicle with a negative total — and orders whose vehicle and customer have no
    # master record (R-IN-6).
    refund_of = np.flatnonzero((payer == PAY_CUSTOMER) & (rng.random(n) < params.refund_share))
    unmatched_of = rng.integers(0, n, rng.binomial(n, params.unmatched_share))
    extra = np.concatenate([refund_of, unmatched_of])

    def extend(a: np.ndarray) -> np.ndarray:
        return np.concatenate([a, a[extra]])

    kind = np.repeat(np.array([0, 1, 2], np.int8), [n, len(refund_of), len(unmatched_of)])
    is_refund, unknown = kind == 1, kind == 2
    total_n = len(kind)
    day = extend(day)
    day[is_refund] = np.minimum(
        day[is_refund] + rng.integers(0, 21, int(is_refund.sum())), pop.as_of
    )
    refund_share = np.where(is_refund, rng.uniform(0.1, 1.0, total_n), 1.0)
    veh = np.where(unknown, -1, extend(veh))
    cust = np.where(unknown, -1, extend(cust))
    odometer = _odometer(rng, pop, np.maximum(veh, 0), day)
    category = extend(category)
    payer = extend(payer)
    total = extend(total)
    total = np.where(is_refund, -np.round(total * refund_share), total).astype(np.int64)
    labor = np.where(is_refund, 0, extend(labor))
    discount = np.where(is_refund, 0, extend(discount))
    parts = total + discount - labor
    cost = np.where(is_refund, 0, extend(cost))
    close = day + extend(close_lag)

    # Order numbers RO + yyyymmdd + daily sequence; a 16-bit stable sort is a radix sort.
    by_day = np.argsort((day - pop.history_start).astype(np.int16), kind="stable")
    sorted_day = day[by_day]
    new_day = np.ones(total_n, bool)
    new_day[1:] = sorted_day[1:] != sorted_day[:-1]
    position = np.arange(total_n)
    seq = np.empty(total_n, np.int64)
    seq[by_day] = position - np.maximum.accumulate(np.where(new_day, position, 0)) + 1
    calendar = _calendar(pop.history_start, pop.as_of)
    number = calendar[day - pop.history_start] * 100_000 + seq
    order_id = names.join("RO", pc.cast(pa.array(number), pa.string()))

    vin, customer_id = _identities(rng, pop, veh, cust, unknown)
    blank = (veh >= 0) & (rng.random(total_n) < params.blank_customer_share)
    # A few orders carry a category the DMS invented (R-IN-7): canonical "other", text kept.
    n_new = min(params.new_category_rows, total_n)
    new = rng.choice(total_n, n_new, replace=False)
    raw_index = np.zeros(total_n, np.int32)
    raw_index[new] = np.arange(n_new) % len(NEW_CATEGORY_TEXTS)
    raw_mask = np.ones(total_n, bool)
    raw_mask[new] = False
    category[new] = len(CATEGORIES)
    known = np.where(cust >= 0, cust, 0)
    table = pa.table(
        {
            "order_id": order_id,
            "vin": vin,
            "customer_id": _dict(np.where(blank, 0, customer_id[0]), customer_id[1], blank),
            "open_date": to_date32(day),
            "close_date": to_date32(close, close <= pop.as_of),
            "odometer_km": pa.array(odometer, pa.int64(), mask=is_refund),
            "category": _dict(category, [*CATEGORIES, "other"]),
            "category_raw": _dict(raw_index, NEW_CATEGORY_TEXTS, raw_mask),
            "payer": _dict(payer, PAYERS),
            "labor_amount": pa.array(labor / 100),
            "parts_amount": pa.array(parts / 100),
            "discount_amount": pa.array(discount / 100),
            "total_amount": pa.array(total / 100),
            "cost_amount": pa.array(cost / 100),
            "advisor_id": _dict(pop.advisor_index[known], pop.advisors["advisor_id"]),
            "store_id": _dict(pop.store_index[known], pop.advisors["store_id"].unique()),
        }
    )
    return Orders(table, veh, cust, day, close, category, total)


def _dict(
    indices: np.ndarray,
    values: pa.Array | pa.ChunkedArray | list[str] | tuple[str, ...],
    mask: np.ndarray | None = None,
) -> pa.DictionaryArray:
    """A dictionary-encoded string column (cheap for 10M rows; Parquet keeps the encoding)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    dictionary = values if isinstance(values, pa.Array) else pa.array(values, pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(indices.astype(np.int32), mask=mask), dictionary)


def _identities(
    rng: np.random.Generator,
    pop: Population,
    veh: np.ndarray,
    cust: np.ndarray,
    unknown: np.ndarray,
) -> tuple[pa.DictionaryArray, tuple[np.ndarray, pa.Array]]:
    """VIN column and (customer code, dictionary) per order.

    Orders of unknown vehicles get fresh VINs and customer numbers that the master data does
    not have (R-IN-6).
    """
    nv = len(pop.delivery)
    k = int(unknown.sum())
    fresh_vin = names.vins(
        rng, (MODELS[0].wmi,), np.zeros(k, np.int64), nv + np.arange(k), np.full(k, 2020)
    )
    fresh_cust = names.prefixed_ids("C9", 10**6 + 7 * np.arange(k) + rng.integers(0, 7, k), 7)
    code = np.where(unknown, 0, veh)
    code[unknown] = nv + np.arange(k)
    vin = _dict(code, pa.chunked_array([pop.vehicle_vin, fresh_vin]).combine_chunks())
    n = pop.n_customers
    cust_code = np.where(unknown, 0, cust)
    cust_code[unknown] = n + np.arange(k)
    return vin, (cust_code, pa.chunked_array([pop.customer_id, fresh_cust]).combine_chunks())
