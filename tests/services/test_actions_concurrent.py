"""Two engine runs on one store at once (issue 9, item 6), in threads of one process.

Each thread opens its own connection (a session of its own on PostgreSQL) and runs the same
day's engine at the same moment. The store's run lock makes them take turns: the first stores
the new actions, the move R-ACT-CAP makes and the dedicated advisors; the second finds them
stored and adds nothing. The counts each run reports add up to what is stored (before: both
runs claimed every action, the move and the assignments were stored twice).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading

import pytest

from aftercare.config import DEFAULT_CONFIG
from aftercare.services.actions import GenerationRun, generate_actions
from aftercare.services.scoring import score_snapshot
from aftercare.store import open_store
from factories import make_table

D = dt.date.fromisoformat
MONDAY, TUESDAY, SUNDAY = D("2024-06-10"), D("2024-06-11"), D("2024-06-16")
PLATINUM = ("P1", "P2")


def _count(store, table: str) -> int:
    return int(store.table(table).count().to_pyarrow().as_py())


def _distinct(store, table: str, *key: str) -> int:
    t = store.table(table)
    return int(t.select(*key).distinct().count().to_pyarrow().as_py())


@pytest.fixture
def planned_week(store_url: str) -> str:
    """Z's two declined quotes fill the week (cap 2) on Monday's run; on Tuesday Z's complaint
    (high) takes the week from the later quote, and the platinum P1 and P2 complain too."""
    with open_store(store_url) as store:
        store.con.insert(
            "customers",
            make_table(
                "customers",
                [{"customer_id": c, "store_id": "S1"} for c in ("Z", *PLATINUM)],
            ),
        )
        store.con.insert(
            "advisors",
            make_table(
                "advisors",
                [
                    {"advisor_id": a, "store_id": "S1", "role": "advisor", "active": True}
                    for a in ("A1", "A2")
                ],
            ),
        )
        store.con.insert(
            "declined_services",
            make_table("declined_services", [
                {"order_id": "QA", "item": "wipers", "customer_id": "Z",
                 "declined_date": "2024-05-13"},
                {"order_id": "QB", "item": "tyres", "customer_id": "Z",
                 "declined_date": "2024-05-14"},
            ]),
        )  # fmt: skip
        score_snapshot(store, MONDAY, DEFAULT_CONFIG)
        ids = ", ".join(f"'{c}'" for c in PLATINUM)
        sql = f"UPDATE customer_scores SET tier = 'platinum' WHERE customer_id IN ({ids})"
        if store.kind == "duckdb":
            store.con.con.execute(sql)
        else:
            with store.con.con.cursor() as cur:
                cur.execute(sql)
        first = generate_actions(store, MONDAY, DEFAULT_CONFIG, through=SUNDAY)
        assert (first.created, first.displaced, first.dedicated) == (2, 0, 0)
        store.con.insert(
            "interactions",
            make_table(
                "interactions",
                [
                    {
                        "interaction_id": f"I{c}",
                        "customer_id": c,
                        "ts": "2024-06-11 09:00:00",
                        "type": "complaint",
                    }
                    for c in ("Z", *PLATINUM)
                ],
            ),
        )
    return store_url


def _run_together(url: str, runs: int) -> list[GenerationRun]:
    """``runs`` threads, each on its own connection, run Tuesday's engine at one moment."""
    results: list[GenerationRun | BaseException | None] = [None] * runs
    ready = threading.Barrier(runs)

    def run(i: int) -> None:
        try:
            with open_store(url) as store:
                ready.wait(30)
                results[i] = generate_actions(store, TUESDAY, DEFAULT_CONFIG, through=SUNDAY)
        except BaseException as exc:  # reported by the test, not lost in the thread
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(runs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return [r for r in results if isinstance(r, GenerationRun)]


def test_concurrent_runs_store_and_count_each_action_once(planned_week):
    """Issue 9 item 6: no duplicates, and the counts printed add up to what is stored."""
    done = _run_together(planned_week, 2)
    assert len(done) == 2
    # One run stored everything; the other waited, then found it all stored.
    assert sorted(r.created for r in done) == [0, 3]
    assert sorted(r.displaced for r in done) == [0, 1]
    assert sorted(r.dedicated for r in done) == [0, 2]
    with open_store(planned_week) as store:
        assert _count(store, "actions") == 2 + 3 == _distinct(store, "actions", "action_id")
        assert _count(store, "action_moves") == 1
        assert _distinct(store, "action_moves", "action_id", "moved_on") == 1
        assert _count(store, "dedicated_advisors") == len(PLATINUM)
        assert _distinct(store, "dedicated_advisors", "customer_id") == len(PLATINUM)
        quote = store.table("actions").filter(lambda t: t.trigger_key == "QB")
        assert quote.due_date.to_pyarrow().to_pylist() == [D("2024-06-17")]  # moved once


def test_tiers_scored_while_the_plan_compiled_are_the_ones_used(planned_week, monkeypatch):
    """The plan compiles before the lock; a score run that got the store first is not missed:
    the run sees the newer snapshot under the lock and plans again from it."""
    import aftercare.services.actions as service

    real_lock = service.store_lock

    @contextlib.contextmanager
    def score_first(store):
        with open_store(planned_week) as other:
            score_snapshot(other, TUESDAY, DEFAULT_CONFIG)  # stored while this run compiled
        with real_lock(store):
            yield

    monkeypatch.setattr(service, "store_lock", score_first)
    with open_store(planned_week) as store:
        run = generate_actions(store, TUESDAY, DEFAULT_CONFIG, through=SUNDAY)
    assert run.scores_as_of == TUESDAY
