"""`aftercare find TEXT` and services.find on DuckDB and PostgreSQL (issue 10, Findable).

The store, by hand:

- C1 王伟, 138 1234 5678, visits 2024-02-10, 05-15 and 06-20 (no vehicle, so no reminder):
  usual interval (06-20 − 02-10) ÷ 2 = 65.5 days, 10 days absent on 06-30 → not overdue,
  risk **low**.
- C2 王伟东, +86 139-0000-5678 (digits 8613900005678: the same last 4 as C1), no visit, an
  unresolved complaint on 06-01 → no expectation (low) raised by one: risk **medium**; its
  A-COMPLAINT-72H action is open.
- C3 李娜, 139 0000 1111, vehicles 沪A·12345 (Model 3, V1) and 沪B99999 (途观L, V2).
- C4 王伟, 150 0000 2222: a second 王伟.
- C5 张三, created 2024-08-01: not in the 2024-06-30 snapshot (no tier, no risk).
- V3 粤C55555 belongs to C9, who is not in ``customers``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from aftercare.cli import app
from aftercare.config import DEFAULT_CONFIG
from aftercare.errors import AftercareError
from aftercare.services.actions import generate_actions
from aftercare.services.find import customer_matches, find_customers, resolve_customer
from aftercare.services.scoring import score_snapshot
from aftercare.store import open_store
from factories import make_table

runner = CliRunner()
AS_OF = dt.date(2024, 6, 30)
V1, V2, V3 = "LSVAA4182E2000009", "LSVBB4182E2000001", "LSVCC4182E2000002"


def _fill(url: str) -> str:
    with open_store(url) as s:
        s.con.insert("customers", make_table("customers", [
            {"customer_id": "C1", "name": "王伟", "phone": "13812345678",
             "created_at": "2023-01-01"},
            {"customer_id": "C2", "name": "王伟东", "phone": "+86 139-0000-5678",
             "created_at": "2023-01-01"},
            {"customer_id": "C3", "name": "李娜", "phone": "13900001111",
             "created_at": "2023-01-01"},
            {"customer_id": "C4", "name": "王伟", "phone": "15000002222",
             "created_at": "2023-01-01"},
            {"customer_id": "C5", "name": "张三", "created_at": "2024-08-01"},
        ]))  # fmt: skip
        s.con.insert("vehicles", make_table("vehicles", [
            {"vin": V1, "customer_id": "C3", "plate": "沪A·12345", "model": "Model 3",
             "delivery_date": "2023-01-01"},
            {"vin": V2, "customer_id": "C3", "plate": "沪B99999", "model": "途观L",
             "delivery_date": "2023-01-01"},
            {"vin": V3, "customer_id": "C9", "plate": "粤C55555", "delivery_date": "2023-01-01"},
        ]))  # fmt: skip
        s.con.insert("service_orders", make_table("service_orders", [
            {"order_id": f"R{i}", "customer_id": "C1", "open_date": day, "total_amount": amount}
            for i, (day, amount) in enumerate(
                [("2024-02-10", 1000), ("2024-05-15", 600), ("2024-06-20", 2000)], start=1
            )
        ]))  # fmt: skip
        s.con.insert("interactions", make_table("interactions", [
            {"interaction_id": "I1", "customer_id": "C2", "ts": "2024-06-01 09:00:00",
             "type": "complaint"},
        ]))  # fmt: skip
        score_snapshot(s, AS_OF, DEFAULT_CONFIG)
    return url


@pytest.fixture(scope="module")
def store(shared_store_url):
    """Filled once per engine; the tests only read it."""
    with open_store(_fill(shared_store_url)) as s:
        # C2's unresolved complaint (06-01) is caught up: one A-COMPLAINT-72H due 06-30.
        run = generate_actions(s, AS_OF, DEFAULT_CONFIG)
        assert run.by_rule == {"A-COMPLAINT-72H": 1}
        yield s


def _ids(text: str, store) -> dict[str, str]:
    rows = customer_matches(store, text).to_pyarrow().to_pylist()
    return {r["customer_id"]: r["match"].split(" ", 1)[1] for r in rows}


def test_matches_by_each_key(store):
    assert _ids("c1", store) == {"C1": "id"}
    assert _ids("王伟", store) == {"C1": "name", "C4": "name", "C2": "name (part)"}
    assert _ids("伟东", store) == {"C2": "name (part)"}
    assert _ids("138-1234-5678", store) == {"C1": "phone"}
    assert _ids("13900005678", store) == {"C2": "phone"}  # stored as +86 139-0000-5678
    assert _ids("5678", store) == {"C1": "phone (last 4)", "C2": "phone (last 4)"}
    assert _ids("沪a12345", store) == {"C3": "plate"}  # case, · and spaces ignored
    assert _ids("沪B 99999", store) == {"C3": "plate"}
    assert _ids(V2.lower(), store) == {"C3": "VIN"}
    assert _ids("粤C55555", store) == {"C9": "plate"}  # an owner not in customers
    assert _ids("1111", store) == {"C3": "phone (last 4)"}
    assert _ids("12345", store) == {}  # 5 digits: neither a whole phone nor its last 4
    assert _ids("沪A1234", store) == {}  # a plate matches whole


def test_find_shows_tier_risk_vehicles_and_open_actions(store):
    found = find_customers(store, "王伟", DEFAULT_CONFIG)
    assert (found.text, found.total, found.scores_as_of) == ("王伟", 3, AS_OF)
    got = [
        (c.customer_id, c.matched_on, c.tier, c.risk_level, c.vehicles, c.open_actions)
        for c in found.shown
    ]
    # C1: R 5 (10 days) + F 3 (3 visits) + M 3 (3,600) = 11 → silver; not overdue → low.
    # C4: R 1 + F 1 + M 1 = 3 → lapsed, no expectation → low.
    # C2: 3 − 1 (complaint, R-SCORE-L) = 2 → lapsed; unresolved complaint → medium; 1 open.
    assert got == [
        ("C1", "name", "silver", "low", "", 0),
        ("C4", "name", "lapsed", "low", "", 0),
        ("C2", "name (part)", "lapsed", "medium", "", 1),
    ]
    plate = find_customers(store, "沪B99999", DEFAULT_CONFIG).shown
    assert [(c.customer_id, c.name, c.vehicles) for c in plate] == [
        ("C3", "李娜", f"沪A·12345 Model 3 {V1}; 沪B99999 途观L {V2}")
    ]
    later = find_customers(store, "张三", DEFAULT_CONFIG).shown
    assert [(c.customer_id, c.tier, c.risk_level) for c in later] == [("C5", None, None)]


def test_find_caps_the_list_and_counts_every_match(store):
    found = find_customers(store, "王", DEFAULT_CONFIG, limit=2)
    assert found.total == 3
    assert [c.customer_id for c in found.shown] == ["C1", "C2"]  # all match in part: by id
    exact_first = find_customers(store, "王伟", DEFAULT_CONFIG, limit=2).shown
    assert [c.customer_id for c in exact_first] == ["C1", "C4"]  # exact names before C2


def test_find_nothing_or_empty_is_an_error(store):
    with pytest.raises(AftercareError, match="no customer matches '赵六'"):
        find_customers(store, "赵六", DEFAULT_CONFIG)
    with pytest.raises(AftercareError, match="give something to look for"):
        find_customers(store, "  ", DEFAULT_CONFIG)


def test_resolve_customer_takes_any_unique_key(store):
    assert resolve_customer(store, "C3") == "C3"
    assert resolve_customer(store, "沪A12345") == "C3"
    assert resolve_customer(store, V1) == "C3"
    assert resolve_customer(store, "13812345678") == "C1"
    assert resolve_customer(store, "伟东") == "C2"
    assert resolve_customer(store, "C77") == "C77"  # unknown: the caller says so


def test_resolve_customer_ambiguous_lists_the_candidates(store):
    with pytest.raises(AftercareError) as err:
        resolve_customer(store, "王伟")  # two exact names beat the part match of C2
    assert str(err.value) == (
        "'王伟' matches 2 customers: C1 王伟 (name), C4 王伟 (name); "
        "give the customer id (aftercare find TEXT lists them)"
    )
    with pytest.raises(AftercareError, match=r"'5678' matches 2 customers: C1 王伟 \(phone"):
        resolve_customer(store, "5678")


def test_find_command(store):
    db = store.url
    result = runner.invoke(app, ["find", "王伟", "--db", db])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "3 matches for '王伟'; tier and risk as of 2024-06-30"
    assert lines[1] == (
        "C1  王伟  138****5678  tier silver, risk low, 0 open actions  (matched on name)"
    )
    assert lines[2] == "    vehicles: none"
    assert lines[5] == (
        "C2  王伟东  +86**********5678  tier lapsed, risk medium, 1 open actions  "
        "(matched on name (part))"
    )
    capped = runner.invoke(app, ["find", "王", "--limit", "1", "--db", db])
    assert capped.output.splitlines()[0].startswith("3 matches (showing 1) for '王'")
    plate = runner.invoke(app, ["find", "沪a12345", "--db", db])
    assert f"    vehicles: 沪A·12345 Model 3 {V1}; 沪B99999 途观L {V2}" in plate.output
    none = runner.invoke(app, ["find", "赵六", "--db", db])
    assert none.exit_code == 1
    assert none.output.strip().splitlines() == [
        "error: no customer matches '赵六' (by id, name, phone, plate or VIN)"
    ]


def test_explain_takes_the_keys_find_takes(store):
    """`aftercare explain` by plate names the customer by id; an ambiguous key exits 1."""
    db = store.url
    result = runner.invoke(app, ["explain", "沪B99999", "--as-of", "2024-06-30", "--db", db])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("C3 as of 2024-06-30: lapsed (total 3 = R 1 + F 1 + M 1")
    ambiguous = runner.invoke(app, ["explain", "王伟", "--as-of", "2024-06-30", "--db", db])
    assert ambiguous.exit_code == 1
    assert ambiguous.output.strip().splitlines() == [
        "error: '王伟' matches 2 customers: C1 王伟 (name), C4 王伟 (name); "
        "give the customer id (aftercare find TEXT lists them)"
    ]


def test_find_before_any_score_says_so(store_url):
    """No snapshot yet: no tier, no risk, and the headline says how to get them."""
    with open_store(store_url) as s:
        s.con.insert("customers", make_table("customers", [
            {"customer_id": "C1", "name": "王伟", "phone": "13812345678"},
        ]))  # fmt: skip
        found = find_customers(s, "5678", DEFAULT_CONFIG)
    assert found.scores_as_of is None
    assert [(c.customer_id, c.tier, c.risk_level, c.open_actions) for c in found.shown] == [
        ("C1", None, None, 0)
    ]
    result = runner.invoke(app, ["find", "5678", "--db", store_url])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:2] == [
        "1 match for '5678'; no scores yet: aftercare score --as-of DATE",
        "C1  王伟  138****5678  tier —, risk —, 0 open actions  (matched on phone (last 4))",
    ]
