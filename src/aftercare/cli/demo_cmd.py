"""``aftercare demo``: a synthetic service centre, exported like a DMS and imported."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from aftercare.cli.common import (
    ConfigOption,
    DbOption,
    app,
    console,
    err_console,
    guarded,
    read_config,
)
from aftercare.cli.defaults import DEMO_OUT, DEMO_WORKED_WEEKS
from aftercare.cli.headline_view import print_headline
from aftercare.cli.outcome_cmds import print_dashboard

if TYPE_CHECKING:
    from aftercare.config import Config
    from aftercare.services.demo import DemoResult


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
    ] = DEMO_OUT,
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
    worked_weeks: Annotated[
        int,
        typer.Option(
            "--worked-weeks",
            min=0,
            max=12,
            help="Weeks before the as-of week the centre already worked its call lists "
            "(0: this week is the go-live week).",
        ),
    ] = DEMO_WORKED_WEEKS,
) -> None:
    """Generate a realistic synthetic service centre, write DMS exports, import them.

    Then the main job: scores, summary, this week's actions, KPIs and the HTML report.
    Without --db the data goes into a fresh DuckDB file inside --out, never into your store.
    """
    from aftercare.services.demo import run_demo

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
        run_main_job(result.db_url, result.as_of, read_config(config), out, lang, worked_weeks)
    if result.rejected:
        raise typer.Exit(3)


def run_main_job(
    db_url: str, as_of: dt.date, cfg: Config, out: Path, lang: str, worked_weeks: int = 0
) -> None:
    """Score, summarise, plan this week's calls, show the KPIs and write the report.

    The main job a service manager runs each week, on the demo dealer here: RFM+L tiers
    (SPEC §2), the headline (tier mix, CRR, Pareto, top risks), this week's actions for every
    advisor (SPEC §6), the seed 004 dashboard (SPEC §7) and the HTML report. On the demo,
    the ``worked_weeks`` weeks before are played first (plans worked, outcomes logged), so
    this week is an ordinary week, not the go-live flood of every trigger still open.
    """
    from aftercare.services.actions import generate_actions, iso_week
    from aftercare.services.call_list import action_list
    from aftercare.services.demo_weeks import work_past_weeks
    from aftercare.services.kpis import dashboard
    from aftercare.services.report import build_report, write_report
    from aftercare.services.scoring import score_snapshot
    from aftercare.services.summary import headline
    from aftercare.services.workspace import open_workspace

    with open_workspace(db_url) as store:
        if worked_weeks and store.has_transactions:
            work_past_weeks(
                store,
                as_of,
                cfg,
                weeks=worked_weeks,
                out_dir=out,
                progress=lambda label: err_console.print(f"[dim]… {label}[/]"),
            )
        err_console.print(f"[dim]… scoring customers as of {as_of}[/]")
        score_snapshot(store, as_of, cfg)
        err_console.print("[dim]… value, retention and churn risk[/]")
        print_headline(headline(store, as_of, cfg), console)
        monday, sunday = iso_week(as_of)
        if not store.has_transactions:  # the playbook updates rows in place: not on a lake
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
        week = action_list(store, until=sunday, since=monday, config=cfg, scripts=False)
        busiest = _busiest_advisor(week.column("advisor_id").to_pylist())
        err_console.print("[dim]… the manager's report[/]")
        report = out / "report.html"
        write_report(build_report(store, as_of, cfg), report, lang)
    console.print(f"Report: {report}", highlight=False)
    if busiest:
        console.print(
            f"An advisor's call list: aftercare actions --advisor {busiest} --week "
            f"--as-of {as_of} --db {db_url}",
            highlight=False,
        )


def _busiest_advisor(advisor_ids: list[str | None]) -> str | None:
    """The advisor with the most open actions this week (to show where a list is)."""
    ids = [a for a in advisor_ids if a]
    return max(sorted(set(ids)), key=ids.count) if ids else None


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
