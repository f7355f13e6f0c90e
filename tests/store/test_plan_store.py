"""Compiled plans kept on disk (issue 11): a new process reads them instead of compiling.

A second store object on the same store stands for the next process: it must compile
nothing, read every template an engine run needs, and get for each query exactly the SQL a
direct compile gives for its dates. Anything the SQL depends on (the code, the store's
tables) is a different file; a broken or unwritable cache only costs a compile.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from aftercare.config import DEFAULT_CONFIG
from aftercare.services.actions import generate_actions
from aftercare.services.demo import run_demo
from aftercare.services.scoring import score_snapshot
from aftercare.store import open_store, plan_store
from aftercare.store.transaction import compile_query

END = dt.date(2025, 6, 30)


@pytest.fixture
def kept(monkeypatch, tmp_path):
    """Kept plans switched on, in a folder of this test's own."""
    monkeypatch.setenv(plan_store.SWITCH_ENV, "on")
    monkeypatch.setenv(plan_store.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache" / "plans"


@pytest.fixture(scope="module")
def demo_url(shared_store_url, tmp_path_factory):
    out = tmp_path_factory.mktemp("plan-store-demo")
    demo = run_demo(150, seed=7, as_of=END, out_dir=out, db=shared_store_url)
    store = open_store(demo.db_url)
    score_snapshot(store, dt.date(2025, 3, 31), DEFAULT_CONFIG)
    store.close()
    return demo.db_url


def test_the_next_process_reads_the_plans_and_compiles_nothing(demo_url, kept, compiled_calls):
    first = open_store(demo_url)
    generate_actions(first, dt.date(2025, 7, 1), DEFAULT_CONFIG)  # the store's first: full
    score_snapshot(first, dt.date(2025, 6, 30), DEFAULT_CONFIG)
    # Incremental runs (issue 11): after a new snapshot, and after none.
    generate_actions(first, dt.date(2025, 7, 2), DEFAULT_CONFIG)
    generate_actions(first, dt.date(2025, 7, 3), DEFAULT_CONFIG)
    written = first.plans.compiled
    first.close()
    assert written > 5
    assert len(list(kept.glob("*.json"))) == written
    compiled_calls.clear()

    second = open_store(demo_url)  # a new process: nothing compiled in memory
    generate_actions(second, dt.date(2025, 7, 4), DEFAULT_CONFIG)
    score_snapshot(second, dt.date(2025, 7, 4), DEFAULT_CONFIG)
    assert second.plans.compiled == 0
    assert 5 < second.plans.loaded < written  # not the first run's full plan's state
    for _, build, dates, sql in compiled_calls:  # what was read is what a compile gives today
        assert sql == compile_query(second, build(dates)).sql, dates
    second.close()


def test_another_code_or_table_layout_is_another_file(demo_url, kept, monkeypatch):
    store = open_store(demo_url)
    generate_actions(store, dt.date(2025, 7, 5), DEFAULT_CONFIG)
    store.close()

    monkeypatch.setattr(plan_store, "code_fingerprint", lambda: "another version")
    store = open_store(demo_url)
    generate_actions(store, dt.date(2025, 7, 6), DEFAULT_CONFIG)
    assert store.plans.loaded == 0
    assert store.plans.compiled > 0
    store.close()


def test_the_tables_columns_are_part_of_the_name(tmp_path):
    path = tmp_path / "layout.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE customers (customer_id VARCHAR)")
    con.close()
    store = open_store(str(path))
    before = plan_store.schema_fingerprint(store)
    store.con.con.execute("ALTER TABLE customers ADD COLUMN nickname VARCHAR")
    after = plan_store.schema_fingerprint(store)
    store.con.con.execute("ALTER TABLE customers DROP COLUMN nickname")
    assert before != after
    assert plan_store.schema_fingerprint(store) == before
    store.close()


def test_a_broken_file_or_an_unwritable_folder_only_costs_a_compile(demo_url, kept, monkeypatch):
    store = open_store(demo_url)
    generate_actions(store, dt.date(2025, 7, 5), DEFAULT_CONFIG)
    store.close()
    for path in kept.glob("*.json"):
        path.write_text("{not json", encoding="utf-8")
    store = open_store(demo_url)
    run = generate_actions(store, dt.date(2025, 7, 6), DEFAULT_CONFIG)
    assert store.plans.loaded == 0
    assert store.plans.compiled > 0
    assert run.as_of == dt.date(2025, 7, 6)
    store.close()

    # A file where the folder should be: nothing can be written (as root too).
    blocked = kept.parent.parent / "blocked"
    blocked.write_text("", encoding="utf-8")
    monkeypatch.setenv(plan_store.CACHE_ENV, str(blocked))
    store = open_store(demo_url)
    generate_actions(store, dt.date(2025, 7, 7), DEFAULT_CONFIG)
    assert store.plans.compiled > 0
    store.close()


def test_switched_off_nothing_is_written(demo_url, kept, monkeypatch):
    monkeypatch.setenv(plan_store.SWITCH_ENV, "off")
    store = open_store(demo_url)
    generate_actions(store, dt.date(2025, 7, 8), DEFAULT_CONFIG)
    store.close()
    assert not kept.exists() or not list(kept.glob("*.json"))


def test_only_the_latest_templates_are_kept(demo_url, kept, monkeypatch):
    monkeypatch.setattr(plan_store, "MAX_FILES", 3)
    store = open_store(demo_url)
    generate_actions(store, dt.date(2025, 7, 9), DEFAULT_CONFIG)
    assert store.plans.compiled > 3
    store.close()
    assert len(list(kept.glob("*.json"))) == 3
