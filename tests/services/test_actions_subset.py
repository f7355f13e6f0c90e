"""The plan of some customers equals the whole store's plan for them (issue 11, incremental).

The first piece of the incremental run: ``plan_expression(..., customers=S)`` reads only
what S's figures need (their rows, their vehicles' orders whoever brought them, the whole
store's fleet rates for the reminders) and must give, for S, exactly the rows the plan of
every customer gives: every column, on the demo dealer with stored scores and stored actions
(so dedupe and superseded triggers matter), before any snapshot (scores computed), and over
a week (through ahead of as-of); on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pytest

from aftercare.config import DEFAULT_CONFIG
from aftercare.services.action_plan import plan_expression, run_dates
from aftercare.services.actions import generate_actions
from aftercare.services.demo import run_demo
from aftercare.services.scoring import score_snapshot
from aftercare.store import open_store

END = dt.date(2025, 6, 30)
SNAPSHOT = dt.date(2024, 6, 1)
RUNS = [
    (dt.date(2024, 2, 29), dt.date(2024, 2, 29)),  # before the snapshot: scores computed
    (dt.date(2024, 6, 10), dt.date(2024, 6, 10)),
    (dt.date(2024, 9, 30), dt.date(2024, 10, 6)),  # a week planned ahead
    (dt.date(2025, 6, 30), dt.date(2025, 6, 30)),
]


@pytest.fixture(scope="module")
def store(shared_store_url, tmp_path_factory):
    out = tmp_path_factory.mktemp("subset-demo")
    demo = run_demo(300, seed=5, as_of=END, out_dir=out, db=shared_store_url)
    s = open_store(demo.db_url)
    score_snapshot(s, SNAPSHOT, DEFAULT_CONFIG)
    for day in (dt.date(2024, 6, 3), dt.date(2024, 6, 4), dt.date(2024, 9, 1)):
        generate_actions(s, day, DEFAULT_CONFIG)
    yield s
    s.close()


def _subset(store) -> list[str]:
    """Every third customer, plus the owners of vehicles someone else brought in."""
    ids = sorted(store.table("customers").customer_id.to_pyarrow().to_pylist())
    o, v = store.table("service_orders"), store.table("vehicles")
    owned = v.select(v_vin="vin", owner="customer_id")
    j = o.inner_join(owned, o.vin == owned.v_vin)
    lent = j.filter(j.customer_id.notnull(), j.owner.notnull(), j.customer_id != j.owner)
    owners = lent.select("owner").distinct().to_pyarrow().column("owner").to_pylist()
    return sorted(set(ids[::3]) | set(owners))


def _rows(table) -> list[dict]:
    return sorted(table.to_pylist(), key=lambda r: r["action_id"])


@pytest.mark.parametrize(("as_of", "through"), RUNS, ids=[str(r[0]) for r in RUNS])
def test_the_plan_of_some_customers_is_the_whole_plan_for_them(store, as_of, through):
    dates, scores_as_of = run_dates(store, as_of, through)
    shape = {"stored_scores": scores_as_of is not None, "years_ahead": through.year - as_of.year}
    wanted = _subset(store)
    every = plan_expression(store, dates, DEFAULT_CONFIG, **shape).to_pyarrow()
    theirs = [r for r in _rows(every) if r["customer_id"] in set(wanted)]
    only = ibis.memtable({"customer_id": wanted})
    got = _rows(plan_expression(store, dates, DEFAULT_CONFIG, customers=only, **shape).to_pyarrow())
    assert got == theirs
    assert theirs, "the subset has new actions on this date"
    assert len(theirs) < every.num_rows  # others have some too: the narrowing is tested
