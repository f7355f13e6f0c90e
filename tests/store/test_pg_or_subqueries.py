"""Issue 11: no statement of the action engine puts a sub-SELECT ``IN`` under an ``OR``.

PostgreSQL cannot turn ``a IN (SELECT …) OR …`` into a join; past ``work_mem`` it scans the
sub-SELECT's rows once per outer row. At 1M customers the consent stops (``IN`` the opted-out
customers ``OR`` the unconsented ones, for every open action) and the narrowed orders of an
incremental run (``IN`` the queued customers ``OR`` their vehicles) ran for minutes so. Every
query the engine compiles on PostgreSQL, in a full run and in the incremental runs of every
statement shape, is checked here.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlglot as sg
import sqlglot.expressions as sge

from aftercare.config import DEFAULT_CONFIG
from aftercare.services import action_plan
from aftercare.services.actions import generate_actions
from aftercare.services.demo import run_demo
from aftercare.services.scoring import score_snapshot
from aftercare.store import open_store

END = dt.date(2025, 6, 30)


def _ors_with_sub_select_in(sql: str) -> list[str]:
    found = []
    for tree in sg.parse(sql, dialect="postgres"):
        for node in tree.find_all(sge.Or):
            if any(isinstance(x, sge.In) and x.args.get("query") for x in node.walk()):
                found.append(node.sql(dialect="postgres")[:300])
    return found


def test_the_guard_sees_an_or_of_sub_select_ins():
    sql = "SELECT * FROM o WHERE c IN (SELECT c FROM q) OR v IN (SELECT v FROM w)"
    assert _ors_with_sub_select_in(sql)
    assert not _ors_with_sub_select_in("SELECT * FROM o WHERE s IN ('a', 'b') OR x = 1")


def test_no_engine_query_on_postgres_puts_a_sub_select_in_under_an_or(
    store_url, tmp_path, compiled_calls, monkeypatch
):
    if not store_url.startswith("postgresql"):
        pytest.skip("the OR-of-IN plan is PostgreSQL's problem")
    import psycopg

    demo = run_demo(120, seed=5, as_of=END, out_dir=tmp_path, db=store_url)
    # Every statement sent, the hand-written ones of the store included.
    sent: list[str] = []
    execute = psycopg.Cursor.execute

    def recording(cursor, query, *args, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(query if isinstance(query, str) else query.as_string(cursor))
        return execute(cursor, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", recording)
    store = open_store(demo.db_url)
    try:
        for i, (combined, staged) in enumerate([(0, 0), (1000, 150_000), (0, 150_000), (0, 0)]):
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(action_plan, "COMBINED_MAX", combined)
                patch.setattr(action_plan, "STAGED_MAX", staged)
                day = END + dt.timedelta(days=i + 1)
                score_snapshot(store, day, DEFAULT_CONFIG)  # stored scores: incremental runs
                run = generate_actions(store, day, DEFAULT_CONFIG)
                assert (run.customers_planned is None) == (i == 0)
    finally:
        store.close()
    shapes = {shape[0] for shape, *_ in compiled_calls}
    assert {"actions.plan", "actions.stops", "engine.changed"} <= shapes
    bad = {shape[0]: _ors_with_sub_select_in(sql) for shape, _, _, sql in compiled_calls}
    assert {k: v for k, v in bad.items() if v} == {}
    assert any("DELETE FROM" in q for q in sent)  # the bookkeeping's own statements
    assert [
        q[:200] for q in sent if q.lstrip()[:6].upper() != "COPY" and _ors_with_sub_select_in(q)
    ] == []
