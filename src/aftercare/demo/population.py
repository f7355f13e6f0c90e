"""The synthetic centre's people and cars: advisors, customers (with a latent segment), vehicles.

Grain of the tables built here: one row per advisor, per customer, per vehicle (VIN). Dates
are handled as integer days since 1970-01-01 (``int64``) and turned into Arrow ``date32`` at
the end. Everything is column-wise; there is no loop per customer or vehicle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from aftercare.demo import names
from aftercare.demo.params import MODELS, DemoParams

DAYS_PER_YEAR = 365.25
CUSTOMERS_PER_STORE = 60_000
#: Customers one service advisor looks after, at most (demo staffing, see make_advisors).
CUSTOMERS_PER_ADVISOR = 1_100
SOURCE_CHANNELS = ("展厅到店", "网络线索", "老客户介绍", "车展", "电话咨询", "二手车置换")
PREFERRED_TIMES = ("工作日上午", "工作日下午", "工作日晚上", "周末", "")
CONTACT_CHANNELS = ("phone", "sms", "wechat", "app")
CONTACT_WEIGHTS = (0.35, 0.10, 0.45, 0.10)


def to_date32(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Integer days since the epoch as an Arrow date32 array (``valid`` False → NULL)."""
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array(days.astype(np.int32), pa.date32(), mask=mask)


def group_starts(counts: np.ndarray) -> np.ndarray:
    """Start offset of each group in a repeat-by-``counts`` layout."""
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    return starts


def rank_in_group(counts: np.ndarray) -> np.ndarray:
    """0, 1, … within each group of a repeat-by-``counts`` layout."""
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(group_starts(counts), counts)


@dataclass(frozen=True)
class Population:
    """Customers and vehicles with the latent facts the order generator needs."""

    as_of: int
    history_start: int
    customer_id: pa.Array
    segment: np.ndarray  # latent segment index per customer (params.SEGMENTS)
    active_until: np.ndarray  # last day the customer still comes (as_of if active)
    created: np.ndarray
    advisor_index: np.ndarray  # index into advisors per customer
    store_index: np.ndarray  # store number per customer, 0-based
    price_high: np.ndarray
    vehicle_owner: np.ndarray  # customer index per vehicle
    vehicle_vin: pa.Array
    delivery: np.ndarray
    model_index: np.ndarray
    daily_km: np.ndarray
    interval_days: np.ndarray  # maintenance interval per vehicle
    factory_end: np.ndarray
    vehicle_until: np.ndarray  # last day the vehicle is serviced here
    advisors: pa.Table
    customers: pa.Table
    vehicles: pa.Table

    @property
    def n_customers(self) -> int:
        """Number of customers."""
        return len(self.segment)


def _vehicle_ages(
    u: np.ndarray, min_age: np.ndarray, max_age: int, params: DemoParams
) -> np.ndarray:
    """Ages in days by the lifecycle bands' shares, at least ``min_age`` (inverse CDF of ``u``).

    The ages' distribution is piecewise uniform: each band of
    ``params.vehicle_age_band_years`` (the last one up to ``max_age``) holds its share of
    ``params.vehicle_age_shares``; a vehicle that must be older than ``min_age`` draws from
    the same distribution above it.
    """
    edges = np.append(np.asarray(params.vehicle_age_band_years) * DAYS_PER_YEAR, max_age)
    shares = np.asarray(params.vehicle_age_shares, dtype=float)
    cdf = np.concatenate([[0.0], np.cumsum(shares / shares.sum())])
    floor = np.interp(min_age, edges, cdf)
    return np.interp(floor + u * (1.0 - floor), cdf, edges).astype(np.int64)


def make_advisors(
    rng: np.random.Generator, n_stores: int, customers_per_store: float = 0.0
) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """Advisors: 8–15 advisors per store, and at least one per :data:`CUSTOMERS_PER_ADVISOR`
    of its customers (one of whom has left), and 1–2 managers.

    A store's advisors can then call their customers within R-ACT-CAPACITY's default (30 calls
    a day, Mon–Sat): the demo's playbook asks about 95 calls a week per 1,000 customers,
    about 1.4 tries each. The advisors a larger store needs beyond the 8–15 drawn get names
    of their own (a spawned generator), so the rest of the demo's random draws stay as they
    were.

    Returns the table and, per store, the number of service advisors and the row where the
    store's block starts (advisors come first in a block: a customer's advisor is
    ``store_start + k`` with ``k < n_advisors``).
    """
    drawn = rng.integers(8, 16, n_stores)
    n_mgr = rng.integers(1, 3, n_stores)
    drawn_names = np.asarray(names.chinese_names(rng, int((drawn + n_mgr).sum())), dtype=object)
    needed = math.ceil(customers_per_store / CUSTOMERS_PER_ADVISOR)
    n_adv = np.maximum(drawn, needed)
    extra = n_adv - drawn
    extra_names = np.asarray(names.chinese_names(rng.spawn(1)[0], int(extra.sum())), dtype=object)
    per_store = n_adv + n_mgr
    store = np.repeat(np.arange(n_stores), per_store)
    rank = rank_in_group(per_store)
    is_extra = (rank >= drawn[store]) & (rank < n_adv[store])
    name = np.empty(len(store), dtype=object)
    name[~is_extra] = drawn_names
    name[is_extra] = extra_names
    role = np.where(rank < n_adv[store], "advisor", "manager")
    n = len(store)
    active = np.ones(n, dtype=bool)
    active[group_starts(per_store) + n_adv - 1] = False  # the last advisor has left
    store_ids = names.prefixed_ids("SZ", store + 1, 2)
    table = pa.table(
        {
            "advisor_id": names.join(store_ids, "-SA", names.zero_padded(rank + 1, 2)),
            "name": pa.array(name, pa.string()),
            "store_id": store_ids,
            "role": pa.array(role, pa.string()),
            "active": pa.array(active),
        }
    )
    return table, n_adv, group_starts(per_store)


def make_population(
    rng: np.random.Generator, n_customers: int, as_of: int, years: float, params: DemoParams
) -> Population:
    """Generate advisors, customers and vehicles.

    Parameters
    ----------
    rng
        Seeded generator (all randomness comes from it, so a seed fixes the data).
    n_customers
        Number of customers.
    as_of
        Last day of the history, days since the epoch.
    years
        Length of the order history in years.
    params
        Segment behaviour.
    """
    n = n_customers
    history_start = as_of - round(years * DAYS_PER_YEAR)
    n_stores = max(1, math.ceil(n / CUSTOMERS_PER_STORE))
    advisors, n_adv, store_start = make_advisors(rng, n_stores, n / n_stores)
    segment = rng.choice(len(params.segment_share), n, p=params.segment_share).astype(np.int8)
    store = rng.integers(0, n_stores, n)
    advisor_index = store_start[store] + (rng.random(n) * n_adv[store]).astype(np.int64)

    # When customers stop coming: lapsed long ago, some "at risk" recently, the rest active.
    stopped = rng.random(n) < np.asarray(params.at_risk_share)[segment]
    lapsed = segment == 4
    lo, hi = params.at_risk_stop_days
    stop_ago = rng.integers(lo, hi + 1, n)
    lo, hi = params.lapsed_stop_days
    stop_ago = np.where(lapsed, rng.integers(lo, hi + 1, n), stop_ago)
    active_until = np.where(stopped | lapsed, as_of - stop_ago, as_of)

    # Vehicles: 1–3 per customer, delivered up to 10 years ago, before the customer stopped.
    n_veh = (
        1
        + (rng.random(n) < np.asarray(params.second_vehicle)[segment])
        + (rng.random(n) < np.asarray(params.third_vehicle)[segment])
    )
    owner = np.repeat(np.arange(n), n_veh)
    nv = len(owner)
    max_age = round(params.vehicle_max_age_years * DAYS_PER_YEAR)
    # A vehicle comes before the customer stopped (150 days at least); active customers' cars
    # are delivered up to the as-of date, so the centre has new deliveries every week.
    gone = active_until[owner] < as_of
    min_age = np.where(gone, np.minimum(as_of - active_until[owner] + 150, max_age - 1), 0)
    age = _vehicle_ages(rng.random(nv), min_age, max_age, params)
    delivery = as_of - age
    created = np.minimum.reduceat(delivery, group_starts(n_veh))

    shares = np.array([m.share for m in MODELS])
    model_index = rng.choice(len(MODELS), nv, p=shares / shares.sum())
    is_ev = np.array([m.is_ev for m in MODELS])[model_index]
    lo_km, hi_km = params.daily_km
    daily_km = np.clip(rng.lognormal(np.log(40.0), 0.35, nv), lo_km, hi_km)
    months = np.array([m.service_months for m in MODELS])[model_index]
    km = np.array([m.service_km for m in MODELS])[model_index]
    lo, hi = params.maintenance_days
    seg_min = np.asarray(params.min_maintenance_days)[segment[owner]]
    interval_days = np.clip(np.minimum(months * 30.44, km / daily_km), seg_min, hi).round()

    factory_end = delivery + round(params.factory_warranty_years * DAYS_PER_YEAR)
    has_ext = rng.random(nv) < np.asarray(params.extended_warranty)[segment[owner]]
    ext_end = factory_end + np.where(rng.random(nv) < 0.5, 731, 1096)

    churned = active_until[owner] < as_of
    sold = churned & (rng.random(nv) < 0.3)
    scrapped = ~sold & (age > 8 * DAYS_PER_YEAR) & (rng.random(nv) < 0.15)
    status = np.where(sold, "sold", np.where(scrapped, "scrapped", "active"))
    gone_ago = rng.integers(30, 400, nv)
    vehicle_until = np.where(
        sold | scrapped, np.minimum(active_until[owner], as_of - gone_ago), active_until[owner]
    )
    vehicle_until = np.maximum(vehicle_until, delivery)
    # Insurance bought at the centre: a yearly policy from delivery; its expiry is the first
    # anniversary after the car was last with the centre (a customer who left renewed
    # elsewhere, so the DMS keeps a stale date). Own generator: the rest of the data stays
    # as it was before this column existed.
    insurance_rng = rng.spawn(1)[0]
    insured = insurance_rng.random(nv) < np.asarray(params.insured_here)[segment[owner]]
    policy_years = np.floor((vehicle_until - delivery) / DAYS_PER_YEAR) + 1
    insurance_end = delivery + np.round(policy_years * DAYS_PER_YEAR).astype(np.int64)

    customer_id = names.prefixed_ids("C", rng.permutation(n) + 100_001, 8)
    vin = names.vins(
        rng,
        tuple(m.wmi for m in MODELS),
        model_index,
        rng.permutation(nv),
        np.minimum(1970 + (delivery / DAYS_PER_YEAR).astype(np.int64), 2039),
    )
    vehicles = pa.table(
        {
            "vin": vin,
            "customer_id": customer_id.take(pa.array(owner)),
            "plate": names.plates(rng, is_ev),
            "brand": pa.array([m.brand for m in MODELS]).take(pa.array(model_index)),
            "model": pa.array([m.name for m in MODELS]).take(pa.array(model_index)),
            "delivery_date": to_date32(delivery),
            "factory_warranty_end": to_date32(factory_end),
            "extended_warranty_end": to_date32(ext_end, has_ext),
            "insurance_expiry": to_date32(insurance_end, insured),
            "status": pa.array(status, pa.string()),
        }
    )

    price_high = rng.random(n) < np.asarray(params.price_sensitivity_high)[segment]
    price = np.where(price_high, "high", np.where(rng.random(n) < 0.5, "medium", "low"))
    birthday = as_of - rng.integers(22 * 365, 68 * 365, n)
    customers = pa.table(
        {
            "customer_id": customer_id,
            "name": names.chinese_names(rng, n),
            "phone": names.mobile_numbers(rng, n),
            "birthday": to_date32(birthday, rng.random(n) > 0.08),
            "city": names.cities(rng, n),
            "source_channel": _pick(rng, SOURCE_CHANNELS, n),
            "preferred_channel": _pick(rng, CONTACT_CHANNELS, n, CONTACT_WEIGHTS),
            "preferred_time": _pick(rng, PREFERRED_TIMES, n),
            "price_sensitivity": pa.array(price, pa.string()),
            "marketing_consent": pa.array(rng.random(n) < 0.72),
            "do_not_contact": pa.array(rng.random(n) < 0.02),
            "advisor_id": advisors["advisor_id"].combine_chunks().take(pa.array(advisor_index)),
            "store_id": names.prefixed_ids("SZ", store + 1, 2),
            "language": pa.array(np.where(rng.random(n) < 0.01, "en", "zh-CN"), pa.string()),
            "created_at": to_date32(created),
        }
    )
    return Population(
        as_of=as_of,
        history_start=history_start,
        customer_id=customer_id,
        segment=segment,
        active_until=active_until,
        created=created,
        advisor_index=advisor_index,
        store_index=store,
        price_high=price_high,
        vehicle_owner=owner,
        vehicle_vin=vin,
        delivery=delivery,
        model_index=model_index,
        daily_km=daily_km,
        interval_days=interval_days,
        factory_end=factory_end,
        vehicle_until=vehicle_until,
        advisors=advisors,
        customers=customers,
        vehicles=vehicles,
    )


def _pick(
    rng: np.random.Generator,
    values: tuple[str, ...],
    n: int,
    weights: tuple[float, ...] | None = None,
) -> pa.Array:
    p = None if weights is None else np.asarray(weights) / np.sum(weights)
    return pa.array(values, pa.string()).take(pa.array(rng.choice(len(values), n, p=p)))
