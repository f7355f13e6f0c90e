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
from aftercare.cli.outcome_cmds import print_dashboard
from aftercare.config import Config
from aftercare.demo.run import DEFAULT_OUT, print_summary, run_demo
from aftercare.reports.html import write_html
from aftercare.services.actions import generate_actions, iso_week
from aftercare.services.call_list import action_list
from aftercare.services.kpis import dashboard
from aftercare.services.report import build_report
from aftercare.services.scoring import score_snapshot
from aftercare.services.summary import headline
from aftercare.store import Store, open_store


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
    lang: Annotated[
        str, typer.Option("--lang", help="Dashboard and report language: zh or en.")
    ] = "zh",
    data_only: Annotated[
        bool,
        typer.Option(
            "--data-only",
            help="Generate, write and import only; skip the main job (benchmark data sets).",
        ),
    ] = False,
) -> None:
    """Generate a realistic synthetic service centre, write DMS exports, import them.

    Then the main job: scores, summary, this week's actions, KPIs and the HTML report.
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
    if result.db_url is not None and not data_only:
        run_main_job(result.db_url, result.as_of, read_config(config), out, lang)
    if result.rejected:
        raise typer.Exit(3)


def run_main_job(db_url: str, as_of: dt.date, cfg: Config, out: Path, lang: str) -> None:
    """Score, summarise, plan this week's calls, show the KPIs and write the report.

    The main job a service manager runs each week, on the demo dealer here: RFM+L tiers
    (SPEC §2), the headline (tier mix, CRR, Pareto, top risks), this week's actions for every
    advisor (SPEC §6), the seed 004 dashboard (SPEC §7) and the HTML report.
    """
    with open_store(db_url) as store:
        err_console.print(f"[dim]… scoring customers as of {as_of}[/]")
        score_snapshot(store, as_of, cfg)
        err_console.print("[dim]… value, retention and churn risk[/]")
        print_headline(headline(store, as_of, cfg), console)
        monday, sunday = iso_week(as_of)
        if store.kind == "spark":  # the playbook updates rows in place: not on a Parquet lake
            console.print("Actions: not planned (actions need a DuckDB or PostgreSQL store)")
        else:
            err_console.print(f"[dim]… this week's actions ({monday} – {sunday})[/]")
            run = generate_actions(store, as_of, cfg, through=sunday)
            console.print(
                f"Actions: {run.created:,} planned for the week {monday} – {sunday} "
                f"({run.blocked:,} blocked by consent, "
                f"{run.moved_by_cap:,} moved by the weekly cap)",
                highlight=False,
            )
        print_dashboard(dashboard(store, cfg, today=as_of), lang)
        busiest = _busiest_advisor(store, monday, sunday, cfg)
        err_console.print("[dim]… the manager's report[/]")
        report = out / "report.html"
        write_html(build_report(store, as_of, cfg), report, lang)
    console.print(f"Report: {report}", highlight=False)
    if busiest:
        console.print(
            f"An advisor's call list: aftercare actions --advisor {busiest} --week "
            f"--as-of {as_of} --db {db_url}",
            highlight=False,
        )


def _busiest_advisor(store: Store, monday: dt.date, sunday: dt.date, cfg: Config) -> str | None:
    """The advisor with the most open actions this week (to show where a list is)."""
    rows = action_list(store, until=sunday, since=monday, config=cfg, scripts=False)
    ids = [a for a in rows.column("advisor_id").to_pylist() if a]
    return max(sorted(set(ids)), key=ids.count) if ids else None
