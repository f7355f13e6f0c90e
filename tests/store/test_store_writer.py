"""R-IN-2 / R-IN-3 at the storage layer, on DuckDB and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap

import pyarrow as pa

from aftercare.schema import table_spec
from aftercare.schema.system import LOAD_LOG, LOAD_WARNINGS, REJECTED_ROWS
from aftercare.store import open_store
from aftercare.store.lineage import stage_rows
from aftercare.store.load import FAULT_ENV, LoadBatch
from aftercare.store.writer import apply_load
from factories import make_table

AT = dt.datetime(2024, 5, 1, 12, 0)


def _batch(rows: list[dict], load_id: str, source_file: str = "orders.csv") -> LoadBatch:
    spec = table_spec("service_orders")
    canonical = make_table("service_orders", rows)
    good = canonical.select([*spec.column_names, *spec.raw_text_columns, "source_row"])
    staged = stage_rows(good, spec, source_file=source_file, load_id=load_id, loaded_at=AT)
    log_schema = LOAD_LOG.to_pyarrow()
    log = pa.table(
        {
            "load_id": [load_id],
            "table_name": ["service_orders"],
            "source_file": [source_file],
            "file_sha256": ["x"],
            "started_at": [AT],
            "finished_at": [AT],
            "rows_read": [len(rows)],
            "rows_inserted": [0],
            "rows_replaced": [0],
            "rows_unchanged": [0],
            "rows_rejected": [0],
            "warnings": [0],
            "source_path": [f"/imports/{source_file}"],
        },
        schema=log_schema,
    )
    return LoadBatch(
        spec,
        source_file,
        f"/imports/{source_file}",
        load_id,
        staged,
        REJECTED_ROWS.to_pyarrow().empty_table(),
        LOAD_WARNINGS.to_pyarrow().empty_table(),
        log,
    )


ROWS = [
    {"order_id": "A1", "vin": "LSVAA4182E2000001", "open_date": "2024-01-05", "total_amount": 500},
    {"order_id": "A2", "customer_id": "C9", "open_date": "2024-02-05", "total_amount": "1234.50"},
]


def _orders(store) -> list[dict]:
    t = store.table("service_orders")
    return t.order_by("order_id").select("order_id", "total_amount").to_pyarrow().to_pylist()


def test_load_twice_changes_nothing(store_url):
    """R-IN-2: the same rows loaded again are unchanged, nothing duplicated."""
    with open_store(store_url) as store:
        first = apply_load(store, _batch(ROWS, "L1"))
        second = apply_load(store, _batch(ROWS, "L2", source_file="copy.csv"))
        assert (first.inserted, first.replaced, first.unchanged) == (2, 0, 0)
        assert (second.inserted, second.replaced, second.unchanged) == (0, 0, 2)
        assert len(_orders(store)) == 2
        assert store.table("row_history").count().to_pyarrow().as_py() == 0
        logged = store.table("load_log").order_by("load_id").to_pyarrow().to_pylist()
        assert [r["rows_unchanged"] for r in logged] == [0, 2]


def test_changed_row_replaces_and_is_recorded(store_url):
    """R-IN-2: a newer version of a row replaces the old one; the old one is kept as JSON."""
    changed = [dict(ROWS[0], total_amount=650), ROWS[1]]
    with open_store(store_url) as store:
        apply_load(store, _batch(ROWS, "L1"))
        counts = apply_load(store, _batch(changed, "L2"))
        assert (counts.inserted, counts.replaced, counts.unchanged) == (1, 1, 1)
        amounts = {r["order_id"]: float(r["total_amount"]) for r in _orders(store)}
        assert amounts == {"A1": 650.0, "A2": 1234.5}
        history = store.table("row_history").to_pyarrow().to_pylist()
        assert len(history) == 1
        assert history[0]["natural_key"] == "A1"
        assert history[0]["load_id"] == "L2"
        assert float(json.loads(history[0]["old_record"])["total_amount"]) == 500.0


CRASHING_LOAD = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from test_store_writer import _batch, ROWS
    from aftercare.store import open_store
    from aftercare.store.writer import apply_load
    store = open_store({url!r})
    apply_load(store, _batch([dict(r, total_amount=9) for r in ROWS] + [
        {{"order_id": "A3", "customer_id": "C1", "open_date": "2024-03-01", "total_amount": 1}}
    ], "L2"))
    """
)


def test_kill_9_mid_load_leaves_previous_state(store_url):
    """R-IN-3: a process killed inside the load leaves the store as it was."""
    with open_store(store_url) as store:
        apply_load(store, _batch(ROWS, "L1"))
        before = _orders(store)
    tests_dir = os.path.join(os.path.dirname(__file__))
    script = CRASHING_LOAD.format(tests=os.path.dirname(tests_dir), url=store_url)
    env = dict(os.environ, **{FAULT_ENV: "mid-load"})
    env["PYTHONPATH"] = os.pathsep.join([tests_dir, os.path.dirname(tests_dir)])
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, timeout=120)
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    with open_store(store_url) as store:
        assert _orders(store) == before
        assert store.table("load_log").count().to_pyarrow().as_py() == 1
        assert store.table("row_history").count().to_pyarrow().as_py() == 0


def test_store_made_by_an_older_version_gains_new_columns(store_url):
    """Opening a store whose load_log lacks a column added since adds it; no row is lost."""
    with open_store(store_url) as store:
        apply_load(store, _batch(ROWS, "L1"))
        store.con.raw_sql('ALTER TABLE load_log DROP COLUMN "source_path"')
        assert "source_path" not in store.table("load_log").columns
    with open_store(store_url) as store:
        log = store.table("load_log")
        assert "source_path" in log.columns
        assert log.count().to_pyarrow().as_py() == 1
        assert len(_orders(store)) == 2
