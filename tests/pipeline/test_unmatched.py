"""R-IN-6: records whose customer or vehicle is not (yet) known, on every backend."""

from __future__ import annotations

from aftercare.pipeline.unmatched import unmatched_records
from conftest import load_tables
from factories import make_table

VIN_KNOWN = "LSVAA4182E2000001"
VIN_UNKNOWN = "LSVAA4182E2000002"


def _tables(backend):
    return load_tables(
        backend,
        {
            "customers": make_table("customers", [{"customer_id": "C1"}]),
            "vehicles": make_table(
                "vehicles",
                [
                    {"vin": VIN_KNOWN, "customer_id": "C1"},
                    {"vin": "LSVAA4182E2000003", "customer_id": "C9"},  # owner unknown
                ],
            ),
            "service_orders": make_table(
                "service_orders",
                [
                    {"order_id": "R1", "vin": VIN_KNOWN, "open_date": "2024-01-05"},  # via VIN
                    {"order_id": "R2", "customer_id": "C1", "open_date": "2024-01-06"},
                    {"order_id": "R3", "vin": VIN_UNKNOWN, "open_date": "2024-01-07"},
                    {"order_id": "R4", "customer_id": "C7", "open_date": "2024-01-08"},
                    {"order_id": "R5", "customer_id": "C1", "vin": VIN_UNKNOWN},
                ],
            ),
            "declined_services": make_table(
                "declined_services",
                [
                    {"order_id": "R1", "customer_id": "C1", "vin": VIN_KNOWN},
                    {"order_id": "R2", "customer_id": None, "vin": VIN_UNKNOWN},
                    {"order_id": "R3", "customer_id": "C8", "vin": None},
                ],
            ),
        },
    )


def _ids(table, column: str) -> list[str]:
    return sorted(table.select(column).to_pyarrow().column(column).to_pylist())


def test_unmatched_records_per_table(backend):
    t = _tables(backend)
    known = {"customers": t["customers"], "vehicles": t["vehicles"]}
    orders = unmatched_records("service_orders", t["service_orders"], **known)
    assert _ids(orders, "order_id") == ["R3", "R4", "R5"]
    vehicles = unmatched_records("vehicles", t["vehicles"], **known)
    assert _ids(vehicles, "vin") == ["LSVAA4182E2000003"]
    declined = unmatched_records("declined_services", t["declined_services"], **known)
    assert _ids(declined, "order_id") == ["R2", "R3"]
    assert unmatched_records("customers", t["customers"], **known) is None
