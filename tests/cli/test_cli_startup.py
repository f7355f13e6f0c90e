"""Fast start (issue 11): building the CLI and printing help import no engine and no service.

Each command imports what it uses when it runs; ``aftercare --help`` must not pay for Ibis,
pandas, the store or the action layer. The import set is read in a fresh interpreter (this
test process has imported everything already). No wall-clock assert here: the seconds are
measured by ``benchmarks/bench_startup.py``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap

from aftercare.cli import defaults

#: Packages and layers a user pays seconds for: none may load before a command runs.
HEAVY = (
    "ibis",
    "pandas",
    "pyarrow",
    "duckdb",
    "sklearn",
    "scipy",
    "numpy",
    "sqlglot",
    "aftercare.services",
    "aftercare.pipeline",
    "aftercare.playbook",
    "aftercare.models",
    "aftercare.reports",
    "aftercare.store",
    "aftercare.ingest",
    "aftercare.demo",
)


def _heavy(modules: list[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(f"{h}.") for h in HEAVY))


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_importing_the_cli_imports_nothing_heavy():
    child = _run("import aftercare.cli, sys; print(sorted(sys.modules))")
    assert child.returncode == 0, child.stderr
    modules = ast.literal_eval(child.stdout)  # the sorted list of module names
    assert "aftercare.cli.data_cmds" in modules  # every command registered
    assert _heavy(modules) == []


def test_every_help_page_imports_nothing_heavy():
    """Root help and each command's help, rendered as the user sees them, in one process."""
    child = _run(
        """
        import json, sys
        import typer
        from typer.testing import CliRunner
        from aftercare.cli import app

        group = typer.main.get_command(app)
        paths = [[]]
        for name, command in group.commands.items():
            paths.append([name])
            paths += [[name, sub] for sub in getattr(command, "commands", {})]
        runner = CliRunner()
        codes = {" ".join(p): runner.invoke(app, [*p, "--help"]).exit_code for p in paths}
        print(json.dumps({"codes": codes, "modules": sorted(sys.modules)}))
        """
    )
    assert child.returncode == 0, child.stderr
    seen = json.loads(child.stdout)
    assert {"", "status", "import", "actions", "config check"} <= set(seen["codes"])
    assert set(seen["codes"].values()) == {0}
    assert _heavy(seen["modules"]) == []


def test_aftercare_help_runs_as_a_process():
    argv = [sys.executable, "-c", "from aftercare.cli import main; main()", "--help"]
    child = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    assert "status" in child.stdout and "actions" in child.stdout


def test_signature_values_are_the_owners():
    """The values the signatures show, held light in ``cli/defaults``, equal their owners'."""
    from aftercare.demo.files import DEFAULT_OUT
    from aftercare.schema import TABLES
    from aftercare.services.demo_weeks import DEMO_WORKED_WEEKS
    from aftercare.services.find import FIND_LIMIT
    from aftercare.services.marts import MART_GRAINS

    assert tuple(TABLES) == defaults.CANONICAL_TABLES
    assert tuple(MART_GRAINS) == defaults.MART_NAMES
    assert defaults.FIND_LIMIT == FIND_LIMIT
    assert defaults.DEMO_OUT == DEFAULT_OUT
    assert defaults.DEMO_WORKED_WEEKS == DEMO_WORKED_WEEKS
