"""``aftercare config show`` and ``aftercare config check FILE``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aftercare.cli.common import ConfigOption, app, console, guarded, read_config

config_app = typer.Typer(help="Show or check the configuration (defaults are SPEC.md's).")
app.add_typer(config_app, name="config")


@config_app.command("show")
@guarded
def show_cmd(config: ConfigOption = None) -> None:
    """Print the configuration in force (defaults, or a file over them) as YAML."""
    from aftercare.config import config_as_yaml

    console.print(config_as_yaml(read_config(config)), highlight=False, markup=False)


@config_app.command("check")
@guarded
def check_cmd(file: Annotated[Path, typer.Argument(help="YAML config file to validate.")]) -> None:
    """Validate a config file; every problem is reported with its line.

    Checks every key and value, the tier order, the pyramid shares, each rule's channel and
    each custom rule's condition (parsed as the engine parses it).
    """
    from aftercare.services.config_check import check_config

    check_config(file)
    console.print(f"{file}: OK", highlight=False)
