"""``aftercare check``: verify a store (keys, committed loads, counts, references; R-IN-3)."""

from __future__ import annotations

from typing import Annotated

import typer

from aftercare.cli.common import DbOption, app, console, err_console, guarded


@app.command("check")
@guarded
def check_cmd(
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="First remove the rows of loads that never committed and snapshot dates "
            "holding a customer twice (recorded in store_repairs).",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Verify the store: keys unique, every load committed, counts match the load log.

    Also that actions, outcomes, moves, assignments and scores point at stored rows. Exit 0
    with a one-line "ok"; exit 1 listing what is wrong.
    """
    from aftercare.services.check import check_store
    from aftercare.services.workspace import open_workspace

    with open_workspace(db) as store:
        report = check_store(store, repair=repair)
    if report.repaired:
        console.print(report.repaired, highlight=False)
    if report.ok:
        console.print(report.summary(), highlight=False)
        return
    for finding in report.findings:
        console.print(f"  {finding.table}: {finding.detail}", highlight=False)
    err_console.print(f"[bold red]error:[/] {report.summary()}", highlight=False)
    raise typer.Exit(1)
