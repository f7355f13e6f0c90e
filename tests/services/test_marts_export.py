"""`aftercare export churn_risk|vehicle_reminders|customer_value --as-of --out` (SPEC §2–5).

A small centre imported through the CLI, as of 2024-06-30, default config:

- C1 (V1, model M-A, extended warranty to 2026): six visits on the 20th of Jan–Jun 2024,
  2000 each at cost 1000; odometer 10000 km on 2024-01-20, 14800 on 2024-03-20 and 25200
  km on 2024-06-20 (first to last: 15200 km in 152 days → 100 km/day); the June visit is a
  maintenance. R 10 d → 5, F 6 → 5,
  M 12000 → 5, L +1 → 16 platinum.
- C2 (V2, model M-A): one maintenance on 2023-12-01 at 30000 km, 500 paid; an NPS of 6 on
  2024-05-01 (low: 0–6). One reading → the model's median rate, 100 km/day.
- C3: no vehicle, no visit → lapsed (R 1 + F 1 + M 1 + L 0 = 3).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from aftercare.cli import app

runner = CliRunner()
V1, V2 = "LSVAA4182E2000001", "LSVAA4182E2000002"
AS_OF = "2024-06-30"

CUSTOMERS = [["customer_id", "name"], ["C1", "王伟"], ["C2", "李娜"], ["C3", "张三"]]
VEHICLES = [
    ["vin", "customer_id", "model", "delivery_date", "extended_warranty_end"],
    [V1, "C1", "M-A", "2020-01-01", "2026-01-01"],
    [V2, "C2", "M-A", "2021-01-01", ""],
]
ORDER_HEADER = ["order_id", "vin", "open_date", "category", "payer", "total_amount"]
ORDERS = (
    [[*ORDER_HEADER, "cost_amount", "odometer_km"]]
    + [
        [
            f"RO{i}",
            V1,
            f"2024-0{i}-20",
            "maintenance" if i == 6 else "repair",
            "customer",
            "2000",
            "1000",
            {1: "10000", 3: "14800", 6: "25200"}.get(i, ""),
        ]
        for i in range(1, 7)
    ]
    + [["RO7", V2, "2023-12-01", "maintenance", "customer", "500", "250", "30000"]]
)
INTERACTIONS = [
    ["interaction_id", "customer_id", "ts", "type", "score"],
    ["I1", "C2", "2024-05-01 10:00:00", "nps_survey", "6"],
]


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


@pytest.fixture(scope="module")
def db(shared_store_url, tmp_path_factory) -> str:
    tmp = tmp_path_factory.mktemp("marts")
    url = shared_store_url
    for table, rows in (
        ("customers", CUSTOMERS),
        ("vehicles", VEHICLES),
        ("service_orders", ORDERS),
        ("interactions", INTERACTIONS),
    ):
        result = runner.invoke(
            app, ["import", table, str(_write(tmp / f"{table}.csv", rows)), "--db", url]
        )
        assert result.exit_code == 0, result.output
    yield url


def _export_csv(db: str, mart: str, out: Path) -> dict[str, dict[str, str]]:
    result = runner.invoke(app, ["export", mart, "--as-of", AS_OF, "--out", str(out), "--db", db])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    key = "vin" if mart == "vehicle_reminders" else "customer_id"
    return {r[key]: r for r in rows}


def test_churn_risk_mart_columns_and_values(db, tmp_path):
    rows = _export_csv(db, "churn_risk", tmp_path / "risk.csv")
    assert list(rows["C1"]) == [
        "as_of_date",
        "customer_id",
        "tier",
        "risk_level",
        "reasons",
        "last_visit_date",
        "days_absent",
        "usual_interval_days",
        "next_service_due_date",
        "days_overdue",
        "has_low_nps",
        "has_unresolved_complaint",
        "churn_reason",
        "reason_evidence",
        "conversation",
    ]
    assert set(rows) == {"C1", "C2", "C3"}  # grain: one row per customer
    c2 = rows["C2"]
    # absent 2023-12-01 → 2024-06-30 = 212 days; due: 30000 + 20000 km at the model's
    # 100 km/day = 200 days → 2024-06-18 (before the 12-month time due) → 12 days overdue:
    # low, raised one level by the NPS of 6 (R-CHURN-RISK) → medium.
    assert c2["days_absent"] == "212"
    assert c2["next_service_due_date"] == "2024-06-18"
    assert c2["days_overdue"] == "12"
    assert (c2["risk_level"], c2["reasons"]) == ("medium", "low_nps")
    assert c2["churn_reason"] == ""  # neither lapsed nor high risk: no reason guessed
    c3 = rows["C3"]  # lapsed without any signal → passive, win-back (R-CHURN-REASON)
    assert (c3["tier"], c3["risk_level"]) == ("lapsed", "low")
    assert (c3["churn_reason"], c3["conversation"]) == ("passive", "winback")
    assert rows["C1"]["tier"] == "platinum" and rows["C1"]["risk_level"] == "low"


def test_vehicle_reminders_mart_columns_and_values(db, tmp_path):
    rows = _export_csv(db, "vehicle_reminders", tmp_path / "reminders.csv")
    assert set(rows) == {V1, V2}  # grain: one row per active vehicle
    columns = set(rows[V1])
    assert {
        "as_of_date",
        "vin",
        "customer_id",
        "due_date",
        "due_reason",
        "due_earliest_date",
        "due_latest_date",
        "daily_km",
        "rate_source",
        "target_km",
        "forecast_errors_measured",
        "forecast_median_abs_error_km",
        "forecast_error_pct",
        "band_error_source",
    } <= columns
    v1 = rows[V1]
    # (25200 − 10000) ÷ 152 days = 100 km/day; 20000 km ÷ 100 = 200 days after 2024-06-20.
    assert float(v1["daily_km"]) == pytest.approx(100.0)
    assert v1["rate_source"] == "own"
    assert (v1["target_km"], v1["due_date"], v1["due_reason"]) == ("45200", "2025-01-06", "mileage")
    # R-REMIND error: the June reading was forecast at 80 km/day (Jan → Mar) from 14800:
    # 14800 + 80 × 92 = 22160 vs 25200 → 3040 km off over 10400 km driven (29.2 %).
    assert v1["forecast_errors_measured"] == "1" and v1["band_error_source"] == "own"
    assert float(v1["forecast_median_abs_error_km"]) == pytest.approx(3040.0)
    assert float(v1["forecast_error_pct"]) == pytest.approx(3040 / 10400 * 100)
    # band 100 × (1 ± 0.2923) km/day: 20000 km in 155 … 283 days after 2024-06-20.
    assert (v1["due_earliest_date"], v1["due_latest_date"]) == ("2024-11-22", "2025-03-30")
    v2 = rows[V2]
    assert v2["rate_source"] == "model"
    # one vehicle with an own rate cannot measure how a borrowed rate misses: no band
    assert (v2["band_error_source"], v2["due_earliest_date"]) == ("", "")


def test_customer_value_mart_columns_and_values(db, tmp_path):
    rows = _export_csv(db, "customer_value", tmp_path / "value.csv")
    assert set(rows) == {"C1", "C2", "C3"}  # grain: one row per scored customer
    assert {
        "customer_id",
        "tier",
        "annual_spend",
        "gross_profit",
        "gross_margin",
        "cost_to_serve",
        "net_profit",
        "ltv",
        "is_loss_making",
    } <= set(rows["C1"])
    c1 = rows["C1"]
    # R-VAL-LTV: 12000 × 50 % × 8 years (platinum) = 48000.
    assert float(c1["ltv"]) == pytest.approx(48000.0)
    # R-VAL-PROFIT: 6000 − (6 visits × 120 + platinum benefit 2500) = 2780.
    assert float(c1["net_profit"]) == pytest.approx(2780.0)
    # R-VAL-LTV probabilistic CLV: labelled columns beside the simple LTV; two customers with
    # a visit are too few to fit (default 30), so no estimate is guessed.
    assert {
        "clv_model",
        "clv_status",
        "clv_horizon_days",
        "probability_active",
        "expected_visits_horizon",
        "expected_spend_per_visit_cny",
        "clv_probabilistic_cny",
    } <= set(c1)
    assert c1["clv_status"] == "not fitted: 2 customers with a visit, fewer than 30"
    assert (c1["clv_probabilistic_cny"], c1["expected_visits_horizon"]) == ("", "")
    assert rows["C3"]["clv_status"] == "no visit"


def test_mart_exports_to_parquet_and_xlsx(db, tmp_path):
    out = tmp_path / "reminders.parquet"
    result = runner.invoke(
        app, ["export", "vehicle_reminders", "--as-of", AS_OF, "--out", str(out), "--db", db]
    )
    assert result.exit_code == 0, result.output
    assert "one row per active vehicle" in result.output
    table = pq.read_table(out)
    assert table.column("vin").to_pylist() == [V1, V2]
    assert table.column("due_date").to_pylist()[0] == dt.date(2025, 1, 6)
    xlsx = tmp_path / "value.xlsx"
    result = runner.invoke(
        app, ["export", "customer_value", "--as-of", AS_OF, "--out", str(xlsx), "--db", db]
    )
    assert result.exit_code == 0, result.output
    assert "3 rows of customer_value" in result.output


def test_stored_table_export_still_works(db, tmp_path):
    out = tmp_path / "orders.csv"
    result = runner.invoke(app, ["export", "service_orders", "--out", str(out), "--db", db])
    assert result.exit_code == 0, result.output
    assert "7 rows of service_orders" in result.output


def test_customer_value_mart_with_a_fitted_probabilistic_clv(tmp_path):
    # 40 customers, customer k visiting every (20 + 7k) days from 2022-01-0k until their own
    # last visit, each visit 1000 at cost 500 (margin 50 %): enough to fit both models.
    start = dt.date(2022, 1, 1)
    customers = [["customer_id"]] + [[f"K{k:02d}"] for k in range(40)]
    orders = [["order_id", "customer_id", "open_date", "total_amount", "cost_amount"]]
    for k in range(40):
        day, stop = start + dt.timedelta(days=k), dt.date(2023, 6, 1) + dt.timedelta(days=9 * k)
        while day <= stop:
            orders.append([f"O{k}-{day}", f"K{k:02d}", day.isoformat(), "1000", "500"])
            day += dt.timedelta(days=20 + 7 * k)
    url = str(tmp_path / "store.duckdb")
    for table, rows in (("customers", customers), ("service_orders", orders)):
        result = runner.invoke(
            app, ["import", table, str(_write(tmp_path / f"{table}.csv", rows)), "--db", url]
        )
        assert result.exit_code == 0, result.output
    rows = _export_csv(url, "customer_value", tmp_path / "value.csv")
    assert len(rows) == 40
    for r in rows.values():
        assert r["clv_status"] == "fitted"
        assert r["clv_model"] == "BG/NBD + Gamma-Gamma (probabilistic)"
        visits, spend = (
            float(r["expected_visits_horizon"]),
            float(r["expected_spend_per_visit_cny"]),
        )
        assert 0.0 < float(r["probability_active"]) <= 1.0 and visits > 0
        # every visit is worth 1000: the expected spend of a visit is near it
        assert spend == pytest.approx(1000.0, rel=0.05)
        assert float(r["clv_probabilistic_cny"]) == pytest.approx(visits * spend * 0.5)
    # K00 came every 20 days and then not for 13 months: BG/NBD judges it gone, whereas
    # K39, who comes every 293 days and was last seen six weeks ago, is expected back.
    k00, k39 = rows["K00"], rows["K39"]
    assert float(k00["probability_active"]) < 0.01 < 0.5 < float(k39["probability_active"])
    assert float(k00["expected_visits_horizon"]) < float(k39["expected_visits_horizon"])
