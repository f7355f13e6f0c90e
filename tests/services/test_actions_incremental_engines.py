"""Issue 11: incremental runs leave nothing a full run would add, on DuckDB and PostgreSQL.

The lockstep tests (``test_actions_incremental*.py``) compare two stores run side by side on
DuckDB. Here one store per engine runs incrementally day after day — with a new snapshot,
an outcome and an opt-out along the way — and after every run the whole store's plan (every
customer, nothing narrowed) must find no new action the run left out, and as many
consent-blocked triggers as the run counted: the incremental run missed nobody (its planned
customers get exactly the whole plan's rows, ``test_actions_subset.py``). Every way a run
reads its plan: with its bookkeeping in one statement (a small queue, the default here), with
the inputs of both staged in the engine (``COMBINED_MAX`` 0, as a run planning many customers
does: :mod:`aftercare.services.staged_plan`), and as two statements (``STAGED_MAX`` 0 too, as
a run planning the most customers does).
"""

from __future__ import annotations

import datetime as dt

import pytest

from aftercare.config import DEFAULT_CONFIG
from aftercare.services import action_plan
from aftercare.services.action_plan import plan_expression, run_dates
from aftercare.services.actions import generate_actions
from aftercare.services.demo import run_demo
from aftercare.services.outcomes import record_outcome
from aftercare.services.scoring import score_snapshot
from aftercare.store import open_store
from aftercare.store.engine_state import STAGED
from store_fixtures import make_store_url

END = dt.date(2025, 6, 30)
START = dt.date(2024, 9, 25)
DAYS = 12  # crosses the 1st of October: a new snapshot


@pytest.fixture(scope="module", params=["one statement", "staged", "two statements"])
def runs(request, shared_store_url, tmp_path_factory):
    if request.param == "one statement":
        yield _run_days(shared_store_url, tmp_path_factory)
        return
    # A fresh database of the same engine: the first parameter's store holds its runs.
    kind = "postgres" if shared_store_url.startswith("postgresql") else "duckdb"
    fresh = make_store_url(kind, tmp_path_factory.mktemp(request.param.replace(" ", "-")))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(action_plan, "COMBINED_MAX", 0)
        if request.param == "two statements":
            patch.setattr(action_plan, "STAGED_MAX", 0)
        yield _run_days(next(fresh), tmp_path_factory)
    fresh.close()


def _run_days(shared_store_url, tmp_path_factory):
    out = tmp_path_factory.mktemp("incremental-engines")
    demo = run_demo(150, seed=11, as_of=END, out_dir=out, db=shared_store_url)
    store = open_store(demo.db_url)
    score_snapshot(store, START, DEFAULT_CONFIG)
    seen = []
    for i in range(DAYS):
        day = START + dt.timedelta(days=i)
        if day.day == 1:
            score_snapshot(store, day, DEFAULT_CONFIG)
        run = generate_actions(store, day, DEFAULT_CONFIG)
        assert not _holds_staged_rows(store), day  # dropped after the run
        dates, scores_as_of = run_dates(store, day, day)
        whole = plan_expression(
            store,
            dates,
            DEFAULT_CONFIG,
            stored_scores=scores_as_of is not None,
            years_ahead=0,
        ).to_pyarrow()
        missed = [r["action_id"] for r in whole.to_pylist() if not r["blocked"]]
        blocked = sum(r["blocked"] for r in whole.to_pylist())
        seen.append((day, run, missed, blocked))
        if i in (2, 5):  # outcomes between runs: a booking, then an opt-out
            a = store.table("actions")
            first = a.filter(a.created_on == day).order_by("action_id").limit(1).to_pyarrow()
            if first.num_rows:
                result = "booked" if i == 2 else "opted_out"
                record_outcome(
                    store,
                    first.column("action_id")[0].as_py(),
                    result,
                    config=DEFAULT_CONFIG,
                    recorded_at=dt.datetime.combine(day, dt.time(15)),
                )
    store.close()
    return seen


def _holds_staged_rows(store) -> bool:
    """The connection still holds the staged rows' temporary table."""
    if store.kind == "duckdb":
        sql = f"SELECT count(*) FROM duckdb_tables() WHERE table_name = '{STAGED}'"
        return store.con.con.execute(sql).fetchone()[0] > 0
    with store.con.con.cursor() as cur:
        cur.execute(f"SELECT to_regclass('pg_temp.{STAGED}') IS NOT NULL")
        return cur.fetchone()[0]


def test_after_every_incremental_run_the_whole_plan_finds_nothing_new(runs):
    for day, _run, missed, _blocked in runs:
        assert missed == [], day


def test_blocked_counts_are_the_whole_plans(runs):
    # The run counts blocked triggers before it stores; the whole plan after it: the same
    # triggers, since none of them is stored.
    for day, run, _missed, blocked in runs:
        assert run.blocked == blocked, day


def test_runs_after_the_first_were_incremental_and_did_something(runs):
    assert runs[0][1].customers_planned is None
    assert all(r.customers_planned is not None for _, r, _, _ in runs[1:])
    assert sum(r.created for _, r, _, _ in runs[1:]) > 0
