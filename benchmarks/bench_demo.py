"""Demo benchmark: `aftercare demo --customers 1000000 --data-only` in ≤ 2 minutes.

Target (issue 2): the benchmark data set — generate 1M customers (~9M orders), write the DMS
export files, import every file through `aftercare import`'s path into a fresh DuckDB store —
in ≤ 2 minutes on this 2-core machine. Each run is the real CLI in a fresh process; the wall
time, the CLI's own phase times and the process's peak RSS are recorded, and the slowest run is
what meets the target or not.

Baseline, measured in the same run: DuckDB itself loading the same Parquet files into a fresh
database (``CREATE TABLE … AS SELECT * FROM read_parquet``) — the floor for the import phase,
which reads, maps, parses, validates, hashes and merges instead. Their ratio is reported.

    python benchmarks/bench_demo.py [--customers 1000000] [--repeat 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 120.0
_PHASES = re.compile(r"Time: (.*)$", re.MULTILINE)
_BASELINE = """
import sys, time, duckdb
from pathlib import Path
files = sorted(Path(sys.argv[1]).glob("*.parquet"))
con = duckdb.connect(sys.argv[2])
con.execute("SET enable_progress_bar = false")
start = time.perf_counter()
for f in files:
    con.execute(f"CREATE TABLE {f.stem} AS SELECT * FROM read_parquet('{f}')")
con.close()
print(time.perf_counter() - start)
"""


def _run(command: list[str]) -> tuple[float, float, str]:
    """Run ``command``; return (wall seconds, peak RSS in GB, stdout)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    stdout, _ = process.communicate()
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited with {process.returncode}")
    # The largest peak of the children waited for so far: every demo run has the same size.
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, peak_kb / 1024**2, stdout


def _phases(stdout: str) -> dict[str, float]:
    match = _PHASES.search(stdout)
    if match is None:
        return {}
    parts = (p.strip().rsplit(" ", 2) for p in match.group(1).split(","))
    return {name: float(seconds) for name, seconds, _unit in parts}


def run_demo(customers: int, as_of: str, workdir: Path) -> dict[str, object]:
    """One `aftercare demo --data-only` into a fresh folder; its wall time, phases and RSS."""
    out = workdir / "demo"
    shutil.rmtree(out, ignore_errors=True)
    db = workdir / "demo.duckdb"
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    aftercare = shutil.which("aftercare") or "aftercare"
    command = [aftercare, "demo", "--customers", str(customers), "--as-of", as_of]
    command += ["--data-only", "--out", str(out), "--db", str(db)]
    wall, peak, stdout = _run(command)
    return {"wall_s": round(wall, 1), "peak_rss_gb": round(peak, 1), **_phases(stdout)}


def duckdb_baseline(workdir: Path) -> float:
    """DuckDB loading the demo's Parquet files into a fresh database, in a fresh process."""
    db = workdir / "baseline.duckdb"
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    result = subprocess.run(
        [sys.executable, "-c", _BASELINE, str(workdir / "demo"), str(db)],
        capture_output=True,
        text=True,
        check=True,
    )
    db.unlink(missing_ok=True)
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--as-of", default="2026-06-30")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="aftercare-bench-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    runs = []
    for i in range(args.repeat):
        runs.append(run_demo(args.customers, args.as_of, workdir))
        print(f"run {i + 1}: {runs[-1]}", flush=True)
    baseline = duckdb_baseline(workdir)
    walls = [float(r["wall_s"]) for r in runs]  # type: ignore[arg-type]
    imports = [float(r.get("import", 0.0)) for r in runs]  # type: ignore[arg-type]
    result = {
        "customers": args.customers,
        "as_of": args.as_of,
        "cpus": os.cpu_count(),
        "runs": runs,
        "median_wall_s": round(statistics.median(walls), 1),
        "max_wall_s": round(max(walls), 1),
        "duckdb_read_parquet_s": round(baseline, 2),
        "import_ratio": round(statistics.median(imports) / baseline, 1),
        "target_s": TARGET_SECONDS,
        "meets_target": max(walls) <= TARGET_SECONDS,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
