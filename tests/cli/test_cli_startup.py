"""Fast start (issue 11): building the CLI and printing help import no engine and no service.

Each command imports what it uses when it runs; ``aftercare --help`` must not pay for Ibis,
pandas, the store or the action layer, and ``aftercare status`` on a DuckDB store reads its
figures in plain DuckDB SQL, without Ibis or the pipeline. The import set is read in a fresh
interpreter (this test process has imported everything already). No wall-clock assert here:
the seconds are measured by ``benchmarks/bench_startup.py``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

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


#: What ``status`` may not load on a DuckDB store: everything heavy but DuckDB itself and the
#: store's light modules (the file check, the locks, the plain-SQL status).
STATUS_HEAVY = tuple(
    h for h in HEAVY if h not in ("duckdb", "aftercare.services", "aftercare.store")
)
STATUS_STORE_MODULES = {
    "aftercare.store",
    "aftercare.store.duckdb_file",
    "aftercare.store.duckdb_status",
    "aftercare.store.locks",
    "aftercare.store.status",
}


def test_status_on_a_duckdb_store_imports_no_ibis(tmp_path):
    """``aftercare status`` as a process: its figures, and no Ibis, sqlglot or pipeline."""
    from typer.testing import CliRunner

    from aftercare.cli import app

    db = tmp_path / "store.duckdb"
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "接车单号,车架号,客户编号,接车日期,结算金额\nRO1,,C9,2024-03-05,100\n,,C1,2024-03-05,1\n",
        encoding="utf-8",
    )
    imported = CliRunner().invoke(app, ["import", "service_orders", str(orders), "--db", str(db)])
    assert imported.exit_code == 3, imported.output  # one row rejected
    child = _status_child(db)
    assert child.returncode == 0, child.stderr
    seen = json.loads(child.stdout)
    assert seen["code"] == 0, seen["output"]
    line = next(ln for ln in seen["output"].splitlines() if "service_orders" in ln)
    assert [c.strip() for c in line.split("│")][1:5] == ["service_orders", "1", "1", "1"]
    modules = seen["modules"]
    assert "aftercare.store.duckdb_status" in modules  # the plain-SQL read answered
    heavy = sorted(m for m in modules if any(m == h or m.startswith(f"{h}.") for h in STATUS_HEAVY))
    assert heavy == []
    store = {m for m in modules if m.startswith("aftercare.store")}
    assert store <= STATUS_STORE_MODULES
    services = {m for m in modules if m.startswith("aftercare.services.")}
    assert services <= {"aftercare.services.status", "aftercare.services.waits"}


def _status_child(db: Path) -> subprocess.CompletedProcess[str]:
    return _run(
        f"""
        import json, sys
        from typer.testing import CliRunner
        from aftercare.cli import app

        result = CliRunner().invoke(app, ["status", "--db", {str(db)!r}])
        print(json.dumps(
            {{"code": result.exit_code, "output": result.output, "modules": sorted(sys.modules)}}
        ))
        """
    )


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
