"""`aftercare migration` counts, exports and older stores under R-TIER-HOLD (issue 10).

Snapshots are made by hand (``replace_snapshot``) so every count is known: the migration says
how many downgrade alerts there are and how many it lists; ``customer_scores`` is exported
with ``tier`` (effective) and ``scored_tier`` (the scorecard's); a snapshot stored before the
scored tier was kept is read as ``scored_tier = tier``.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import ibis
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from aftercare.cli import app
from aftercare.config import DEFAULT_CONFIG
from aftercare.schema.snapshots import CUSTOMER_SCORES
from aftercare.services.scoring import migration, snapshot
from aftercare.store import open_store
from aftercare.store.snapshots import replace_snapshot

runner = CliRunner()
MARCH, JUNE = dt.date(2024, 3, 31), dt.date(2024, 6, 30)


def _rows(day: dt.date, tiers: dict[str, tuple[str, str | None]]) -> ibis.Table:
    """customer -> (tier, scored_tier) as one snapshot; spend = the number in the id."""
    rows = [
        {
            "as_of_date": day,
            "customer_id": cid,
            "total_score": 10,
            "monetary": Decimal(int(cid[1:])),
            "tier": tier,
            "scored_tier": scored,
        }
        for cid, (tier, scored) in tiers.items()
    ]
    return ibis.memtable(pa.Table.from_pylist(rows, schema=CUSTOMER_SCORES.to_pyarrow()))


def _store_pair(url: str) -> None:
    """1,307 platinum → gold (alerts), 5 silver → regular, 3 regular → silver, 4 gold same."""
    march: dict[str, tuple[str, str | None]] = {}
    june: dict[str, tuple[str, str | None]] = {}
    for i in range(1, 1308):
        march[f"P{i:04d}"], june[f"P{i:04d}"] = ("platinum",) * 2, ("gold",) * 2
    for i in range(1, 6):
        march[f"S{i}"], june[f"S{i}"] = ("silver",) * 2, ("regular",) * 2
    for i in range(1, 4):
        march[f"R{i}"], june[f"R{i}"] = ("regular",) * 2, ("silver",) * 2
    for i in range(1, 5):  # held: scored silver, effective gold
        march[f"G{i}"], june[f"G{i}"] = ("gold",) * 2, ("gold", "silver")
    with open_store(url) as store:
        replace_snapshot(store, "customer_scores", MARCH, _rows(MARCH, march))
        replace_snapshot(store, "customer_scores", JUNE, _rows(JUNE, june))


@pytest.mark.lake
def test_r_tier_hold_migration_says_how_many_alerts_it_shows(store_url: str):
    _store_pair(store_url)
    result = runner.invoke(app, ["migration", str(MARCH), str(JUNE), "--db", store_url])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "3 upgrades, 1,312 downgrades" in out  # R1–R3 up; P… and S1–S5 down; G… held
    assert "1,307 downgrade alerts (showing 50) (platinum/gold moving down)" in out
    listed = [ln for ln in result.output.splitlines() if ": platinum → gold" in ln]
    assert len(listed) == 50
    assert listed[0].strip().startswith("P1307:")  # the largest spend first
    with open_store(store_url) as store:
        moved = migration(store, MARCH, JUNE, DEFAULT_CONFIG, max_alerts=3)
    assert (moved.alert_count, len(moved.alerts)) == (1307, 3)
    assert (moved.moved("up"), moved.moved("down"), moved.moved("same")) == (3, 1312, 4)


def test_r_tier_hold_migration_lists_all_without_showing(store_url: str):
    with open_store(store_url) as store:
        replace_snapshot(store, "customer_scores", MARCH, _rows(MARCH, {"P1": ("gold", "gold")}))
        replace_snapshot(store, "customer_scores", JUNE, _rows(JUNE, {"P1": ("silver", "silver")}))
    result = runner.invoke(app, ["migration", str(MARCH), str(JUNE), "--db", store_url])
    assert result.exit_code == 0, result.output
    assert "1 downgrade alerts (platinum/gold moving down)" in result.output
    assert "showing" not in result.output


def test_r_tier_hold_export_columns_tier_and_scored_tier(store_url: str, tmp_path: Path):
    _store_pair(store_url)
    out = tmp_path / "scores.csv"
    result = runner.invoke(
        app,
        ["export", "customer_scores", "--as-of", str(JUNE), "--out", str(out), "--db", store_url],
    )
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    header = list(rows[0])
    assert header.index("scored_tier") == header.index("tier") + 1
    got = {r["customer_id"]: (r["tier"], r["scored_tier"]) for r in rows}
    assert len(got) == 1307 + 5 + 3 + 4
    assert got["G1"] == ("gold", "silver")  # effective gold, scored silver: held
    assert got["P0001"] == ("gold", "gold")


def test_r_tier_hold_older_store_reads_scored_tier_as_tier(store_url: str, tmp_path: Path):
    """A snapshot stored before R-TIER-HOLD: the column is added empty, read as the tier."""
    with open_store(store_url) as store:
        replace_snapshot(
            store,
            "customer_scores",
            MARCH,
            _rows(MARCH, {"C1": ("platinum", None), "C2": ("silver", None)}),
        )
        # as an older Aftercare left it: no scored_tier column at all
        store.con.raw_sql("ALTER TABLE customer_scores DROP COLUMN scored_tier")
    with open_store(store_url) as store:  # opening adds the column, empty
        scores = store.table("customer_scores")
        assert "scored_tier" in scores.columns
        assert scores.scored_tier.isnull().all().to_pyarrow().as_py()
        rows = snapshot(store, MARCH).to_pyarrow().to_pylist()
    assert {r["customer_id"]: r["scored_tier"] for r in rows} == {
        "C1": "platinum",
        "C2": "silver",
    }
    out = tmp_path / "old.csv"
    result = runner.invoke(app, ["export", "customer_scores", "--out", str(out), "--db", store_url])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig", newline="") as fh:
        exported = {r["customer_id"]: r["scored_tier"] for r in csv.DictReader(fh)}
    assert exported == {"C1": "platinum", "C2": "silver"}
