"""services.report's writers: the file suffix chooses the format (SPEC §7).

The HTML and Excel output itself is tested in tests/reports; the CLI's use in
tests/reports/test_report_cli.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from aftercare.errors import AftercareError
from aftercare.reports.call_sheets import CallSheets
from aftercare.services.outputs import OutputPathError
from aftercare.services.report import REPORT_WRITERS, write_call_sheets, write_report

DAY = dt.date(2024, 6, 5)


def test_report_formats_by_suffix():
    assert set(REPORT_WRITERS) == {".html", ".htm", ".xlsx"}
    assert REPORT_WRITERS[".htm"] is REPORT_WRITERS[".html"]


@pytest.mark.parametrize("name", ["report.HTML", "report.xlsx", "report.htm"])
def test_write_report_picks_the_writer_of_the_suffix(monkeypatch, tmp_path, name):
    written = []

    def fake(data, path, lang):
        written.append((data, path, lang))
        path.write_text("report")
        return path

    monkeypatch.setitem(REPORT_WRITERS, Path(name).suffix.lower(), fake)
    out = tmp_path / name
    sentinel = object()
    assert write_report(sentinel, out, "en") == out  # type: ignore[arg-type]
    # Written beside the target under the same suffix, then renamed into place whole.
    [(data, staged, lang)] = written
    assert (data, staged.parent, staged.suffix, lang) == (sentinel, tmp_path, out.suffix, "en")
    assert out.read_text() == "report" and list(tmp_path.iterdir()) == [out]


def test_a_failed_report_write_leaves_the_old_file(monkeypatch, tmp_path):
    def broken(data, path, lang):
        path.write_text("half")
        raise OSError(28, "No space left on device")

    monkeypatch.setitem(REPORT_WRITERS, ".html", broken)
    out = tmp_path / "report.html"
    out.write_text("old")
    with pytest.raises(OutputPathError, match=r"report\.html: could not write it \(No space"):
        write_report(object(), out, "en")  # type: ignore[arg-type]
    assert out.read_text() == "old" and list(tmp_path.iterdir()) == [out]


def test_write_report_refuses_another_suffix(tmp_path):
    with pytest.raises(AftercareError, match=r"report\.pdf: use a file ending in \.html or \.xlsx"):
        write_report(object(), tmp_path / "report.pdf", "zh")  # type: ignore[arg-type]


def test_write_call_sheets_refuses_another_suffix(tmp_path):
    sheets = CallSheets(as_of=DAY, week_start=DAY, week_end=DAY, rows=[])
    with pytest.raises(AftercareError, match=r"sheets\.csv: use a file ending in \.xlsx"):
        write_call_sheets(sheets, tmp_path / "sheets.csv", "zh")
    assert not (tmp_path / "sheets.csv").exists()


def test_write_call_sheets_writes_a_workbook(tmp_path):
    sheets = CallSheets(as_of=DAY, week_start=DAY, week_end=DAY, rows=[])
    out = write_call_sheets(sheets, tmp_path / "sheets.XLSX", "en")
    assert out.exists() and out.read_bytes()[:2] == b"PK"
