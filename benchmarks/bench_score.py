"""Scoring benchmark: the whole `aftercare score` vs a raw DuckDB RFM query vs lifetimes.

Targets (issue 3), on the demo dealer at 1M customers / ~10M orders:
- whole scoring (RFM+L, tiers, previous tier, snapshot stored, tier mix) ≤ 2× a single raw
  DuckDB SQL that computes only recency/frequency/monetary per customer on the same tables;
- ≥ 3× faster than lifetimes' ``summary_data_from_transaction_data`` on the same orders;
- peak memory ≤ 4 GB.

Each contender runs in its own fresh process (so its peak RSS is its own), on a copy of the
same store, in the same run; results are reported as ratios. Aftercare is timed as it is used
each quarter: the previous quarter's snapshot is stored (untimed set-up), this date's is new.

    aftercare demo --customers 1000000 --db /tmp/bench.duckdb --out /tmp/bench-demo
    python benchmarks/bench_score.py --db /tmp/bench.duckdb --as-of 2026-06-30
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAW_RFM_SQL = """
CREATE TEMP TABLE raw_rfm AS
WITH orders AS (
    SELECT o.order_id, coalesce(o.customer_id, v.customer_id) AS customer_id, o.vin,
           o.open_date, o.total_amount, o.payer
    FROM service_orders o LEFT JOIN vehicles v ON o.vin = v.vin
    WHERE o.open_date <= DATE '{as_of}'
)
SELECT c.customer_id,
       DATE '{as_of}' - max(o.open_date) FILTER (WHERE o.total_amount >= 0) AS recency_days,
       count(DISTINCT (o.vin, o.open_date)) FILTER (
           WHERE o.total_amount >= 0 AND o.open_date >= DATE '{as_of}' - 365) AS frequency,
       coalesce(sum(o.total_amount) FILTER (
           WHERE o.payer IN ('customer', 'insurance') AND o.open_date >= DATE '{as_of}' - 365), 0)
           AS monetary
FROM customers c LEFT JOIN orders o ON o.customer_id = c.customer_id
GROUP BY c.customer_id
"""

CHILD = {
    "raw_sql": """
import duckdb, resource, time, sys
con = duckdb.connect(sys.argv[1])
start = time.perf_counter()
con.execute({sql!r})
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
""",
    "aftercare": """
import datetime as dt, resource, time, sys
from aftercare.config import DEFAULT_CONFIG
from aftercare.services.scoring import score_snapshot
from aftercare.store import open_store
store = open_store(sys.argv[1])
as_of = dt.date.fromisoformat(sys.argv[2])
# Untimed set-up, the quarterly routine: last quarter's snapshot exists, this date's does not.
store.con.con.execute("DELETE FROM customer_scores")
score_snapshot(store, as_of - dt.timedelta(days=91), DEFAULT_CONFIG)
store.con.con.execute("CHECKPOINT")
start = time.perf_counter()
run = score_snapshot(store, as_of, DEFAULT_CONFIG)
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
assert run.customers > 0 and run.previous_as_of is not None
""",
    "lifetimes": """
import duckdb, resource, time, sys
from lifetimes.utils import summary_data_from_transaction_data
con = duckdb.connect(sys.argv[1], read_only=True)
orders = con.execute('''
    SELECT coalesce(o.customer_id, v.customer_id) AS customer_id, o.open_date,
           CAST(o.total_amount AS DOUBLE) AS total
    FROM service_orders o LEFT JOIN vehicles v ON o.vin = v.vin
    WHERE o.open_date <= DATE '{as_of}' AND o.total_amount >= 0
''').df()
start = time.perf_counter()
summary = summary_data_from_transaction_data(
    orders, "customer_id", "open_date", monetary_value_col="total",
    observation_period_end="{as_of}")
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
""",
}


def run_child(name: str, db: Path, as_of: str) -> dict:
    """Run one contender in a fresh process; return its time and peak RSS."""
    code = CHILD[name].format(sql=RAW_RFM_SQL.format(as_of=as_of), as_of=as_of)
    proc = subprocess.run(
        [sys.executable, "-c", code, str(db), as_of], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed:\n{proc.stderr[-3000:]}")
    seconds, peak_kb = proc.stdout.strip().splitlines()[-1].split()[-2:]
    return {"seconds": round(float(seconds), 3), "peak_rss_mb": round(int(peak_kb) / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="store made by `aftercare demo`")
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--skip-lifetimes", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; medians reported")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    names = ["raw_sql", "aftercare"] + ([] if args.skip_lifetimes else ["lifetimes"])
    runs: dict[str, list[dict]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):  # interleaved, so a slow spell hits every contender
            for name in names:
                copy = Path(tmp) / f"{name}.duckdb"
                shutil.copy(args.db, copy)
                start = time.perf_counter()
                run = run_child(name, copy, args.as_of)
                run["wall_s"] = round(time.perf_counter() - start, 1)
                runs[name].append(run)
                copy.unlink()
    results = {
        name: {
            "seconds": round(statistics.median(r["seconds"] for r in rs), 3),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in rs),
            "runs_s": [r["seconds"] for r in rs],
        }
        for name, rs in runs.items()
    }
    raw, ours = results["raw_sql"]["seconds"], results["aftercare"]["seconds"]
    summary = {
        "as_of": args.as_of,
        **results,
        "aftercare_vs_raw_sql": round(ours / raw, 2),
        "target_vs_raw_sql": 2.0,
        "aftercare_peak_rss_mb": results["aftercare"]["peak_rss_mb"],
        "target_peak_rss_mb": 4096,
    }
    if "lifetimes" in results:
        summary["lifetimes_vs_aftercare"] = round(results["lifetimes"]["seconds"] / ours, 2)
        summary["target_lifetimes_vs_aftercare"] = 3.0
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
