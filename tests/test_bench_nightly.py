"""The nightly benchmark's day files (benchmarks/bench_nightly.py): `aftercare import` takes
them with no rejects, each day's ids are new, and importing a day twice stores nothing twice."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from aftercare.cli import app

BENCH = Path(__file__).parent.parent / "benchmarks" / "bench_nightly.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_nightly", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            t: con.execute(f"SELECT count(*), count(DISTINCT {key}) FROM {t}").fetchone()
            for t, key in (("service_orders", "order_id"), ("interactions", "interaction_id"))
        }
    finally:
        con.close()


def test_day_files_import_with_no_rejects_and_fresh_ids(tmp_path):
    bench = _bench()
    pristine, db = tmp_path / "demo.duckdb", tmp_path / "work.duckdb"
    demo = ["demo", "--customers", "300", "--as-of", "2026-06-30", "--data-only"]
    made = CliRunner().invoke(app, [*demo, "--db", str(pristine), "--out", str(tmp_path / "demo")])
    assert made.exit_code == 0, made.output
    db.write_bytes(pristine.read_bytes())
    source = duckdb.connect(str(pristine), read_only=True)
    stored = {t: n for t, (n, _) in _counts(db).items()}
    ids: set[str] = set()
    for day in (dt.date(2026, 7, 1), dt.date(2026, 7, 2)):
        before = _counts(db)
        files = bench.write_day_files(source, day, stored, 0.01, 0, tmp_path / str(day))
        for table, (path, rows) in files.items():
            assert rows == round(0.01 * stored[table]) > 0
            for attempt in (1, 2):  # the second import of the same file stores nothing
                done = CliRunner().invoke(app, ["import", table, str(path), "--db", str(db)])
                assert done.exit_code == 0, done.output
                assert ", 0 rejected" in done.output
                stored_now = f"{rows} rows read, {rows if attempt == 1 else 0} stored"
                assert stored_now in done.output, done.output
        after = _counts(db)
        for table, (_path, rows) in files.items():
            count, distinct = after[table]
            assert count == distinct == before[table][0] + rows
        con = duckdb.connect(str(db), read_only=True)
        new = {
            r[0]
            for r in con.execute(
                "SELECT order_id FROM service_orders WHERE open_date = ? UNION ALL "
                "SELECT interaction_id FROM interactions WHERE CAST(ts AS DATE) = ?",
                [day, day],
            ).fetchall()
        }
        con.close()
        assert len(new) == sum(rows for _p, rows in files.values())
        assert not new & ids
        ids |= new
    source.close()
