"""Customers as of a date, and snapshots that hold only them (R-TIER-HIST, issue 9 item 9).

A hand-made service centre scored at two dates, 2024-03-31 and 2024-06-30; every expectation
below is computed by hand from the rows. A customer exists from ``created_at``, else from their
first order (own, else via their vehicle), delivery or interaction; with neither, from the start.
"""

from __future__ import annotations

import datetime as dt

import pytest

from aftercare.config import DEFAULT_CONFIG
from aftercare.pipeline.history import migration_matrix, tier_moves, with_previous_tier
from aftercare.pipeline.inputs import CanonicalTables
from aftercare.pipeline.marts import wire_marts
from aftercare.pipeline.population import customer_since, customers_as_of
from aftercare.pipeline.scoring import score_customers
from aftercare.playbook.kpis import growth_value_added_penetration
from conftest import load_tables
from factories import make_table

EARLY = dt.date(2024, 3, 31)
LATE = dt.date(2024, 6, 30)
D = dt.date.fromisoformat

CUSTOMERS = [
    {"customer_id": "early", "created_at": "2024-01-10"},
    {"customer_id": "on_the_day", "created_at": "2024-03-31"},
    {"customer_id": "late", "created_at": "2024-05-15"},
    # created_at is the record's word, even against an earlier order of its own.
    {"customer_id": "late_record", "created_at": "2024-05-15"},
    {"customer_id": "undated_via_vin"},  # first event: an order on its car, 2024-03-01
    {"customer_id": "undated_talk"},  # first event: an interaction late on 2024-03-31
    {"customer_id": "undated_late"},  # first event: its own order, 2024-04-01
    {"customer_id": "undated_delivery"},  # first event: its car's delivery, 2024-06-30
    {"customer_id": "undated_owner"},  # an order on its car carries another customer
    {"customer_id": "no_date"},  # nothing at all: there from the start
    # A second-hand car delivered years before its owner came (growth stage at both dates).
    {"customer_id": "used_car", "created_at": "2024-05-15"},
]
VEHICLES = [
    {"vin": "VINEARLY000000001", "customer_id": "early", "delivery_date": "2024-01-10"},
    {"vin": "VINLATE0000000001", "customer_id": "late", "delivery_date": "2024-05-15"},
    {"vin": "VINVIA00000000001", "customer_id": "undated_via_vin", "delivery_date": "2024-04-02"},
    {"vin": "VINDELIV000000001", "customer_id": "undated_delivery", "delivery_date": "2024-06-30"},
    {"vin": "VINOWNER000000001", "customer_id": "undated_owner", "delivery_date": "2024-05-01"},
    {"vin": "VINUSED0000000001", "customer_id": "used_car", "delivery_date": "2021-01-01"},
]
ORDERS = [
    {"order_id": "o1", "vin": "VINEARLY000000001", "open_date": "2024-03-20", "total_amount": 800},
    {"order_id": "o2", "vin": "VINLATE0000000001", "open_date": "2024-06-01", "total_amount": 900},
    {"order_id": "o3", "customer_id": "late_record", "open_date": "2024-02-01", "total_amount": 50},
    {"order_id": "o4", "vin": "VINVIA00000000001", "open_date": "2024-03-01", "total_amount": 300},
    {
        "order_id": "o5",
        "customer_id": "undated_late",
        "open_date": "2024-04-01",
        "total_amount": 70,
    },
    # On undated_owner's car, but the order names "early": it is early's, not the owner's.
    {
        "order_id": "o6",
        "vin": "VINOWNER000000001",
        "customer_id": "early",
        "open_date": "2024-02-01",
        "total_amount": 60,
    },
]
INTERACTIONS = [
    {
        "interaction_id": "i1",
        "customer_id": "undated_talk",
        "ts": "2024-03-31T23:30:00",
        "type": "praise",
    },
]

#: Hand-computed (created_at, first_event_date, since_date) per customer.
SINCE: dict[str, tuple[str | None, str | None, str | None]] = {
    "early": ("2024-01-10", "2024-01-10", "2024-01-10"),  # delivery and created the same day
    "on_the_day": ("2024-03-31", None, "2024-03-31"),
    "late": ("2024-05-15", "2024-05-15", "2024-05-15"),
    "late_record": ("2024-05-15", "2024-02-01", "2024-05-15"),
    "undated_via_vin": (None, "2024-03-01", "2024-03-01"),
    "undated_talk": (None, "2024-03-31", "2024-03-31"),
    "undated_late": (None, "2024-04-01", "2024-04-01"),
    "undated_delivery": (None, "2024-06-30", "2024-06-30"),
    "undated_owner": (None, "2024-05-01", "2024-05-01"),
    "no_date": (None, None, None),
    "used_car": ("2024-05-15", "2021-01-01", "2024-05-15"),
}
AT_EARLY = {"early", "on_the_day", "undated_via_vin", "undated_talk", "no_date"}
AT_LATE = set(SINCE)
NEW_AT_LATE = AT_LATE - AT_EARLY


@pytest.fixture(scope="module")
def tables(backend) -> dict:
    return load_tables(
        backend,
        {
            "customers": make_table("customers", CUSTOMERS),
            "vehicles": make_table("vehicles", VEHICLES),
            "service_orders": make_table("service_orders", ORDERS),
            "interactions": make_table("interactions", INTERACTIONS),
            "declined_services": make_table("declined_services", []),
            "advisors": make_table("advisors", []),
        },
    )


def _args(t: dict) -> tuple:
    return t["customers"], t["service_orders"], t["vehicles"], t["interactions"]


def _opt(value: str | None) -> dt.date | None:
    return D(value) if value else None


def test_r_tier_hist_customer_since(tables):
    rows = customer_since(*_args(tables)).to_pyarrow().to_pylist()
    got = {
        r["customer_id"]: (r["created_at"], r["first_event_date"], r["since_date"]) for r in rows
    }
    assert got == {k: tuple(_opt(v) for v in vs) for k, vs in SINCE.items()}


@pytest.mark.parametrize(("as_of", "expected"), [(EARLY, AT_EARLY), (LATE, AT_LATE)])
def test_r_tier_hist_customers_as_of(tables, as_of, expected):
    kept = customers_as_of(*_args(tables), as_of=as_of).to_pyarrow()
    assert sorted(kept.column("customer_id").to_pylist()) == sorted(expected)
    assert kept.schema.names == list(tables["customers"].schema().names)  # every column kept


def _scores(tables: dict, as_of: dt.date):
    c, o, v, i = _args(tables)
    return score_customers(c, v, o, i, as_of=as_of, config=DEFAULT_CONFIG)


def test_r_tier_hist_snapshot_holds_only_existing_customers(tables):
    early = _scores(tables, EARLY).to_pyarrow()
    assert sorted(early.column("customer_id").to_pylist()) == sorted(AT_EARLY)
    late = _scores(tables, LATE).to_pyarrow()
    assert sorted(late.column("customer_id").to_pylist()) == sorted(AT_LATE)


def test_r_tier_hist_new_customers_move_new_and_fill_the_new_row(tables):
    early, late = _scores(tables, EARLY), _scores(tables, LATE)
    moves = {
        r["customer_id"]: (r["previous_tier"], r["move"])
        for r in tier_moves(early, late, config=DEFAULT_CONFIG).to_pyarrow().to_pylist()
    }
    for cid in NEW_AT_LATE:
        assert moves[cid] == (None, "new"), cid
    assert all(moves[cid][1] != "new" for cid in AT_EARLY)
    matrix = migration_matrix(early, late).to_pyarrow().to_pylist()
    new_row = sum(r["customers"] for r in matrix if r["from_tier"] is None)
    assert new_row == len(NEW_AT_LATE) == 6
    assert all(r["move"] == "new" for r in matrix if r["from_tier"] is None)
    stored = with_previous_tier(late, early).to_pyarrow().to_pylist()
    assert {r["customer_id"] for r in stored if r["move"] == "new"} == NEW_AT_LATE


def test_r_tier_hist_customer_created_in_between_scored_as_usual(tables):
    """Once they exist, a customer is scored as any other (their visits, their spend)."""
    late = {r["customer_id"]: r for r in _scores(tables, LATE).to_pyarrow().to_pylist()}
    # late: one 900.00 visit 29 days before → R5, F1 → 2, M 900 → 1, no loyalty → 8 silver.
    assert (late["late"]["recency_days"], late["late"]["total_score"]) == (29, 8)
    assert late["late"]["tier"] == "silver"


#: Customers with a vehicle delivered by the date, among those existing then (R-LIFE).
LIFECYCLE_AT = {
    EARLY: {"early"},  # used_car's 2021 car is not counted: its owner came in May
    LATE: {"early", "late", "undated_via_vin", "undated_delivery", "undated_owner", "used_car"},
}


@pytest.mark.parametrize("as_of", [EARLY, LATE])
def test_r_tier_hist_marts_count_only_customers_of_the_date(tables, as_of):
    """Churn risk and lifecycle stages of a past date leave out customers who came later."""
    marts = wire_marts(
        CanonicalTables(**tables),
        _scores(tables, as_of),
        as_of=as_of,
        config=DEFAULT_CONFIG,
    )
    risk = set(marts.risk.to_pyarrow().column("customer_id").to_pylist())
    assert risk == (AT_EARLY if as_of == EARLY else AT_LATE)
    stages = marts.lifecycle.to_pyarrow().to_pylist()
    assert {r["customer_id"] for r in stages} == LIFECYCLE_AT[as_of]
    value = set(marts.value.to_pyarrow().column("customer_id").to_pylist())
    assert value == (AT_EARLY if as_of == EARLY else AT_LATE)


@pytest.mark.parametrize(("as_of", "growth"), [(EARLY, 0), (LATE, 1)])
def test_r_tier_hist_growth_kpi_denominator_of_the_date(tables, as_of, growth):
    """used_car's car (delivered 2021-01-01) is 3 years old at both dates: growth stage, but
    its owner only counts from 2024-05-15."""
    c, o, v, i = _args(tables)
    row = (
        growth_value_added_penetration(
            o,
            v,
            month_end=as_of,
            lifecycle=DEFAULT_CONFIG.lifecycle,
            window_days=365,
            customers=customers_as_of(c, o, v, i, as_of=as_of),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    assert row["growth_customers"] == growth
