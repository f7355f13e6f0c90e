"""`aftercare segment` end to end on a small DuckDB store (SPEC §8, R-SEG-VALID).

What the command prints and its exit codes; the segmentation itself is
:mod:`aftercare.services.segments`' (tests/services/test_segments.py).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aftercare.cli import app
from aftercare.store import open_store

runner = CliRunner()

CUSTOMERS = [["客户编号", "客户姓名"]] + [[f"C{i}", f"客户{i}"] for i in range(1, 7)]
VEHICLES = [["车架号", "客户编号", "提车日期"]] + [
    [f"LSVAA4182E200000{i}", f"C{i}", "2020-01-01"] for i in range(1, 7)
]
# C1..C5 spend i × 1000 over i visits in 2024 H1; C6 never visits.
ORDERS = [["接车单号", "车架号", "接车日期", "结算方式", "结算金额"]] + [
    [f"RO{i}{j}", f"LSVAA4182E200000{i}", f"2024-0{j}-1{i}", "自费", "1000"]
    for i in range(1, 6)
    for j in range(1, i + 1)
]


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _import(url: str, tmp_path: Path) -> None:
    for table, rows in (
        ("customers", CUSTOMERS),
        ("vehicles", VEHICLES),
        ("service_orders", ORDERS),
    ):
        path = _write(tmp_path / f"{table}.csv", rows)
        result = runner.invoke(app, ["import", table, str(path), "--db", url])
        assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def scored(tmp_path_factory) -> str:
    tmp_path = tmp_path_factory.mktemp("segment")
    url = str(tmp_path / "s.duckdb")
    _import(url, tmp_path)
    for day in ("2024-06-30", "2024-07-31"):
        result = runner.invoke(app, ["score", "--as-of", day, "--db", url])
        assert result.exit_code == 0, result.output
    return url


def test_segment_without_scores_exits_1(tmp_path):
    url = str(tmp_path / "empty.duckdb")
    open_store(url).close()
    result = runner.invoke(app, ["segment", "--db", url])
    assert result.exit_code == 1
    assert "no scores yet: run `aftercare score` first" in result.output


def test_segment_rfm_quintile_with_validation_and_stability(scored):
    result = runner.invoke(app, ["segment", "--scheme", "rfm-quintile", "--db", scored])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Segments (rfm-quintile) as of 2024-07-31, 6 customers" in out
    assert "Kruskal" in out and "spend (monetary): H =" in out
    # one month on, nobody's relative position changed (C6 stays never visited)
    assert "Stability since 2024-06-30: 100.0% of 6 customers" in out


def test_segment_pyramid_at_a_date(scored):
    result = runner.invoke(
        app, ["segment", "--scheme", "pyramid", "--as-of", "2024-06-30", "--db", scored]
    )
    assert result.exit_code == 0, result.output
    # 6 customers: top ≤ ceil(0.3) = 1, next ≤ 2, middle ≤ 3, lower ≤ ceil(5.4) = 6: bottom empty
    lines = {line.split()[1]: line.split()[3] for line in result.output.splitlines() if "│" in line}
    assert lines == {
        "top_5": "1",
        "next_15": "1",
        "middle_30": "1",
        "lower_40": "3",
        "bottom_10": "0",
    }
    assert "no earlier snapshot" in result.output


def test_segment_kmeans_reports_silhouette(scored):
    result = runner.invoke(app, ["segment", "--scheme", "kmeans", "--k", "2", "--db", scored])
    assert result.exit_code == 0, result.output
    assert "k-means: k = 2 chosen" in result.output
    assert "k=2:" in result.output and "cluster_0" in result.output


def test_segment_k_only_with_kmeans(scored):
    result = runner.invoke(app, ["segment", "--scheme", "pyramid", "--k", "3", "--db", scored])
    assert result.exit_code == 2


def test_segment_k_must_be_a_number_or_auto(scored):
    result = runner.invoke(app, ["segment", "--scheme", "kmeans", "--k", "many", "--db", scored])
    assert result.exit_code == 2
