"""The ``aftercare`` command line: thin Typer commands that call the service layer.

Each command module registers its commands on :data:`app`; errors become one line and an exit
status (0 ok, 1 nothing changed / failed, 2 usage, 3 loaded with rejects).
"""

from __future__ import annotations

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


def main() -> None:
    """Entry point of the ``aftercare`` console script."""
    app(prog_name="aftercare")


__all__ = ["app", "main"]
