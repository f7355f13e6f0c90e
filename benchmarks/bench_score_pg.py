"""Scoring benchmark on PostgreSQL: the whole `aftercare score` against the floor (issue 11).

The figures of ``bench_score.py`` on a PostgreSQL store, on the demo dealer at 1M customers:

- the whole ``aftercare score --as-of D --db postgresql://…`` command as a user runs it
  (process wall time: start-up, RFM+L, tiers, the downgrade hold, previous tier and move,
  snapshot stored, tier mix printed), target ≤ 1.5× the floor: ``score_floor_pg.sql``, the
  same work hand-written in PostgreSQL SQL, run as a whole ``python`` + ``psycopg`` process;
  ``--check`` verifies the floor's snapshot rows equal Aftercare's, column by column, for
  every customer (``floor_rows_differing`` must be 0);
- the whole ``aftercare actions --as-of D+1 --limit 1`` once, the night after an untimed eve
  (D's actions) and D+1's scores, as ``bench_nightly.py`` runs a night (without the day's
  import); no floor, target ≤ 8 s.

Untimed set-up: the store's earlier snapshots are deleted and the two previous quarters'
(D − 182 and D − 91 days, as ``bench_score.py``) scored with ``aftercare score``, so the
downgrade hold has history; then ``VACUUM ANALYZE`` and a ``CHECKPOINT`` (fresh statistics
for both contenders, no autovacuum or checkpoint of the set-up inside a timed run). Before
every timed score run D's snapshot is deleted, ``customer_scores`` vacuumed and a checkpoint
taken, so each run does the same work (``bench_score.py`` copies the store instead). The
floor and Aftercare take turns, ``--repeat`` times; medians reported. Peak RSS is the client
process's own (``wait4``): the server's backends are not counted, for either contender. The
actions run on a copy of the store (``CREATE DATABASE … TEMPLATE``, dropped afterwards), so
the store stays as the set-up left it and the benchmark can run again.

``--actions-only`` skips the set-up and the scoring comparison and times ``--nights``
consecutive nights of actions on a copy of the store as it is (its snapshots must be there:
the eve's and the quarters' before it), the go-live run on the eve kept as set-up.

An Aftercare run longer than ``--timeout`` is stopped and reported as a lower bound (at 1M
on PostgreSQL 15 it did not finish in 600 s before its SQL was fenced: benchmarks/README.md).

    PGOPTIONS="-c work_mem=256MB" aftercare demo --customers 1000000 --as-of 2026-06-30 \
        --data-only --db postgresql://postgres@127.0.0.1:5432/aftercare_bench_pg \
        --out /tmp/bench-pg-demo
    python benchmarks/bench_score_pg.py \
        --db postgresql://postgres@127.0.0.1:5432/aftercare_bench_pg --as-of 2026-06-30 --check
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
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bench_nightly import machine, run_process

FLOOR_SQL = (Path(__file__).parent / "score_floor_pg.sql").read_text(encoding="utf-8")

#: The floor as a whole process: connect, run each statement of the SQL, print the tier mix.
FLOOR_CHILD = """
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as con:
    for statement in sys.stdin.read().split(";\\n"):
        if statement.strip():
            cur = con.execute(statement)
    print(cur.fetchall())
"""

#: The snapshot columns compared (all but the date, as bench_score.py).
COLUMNS = (
    "customer_id, last_visit_date, recency_days, frequency, monetary, r_score, f_score, "
    "m_score, l_extended_warranty, l_referral, l_brand_event, l_complaint, l_competitor_visit, "
    "l_points, total_score, tier, scored_tier, previous_tier, move"
)

CHECK = """
SELECT count(*) FROM (
    (SELECT {columns} FROM public.customer_scores WHERE as_of_date = DATE '{as_of}'
     EXCEPT SELECT {columns} FROM bench_score_pg.floor_rows)
    UNION ALL
    (SELECT {columns} FROM bench_score_pg.floor_rows
     EXCEPT SELECT {columns} FROM public.customer_scores WHERE as_of_date = DATE '{as_of}')
) AS differing
"""

#: Ends the other sessions of the benchmark's own database (its stopped runs' queries).
TERMINATE = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)

#: The target of a night's ``aftercare actions`` (README's benchmark table).
ACTIONS_TARGET_S = 8.0


def _aftercare_command() -> str:
    """The ``aftercare`` entry point of this interpreter's environment."""
    found = shutil.which("aftercare", path=str(Path(sys.executable).parent))
    if not found:
        raise SystemExit("the aftercare command is not installed in this environment")
    return found


def _with_database(url: str, name: str) -> str:
    """``url`` naming database ``name`` instead."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _database(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _sql(url: str, *statements: str) -> list:
    """Run ``statements`` in autocommit (VACUUM needs it); the last one's rows, if any."""
    with psycopg.connect(url, autocommit=True) as con:
        for statement in statements:
            cur = con.execute(statement)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


def quiesce(url: str) -> None:
    """Fresh statistics and visibility, dirty pages written: no leftovers in a timed run."""
    _sql(url, "VACUUM ANALYZE", "CHECKPOINT")


def reset(url: str, as_of: str) -> None:
    """Delete ``as_of``'s snapshot, vacuum it away and checkpoint: each run starts alike."""
    _sql(url, f"DELETE FROM customer_scores WHERE as_of_date = DATE '{as_of}'")
    _sql(url, "VACUUM ANALYZE customer_scores", "CHECKPOINT")


def set_up(aftercare: str, url: str, as_of: dt.date, logs: Path) -> dict:
    """Untimed: only the two previous quarters' snapshots stored, the store vacuumed.

    Kept when the store already holds exactly those two (and maybe ``as_of``'s, deleted
    before each run anyway): on PostgreSQL at 1M the second one takes minutes.
    """
    wanted = [as_of - dt.timedelta(days=back) for back in (182, 91)]
    stored = [row[0] for row in _sql(url, "SELECT DISTINCT as_of_date FROM customer_scores")]
    if sorted(d for d in stored if d != as_of) == wanted:
        quiesce(url)
        return {"kept": [str(d) for d in wanted]}
    _sql(url, "DELETE FROM customer_scores")
    steps = {}
    for back in (182, 91):
        day = str(as_of - dt.timedelta(days=back))
        command = [aftercare, "score", "--as-of", day, "--db", url]
        steps[f"score_{day}"] = _figures(run_process(command, logs / f"setup-{day}.log"))
    quiesce(url)
    return steps


def _figures(run: dict) -> dict:
    return {"wall_s": run["wall_s"], "peak_rss_mb": run["peak_rss_mb"]}


def run_bounded(command: list[str], log: Path, url: str, timeout: float) -> dict:
    """Run ``command`` as a fresh process, stopped after ``timeout`` seconds.

    Wall time and the process's own peak RSS (``wait4``). A stopped run reports
    ``timed_out`` and ``timeout`` as its wall time (a lower bound); its server backends in
    the benchmark's database are terminated too (a killed client leaves its query running).
    """
    with log.open("w", encoding="utf-8") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            wall = time.perf_counter() - start
            if pid:
                break
            if wall > timeout:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                _sql(url, TERMINATE)
                return {"wall_s": round(timeout, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024),
                        "timed_out": True}  # fmt: skip
            time.sleep(0.05)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{log.read_text()[-3000:]}")
    return {"wall_s": round(wall, 3), "peak_rss_mb": round(usage.ru_maxrss / 1024)}


def run_floor(url: str, as_of: str, logs: Path, n: int) -> dict:
    sql = FLOOR_SQL.replace("{as_of}", as_of)
    command = [sys.executable, "-c", FLOOR_CHILD, url]
    return _figures(run_process(command, logs / f"floor-{n}.log", stdin=sql))


def run_aftercare(aftercare: str, url: str, as_of: str, logs: Path, n: int, timeout: float) -> dict:
    command = [aftercare, "score", "--as-of", as_of, "--db", url]
    return run_bounded(command, logs / f"aftercare-{n}.log", url, timeout)


def keep_floor_rows(url: str, as_of: str) -> None:
    """Copy the floor's snapshot aside (schema ``bench_score_pg``) for the check."""
    _sql(
        url,
        "DROP SCHEMA IF EXISTS bench_score_pg CASCADE",
        "CREATE SCHEMA bench_score_pg",
        "CREATE TABLE bench_score_pg.floor_rows AS "
        f"SELECT * FROM customer_scores WHERE as_of_date = DATE '{as_of}'",
    )


def rows_differing(url: str, as_of: str) -> dict:
    """Snapshot rows in Aftercare's snapshot and not the floor's or back (0: the same)."""
    differing = _sql(url, CHECK.format(columns=COLUMNS, as_of=as_of))[0][0]
    ours = _sql(url, f"SELECT count(*) FROM customer_scores WHERE as_of_date = DATE '{as_of}'")
    ours = ours[0][0]
    floor = _sql(url, "SELECT count(*) FROM bench_score_pg.floor_rows")[0][0]
    _sql(url, "DROP SCHEMA bench_score_pg CASCADE")
    return {"differing": int(differing), "aftercare_rows": int(ours), "floor_rows": int(floor)}


def actions_night(
    aftercare: str, url: str, as_of: dt.date, logs: Path, timeout: float, nights: int = 1
) -> dict:
    """The nights after ``as_of`` on a copy of the store: eve's actions untimed, then each
    night's scores untimed and its ``aftercare actions`` timed. The copy is dropped after.

    The first night's fields are the top level (as before ``--nights``); every night's are
    in ``nights``."""
    copy = f"{_database(url)}_actions"
    admin = _with_database(url, "postgres")
    _sql(admin, f'DROP DATABASE IF EXISTS "{copy}"')
    start = time.perf_counter()
    _sql(admin, f'CREATE DATABASE "{copy}" TEMPLATE "{_database(url)}" STRATEGY FILE_COPY')
    copied_s = round(time.perf_counter() - start, 1)
    work = _with_database(url, copy)
    runs = []
    try:
        eve = run_bounded(
            [aftercare, "actions", "--as-of", str(as_of), "--limit", "1", "--db", work],
            logs / "actions-eve.log",
            work,
            timeout,
        )
        for k in range(1, nights + 1):
            night = as_of + dt.timedelta(days=k)
            score = run_bounded(
                [aftercare, "score", "--as-of", str(night), "--db", work],
                logs / f"score-{night}.log",
                work,
                timeout,
            )
            quiesce(work)
            before = _sql(work, "SELECT count(*) FROM actions")[0][0]
            timed = run_bounded(
                [aftercare, "actions", "--as-of", str(night), "--limit", "1", "--db", work],
                logs / f"actions-{night}.log",
                work,
                timeout,
            )
            after = _sql(work, "SELECT count(*) FROM actions")[0][0]
            runs.append(
                {
                    "as_of": str(night),
                    **timed,
                    "actions_created": int(after - before),
                    "score_untimed": score,
                }
            )
    finally:
        _sql(admin, f'DROP DATABASE IF EXISTS "{copy}"')
    first = {k: v for k, v in runs[0].items() if k != "score_untimed"}
    return {
        **first,
        "target_s": ACTIONS_TARGET_S,
        "nights": runs,
        "setup_untimed": {
            "copy_store_s": copied_s,
            f"actions_{as_of}": eve,
            f"score_{runs[0]['as_of']}": runs[0]["score_untimed"],
        },
    }


def summarise(runs: dict[str, list[dict]]) -> dict:
    return {
        name: {
            "wall_s": round(statistics.median(r["wall_s"] for r in rs), 3),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in rs),
            "runs_wall_s": [r["wall_s"] for r in rs],
        }
        for name, rs in runs.items()
    }


def server(url: str) -> dict:
    """The PostgreSQL server and the settings that bound a query's memory and parallelism."""
    names = ("server_version", "shared_buffers", "work_mem", "max_parallel_workers_per_gather")
    return {name: _sql(url, f"SHOW {name}")[0][0] for name in names}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="postgresql:// store made by aftercare demo")
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; medians reported")
    parser.add_argument("--check", action="store_true", help="floor rows == Aftercare's rows")
    parser.add_argument("--skip-actions", action="store_true")
    parser.add_argument(
        "--actions-only",
        action="store_true",
        help="only the nights' actions (no set-up, no score comparison)",
    )
    parser.add_argument("--nights", type=int, default=1, help="nights of actions timed")
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds before an Aftercare run is stopped"
    )
    parser.add_argument(
        "--pgoptions", default="", help="PGOPTIONS for every session (e.g. '-c jit=off')"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)
    if not args.db.startswith(("postgresql://", "postgres://")):
        raise SystemExit("--db must be a postgresql:// URL")
    aftercare = _aftercare_command()
    if args.pgoptions:
        os.environ["PGOPTIONS"] = args.pgoptions  # every contender's sessions, and ours
    info = {**machine(), "postgresql": server(args.db)}
    if args.actions_only:
        with tempfile.TemporaryDirectory() as tmp:
            nights = actions_night(aftercare, args.db, as_of, Path(tmp), args.timeout, args.nights)
        only = {"store": args.db, "as_of": args.as_of, "machine": info, "actions": nights}
        print(json.dumps(only, indent=2))
        if args.json:
            args.json.write_text(json.dumps(only, indent=2) + "\n", encoding="utf-8")
        return
    runs: dict[str, list[dict]] = {"floor_sql": [], "aftercare_cli": []}
    check = None
    with tempfile.TemporaryDirectory() as tmp:
        logs = Path(tmp)
        setup = set_up(aftercare, args.db, as_of, logs)
        for n in range(args.repeat):  # interleaved, so a slow spell hits both contenders
            reset(args.db, args.as_of)
            runs["floor_sql"].append(run_floor(args.db, args.as_of, logs, n))
            if args.check and n == 0:
                keep_floor_rows(args.db, args.as_of)
            if any(r.get("timed_out") for r in runs["aftercare_cli"]):
                continue  # the next runs would be stopped too: the floor's runs go on
            reset(args.db, args.as_of)
            run = run_aftercare(aftercare, args.db, args.as_of, logs, n, args.timeout)
            runs["aftercare_cli"].append(run)
            if args.check and n == 0 and not run.get("timed_out"):
                check = rows_differing(args.db, args.as_of)
        actions = None
        if not args.skip_actions:
            actions = actions_night(aftercare, args.db, as_of, logs, args.timeout, args.nights)
        _sql(args.db, "DROP SCHEMA IF EXISTS bench_score_pg CASCADE")
    results = summarise(runs)
    timed_out = any(r.get("timed_out") for r in runs["aftercare_cli"])
    floor, cli = results["floor_sql"]["wall_s"], results["aftercare_cli"]["wall_s"]
    summary = {
        "store": args.db,
        "as_of": args.as_of,
        "machine": info,
        "setup_untimed": setup,
        **results,
        "pgoptions": args.pgoptions,
        "aftercare_timed_out_after_s": args.timeout if timed_out else None,
        "aftercare_cli_vs_floor": round(cli / floor, 2),
        "ratio_is_lower_bound": timed_out,
        "target_vs_floor": 1.5,
        "floor_rows_differing": check["differing"] if check else None,
        "snapshot_rows": check,
        "aftercare_peak_rss_mb": results["aftercare_cli"]["peak_rss_mb"],
        "target_peak_rss_mb": 4096,
        "actions": actions,
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    if check and check["differing"]:
        raise SystemExit(f"the floor's snapshot differs from Aftercare's in {check} rows")


if __name__ == "__main__":
    main()
