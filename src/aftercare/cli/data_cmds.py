"""Data commands: ``aftercare import``, ``export`` and ``status``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
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
from aftercare.cli.defaults import CANONICAL_TABLES, MART_NAMES
from aftercare.cli.outcome_cmds import print_outcome_import

if TYPE_CHECKING:
    from aftercare.services.imports import LoadResult
    from aftercare.services.status import LoadRejects

MAX_REJECTS_SHOWN = 20


#: ``aftercare import outcomes FILE`` takes a call log (R-ACT-OUTCOME), not a DMS table.
OUTCOMES = "outcomes"


def _check_table(name: str) -> str:
    if name not in CANONICAL_TABLES and name != OUTCOMES:
        choices = ", ".join((*CANONICAL_TABLES, OUTCOMES))
        raise typer.BadParameter(f"unknown table {name!r}; one of: {choices}")
    return name


@app.command("import")
@guarded
def import_cmd(
    table: Annotated[
        str,
        typer.Argument(
            help="Canonical table: " + ", ".join(CANONICAL_TABLES) + "; or outcomes (call log)."
        ),
    ],
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8/GBK), XLSX or Parquet export.")],
    mapping: Annotated[
        Path | None, typer.Option("--mapping", help="YAML header/value mapping file.")
    ] = None,
    rejects: Annotated[
        Path | None, typer.Option("--rejects", help="Also write rejected rows to this CSV.")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="Force the CSV encoding (e.g. gb18030).")
    ] = None,
    allow_blanking: Annotated[
        bool,
        typer.Option(
            "--allow-blanking",
            help="R-IN-8: import a file that does not look like one of TABLE (most headers "
            "unmapped), or that empties a stored column in more than 20 %% of the rows it "
            "updates (ingest.max_blanked_share).",
        ),
    ] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Import a DMS export into TABLE. Exit 0: all rows loaded; 3: some rows rejected.

    A file updates only the columns it carries (R-IN-8); implausible values are rejected
    (R-IN-9).
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from aftercare.services.imports import prepare_import, write_import
    from aftercare.services.outputs import check_output_path
    from aftercare.services.status import load_rejects
    from aftercare.services.workspace import open_workspace

    _check_table(table)
    if rejects is not None:  # before anything is read or stored: exit 1 = nothing changed
        check_output_path(rejects, option="--rejects")
    if table == OUTCOMES:
        _import_outcomes(file, encoding=encoding, db=db, config=config)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task(f"{file.name}: starting")

        def say(label: str) -> None:
            progress.update(task, description=f"{file.name}: {label}")

        # Read and validate first: a bad file or mapping must not even create a store.
        prepared = prepare_import(
            table,
            file,
            mapping_path=mapping,
            encoding=encoding,
            progress=say,
            config=read_config(config).ingest,
            allow_blanking=allow_blanking,
        )
        with open_workspace(db, create=True) as store:  # import and demo create a store
            result = write_import(store, prepared, rejects_path=rejects, progress=say)
            progress.stop()
            print_load_result(result)
            if result.rejected:
                _print_rejects(load_rejects(store, result.load_id, limit=MAX_REJECTS_SHOWN), result)
    raise typer.Exit(result.exit_code)


def _import_outcomes(
    file: Path, *, encoding: str | None, db: str | None, config: Path | None
) -> None:
    """Import a call log of outcomes and exit with its status (R-ACT-OUTCOME)."""
    from aftercare.services.outcomes import import_outcomes
    from aftercare.services.workspace import open_workspace

    with open_workspace(db) as store:
        result = import_outcomes(store, file, config=read_config(config), encoding=encoding)
    print_outcome_import(result)
    raise typer.Exit(result.exit_code)


def print_load_result(result: LoadResult) -> None:
    """One line per import: what was read, stored, rejected and left unmatched."""
    console.print(
        f"[bold]{result.table}[/] ← {result.source_file}: {result.rows_read} rows read, "
        f"{result.inserted} stored ({result.replaced} replaced), {result.unchanged} unchanged, "
        f"[{'red' if result.rejected else 'green'}]{result.rejected} rejected[/], "
        f"{result.warnings} warnings, {result.unmatched} unmatched",
        highlight=False,
    )
    if result.ignored_columns:
        console.print(f"  ignored columns: {', '.join(result.ignored_columns)}", highlight=False)


def _print_rejects(rejects: LoadRejects, result: LoadResult) -> None:
    for r in rejects.rows:
        console.print(
            f"  {r['source_file']}:{r['source_row']}: {r['column_name']}: {r['reason']}",
            highlight=False,
        )
    if rejects.total > len(rejects.rows):
        where = f" and in {result.rejects_path}" if result.rejects_path else ""
        console.print(
            f"  … {rejects.total - len(rejects.rows)} more in table rejected_rows{where}",
            highlight=False,
        )


@app.command("export")
@guarded
def export_cmd(
    table: Annotated[
        str,
        typer.Argument(
            help="Any stored table (canonical or result), or a mart computed as of --as-of: "
            + ", ".join(MART_NAMES)
            + "."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Output file: .csv, .parquet or .xlsx.")],
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="Snapshot date, for dated tables; as-of date of a mart (default: today).",
        ),
    ] = None,
    raw: Annotated[
        bool,
        typer.Option(
            "--raw",
            help=".csv only: write cells exactly as stored; by default a text cell starting "
            "with =, +, -, @, tab or CR gets a leading ' so a spreadsheet shows it as text.",
        ),
    ] = False,
    no_bom: Annotated[
        bool,
        typer.Option(
            "--no-bom",
            help=".csv only: no UTF-8 byte-order mark (by default there is one, so Excel "
            "shows Chinese text).",
        ),
    ] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Export a table, or a per-customer / per-vehicle mart, to CSV, Parquet or XLSX."""
    from aftercare.services.exports import CsvOptions, check_export_path, export_data
    from aftercare.services.workspace import open_workspace

    # Checked before the store is opened: a path that cannot be written changes nothing.
    check_export_path(out)
    if (raw or no_bom) and out.suffix.lower() != ".csv":
        flag = "--raw" if raw else "--no-bom"
        raise typer.BadParameter(f"{flag} applies to .csv exports only", param_hint=flag)
    cfg = read_config(config)
    with open_workspace(db) as store:
        done = export_data(
            store,
            table,
            out,
            config=cfg,
            as_of=as_of.date() if as_of else None,
            csv=CsvOptions(neutralise=not raw, bom=not no_bom),
        )
    if done.grain is not None:
        console.print(
            f"{done.rows} rows of {table} as of {done.as_of} ({done.grain}) → {out}",
            highlight=False,
        )
        return
    console.print(f"{done.rows} rows of {table} → {out}", highlight=False)


@app.command("status")
@guarded
def status_cmd(db: DbOption = None) -> None:
    """Rows, unmatched records, rejects and last load of every table."""
    from aftercare.services.status import status_at

    status = status_at(db)
    grid = Table(title=f"Aftercare store: {status.url}")
    grid.add_column("table", no_wrap=True)
    for col in ("rows", "unmatched", "rejected rows", "warnings"):
        grid.add_column(col, justify="right", no_wrap=True)
    grid.add_column("last load")
    for t in status.tables:
        grid.add_row(
            t.name,
            str(t.rows),
            str(t.unmatched),
            str(t.rejected_rows),
            str(t.warnings),
            f"{t.last_load_at:%Y-%m-%d %H:%M} {t.last_file}" if t.last_load_at else "never",
        )
    console.print(grid)
