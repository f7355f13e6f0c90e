"""`aftercare score / migration / explain` on a small imported service centre."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aftercare.cli import app
from aftercare.store import open_store

runner = CliRunner()

CUSTOMERS = [
    ["客户编号", "客户姓名"],
    ["C1", "王伟"],  # platinum at 2024-06-30, lapsed by 2025-06-30
    ["C2", "李娜"],  # no visit at all
]
VEHICLES = [
    ["车架号", "客户编号", "提车日期", "extended_warranty_end"],
    ["LSVAA4182E2000001", "C1", "2020-01-01", "2026-01-01"],
]
# C1: 6 visits in the year to 2024-06-30, 12000 spent, last visit 2024-06-20 (10 days).
ORDERS = [["接车单号", "车架号", "接车日期", "结算方式", "结算金额"]] + [
    [f"RO{i}", "LSVAA4182E2000001", f"2024-0{i}-20", "自费", "2000"] for i in range(1, 7)
]


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


@pytest.fixture
def db(tmp_path: Path, store_url: str) -> str:
    url = store_url
    for table, rows in (
        ("customers", CUSTOMERS),
        ("vehicles", VEHICLES),
        ("service_orders", ORDERS),
    ):
        result = runner.invoke(
            app, ["import", table, str(_write(tmp_path / f"{table}.csv", rows)), "--db", url]
        )
        assert result.exit_code == 0, result.output
    return url


def test_score_stores_snapshot_and_prints_mix(db):
    result = runner.invoke(app, ["score", "--as-of", "2024-06-30", "--db", db])
    assert result.exit_code == 0, result.output
    assert "scored 2 customers as of 2024-06-30" in result.output
    with open_store(db) as store:
        rows = {
            r["customer_id"]: r for r in store.table("customer_scores").to_pyarrow().to_pylist()
        }
    # C1: R 10 days → 5, F 6 → 5, M 12000 → 5, L +1 extended warranty → 16 → platinum
    assert (rows["C1"]["r_score"], rows["C1"]["f_score"], rows["C1"]["m_score"]) == (5, 5, 5)
    assert rows["C1"]["l_points"] == 1
    assert rows["C1"]["total_score"] == 16 and rows["C1"]["tier"] == "platinum"
    # C2: never → 1 + 0 visits → 1 + 0 spend → 1, no loyalty → 3 → lapsed
    assert rows["C2"]["total_score"] == 3 and rows["C2"]["tier"] == "lapsed"
    # rerun: replaced, not duplicated
    again = runner.invoke(app, ["score", "--as-of", "2024-06-30", "--db", db])
    assert again.exit_code == 0
    with open_store(db) as store:
        assert store.table("customer_scores").count().to_pyarrow().as_py() == 2


def test_quarterly_backfill_migration_and_alert(db):
    result = runner.invoke(app, ["score", "--quarterly", "2024-06-01", "2025-06-30", "--db", db])
    assert result.exit_code == 0, result.output
    # quarter ends 2024-06-30, 09-30, 12-31, 2025-03-31, 06-30
    with open_store(db) as store:
        scores = store.table("customer_scores")
        dates = scores.select("as_of_date").distinct().count().to_pyarrow().as_py()
        assert dates == 5
    moved = runner.invoke(app, ["migration", "2024-06-30", "2025-06-30", "--db", db])
    assert moved.exit_code == 0, moved.output
    # 2025-06-30: last visit 375 days ago → R1, F0 → 1, M0 → 1, L +1 → 4 → regular
    assert "1 downgrade alerts" in moved.output
    assert "C1: platinum → regular" in moved.output


def test_explain_lists_orders_signals_and_service_level(db):
    runner.invoke(app, ["score", "--as-of", "2024-06-30", "--db", db])
    result = runner.invoke(app, ["explain", "C1", "--as-of", "2024-06-30", "--db", db])
    assert result.exit_code == 0, result.output
    assert "platinum" in result.output
    assert "R 5 + F 5 + M 5 + L 1" in result.output
    assert result.output.count("RO") == 6
    assert "l_extended_warranty" in result.output
    assert "dedicated advisor" in result.output


def test_explain_without_snapshot_is_one_line_error(db):
    result = runner.invoke(app, ["explain", "C1", "--as-of", "2023-01-01", "--db", db])
    assert result.exit_code == 1
    assert "run `aftercare score --as-of 2023-01-01`" in result.output


def _snapshot_rows(db: str, as_of: str) -> dict[str, dict]:
    with open_store(db) as store:
        scores = store.table("customer_scores")
        rows = scores.filter(scores.as_of_date == dt.date.fromisoformat(as_of)).to_pyarrow()
    return {r["customer_id"]: r for r in rows.to_pylist()}


def test_r_tier_hist_backfill_refreshes_the_later_snapshot(db):
    # Score the later date first: nothing before it, so C1 is "new" there.
    assert runner.invoke(app, ["score", "--as-of", "2025-06-30", "--db", db]).exit_code == 0
    assert _snapshot_rows(db, "2025-06-30")["C1"]["move"] == "new"
    # Back-fill an earlier date: the later snapshot now moves from it (platinum → regular).
    assert runner.invoke(app, ["score", "--as-of", "2024-06-30", "--db", db]).exit_code == 0
    later = _snapshot_rows(db, "2025-06-30")["C1"]
    assert (later["previous_tier"], later["tier"], later["move"]) == ("platinum", "regular", "down")
    # A date in between: 2024-12-31 → R 194 d → 2, F 6 → 5, M 12000 → 5, L 1 → 13 gold.
    assert runner.invoke(app, ["score", "--as-of", "2024-12-31", "--db", db]).exit_code == 0
    middle = _snapshot_rows(db, "2024-12-31")["C1"]
    assert (middle["previous_tier"], middle["tier"], middle["move"]) == ("platinum", "gold", "down")
    later = _snapshot_rows(db, "2025-06-30")["C1"]
    assert (later["previous_tier"], later["move"]) == ("gold", "down")
    assert later["total_score"] == 4  # the later scores themselves are untouched
    assert _snapshot_rows(db, "2024-06-30")["C1"]["move"] == "new"
    # Re-scoring the middle date again keeps the chain and never duplicates rows.
    assert runner.invoke(app, ["score", "--as-of", "2024-12-31", "--db", db]).exit_code == 0
    assert _snapshot_rows(db, "2025-06-30")["C1"]["previous_tier"] == "gold"
    with open_store(db) as store:
        assert store.table("customer_scores").count().to_pyarrow().as_py() == 6


SCORE_EXPORT_COLUMNS = [
    "as_of_date",
    "customer_id",
    "last_visit_date",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "l_extended_warranty",
    "l_referral",
    "l_brand_event",
    "l_complaint",
    "l_competitor_visit",
    "l_points",
    "total_score",
    "tier",
    "previous_tier",
    "move",
]


def test_export_customer_scores_columns_and_values(db, tmp_path):
    for day in ("2024-06-30", "2025-06-30"):
        assert runner.invoke(app, ["score", "--as-of", day, "--db", db]).exit_code == 0
    out = tmp_path / "scores.csv"
    result = runner.invoke(
        app, ["export", "customer_scores", "--as-of", "2025-06-30", "--out", str(out), "--db", db]
    )
    assert result.exit_code == 0, result.output
    assert "2 rows of customer_scores" in result.output
    with out.open(encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == SCORE_EXPORT_COLUMNS
        rows = {r["customer_id"]: r for r in reader}
    c1 = rows["C1"]
    # 2025-06-30: last visit 2024-06-20 → 375 days → R 1; no visit in the window → F 1,
    # M 0 → 1; extended warranty active → L +1; total 4 → regular, down from platinum.
    assert (c1["recency_days"], c1["frequency"], float(c1["monetary"])) == ("375", "0", 0.0)
    assert (c1["r_score"], c1["f_score"], c1["m_score"]) == ("1", "1", "1")
    assert (c1["l_extended_warranty"], c1["l_complaint"], c1["l_points"]) == ("1", "0", "1")
    assert (c1["total_score"], c1["tier"]) == ("4", "regular")
    assert (c1["previous_tier"], c1["move"]) == ("platinum", "down")
    c2 = rows["C2"]
    assert (c2["recency_days"], c2["total_score"], c2["tier"]) == ("", "3", "lapsed")
    assert (c2["previous_tier"], c2["move"]) == ("lapsed", "same")
