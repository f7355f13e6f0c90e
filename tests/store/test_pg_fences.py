"""PostgreSQL plans Aftercare's SQL as written (issue 11): fenced sub-SELECTs, JIT off.

PostgreSQL's planner pulled Ibis' stacked sub-SELECTs up and copied their expressions (the
score snapshot's 60 KB SQL planned into a 6.5 MB target list), and its JIT compiled the
result for minutes. On PostgreSQL every derived table of a compiled query carries an
``OFFSET 0`` fence (:func:`aftercare.store.transaction.fence_subqueries`) and every session
runs with ``jit = off``; DuckDB's SQL is Ibis' own, unchanged. The fences change no row.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlglot
import sqlglot.expressions as sge

from aftercare.config import DEFAULT_CONFIG
from aftercare.services.demo import run_demo
from aftercare.services.scoring import score_snapshot
from aftercare.store import open_store, plans
from aftercare.store.transaction import compile_query, fence_subqueries

END = dt.date(2025, 6, 30)
EARLIER = dt.date(2025, 3, 31)


@pytest.fixture(scope="module")
def demo_url(shared_store_url, tmp_path_factory):
    """A demo store with one snapshot, so the next score reads it (the hold, the move)."""
    out = tmp_path_factory.mktemp("fences-demo")
    demo = run_demo(300, seed=7, as_of=END, out_dir=out, db=shared_store_url)
    store = open_store(demo.db_url)
    score_snapshot(store, EARLIER, DEFAULT_CONFIG)
    store.close()
    return demo.db_url


@pytest.fixture
def snapshot_builds(monkeypatch):
    """The score snapshot's (builder, dates, SQL) each time the compiled-plan cache hands it."""
    seen = []
    real = plans.compiled

    def recording(store_, shape, build, dates):
        query = real(store_, shape, build, dates)
        if shape[0] == "scores.snapshot":
            seen.append((build, dict(dates), query.sql))
        return query

    monkeypatch.setattr(plans, "compiled", recording)
    return seen


def _derived_tables(sql: str) -> int:
    """Sub-SELECTs in a FROM or JOIN of ``sql`` (as PostgreSQL reads it; not a UNION's)."""
    tree = sqlglot.parse_one(sql, read="postgres")
    return sum(
        isinstance(s.parent, (sge.From, sge.Join)) and isinstance(s.this, sge.Select)
        for s in tree.find_all(sge.Subquery)
    )


def test_the_score_snapshot_sql_is_fenced_on_postgres_only(demo_url, snapshot_builds):
    store = open_store(demo_url)
    score_snapshot(store, END, DEFAULT_CONFIG)
    [(build, dates, sql)] = snapshot_builds
    ibis_sql = str(store.con.compile(build(dates)))
    if store.kind == "duckdb":
        assert sql == ibis_sql
        assert "OFFSET 0" not in sql
    else:
        assert _derived_tables(ibis_sql) > 10  # the stack of sub-SELECTs the fences are for
        assert sql.count("OFFSET 0") == _derived_tables(sql) == _derived_tables(ibis_sql)
        # Unfenced, this plan was 77 times the SQL's size (its expressions copied).
        with store.con.con.cursor() as cur:
            plan = "\n".join(r[0] for r in cur.execute("EXPLAIN (VERBOSE) " + sql).fetchall())
        assert len(plan) < 10 * len(sql)
    store.close()


def test_the_fences_change_no_row(demo_url, snapshot_builds):
    store = open_store(demo_url)
    if store.kind != "postgres":
        store.close()
        pytest.skip("the fences are PostgreSQL's only")
    score_snapshot(store, END, DEFAULT_CONFIG)
    [(build, dates, fenced)] = snapshot_builds
    unfenced = str(store.con.compile(build(dates)))
    with store.con.con.cursor() as cur:
        for one, other in ((fenced, unfenced), (unfenced, fenced)):
            cur.execute(f"SELECT count(*) FROM (({one}) EXCEPT ALL ({other})) AS d")
            assert cur.fetchone() == (0,)
        cur.execute(f"SELECT count(*) FROM ({fenced}) AS q")
        assert cur.fetchone()[0] > 0
    store.close()


def test_a_fence_goes_on_each_derived_table_without_its_own_limit():
    sql = (
        "SELECT a FROM (SELECT a FROM (SELECT a FROM t) AS x) AS y "
        "JOIN (SELECT a FROM u LIMIT 5) AS z ON y.a = z.a "
        "WHERE y.a IN (SELECT a FROM v)"
    )
    fenced = fence_subqueries(sqlglot.parse_one(sql, read="postgres")).sql(dialect="postgres")
    assert fenced == (
        "SELECT a FROM (SELECT a FROM (SELECT a FROM t OFFSET 0) AS x OFFSET 0) AS y "
        "JOIN (SELECT a FROM u LIMIT 5) AS z ON y.a = z.a "
        "WHERE y.a IN (SELECT a FROM v)"
    )


def test_a_postgres_session_runs_without_jit(store_url):
    store = open_store(store_url)
    if store.kind != "postgres":
        store.close()
        pytest.skip("JIT is PostgreSQL's")
    with store.con.con.cursor() as cur:
        assert cur.execute("SHOW jit").fetchone() == ("off",)
    # Still off after Aftercare's own statements and transactions on the session.
    compile_query(store, store.table("customers").limit(1))
    with store.con.con.transaction(), store.con.con.cursor() as cur:
        cur.execute("SELECT 1")
    assert store.con.raw_sql("SHOW jit").fetchone() == ("off",)
    store.close()
