"""PostgreSQL plans Aftercare's SQL as written (issue 11): fenced sub-SELECTs, JIT off.

PostgreSQL's planner pulled Ibis' stacked sub-SELECTs up and copied their expressions (the
score snapshot's 60 KB SQL planned into a 6.5 MB target list), and its JIT compiled the
result for minutes. On PostgreSQL every derived table of a compiled query carries an
``OFFSET 0`` fence (:func:`aftercare.store.transaction.fence_subqueries`), a CTE that only
computes per row is ``NOT MATERIALIZED`` (:func:`~aftercare.store.transaction.
inline_row_level_ctes`) and every session runs with ``jit = off``; DuckDB's SQL is Ibis'
own, unchanged. None of it changes a row.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlglot
import sqlglot.expressions as sge

from aftercare.config import DEFAULT_CONFIG
from aftercare.services.demo import run_demo
from aftercare.services.scoring import score_snapshot
from aftercare.store import open_store
from aftercare.store.transaction import compile_query, fence_subqueries, inline_row_level_ctes

END = dt.date(2025, 6, 30)
EARLIER = dt.date(2025, 3, 31)
#: The score snapshot's compiled plan (:func:`aftercare.services.scoring._snapshot_query`).
SHAPE = "scores.snapshot"


@pytest.fixture(scope="module")
def demo_url(shared_store_url, tmp_path_factory):
    """A demo store with one snapshot, so the next score reads it (the hold, the move)."""
    out = tmp_path_factory.mktemp("fences-demo")
    demo = run_demo(300, seed=7, as_of=END, out_dir=out, db=shared_store_url)
    store = open_store(demo.db_url)
    score_snapshot(store, EARLIER, DEFAULT_CONFIG)
    store.close()
    return demo.db_url


def _snapshot_builds(calls: list[tuple]) -> list[tuple]:
    """The score snapshot's (builder, dates, SQL) among the compiled plans handed out."""
    return [(build, dates, sql) for shape, build, dates, sql in calls if shape[0] == SHAPE]


def _derived_tables(sql: str) -> int:
    """Sub-SELECTs in a FROM or JOIN of ``sql`` (as PostgreSQL reads it; not a UNION's)."""
    tree = sqlglot.parse_one(sql, read="postgres")
    return sum(
        isinstance(s.parent, (sge.From, sge.Join)) and isinstance(s.this, sge.Select)
        for s in tree.find_all(sge.Subquery)
    )


def test_the_score_snapshot_sql_is_fenced_on_postgres_only(demo_url, compiled_calls):
    store = open_store(demo_url)
    score_snapshot(store, END, DEFAULT_CONFIG)
    [(build, dates, sql)] = _snapshot_builds(compiled_calls)
    ibis_sql = str(store.con.compile(build(dates)))
    if store.kind == "duckdb":
        assert sql == ibis_sql
        assert "OFFSET 0" not in sql
    else:
        assert _derived_tables(ibis_sql) > 10  # the stack of sub-SELECTs the fences are for
        assert sql.count("OFFSET 0") == _derived_tables(sql) == _derived_tables(ibis_sql)
        # The orders resolved to their owners: named several times, computed per row.
        assert sql.startswith('WITH "t') and sql.count("AS NOT MATERIALIZED (") == 1
        # Unfenced, this plan was 77 times the SQL's size (its expressions copied).
        with store.con.con.cursor() as cur:
            plan = "\n".join(r[0] for r in cur.execute("EXPLAIN (VERBOSE) " + sql).fetchall())
        assert len(plan) < 10 * len(sql)
    store.close()


def test_the_fences_change_no_row(demo_url, compiled_calls):
    store = open_store(demo_url)
    if store.kind != "postgres":
        store.close()
        pytest.skip("the fences are PostgreSQL's only")
    score_snapshot(store, END, DEFAULT_CONFIG)
    [(build, dates, fenced)] = _snapshot_builds(compiled_calls)
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


def test_only_a_cte_that_computes_per_row_is_inlined():
    sql = (
        "WITH o AS (SELECT a, b + 1 AS c FROM t JOIN (SELECT a FROM u) AS v USING (a)), "
        "g AS (SELECT a, SUM(c) AS s FROM o GROUP BY a), "
        "w AS (SELECT a, ROW_NUMBER() OVER (ORDER BY a) AS n FROM o), "
        "d AS (SELECT DISTINCT a FROM o) "
        "SELECT * FROM o JOIN g USING (a) JOIN w USING (a) JOIN d USING (a) JOIN o AS p USING (a)"
    )
    tree = fence_subqueries(inline_row_level_ctes(sqlglot.parse_one(sql, read="postgres")))
    assert tree.sql(dialect="postgres").startswith(
        "WITH o AS NOT MATERIALIZED (SELECT a, b + 1 AS c FROM t "
        "JOIN (SELECT a FROM u OFFSET 0) AS v USING (a)), g AS (SELECT"
    )
    assert [c.args.get("materialized") for c in tree.find_all(sge.CTE)] == [False] + [None] * 3


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


def test_the_action_plan_runs_without_nested_loops_on_postgres_only(store_url):
    """Issue 11: on PostgreSQL the plan's statements run with enable_nestloop off, and the
    session is as it was after them, a failure inside included; elsewhere nothing is set."""
    from aftercare.store.transaction import transaction, without_nested_loops

    store = open_store(store_url)
    if store.kind != "postgres":
        with without_nested_loops(store):
            assert store.con.raw_sql("SELECT 1").fetchone() == (1,)
        store.close()
        pytest.skip("nested-loop joins are PostgreSQL's setting")

    def nestloop() -> str:
        with store.con.con.cursor() as cur:
            return cur.execute("SHOW enable_nestloop").fetchone()[0]

    assert nestloop() == "on"
    with without_nested_loops(store):
        assert nestloop() == "off"
        with transaction(store):  # the engine's own transactions keep it
            assert nestloop() == "off"
        assert nestloop() == "off"
    assert nestloop() == "on"
    with pytest.raises(ZeroDivisionError), without_nested_loops(store):
        raise ZeroDivisionError
    assert nestloop() == "on"
    # A statement failing inside a transaction: the transaction's failure comes out, and the
    # session is back to its own value after the rollback.
    with (
        pytest.raises(Exception, match="division by zero"),
        transaction(store),
        without_nested_loops(store),
    ):
        store.con.con.execute("SELECT 1 / 0")
    assert nestloop() == "on"
    store.close()
