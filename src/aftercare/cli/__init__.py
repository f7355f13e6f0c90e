"""The ``aftercare`` command line: thin Typer commands that call the service layer.

Each command module registers its commands on :data:`app`; errors become one line and an exit
status (0 ok, 1 nothing changed / failed, 2 usage, 3 loaded with rejects). Importing this
package imports no service, engine or data library: each command imports what it uses when it
runs, so ``aftercare --help`` starts fast (issue 11).
"""

from __future__ import annotations

from typing import Annotated

import typer

from aftercare.cli.common import app

# Command modules register themselves on `app` when imported.
from aftercare.cli import (  # noqa: F401  isort: skip
    actions_cmd,
    check_cmd,
    config_cmds,
    data_cmds,
    demo_cmd,
    find_cmd,
    outcome_cmds,
    report_cmd,
    score_cmds,
    segment_cmd,
)


def package_version() -> str:
    """The installed package's version (``importlib.metadata``), or ``unknown``."""
    # importlib.metadata costs ~70 ms to import: only `--version` pays it.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("aftercare")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"aftercare {package_version()}")
        raise typer.Exit(0)


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            callback=_print_version,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Which customers a service centre is about to lose, which carry its profit, and what each
    advisor should do this week."""


def main() -> None:
    """Entry point of the ``aftercare`` console script."""
    app(prog_name="aftercare")


__all__ = ["app", "main", "package_version"]
