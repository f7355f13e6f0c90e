"""``aftercare demo``: a synthetic service centre, exported like a DMS and imported."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from aftercare.cli.common import (
    ConfigOption,
    DbOption,
    app,
    console,
    err_console,
    guarded,
    read_config,
)
from aftercare.cli.headline_view import print_headline
from aftercare.demo.run import DEFAULT_OUT, print_summary, run_demo
from aftercare.services.scoring import score_snapshot
from aftercare.services.summary import headline
from aftercare.store import open_store


@app.command()
@guarded
def demo(
    customers: Annotated[
        int, typer.Option("--customers", min=1, help="Number of customers to generate.")
    ] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; same seed, same data.")] = 0,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="Last day of the history (default today); fix it for reproducible data.",
            show_default=False,
        ),
    ] = None,
    years: Annotated[
        float, typer.Option("--years", min=1.0, max=10.0, help="Years of order history.")
    ] = 4.0,
    out: Annotated[
        Path, typer.Option("--out", help="Directory for the DMS export files.")
    ] = DEFAULT_OUT,
    db: DbOption = None,
    config: ConfigOption = None,
    no_load: Annotated[
        bool, typer.Option("--no-load", help="Only generate and write the files.")
    ] = False,
) -> None:
    """Generate a realistic synthetic service centre, write DMS exports, import them.

    Without --db the data goes into a fresh DuckDB file inside --out, never into your store.
    """
    result = run_demo(
        customers,
        seed=seed,
        as_of=as_of.date() if as_of else None,
        years=years,
        out_dir=out,
        db=db,
        load=not no_load,
        progress=lambda label: err_console.print(f"[dim]… {label}[/]"),
    )
    print_summary(result, console)
    if result.db_url is not None:
        cfg = read_config(config)
        with open_store(result.db_url) as store:
            err_console.print(
                f"[dim]… scoring {result.customers:,} customers as of {result.as_of}[/]"
            )
            score_snapshot(store, result.as_of, cfg)
            err_console.print("[dim]… value, retention and churn risk[/]")
            print_headline(headline(store, result.as_of, cfg), console)
    if result.rejected:
        raise typer.Exit(3)
