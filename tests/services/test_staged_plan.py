"""A large incremental run's staged plan inputs (issue 11, :mod:`aftercare.services.staged_plan`).

The rows of several tables kept in one (``stacked``) read back as they were (``unstacked``);
the candidates in the staged statement are computed at each use (``compute_per_use``), not
kept whole. That a staged run stores what the other ways do, on DuckDB and PostgreSQL, is
``test_actions_incremental_engines.py``'s.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa
import sqlglot
import sqlglot.expressions as sge

from aftercare.services.staged_plan import STAGED_PART, stacked, unstacked
from aftercare.store.transaction import compute_per_use


def _sorted(table: pa.Table) -> list[dict]:
    return sorted(table.to_pylist(), key=repr)


def test_stacked_parts_read_back_as_they_were():
    con = ibis.duckdb.connect()
    wake = pa.table(
        {
            "customer_id": ["C1", "C2"],
            "wake_on": pa.array([dt.date(2026, 7, 3), None], pa.date32()),
        }
    )
    cands = pa.table(
        {
            "customer_id": ["C1", None, "C3"],
            "due_date": pa.array([dt.date(2026, 7, 1)] * 3, pa.date32()),
            "priority": pa.array([1, 2, None], pa.int64()),
            "evidence": ['{"a": 1}', None, "{}"],
        }
    )
    empty = pa.table({"customer_id": pa.array([], pa.string()), "ltv": pa.array([], pa.float64())})
    originals = {"wake": wake, "cands": cands, "none": empty}
    parts = {name: ibis.memtable(t) for name, t in originals.items()}
    rows = con.create_table("staged", stacked(parts))
    assert rows.columns[0] == STAGED_PART
    # Each part's column keeps its name and type; other parts' rows hold NULL in it.
    assert rows.schema()["cands__priority"] == ibis.dtype("int64")
    assert rows.count().execute() == 5
    for name, original in originals.items():
        back = con.to_pyarrow(unstacked(rows, name))
        assert back.schema.names == original.schema.names
        assert back.schema.types == original.schema.types
        assert _sorted(back) == _sorted(original)


def test_compute_per_use_inlines_the_ctes_that_output_the_column():
    sql = (
        "WITH c AS (SELECT 1 AS customer_id, 'x' AS evidence), "
        "n AS (SELECT count(*) AS rows_n FROM c), "
        "w AS (SELECT customer_id FROM c) "
        "SELECT * FROM c, n, w"
    )
    tree = compute_per_use(sqlglot.parse_one(sql, read="duckdb"), "evidence")
    materialized = {cte.alias: cte.args.get("materialized") for cte in tree.find_all(sge.CTE)}
    # Only the CTE with an output column of that name: the others as the engine decides.
    assert materialized == {"c": False, "n": None, "w": None}
    assert "c AS NOT MATERIALIZED (" in tree.sql("duckdb")
    con = ibis.duckdb.connect()
    assert con.con.execute(tree.sql("duckdb")).fetchall() == [(1, "x", 1, 1)]
