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


def test_data_contract_page_is_generated_from_the_schema():
    """docs/data-contract.md is exactly what schema.py says (regenerate, never hand-edit)."""
    from aftercare.ingest.contract_doc import render_data_contract
    from aftercare.schema import TABLES

    page = (ROOT / "docs" / "data-contract.md").read_text(encoding="utf-8")
    assert page == render_data_contract(), (
        "docs/data-contract.md is stale: "
        "python -m aftercare.ingest.contract_doc > docs/data-contract.md"
    )
    for spec in TABLES.values():
        assert f"## `{spec.name}`" in page
        for column in spec.columns:
            assert f"| `{column.name}` |" in page
    assert "接车单号" in page and "保养/定期保养/首保 → `maintenance`" in page
