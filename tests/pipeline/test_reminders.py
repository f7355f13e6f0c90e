"""R-REMIND and R-VEHICLE-SOLD on every backend, against hand-computed dates and errors.

As-of 2024-06-30, default intervals (12 months / 20000 km; first service 3 months / 5000 km),
Tesla and "Fast" first-service overrides, fallback 40 km/day.
"""

from __future__ import annotations

import datetime as dt

import pytest

from aftercare.config import ReminderConfig
from aftercare.pipeline.reminders import (
    fleet_facts,
    forecast_error,
    forecast_error_summary,
    kept_fleet,
    vehicle_reminders,
    vehicle_status_flags,
)
from conftest import load_tables
from factories import make_table

AS_OF = dt.date(2024, 6, 30)
CONFIG = ReminderConfig(
    first_service_by_brand={"Tesla": {"months": 12, "km": 20000}, "Fast": {"months": 6, "km": 2000}}
)
D = dt.date


def vin(tag: str) -> str:
    return f"LSVREM{tag:0>11}"


VEHICLES = [
    {"vin": vin("T"), "customer_id": "CT", "model": "M-A", "delivery_date": "2020-01-01"},
    {"vin": vin("Z"), "customer_id": "CT", "delivery_date": "2012-01-01", "status": "scrapped"},
    {"vin": vin("K"), "customer_id": "CK", "model": "M-B", "delivery_date": "2022-01-01"},
    {"vin": vin("K2"), "customer_id": "CK2", "model": "M-B", "delivery_date": "2023-12-01"},
    {"vin": vin("F"), "customer_id": "CF", "model": "M-B", "delivery_date": "2024-05-01"},
    {"vin": vin("N"), "customer_id": "CN", "delivery_date": "2021-01-01"},
    {"vin": vin("B"), "customer_id": "CB", "brand": "Tesla", "delivery_date": "2024-06-01"},
    {"vin": vin("Q"), "customer_id": "CQ", "brand": "Fast", "delivery_date": "2024-06-01"},
    {
        "vin": vin("S"),
        "customer_id": "CS",
        "model": "M-A",
        "delivery_date": "2019-01-01",
        "status": "sold",
    },
    {"vin": vin("X"), "customer_id": "CX", "delivery_date": "2024-08-01"},
]


def o(oid: str, v: str, day: str, km: int | None, category: str = "repair", total: float = 100):
    return {
        "order_id": oid,
        "vin": vin(v),
        "open_date": day,
        "odometer_km": km,
        "category": category,
        "total_amount": total,
    }


ORDERS = [
    # T: 10 km/day over 365 days; time wins.
    o("t1", "T", "2023-01-15", 36350),
    o("t2", "T", "2024-01-15", 40000, "maintenance"),
    o("t3", "T", "2024-07-15", 99999, "maintenance"),  # after as-of: ignored
    # K: 100 then 80 km/day; own slope (34800 − 24000) / 120 = 90; mileage wins.
    o("k1", "K", "2023-11-11", 24000),
    o("k2", "K", "2024-01-10", 30000, "maintenance"),
    o("k3", "K", "2024-03-10", 34800),
    # K2: 50 km/day, never serviced (a refunded maintenance is no service).
    o("m1", "K2", "2024-01-01", 1000),
    o("m2", "K2", "2024-01-11", 1500),
    o("m3", "K2", "2024-01-20", None, "maintenance", total=-100),
    # N: serviced without an odometer reading.
    o("n1", "N", "2024-02-01", None, "maintenance"),
    # S: sold — its history still informs nothing here, and it gets no reminder.
    o("s1", "S", "2024-03-01", 80000, "maintenance"),
    # V1 (not in vehicles): the forecast-error series; one day read twice; one order unread.
    o("v1", "V1", "2024-01-01", 10000),
    o("v2", "V1", "2024-01-11", 10400),
    o("v3", "V1", "2024-01-11", 10500),
    o("v4", "V1", "2024-01-21", 11500),
    o("v5", "V1", "2024-02-01", None),
    o("v6", "V1", "2024-02-10", 12700),
    o("v7", "V1", "2024-07-10", 20000),  # after as-of
]


@pytest.fixture(scope="module")
def reminder_results(backend):
    t = load_tables(
        backend,
        {
            "orders": make_table("service_orders", ORDERS),
            "vehicles": make_table("vehicles", VEHICLES),
        },
    )
    rem = vehicle_reminders(t["orders"], t["vehicles"], as_of=AS_OF, config=CONFIG)
    errors = forecast_error(t["orders"], as_of=AS_OF, config=CONFIG)
    flags = vehicle_status_flags(t["vehicles"])
    return {
        "rem": {r["vin"]: r for r in rem.to_pyarrow().to_pylist()},
        "flags": {r["customer_id"]: r for r in flags.to_pyarrow().to_pylist()},
        "errors": {(r["vin"], r["reading_date"]): r for r in errors.to_pyarrow().to_pylist()},
        "summary": forecast_error_summary(errors).to_pyarrow().to_pylist()[0],
    }


def test_r_remind_time_wins(reminder_results):
    t = reminder_results["rem"][vin("T")]
    assert t["is_first_service"] is False
    assert (t["last_service_date"], t["last_service_km"]) == (D(2024, 1, 15), 40000)
    assert t["rate_source"] == "own" and t["daily_km"] == pytest.approx(10.0)
    assert t["target_km"] == 60000
    # 20000 km at 10/day is 2000 days; 12 months come first.
    assert (t["due_date"], t["due_reason"]) == (D(2025, 1, 15), "time")
    assert t["time_due_date"] == D(2025, 1, 15)
    assert t["customer_id"] == "CT" and t["as_of_date"] == AS_OF
    # Two readings: no own forecast measured yet → the store-wide median error of every
    # measured forecast: median(50 %, 25 % of V1; 25 % of K) = 25 % → 7.5 … 12.5 km/day.
    assert (t["forecast_errors_measured"], t["forecast_median_abs_error_km"]) == (0, None)
    assert (t["band_error_source"], t["forecast_error_pct"]) == ("store", pytest.approx(25.0))
    assert (t["daily_km_low"], t["daily_km_high"]) == (pytest.approx(7.5), pytest.approx(12.5))
    assert t["due_earliest_date"] == t["due_latest_date"] == D(2025, 1, 15)  # capped by time


def test_r_remind_mileage_wins_with_band_from_own_error(reminder_results):
    k = reminder_results["rem"][vin("K")]
    assert k["readings"] == 3
    assert k["daily_km"] == pytest.approx(90.0)
    # K's own past forecast: 36000 vs 34800 → 1200 km off over 4800 km driven = 25 %.
    assert (k["forecast_errors_measured"], k["band_error_source"]) == (1, "own")
    assert k["forecast_median_abs_error_km"] == pytest.approx(1200.0)
    assert k["forecast_error_pct"] == pytest.approx(25.0)
    assert (k["daily_km_low"], k["daily_km_high"]) == (pytest.approx(67.5), pytest.approx(112.5))
    # From 34800 on 2024-03-10 to 50000: 15200 km ÷ 90 = 168.9 → 169 days.
    assert (k["due_date"], k["due_reason"]) == (D(2024, 8, 26), "mileage")
    assert k["due_earliest_date"] == D(2024, 7, 24)  # 15200 ÷ 112.5 = 135.1 → 136 days
    assert k["due_latest_date"] == D(2024, 10, 22)  # 15200 ÷ 67.5 = 225.2 → 226 days
    assert k["time_due_date"] == D(2025, 1, 10)


# Own rates of the vehicles table: T 10, K 90, K2 50 → store median 50; a borrowed rate
# misses them by |50 − 10| ÷ 10 = 400 %, |50 − 90| ÷ 90 = 44.4 %, 0 % → median 4/9.
FALLBACK_ERROR = 4 / 9


def test_r_remind_first_service_with_model_fallback(reminder_results):
    rem = reminder_results["rem"]
    f = rem[vin("F")]
    assert f["is_first_service"] is True and f["readings"] == 0
    # Fewer than two readings: median own rate of model M-B = median(90, 50) = 70.
    assert f["rate_source"] == "model" and f["daily_km"] == pytest.approx(70.0)
    assert f["target_km"] == 5000
    assert f["time_due_date"] == D(2024, 8, 1)  # delivery + 3 months
    assert (f["due_date"], f["due_reason"]) == (D(2024, 7, 12), "mileage")  # 5000 ÷ 70 → 72 d
    assert f["band_error_source"] == "fallback"
    assert f["forecast_error_pct"] == pytest.approx(100 * FALLBACK_ERROR)
    assert f["daily_km_high"] == pytest.approx(70 * (1 + FALLBACK_ERROR))  # 101.1
    assert f["due_earliest_date"] == D(2024, 6, 20)  # 5000 ÷ 101.1 = 49.5 → 50 days
    assert f["due_latest_date"] == D(2024, 8, 1)  # 5000 ÷ 38.9 = 129 days, capped by time
    k2 = rem[vin("K2")]  # refunded maintenance is not a service
    assert k2["is_first_service"] is True and k2["daily_km"] == pytest.approx(50.0)
    assert (k2["due_date"], k2["due_reason"]) == (D(2024, 3, 1), "time")  # 70 days > 3 months


def test_r_remind_brand_override_and_store_fallback(reminder_results):
    rem = reminder_results["rem"]
    b = rem[vin("B")]  # Tesla: 12 months / 20000 km; no model → the store median, 50/day
    assert b["rate_source"] == "store" and b["daily_km"] == pytest.approx(50.0)
    # 20000 ÷ 50 = 400 days: 12 months come first.
    assert (b["due_date"], b["due_reason"], b["target_km"]) == (D(2025, 6, 1), "time", 20000)
    # band: 50 × (1 + 4/9) = 72.2 km/day → 277 days; the slow end is capped by time.
    assert b["due_earliest_date"] == D(2025, 3, 5)
    assert b["due_latest_date"] == D(2025, 6, 1)
    q = rem[vin("Q")]  # Fast: 6 months / 2000 km; 2000 ÷ 50 = 40 days
    assert (q["due_date"], q["due_reason"]) == (D(2024, 7, 11), "mileage")
    assert (q["due_earliest_date"], q["due_latest_date"]) == (D(2024, 6, 29), D(2024, 8, 12))
    n = rem[vin("N")]  # serviced without km: by time only
    assert n["target_km"] is None
    assert (n["due_date"], n["due_reason"]) == (D(2025, 2, 1), "time")


def test_r_vehicle_sold_no_reminder_and_trade_in_flag(reminder_results):
    rem = reminder_results["rem"]
    assert vin("S") not in rem and vin("Z") not in rem
    assert vin("X") not in rem  # not delivered yet
    assert len(rem) == 7
    flags = reminder_results["flags"]
    assert set(flags) == {"CS", "CT"}
    assert flags["CS"]["needs_trade_in_conversation"] is True
    assert flags["CS"]["sold_vehicles"] == 1
    assert flags["CT"]["needs_trade_in_conversation"] is False
    assert (flags["CT"]["active_vehicles"], flags["CT"]["scrapped_vehicles"]) == (1, 1)


def test_r_remind_forecast_error_on_past_readings(reminder_results):
    errors = reminder_results["errors"]
    v1 = vin("V1")
    # 3rd reading: rate 500/10 = 50 → 10500 + 500 = 11000 vs 11500.
    third = errors[(v1, D(2024, 1, 21))]
    assert third["forecast_km"] == pytest.approx(11000.0)
    assert third["error_km"] == pytest.approx(-500.0)
    assert third["abs_error_pct"] == pytest.approx(50.0)  # of 1000 km driven
    # 4th: rate 1500/20 = 75 → 11500 + 75 × 20 = 13000 vs 12700.
    fourth = errors[(v1, D(2024, 2, 10))]
    assert fourth["forecast_km"] == pytest.approx(13000.0)
    assert fourth["abs_error_km"] == pytest.approx(300.0)
    assert fourth["abs_error_pct"] == pytest.approx(25.0)
    # K's 3rd reading: 100/day × 60 days → 36000 vs 34800.
    assert errors[(vin("K"), D(2024, 3, 10))]["error_km"] == pytest.approx(1200.0)
    assert len(errors) == 3
    s = reminder_results["summary"]
    assert (s["readings_evaluated"], s["vehicles"]) == (3, 2)
    assert s["mean_abs_error_km"] == pytest.approx(2000.0 / 3)
    assert s["mean_abs_error_pct"] == pytest.approx(100.0 / 3)
    assert s["mean_error_km"] == pytest.approx(1000.0 / 3)


def test_kept_fleet_facts_give_the_same_reminders(backend):
    """Issue 11: the fleet's rates kept per vehicle and per reading — each vehicle's rows
    from its own orders only, so computed for some VINs and put together with the others' —
    give every reminder exactly what the whole store's orders give."""
    t = load_tables(
        backend,
        {
            "orders": make_table("service_orders", ORDERS),
            "vehicles": make_table("vehicles", VEHICLES),
        },
    )
    orders, vehicles = t["orders"], t["vehicles"]
    rates, errors = fleet_facts(orders, vehicles, as_of=AS_OF, config=CONFIG)
    got_rates = {r["vin"]: r for r in rates.to_pyarrow().to_pylist()}
    # Two readings or more: T (10 km/day), K (90), K2 (50); V1 is in no vehicle row, S has
    # one reading.
    assert set(got_rates) == {vin("T"), vin("K"), vin("K2")}
    assert got_rates[vin("K")]["own_rate"] == pytest.approx(90.0)
    assert got_rates[vin("T")]["own_rate"] == pytest.approx(10.0, rel=0.01)
    assert got_rates[vin("K")]["model"] == "M-B"
    # V1's measured readings count for the store's error although no vehicle row names it.
    assert {r["vin"] for r in errors.to_pyarrow().to_pylist()} >= {vin("V1")}

    # Per VIN: the facts of some VINs alone equal those VINs' rows of the whole store's.
    some = [vin("K"), vin("V1")]
    part_rates, part_errors = fleet_facts(
        orders.filter(orders.vin.isin(some)),
        vehicles.filter(vehicles.vin.isin(some)),
        as_of=AS_OF,
        config=CONFIG,
    )

    def rows(table, key):
        return sorted((r for r in table.to_pyarrow().to_pylist() if r["vin"] in some), key=key)

    assert rows(part_rates, lambda r: r["vin"]) == rows(rates, lambda r: r["vin"])
    by_reading = lambda r: (r["vin"], r["reading_date"])  # noqa: E731
    assert rows(part_errors, by_reading) == rows(errors, by_reading)

    # Every vehicle's reminder with the kept rates is the reminder of the whole store.
    whole = vehicle_reminders(orders, vehicles, as_of=AS_OF, config=CONFIG)
    kept = vehicle_reminders(
        orders, vehicles, as_of=AS_OF, config=CONFIG, fleet=kept_fleet(rates, errors)
    )
    columns = ["vin", "due_date", "daily_km", "daily_km_low", "rate_source", "forecast_error_pct"]
    want = sorted(whole.select(columns).to_pyarrow().to_pylist(), key=lambda r: r["vin"])
    have = sorted(kept.select(columns).to_pyarrow().to_pylist(), key=lambda r: r["vin"])
    assert have == want
    assert {r["rate_source"] for r in have} >= {"own", "model"}
