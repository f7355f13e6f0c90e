"""``aftercare report``: the manager's report as one HTML file or an Excel workbook (SPEC §7)."""

from __future__ import annotations

import datetime as dt
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from aftercare.cli.common import ConfigOption, DbOption, app, console, guarded, read_config


class Lang(StrEnum):
    """Report languages."""

    zh = "zh"
    en = "en"


@app.command("report")
@guarded
def report_cmd(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Output file: .html (one self-contained page) or .xlsx (one sheet per section).",
        ),
    ] = None,
    call_sheets: Annotated[
        Path | None,
        typer.Option(
            "--call-sheets",
            help="Also (or only) write the advisors' call sheets of the as-of week to this "
            ".xlsx: a summary and one sheet per advisor, phones unmasked, result/note to fill.",
        ),
    ] = None,
    month: Annotated[
        str | None,
        typer.Option("--month", help="YYYY-MM of the KPI section (default: the as-of month)."),
    ] = None,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="Report date (default: today); its score snapshot is computed when missing.",
        ),
    ] = None,
    lang: Annotated[
        Lang, typer.Option("--lang", help="Label language: zh (Chinese) or en.")
    ] = Lang.zh,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Write the manager's report (tiers, lifecycle, value, CRR, churn, reminders, this week's
    actions, monthly KPIs, rule lift) and/or the advisors' call sheets."""
    from aftercare.services.report import (
        build_call_sheets,
        build_report,
        check_report_paths,
        write_call_sheets,
        write_report,
    )
    from aftercare.services.workspace import open_workspace

    # Every output is checked before the store is opened: exit 1 means nothing changed.
    check_report_paths(out, call_sheets)
    cfg = read_config(config)
    day = as_of.date() if as_of else dt.date.today()
    started = time.perf_counter()
    with open_workspace(db, create=False) as store:
        data = build_report(store, day, cfg, month=month) if out is not None else None
        sheets = build_call_sheets(store, day, cfg) if call_sheets is not None else None
    if data is not None and out is not None:
        write_report(data, out, lang.value)
        if data.scored_now:
            console.print(f"scored {data.customers} customers as of {day} (no snapshot yet)")
        console.print(
            f"report as of {day} ({data.customers} customers) written to {out} "
            f"in {time.perf_counter() - started:.1f} s",
            highlight=False,
        )
    if sheets is not None and call_sheets is not None:
        write_call_sheets(sheets, call_sheets, lang.value)
        console.print(
            f"call sheets of {sheets.week_start} – {sheets.week_end}: {len(sheets.rows)} open "
            f"actions for {len(sheets.advisors())} advisors written to {call_sheets}",
            highlight=False,
        )
        if not sheets.rows:
            console.print("no open actions this week: run `aftercare actions --week` first")
