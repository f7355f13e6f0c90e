"""Start-up benchmark: `aftercare --help` and `aftercare status` in ≤ 0.5 s (issue 11).

Each contender is the whole process as a user starts it, timed from outside: the interpreter
starting, the imports, Typer building the app, the command's own work, the exit. Baselines,
measured in the same run and interleaved with the contenders (one run of each in turn, so a
drift of the machine's speed hits all of them alike):

- ``python -c pass``: the interpreter alone, the floor of any Python command;
- ``python -c "import typer"``: the CLI framework, the floor of a Typer command;
- for ``status``, DuckDB itself opening the same store read-only and counting the rows of the
  canonical tables in one query: the engine's floor for what ``status`` shows.

``aftercare status`` reads a small store (by default a 200-customer demo store made in a
temporary folder first; ``--db`` names another). Each command's median (and min, max) wall
time, and for each contender and baseline the median of the run-by-run ratios, are written as
JSON.

    python benchmarks/bench_startup.py [--runs 15] [--db FILE] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aftercare.schema import TABLES  # the canonical tables `status` lists (imported here only)

TARGET_SECONDS = 0.5
WARMUP_RUNS = 1
_DUCKDB_COUNTS = (
    "import sys, duckdb; con = duckdb.connect(sys.argv[1], read_only=True); "
    "print(con.sql(sys.argv[2]).fetchall())"
)


def _aftercare() -> str:
    """The console script of this interpreter's environment (else the one on the PATH)."""
    beside = Path(sys.executable).with_name("aftercare")
    return str(beside) if beside.exists() else shutil.which("aftercare") or "aftercare"


def _wall(command: list[str]) -> float:
    """Seconds from starting ``command`` to reaping it; its output is read and dropped."""
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited with {done.returncode}")
    return wall


def _demo_store(folder: Path) -> Path:
    """A small demo store for ``status`` (200 customers, one year, fixed seed and date)."""
    db = folder / "status.duckdb"
    command = [_aftercare(), "demo", "--customers", "200", "--years", "1", "--seed", "1"]
    command += ["--as-of", "2026-06-30", "--data-only", "--out", str(folder / "demo")]
    subprocess.run([*command, "--db", str(db)], check=True, capture_output=True)
    return db


def measure(db: Path, runs: int) -> dict[str, object]:
    """Interleaved runs of the baselines and the contenders; medians and ratios."""
    counts = " UNION ALL ".join(f"SELECT '{name}', count(*) FROM {name}" for name in TABLES)
    commands = {
        "python_pass": [sys.executable, "-c", "pass"],
        "python_import_typer": [sys.executable, "-c", "import typer"],
        "duckdb_counts": [sys.executable, "-c", _DUCKDB_COUNTS, str(db), counts],
        "aftercare_help": [_aftercare(), "--help"],
        "aftercare_status": [_aftercare(), "status", "--db", str(db)],
    }
    walls: dict[str, list[float]] = {name: [] for name in commands}
    for turn in range(WARMUP_RUNS + runs):
        for name, command in commands.items():
            wall = _wall(command)
            if turn >= WARMUP_RUNS:
                walls[name].append(wall)
    median = {name: statistics.median(w) for name, w in walls.items()}
    ratios: dict[str, float] = {}
    pairings = {
        "aftercare_help": ("python_pass", "python_import_typer"),
        "aftercare_status": ("python_pass", "python_import_typer", "duckdb_counts"),
    }
    for contender, baselines in pairings.items():
        for baseline in baselines:
            pairs = zip(walls[contender], walls[baseline], strict=True)
            ratios[f"{contender}_over_{baseline}"] = round(
                statistics.median(a / b for a, b in pairs), 2
            )
    return {
        "runs": runs,
        "warmup_runs": WARMUP_RUNS,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        # As a user types them: the interpreter and the script by name, the store as STORE.
        "commands": {
            name: " ".join(
                "python" if c == sys.executable else "aftercare" if c == _aftercare() else c
                for c in command
            ).replace(str(db), "STORE")
            for name, command in commands.items()
        },
        "median_wall_s": {name: round(s, 3) for name, s in median.items()},
        "min_wall_s": {name: round(min(w), 3) for name, w in walls.items()},
        "max_wall_s": {name: round(max(w), 3) for name, w in walls.items()},
        "median_ratio": ratios,
        "target_s": TARGET_SECONDS,
        "help_meets_target": median["aftercare_help"] <= TARGET_SECONDS,
        "status_meets_target": median["aftercare_status"] <= TARGET_SECONDS,
    }


def main() -> None:
    """Measure, print and (with ``--json``) write the result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="counted runs of each command")
    parser.add_argument("--db", type=Path, help="store for `aftercare status` (default: a demo)")
    parser.add_argument("--json", type=Path, help="write the result here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aftercare-startup-") as tmp:
        db = args.db or _demo_store(Path(tmp))
        result = measure(db, args.runs)
    for name, seconds in result["median_wall_s"].items():  # type: ignore[attr-defined]
        print(f"{name:<22} median {seconds:.3f} s")
    for name, ratio in result["median_ratio"].items():  # type: ignore[attr-defined]
        print(f"{name:<50} {ratio:.2f}×")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
