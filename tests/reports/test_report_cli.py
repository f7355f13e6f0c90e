"""`aftercare report` end to end on the hand-made store."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
import typer
from report_store import fill_store
from typer.testing import CliRunner

import aftercare.cli
from aftercare.cli import app

# Until cli/__init__.py imports report_cmd (and README documents `aftercare report`), importing
# it here must not add the command to the shared app (tests/test_docs.py would then demand the
# README entry): `report` runs on a small app of its own.
_WIRED = "report_cmd" in Path(aftercare.cli.__file__).read_text(encoding="utf-8")
from aftercare.cli import report_cmd  # noqa: E402  (registers `report` on the shared app)

if not _WIRED:
    app.registered_commands[:] = [
        c for c in app.registered_commands if c.callback is not report_cmd.report_cmd
    ]
report_app = typer.Typer()
report_app.callback()(lambda: None)  # a group, so `report` is a subcommand as in `aftercare`
report_app.command("report")(report_cmd.report_cmd)

runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    url = str(tmp_path_factory.mktemp("cli") / "s.duckdb")
    fill_store(url).close()
    result = runner.invoke(app, ["score", "--as-of", "2024-03-31", "--db", url])
    assert result.exit_code == 0, result.output
    return url


def test_html_chinese_by_default(db, tmp_path):
    out = tmp_path / "report.html"
    result = runner.invoke(
        report_app, ["report", "--as-of", "2024-06-30", "--out", str(out), "--db", db]
    )
    assert result.exit_code == 0, result.output
    assert "scored 7 customers as of 2024-06-30" in result.output
    html = out.read_text(encoding="utf-8")
    assert "客户经营月报" in html and "75.0%" in html and "2024-03-31 → 2024-06-30" in html


def test_html_english_and_xlsx(db, tmp_path):
    out = tmp_path / "report.html"
    args = ["report", "--as-of", "2024-06-30", "--db", db]
    result = runner.invoke(report_app, [*args, "--out", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "scored" not in result.output  # the snapshot exists now
    assert "Customer Management Report" in out.read_text(encoding="utf-8")
    xlsx = tmp_path / "report.xlsx"
    result = runner.invoke(report_app, [*args, "--out", str(xlsx)])
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(xlsx).sheetnames[0] == "概览"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "r.pdf"], "use a file ending in .html or .xlsx"),
        (["--out", "no/such/dir/r.html"], "does not exist"),
        (["--out", "r.html", "--lang", "fr"], "fr"),
    ],
)
def test_bad_arguments(db, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(report_app, ["report", "--db", db, *args])
    assert result.exit_code != 0
    assert message in result.output


def test_missing_store(tmp_path):
    out = tmp_path / "r.html"
    result = runner.invoke(
        report_app, ["report", "--db", str(tmp_path / "none.duckdb"), "--out", str(out)]
    )
    assert result.exit_code == 1
    assert "no store at" in result.output
    assert not out.exists()
