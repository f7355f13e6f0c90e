"""ReportData from a hand-made store: every number against a hand computation (SPEC §7).

See ``report_store.py`` for each customer's scores, tiers, value, stage, churn risk and
reminder. Runs on DuckDB and PostgreSQL (the report is a service over a store).
"""

from __future__ import annotations

import datetime as dt

import pytest
from report_store import A, P, hand  # noqa: F401  (hand: the session fixture)

from aftercare.services.report import months_before


@pytest.fixture(scope="module")
def reports(hand):  # noqa: F811
    """(report at P, report at A, stored snapshot dates) on DuckDB and PostgreSQL."""
    return hand.at_p, hand.at_a, hand.dates


@pytest.fixture(scope="module")
def report(reports):
    return reports[1]


def test_missing_snapshots_are_scored_and_stored(reports):
    at_p, at_a, dates = reports
    assert at_p.scored_now and at_a.scored_now
    assert dates == [P, A]


def test_periods_follow_the_previous_snapshot(reports):
    at_p, at_a, _ = reports
    assert at_a.previous_as_of == P and at_a.period_start == P
    # No earlier snapshot: the period starts snapshot_every_months (3) before.
    assert at_p.previous_as_of is None
    assert at_p.period_start == dt.date(2023, 12, 31)
    assert at_p.migration is None


def test_tier_mix_r_tier(report, reports):
    assert report.tier_counts == {"platinum": 1, "gold": 0, "silver": 3, "regular": 1, "lapsed": 2}
    assert report.customers == 7
    assert report.tier_share("silver") == pytest.approx(3 / 7)
    assert report.expected_mix == {
        "platinum": 0.05,
        "gold": 0.15,
        "silver": 0.30,
        "regular": 0.40,
        "lapsed": 0.10,
    }
    at_p = reports[0]
    # C4 does not exist yet at P (R-TIER-HIST; it was scored lapsed there before issue 9).
    assert at_p.tier_counts == {"platinum": 0, "gold": 2, "silver": 1, "regular": 1, "lapsed": 2}


def test_migration_matrix_r_tier_hist(report):
    cells = {(r["from_tier"], r["to_tier"]): r["customers"] for r in report.migration}
    assert cells == {
        ("gold", "platinum"): 1,  # C1
        ("regular", "lapsed"): 1,  # C2
        ("lapsed", "silver"): 1,  # C3
        (None, "silver"): 1,  # C4, new since P (R-TIER-HIST; was lapsed → silver)
        ("gold", "silver"): 1,  # C5
        ("silver", "regular"): 1,  # C6
        ("lapsed", "lapsed"): 1,  # C7
    }
    assert report.migration_cell("gold", "gold") == 0


def test_lifecycle_change_vs_previous_period_r_life(report):
    rows = {
        r["stage"]: (r["previous_customers"], r["customers"], r["change"], r["change_pct"])
        for r in report.lifecycle
    }
    assert rows == {
        "new": (2, 2, 0, 0.0),  # C2, C6 → C4, C6
        "activation": (0, 1, 1, None),  # C2 (14 months at A)
        "growth": (2, 1, -1, -50.0),  # C1, C5 → C1
        "mature": (0, 1, 1, None),  # C5 (61 months at A)
        "decline": (1, 1, 0, 0.0),  # C3
    }
    assert [r["stage"] for r in report.lifecycle] == [
        "new",
        "activation",
        "growth",
        "mature",
        "decline",
    ]
    assert report.lifecycle[0]["share"] == pytest.approx(2 / 6)


def test_pareto_r_val_pareto(report):
    p = report.pareto
    assert p["customers"] == 7
    assert p["total_net_profit"] == pytest.approx(2780 - 240 + 1180 + 3190 + 480)  # 7390
    assert p["top_customers"] == 2  # ceil(7 × 20 %)
    assert p["top_net_profit"] == pytest.approx(3190 + 2780)  # C5, C1
    assert p["top_net_profit_share"] == pytest.approx(5970 / 7390)
    assert p["loss_making_customers"] == 1  # C3
    assert p["loss_making_share"] == pytest.approx(1 / 7)


def test_pareto_curve_starts_at_origin_best_first(report):
    cumulative = [3190, 5970, 7150, 7630, 7630, 7630, 7390]  # C5 C1 C4 C6 C2 C7 C3
    xs = [r["customer_share"] for r in report.pareto_curve]
    ys = [r["net_profit_share"] for r in report.pareto_curve]
    assert xs == pytest.approx([0.0] + [(i + 1) / 7 for i in range(7)])
    assert ys == pytest.approx([0.0] + [c / 7390 for c in cumulative])


def test_profit_by_tier(report):
    rows = {r["tier"]: r for r in report.profit_by_tier}
    assert list(rows) == ["platinum", "silver", "regular", "lapsed"]  # gold has nobody
    expect = {
        # customers, spend, gross profit, cost to serve, net profit, loss-making, mean LTV
        "platinum": (1, 12000, 6000, 3220, 2780, 0, 12000 * 0.5 * 8),
        "silver": (3, 11700, 5750, 1620, 4130, 1, (500 * 5 + 1500 * 5 + 3750 * 5) / 3),
        "regular": (1, 1500, 600, 120, 480, 0, 600 * 3),
        "lapsed": (2, 0, 0, 0, 0, 0, None),
    }
    for tier, (n, spend, gross, cost, net, loss, ltv) in expect.items():
        r = rows[tier]
        assert r["customers"] == n
        assert (r["annual_spend"], r["gross_profit"]) == pytest.approx((spend, gross))
        assert (r["cost_to_serve"], r["net_profit"]) == pytest.approx((cost, net))
        assert r["loss_making_customers"] == loss
        assert r["net_profit_share"] == pytest.approx(net / 7390)
        assert r["mean_ltv"] == (pytest.approx(ltv) if ltv is not None else None)


def test_crr_over_the_year_to_as_of_r_crr(reports):
    at_p, at_a, _ = reports
    c = at_a.crr
    # R-CRR over the year 2023-06-30 .. 2024-06-30 (not since the previous snapshot): at
    # start (visit in the 365 days to 2023-06-30) C2 C5; at end C1 C3 C4 C5 C6; new (first
    # visit in the period) C1 C3 C4 C6 -> (5 - 4) / 2 = 50 %.
    assert (c["period_start"], c["period_end"]) == (dt.date(2023, 6, 30), A)
    assert (c["customers_at_start"], c["customers_at_end"], c["new_customers"]) == (2, 5, 4)
    assert (c["retained_customers"], c["reactivated_customers"]) == (1, 0)
    assert c["crr_pct"] == pytest.approx((5 - 4) / 2 * 100)
    assert c["band"] == "alert"
    # One date, one CRR: the KPI table's CRR of June (the year to 2024-06-30) is the same.
    kpi = at_a.month_kpis.kpi("crr")
    assert kpi.value == pytest.approx(c["crr_pct"])
    assert (kpi.period_start, kpi.period_end) == (c["period_start"], c["period_end"])
    # At P (2023-03-31 .. 2024-03-31) nobody had a visit in the year before the start.
    assert (at_p.crr["customers_at_start"], at_p.crr["customers_at_end"]) == (0, 4)
    assert at_p.crr["crr_pct"] is None and at_p.crr["band"] is None
    assert at_a.crr_thresholds == {
        "excellent_min": 90.0,
        "average_max": 88.0,
        "average_min": 82.0,
        "alert_below": 80.0,
    }


def test_crr_matches_the_headline_of_the_same_date(hand):  # noqa: F811
    from aftercare.config import DEFAULT_CONFIG
    from aftercare.services.summary import headline
    from aftercare.store import open_store

    with open_store(hand.url, create=False) as store:
        head = headline(store, A, DEFAULT_CONFIG)
    assert head.crr == hand.at_a.crr


def test_churn_levels_and_reasons_r_churn(report):
    churn = report.churn
    assert churn is not None
    # low: C1 C2 C4 C7; medium: C3 (complaint); high: C5 (90 d overdue + low NPS), C6 (212 d).
    assert churn.levels == {"low": 4, "medium": 1, "high": 2}
    # lapsed C2 C7 → passive; high C5 → experience, C6 → price.
    assert churn.reasons == {"passive": 2, "price": 1, "experience": 1}
    assert churn.trade_in == 0
    assert (churn.customers, churn.winback_customers) == (7, 4)


def test_reminder_load_next_8_weeks_r_remind(reports):
    at_p, at_a, _ = reports
    weeks = [(w.week, w.start_date, w.end_date, w.vehicles) for w in at_a.reminder_weeks]
    assert len(weeks) == 8
    assert weeks[0] == (1, A, dt.date(2024, 7, 6), 1)  # V4 first service 2024-07-05
    assert weeks[3] == (4, dt.date(2024, 7, 21), dt.date(2024, 7, 27), 1)  # V3 by mileage
    assert [w[3] for w in weeks] == [1, 0, 0, 1, 0, 0, 0, 0]
    assert at_a.reminders_overdue == 2  # V2 (2024-05-01), V6 (2023-12-01)
    assert at_a.reminders_due == 2
    # At P: V2 due 2024-05-01 is in week 5; V3 (first service 2015) and V6 overdue.
    assert [w.vehicles for w in at_p.reminder_weeks] == [0, 0, 0, 0, 1, 0, 0, 0]
    assert at_p.reminders_overdue == 2


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        ("2024-06-30", 3, "2024-03-30"),
        ("2024-03-31", 3, "2023-12-31"),
        ("2024-05-31", 3, "2024-02-29"),
        ("2025-05-31", 3, "2025-02-28"),
        ("2024-01-15", 1, "2023-12-15"),
    ],
)
def test_months_before_clamps_to_month_end(day, months, expected):
    got = months_before(dt.date.fromisoformat(day), months)
    assert got == dt.date.fromisoformat(expected)
