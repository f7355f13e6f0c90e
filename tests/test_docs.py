"""Every CLI command and every config key is documented (taken from datasette)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.core
import typer.main
from pydantic import BaseModel

from aftercare.cli import app
from aftercare.config import DEFAULT_CONFIG

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CONFIG_DOC = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")


def _commands(group: typer.core.TyperGroup, prefix: str = "aftercare") -> list[str]:
    names = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if hasattr(command, "commands"):
            names.extend(_commands(command, path))
        else:
            names.append(path)
    return names


def _config_keys(model: BaseModel, prefix: str = "") -> list[str]:
    keys = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            keys.extend(_config_keys(value, f"{prefix}{name}."))
        else:
            keys.append(f"{prefix}{name}")
    return keys


@pytest.mark.parametrize("command", _commands(typer.main.get_command(app)))
def test_command_is_in_readme(command):
    assert command in README, f"`{command}` is not documented in README.md"


@pytest.mark.parametrize("key", _config_keys(DEFAULT_CONFIG))
def test_config_key_is_documented(key):
    assert f"`{key}`" in CONFIG_DOC, f"config key {key} is not in docs/configuration.md"
