"""README's short tour runs: every command of its block, in order, exits as documented (issue 10).

The commands are read from README.md (the first ``bash`` block under "## A short tour") and run
in-process (Typer's CliRunner) in a temporary directory, against a small demo instead of the
default one (20,000 customers: about a minute for the demo alone). What the test substitutes,
and why:

- ``aftercare demo …`` gets ``--customers 300``: the same seed and as-of, a smaller dealer.
  README's ids still exist there: customer ids run C00100001 … C00100000+N whatever N, and the
  advisors (ids and names) are drawn before the customers, so SZ01-SA01 is 杨芳诗 in both.
- ``export AFTERCARE_DB=…`` sets that variable for the commands after it.
- ``aftercare find PLATE``: the plate is a default-demo car's, so the small demo's first car
  (by VIN) stands in.
- ``aftercare outcome ID …``: ID is an action of the default demo (README's id is checked to
  be an action id), so the small demo's first open action of the tour's week stands in.

Every command must exit 0 (README documents exit 1 for ``check`` only on a problem, and the
demo store has none; ``import outcomes calls.xlsx`` reads the call sheets the tour wrote, not
filled in: every row blank, skipped and counted).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aftercare.cli import app
from aftercare.store import open_store

ROOT = Path(__file__).resolve().parents[1]
SMALL_DEMO = ["--customers", "300"]
ACTION_ID = re.compile(r"^A[0-9a-f]{16}$")


def tour_commands(readme: str) -> list[list[str]]:
    """The tour's command lines, comments dropped, each split like a shell would."""
    section = readme.split("## A short tour", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.strip()]


TOUR = tour_commands((ROOT / "README.md").read_text(encoding="utf-8"))


def test_the_tour_is_what_this_test_runs():
    """The block parses into commands this test knows how to run (guards the parser)."""
    assert TOUR[0][:2] == ["aftercare", "demo"], "the tour starts with the demo its ids are from"
    assert TOUR[1][0] == "export" and TOUR[1][1].startswith("AFTERCARE_DB=")
    assert all(cmd[0] == "aftercare" for cmd in TOUR[2:])
    names = {cmd[1] for cmd in TOUR[2:]}
    assert {"find", "explain", "actions", "outcome", "kpis", "segment"} <= names
    outcome = next(cmd for cmd in TOUR if cmd[1] == "outcome")
    assert ACTION_ID.match(outcome[2]), f"{outcome[2]} is not an action id"


def _first_action(output: str) -> str:
    ids = [w for line in output.splitlines() for w in line.split() if ACTION_ID.match(w)]
    assert ids, output
    return ids[0]


def _a_plate() -> str:
    """The plate of the small demo's first car by VIN (``AFTERCARE_DB``)."""
    with open_store() as store:
        v = store.table("vehicles")
        first = v.filter(v.plate.notnull()).order_by("vin").limit(1).to_pyarrow()
    return str(first.column("plate")[0].as_py())


def _run_tour(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, small: bool) -> dict[str, str]:
    """Run every tour command in ``tmp_path``; each must exit 0. Returns each command's output.

    ``small``: the substitutions of the module docstring; else the tour exactly as written.
    """
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AFTERCARE_DB", raising=False)
    runner = CliRunner()
    action: str | None = None
    outputs: dict[str, str] = {}
    for cmd in TOUR:
        if cmd[0] == "export":
            name, _, value = cmd[1].partition("=")
            monkeypatch.setenv(name, str(tmp_path / value))
            continue
        args = cmd[1:]
        if small and args[0] == "demo":
            args = [*args, *SMALL_DEMO]
        elif small and args[0] == "find":
            args = [args[0], _a_plate(), *args[2:]]
        elif small and args[0] == "outcome":
            assert action, "the tour lists an advisor's actions before it records an outcome"
            args = [args[0], action, *args[2:]]
        result = runner.invoke(app, args)
        shown = " ".join(cmd)
        assert result.exit_code == 0, f"{shown} → exit {result.exit_code}\n{result.output}"
        outputs[args[0]] = result.output
        if args[0] == "actions":
            action = _first_action(result.output)
    return outputs


def test_readme_tour_runs_against_a_small_demo(tmp_path, monkeypatch):
    outputs = _run_tour(tmp_path, monkeypatch, small=True)
    assert "→ booked" in outputs["outcome"]
    assert outputs["--version"].startswith("aftercare ")


@pytest.mark.slow
def test_readme_tour_runs_as_written_on_the_default_demo(tmp_path, monkeypatch):
    """README's ids are the default demo's: the plate finds the customer explained, the action
    is on 杨芳诗's list and gets its outcome (a few minutes)."""
    outputs = _run_tour(tmp_path, monkeypatch, small=False)
    find = next(cmd for cmd in TOUR if cmd[1] == "find")
    explain = next(cmd for cmd in TOUR if cmd[1] == "explain")
    outcome = next(cmd for cmd in TOUR if cmd[1] == "outcome")
    assert f"{explain[2]}  " in outputs["find"] and "(matched on plate)" in outputs["find"], find
    assert outputs["explain"].startswith(f"{explain[2]} as of 2026-09-30: ")
    assert "Call list for advisor SZ01-SA01 杨芳诗" in outputs["actions"]
    assert outcome[2] in outputs["actions"]
    assert f"{outcome[2]} (" in outputs["outcome"] and "→ booked" in outputs["outcome"]


def _volume(demo_output: str) -> dict[str, tuple[float, float | None]]:
    """The demo's printed week volume: label → (per 1,000 customers, ratio to seed 004's
    rate, from the two printed rates)."""
    found = {}
    pattern = re.compile(r"[├└]── (.+?): [\d,]+, ([\d.]+)/千客户 \((?:种子004 ([\d.]+), [\d.]+×)?")
    for line in demo_output.splitlines():
        m = pattern.search(line)
        if m:
            per = float(m.group(2))
            found[m.group(1)] = (per, per / float(m.group(3)) if m.group(3) else None)
    return found


@pytest.mark.slow
def test_default_demo_week_is_one_a_team_can_work(tmp_path, monkeypatch):
    """Issue 10's calibration, as the demo prints it (default demo, as of 2026-09-30): 27–110
    planned contacts per 1,000 customers, no advisor over capacity, A-CARE-90D within 3× seed
    004's rate, and each rule seed 004 lists within a factor of 3 of its rate — except
    first-service reminders, which cannot reach a third of it: seed 004 lists 23 a week
    against 15 welcome calls (its new cars) and 342 new customers a year (6.6 a week), while a
    store's first-service reminders follow its own new cars (the demo's follow seed 004's
    lifecycle mix); they must come to at least 0.25× and 75 % of the demo's welcome calls."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["demo", "--as-of", "2026-09-30"])
    assert result.exit_code == 0, result.output
    out = result.output
    volume = _volume(out)
    total, _ = volume["合计"]
    assert 27 <= total <= 110, out
    load = re.search(r"服务顾问负荷: .*最多 (\d+) \(产能 (\d+)/周\), 超产能 (\d+)", out)
    assert load and int(load.group(3)) == 0 and int(load.group(1)) <= int(load.group(2)), out
    assert "流失预警客户关怀占比" in out
    care = volume["流失预警客户关怀"][1]
    assert care is not None and care <= 3.0, out
    seed_rules = ("新客户welcome call", "VIP客户生日祝福", "延保到期提醒", "常规保养提醒")
    for label in seed_rules:
        ratio = volume[label][1]
        assert ratio is not None and 1 / 3 <= ratio <= 3.0, (label, ratio)
    first, first_ratio = volume["首保预约提醒"]
    assert first_ratio is not None and first_ratio >= 0.25
    assert first >= 0.75 * volume["新客户welcome call"][0]
