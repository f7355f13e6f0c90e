"""``aftercare demo``: generate a synthetic centre, write its DMS exports, import them.

:func:`run_demo` is the service; :func:`print_summary` renders its :class:`DemoResult`.
The scoring summary (tier mix …) is added on top of :class:`DemoResult` by the caller.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from aftercare.demo.files import FAST_PATH_CUSTOMERS, export_view, write_view
from aftercare.demo.generate import TABLE_ORDER, DemoData, generate
from aftercare.ingest.service import LoadResult, import_file
from aftercare.store import open_store

DEFAULT_OUT = Path("aftercare-demo")
DEMO_DB_NAME = "aftercare.duckdb"
Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoResult:
    """What a demo run produced: sizes, files, loads and timings."""

    customers: int
    vehicles: int
    orders: int
    first_day: dt.date
    as_of: dt.date
    revenue_by_year: dict[int, float]
    files: dict[str, Path]
    db_url: str | None
    loads: dict[str, LoadResult] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        """Rows rejected over all loads."""
        return sum(r.rejected for r in self.loads.values())


def revenue_by_year(data: DemoData) -> dict[int, float]:
    """Settled amount (all payers, credit notes netted) per calendar year of the open date."""
    day = data.orders.open_day.astype("datetime64[D]")
    year = day.astype("datetime64[Y]").astype(np.int64) + 1970
    first = int(year.min()) if len(year) else data.as_of.year
    sums = np.bincount(year - first, weights=data.orders.total_cents) / 100
    return {first + i: float(v) for i, v in enumerate(sums)}


def write_files(data: DemoData, out_dir: Path, seed: int) -> dict[str, Path]:
    """Write every table as a DMS export into ``out_dir`` (created if missing)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    fast = data.population.n_customers >= FAST_PATH_CUSTOMERS
    rng = np.random.default_rng([seed, 1])  # formats vary by seed too, independently of data
    # Views draw from the RNG in table order (deterministic); the files are then written in
    # parallel (Parquet and CSV writers release the GIL: the 9M-order file no longer waits
    # for the others).
    views = [export_view(rng, name, data.tables[name], out_dir, fast) for name in TABLE_ORDER]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        paths = list(pool.map(write_view, views))
    return dict(zip(TABLE_ORDER, paths, strict=True))


def run_demo(
    customers: int = 20_000,
    *,
    seed: int = 0,
    as_of: dt.date | None = None,
    years: float = 4.0,
    out_dir: Path = DEFAULT_OUT,
    db: str | None = None,
    load: bool = True,
    progress: Progress | None = None,
) -> DemoResult:
    """Generate, write and import a synthetic service centre.

    Parameters
    ----------
    customers, seed, as_of, years
        See :func:`aftercare.demo.generate.generate`.
    out_dir
        Where the export files go.
    db
        Store URL to import into; ``None`` uses a fresh DuckDB file inside ``out_dir``
        (replaced on each run, so a demo never mixes into real data).
    load
        Import the files (else only generate and write).
    progress
        Called with a short label as each stage starts.

    Returns
    -------
    DemoResult
        Sizes, date range, revenue per year, files, load results and timings.
    """
    say = progress or (lambda _label: None)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    say(f"generating {customers:,} customers")
    data = generate(customers, seed=seed, as_of=as_of, years=years)
    seconds["generate"] = time.perf_counter() - started
    started = time.perf_counter()
    say(f"writing files to {out_dir}")
    files = write_files(data, out_dir, seed)
    seconds["write"] = time.perf_counter() - started
    loads: dict[str, LoadResult] = {}
    db_url = db
    if load:
        started = time.perf_counter()
        if db_url is None:
            db_path = out_dir / DEMO_DB_NAME
            for stale in (db_path, db_path.with_name(db_path.name + ".wal")):
                stale.unlink(missing_ok=True)
            db_url = str(db_path)
        with open_store(db_url) as store:
            for name in TABLE_ORDER:
                say(f"importing {files[name].name}")
                loads[name] = import_file(store, name, files[name])
        seconds["import"] = time.perf_counter() - started
    return DemoResult(
        customers=data.population.n_customers,
        vehicles=data.tables["vehicles"].num_rows,
        orders=data.tables["service_orders"].num_rows,
        first_day=data.history_start,
        as_of=data.as_of,
        revenue_by_year=revenue_by_year(data),
        files=files,
        db_url=db_url,
        loads=loads,
        seconds=seconds,
    )


def print_summary(result: DemoResult, console: Console) -> None:
    """Render a demo run: sizes, revenue per year, files and what each load did."""
    console.print(
        f"[bold]Demo service centre[/]: {result.customers:,} customers, "
        f"{result.vehicles:,} vehicles, {result.orders:,} repair orders, "
        f"{result.first_day} → {result.as_of}"
    )
    revenue = Table("year", "revenue (CNY)", title="Revenue per year (all payers, refunds netted)")
    for year, amount in result.revenue_by_year.items():
        revenue.add_row(str(year), f"{amount:,.0f}")
    console.print(revenue)
    files = Table(
        "file",
        "read",
        "new",
        "repl.",
        "same",
        "rej.",
        "warn.",
        "unmatched",
        title="Files and loads",
    )
    for name, path in result.files.items():
        r = result.loads.get(name)
        counts = (
            [
                f"{v:,}"
                for v in (
                    r.rows_read,
                    r.inserted,
                    r.replaced,
                    r.unchanged,
                    r.rejected,
                    r.warnings,
                    r.unmatched,
                )
            ]
            if r
            else ["–"] * 7
        )
        files.add_row(path.name, *counts)
    console.print(files)
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    folder = next(iter(result.files.values())).parent if result.files else None
    console.print(f"Files in {folder}. Time: {timing}")
    if result.db_url:
        console.print(f"Store: {result.db_url}  (use --db {result.db_url} with other commands)")
