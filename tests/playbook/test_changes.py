"""Which customers' plans the data changed since the engine's last run (issue 11).

Hand-made tables on every engine an engine run uses: the rows a load wrote or replaced
(with the owners of their vehicles and a vehicle's previous owner), rows dated in the
range (bounds: after exclusive, through inclusive), outcomes and preferences logged since,
and score rows that changed in what the plan reads.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa
import pytest

from aftercare.playbook import changes
from aftercare.schema.playbook import (
    ACTION_OUTCOMES,
    ACTIONS,
    CONTACT_PREFERENCES,
    ENGINE_CUSTOMERS,
)
from aftercare.schema.snapshots import CUSTOMER_SCORES
from aftercare.schema.system import ROW_HISTORY
from aftercare.services.incremental import PLAN_SCORE_COLUMNS
from conftest import canonical_of, load_tables
from factories import make_table

OLD, NEW = "L-old", "L-new"
CUSTOMERS = [{"customer_id": c, "name": c, "load_id": OLD} for c in ("C1", "C2", "C3", "C4")]
VEHICLES = [
    {"vin": "V1", "customer_id": "C1", "load_id": OLD, "delivery_date": "2023-01-01"},
    # V2 changed hands: C4 had it (row_history), C2 has it now (the new load).
    {"vin": "V2", "customer_id": "C2", "load_id": NEW, "delivery_date": "2024-03-02"},
]
ORDERS = [
    {"order_id": "O1", "customer_id": "C3", "vin": "V1", "open_date": "2024-01-01",
     "load_id": NEW},  # C3 brought C1's car in: both
    {"order_id": "O2", "customer_id": "C3", "vin": None, "open_date": "2024-03-01",
     "close_date": "2024-03-03", "load_id": OLD},  # closed in the range
    {"order_id": "O3", "customer_id": "C1", "vin": "V1", "open_date": "2024-03-05",
     "load_id": OLD},  # opened after the range
]  # fmt: skip
DECLINED = [
    {"order_id": "O9", "customer_id": None, "vin": "V1", "item": "brakes",
     "declined_date": "2024-03-02", "load_id": OLD},
]  # fmt: skip
INTERACTIONS = [
    {"interaction_id": "I1", "customer_id": "C4", "ts": "2024-03-04 23:59:00", "type": "call",
     "load_id": OLD},  # the range's last day
    {"interaction_id": "I2", "customer_id": "C3", "ts": "2024-03-01 08:00:00", "type": "call",
     "load_id": OLD},  # the day the range starts after
]  # fmt: skip


def _arrow(schema: ibis.Schema, rows: list[dict]) -> pa.Table:
    target = schema.to_pyarrow()
    return pa.Table.from_pylist([{k: r.get(k) for k in target.names} for r in rows], schema=target)


@pytest.fixture
def tables(backend):
    if backend.name == "pyspark":
        pytest.skip("engine runs (and their change tracking) need DuckDB or PostgreSQL")
    history = [
        {"load_id": NEW, "table_name": "vehicles", "natural_key": "V2",
         "old_record": '{"vin": "V2", "customer_id": "C4"}'},
        {"load_id": OLD, "table_name": "vehicles", "natural_key": "V1",
         "old_record": '{"vin": "V1", "customer_id": "C9"}'},  # seen before: not new
    ]  # fmt: skip
    t = load_tables(
        backend,
        {
            "customers": make_table("customers", CUSTOMERS),
            "vehicles": make_table("vehicles", VEHICLES),
            "orders": make_table("service_orders", ORDERS),
            "declined": make_table("declined_services", DECLINED),
            "interactions": make_table("interactions", INTERACTIONS),
            "advisors": make_table("advisors", [{"advisor_id": "A1", "name": "A1"}]),
            "history": _arrow(ROW_HISTORY, history),
            "new_loads": pa.table({"load_id": [NEW]}),
        },
    )
    canonical = canonical_of(t)
    return canonical, t


def _ids(table: ibis.Table) -> set[str]:
    return set(table.to_pyarrow().column("customer_id").to_pylist())


def test_rows_a_new_load_wrote_or_replaced(tables):
    canonical, t = tables
    got = _ids(changes.stored_since(canonical, t["history"], t["new_loads"]))
    # O1: C3 and V1's owner C1; V2's new owner C2 and its previous owner C4 (row_history).
    assert got == {"C1", "C2", "C3", "C4"}


def test_rows_dated_in_the_range(tables):
    canonical, _ = tables
    got = _ids(
        changes.dated_since(canonical, after=dt.date(2024, 3, 1), through=dt.date(2024, 3, 4))
    )
    # O2 closed 03-03 (C3); V2 delivered 03-02 (C2); the quote on V1 (owner C1) 03-02; I1 on
    # 03-04 (C4). Not: O3 (03-05), I2 (03-01, the range starts after it).
    assert got == {"C1", "C2", "C3", "C4"}
    none = changes.dated_since(canonical, after=dt.date(2024, 3, 5), through=dt.date(2024, 3, 5))
    assert _ids(none) == set()
    only_o3 = changes.dated_since(canonical, after=dt.date(2024, 3, 4), through=dt.date(2024, 3, 5))
    assert _ids(only_o3) == {"C1"}


def test_outcomes_and_preferences_logged_since(backend):
    if backend.name == "pyspark":
        pytest.skip("engine runs (and their change tracking) need DuckDB or PostgreSQL")
    actions = [{"action_id": "A1", "customer_id": "C1"}, {"action_id": "A2", "customer_id": "C2"}]
    outcomes = [
        {"outcome_id": "X1", "action_id": "A1", "result": "reached"},
        {"outcome_id": "X2", "action_id": "A1", "result": "booked"},
        {"outcome_id": "X3", "action_id": "A2", "result": "reached"},
    ]
    prefs = [{"customer_id": "C3", "do_not_contact": True, "source": "s"}]
    seen = [
        {"customer_id": "C1", "outcomes": 1, "preferences": 0},  # one outcome since
        {"customer_id": "C2", "outcomes": 1, "preferences": 0},  # nothing since
        {"customer_id": "C4", "outcomes": 0, "preferences": 0, "wake_on": dt.date(2024, 1, 1)},
    ]
    t = load_tables(
        backend,
        {
            "actions": _arrow(ACTIONS, actions),
            "outcomes": _arrow(ACTION_OUTCOMES, outcomes),
            "prefs": _arrow(CONTACT_PREFERENCES, prefs),
            "seen": _arrow(ENGINE_CUSTOMERS, seen),
        },
    )
    counts = changes.logged_counts(t["actions"], t["outcomes"], t["prefs"])
    got = {
        r["customer_id"]: (r["outcomes"], r["preferences"]) for r in counts.to_pyarrow().to_pylist()
    }
    assert got == {"C1": (2, 0), "C2": (1, 0), "C3": (0, 1)}
    assert _ids(changes.logged_since(counts, t["seen"])) == {"C1", "C3"}


def test_scores_that_changed_in_what_the_plan_reads(backend):
    if backend.name == "pyspark":
        pytest.skip("engine runs (and their change tracking) need DuckDB or PostgreSQL")

    def row(customer, day, tier, recency, previous=None, move="same"):
        return {"as_of_date": day, "customer_id": customer, "tier": tier,
                "recency_days": recency, "previous_tier": previous, "move": move}  # fmt: skip

    d1, d2 = dt.date(2024, 3, 1), dt.date(2024, 3, 2)
    before = [row("C1", d1, "gold", 10), row("C2", d1, "gold", 10), row("C3", d1, "silver", 5),
              row("C5", d1, "regular", 1), row("C6", d1, "silver", 2, "gold", "down")]  # fmt: skip
    after = [row("C1", d2, "gold", 11),  # only the recency: not a plan's change
             row("C2", d2, "silver", 11, "gold", "down"),  # tier and move
             row("C3", d2, "silver", 6, None, "same"),
             row("C4", d2, "regular", 1, None, "new"),
             # moved the day before, not today: previous tier and move differ, the tier not
             row("C6", d2, "silver", 3, "silver", "same")]  # fmt: skip
    t = load_tables(
        backend,
        {"before": _arrow(CUSTOMER_SCORES, before), "after": _arrow(CUSTOMER_SCORES, after)},
    )
    got = _ids(changes.scored_since(t["before"], t["after"], PLAN_SCORE_COLUMNS))
    assert got == {"C2", "C4", "C5"}  # C4 new, C5 gone; C6's move of the day before is gone
    every = ("tier", "previous_tier", "move", "recency_days")
    assert _ids(changes.scored_since(t["before"], t["after"], every)) == {
        "C1", "C2", "C3", "C4", "C5", "C6"
    }  # fmt: skip
