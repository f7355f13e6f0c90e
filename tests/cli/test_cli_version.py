"""`aftercare --version`, and the dependencies `aftercare segment` needs are core (issue 10)."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

from typer.testing import CliRunner

from aftercare.cli import app

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_version_prints_the_installed_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output == f"aftercare {version('aftercare')}\n"
    assert version("aftercare") == PROJECT["version"]


def test_segment_needs_no_extra():
    """README's command 1 (`pip install .`) brings scikit-learn and scipy: `segment` and the
    CLV models run in the default install, not only with an extra."""
    core = {r.split(">")[0].split("<")[0].split("=")[0].strip() for r in PROJECT["dependencies"]}
    assert {"scikit-learn", "scipy"} <= core
    extras = PROJECT["optional-dependencies"]
    assert not any("scikit-learn" in r for deps in extras.values() for r in deps)
