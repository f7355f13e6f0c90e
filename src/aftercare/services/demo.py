"""``aftercare demo``: generate a synthetic centre, write its DMS exports, import them.

:func:`run_demo` is the use case: :mod:`aftercare.demo` generates the dealer and writes the
files, :func:`aftercare.services.imports.import_file` loads each of them, as a user's own
exports would be. The CLI renders the :class:`DemoResult`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aftercare.demo.files import DEFAULT_OUT, write_files
from aftercare.demo.generate import TABLE_ORDER, generate, revenue_by_year
from aftercare.services.imports import LoadResult, import_file
from aftercare.store import open_store

__all__ = ["DEFAULT_OUT", "DEMO_DB_NAME", "DemoResult", "run_demo"]

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
                # The synthetic history ends at the as-of date: that is its load day (R-IN-9).
                loads[name] = import_file(store, name, files[name], load_day=data.as_of)
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
