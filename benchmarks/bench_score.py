"""Scoring benchmark: the whole `aftercare score` against the engine's floor (issue 11).

Targets, on the demo dealer at 1M customers / ~9M orders:
- the whole ``aftercare score`` command as a user runs it (process wall time: start-up,
  RFM+L, tiers, the downgrade hold, previous tier, snapshot stored, tier mix printed) ≤ 1.5×
  the floor: ``score_floor.sql``, the same work hand-written in one DuckDB SQL, run as a
  whole process too (``python`` + ``duckdb``); ``--check`` verifies the floor's snapshot
  rows equal Aftercare's, column by column, for every customer;
- ≥ 3× faster than lifetimes' ``summary_data_from_transaction_data`` on the same orders;
- peak memory ≤ 4 GB.
Kept for comparison with earlier results, measured as issue 3 did: a raw DuckDB query of
recency/frequency/monetary only and Aftercare's scoring, both in-process time, Aftercare's
after an untimed scoring of the previous quarter in the same process (a warm store).

Each contender runs in its own fresh process (so its peak RSS is its own), on a copy of the
same store, in the same run, interleaved; results are reported as ratios. Aftercare is timed
as it is used each quarter: the two previous quarters' snapshots are stored (untimed set-up,
so the downgrade hold has history), this date's is new.

    aftercare demo --customers 1000000 --as-of 2026-06-30 --data-only --db /tmp/bench.duckdb \
        --out /tmp/bench-demo
    python benchmarks/bench_score.py --db /tmp/bench.duckdb --as-of 2026-06-30 --check
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLOOR_SQL = (Path(__file__).parent / "score_floor.sql").read_text(encoding="utf-8")

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
    "floor_sql": """
import duckdb, resource, time, sys
con = duckdb.connect(sys.argv[1])
start = time.perf_counter()
con.execute({floor!r})
print(con.fetchall())
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
""",
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
# Issue 3's measurement, kept as it was: its own untimed set-up (last quarter's snapshot only,
# scored in this process, so the timed run finds the store warm), then this date's.
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


SETUP = """
import datetime as dt, sys
from aftercare.config import DEFAULT_CONFIG
from aftercare.services.scoring import score_snapshot
from aftercare.store import open_store
store = open_store(sys.argv[1])
as_of = dt.date.fromisoformat(sys.argv[2])
store.con.con.execute("DELETE FROM customer_scores")
for back in (182, 91):  # the two previous quarters: the downgrade hold has its history
    score_snapshot(store, as_of - dt.timedelta(days=back), DEFAULT_CONFIG)
store.con.con.execute("CHECKPOINT")
store.close()
"""

#: The CLI as a user runs it, in a fresh process; the wrapper reports that process's peak RSS.
CLI = """
import resource, subprocess, sys
proc = subprocess.run(sys.argv[3:], capture_output=True, text=True)
if proc.returncode != 0:
    sys.exit(proc.stdout + proc.stderr)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""

CHECK = """
SELECT count(*) FROM (
    (SELECT * EXCLUDE (as_of_date) FROM ours.customer_scores WHERE as_of_date = DATE '{as_of}'
     EXCEPT SELECT * EXCLUDE (as_of_date) FROM floor.customer_scores
     WHERE as_of_date = DATE '{as_of}')
    UNION ALL
    (SELECT * EXCLUDE (as_of_date) FROM floor.customer_scores WHERE as_of_date = DATE '{as_of}'
     EXCEPT SELECT * EXCLUDE (as_of_date) FROM ours.customer_scores
     WHERE as_of_date = DATE '{as_of}')
)
"""


def _aftercare_command() -> str:
    """The ``aftercare`` entry point of this interpreter's environment."""
    found = shutil.which("aftercare", path=str(Path(sys.executable).parent))
    if not found:
        raise SystemExit("the aftercare command is not installed in this environment")
    return found


def run_child(name: str, db: Path, as_of: str) -> dict:
    """Run one contender in a fresh process; return its time, wall time and peak RSS.

    ``seconds`` is the contender's own timing of its work (in-process); ``wall_s`` the whole
    process as the user waits for it (for ``aftercare_cli``, the command itself).
    """
    if name == "aftercare_cli":
        argv = [_aftercare_command(), "score", "--as-of", as_of, "--db", str(db)]
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", CLI, str(db), as_of, *argv],
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{name} failed:\n{proc.stderr[-3000:]}")
        peak_kb = int(proc.stdout.strip().splitlines()[-1])
        return {"seconds": round(wall, 3), "wall_s": round(wall, 3),
                "peak_rss_mb": round(peak_kb / 1024)}  # fmt: skip
    code = CHILD[name].format(
        sql=RAW_RFM_SQL.format(as_of=as_of), floor=FLOOR_SQL.replace("{as_of}", as_of),
        as_of=as_of,
    )  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, str(db), as_of], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed:\n{proc.stderr[-3000:]}")
    seconds, peak_kb = proc.stdout.strip().splitlines()[-1].split()[-2:]
    return {"seconds": round(float(seconds), 3), "wall_s": round(wall, 3),
            "peak_rss_mb": round(int(peak_kb) / 1024)}  # fmt: skip


def rows_differing(ours: Path, floor: Path, as_of: str) -> int:
    """Snapshot rows of ``as_of`` in one store and not the other (0: the same work)."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"ATTACH '{ours}' AS ours (READ_ONLY)")
    con.execute(f"ATTACH '{floor}' AS floor (READ_ONLY)")
    return int(con.execute(CHECK.format(as_of=as_of)).fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="store made by `aftercare demo`")
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--skip-lifetimes", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; medians reported")
    parser.add_argument("--check", action="store_true", help="floor rows == Aftercare's rows")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    dt.date.fromisoformat(args.as_of)
    names = ["floor_sql", "aftercare_cli", "raw_sql", "aftercare"]
    names += [] if args.skip_lifetimes else ["lifetimes"]
    runs: dict[str, list[dict]] = {name: [] for name in names}
    differing = None
    with tempfile.TemporaryDirectory() as tmp:
        setup = Path(tmp) / "setup.duckdb"
        shutil.copy(args.db, setup)
        subprocess.run([sys.executable, "-c", SETUP, str(setup), args.as_of], check=True)
        for repeat in range(args.repeat):  # interleaved, so a slow spell hits every contender
            for name in names:
                copy = Path(tmp) / f"{name}.duckdb"
                shutil.copy(setup, copy)
                runs[name].append(run_child(name, copy, args.as_of))
            if args.check and repeat == 0:
                differing = rows_differing(
                    Path(tmp) / "aftercare_cli.duckdb", Path(tmp) / "floor_sql.duckdb", args.as_of
                )
            for name in names:
                (Path(tmp) / f"{name}.duckdb").unlink()
    results = {
        name: {
            "seconds": round(statistics.median(r["seconds"] for r in rs), 3),
            "wall_s": round(statistics.median(r["wall_s"] for r in rs), 3),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in rs),
            "runs_wall_s": [r["wall_s"] for r in rs],
        }
        for name, rs in runs.items()
    }
    floor, cli = results["floor_sql"]["wall_s"], results["aftercare_cli"]["wall_s"]
    raw, ours = results["raw_sql"]["seconds"], results["aftercare"]["seconds"]
    summary = {
        "as_of": args.as_of,
        **results,
        "aftercare_cli_vs_floor": round(cli / floor, 2),
        "target_vs_floor": 1.5,
        "floor_rows_differing": differing,
        "aftercare_inprocess_vs_raw_rfm_sql": round(ours / raw, 2),
        "aftercare_peak_rss_mb": results["aftercare_cli"]["peak_rss_mb"],
        "target_peak_rss_mb": 4096,
    }
    if "lifetimes" in results:
        summary["lifetimes_vs_aftercare"] = round(results["lifetimes"]["seconds"] / ours, 2)
        summary["target_lifetimes_vs_aftercare"] = 3.0
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    if differing:
        raise SystemExit(f"the floor's snapshot differs from Aftercare's in {differing} rows")


if __name__ == "__main__":
    main()
