"""Nightly-job benchmark: 30 consecutive days of import + score + actions (issue 11).

Targets, on the demo dealer at 1M customers: each night's whole job — ``aftercare import`` of
that day's new service orders and interactions (~0.3 % of the stored ones each), ``aftercare
score --as-of D`` and ``aftercare actions --as-of D`` — in ≤ 20 s wall time, each process's
peak RSS ≤ 4 GB, on every one of ``--days`` consecutive days.

Each step is the real CLI as cron would run it, a whole fresh process, on a work copy of the
input store (the input stays pristine); wall time and that process's own peak RSS (``wait4``)
are recorded. Untimed set-up first, so the first night is a steady-state night (see
:func:`set_up`): the quarter-end snapshots of the half year before the first night, daily
scores from two days before, the go-live two days before and an incremental run the day
before (both one-off nights, their times kept in the results).

A day's data: ``share`` × the stored rows of ``service_orders`` and ``interactions``, sampled
(deterministically from ``--seed`` and the day) from the input store's rows and given fresh
ids (``RO<date>N000001``, ``IX<date>N000001``) and day D (orders: opened and closed on D, the
odometer the vehicle's latest reading plus 35 km a day since; interactions: D at the sampled
row's time of day); customers, vehicles, amounts, categories and types are the sampled rows'.
They are written as the DMS exports ``aftercare demo`` writes for a small dealer (GBK CSV for
orders, UTF-8 CSV for interactions, Chinese headers and labels, mixed date and amount formats).

Baseline in the same run, each day, as a whole ``python`` + ``duckdb`` process on its own copy
of the store (copied after the set-up): the engine's floor for the import and the scoring —
DuckDB reading the same day's files (the GBK file transcoded in Python first: DuckDB's CSV
reader has no GBK without the ``encodings`` extension) and inserting the rows not stored yet,
headers and labels mapped, dates and amounts parsed (no validation, hashing or lineage), then
``score_floor.sql`` for D. The actions have no hand-written floor yet: the ratio reported is
Aftercare's import + score + actions over the floor's import + score (and, like for like,
Aftercare's import + score over the same).

    aftercare demo --customers 1000000 --as-of 2026-06-30 --data-only --db /tmp/bench.duckdb \
        --out /tmp/bench-demo
    python benchmarks/bench_nightly.py --db /tmp/bench.duckdb --start 2026-07-01 --days 30 \
        --json benchmarks/results/nightly.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from aftercare.demo.files import BOOL_LABELS, HEADERS, LABELS, dms_view, write_csv

TARGET_SECONDS = 20.0
TARGET_RSS_MB = 4096
KM_PER_DAY = 35
#: Table -> (DMS file format, id column, id prefix) of a day's exports.
DAY_TABLES = {
    "service_orders": ("csv-gbk", "order_id", "RO"),
    "interactions": ("csv", "interaction_id", "IX"),
}
FLOOR_SQL = (Path(__file__).parent / "score_floor.sql").read_text(encoding="utf-8")

#: A day's orders: the sampled rows on day D, the odometer moved on from the vehicle's latest.
_SAMPLE_ORDERS = f"""
WITH picked AS (
    SELECT *, rowid AS source_rowid FROM service_orders
    WHERE rowid IN (SELECT unnest($rows::BIGINT[]))
),
latest AS (
    SELECT vin, max(odometer_km) AS km, max(open_date) AS day FROM service_orders
    WHERE vin IN (SELECT vin FROM picked) GROUP BY vin
)
SELECT p.vin, p.customer_id, $day::DATE AS open_date, $day::DATE AS close_date,
       CAST(l.km + {KM_PER_DAY} * ($day::DATE - l.day) AS BIGINT) AS odometer_km,
       p.category, p.category_raw, p.payer,
       CAST(p.labor_amount AS DOUBLE) AS labor_amount,
       CAST(p.parts_amount AS DOUBLE) AS parts_amount,
       CAST(p.discount_amount AS DOUBLE) AS discount_amount,
       CAST(p.total_amount AS DOUBLE) AS total_amount,
       CAST(p.cost_amount AS DOUBLE) AS cost_amount, p.advisor_id, p.store_id
FROM picked p LEFT JOIN latest l USING (vin)
ORDER BY p.source_rowid
"""

_SAMPLE_INTERACTIONS = """
SELECT customer_id, $day::DATE + (ts - date_trunc('day', ts)) AS ts, type, type_raw, score,
       referred_customer_id, channel, advisor_id, resolved, note
FROM interactions WHERE rowid IN (SELECT unnest($rows::BIGINT[]))
ORDER BY rowid
"""


def write_day_files(
    source: duckdb.DuckDBPyConnection,
    day: dt.date,
    counts: dict[str, int],
    share: float,
    seed: int,
    out_dir: Path,
) -> dict[str, tuple[Path, int]]:
    """Write day ``day``'s DMS exports of new orders and interactions into ``out_dir``.

    ``source`` is the pristine input store (read-only), ``counts`` the rows stored now per
    table: ``round(share * count)`` rows of each, sampled from ``source`` with a generator
    seeded by ``seed`` and the day, get fresh ids and day ``day``. Returns table -> (file, rows).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, day.toordinal()])
    written = {}
    for table, (fmt, id_column, prefix) in DAY_TABLES.items():
        span = source.execute(f"SELECT max(rowid) + 1 FROM {table}").fetchone()[0]
        wanted = max(1, round(share * counts[table]))
        rows = rng.choice(span, size=wanted, replace=wanted > span)
        sql = _SAMPLE_ORDERS if table == "service_orders" else _SAMPLE_INTERACTIONS
        picked = source.execute(sql, {"rows": rows.tolist(), "day": day}).arrow()
        if isinstance(picked, pa.RecordBatchReader):  # DuckDB ≥ 1.4 may hand back a reader
            picked = picked.read_all()
        ids = [f"{prefix}{day:%Y%m%d}N{i:06d}" for i in range(1, picked.num_rows + 1)]
        picked = picked.add_column(0, id_column, pa.array(ids, pa.string()))
        view = dms_view(rng, table, picked, fmt)
        path = out_dir / f"{table}-{day:%Y%m%d}.csv"
        write_csv(view, path, "gbk" if fmt == "csv-gbk" else "utf-8")
        written[table] = (path, picked.num_rows)
    return written


# ---------------------------------------------------------------------------------------------
# The floor: plain DuckDB reading the day's files into the tables, then score_floor.sql.


def _label_case(column: str, labels: dict[str, tuple[str, ...]]) -> str:
    whens = " ".join(
        f"WHEN '{label}' THEN '{canonical}'"
        for canonical, options in labels.items()
        for label in options
    )
    return f'CASE "{column}" {whens} ELSE "{column}" END'


def _floor_import_sql(table: str, path: Path) -> str:
    """INSERT of a day file's new rows into ``table``: headers and labels mapped, dates,
    times, amounts and booleans parsed; rows whose id is stored already skipped."""
    headers = HEADERS[table]
    select = []
    for canonical, header in headers.items():
        col = f'"{header}"'
        if canonical in LABELS:
            select.append(f"{_label_case(header, LABELS[canonical])} AS {canonical}")
            if canonical in ("category", "type"):
                select.append(f"{col} AS {canonical}_raw")
        elif canonical in ("open_date", "close_date"):
            select.append(
                f"CAST(coalesce(try_strptime({col}, '%Y-%m-%d'), "
                f"try_strptime({col}, '%Y/%m/%d')) AS DATE) AS {canonical}"
            )
        elif canonical.endswith("_amount"):
            select.append(
                f"CAST(regexp_replace({col}, '[¥￥,]', '', 'g') AS DECIMAL(14, 2)) AS {canonical}"
            )
        elif canonical == "ts":
            select.append(f"CAST({col} AS TIMESTAMP) AS ts")
        elif canonical in ("odometer_km", "score"):
            select.append(f"CAST({col} AS BIGINT) AS {canonical}")
        elif canonical == "resolved":
            select.append(f"CASE {col} WHEN '{BOOL_LABELS[1]}' THEN true "
                          f"WHEN '{BOOL_LABELS[0]}' THEN false END AS resolved")  # fmt: skip
        else:
            select.append(f"{col} AS {canonical}")
    key, header = next(iter(headers)), next(iter(headers.values()))
    return (
        f"INSERT INTO {table} BY NAME SELECT {', '.join(select)}, '{path.name}' AS source_file "
        f"FROM read_csv('{path}', all_varchar = true, header = true) "
        f'WHERE "{header}" NOT IN (SELECT {key} FROM {table} WHERE {key} IS NOT NULL)'
    )


#: The floor's process: argv = store, as-of, then (file, GBK?, INSERT sql) triples.
_FLOOR = """
import sys, time, duckdb
from pathlib import Path
store, as_of, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
score_sql = sys.stdin.read()
start = time.perf_counter()
con = duckdb.connect(store)
con.execute("SET enable_progress_bar = false")
con.execute("BEGIN")
for path, gbk, sql in zip(rest[0::3], rest[1::3], rest[2::3]):
    if gbk == "1":  # DuckDB's CSV reader has no GBK without the encodings extension
        utf8 = Path(path).with_suffix(".utf8.csv")
        utf8.write_text(Path(path).read_text(encoding="gbk"), encoding="utf-8")
        sql = sql.replace(path, str(utf8))
    con.execute(sql)
con.execute("COMMIT")
imported = time.perf_counter()
con.execute(score_sql.replace("{as_of}", as_of))
print(con.fetchall())
con.close()
print(imported - start, time.perf_counter() - imported)
"""


# ---------------------------------------------------------------------------------------------
# Processes


def _aftercare_command() -> str:
    """The ``aftercare`` entry point of this interpreter's environment."""
    found = shutil.which("aftercare", path=str(Path(sys.executable).parent))
    if not found:
        raise SystemExit("the aftercare command is not installed in this environment")
    return found


def run_process(
    command: list[str], log: Path, stdin: str | None = None, ok: tuple[int, ...] = (0,)
) -> dict:
    """Run ``command`` as a fresh process; its wall time, its own peak RSS and its output.

    ``os.wait4`` gives this one child's resource use (``RUSAGE_CHILDREN`` would be the largest
    of all children so far). Output goes to ``log`` (no pipe to drain while waiting).
    """
    with log.open("w+", encoding="utf-8") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        if stdin is not None:
            proc.stdin.write(stdin)  # type: ignore[union-attr]
            proc.stdin.close()  # type: ignore[union-attr]
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(command)} exited with {proc.returncode}:\n{text[-3000:]}")
    return {
        "wall_s": round(wall, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),  # Linux: kilobytes
        "exit": proc.returncode,
        "output": text,
    }


def store_counts(db: Path, day: dt.date) -> dict[str, int]:
    """Rows stored now: orders, interactions, the snapshot of ``day``, actions."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            "service_orders": con.execute("SELECT count(*) FROM service_orders").fetchone()[0],
            "interactions": con.execute("SELECT count(*) FROM interactions").fetchone()[0],
            "scores": con.execute(
                "SELECT count(*) FROM customer_scores WHERE as_of_date = ?", [day]
            ).fetchone()[0],
            "actions": con.execute("SELECT count(*) FROM actions").fetchone()[0],
            "actions_of_day": con.execute(
                "SELECT count(*) FROM actions WHERE created_on = ?", [day]
            ).fetchone()[0],
            "duplicate_ids": con.execute(
                "SELECT (SELECT count(*) - count(DISTINCT order_id) FROM service_orders)"
                " + (SELECT count(*) - count(DISTINCT interaction_id) FROM interactions)"
            ).fetchone()[0],
        }
    finally:
        con.close()


_DIFFERING = """
SELECT count(*) FROM (
    (SELECT * EXCLUDE (as_of_date) FROM ours.customer_scores WHERE as_of_date = $day
     EXCEPT SELECT * EXCLUDE (as_of_date) FROM floor.customer_scores WHERE as_of_date = $day)
    UNION ALL
    (SELECT * EXCLUDE (as_of_date) FROM floor.customer_scores WHERE as_of_date = $day
     EXCEPT SELECT * EXCLUDE (as_of_date) FROM ours.customer_scores WHERE as_of_date = $day)
)
"""


def rows_differing(ours: Path, floor: Path, day: dt.date) -> int:
    """Snapshot rows of ``day`` in one store and not the other (0: the floor did the same
    work, its import included)."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{ours}' AS ours (READ_ONLY)")
        con.execute(f"ATTACH '{floor}' AS floor (READ_ONLY)")
        return int(con.execute(_DIFFERING, {"day": day}).fetchone()[0])
    finally:
        con.close()


_IMPORTED = re.compile(r"(\d[\d,]*) rejected")


def set_up(aftercare: str, db: Path, eve: dt.date, logs: Path) -> dict:
    """Untimed: the store as a dealer running the nightly job leaves it on ``eve``.

    The quarter-end snapshots of the half year to ``eve``; the scores of the day before
    ``eve`` and of ``eve`` (a store scored nightly has daily snapshots: the downgrades
    R-TIER-HOLD held over the quarter take effect there, not on the first night); the
    go-live on the day before (``actions``: a full run) and ``eve``'s incremental run (it
    compiles this version's nightly plans). Each step's wall time and peak RSS are kept:
    the go-live and the first incremental night after quarterly scoring are one-off nights,
    reported apart from the steady state the timed nights measure.
    """
    db_args = ["--db", str(db)]
    back = str(eve - dt.timedelta(days=183))
    before = eve - dt.timedelta(days=1)
    steps = {"quarterly": [aftercare, "score", "--quarterly", back, str(eve), *db_args]}
    steps["score_day_before"] = [aftercare, "score", "--as-of", str(before), *db_args]
    following = eve + dt.timedelta(days=1)
    if not (following.day == 1 and following.month in (1, 4, 7, 10)):
        steps["score_eve"] = [aftercare, "score", "--as-of", str(eve), *db_args]
    limit = ["--limit", "1"]
    steps["actions_go_live"] = [aftercare, "actions", "--as-of", str(before), *limit, *db_args]
    steps["actions_first_daily"] = [aftercare, "actions", "--as-of", str(eve), *limit, *db_args]
    done = {}
    for name, command in steps.items():
        run = run_process(command, logs / f"setup-{name}.log")
        done[name] = {"wall_s": run["wall_s"], "peak_rss_mb": run["peak_rss_mb"]}
        print(f"set-up {name}: {done[name]}", flush=True)
    return done


def run_day(
    aftercare: str,
    source: duckdb.DuckDBPyConnection,
    work: Path,
    floor: Path,
    day: dt.date,
    args: argparse.Namespace,
    tmp: Path,
) -> dict:
    """One night on the work copy (timed CLI processes) and on the floor's copy."""
    before = store_counts(work, day)
    files = write_day_files(source, day, before, args.share, args.seed, tmp / "files")
    db_args = ["--db", str(work)]
    logs = tmp / "logs"
    imports = {}
    for table, (path, _rows) in files.items():
        imports[table] = run_process(
            [aftercare, "import", table, str(path), *db_args],
            logs / f"{day}-import-{table}.log",
            ok=(0, 3),  # 3: some rows rejected — counted below, not a crash
        )
    score = run_process(
        [aftercare, "score", "--as-of", str(day), *db_args], logs / f"{day}-score.log"
    )
    actions = run_process(
        [aftercare, "actions", "--as-of", str(day), "--limit", "1", *db_args],
        logs / f"{day}-actions.log",
    )
    after = store_counts(work, day)
    floor_args: list[str] = []
    for table, (path, _rows) in files.items():
        gbk = "1" if DAY_TABLES[table][0] == "csv-gbk" else "0"
        floor_args += [str(path), gbk, _floor_import_sql(table, path)]
    floor_run = run_process(
        [sys.executable, "-c", _FLOOR, str(floor), str(day), *floor_args],
        logs / f"{day}-floor.log",
        stdin=FLOOR_SQL,
    )
    floor_import_s, floor_score_s = map(float, floor_run["output"].split()[-2:])
    differing = rows_differing(work, floor, day) if args.check else None
    import_s = sum(run["wall_s"] for run in imports.values())
    aftercare_s = import_s + score["wall_s"] + actions["wall_s"]
    rejected = sum(
        int(m.group(1).replace(",", ""))
        for run in imports.values()
        for m in _IMPORTED.finditer(run["output"])
    )
    record = {
        "date": str(day),
        "import_s": round(import_s, 3),
        "import_s_by_table": {t: run["wall_s"] for t, run in imports.items()},
        "score_s": score["wall_s"],
        "actions_s": actions["wall_s"],
        "total_s": round(aftercare_s, 3),
        "peak_rss_mb": {
            "import": max(run["peak_rss_mb"] for run in imports.values()),
            "score": score["peak_rss_mb"],
            "actions": actions["peak_rss_mb"],
        },
        "rows_in_files": {t: rows for t, (_p, rows) in files.items()},
        "rows_imported": {t: after[t] - before[t] for t in DAY_TABLES},
        "rows_rejected": rejected,
        "snapshot_rows": after["scores"],
        "actions_created": after["actions"] - before["actions"],
        "actions_created_on_day": after["actions_of_day"],
        "duplicate_ids": after["duplicate_ids"],
        "floor": {
            "snapshot_rows_differing": differing,
            "wall_s": floor_run["wall_s"],
            "import_s": round(floor_import_s, 3),
            "score_s": round(floor_score_s, 3),
            "peak_rss_mb": floor_run["peak_rss_mb"],
        },
    }
    record["ratio_vs_floor"] = round(aftercare_s / floor_run["wall_s"], 2)
    record["ratio_import_score_vs_floor"] = round(
        (import_s + score["wall_s"]) / floor_run["wall_s"], 2
    )
    record["checks_ok"] = (
        record["rows_imported"] == record["rows_in_files"]
        and record["snapshot_rows"] > 0
        and after["duplicate_ids"] == 0
        and rejected == 0
        and not differing
    )
    return record


def machine() -> dict:
    """What the figures were measured on."""
    meminfo = Path("/proc/meminfo")
    mem_gb = None
    if meminfo.exists():
        total_kb = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        mem_gb = round(total_kb / 1024**2, 1)
    return {
        "cpus": os.cpu_count(),
        "memory_gb": mem_gb,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def summarise(days: list[dict], args: argparse.Namespace, setup: dict) -> dict:
    totals = [d["total_s"] for d in days]
    floors = [d["floor"]["wall_s"] for d in days]
    max_rss = max(max(d["peak_rss_mb"].values()) for d in days)
    aftercare_sum, floor_sum = sum(totals), sum(floors)
    import_score_sum = sum(d["import_s"] + d["score_s"] for d in days)
    return {
        "store": str(args.db),
        "start": args.start,
        "days": args.days,
        "share": args.share,
        "seed": args.seed,
        "machine": machine(),
        "setup_untimed": setup,
        "per_day": days,
        "summary": {
            "median_total_s": round(statistics.median(totals), 3),
            "max_total_s": round(max(totals), 3),
            "median_import_s": round(statistics.median(d["import_s"] for d in days), 3),
            "median_score_s": round(statistics.median(d["score_s"] for d in days), 3),
            "median_actions_s": round(statistics.median(d["actions_s"] for d in days), 3),
            "max_peak_rss_mb": max_rss,
            "target_s": TARGET_SECONDS,
            "target_met_20s": max(totals) <= TARGET_SECONDS,
            "target_rss_mb": TARGET_RSS_MB,
            "target_met_4gb": max_rss <= TARGET_RSS_MB,
            "floor_median_s": round(statistics.median(floors), 3),
            "floor_max_s": round(max(floors), 3),
            "floor_total_s": round(floor_sum, 3),
            "floor_max_peak_rss_mb": max(d["floor"]["peak_rss_mb"] for d in days),
            "aftercare_total_s": round(aftercare_sum, 3),
            "ratio_vs_floor": round(aftercare_sum / floor_sum, 2),
            "ratio_import_score_vs_floor": round(import_score_sum / floor_sum, 2),
            "ratio_note": (
                "Aftercare's import + score + actions over the floor's import + score: the "
                "actions have no hand-written floor yet. ratio_import_score_vs_floor compares "
                "like with like."
            ),
            "rows_imported_total": {
                t: sum(d["rows_imported"][t] for d in days) for t in DAY_TABLES
            },
            "actions_created_total": sum(d["actions_created"] for d in days),
            "floor_snapshot_rows_differing": (
                sum(d["floor"]["snapshot_rows_differing"] for d in days) if args.check else None
            ),
            "all_checks_ok": all(d["checks_ok"] for d in days),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="store made by `aftercare demo`")
    parser.add_argument("--start", required=True, help="the first night (the day after as-of)")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--share", type=float, default=0.003, help="new rows a day / stored")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--check", action="store_true", help="each day: the floor's snapshot == Aftercare's"
    )
    parser.add_argument("--workdir", type=Path, help="keep the copies, files and logs here")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    start = dt.date.fromisoformat(args.start)
    aftercare = _aftercare_command()
    with tempfile.TemporaryDirectory(prefix="aftercare-bench-nightly-") as scratch:
        tmp = args.workdir or Path(scratch)
        (tmp / "logs").mkdir(parents=True, exist_ok=True)
        work, floor = tmp / "work.duckdb", tmp / "floor.duckdb"
        shutil.copy(args.db, work)
        setup = set_up(aftercare, work, start - dt.timedelta(days=1), tmp / "logs")
        shutil.copy(work, floor)
        source = duckdb.connect(str(args.db), read_only=True)
        days = []
        try:
            for i in range(args.days):
                day = start + dt.timedelta(days=i)
                days.append(run_day(aftercare, source, work, floor, day, args, tmp))
                shown = {k: v for k, v in days[-1].items() if k != "import_s_by_table"}
                print(json.dumps(shown), flush=True)
        finally:
            source.close()
    result = summarise(days, args, setup)
    print(json.dumps(result["summary"], indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if not result["summary"]["all_checks_ok"]:
        raise SystemExit(
            "a day's checks failed (rows imported, snapshot, duplicate ids, rejects, floor rows)"
        )


if __name__ == "__main__":
    main()
