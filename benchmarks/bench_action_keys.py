"""Issue 9 item 6: what a unique index on ``actions(action_id)`` would cost a DuckDB store.

PostgreSQL enforces the engine tables' keys with unique indexes (concurrent sessions need
them for ``ON CONFLICT``). DuckDB lets one process write a file at a time, so the anti-join
of :func:`aftercare.store.rows.insert_new_rows` alone keeps ``action_id`` unique there; an ART
index would only add a second guard. This measures its price: the same inserts through
``insert_new_rows`` into a fresh store with and without the index — a first run storing
``--actions`` actions, then a daily run of 2,000 (half of them already stored) — and the
file sizes.

    python benchmarks/bench_action_keys.py --actions 300000 \
        --json benchmarks/results/action_keys.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

import pyarrow as pa

from aftercare.schema.playbook import ACTIONS
from aftercare.store import open_store
from aftercare.store.rows import insert_new_rows
from aftercare.store.transaction import execute, transaction

DAILY = 2_000


def actions(first: int, n: int) -> pa.Table:
    """``n`` actions with ids ``first`` … ``first + n - 1`` (realistic widths)."""
    day = dt.date(2026, 6, 30)
    ids = range(first, first + n)
    values = {
        "action_id": [f"A{i:011x}" for i in ids],
        "rule_id": [("A-WELCOME", "A-MAINT-DUE", "A-WINBACK")[i % 3] for i in ids],
        "trigger_key": [f"LSVAA4182E2{i:06d}|2026-06-30" for i in ids],
        "trigger_date": [day] * n,
        "customer_id": [f"C{i % 200_000:07d}" for i in ids],
        "vin": [f"LSVAA4182E2{i:06d}" for i in ids],
        "store_id": ["SZ01"] * n,
        "advisor_id": [f"SZ01-SA{i % 16:02d}" for i in ids],
        "due_date": [day] * n,
        "original_due_date": [day] * n,
        "priority": [("high", "medium", "low")[i % 3] for i in ids],
        "channel": ["phone"] * n,
        "is_marketing": [i % 2 == 0 for i in ids],
        "expected_value": [float(i % 5000) for i in ids],
        "status": ["open"] * n,
        "evidence": ['{"last_visit":"2025-06-30","tier":"gold"}'] * n,
        "created_on": [day] * n,
    }
    return pa.table(values, schema=ACTIONS.to_pyarrow())


def measure(n: int, *, indexed: bool, folder: Path) -> dict[str, float]:
    """Seconds of the first and the daily insert, and the file's size, for one store."""
    path = folder / f"actions-{'indexed' if indexed else 'plain'}.duckdb"
    first, daily = actions(0, n), actions(n - DAILY // 2, DAILY)
    with open_store(str(path)) as store:
        if indexed:
            with transaction(store):
                execute(store, 'CREATE UNIQUE INDEX "bench_actions_key" ON actions (action_id)')
        started = time.perf_counter()
        with transaction(store):
            stored = insert_new_rows(store, "actions", first).num_rows
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        with transaction(store):
            added = insert_new_rows(store, "actions", daily).num_rows
        daily_s = time.perf_counter() - started
    assert (stored, added) == (n, DAILY // 2)
    return {"first_s": first_s, "daily_s": daily_s, "file_mb": path.stat().st_size / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=300_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plain = measure(args.actions, indexed=False, folder=Path(tmp))
        indexed = measure(args.actions, indexed=True, folder=Path(tmp))
    result = {
        "actions": args.actions,
        "plain": plain,
        "indexed": indexed,
        "first_ratio": indexed["first_s"] / plain["first_s"],
        "daily_ratio": indexed["daily_s"] / plain["daily_s"],
        "file_ratio": indexed["file_mb"] / plain["file_mb"],
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
