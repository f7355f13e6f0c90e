"""The demo dealer: deterministic, realistic shapes, DMS-style files that import cleanly."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pytest
from typer.testing import CliRunner

from aftercare.cli import demo_cmd  # noqa: F401  registers `demo`
from aftercare.cli.common import app
from aftercare.demo.files import write_files
from aftercare.demo.generate import TABLE_ORDER, generate
from aftercare.demo.names import vin_check_ok
from aftercare.demo.params import DemoParams
from aftercare.demo.population import _vehicle_ages
from aftercare.schema import VIN_PATTERN
from aftercare.services.demo import run_demo
from aftercare.store import open_store

AS_OF = dt.date(2025, 6, 30)


@pytest.fixture(scope="module")
def data():
    return generate(3_000, seed=11, as_of=AS_OF)


def _np(col) -> np.ndarray:
    if pa.types.is_date(col.type):
        col = pc.cast(pc.cast(col, pa.int32()), pa.int64())
    return np.asarray(col)


def test_same_seed_same_data_different_seed_different_data():
    a = generate(500, seed=3, as_of=AS_OF)
    b = generate(500, seed=3, as_of=AS_OF)
    c = generate(500, seed=4, as_of=AS_OF)
    for name in TABLE_ORDER:
        assert a.tables[name].equals(b.tables[name]), name
    assert not a.tables["service_orders"].equals(c.tables["service_orders"])


def test_same_seed_same_files(tmp_path):
    a = generate(300, seed=5, as_of=AS_OF)
    files_a = write_files(a, tmp_path / "a", seed=5)
    files_b = write_files(generate(300, seed=5, as_of=AS_OF), tmp_path / "b", seed=5)
    for name in ("customers", "service_orders", "declined_services", "interactions"):
        assert files_a[name].read_bytes() == files_b[name].read_bytes(), name


def test_keys_unique(data):
    t = data.tables
    for name, key in (
        ("customers", "customer_id"),
        ("vehicles", "vin"),
        ("service_orders", "order_id"),
        ("interactions", "interaction_id"),
    ):
        col = pc.cast(t[name][key], pa.string())
        assert pc.count_distinct(col).as_py() == len(col), name
    pairs = pc.binary_join_element_wise(
        t["declined_services"]["order_id"], t["declined_services"]["item"], "|"
    )
    assert pc.count_distinct(pairs).as_py() == len(pairs)


def test_vins_valid_17_chars_with_check_digit_R_IN_1(data):
    vins = pc.cast(data.tables["service_orders"]["vin"], pa.string()).to_pylist()
    assert all(re.fullmatch(VIN_PATTERN, v) for v in vins)
    assert all(vin_check_ok(v) for v in data.tables["vehicles"]["vin"].to_pylist())


def test_vehicle_ages_within_ten_years_and_about_1_2_per_customer(data):
    delivery = _np(data.tables["vehicles"]["delivery_date"])
    age_years = ((AS_OF - dt.date(1970, 1, 1)).days - delivery) / 365.25
    assert age_years.min() >= 0 and age_years.max() <= 10
    ratio = data.tables["vehicles"].num_rows / data.tables["customers"].num_rows
    assert 1.1 <= ratio <= 1.35
    assert set(data.tables["vehicles"]["status"].to_pylist()) == {"active", "sold", "scrapped"}


def test_vehicle_ages_follow_seed_004s_lifecycle_mix(data):
    """Issue 10: a young, growing store like seed 004's (17 / 34 / 26 / 15 / 8 % by stage).

    Vehicles of customers who stopped coming must be older than their last visit, so the
    mix over all vehicles leans a little older than the seed's; each band within 5 points.
    """
    delivery = _np(data.tables["vehicles"]["delivery_date"])
    age_years = ((AS_OF - dt.date(1970, 1, 1)).days - delivery) / 365.25
    counts, _ = np.histogram(age_years, bins=[0, 1, 3, 5, 8, 10.01])
    shares = counts / counts.sum()
    seed = np.array([342, 687, 523, 289, 156]) / 1997
    assert np.abs(shares - seed).max() < 0.05, shares.round(3)


def test_vehicle_ages_draw_each_band_its_share_above_the_minimum():
    params = DemoParams()
    year = 365.25
    u = np.array([0.0, 0.171, 0.515, 1.0])
    ages = _vehicle_ages(u, np.zeros(4, dtype=np.int64), round(10 * year), params)
    assert list(ages) == [0, 365, round(3 * year) - 1, 3652]  # the bands' edges
    older = _vehicle_ages(np.array([0.0, 0.5]), np.full(2, 2000), round(10 * year), params)
    assert older[0] == 2000 and older[1] > 2000  # never younger than the minimum


def test_orders_dates_and_odometer_monotone_per_vehicle(data):
    o = data.tables["service_orders"]
    opened = _np(o["open_date"])
    assert opened.max() <= (AS_OF - dt.date(1970, 1, 1)).days
    assert opened.min() >= (data.history_start - dt.date(1970, 1, 1)).days
    vin = np.asarray(pc.cast(o["vin"], pa.string()))
    km = o["odometer_km"].to_numpy(zero_copy_only=False)
    keep = ~np.isnan(km.astype(float))
    order = np.lexsort((opened[keep], vin[keep]))
    v, k = vin[keep][order], km[keep][order].astype(np.int64)
    same = v[1:] == v[:-1]
    assert (np.diff(k)[same] >= 0).all()
    # Daily km habit: ~20–80 km/day since delivery (with the seasonal wobble).
    delivery = dict(
        zip(
            data.tables["vehicles"]["vin"].to_pylist(),
            _np(data.tables["vehicles"]["delivery_date"]),
            strict=True,
        )
    )
    days = opened[keep] - np.array([delivery.get(x, 0) for x in vin[keep]])
    rate = k[np.argsort(order)] / np.maximum(days, 1)
    known = np.array([x in delivery for x in vin[keep]]) & (days > 180)
    assert 15 <= np.median(rate[known]) <= 80


def test_maintenance_every_6_to_12_months(data):
    o = data.tables["service_orders"]
    is_m = pc.equal(pc.cast(o["category"], pa.string()), "maintenance")
    m = o.filter(is_m)
    vin = np.asarray(pc.cast(m["vin"], pa.string()))
    day = _np(m["open_date"])
    order = np.lexsort((day, vin))
    v, d = vin[order], day[order]
    gaps = np.diff(d)[v[1:] == v[:-1]]
    gaps = gaps[gaps > 0]  # credit notes share the category
    assert np.percentile(gaps, 5) >= 110 and np.percentile(gaps, 95) <= 440


def test_payers_refunds_unmatched_and_new_categories(data):
    o = data.tables["service_orders"]
    payer = pc.cast(o["payer"], pa.string()).to_pylist()
    assert {"customer", "warranty", "insurance", "internal"} <= set(payer)
    total = o["total_amount"].to_numpy()
    assert 0 < (total < 0).mean() < 0.01  # R-IN-4 credit notes
    known = set(data.tables["vehicles"]["vin"].to_pylist())
    vins = pc.cast(o["vin"], pa.string()).to_pylist()
    unmatched = sum(v not in known for v in vins) / len(vins)
    assert 0 < unmatched < 0.005  # R-IN-6
    assert o["category_raw"].null_count == o.num_rows - 5  # R-IN-7
    amounts = o.select(["labor_amount", "parts_amount", "discount_amount", "total_amount"])
    lab, par, dis, tot = (amounts[c].to_numpy() for c in amounts.column_names)
    np.testing.assert_allclose(lab + par - dis, tot, atol=0.011)
    assert 0 < o["customer_id"].null_count / o.num_rows < 0.2  # blank: the VIN resolves it


def test_interactions_cover_types_and_nps_scores(data):
    t = data.tables["interactions"]
    types = set(t["type"].to_pylist())
    assert {
        "complaint",
        "praise",
        "referral",
        "brand_event",
        "competitor_visit",
        "nps_survey",
    } <= types
    nps = t.filter(pc.equal(t["type"], "nps_survey"))["score"].to_numpy()
    assert nps.min() >= 0 and nps.max() <= 10
    promoters, detractors = (nps >= 9).mean(), (nps <= 6).mean()
    assert 0.4 <= promoters - detractors <= 0.9  # seed 004: NPS between 62 and 89
    complaints = t.filter(pc.equal(t["type"], "complaint"))
    assert 0 < complaints["resolved"].to_numpy(zero_copy_only=False).mean() < 1


def test_files_are_dms_exports_with_chinese_headers_in_gbk(data, tmp_path):
    files = write_files(data, tmp_path, seed=11)
    assert files["service_orders"].suffix == ".csv"
    assert files["vehicles"].suffix == ".xlsx"
    raw = files["service_orders"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    opts = pa_csv.ReadOptions(encoding="gbk")
    orders = pa_csv.read_csv(files["service_orders"], read_options=opts)
    assert orders.column_names[:4] == ["接车单号", "车架号", "客户编号", "接车日期"]
    assert {"保养", "自费", "索赔", "保险"} <= set(
        pc.cast(orders["维修类别"], pa.string()).to_pylist()
        + pc.cast(orders["结算方式"], pa.string()).to_pylist()
    )
    totals = pc.cast(orders["结算金额"], pa.string()).to_pylist()
    assert any(t.startswith("￥") for t in totals) and any("," in t for t in totals)
    dates = pc.cast(orders["接车日期"], pa.string()).to_pylist()
    assert any("/" in d for d in dates) and any("-" in d for d in dates)
    customers = pa_csv.read_csv(files["customers"], read_options=opts)
    assert customers.column_names[:3] == ["客户编号", "客户姓名", "手机号码"]


def test_run_demo_imports_every_file_without_rejects(tmp_path):
    result = run_demo(400, seed=2, as_of=AS_OF, out_dir=tmp_path)
    assert result.rejected == 0
    assert result.loads["customers"].inserted == 400
    assert result.loads["service_orders"].inserted == result.orders
    assert result.loads["service_orders"].warnings == 5  # R-IN-7 new category texts
    assert sum(result.revenue_by_year.values()) > 0


def test_demo_command(tmp_path):
    out = tmp_path / "demo"
    res = CliRunner().invoke(
        app,
        [
            "demo",
            "--customers",
            "200",
            "--seed",
            "1",
            "--as-of",
            "2025-06-30",
            "--out",
            str(out),
            "--no-load",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "200 customers" in res.output
    assert (out / "service_orders.csv").exists()


def test_large_demo_path_writes_parquet_and_imports_it(tmp_path, monkeypatch):
    """At >= FAST_PATH_CUSTOMERS the big tables go out as Parquet and still import cleanly."""
    import aftercare.demo.files as demo_files

    monkeypatch.setattr(demo_files, "FAST_PATH_CUSTOMERS", 100)
    result = run_demo(300, seed=3, as_of=AS_OF, out_dir=tmp_path)
    assert result.files["service_orders"].suffix == ".parquet"
    assert result.rejected == 0
    assert result.loads["service_orders"].inserted == result.orders
    assert result.loads["customers"].inserted == 300


def test_demo_command_runs_the_main_job(tmp_path):
    """The main job on the demo dealer: tiers, headline, this week's actions, KPIs, report."""
    out = tmp_path / "demo"
    res = CliRunner().invoke(
        app,
        ["demo", "--customers", "300", "--seed", "4", "--as-of", "2025-06-30", "--out", str(out)],
    )
    assert res.exit_code == 0, res.output
    text = res.output
    assert "Tier mix as of 2025-06-30 (300 customers)" in text
    assert "Retention (CRR, 2024-06-30 → 2025-06-30)" in text
    assert "Pareto: the top 20% of customers (60)" in text
    assert "planned for the week 2025-06-30 – 2025-07-06" in text
    assert "本周关键行动清单" in text and "本月目标达成情况" in text
    report = out / "report.html"
    assert f"Report: {report}" in text
    assert report.stat().st_size > 10_000 and "<svg" in report.read_text(encoding="utf-8")
    advisor = text.split("aftercare actions --advisor ", 1)[1].split()[0]
    listed = CliRunner().invoke(
        app,
        ["actions", "--advisor", advisor, "--week", "--as-of", "2025-06-30", "--no-generate",
         "--db", str(out / "aftercare.duckdb")],
    )  # fmt: skip
    assert listed.exit_code == 0, listed.output
    header = listed.output.splitlines()[0]
    assert header.startswith(f"Call list for advisor {advisor}")
    assert "week 2025-06-30 – 2025-07-06" in header


def test_demo_data_only_loads_without_the_main_job(tmp_path):
    """--data-only (benchmark data sets): files written and imported, nothing scored."""
    out = tmp_path / "demo"
    args = ["demo", "--customers", "200", "--seed", "1", "--as-of", "2025-06-30"]
    res = CliRunner().invoke(app, [*args, "--out", str(out), "--data-only"])
    assert res.exit_code == 0, res.output
    assert "Tier mix" not in res.output and not (out / "report.html").exists()
    with open_store(str(out / "aftercare.duckdb")) as store:
        assert store.table("customers").count().to_pyarrow().as_py() == 200
        assert not store.has_table("customer_scores") or (
            store.table("customer_scores").count().to_pyarrow().as_py() == 0
        )
