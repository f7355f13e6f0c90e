"""The store's row-level writes (append, insert new keys, update by key, set where in, delete a
file's quarantine) inside one transaction, on DuckDB and PostgreSQL; a Spark lake refuses them.

Inserts report the keys they stored and skip keys another session stored meanwhile (issue 9,
item 6); a compiled query returns what its expression does."""

from __future__ import annotations

import datetime as dt
import threading

import ibis
import pyarrow as pa
import pytest

from aftercare.errors import NotBuiltError
from aftercare.schema.playbook import ACTION_MOVES, ACTIONS, CONTACT_PREFERENCES, DEDICATED_ADVISORS
from aftercare.schema.system import LOAD_LOG, REJECTED_ROWS
from aftercare.store import open_store
from aftercare.store.rows import (
    append_rows,
    delete_file_rejects,
    insert_new_rows,
    set_where_in,
    update_by_key,
)
from aftercare.store.transaction import compile_query, fetch_compiled, transaction
from aftercare.store.updates import update_many

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


def test_update_many_sets_each_row_its_value_and_a_repeated_key_its_last(store_url):
    """The engine's moves go through update_many (one statement on DuckDB): each key gets
    its own value, a key given twice its last one, as one UPDATE per row would leave it."""
    with open_store(store_url) as store:
        with transaction(store):
            append_rows(
                store,
                "dedicated_advisors",
                _advisors([("C1", "A1"), ("C2", "A2"), ("C3", "A3")]),
            )
        values = pa.table({"customer_id": ["C3", "C1", "C3"], "advisor_id": ["A8", "A5", "A9"]})
        with transaction(store):
            given = update_many(
                store, "dedicated_advisors", key="customer_id", column="advisor_id", values=values
            )
        assert given == 3
        rows = _sorted(store, "dedicated_advisors", "customer_id")
        assert [r["advisor_id"] for r in rows] == ["A5", "A2", "A9"]


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


def _actions(ids: list[str]) -> pa.Table:
    return pa.table(
        {
            "action_id": ids,
            "rule_id": ["A-WELCOME"] * len(ids),
            "customer_id": [f"C-{i}" for i in ids],
            "due_date": [DAY] * len(ids),
            "status": ["open"] * len(ids),
        },
        schema=pa.schema([ACTIONS.to_pyarrow().field(n) for n in ACTIONS_COLUMNS]),
    )


ACTIONS_COLUMNS = ("action_id", "rule_id", "customer_id", "due_date", "status")


def test_insert_new_rows_returns_the_keys_it_inserted(store_url):
    """Issue 9 item 6: a run counts what it stored, not what it meant to store."""
    with open_store(store_url) as store:
        with transaction(store):
            first = insert_new_rows(store, "actions", _actions(["X1", "X2"]))
        with transaction(store):
            second = insert_new_rows(store, "actions", _actions(["X2", "X3"]))
            empty = insert_new_rows(store, "actions", _actions([]))
        assert first.column("action_id").to_pylist() == ["X1", "X2"]
        assert second.column("action_id").to_pylist() == ["X3"]
        assert empty.num_rows == 0 and empty.column_names == ["action_id"]
        assert [r["action_id"] for r in _sorted(store, "actions", "action_id")] == [
            "X1",
            "X2",
            "X3",
        ]


def test_insert_new_rows_on_postgres_without_the_key_index_still_skips_stored_keys(store_url):
    """Issue 11: where the key's unique index stands PostgreSQL's insert leans on it alone (an
    anti-join planned on an empty table re-read the rows inserted so far for every row);
    where the data broke the key and the index is missing, the anti-join still decides."""
    from aftercare.store.keys import key_index_name

    if not store_url.startswith("postgresql"):
        pytest.skip("the unique key indexes are PostgreSQL's")
    with open_store(store_url) as store:
        with transaction(store):
            insert_new_rows(store, "actions", _actions(["X1", "X2"]))
        store.con.raw_sql(f'DROP INDEX "{key_index_name("actions")}"')
        with transaction(store):
            again = insert_new_rows(store, "actions", _actions(["X2", "X3"]))
        assert again.column("action_id").to_pylist() == ["X3"]
        assert [r["action_id"] for r in _sorted(store, "actions", "action_id")] == [
            "X1",
            "X2",
            "X3",
        ]


def test_insert_new_rows_defaults_to_the_declared_key(store_url):
    """dedicated_advisors is keyed by customer and day: a new day is a new assignment."""
    later = _advisors([("C1", "A2")]).set_column(
        2, "assigned_on", pa.array([DAY + dt.timedelta(days=1)], pa.date32())
    )
    with open_store(store_url) as store:
        with transaction(store):
            assert insert_new_rows(store, "dedicated_advisors", _advisors([("C1", "A1")])).num_rows
            again = insert_new_rows(store, "dedicated_advisors", _advisors([("C1", "A9")]))
            moved = insert_new_rows(store, "dedicated_advisors", later)
        assert again.num_rows == 0
        assert moved.to_pylist() == [{"customer_id": "C1", "assigned_on": DAY + dt.timedelta(1)}]
        rows = _sorted(store, "dedicated_advisors", "assigned_on")
        assert [r["advisor_id"] for r in rows] == ["A1", "A2"]


@pytest.fixture
def pg_url(tmp_path):
    """A fresh PostgreSQL database (skipped with the reason when there is no server)."""
    from store_fixtures import make_store_url

    yield from make_store_url("postgres", tmp_path)


@pytest.mark.postgres
def test_concurrent_inserts_of_one_key_store_it_once(pg_url):
    """Issue 9 item 6: two sessions insert the same action at once; it is stored once.

    The second session's anti-join cannot see the first's uncommitted row: the unique key
    makes it wait, and ``ON CONFLICT DO NOTHING`` then skips the row (it crashed with a
    ``UniqueViolation``, or stored the row twice where there was no key).
    """
    with open_store(pg_url) as first, open_store(pg_url) as second:
        got: dict[str, pa.Table] = {}

        def insert_second() -> None:
            with transaction(second):
                got["second"] = insert_new_rows(second, "actions", _actions(["K2", "K3"]))

        with transaction(first):
            got["first"] = insert_new_rows(first, "actions", _actions(["K1", "K2"]))
            racer = threading.Thread(target=insert_second)
            racer.start()
            racer.join(1.0)  # blocked on K2 until the first commits
            assert racer.is_alive()
        racer.join(30)
        assert got["first"].column("action_id").to_pylist() == ["K1", "K2"]
        assert got["second"].column("action_id").to_pylist() == ["K3"]
        ids = first.table("actions").to_pyarrow().column("action_id").to_pylist()
        assert sorted(ids) == ["K1", "K2", "K3"]


def test_set_where_in_counts_the_rows_it_changed(store_url):
    with open_store(store_url) as store:
        with transaction(store):
            insert_new_rows(store, "actions", _actions(["S1", "S2", "S3"]))
        t = store.table("actions")
        keys = t.filter(t.action_id.isin(["S1", "S2"])).select("action_id")
        with transaction(store):
            stopped = set_where_in(
                store, "actions", column="status", value="stopped", key="action_id", keys=keys
            )
        with transaction(store):
            again = set_where_in(
                store, "actions", column="status", value="stopped", key="action_id", keys=keys
            )
        assert (stopped, again) == (2, 0)


def test_a_compiled_query_returns_what_the_expression_does(store_url):
    """The plan is compiled before the run lock and run under it: same rows, same types."""
    with open_store(store_url) as store:
        with transaction(store):
            insert_new_rows(store, "actions", _actions(["Q1", "Q2"]))
        t = store.table("actions")
        expr = t.mutate(
            days=(t.due_date - ibis.date(2025, 1, 1)).cast("int64"),
            is_first=t.action_id == "Q1",
            half_length=t.action_id.length().cast("float64") / 2,
        ).order_by("action_id")
        query = compile_query(store, expr)
        assert fetch_compiled(store, query).equals(expr.to_pyarrow())
        nothing = expr.filter(expr.action_id == "none")
        assert fetch_compiled(store, compile_query(store, nothing)).equals(nothing.to_pyarrow())
        # An in-memory table's data is not in the SQL: such an expression runs as it is.
        memory = ibis.memtable({"a": [1, 2]})
        assert fetch_compiled(store, compile_query(store, memory)).equals(memory.to_pyarrow())
