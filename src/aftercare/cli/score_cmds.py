"""``aftercare score``, ``migration`` and ``explain``: tiers, their history and their reasons."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from aftercare.cli.common import ConfigOption, DbOption, app, console, guarded, read_config
from aftercare.errors import AftercareError

if TYPE_CHECKING:
    from aftercare.services.scoring import ScoreRun, TierMix

DateOption = Annotated[
    dt.datetime | None,
    typer.Option("--as-of", formats=["%Y-%m-%d"], help="As-of date (default: today)."),
]


def _day(value: dt.datetime | None) -> dt.date:
    return value.date() if value else dt.date.today()


def print_tier_mix(mix: TierMix) -> None:
    """The tier mix beside the seed's expected mix (R-TIER)."""
    from aftercare.config import TIER_ORDER

    grid = Table(title=f"Tier mix as of {mix.as_of} ({mix.total} customers)")
    for col in ("tier", "customers", "share", "expected"):
        grid.add_column(col, justify="left" if col == "tier" else "right")
    for tier in TIER_ORDER:
        grid.add_row(
            tier,
            str(mix.counts.get(tier, 0)),
            f"{mix.share(tier):.1%}",
            f"{mix.expected_share.get(tier, 0):.0%}",
        )
    console.print(grid)


def _print_run(run: ScoreRun) -> None:
    since = f" since {run.previous_as_of}" if run.previous_as_of else ""
    new = f"{run.new_customers:,} new customers, " if run.previous_as_of else ""
    held = (
        f"; {run.held_downgrades:,} downgrades held (scored lower, R-TIER-HOLD)"
        if run.held_downgrades
        else ""
    )
    console.print(
        f"scored {run.customers:,} customers as of {run.as_of}; "
        f"{new}{run.downgrade_alerts:,} platinum/gold downgrade alerts{since}{held}",
        highlight=False,
    )


@app.command("score")
@guarded
def score_cmd(
    as_of: DateOption = None,
    quarterly: Annotated[
        tuple[dt.datetime, dt.datetime] | None,
        typer.Option(
            "--quarterly",
            formats=["%Y-%m-%d"],
            help="Back-fill a snapshot at every quarter end from FROM to TO.",
            metavar="FROM TO",
        ),
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Score every customer (RFM+L) and store the dated snapshot; print the tier mix."""
    from aftercare.services.scoring import backfill_quarterly, score_snapshot
    from aftercare.services.workspace import open_workspace

    cfg = read_config(config)
    with open_workspace(db) as store:
        if quarterly:
            runs = backfill_quarterly(store, quarterly[0].date(), quarterly[1].date(), cfg)
            if not runs:
                raise AftercareError("--quarterly: no quarter end between those dates")
            for run in runs:
                _print_run(run)
            print_tier_mix(runs[-1].mix)
            return
        run = score_snapshot(store, _day(as_of), cfg)
        _print_run(run)
        print_tier_mix(run.mix)


@app.command("migration")
@guarded
def migration_cmd(
    from_date: Annotated[
        dt.datetime, typer.Argument(formats=["%Y-%m-%d"], help="Earlier snapshot.")
    ],
    to_date: Annotated[dt.datetime, typer.Argument(formats=["%Y-%m-%d"], help="Later snapshot.")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Tier migration matrix between two snapshots, and the downgrade alerts (R-TIER-HIST)."""
    from aftercare.config import TIER_ORDER
    from aftercare.services.scoring import migration
    from aftercare.services.workspace import open_workspace

    cfg = read_config(config)
    with open_workspace(db) as store:
        moved = migration(store, from_date.date(), to_date.date(), cfg)
    cells = {(r["from_tier"], r["to_tier"]): r["customers"] for r in moved.matrix}
    grid = Table(title=f"Tier migration {moved.from_date} → {moved.to_date}")
    grid.add_column("from \\ to")
    targets = [*TIER_ORDER, None]
    for tier in targets:
        grid.add_column(tier or "(gone)", justify="right")
    for source in [*TIER_ORDER, None]:
        grid.add_row(source or "(new)", *[str(cells.get((source, t), 0)) for t in targets])
    console.print(grid)
    for day, count in sorted(moved.not_yet.items()):
        console.print(
            f"[yellow]the {day} snapshot holds {count} customers created after that date "
            f"(scored by an older Aftercare): run `aftercare score --as-of {day}` again[/]",
            highlight=False,
        )
    console.print(f"{moved.new_customers} new customers (the (new) row: not in {moved.from_date})")
    console.print(
        f"{moved.moved('up'):,} upgrades, {moved.moved('down'):,} downgrades "
        f"(effective tiers: a downgrade is held, R-TIER-HOLD)",
        highlight=False,
    )
    showing = f" (showing {len(moved.alerts):,})" if len(moved.alerts) < moved.alert_count else ""
    console.print(
        f"{moved.alert_count:,} downgrade alerts{showing} (platinum/gold moving down)",
        highlight=False,
    )
    for a in moved.alerts:
        console.print(
            f"  {a['customer_id']}: {a['previous_tier']} → {a['tier']} "
            f"(score {a['total_score']}, spend {a['monetary']})",
            highlight=False,
        )


@app.command("explain")
@guarded
def explain_cmd(
    customer_id: Annotated[
        str, typer.Argument(help="Customer id, phone, plate, VIN or name (one customer).")
    ],
    as_of: DateOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Show the visits, amounts and loyalty signals behind a customer's score (R-SCORE-EXPLAIN)."""
    from aftercare.services.explain import explain_customer
    from aftercare.services.workspace import open_workspace

    cfg = read_config(config)
    day = _day(as_of)
    with open_workspace(db) as store:
        explained = explain_customer(store, customer_id, day, cfg)
    score = explained.score
    level = cfg.scoring.service_levels[score["tier"]]
    scored = score.get("scored_tier") or score["tier"]
    held = f", scored {scored}: downgrade held (R-TIER-HOLD)" if scored != score["tier"] else ""
    console.print(
        f"[bold]{explained.customer_id}[/] as of {day}: [bold]{score['tier']}[/] "
        f"(total {score['total_score']} = R {score['r_score']} + F {score['f_score']} "
        f"+ M {score['m_score']} + L {score['l_points']}{held}); "
        f"previous tier {score.get('previous_tier') or '—'}, move {score.get('move') or '—'}",
        highlight=False,
    )
    console.print(
        f"R: last visit {score['last_visit_date'] or 'never'}"
        f" ({score['recency_days'] if score['recency_days'] is not None else '—'} days); "
        f"F: {score['frequency']} visits in {cfg.scoring.window_days} days; "
        f"M: {score['monetary']} {cfg.ingest.currency}",
        highlight=False,
    )
    grid = Table(title="Orders")
    for col in ("date", "order", "category", "payer", "amount", "F", "M"):
        grid.add_column(col)
    for o in explained.orders:
        grid.add_row(
            str(o["open_date"]),
            o["order_id"],
            o["category"] or "",
            o["payer"] or "",
            str(o["total_amount"]),
            "✓" if o["counts_toward_f"] else o["f_reason"],
            "✓" if o["counts_toward_m"] else o["m_reason"],
        )
    console.print(grid)
    signals = Table(title="Loyalty signals")
    for col in ("signal", "source", "date", "points", "why"):
        signals.add_column(col)
    for s in explained.loyalty:
        signals.add_row(
            s["signal"], s["source_id"] or "", str(s["event_date"]), str(s["points"]), s["reason"]
        )
    console.print(signals)
    console.print(f"Service level ({score['tier']}): {level.en} / {level.zh}", highlight=False)
