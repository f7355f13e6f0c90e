"""R-REMIND with the SPEC default config (no per-brand first-service overrides)."""

from __future__ import annotations

import datetime as dt

from aftercare.config import DEFAULT_CONFIG
from aftercare.pipeline.reminders import vehicle_reminders
from aftercare.pipeline.staging import resolved_orders
from conftest import load_tables
from factories import make_table

VIN_NEW = "LSVAA4182E2000001"
VIN_OLD = "LSVAA4182E2000002"


def test_default_config_first_service_and_maintenance(backend):
    t = load_tables(
        backend,
        {
            "vehicles": make_table(
                "vehicles",
                [
                    {"vin": VIN_NEW, "customer_id": "C1", "delivery_date": "2024-01-10"},
                    {"vin": VIN_OLD, "customer_id": "C2", "delivery_date": "2020-01-10"},
                ],
            ),
            "orders": make_table(
                "service_orders",
                [
                    {
                        "order_id": "O1",
                        "vin": VIN_OLD,
                        "open_date": "2024-02-01",
                        "category": "maintenance",
                        "odometer_km": 40000,
                        "total_amount": 500,
                    }
                ],
            ),
        },
    )
    orders = resolved_orders(t["orders"], t["vehicles"])
    rows = {
        r["vin"]: r
        for r in vehicle_reminders(
            orders, t["vehicles"], as_of="2024-03-01", config=DEFAULT_CONFIG.reminders
        )
        .to_pyarrow()
        .to_pylist()
    }
    # never serviced: first service at delivery + 3 months (no readings to forecast 5000 km)
    assert rows[VIN_NEW]["is_first_service"]
    assert rows[VIN_NEW]["time_due_date"] == dt.date(2024, 4, 10)
    assert rows[VIN_NEW]["target_km"] == 5000
    # serviced at 40000 km: next by time 12 months later, target 60000 km
    assert not rows[VIN_OLD]["is_first_service"]
    assert rows[VIN_OLD]["time_due_date"] == dt.date(2025, 2, 1)
    assert rows[VIN_OLD]["target_km"] == 60000
    # No vehicle has two readings: no own, model or store rate → the config's 40 km/day,
    # and no band (no error could be measured).
    assert rows[VIN_OLD]["rate_source"] == "config"
    assert rows[VIN_OLD]["daily_km"] == 40.0
    assert rows[VIN_OLD]["band_error_source"] is None
    assert rows[VIN_OLD]["due_earliest_date"] is None
    assert rows[VIN_OLD]["due_latest_date"] is None
