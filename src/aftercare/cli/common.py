"""What every command shares: the app, the consoles, the --db/--config options, error mapping.

Building the app must stay light (``aftercare --help`` in well under a second): the command
modules import services, config and the engines inside the commands, when they run; only this
package, Typer, Rich and :mod:`aftercare.errors` are imported up front (guarded by
``tests/cli/test_cli_startup.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from aftercare.errors import AftercareError

if TYPE_CHECKING:
    from aftercare.config import Config

app = typer.Typer(
    name="aftercare",
    help="Which customers a service centre is about to lose, which carry its profit, "
    "and what each advisor should do this week.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# One-line messages stay one line (grep-able, testable); the terminal wraps them if it must.
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Store URL: a DuckDB file (default ./aftercare.duckdb or $AFTERCARE_DB), "
        "postgresql://user@host:port/db, or spark:///path/to/lake (a Parquet lake).",
        show_default=False,
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="YAML config file over SPEC defaults.", show_default=False),
]

F = TypeVar("F", bound=Callable[..., Any])


def guarded(func: F) -> F:
    """Turn an :class:`AftercareError` into a one-line message and its exit status."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # Imported when a command runs: building the app and printing help import no service.
        from aftercare.services.waits import reporting_waits

        try:
            # A command that waits for another run on its store says so, once (issue 9).
            with reporting_waits(lambda note: err_console.print(note, highlight=False)):
                return func(*args, **kwargs)
        except AftercareError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def read_config(path: Path | None) -> Config:
    """Load the config named on the command line (defaults when none)."""
    from aftercare.config import load_config

    return load_config(path)
