"""R-IN-6: records whose customer or vehicle is not (yet) known, on every backend."""

from __future__ import annotations

import re

import ibis
import pytest

from aftercare.pipeline.staging import resolved_orders
from aftercare.pipeline.unmatched import unmatched_records
from aftercare.schema import table_spec
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


#: Known customers and VINs: none NULL, one NULL among them, or none at all. ``NOT (x IN S)``
#: is NULL (not reported) for an x not in an S holding a NULL, and TRUE for every x, a NULL
#: one too, when S is empty: the counts have always followed these rules and keep them.
KNOWN_SETS = {
    "plain": (["C1", "C2"], [("V1", "C1"), ("V2", "C9"), ("V3", None)]),
    "null_in_known": (["C1", None], [("V1", "C1"), ("V2", "C9"), (None, "C1")]),
    "empty": ([], []),
}

#: Rows checked against each known set: matched, unmatched and NULL keys.
VEHICLE_ROWS = [("V1", "C1"), ("V2", "C9"), ("V3", None)]
ORDER_ROWS = [  # order_id, customer_id, vin
    ("O1", "C1", None),  # known customer
    ("O2", None, "V1"),  # customer through a known VIN
    ("O3", None, None),  # no customer at all
    ("O4", None, "V3"),  # a known VIN with no owner
    ("O5", "C7", None),  # unknown customer
    ("O6", "C1", "VX"),  # known customer, unknown VIN
    ("O7", None, "VX"),  # unknown VIN, no customer
    ("O8", "C2", "V2"),  # own customer wins over the VIN's owner
    ("O9", None, "V2"),  # customer through a VIN, an unknown one
]
DECLINED_ROWS = [("D1", "C1", "V1"), ("D2", None, None), ("D3", None, "VX"), ("D4", "C8", None)]
INTERACTION_ROWS = [("I1", "C1"), ("I2", "C5"), ("I3", None)]

#: What each table's unmatched records are, per known set (the figures of the NOT IN
#: filters the counts were first written with, on all three engines).
EXPECTED = {
    "plain": {
        "vehicles": ["V2"],
        "service_orders": ["O3", "O4", "O5", "O6", "O7", "O9"],
        "declined_services": ["D3", "D4"],
        "interactions": ["I2"],
    },
    "null_in_known": {
        "vehicles": [],
        "service_orders": ["O3", "O4", "O7"],
        "declined_services": [],
        "interactions": [],
    },
    "empty": {
        "vehicles": ["V1", "V2", "V3"],
        "service_orders": ["O1", "O2", "O3", "O4", "O5", "O6", "O7", "O8", "O9"],
        "declined_services": ["D1", "D3", "D4"],
        "interactions": ["I1", "I2", "I3"],
    },
}


def _edge_tables(backend, known: str):
    customer_ids, known_vehicles = KNOWN_SETS[known]
    return load_tables(
        backend,
        {
            "customers": make_table("customers", [{"customer_id": c} for c in customer_ids]),
            "known_vehicles": make_table(
                "vehicles", [{"vin": v, "customer_id": c} for v, c in known_vehicles]
            ),
            "vehicles": make_table(
                "vehicles", [{"vin": v, "customer_id": c} for v, c in VEHICLE_ROWS]
            ),
            "service_orders": make_table(
                "service_orders",
                [{"order_id": o, "customer_id": c, "vin": v} for o, c, v in ORDER_ROWS],
            ),
            "declined_services": make_table(
                "declined_services",
                [{"order_id": o, "customer_id": c, "vin": v} for o, c, v in DECLINED_ROWS],
            ),
            "interactions": make_table(
                "interactions",
                [{"interaction_id": i, "customer_id": c} for i, c in INTERACTION_ROWS],
            ),
        },
    )


@pytest.mark.parametrize("known", sorted(KNOWN_SETS))
def test_unmatched_records_follow_sql_null_rules(backend, known):
    """NULL keys, a NULL among the known keys and an empty known set give the NOT IN figures."""
    t = _edge_tables(backend, known)
    ids = {
        "vehicles": "vin",
        "service_orders": "order_id",
        "declined_services": "order_id",
        "interactions": "interaction_id",
    }
    for table, id_column in ids.items():
        found = unmatched_records(
            table, t[table], customers=t["customers"], vehicles=t["known_vehicles"]
        )
        assert found is not None
        assert found.columns == _expected_columns(table, t), table
        assert _ids(found, id_column) == EXPECTED[known][table], table
        assert int(found.count().to_pyarrow().as_py()) == len(EXPECTED[known][table]), table


def _expected_columns(table: str, t) -> tuple[str, ...]:
    if table == "service_orders":
        return resolved_orders(t[table], t["known_vehicles"]).columns
    return t[table].columns


def test_unmatched_count_compiles_to_no_not_in_subquery():
    """PostgreSQL runs NOT (x IN (SELECT …)) row by row once the set outgrows work_mem."""
    customers = ibis.table(table_spec("customers").ibis_schema(), name="customers")
    vehicles = ibis.table(table_spec("vehicles").ibis_schema(), name="vehicles")
    for table in ("vehicles", "service_orders", "declined_services", "interactions"):
        rows = ibis.table(table_spec(table).ibis_schema(), name=table)
        found = unmatched_records(table, rows, customers=customers, vehicles=vehicles)
        assert found is not None
        sql = ibis.to_sql(found.count(), dialect="postgres")
        assert not re.search(r"\bNOT\b.*\bIN\s*\(\s*SELECT\b", sql, re.I | re.S), sql
