"""``tables_of_customers``: what some customers' figures read, on every engine (issue 11).

Their own rows; every order and declined quote of theirs or on their vehicles, whoever
brought the car in; nothing of anyone else's cars; every advisor.
"""

from __future__ import annotations

import ibis

from aftercare.pipeline.subset import tables_of_customers
from aftercare.schema.canonical import SYSTEM_COLUMNS, table_spec
from conftest import canonical_of, load_tables
from factories import make_table

CUSTOMERS = [{"customer_id": c, "name": c} for c in ("C1", "C2", "C3")]
VEHICLES = [
    {"vin": "V1", "customer_id": "C1"},
    {"vin": "V2", "customer_id": "C2"},
    {"vin": "V3", "customer_id": None},
]
ORDERS = [
    {"order_id": "O1", "customer_id": "C1", "vin": "V1", "open_date": "2024-01-01"},
    {"order_id": "O2", "customer_id": "C2", "vin": "V1", "open_date": "2024-02-01"},  # C1's car
    {"order_id": "O3", "customer_id": None, "vin": "V1", "open_date": "2024-03-01"},
    {"order_id": "O4", "customer_id": "C1", "vin": "V2", "open_date": "2024-04-01"},  # C2's car
    {"order_id": "O5", "customer_id": "C2", "vin": "V2", "open_date": "2024-05-01"},
    {"order_id": "O6", "customer_id": None, "vin": "V3", "open_date": "2024-06-01"},
    {"order_id": "O7", "customer_id": None, "vin": None, "open_date": "2024-07-01"},
]
DECLINED = [
    {"order_id": "O2", "customer_id": None, "vin": "V1", "item": "brakes",
     "declined_date": "2024-02-01"},
    {"order_id": "O5", "customer_id": "C2", "vin": "V2", "item": "tyres",
     "declined_date": "2024-05-01"},
    {"order_id": "O4", "customer_id": "C1", "vin": "V2", "item": "wipers",
     "declined_date": "2024-04-01"},
]  # fmt: skip
INTERACTIONS = [
    {"interaction_id": "I1", "customer_id": "C1", "ts": "2024-01-02 10:00:00", "type": "call"},
    {"interaction_id": "I2", "customer_id": "C2", "ts": "2024-01-03 10:00:00", "type": "call"},
]
ADVISORS = [{"advisor_id": "A1", "name": "A1"}]


def _ids(table: ibis.Table, column: str) -> set[str]:
    return set(table.select(column).to_pyarrow().column(column).to_pylist())


def _loaded(backend) -> dict[str, ibis.Table]:
    """The tables above on ``backend``, and ``wanted``: customer C1."""
    return load_tables(
        backend,
        {
            "customers": make_table("customers", CUSTOMERS),
            "vehicles": make_table("vehicles", VEHICLES),
            "orders": make_table("service_orders", ORDERS),
            "declined": make_table("declined_services", DECLINED),
            "interactions": make_table("interactions", INTERACTIONS),
            "advisors": make_table("advisors", ADVISORS),
            "wanted": make_table("customers", [{"customer_id": "C1", "name": "C1"}]),
        },
    )


def test_the_tables_some_customers_read(backend):
    t = _loaded(backend)
    tables = canonical_of(t)
    c1 = tables_of_customers(tables, t["wanted"].select("customer_id"))
    assert _ids(c1.customers, "customer_id") == {"C1"}
    assert _ids(c1.vehicles, "vin") == {"V1"}
    # Theirs (O1, O4 on C2's car) and every order on their car (O2 by C2, O3 by nobody).
    assert _ids(c1.service_orders, "order_id") == {"O1", "O2", "O3", "O4"}
    assert _ids(c1.declined_services, "item") == {"brakes", "wipers"}
    assert _ids(c1.interactions, "interaction_id") == {"I1"}
    assert _ids(c1.advisors, "advisor_id") == {"A1"}


def test_the_narrowed_tables_leave_out_what_no_figure_reads(backend):
    """Issue 11: the orders, declined quotes and interactions of the planned customers come
    without lineage and raw-text columns (a plan keeping the narrowed rows carried them: a
    fifth of the night's staging statement's CPU at 1M customers); every other column stays."""
    t = _loaded(backend)
    tables = canonical_of(t)
    narrowed = tables_of_customers(tables, t["wanted"].select("customer_id"))
    for name in ("service_orders", "declined_services", "interactions"):
        unread = {c for c, _ in SYSTEM_COLUMNS} | set(table_spec(name).raw_text_columns)
        whole, kept = getattr(tables, name).columns, getattr(narrowed, name).columns
        assert unread <= set(whole)
        assert list(kept) == [c for c in whole if c not in unread]
    assert "row_hash" in narrowed.customers.columns  # the others are kept whole
