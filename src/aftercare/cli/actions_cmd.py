"""``aftercare actions``: generate what is due and print the call list by priority (SPEC §6)."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.table import Table

from aftercare.cli.common import ConfigOption, DbOption, app, console, guarded, read_config

if TYPE_CHECKING:
    from aftercare.services.actions import GenerationRun

#: Evidence fields shown first in the list's short evidence, when present.
EVIDENCE_SHOWN = 3
PHONE_KEEP_HEAD = 3
PHONE_KEEP_TAIL = 4
#: Characters of an action id ("A" and 16 hex digits, ``playbook.model.action_id``).
ACTION_ID_WIDTH = 17
#: Characters of the longest built-in rule id (A-FIRST-SERVICE-30D).
RULE_ID_WIDTH = 19
#: Terminal width from which the list is a table; narrower, one line per action (never an id
#: cut short: it is what ``aftercare outcome ID RESULT`` takes).
GRID_MIN_WIDTH = 120


def mask_phone(phone: str | None) -> str:
    """The phone with its middle digits hidden: 13812345678 → 138****5678."""
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) <= PHONE_KEEP_HEAD + PHONE_KEEP_TAIL:
        return "*" * len(digits)
    hidden = len(digits) - PHONE_KEEP_HEAD - PHONE_KEEP_TAIL
    return digits[:PHONE_KEEP_HEAD] + "*" * hidden + digits[-PHONE_KEEP_TAIL:]


def short_evidence(evidence: str | None) -> str:
    """The first few facts of an action's evidence as ``key=value``."""
    try:
        facts = json.loads(evidence or "{}", strict=False)
    except json.JSONDecodeError:
        return (evidence or "")[:40]
    shown = [f"{k}={v}" for k, v in facts.items() if v not in (None, "")][:EVIDENCE_SHOWN]
    return ", ".join(shown)


def _print_run(run: GenerationRun) -> None:
    """One line: what this run stored (another run's actions are not counted again)."""
    scores = f"tiers as of {run.scores_as_of}" if run.scores_as_of else "tiers computed now"
    planned = (
        "every customer planned"
        if run.customers_planned is None
        else f"{run.customers_planned:,} customers planned, those changed since the last run"
    )
    console.print(
        f"generated {run.created} new actions due by {run.through} ({scores}; {planned}); "
        f"{run.holdout} held out, {run.blocked} blocked by consent, "
        f"{run.moved_by_cap} moved by the weekly cap, {run.displaced} earlier ones moved "
        f"to a later week for higher-priority ones, {run.stopped} stopped, "
        f"{run.dedicated} dedicated advisors assigned",
        highlight=False,
    )
    console.print(
        f"advisor capacity (R-ACT-CAPACITY): {run.moved_by_capacity} moved to a later day, "
        f"{run.carried} carried over from earlier days, "
        f"{run.to_backlog} to the backlog, {run.from_backlog} placed from it; "
        f"{run.expired} expired unworked (R-ACT-EXPIRE)",
        highlight=False,
    )
    for row in run.backlog:
        console.print(
            f"backlog of store {row.store_id or '(none)'}: {row.actions} actions no advisor "
            f"day has room for, expected value {row.expected_value:,.0f}",
            highlight=False,
        )


@app.command("actions")
@guarded
def actions_cmd(
    as_of: Annotated[
        dt.datetime | None,
        typer.Option("--as-of", formats=["%Y-%m-%d"], help="As-of date (default: today)."),
    ] = None,
    advisor: Annotated[
        str | None,
        typer.Option("--advisor", help="Only this advisor's actions: an advisor id or exact name."),
    ] = None,
    week: Annotated[
        bool, typer.Option("--week", help="Plan and list the whole ISO week containing as-of.")
    ] = False,
    no_generate: Annotated[
        bool, typer.Option("--no-generate", help="Only list stored actions.")
    ] = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Plan every customer (default: after a first run, only those whose data "
            "or dates changed since the last run; the same actions either way).",
        ),
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Rows shown per priority.")] = 30,
    scripts: Annotated[
        bool, typer.Option("--scripts", help="Print each action's personalised script under it.")
    ] = False,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="Script language, zh-CN or en (default: the customer's)."),
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Generate the actions due (3P playbook) and print the call list grouped by priority."""
    import pyarrow.compute as pc

    from aftercare.schema.playbook import PRIORITIES
    from aftercare.services.actions import action_list, generate_actions, iso_week
    from aftercare.services.advisors import resolve_advisor
    from aftercare.services.workspace import open_workspace

    cfg = read_config(config)
    day = as_of.date() if as_of else dt.date.today()
    start, end = iso_week(day) if week else (day, day)
    with open_workspace(db) as store:
        # An unknown advisor is refused before anything is generated (exit 1, nothing changed).
        who = resolve_advisor(store, advisor) if advisor else None
        if not no_generate:
            _print_run(generate_actions(store, day, cfg, through=end, full=full))
        listed = action_list(
            store,
            until=end,
            since=start,
            advisor_id=who.advisor_id if who else None,
            config=cfg,
            scripts=scripts,
            lang=lang,
            as_of=day,
        )
    whose = f" for advisor {who}" if who else ""
    span = f"week {start} – {end}" if week else f"due by {end}"
    console.print(
        f"[bold]Call list{whose}, {span}[/]: {listed.num_rows} open actions", highlight=False
    )
    # Only the rows shown become Python objects (a 1M-customer store lists tens of thousands).
    priorities = listed.column("priority")
    for priority in PRIORITIES:
        group = listed.filter(pc.equal(priorities, priority))
        if not group.num_rows:
            continue
        shown = group.slice(0, limit).to_pylist()
        if scripts or console.width < GRID_MIN_WIDTH:
            _print_lines(priority, shown, group.num_rows, scripts=scripts)
        else:
            console.print(_grid(priority, shown, group.num_rows))
        if group.num_rows > limit:
            console.print(
                f"  … {group.num_rows - limit} more (aftercare export actions --out FILE)",
                highlight=False,
            )


def _cells(r: dict) -> list[str]:
    """The row's cells: id, due, phone (masked), customer, rule, channel, advisor, vehicle, why.

    The action id is what ``aftercare outcome ID RESULT`` takes.
    """
    due = str(r["due_date"]) + (" !" if r["is_overdue"] else "")
    vehicle = " ".join(x for x in (r["plate"], r["model"]) if x)
    return [
        r["action_id"],
        due,
        mask_phone(r["phone"]),
        r["customer_name"] or r["customer_id"],
        r["rule_id"],
        r["channel"],
        r["advisor_name"] or r["advisor_id"] or "",
        vehicle,
        short_evidence(r["evidence"]),
    ]


def _grid(priority: str, shown: list[dict], total: int) -> Table:
    """The ``shown`` rows of a priority's ``total`` as a table."""
    grid = Table(
        title=f"{priority} priority ({total})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    # The id, the date, the phone and the rule are never cut; the other columns fold when they must.
    for col, width in (("id", ACTION_ID_WIDTH), ("due", 12), ("phone", 11)):
        grid.add_column(col, no_wrap=True, min_width=width)
    grid.add_column("customer", overflow="fold")
    grid.add_column("rule", no_wrap=True, min_width=RULE_ID_WIDTH)
    for col in ("channel", "advisor"):
        grid.add_column(col, overflow="fold")
    for col in ("vehicle", "why"):
        grid.add_column(col, overflow="fold", ratio=1)
    for r in shown:
        grid.add_row(*_cells(r))
    return grid


def _print_lines(priority: str, shown: list[dict], total: int, *, scripts: bool) -> None:
    """Each shown action on one line (a narrow terminal), with its script indented under it."""
    console.print(f"[bold]{priority} priority ({total})[/]", highlight=False)
    for r in shown:
        cells = [c for c in _cells(r) if c]
        console.print("  " + "  ".join(cells), highlight=False, markup=False)
        if scripts:
            console.print("      " + (r["script"] or ""), highlight=False, markup=False)
