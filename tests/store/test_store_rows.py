"""The store's row-level writes (append, insert new keys, update by key, set where in, delete a
file's quarantine) inside one transaction, on DuckDB and PostgreSQL; a Spark lake refuses them."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from aftercare.errors import NotBuiltError
from aftercare.schema.playbook import ACTION_MOVES, CONTACT_PREFERENCES, DEDICATED_ADVISORS
from aftercare.schema.system import LOAD_LOG, REJECTED_ROWS
from aftercare.store import open_store
from aftercare.store.rows import (
    append_rows,
    delete_file_rejects,
    insert_new_rows,
    set_where_in,
    update_by_key,
)
from aftercare.store.transaction import transaction

DAY = dt.date(2025, 6, 30)


def _advisors(rows: list[tuple[str, str]]) -> pa.Table:
    return pa.table(
        {
            "customer_id": [c for c, _ in rows],
            "advisor_id": [a for _, a in rows],
            "assigned_on": [DAY] * len(rows),
        },
        schema=DEDICATED_ADVISORS.to_pyarrow(),
    )


def _sorted(store, table: str, by: str) -> list[dict]:
    return store.table(table).order_by(by).to_pyarrow().to_pylist()


def test_append_and_insert_only_new_keys(store_url):
    with open_store(store_url) as store:
        with transaction(store):
            append_rows(store, "dedicated_advisors", _advisors([("C1", "A1"), ("C2", "A2")]))
            append_rows(store, "dedicated_advisors", _advisors([]))  # nothing to do
        with transaction(store):
            insert_new_rows(
                store,
                "dedicated_advisors",
                _advisors([("C2", "A9"), ("C3", "A3")]),
                key="customer_id",
            )
        rows = _sorted(store, "dedicated_advisors", "customer_id")
        assert [(r["customer_id"], r["advisor_id"]) for r in rows] == [
            ("C1", "A1"),
            ("C2", "A2"),  # kept: its key was stored already
            ("C3", "A3"),
        ]
        assert rows[0]["assigned_on"] == DAY


def test_update_by_key_and_set_where_in(store_url):
    with open_store(store_url) as store:
        with transaction(store):
            append_rows(store, "dedicated_advisors", _advisors([("C1", "A1"), ("C2", "A2")]))
        moves = pa.table({"customer_id": ["C2"], "advisor_id": ["A7"]})
        with transaction(store):
            update_by_key(
                store, "dedicated_advisors", key="customer_id", column="advisor_id", values=moves
            )
        t = store.table("dedicated_advisors")
        keys = t.filter(t.customer_id == "C1").select("customer_id")
        with transaction(store):
            set_where_in(
                store,
                "dedicated_advisors",
                column="advisor_id",
                value="it's A0",
                key="customer_id",
                keys=keys,
            )
        rows = _sorted(store, "dedicated_advisors", "customer_id")
        assert [r["advisor_id"] for r in rows] == ["it's A0", "A7"]


def test_a_failure_inside_the_transaction_writes_nothing(store_url):
    with open_store(store_url) as store:
        with pytest.raises(RuntimeError), transaction(store):
            append_rows(store, "dedicated_advisors", _advisors([("C1", "A1")]))
            raise RuntimeError("boom")
        assert store.table("dedicated_advisors").count().to_pyarrow().as_py() == 0


def _rejects(load_id: str, source_file: str) -> pa.Table:
    return pa.table(
        {
            "load_id": [load_id],
            "table_name": ["action_outcomes"],
            "source_file": [source_file],
            "source_row": [2],
            "column_name": ["result"],
            "reason": ["unknown result"],
            "raw_record": ["{}"],
            "rejected_at": [dt.datetime(2025, 6, 30, 9)],
        },
        schema=REJECTED_ROWS.to_pyarrow(),
    )


def _log(load_id: str, source_file: str, source_path: str) -> pa.Table:
    schema = LOAD_LOG.to_pyarrow()
    values = {name: [None] for name in schema.names}
    values.update(
        load_id=[load_id],
        table_name=["action_outcomes"],
        source_file=[source_file],
        source_path=[source_path],
    )
    return pa.table(values, schema=schema)


def test_delete_file_rejects_only_of_the_same_path(store_url):
    """R-IN-1: a log imported again replaces its quarantine; the same name elsewhere keeps its."""
    with open_store(store_url) as store:
        with transaction(store):
            for load_id, path in (("L1", "/a/log.csv"), ("L2", "/b/log.csv")):
                append_rows(store, "load_log", _log(load_id, "log.csv", path))
                append_rows(store, "rejected_rows", _rejects(load_id, "log.csv"))
        with transaction(store):
            delete_file_rejects(store, "action_outcomes", "log.csv", "/a/log.csv")
        left = store.table("rejected_rows").to_pyarrow().column("load_id").to_pylist()
        assert left == ["L2"]


def test_moves_and_preferences_append_with_their_types(store_url):
    with open_store(store_url) as store:
        moves = pa.table(
            {
                "action_id": ["X1"],
                "moved_on": [DAY],
                "from_due_date": [DAY],
                "to_due_date": [DAY + dt.timedelta(days=7)],
                "reason": ["R-ACT-CAP"],
            },
            schema=ACTION_MOVES.to_pyarrow(),
        )
        prefs = pa.table(
            {
                "customer_id": ["C1"],
                "do_not_contact": [True],
                "set_at": [dt.datetime(2025, 6, 30, 9, 30, 0, 123456)],
                "source": ["outcome:O1"],
            },
            schema=CONTACT_PREFERENCES.to_pyarrow(),
        )
        with transaction(store):
            append_rows(store, "action_moves", moves)
            append_rows(store, "contact_preferences", prefs)
        assert store.table("action_moves").to_pyarrow().to_pylist() == moves.to_pylist()
        assert store.table("contact_preferences").to_pyarrow().to_pylist() == prefs.to_pylist()


def test_spark_lake_refuses_row_writes(tmp_path):
    pytest.importorskip("pyspark")
    with open_store(f"spark://{tmp_path / 'lake'}") as store:
        assert not store.has_transactions
        with pytest.raises(NotBuiltError, match="need a DuckDB or PostgreSQL store"):
            append_rows(store, "dedicated_advisors", _advisors([("C1", "A1")]))
        with pytest.raises(NotBuiltError), transaction(store):
            pass
