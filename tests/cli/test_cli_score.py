"""`aftercare score / migration / explain` on a small imported service centre."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import ibis
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from aftercare.cli import app
from aftercare.store import open_store
from aftercare.store.snapshots import replace_snapshot

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
    # 2025-06-30: last visit 375 days ago → R1, F0 → 1, M0 → 1, L +1 → 4 → scored regular;
    # 2025-03-31 scored silver (R2 + F3 + M4 + L1 = 10), both below the effective gold, so
    # R-TIER-HOLD moves C1 down to the higher of the two: silver (test_r_tier_hold_cli_chain).
    assert "1 downgrade alerts (platinum/gold" in moved.output
    assert "C1: platinum → silver" in moved.output


@pytest.mark.lake
def test_r_tier_hold_cli_chain(db):
    """C1 by quarter (scored → effective): the hold keeps a one-quarter dip (R-TIER-HOLD).

    2024-06-30: R5 F5 M5 L1 = 16 platinum → platinum.
    2024-09-30: 102 days → R3, F5, M5, L1 = 14 gold → platinum (first quarter lower: held).
    2024-12-31: 194 days → R2, F5, M5, L1 = 13 gold → gold (second quarter lower).
    2025-03-31: 284 days → R2; 3 visits, 6000 → F3 M4; L1 = 10 silver → gold (held).
    2025-06-30: 375 days → R1, F1, M1, L1 = 4 regular → silver (the higher of the hold's two).
    """
    result = runner.invoke(app, ["score", "--quarterly", "2024-06-01", "2025-06-30", "--db", db])
    assert result.exit_code == 0, result.output
    with open_store(db) as store:
        scores = store.table("customer_scores")
        rows = (
            scores.filter(scores.customer_id == "C1")
            .order_by("as_of_date")
            .select("total_score", "scored_tier", "tier", "previous_tier", "move")
            .to_pyarrow()
            .to_pylist()
        )
    assert [(r["total_score"], r["scored_tier"], r["tier"]) for r in rows] == [
        (16, "platinum", "platinum"),
        (14, "gold", "platinum"),
        (13, "gold", "gold"),
        (10, "silver", "gold"),
        (4, "regular", "silver"),
    ]
    assert [r["move"] for r in rows] == ["new", "same", "down", "same", "down"]
    # Each quarter's line: the alert of 2024-12-31 only; a held downgrade is counted.
    lines = [ln for ln in result.output.splitlines() if ln.startswith("scored")]
    assert "0 platinum/gold downgrade alerts since 2024-06-30; 1 downgrades held" in lines[1]
    assert "1 platinum/gold downgrade alerts since 2024-09-30" in lines[2]
    assert "held" not in lines[2]
    assert "0 platinum/gold downgrade alerts since 2024-12-31; 1 downgrades held" in lines[3]
    # gold → silver is an alert; regular is still held (scored below the effective silver)
    assert "1 platinum/gold downgrade alerts since 2025-03-31; 1 downgrades held" in lines[4]
    explained = runner.invoke(app, ["explain", "C1", "--as-of", "2024-09-30", "--db", db])
    assert explained.exit_code == 0, explained.output
    assert (
        "platinum (total 14 = R 3 + F 5 + M 5 + L 1, scored gold: downgrade held (R-TIER-HOLD))"
        in " ".join(explained.output.split())
    )
    moved = runner.invoke(app, ["migration", "2024-09-30", "2024-12-31", "--db", db])
    assert "0 upgrades, 1 downgrades" in moved.output
    assert "1 downgrade alerts (platinum/gold" in moved.output
    assert "showing" not in moved.output  # all of them are listed


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
    # Back-fill an earlier date: the later snapshot now follows it. Scored regular, below
    # platinum in one snapshot only: held platinum (R-TIER-HOLD), no move yet.
    assert runner.invoke(app, ["score", "--as-of", "2024-06-30", "--db", db]).exit_code == 0
    later = _snapshot_rows(db, "2025-06-30")["C1"]
    assert (later["previous_tier"], later["tier"], later["move"]) == (
        "platinum",
        "platinum",
        "same",
    )
    assert later["scored_tier"] == "regular"
    # A date in between: 2024-12-31 → R 194 d → 2, F 6 → 5, M 12000 → 5, L 1 → 13 gold,
    # the first snapshot below platinum: held.
    assert runner.invoke(app, ["score", "--as-of", "2024-12-31", "--db", db]).exit_code == 0
    middle = _snapshot_rows(db, "2024-12-31")["C1"]
    assert (middle["previous_tier"], middle["tier"], middle["move"]) == (
        "platinum",
        "platinum",
        "same",
    )
    assert middle["scored_tier"] == "gold"
    # The later one is re-chained: gold then regular, two snapshots below platinum → down to
    # the higher of the two, gold.
    later = _snapshot_rows(db, "2025-06-30")["C1"]
    assert (later["previous_tier"], later["tier"], later["move"]) == ("platinum", "gold", "down")
    assert later["total_score"] == 4  # the later scores themselves are untouched
    assert later["scored_tier"] == "regular"
    assert _snapshot_rows(db, "2024-06-30")["C1"]["move"] == "new"
    # Re-scoring the middle date again keeps the chain and never duplicates rows.
    assert runner.invoke(app, ["score", "--as-of", "2024-12-31", "--db", db]).exit_code == 0
    later = _snapshot_rows(db, "2025-06-30")["C1"]
    assert (later["previous_tier"], later["tier"]) == ("platinum", "gold")
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
    "tier",  # effective (R-TIER-HOLD)
    "scored_tier",  # the scorecard's
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
    # M 0 → 1; extended warranty active → L +1; total 4 → scored regular; the first snapshot
    # below platinum, so the effective tier stays platinum (R-TIER-HOLD): no move.
    assert (c1["recency_days"], c1["frequency"], float(c1["monetary"])) == ("375", "0", 0.0)
    assert (c1["r_score"], c1["f_score"], c1["m_score"]) == ("1", "1", "1")
    assert (c1["l_extended_warranty"], c1["l_complaint"], c1["l_points"]) == ("1", "0", "1")
    assert (c1["total_score"], c1["tier"], c1["scored_tier"]) == ("4", "platinum", "regular")
    assert (c1["previous_tier"], c1["move"]) == ("platinum", "same")
    c2 = rows["C2"]
    assert (c2["recency_days"], c2["total_score"], c2["tier"]) == ("", "3", "lapsed")
    assert (c2["previous_tier"], c2["move"]) == ("lapsed", "same")


# R-TIER-HIST: a customer enters a snapshot only from the date they exist (issue 9 item 9).
# C1 record from 2020; C2 undated, no event (there from the start); C3 created 2024-10-15
# (its car delivered that day, a visit 2024-11-01); C4 undated, first order 2024-08-01.
DATED_CUSTOMERS = [
    ["客户编号", "客户姓名", "建档日期"],
    ["C1", "王伟", "2020-01-01"],
    ["C2", "李娜", ""],
    ["C3", "张敏", "2024-10-15"],
    ["C4", "刘洋", ""],
]
DATED_VEHICLES = [
    *VEHICLES,
    ["LSVAA4182E2000003", "C3", "2024-10-15", ""],
]
DATED_ORDERS = [
    *ORDERS,
    ["RO7", "LSVAA4182E2000003", "2024-11-01", "自费", "900"],
    ["RO8", "", "2024-08-01", "自费", "300"],
]


@pytest.fixture
def dated_db(tmp_path: Path, store_url: str) -> str:
    orders = [[*row, "客户编号"] for row in DATED_ORDERS[:1]] + [
        [*row, "C4" if row[0] == "RO8" else ""] for row in DATED_ORDERS[1:]
    ]
    for table, rows in (
        ("customers", DATED_CUSTOMERS),
        ("vehicles", DATED_VEHICLES),
        ("service_orders", orders),
    ):
        path = _write(tmp_path / f"{table}.csv", rows)
        result = runner.invoke(app, ["import", table, str(path), "--db", store_url])
        assert result.exit_code == 0, result.output
    return store_url


def test_r_tier_hist_snapshot_holds_customers_from_their_date(dated_db):
    result = runner.invoke(
        app, ["score", "--quarterly", "2024-06-01", "2024-12-31", "--db", dated_db]
    )
    assert result.exit_code == 0, result.output
    assert "scored 2 customers as of 2024-06-30" in result.output  # C1, C2
    assert "scored 3 customers as of 2024-09-30; 1 new customers" in result.output  # + C4
    assert "scored 4 customers as of 2024-12-31; 1 new customers" in result.output  # + C3
    assert set(_snapshot_rows(dated_db, "2024-06-30")) == {"C1", "C2"}
    c3 = _snapshot_rows(dated_db, "2024-12-31")["C3"]
    # C3 at 2024-12-31: one 900 visit 60 days before → R4, F1 → 2, M1, L0 → 7 regular, new.
    assert (c3["total_score"], c3["tier"], c3["previous_tier"], c3["move"]) == (
        7,
        "regular",
        None,
        "new",
    )
    moved = runner.invoke(app, ["migration", "2024-09-30", "2024-12-31", "--db", dated_db])
    assert moved.exit_code == 0, moved.output
    assert "1 new customers (the (new) row: not in 2024-09-30)" in moved.output
    new_row = next(line for line in moved.output.splitlines() if "(new)" in line and "│" in line)
    assert [c.strip() for c in new_row.split("│")[2:8]] == ["0", "0", "0", "1", "0", "0"]
    assert "created after that date" not in moved.output
    why = runner.invoke(app, ["explain", "C3", "--as-of", "2024-09-30", "--db", dated_db])
    assert why.exit_code == 1
    assert "C3 is not in the scores as of 2024-09-30: a customer from 2024-10-15" in why.output


def test_r_tier_hist_migration_names_a_snapshot_scored_before_the_rule(dated_db):
    """A snapshot stored by an older Aftercare (every customer, C4 too) is named, once."""
    for day in ("2024-06-30", "2024-09-30"):
        assert runner.invoke(app, ["score", "--as-of", day, "--db", dated_db]).exit_code == 0
    with open_store(dated_db) as store:
        scores = store.table("customer_scores")
        old = scores.filter(scores.as_of_date == dt.date(2024, 6, 30)).to_pyarrow()
        c4 = scores.filter(scores.customer_id == "C4").to_pyarrow()  # C4 came 2024-08-01
        at = c4.schema.get_field_index("as_of_date")
        c4 = c4.set_column(at, "as_of_date", old.column("as_of_date").slice(0, 1))
        rows = ibis.memtable(pa.concat_tables([old, c4]))
        replace_snapshot(store, "customer_scores", dt.date(2024, 6, 30), rows)
    moved = runner.invoke(app, ["migration", "2024-06-30", "2024-09-30", "--db", dated_db])
    assert moved.exit_code == 0, moved.output
    assert (
        "the 2024-06-30 snapshot holds 1 customers created after that date (scored by an older "
        "Aftercare): run `aftercare score --as-of 2024-06-30` again"
    ) in " ".join(moved.output.split())
    assert "2024-09-30 snapshot holds" not in moved.output


def test_r_tier_hold_three_snapshots_from_config(db, tmp_path):
    """``scoring.downgrade_hold_snapshots: 3``: C1's scored P, G, G, S, R → P, P, P, G, G.

    2024-12-31: gold in two snapshots only (2024-06-30 was platinum): held. 2025-03-31: gold,
    gold, silver below platinum three times running → the highest, gold. 2025-06-30: regular,
    silver, but gold at 2024-12-31 is not below gold: held gold.
    """
    config = tmp_path / "hold3.yaml"
    config.write_text("scoring:\n  downgrade_hold_snapshots: 3\n", encoding="utf-8")
    args = ["score", "--quarterly", "2024-06-01", "2025-06-30", "--config", str(config)]
    result = runner.invoke(app, [*args, "--db", db])
    assert result.exit_code == 0, result.output
    with open_store(db) as store:
        scores = store.table("customer_scores")
        c1 = scores.filter(scores.customer_id == "C1").order_by("as_of_date")
        rows = c1.select("scored_tier", "tier").to_pyarrow().to_pylist()
    assert [(r["scored_tier"], r["tier"]) for r in rows] == [
        ("platinum", "platinum"),
        ("gold", "platinum"),
        ("gold", "platinum"),
        ("silver", "gold"),
        ("regular", "gold"),
    ]
