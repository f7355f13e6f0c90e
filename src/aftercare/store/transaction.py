"""Transactions and SQL text on the engine's own connection: the one DuckDB/psycopg branch.

Ibis has no transactions, UPDATE or DELETE, so the store runs those statements on the native
connection of its backend. This module is where that happens for the row-level writes
(:mod:`.rows`) and the snapshots (:mod:`.snapshots`); the bulk file loads keep their own
engine-tuned paths in :mod:`.writer`. The SQL compiled here for PostgreSQL is written so its
planner keeps Ibis' steps apart (:func:`compile_query`, issue 11).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa
import sqlglot as sg
import sqlglot.expressions as sge

from aftercare.store.connect import Store, set_postgres_session

#: The feature named when a Spark lake refuses a transactional write.
PLAYBOOK_FEATURES = "actions and outcomes"


@contextmanager
def transaction(store: Store) -> Iterator[None]:
    """One transaction around several statements (Ibis has none of its own).

    Raises
    ------
    NotBuiltError
        On a Spark lake: it has no transactions, so the playbook cannot write there.
    """
    store.require_transactions(PLAYBOOK_FEATURES)
    if store.kind == "duckdb":
        native = store.con.con
        native.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            native.execute("ROLLBACK")
            raise
        native.execute("COMMIT")
    else:
        with store.con.con.transaction():
            yield


@contextmanager
def without_nested_loops(store: Store) -> Iterator[None]:
    """Run the enclosed statements with PostgreSQL's nested-loop joins off; elsewhere as is.

    For the action engine's plan (issue 11): its estimates through dozens of CTEs and
    aggregates fall to a few rows (PostgreSQL assumes 200 distinct values for a
    ``DISTINCT`` or ``GROUP BY`` of a derived table, 1 row for a filtered one), so its
    planner joined 1M-row inputs by nested loops, and the night's plan at 1M customers had
    not finished in 15 minutes; with hash and merge joins only it took 6 minutes. Set for
    the enclosed statements only (``RESET`` after, back to the session's own value, a
    user's ``PGOPTIONS`` included): a small write keyed by an index keeps its nested loop.
    """
    if store.kind != "postgres":
        yield
        return
    from psycopg.pq import TransactionStatus as psycopg_status

    native = store.con.con
    set_postgres_session(native, "SET enable_nestloop = off")
    try:
        yield
    finally:
        # In a transaction a failure aborted, its ROLLBACK undoes a SET made in it; RESET
        # there would fail and hide the failure.
        if native.info.transaction_status != psycopg_status.INERROR:
            set_postgres_session(native, "RESET enable_nestloop")


def placeholder(store: Store) -> str:
    """The engine's parameter placeholder (``?`` in DuckDB, ``%s`` in psycopg)."""
    return "?" if store.kind == "duckdb" else "%s"


def execute(store: Store, sql: str, params: Sequence[Any] = ()) -> None:
    """Run one statement (placeholders of :func:`placeholder`) inside the open transaction."""
    store.require_transactions(PLAYBOOK_FEATURES)
    if store.kind == "duckdb":
        native = store.con.con
        native.execute(sql, list(params)) if params else native.execute(sql)
    else:
        with store.con.con.cursor() as cur:
            cur.execute(sql, list(params) if params else None)


def execute_counted(store: Store, sql: str, params: Sequence[Any] = ()) -> int:
    """Run one ``INSERT``, ``UPDATE`` or ``DELETE`` and return the rows it changed.

    What a run reports is what it changed, not what it meant to (issue 9: ten concurrent runs
    each claimed every new action).
    """
    store.require_transactions(PLAYBOOK_FEATURES)
    if store.kind == "duckdb":
        native = store.con.con
        result = native.execute(sql, list(params)) if params else native.execute(sql)
        row = result.fetchone()
        return int(row[0]) if row else 0
    with store.con.con.cursor() as cur:
        cur.execute(sql, list(params) if params else None)
        return max(int(cur.rowcount), 0)


def fetch_rows(store: Store, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run one statement that returns rows (e.g. ``… RETURNING``) and return them."""
    store.require_transactions(PLAYBOOK_FEATURES)
    if store.kind == "duckdb":
        native = store.con.con
        result = native.execute(sql, list(params)) if params else native.execute(sql)
        return [tuple(r) for r in result.fetchall()]
    with store.con.con.cursor() as cur:
        cur.execute(sql, list(params) if params else None)
        return [tuple(r) for r in cur.fetchall()]


def execute_many(store: Store, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run one statement once per parameter row (placeholders of :func:`placeholder`)."""
    store.require_transactions(PLAYBOOK_FEATURES)
    if not rows:
        return
    if store.kind == "duckdb":
        store.con.con.executemany(sql, [list(r) for r in rows])
    else:
        with store.con.con.cursor() as cur:
            cur.executemany(sql, [tuple(r) for r in rows])


@dataclass(frozen=True)
class CompiledQuery:
    """An Ibis expression compiled to the store's SQL, to run later (:func:`fetch_compiled`).

    Compiling the action engine's plan takes seconds of Python; running it, a fraction of one.
    A run compiles before it takes the store's lock and runs the SQL under it, so concurrent
    runs compile side by side and hold the lock only while they read and write.
    """

    sql: str
    schema: pa.Schema
    #: Kept, and run as it is, when it holds in-memory tables: their data is not in the SQL.
    expr: ir.Table | None = None


def compile_query(store: Store, expr: ir.Table, *, per_use: str | None = None) -> CompiledQuery:
    """Compile ``expr``, an expression over ``store``'s tables, now; ``per_use``: the CTEs
    with an output column of that name are computed at each use (:func:`compute_per_use`)."""
    store.require_transactions(PLAYBOOK_FEATURES)
    schema = expr.schema().to_pyarrow()
    if expr.op().find(ops.InMemoryTable):
        return CompiledQuery("", schema, expr)
    if store.kind != "postgres" and per_use is None:
        return CompiledQuery(str(store.con.compile(expr)), schema)
    # What Ibis' compile() does, with the changes put into its syntax tree before writing.
    tree = store.con.compiler.to_sqlglot(expr)
    if per_use is not None:
        tree = compute_per_use(tree, per_use)
    if store.kind == "postgres":
        # CTEs first: the fences are OFFSETs, which would make every CTE look computed.
        tree = fence_subqueries(inline_row_level_ctes(tree))
    sql = tree.sql(dialect=store.con.dialect, copy=False, unsupported_level=sg.ErrorLevel.RAISE)
    return CompiledQuery(sql, schema)


def compute_per_use(tree: sge.Expression, column: str) -> sge.Expression:
    """``tree`` (changed in place) with each CTE that outputs ``column`` ``NOT MATERIALIZED``.

    A CTE named more than once is computed once and kept, every column of every row (DuckDB
    and PostgreSQL both), so no use's filter or column choice reaches inside it. Where the
    uses keep different, small parts of a costly row set, computing it at each use costs
    less: the engine's candidates (every rule's triggers, each with its evidence text) are
    kept by the plan only when due (a few percent) and read by the wake dates without their
    evidence; kept whole, the evidence of every past order's follow-up was built (1M rows at
    1M customers) and held (issue 11).
    """
    for cte in tree.find_all(sge.CTE):
        if column in cte.this.named_selects:
            cte.set("materialized", False)
    return tree


def fence_subqueries(tree: sge.Expression) -> sge.Expression:
    """``tree`` (changed in place) with ``OFFSET 0`` on each derived table, for PostgreSQL.

    Ibis writes an expression as sub-SELECTs stacked one on another, each naming the columns
    of the one below. PostgreSQL's planner pulls a simple sub-SELECT up into the query above
    it and writes each column's expression wherever that query names it, so an expression
    named several times is copied, and level after level the copies multiply: the score
    snapshot's 60 KB SQL planned into a 6.5 MB target list, the recency's ``/ 86400`` 8,909
    times a row, with seconds of planning on any store and minutes of evaluation (or of JIT)
    on a large one (issue 11). A sub-SELECT with ``OFFSET 0`` is never pulled up (PostgreSQL's
    documented fence), so each level is computed once per row, as written; the filters
    inside it stay there. The rows are the same. A sub-SELECT with its own ``LIMIT`` or
    ``OFFSET`` is one already; a ``UNION ALL`` is left alone (the sub-SELECTs of its arms are
    fenced). CTEs are :func:`inline_row_level_ctes`' part.
    """
    for derived in tree.find_all(sge.Subquery):
        inner = derived.this
        if (
            isinstance(derived.parent, (sge.From, sge.Join))
            and isinstance(inner, sge.Select)
            and inner.args.get("limit") is None
            and inner.args.get("offset") is None
        ):
            inner.offset(0, copy=False)
    return tree


#: What makes a CTE's rows worth computing once and keeping: they are aggregated, windowed,
#: deduplicated, cut or combined somewhere inside it.
_COMPUTED = (
    sge.AggFunc,
    sge.Window,
    sge.Group,
    sge.Distinct,
    sge.Limit,
    sge.Offset,
    sge.Union,
    sge.Except,
    sge.Intersect,
)


def inline_row_level_ctes(tree: sge.Expression) -> sge.Expression:
    """``tree`` (changed in place) with its row-level CTEs ``NOT MATERIALIZED``, for PostgreSQL.

    Ibis writes an expression used more than once as a CTE, and PostgreSQL materialises a
    CTE named more than once: it computes every column of every row once, keeps them (in
    temporary files beyond ``work_mem``) and reads them back at each use. For a CTE that only
    filters, joins and computes per row, that costs more than computing it again at each use,
    where PostgreSQL reads only the columns that use needs and applies its filters in the
    scan: the score snapshot's orders resolved to their owners (7.5M rows of 22 columns at
    1M customers, named four times) took 43-46 s to store as one query materialised, 33 s
    inlined (issue 11). A CTE that aggregates, windows, deduplicates or limits keeps
    PostgreSQL's default: its work is what is worth doing once.
    """
    for cte in tree.find_all(sge.CTE):
        if cte.this.find(*_COMPUTED) is None:
            cte.set("materialized", False)
    return tree


def fetch_compiled(store: Store, query: CompiledQuery) -> pa.Table:
    """Run a :class:`CompiledQuery` and return its rows as Arrow (the expression's schema)."""
    store.require_transactions(PLAYBOOK_FEATURES)
    if query.expr is not None:
        return query.expr.to_pyarrow()
    if store.kind == "duckdb":
        got = store.con.con.execute(query.sql).to_arrow_table()
        return got.rename_columns(query.schema.names).cast(query.schema)
    with store.con.con.cursor() as cur:
        cur.execute(query.sql)
        rows = cur.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(query.schema)
    return pa.table(
        [_array(col, f.type) for col, f in zip(columns, query.schema, strict=True)],
        schema=query.schema,
    )


def _array(values: Sequence[Any], arrow_type: pa.DataType) -> pa.Array:
    """Driver values as ``arrow_type`` (a float literal arrives from psycopg as a Decimal)."""
    try:
        return pa.array(values, type=arrow_type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return pa.array(values).cast(arrow_type)
