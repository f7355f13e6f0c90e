"""``aftercare report``: the manager's report as one HTML file or an Excel workbook (SPEC §7)."""

from __future__ import annotations

import datetime as dt
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from aftercare.cli.common import ConfigOption, DbOption, app, console, guarded, read_config
from aftercare.errors import AftercareError
from aftercare.reports.html import write_html
from aftercare.reports.xlsx import write_xlsx
from aftercare.services.report import build_report
from aftercare.store import open_store

WRITERS = {".html": write_html, ".htm": write_html, ".xlsx": write_xlsx}


class Lang(StrEnum):
    """Report languages."""

    zh = "zh"
    en = "en"


@app.command("report")
@guarded
def report_cmd(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Output file: .html (one self-contained page) or .xlsx (one sheet per section).",
        ),
    ],
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
    """Write the manager's report: tier mix, migration, lifecycle, Pareto, CRR, churn, reminders."""
    writer = WRITERS.get(out.suffix.lower())
    if writer is None:
        raise AftercareError(f"--out {out}: use a file ending in .html or .xlsx")
    if out.parent and not out.parent.exists():
        raise AftercareError(f"--out {out}: folder {out.parent} does not exist")
    cfg = read_config(config)
    day = as_of.date() if as_of else dt.date.today()
    started = time.perf_counter()
    with open_store(db, create=False) as store:
        data = build_report(store, day, cfg)
    writer(data, out, lang.value)
    if data.scored_now:
        console.print(f"scored {data.customers} customers as of {day} (no snapshot yet)")
    console.print(
        f"report as of {day} ({data.customers} customers) written to {out} "
        f"in {time.perf_counter() - started:.1f} s",
        highlight=False,
    )
