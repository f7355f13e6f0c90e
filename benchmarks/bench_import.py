"""Import benchmark: `aftercare import` of a 1M-row service-orders CSV vs DuckDB's read_csv.

Target (issue 2): the whole import (read, map Chinese headers, parse every date and amount,
validate, hash, merge into the store) in ≤ 3× the time DuckDB's own ``read_csv`` takes to load
the same file into a table. Both are measured in the same run on the same file; the ratio is
what is reported.

    python benchmarks/bench_import.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from aftercare.services.imports import import_file
from aftercare.store import open_store

VIN_ALPHABET = np.array(list("ABCDEFGHJKLMNPRSTUVWXYZ0123456789"))


def write_orders_csv(path: Path, rows: int, seed: int = 7) -> None:
    """A DMS-style service-orders export: Chinese headers, mixed date and amount formats."""
    rng = np.random.default_rng(seed)
    n_vehicles = max(rows // 10, 1)
    vin_chars = VIN_ALPHABET[rng.integers(0, len(VIN_ALPHABET), size=(n_vehicles, 14))]
    vins = np.char.add("LSV", np.ascontiguousarray(vin_chars).view("<U14").ravel())
    vehicle = rng.integers(0, n_vehicles, rows)
    days = rng.integers(0, 5 * 365, rows)
    dates = np.datetime64("2021-01-01") + days.astype("timedelta64[D]")
    iso = np.datetime_as_string(dates, unit="D")
    slash = np.char.replace(iso, "-", "/")
    open_text = np.where(rng.random(rows) < 0.5, iso, slash)
    amounts = np.round(rng.gamma(2.0, 600.0, rows), 2)
    amount_text = np.char.add("¥", np.char.mod("%.2f", amounts))
    table = pa.table(
        {
            "接车单号": np.char.add("RO", np.arange(rows).astype(str)),
            "车架号": vins[vehicle],
            "客户编号": np.char.add("C", (vehicle % (n_vehicles // 2 + 1)).astype(str)),
            "接车日期": open_text,
            "完工日期": iso,
            "行驶里程": (days * 40 + rng.integers(0, 5000, rows)).astype(str),
            "维修类别": rng.choice(["保养", "一般维修", "钣喷", "索赔", "事故", "精品"], rows),
            "结算方式": rng.choice(
                ["自费", "索赔", "保险", "内部"], rows, p=[0.8, 0.1, 0.08, 0.02]
            ),
            "工时费": np.char.mod("%.2f", amounts * 0.4),
            "配件费": np.char.mod("%.2f", amounts * 0.6),
            "优惠金额": np.zeros(rows).astype(str),
            "结算金额": amount_text,
            "成本金额": np.char.mod("%.2f", amounts * 0.6),
            "服务顾问": rng.choice(["A01", "A02", "A03", "A04"], rows),
        }
    )
    pacsv.write_csv(table, path)


def time_duckdb_read_csv(csv: Path, workdir: Path) -> float:
    db = workdir / "baseline.duckdb"
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    start = time.perf_counter()
    con.execute(f"CREATE TABLE orders AS SELECT * FROM read_csv('{csv}', all_varchar=false)")
    con.close()
    return time.perf_counter() - start


def time_aftercare_import(csv: Path, workdir: Path) -> tuple[float, int]:
    db = workdir / "aftercare.duckdb"
    db.unlink(missing_ok=True)
    store = open_store(str(db))
    start = time.perf_counter()
    result = import_file(store, "service_orders", csv)
    elapsed = time.perf_counter() - start
    store.close()
    return elapsed, result.inserted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        csv = workdir / "service_orders.csv"
        write_orders_csv(csv, args.rows)
        size_mb = csv.stat().st_size / 1e6
        baseline, ours = [], []
        for _ in range(args.repeat):
            baseline.append(time_duckdb_read_csv(csv, workdir))
            elapsed, stored = time_aftercare_import(csv, workdir)
            ours.append(elapsed)
            assert stored == args.rows, f"stored {stored} of {args.rows} rows"
    result = {
        "rows": args.rows,
        "csv_mb": round(size_mb, 1),
        "duckdb_read_csv_s": round(statistics.median(baseline), 3),
        "aftercare_import_s": round(statistics.median(ours), 3),
    }
    result["ratio"] = round(result["aftercare_import_s"] / result["duckdb_read_csv_s"], 2)
    result["target_ratio"] = 3.0
    result["meets_target"] = result["ratio"] <= 3.0
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
