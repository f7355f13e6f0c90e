"""services.explain on DuckDB and PostgreSQL stores (R-SCORE-EXPLAIN).

Customer C1 as of 2024-06-30, hand-computed: visits R1 (02-10), R3 (05-15) and R4 (06-20)
= 3 -> F 3 (R2 is R1's visit, R5 is outside the 365-day window, R6 after the as-of date);
spend R1 1000 + R2 400 + R4 2000 = 3400 -> M 3 (R3 is paid by the warranty); last visit
06-20, 10 days -> R 5; loyalty: V1's extended warranty +1, referral I1 +1 -> L 2;
total 13 -> gold.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from aftercare.config import DEFAULT_CONFIG
from aftercare.errors import AftercareError
from aftercare.services.explain import explain_customer
from aftercare.services.scoring import score_snapshot
from aftercare.store import open_store
from factories import make_table

AS_OF = dt.date(2024, 6, 30)
V1 = "LSVEXPLAINSVC0001"


def _order(order_id: str, day: str, amount: int, payer: str = "customer") -> dict:
    return {
        "order_id": order_id,
        "vin": V1,
        "open_date": day,
        "total_amount": amount,
        "payer": payer,
    }


ORDERS = [
    _order("R1", "2024-02-10", 1000),
    _order("R2", "2024-02-10", 400),
    _order("R3", "2024-05-15", 600, payer="warranty"),
    _order("R4", "2024-06-20", 2000),
    _order("R5", "2023-05-01", 900),
    _order("R6", "2024-07-03", 700),
]
# order -> (counts toward F, f_reason, counts toward M, m_reason)
EXPECTED_ORDERS = {
    "R5": (False, "outside_window", False, "outside_window"),
    "R1": (True, "counted", True, "counted"),
    "R2": (False, "same_visit", True, "counted"),
    "R3": (True, "counted", False, "payer_not_counted"),
    "R4": (True, "counted", True, "counted"),
    "R6": (False, "after_as_of", False, "after_as_of"),
}


@pytest.fixture
def store(store_url):
    for url in [store_url]:
        with open_store(url) as s:
            s.con.insert(
                "customers",
                make_table(
                    "customers",
                    [
                        {"customer_id": "C1", "name": "王伟", "phone": "13812345678"},
                        {"customer_id": "C2", "name": "王伟", "phone": "13900005678"},
                    ],
                ),
            )
            s.con.insert("vehicles", make_table("vehicles", [{
                "vin": V1, "customer_id": "C1", "plate": "沪A12345", "delivery_date": "2020-01-01",
                "extended_warranty_end": "2025-01-01",
            }]))  # fmt: skip
            s.con.insert("service_orders", make_table("service_orders", ORDERS))
            s.con.insert("interactions", make_table("interactions", [{
                "interaction_id": "I1", "customer_id": "C1", "ts": "2024-03-01 10:00:00",
                "type": "referral",
            }]))  # fmt: skip
            score_snapshot(s, AS_OF, DEFAULT_CONFIG)
            yield s


def test_explain_customer_gives_the_stored_score(store):
    got = explain_customer(store, "C1", AS_OF, DEFAULT_CONFIG)
    assert (got.customer_id, got.as_of) == ("C1", AS_OF)
    score = got.score
    assert (score["last_visit_date"], score["recency_days"]) == (dt.date(2024, 6, 20), 10)
    assert (score["frequency"], score["monetary"]) == (3, Decimal("3400.00"))
    assert (score["r_score"], score["f_score"], score["m_score"], score["l_points"]) == (5, 3, 3, 2)
    assert (score["total_score"], score["tier"]) == (13, "gold")


def test_explain_customer_orders_oldest_first_with_their_reasons(store):
    got = explain_customer(store, "C1", AS_OF, DEFAULT_CONFIG)
    assert [o["order_id"] for o in got.orders] == ["R5", "R1", "R2", "R3", "R4", "R6"]
    for o in got.orders:
        assert (
            o["counts_toward_f"],
            o["f_reason"],
            o["counts_toward_m"],
            o["m_reason"],
        ) == EXPECTED_ORDERS[o["order_id"]], o


def test_explain_customer_rows_add_up_to_the_score(store):
    got = explain_customer(store, "C1", AS_OF, DEFAULT_CONFIG)
    assert sum(o["counts_toward_f"] for o in got.orders) == got.score["frequency"]
    spent = sum(o["total_amount"] for o in got.orders if o["counts_toward_m"])
    assert spent == got.score["monetary"]
    signals = {(s["signal"], s["source_id"]): (s["points"], s["reason"]) for s in got.loyalty}
    assert signals == {
        ("l_extended_warranty", V1): (1, "counted"),
        ("l_referral", "I1"): (1, "counted"),
    }
    assert sum(s["points"] for s in got.loyalty) == got.score["l_points"]


def test_explain_customer_not_scored_is_an_error(store):
    with pytest.raises(AftercareError, match="customer C9 is not in the scores as of 2024-06-30"):
        explain_customer(store, "C9", AS_OF, DEFAULT_CONFIG)


def test_explain_customer_without_that_snapshot_names_the_stored_ones(store):
    with pytest.raises(
        AftercareError, match=r"run `aftercare score --as-of 2024-01-01`.*2024-06-30"
    ):
        explain_customer(store, "C1", dt.date(2024, 1, 1), DEFAULT_CONFIG)


@pytest.mark.parametrize("key", ["C1", "c1", "13812345678", "沪A·12345", V1.lower()])
def test_explain_customer_takes_any_key_that_names_one_customer(store, key):
    """Issue 10: id, phone, plate or VIN name C1; the explanation carries C1's id."""
    got = explain_customer(store, key, AS_OF, DEFAULT_CONFIG)
    assert (got.customer_id, got.score["customer_id"], got.score["tier"]) == ("C1", "C1", "gold")


def test_explain_customer_an_ambiguous_key_lists_the_candidates(store):
    with pytest.raises(AftercareError) as err:
        explain_customer(store, "王伟", AS_OF, DEFAULT_CONFIG)
    assert str(err.value) == (
        "'王伟' matches 2 customers: C1 王伟 (name), C2 王伟 (name); "
        "give the customer id (aftercare find TEXT lists them)"
    )
    with pytest.raises(AftercareError, match=r"'5678' matches 2 customers: C1 王伟 \(phone"):
        explain_customer(store, "5678", AS_OF, DEFAULT_CONFIG)
