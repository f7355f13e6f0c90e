"""services.advisors: an advisor named by id or exact name, or refused with the list (issue 10)."""

from __future__ import annotations

import pytest

from aftercare.errors import AftercareError
from aftercare.services.advisors import ADVISORS_LISTED, Advisor, resolve_advisor
from aftercare.store import open_store
from factories import make_table


@pytest.fixture
def store(store_url):
    with open_store(store_url) as s:
        rows = [{"advisor_id": f"SA{i:02d}", "name": f"顾问{i:02d}"} for i in range(1, 26)]
        rows += [
            {"advisor_id": "X1", "name": "王伟"},
            {"advisor_id": "X2", "name": "王伟"},
            {"advisor_id": "X3", "name": "SA01"},  # a name that is another advisor's id
            {"advisor_id": "X4", "name": None},
        ]
        s.con.insert("advisors", make_table("advisors", rows))
        yield s


def test_resolve_advisor_by_id_or_by_exact_name(store):
    assert resolve_advisor(store, "SA07") == Advisor("SA07", "顾问07")
    assert resolve_advisor(store, " 顾问07 ") == Advisor("SA07", "顾问07")
    assert resolve_advisor(store, "X4") == Advisor("X4", None)
    assert str(resolve_advisor(store, "X4")) == "X4"
    assert str(resolve_advisor(store, "顾问07")) == "SA07 顾问07"


def test_resolve_advisor_an_id_wins_over_a_name(store):
    assert resolve_advisor(store, "SA01").advisor_id == "SA01"


def test_resolve_advisor_a_shared_name_is_ambiguous(store):
    with pytest.raises(AftercareError) as err:
        resolve_advisor(store, "王伟")
    assert str(err.value) == "2 advisors are named 王伟: X1 王伟, X2 王伟; give the advisor id"


def test_resolve_advisor_unknown_lists_the_first_known_and_a_count(store):
    with pytest.raises(AftercareError) as err:
        resolve_advisor(store, "杨芳诗")
    message = str(err.value)
    # 29 advisors, by id: SA01 … SA20 shown (ADVISORS_LISTED), 9 more (SA21–SA25, X1–X4).
    assert ADVISORS_LISTED == 20
    assert message.startswith("unknown advisor 杨芳诗; the 29 known advisors: SA01 顾问01, ")
    assert message.endswith("SA20 顾问20 … and 9 more")
    assert "SA21" not in message and "\n" not in message


def test_resolve_advisor_in_a_store_without_advisors(store_url):
    with open_store(store_url) as s, pytest.raises(AftercareError, match="has no advisors"):
        resolve_advisor(s, "A1")
