"""`aftercare report` end to end on the hand-made store."""

from __future__ import annotations

import openpyxl
import pytest
from report_store import fill_store
from typer.testing import CliRunner

from aftercare.cli import app

runner = CliRunner()
report_app = app


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
    assert "客户经营月报" in html and "50.0%" in html and "2024-03-31 → 2024-06-30" in html
    assert "2023-06-30 → 2024-06-30" in html  # the CRR period: the year to as-of


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


def test_call_sheets_and_report_in_one_run(db, tmp_path):
    calls, out = tmp_path / "calls.xlsx", tmp_path / "r.xlsx"
    args = ["report", "--as-of", "2024-06-30", "--db", db, "--call-sheets", str(calls)]
    result = runner.invoke(report_app, [*args, "--out", str(out), "--month", "2024-05"])
    assert result.exit_code == 0, result.output
    assert "call sheets of 2024-06-24 – 2024-06-30: 5 open actions for 3 advisors" in (
        result.output
    )
    assert openpyxl.load_workbook(calls).sheetnames[1] == "王顾问 (S1)"
    kpis = openpyxl.load_workbook(out)["月度KPI"]
    assert kpis["A1"].value == "本月目标达成情况 · 2024-05"
    only = runner.invoke(report_app, [*args[:-1], str(tmp_path / "c2.xlsx"), "--lang", "en"])
    assert only.exit_code == 0 and "report as of" not in only.output
    assert openpyxl.load_workbook(tmp_path / "c2.xlsx").sheetnames[0] == "Summary"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "r.pdf"], "use a file ending in .html or .xlsx"),
        (["--out", "no/such/dir/r.html"], "does not exist"),
        (["--out", "r.html", "--lang", "fr"], "fr"),
        ([], "nothing to write"),
        (["--call-sheets", "c.csv"], "use a file ending in .xlsx"),
        (["--call-sheets", "no/such/dir/c.xlsx"], "does not exist"),
        (["--out", "r.html", "--month", "June"], "YYYY-MM"),
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
