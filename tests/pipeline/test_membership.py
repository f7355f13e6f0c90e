"""pipeline.membership: ``a IN … OR b IN …`` as left joins on distinct keys (issue 11).

The same rows as the ``IN`` filter on every engine, NULL keys and keys listed twice
included; and on PostgreSQL the compiled SQL has no sub-SELECT under an ``OR`` (which its
planner cannot hash past ``work_mem``: a scan of the keys per row).
"""

from __future__ import annotations

import pyarrow as pa
import pytest
import sqlglot as sg
import sqlglot.expressions as sge

from aftercare.pipeline.membership import matching_any, with_membership
from conftest import load_tables

ROWS = pa.table(
    {
        "row_id": pa.array([1, 2, 3, 4, 5, 6, 7], pa.int64()),
        "customer_id": pa.array(["C1", "C2", None, "C9", "C3", None, "C2"], pa.string()),
        "vin": pa.array(["V1", "V8", "V2", "V9", None, None, "V2"], pa.string()),
    }
)
#: C2 and V2 listed twice: a row still comes out once.
CUSTOMERS = pa.table({"customer_id": pa.array(["C2", "C3", "C2", None], pa.string())})
VEHICLES = pa.table({"vin": pa.array(["V2", "V9", "V2"], pa.string())})


def _ids(table) -> list[int]:
    return sorted(table.to_pyarrow().column("row_id").to_pylist())


def test_matching_any_keeps_the_rows_an_or_of_ins_keeps(backend):
    t = load_tables(backend, {"rows": ROWS, "customers": CUSTOMERS, "vehicles": VEHICLES})
    rows, ids, vins = t["rows"], t["customers"].customer_id, t["vehicles"].vin
    got = matching_any(rows, customer_id=ids, vin=vins)
    # By hand: C2 (rows 2, 7), C3 (row 5); V2 (rows 3, 7), V9 (row 4).
    assert _ids(got) == [2, 3, 4, 5, 7]
    assert _ids(got) == _ids(rows.filter(rows.customer_id.isin(ids) | rows.vin.isin(vins)))
    assert got.columns == rows.columns


def test_with_membership_flags_each_key_and_keeps_every_row_once(backend):
    t = load_tables(backend, {"rows": ROWS, "customers": CUSTOMERS, "vehicles": VEHICLES})
    rows = t["rows"]
    flagged = with_membership(rows, customer_id=t["customers"].customer_id, vin=t["vehicles"].vin)
    got = {
        r["row_id"]: (r["_in_customer_id"], r["_in_vin"]) for r in flagged.to_pyarrow().to_pylist()
    }
    assert got == {
        1: (False, False),
        2: (True, False),
        3: (False, True),  # a NULL customer is in no list
        4: (False, True),
        5: (True, False),  # nor a NULL vin
        6: (False, False),
        7: (True, True),
    }


def test_no_sub_select_under_an_or_on_postgres(backend):
    if backend.name != "postgres":
        pytest.skip("the OR-of-IN plan is PostgreSQL's problem")
    t = load_tables(backend, {"rows": ROWS, "customers": CUSTOMERS, "vehicles": VEHICLES})
    expr = matching_any(t["rows"], customer_id=t["customers"].customer_id, vin=t["vehicles"].vin)
    tree = sg.parse_one(backend.compile(expr), dialect="postgres")
    for where in tree.find_all(sge.Or):
        assert not list(where.find_all(sge.In)), where.sql()
