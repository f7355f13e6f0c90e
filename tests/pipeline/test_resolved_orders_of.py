"""``resolved_orders_of``: the resolved orders of some customers, narrowed before the join.

The rows must be exactly those of ``resolved_orders`` filtered by the resolved customer,
for every way an order finds its customer: its own id, its vehicle's owner when it names
none, another customer's vehicle under its own id, an unknown vehicle, no customer at all.
"""

from __future__ import annotations

import pytest

from aftercare.pipeline.staging import resolved_orders, resolved_orders_of
from aftercare.playbook.outcomes import winback_customers
from conftest import load_tables
from factories import make_table
from outcome_rows import make_actions, make_outcomes

VEHICLES = [
    {"vin": "V1", "customer_id": "C1"},
    {"vin": "V2", "customer_id": "C2"},
    {"vin": "V3", "customer_id": None},  # no owner known
]
ORDERS = [
    {"order_id": "O1", "customer_id": "C1", "vin": "V1", "open_date": "2024-01-01"},
    # No customer on the order: its vehicle's owner (C1).
    {"order_id": "O2", "customer_id": None, "vin": "V1", "open_date": "2024-02-01"},
    # C2 brought C1's car: the order's own customer wins (C2).
    {"order_id": "O3", "customer_id": "C2", "vin": "V1", "open_date": "2024-03-01"},
    # C1 with a vehicle the store does not know.
    {"order_id": "O4", "customer_id": "C1", "vin": "V9", "open_date": "2024-04-01"},
    # Nobody: no customer, an ownerless vehicle; and no vehicle at all.
    {"order_id": "O5", "customer_id": None, "vin": "V3", "open_date": "2024-05-01"},
    {"order_id": "O6", "customer_id": None, "vin": None, "open_date": "2024-06-01"},
    {"order_id": "O7", "customer_id": "C2", "vin": None, "open_date": "2024-07-01"},
    {"order_id": "O8", "customer_id": "C3", "vin": "V2", "open_date": "2024-08-01"},
]


def _ids(table) -> set[tuple[str, str | None]]:
    rows = table.select("order_id", "customer_id").to_pyarrow().to_pylist()
    return {(r["order_id"], r["customer_id"]) for r in rows}


@pytest.mark.parametrize("wanted", [["C1"], ["C2"], ["C1", "C2", "C3"], ["C9"], []])
def test_same_rows_as_filtering_every_resolved_order(backend, wanted):
    t = load_tables(
        backend,
        {
            "orders": make_table("service_orders", ORDERS),
            "vehicles": make_table("vehicles", VEHICLES),
        },
    )
    every = resolved_orders(t["orders"], t["vehicles"])
    expected = _ids(every.filter(every.customer_id.isin(wanted)))
    got = _ids(resolved_orders_of(t["orders"], t["vehicles"], wanted))
    assert got == expected
    # Hand-checked for C1: its own order, the ownerless-order of its car, its unknown car.
    if wanted == ["C1"]:
        assert got == {("O1", "C1"), ("O2", "C1"), ("O4", "C1")}


@pytest.mark.parametrize("wanted", [["C1"], ["C2"], ["C1", "C2", "C3"], ["C9"], []])
def test_a_column_of_ids_finds_the_rows_a_list_finds(backend, wanted):
    """Issue 11: the ids as a column (semi-joins on disjoint rows, no OR) narrow to the rows
    the literal list does, none when no customer is asked."""
    customers = [{"customer_id": c, "name": c} for c in wanted]
    t = load_tables(
        backend,
        {
            "orders": make_table("service_orders", ORDERS),
            "vehicles": make_table("vehicles", VEHICLES),
            "wanted": make_table("customers", customers),
        },
    )
    by_column = resolved_orders_of(t["orders"], t["vehicles"], t["wanted"].customer_id)
    assert _ids(by_column) == _ids(resolved_orders_of(t["orders"], t["vehicles"], wanted))


def test_narrowed_by_a_column_of_another_table(backend):
    # winback_customers' column, as the call list passes it: C2 has an outcome on a
    # win-back, C1 only on another rule's action, C3 a win-back without an outcome.
    actions = make_actions(
        [
            {"action_id": "W2", "rule_id": "A-WINBACK", "customer_id": "C2"},
            {"action_id": "M1", "rule_id": "A-MAINTENANCE", "customer_id": "C1"},
            {"action_id": "W3", "rule_id": "A-WINBACK", "customer_id": "C3"},
        ],
    )
    outcomes = make_outcomes(
        [
            {"outcome_id": "O-a", "action_id": "W2", "result": "declined",
             "recorded_at": "2024-09-01T10:00:00"},
            {"outcome_id": "O-b", "action_id": "W2", "result": "no_answer",
             "recorded_at": "2024-09-02T10:00:00"},
            {"outcome_id": "O-c", "action_id": "M1", "result": "booked",
             "recorded_at": "2024-09-01T10:00:00"},
        ],
    )  # fmt: skip
    t = load_tables(
        backend,
        {
            "orders": make_table("service_orders", ORDERS),
            "vehicles": make_table("vehicles", VEHICLES),
            "actions": actions,
            "outcomes": outcomes,
        },
    )
    tried = winback_customers(t["actions"], t["outcomes"])
    assert sorted(tried.to_pyarrow().column("customer_id").to_pylist()) == ["C2"]
    got = _ids(resolved_orders_of(t["orders"], t["vehicles"], tried.customer_id))
    assert got == {("O3", "C2"), ("O7", "C2")}
