"""Daily engine runs on a small store: compiled once against compiled every day (issue 11).

The nightly job of a small service centre (the 300-customer demo dealer of the 400-day
simulation) runs ``generate_actions`` for ``--days`` consecutive days in one process, as a
server or the simulation does. Three figures per day, all measured in the same run:

- *compiled once*: the run with the store's plan cache warm (every day after the first
  substitutes its date into SQL compiled once, :mod:`aftercare.store.plans`);
- *compiled every day* (the baseline, what every run did before): the same days on a copy of
  the same store with the cache emptied before each run;
- *DuckDB's part*: the day's compiled queries (plan, stored capacity, backlog, expiry, …)
  executed again directly on the store right after the run: the engine's floor for the
  reads. Aftercare's own time is the compiled-once run minus it (writes are Aftercare's
  here, so the figure is an upper bound).

Days alternate between the two stores (one day of each in turn) so a drift of the machine's
speed hits both alike. The first day of each is left out of the medians (it compiles).

``--processes N`` adds what a centre running ``aftercare actions`` from cron waits for: N
days, each the whole command as a new process (``--limit 1``: the list is printed too), on two
more copies, one day of each in turn: with the compiled plans kept on disk
(:mod:`aftercare.store.plan_store`, in a folder of this run's, so its first day compiles and
writes them) against ``AFTERCARE_PLAN_CACHE=off`` (every process compiles, as before).

    python benchmarks/bench_daily.py [--days 30] [--processes 15] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aftercare.config import DEFAULT_CONFIG
from aftercare.services.actions import generate_actions
from aftercare.services.demo import run_demo
from aftercare.services.scoring import score_snapshot
from aftercare.store import open_store, plans
from aftercare.store.plan_cache import PlanCache
from aftercare.store.transaction import CompiledQuery

CUSTOMERS, SEED, END = 300, 5, dt.date(2025, 6, 30)
START = dt.date(2024, 4, 27)
TARGET_OWN_S = 0.3


def _store_pair(folder: Path) -> tuple[str, str]:
    """The demo dealer scored on the first day, in two identical files."""
    demo = run_demo(CUSTOMERS, seed=SEED, as_of=END, out_dir=folder / "demo",
                    db=str(folder / "once.duckdb"))  # fmt: skip
    store = open_store(demo.db_url)
    score_snapshot(store, START, DEFAULT_CONFIG)
    store.close()
    shutil.copy(folder / "once.duckdb", folder / "every.duckdb")
    return str(folder / "once.duckdb"), str(folder / "every.duckdb")


def _engine_seconds(store, queries: list[CompiledQuery]) -> float:
    """DuckDB executing ``queries`` (fetched to Arrow), as the engine's floor for the reads."""
    native = store.con.con
    start = time.perf_counter()
    for query in queries:
        native.execute(query.sql).to_arrow_table()
    return time.perf_counter() - start


def measure(days: int, folder: Path) -> dict[str, object]:
    """Run both stores day by day; medians, ratio and Aftercare's own time."""
    once_url, every_url = _store_pair(folder)
    once, every = open_store(once_url), open_store(every_url)
    seen: list[CompiledQuery] = []
    real = plans.compiled

    def recording(store, shape, build, dates):  # the day's queries, to time them again
        query = real(store, shape, build, dates)
        if store is once:
            seen.append(query)
        return query

    plans.compiled = recording  # type: ignore[assignment]
    rows = []
    try:
        for i in range(days):
            day = START + dt.timedelta(days=i)
            seen.clear()
            start = time.perf_counter()
            created = generate_actions(once, day, DEFAULT_CONFIG).created
            warm = time.perf_counter() - start
            engine = _engine_seconds(once, list(seen))
            every.plans = PlanCache()
            start = time.perf_counter()
            generate_actions(every, day, DEFAULT_CONFIG)
            cold = time.perf_counter() - start
            rows.append({"day": day.isoformat(), "created": created,
                         "compiled_once_s": round(warm, 4), "compiled_every_day_s": round(cold, 4),
                         "duckdb_reads_s": round(engine, 4)})  # fmt: skip
    finally:
        plans.compiled = real  # type: ignore[assignment]
        once.close()
        every.close()
    later = rows[1:]
    warm_med = statistics.median(r["compiled_once_s"] for r in later)
    cold_med = statistics.median(r["compiled_every_day_s"] for r in later)
    engine_med = statistics.median(r["duckdb_reads_s"] for r in later)
    own = statistics.median(r["compiled_once_s"] - r["duckdb_reads_s"] for r in later)
    return {
        "customers": CUSTOMERS,
        "seed": SEED,
        "days": days,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "first_day_compiled_once_s": rows[0]["compiled_once_s"],
        "median_compiled_once_s": round(warm_med, 3),
        "median_compiled_every_day_s": round(cold_med, 3),
        "compiled_every_day_over_once": round(cold_med / warm_med, 2),
        "median_duckdb_reads_s": round(engine_med, 3),
        "median_aftercare_own_s": round(own, 3),
        "target_own_s": TARGET_OWN_S,
        "own_meets_target": own < TARGET_OWN_S,
        "per_day": rows,
    }


def measure_processes(days: int, folder: Path) -> dict[str, object]:
    """``aftercare actions`` as a process per day: kept plans against compiling every time."""
    (folder / "processes").mkdir()
    kept_url, off_url = _store_pair(folder / "processes")
    env = dict(os.environ, AFTERCARE_CACHE_DIR=str(folder / "plan-cache"))
    rows = []
    for i in range(days):
        day = (START + dt.timedelta(days=i)).isoformat()
        took = {}
        for name, url, switch in (("kept", kept_url, "on"), ("compiled", off_url, "off")):
            cmd = ["aftercare", "actions", "--as-of", day, "--db", url, "--limit", "1"]
            start = time.perf_counter()
            subprocess.run(cmd, env={**env, "AFTERCARE_PLAN_CACHE": switch}, check=True,
                           stdout=subprocess.DEVNULL)  # fmt: skip
            took[name] = time.perf_counter() - start
        rows.append({"day": day, "kept_plans_s": round(took["kept"], 3),
                     "compiled_s": round(took["compiled"], 3)})  # fmt: skip
    later = rows[1:]  # the first day writes the kept plans
    kept = statistics.median(r["kept_plans_s"] for r in later)
    compiled = statistics.median(r["compiled_s"] for r in later)
    return {
        "days": days,
        "first_day_kept_plans_s": rows[0]["kept_plans_s"],
        "median_kept_plans_s": round(kept, 3),
        "median_compiled_s": round(compiled, 3),
        "compiled_over_kept": round(compiled / kept, 2),
        "per_day": rows,
    }


def main() -> None:
    """Measure, print and (with ``--json``) write the result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30, help="consecutive days run")
    parser.add_argument("--processes", type=int, default=0,
                        help="also run this many days as aftercare processes")  # fmt: skip
    parser.add_argument("--json", type=Path, help="write the result here")
    args = parser.parse_args()
    # In one process the baseline empties the plans it holds; kept plans must not refill them.
    os.environ["AFTERCARE_PLAN_CACHE"] = "off"
    with tempfile.TemporaryDirectory(prefix="aftercare-daily-") as tmp:
        result = measure(args.days, Path(tmp))
        if args.processes:
            result["processes"] = measure_processes(args.processes, Path(tmp))
    for key, value in result.items():
        if key == "processes":
            for sub, figure in value.items():  # type: ignore[attr-defined]
                if sub != "per_day":
                    print(f"processes {sub:<22} {figure}")
        elif key != "per_day":
            print(f"{key:<32} {value}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
