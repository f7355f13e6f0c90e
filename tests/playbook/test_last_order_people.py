"""R-ACT-ADVISOR's fallback: each customer's latest order naming an advisor, on every engine.

The latest is the greatest ``open_date``, then the greatest ``order_id``; an order naming no
advisor is passed over, and its store with it.
"""

from __future__ import annotations

from aftercare.playbook.engine import _last_order_people
from conftest import load_tables
from factories import make_table

ORDERS = [
    # C1: two orders on its latest day: the greater id wins.
    {"order_id": "O1", "customer_id": "C1", "open_date": "2024-05-01", "advisor_id": "A1",
     "store_id": "S1"},
    {"order_id": "O3", "customer_id": "C1", "open_date": "2024-05-01", "advisor_id": "A3",
     "store_id": "S3"},
    {"order_id": "O9", "customer_id": "C1", "open_date": "2024-04-01", "advisor_id": "A9",
     "store_id": "S9"},
    # C2: the latest order names no advisor: the one before it counts, store NULL kept.
    {"order_id": "O4", "customer_id": "C2", "open_date": "2024-06-01", "store_id": "S4"},
    {"order_id": "O5", "customer_id": "C2", "open_date": "2024-03-01", "advisor_id": "A5"},
    # C3: no advisor on any order: no row.
    {"order_id": "O6", "customer_id": "C3", "open_date": "2024-06-01", "advisor_id": None},
    # No customer: no row.
    {"order_id": "O7", "customer_id": None, "open_date": "2024-06-01", "advisor_id": "A7"},
]  # fmt: skip


def test_latest_order_naming_an_advisor_per_customer(backend):
    t = load_tables(backend, {"orders": make_table("service_orders", ORDERS)})
    rows = _last_order_people(t["orders"]).to_pyarrow().to_pylist()
    got = {r["o_customer_id"]: (r["last_order_advisor_id"], r["last_order_store_id"]) for r in rows}
    assert got == {"C1": ("A3", "S3"), "C2": ("A5", None)}
