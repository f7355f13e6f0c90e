"""Compiled once (issue 11): the SQL a run gets from the cache is the SQL compiled for its dates.

The engine's queries are built and compiled once per store and shape with stand-in dates;
each run substitutes its own dates into the text (:mod:`aftercare.store.plans`). On the demo
dealer, on DuckDB and PostgreSQL, every query an engine run takes from the cache is compared
with a direct compile of the same builder for the run's real dates, over dates that test the
substitution: a leap day, a Sunday, a run planning into the next year (year end) and one
planning two years ahead, with and without stored scores.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import ibis
import pytest

from aftercare.config import DEFAULT_CONFIG
from aftercare.pipeline.staging import as_date
from aftercare.services.actions import generate_actions
from aftercare.services.demo import run_demo
from aftercare.services.scoring import score_snapshot
from aftercare.store import open_store, plans
from aftercare.store.transaction import compile_query, fetch_compiled

END = dt.date(2025, 6, 30)
SNAPSHOT = dt.date(2024, 6, 1)
#: (as_of, through): before any snapshot (scores computed), a leap day, a Sunday, a year
#: end planning into January, two years ahead, and a leap day again (2028).
RUNS = [
    (dt.date(2024, 2, 29), dt.date(2024, 2, 29)),
    (dt.date(2024, 6, 2), dt.date(2024, 6, 2)),
    (dt.date(2024, 12, 31), dt.date(2025, 1, 5)),
    (dt.date(2025, 3, 1), dt.date(2027, 3, 1)),
    (dt.date(2028, 2, 29), dt.date(2028, 3, 5)),
]


@pytest.fixture(scope="module")
def demo_url(shared_store_url, tmp_path_factory):
    out = tmp_path_factory.mktemp("plans-demo")
    demo = run_demo(300, seed=5, as_of=END, out_dir=out, db=shared_store_url)
    assert demo.rejected == 0
    store = open_store(demo.db_url)
    score_snapshot(store, SNAPSHOT, DEFAULT_CONFIG)
    store.close()
    return demo.db_url


def test_every_cached_query_equals_a_direct_compile_for_the_runs_dates(demo_url, compiled_calls):
    store = open_store(demo_url)
    for as_of, through in RUNS:
        generate_actions(store, as_of, DEFAULT_CONFIG, through=through)
    shapes = {shape[0] for shape, *_ in compiled_calls}
    assert {"actions.plan", "capacity.stored", "backlog", "actions.expired"} <= shapes
    assert {d.get("scores") for (s, *_), _, d, _ in compiled_calls if s == "actions.plan"} == {
        None,
        SNAPSHOT,
    }
    for shape, build, dates, sql in compiled_calls:
        direct = compile_query(store, build(dates))
        assert direct.expr is None
        assert sql == direct.sql, (shape[0], dates)
    assert store.plans.uncached == 0
    store.close()


def test_the_score_snapshot_query_equals_a_direct_compile(demo_url, compiled_calls):
    """Scoring reads the snapshots its hold needs (none before the first): each count of
    them is its own shape; each run's SQL equals a direct compile for its dates."""
    store = open_store(demo_url)
    for day in (dt.date(2024, 1, 31), dt.date(2028, 2, 29), dt.date(2028, 12, 31)):
        score_snapshot(store, day, DEFAULT_CONFIG)
    snapshots = [c for c in compiled_calls if c[0][0] == "scores.snapshot"]
    assert len(snapshots) == 3
    assert {len(c[2]) for c in snapshots} == {1, 2}  # none, then earlier snapshots read
    for _, build, dates, sql in snapshots:
        assert sql == compile_query(store, build(dates)).sql, dates
    assert store.plans.uncached == 0
    store.close()


def test_a_later_run_reuses_the_compiled_plans(demo_url):
    store = open_store(demo_url)
    # A full run, then an incremental one (issue 11): each compiles its own queries once.
    generate_actions(store, dt.date(2025, 7, 1), DEFAULT_CONFIG, full=True)
    generate_actions(store, dt.date(2025, 7, 2), DEFAULT_CONFIG)
    compiled = store.plans.compiled
    reused = store.plans.reused
    for day in (3, 4, 5):
        generate_actions(store, dt.date(2025, 7, day), DEFAULT_CONFIG)
    assert store.plans.compiled == compiled
    assert store.plans.reused >= reused + 3 * 5
    store.close()


def test_a_builder_that_computes_from_its_date_is_compiled_for_each_run(demo_url):
    """A year taken out of the date in Python is not a literal the cache can replace: the
    text is not trusted, and each run compiles its own (right, if slower)."""
    store = open_store(demo_url)
    o = store.table("service_orders")

    def build(d: Mapping[str, dt.date]) -> ibis.Table:
        since = ibis.date(d["as_of"].year, 1, 1)  # Python arithmetic on the date
        seen = o.filter(o.open_date >= since, o.open_date <= as_date(d["as_of"]))
        return seen.aggregate(n=seen.count())

    counts = []
    for day in (dt.date(2024, 3, 5), dt.date(2025, 3, 5)):
        query = plans.compiled(store, ("test.year_to_date",), build, {"as_of": day})
        assert query.sql == compile_query(store, build({"as_of": day})).sql
        counts.append(fetch_compiled(store, query).column("n")[0].as_py())
    assert store.plans.uncached == 2
    assert counts[0] != counts[1]
    store.close()


def test_the_call_list_is_compiled_once_and_reads_what_ibis_reads(demo_url, compiled_calls):
    """The call list (a page or a report reads it often) takes its SQL from the cache: the
    text equals a direct compile for its dates, and its rows equal the expression's own."""
    from aftercare.services.call_list import action_list

    store = open_store(demo_url)
    generate_actions(store, dt.date(2024, 6, 3), DEFAULT_CONFIG)
    reads = [
        {"until": dt.date(2024, 6, 9), "since": dt.date(2024, 6, 3)},
        {"until": dt.date(2024, 6, 16), "as_of": dt.date(2024, 6, 10)},
        {"until": dt.date(2024, 6, 9), "since": dt.date(2024, 6, 3), "as_of": dt.date(2024, 6, 4)},
    ]
    listed = [action_list(store, config=DEFAULT_CONFIG, scripts=False, **r) for r in reads]
    calls = [c for c in compiled_calls if c[0][0] == "call_list"]
    assert len(calls) == len(reads)
    assert store.plans.uncached == 0
    for (_, build, dates, sql), rows in zip(calls, listed, strict=True):
        assert sql == compile_query(store, build(dates)).sql, dates
        direct = build(dates).to_pyarrow()
        assert rows.drop_columns(["script"]).to_pylist() == direct.to_pylist(), dates
    assert listed[0].num_rows > 0
    for row in listed[0].to_pylist():  # overdue: due before the period's start
        assert row["is_overdue"] == (row["due_date"] < dt.date(2024, 6, 3))
    store.close()
