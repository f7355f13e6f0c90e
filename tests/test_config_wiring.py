"""Numbers that used to be module constants are read from the config they are given.

Each test changes one key and checks the module's figure against a hand computation:
``actions.winback_retry_days`` (A-WINBACK), ``kpis.first_service_grace_days`` and
``kpis.nps_promoter_min`` (SPEC §7), ``actions.return_window_days`` (R-ACT-HOLDOUT),
``reports.reminder_weeks`` and ``reports.top_risks`` (the report and the headline),
``segmentation.kmeans_k_range`` (SPEC §8) and ``actions.templates_dir`` (scripts).
The service figures use the hand-made centre of ``tests/reports/report_store.py``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import ibis
import pyarrow as pa
import pytest

from aftercare.config import (
    DEFAULT_CONFIG,
    ActionsConfig,
    Config,
    KpiTargets,
    ReportsConfig,
    SegmentationConfig,
)
from aftercare.models.kmeans import kmeans_segments
from aftercare.playbook import rules_state
from aftercare.playbook.model import action_id
from aftercare.playbook.scripts import render_scripts
from aftercare.services.actions import rule_context
from aftercare.services.kpis import month_kpis, rule_lifts
from aftercare.services.report import build_report
from aftercare.services.summary import headline
from aftercare.store import open_store
from factories import make_table
from reports.report_store import A, fill_store


def test_defaults_are_the_former_constants():
    c = DEFAULT_CONFIG
    assert c.actions.winback_retry_days == 30
    assert c.actions.return_window_days == 60
    assert c.actions.templates_dir is None
    assert c.kpis.first_service_grace_days == 30
    assert c.kpis.nps_promoter_min == 9
    assert c.reports.reminder_weeks == 8
    assert c.reports.top_risks == 5
    assert c.segmentation.kmeans_k_range == (2, 8)


@pytest.fixture(scope="module")
def centre(shared_store_url):
    """The hand-made centre of the report tests, on each engine."""
    store = fill_store(shared_store_url)
    yield store
    store.close()


def _kpi(kpis, key):
    return next(k for k in kpis if k.key == key)


def test_nps_promoter_min_from_config(centre):
    # June: one 10 and one 8. Promoters ≥ 9: (1 − 0) / 2 = 50; promoters ≥ 8: 2 / 2 = 100.
    today = dt.date(2024, 12, 31)
    default = _kpi(month_kpis(centre, "2024-06", DEFAULT_CONFIG, today=today), "nps")
    assert (default.value, default.numerator, default.denominator) == (50.0, 1, 2)
    eight = Config(kpis=KpiTargets(nps_promoter_min=8), retention=DEFAULT_CONFIG.retention)
    looser = _kpi(month_kpis(centre, "2024-06", eight, today=today), "nps")
    assert (looser.value, looser.numerator, looser.denominator) == (100.0, 2, 2)


def test_first_service_grace_days_from_config(centre):
    # V2 delivered 2023-04-20: first service due 2023-07-20, serviced 2023-05-01 (on time).
    # Grace 30: its window closes 2023-08-19 (August); grace 0: 2023-07-20 (July).
    today = dt.date(2024, 12, 31)
    key = "first_service_arrival_rate"
    july = _kpi(month_kpis(centre, "2023-07", DEFAULT_CONFIG, today=today), key)
    august = _kpi(month_kpis(centre, "2023-08", DEFAULT_CONFIG, today=today), key)
    assert (july.numerator, july.denominator) == (0, 0)
    assert (august.numerator, august.denominator, august.value) == (1, 1, 100.0)
    no_grace = Config(kpis=KpiTargets(first_service_grace_days=0))
    july0 = _kpi(month_kpis(centre, "2023-07", no_grace, today=today), key)
    assert (july0.numerator, july0.denominator, july0.value) == (1, 1, 100.0)


def test_return_window_days_from_config(centre):
    # A-CARE-90D control: K2 C3 due 04-01 back 04-15 (14 d), K1 never; treated: T2 5 d,
    # T4 0 d, T1 never. 60 days: control 1/2, treated 2/3. 10 days: control 0/2; X7 (C5,
    # booked, due 06-10) now has a closed window too (06-20 ≤ A) and C5 is not back: 2/4.
    def care(config):
        return next(r for r in rule_lifts(centre, config, as_of=A) if r["rule_id"] == "A-CARE-90D")

    wide = care(DEFAULT_CONFIG)
    assert (wide["control_returned"], wide["control_actions"]) == (1, 2)
    assert (wide["treated_returned"], wide["treated_actions"]) == (2, 3)
    narrow = care(Config(actions=ActionsConfig(return_window_days=10)))
    assert (narrow["control_returned"], narrow["control_actions"]) == (0, 2)
    assert (narrow["treated_returned"], narrow["treated_actions"]) == (2, 4)


def test_reminder_weeks_from_config(centre):
    # The same weekly counts, cut at the configured number of weeks (default 8).
    eight = build_report(centre, A, DEFAULT_CONFIG).reminder_weeks
    three = build_report(centre, A, Config(reports=ReportsConfig(reminder_weeks=3))).reminder_weeks
    assert [w.week for w in eight] == list(range(1, 9))
    assert [w.week for w in three] == [1, 2, 3]
    assert [(w.start_date, w.vehicles) for w in three] == [
        (w.start_date, w.vehicles) for w in eight[:3]
    ]
    assert three[-1].end_date == A + dt.timedelta(days=20)


def test_top_risks_from_config(centre):
    # High risk at A: C5 (LTV 7500 × 50 % × 5 = 18750) and C6 (1500 × 40 % × 3 = 1800).
    both = headline(centre, A, DEFAULT_CONFIG).top_risks
    assert [r["customer_id"] for r in both] == ["C5", "C6"]
    one = headline(centre, A, Config(reports=ReportsConfig(top_risks=1))).top_risks
    assert [r["customer_id"] for r in one] == ["C5"]


# --- A-WINBACK retry: one lapsed customer whose only attempt failed 10 days ago -------------

AS_OF = dt.date(2024, 6, 15)
ABSENCE = "2023-01-05"


@pytest.fixture(scope="module")
def winback_ctx(tmp_path_factory):
    store = open_store(str(tmp_path_factory.mktemp("winback") / "s.duckdb"))
    store.con.insert(
        "service_orders",
        make_table(
            "service_orders",
            [{"order_id": "O1", "customer_id": "W1", "open_date": ABSENCE, "total_amount": 1}],
        ),
    )
    key = f"W1|{ABSENCE}|1"
    action = {
        "action_id": action_id("A-WINBACK", key),
        "rule_id": "A-WINBACK",
        "trigger_key": key,
        "trigger_date": AS_OF,
        "customer_id": "W1",
        "status": "done",
        "due_date": AS_OF,
    }
    a_schema = store.table("actions").schema().to_pyarrow()
    store.con.insert(
        "actions", pa.Table.from_pylist([{c: action.get(c) for c in a_schema.names}], a_schema)
    )
    outcome = {
        "outcome_id": "X1",
        "action_id": action["action_id"],
        "result": "declined",
        "recorded_at": dt.datetime(2024, 6, 5),
    }
    o_schema = store.table("action_outcomes").schema().to_pyarrow()
    store.con.insert(
        "action_outcomes",
        pa.Table.from_pylist([{c: outcome.get(c) for c in o_schema.names}], o_schema),
    )
    base, _, _ = rule_context(store, AS_OF, DEFAULT_CONFIG)
    churn = ibis.memtable(
        {
            "customer_id": ["W1"],
            "tier": ["lapsed"],
            "risk_level": ["high"],
            "churn_reason": ["passive"],
            "reason_evidence": [None],
            "conversation": ["winback"],
        },
        schema={
            "customer_id": "string",
            "tier": "string",
            "risk_level": "string",
            "churn_reason": "string",
            "reason_evidence": "string",
            "conversation": "string",
        },
    )
    yield dataclasses.replace(base, churn=churn)
    store.close()


@pytest.mark.parametrize(("retry_days", "keys"), [(30, []), (10, [f"W1|{ABSENCE}|2"]), (11, [])])
def test_winback_retry_days_from_config(winback_ctx, retry_days, keys):
    # Failed 2024-06-05; the next attempt is due once 06-05 + retry ≤ 06-15.
    ctx = dataclasses.replace(
        winback_ctx, config=Config(actions=ActionsConfig(winback_retry_days=retry_days))
    )
    rows = rules_state.winback(ctx, ctx.config.actions.rules["A-WINBACK"]).to_pyarrow()
    assert rows.column("trigger_key").to_pylist() == keys


# --- k-means silhouette range (SPEC §8) -----------------------------------------------------


def _four_groups() -> pa.Table:
    groups = [(20000, 8, 15, 8000), (3000, 3, 120, 900), (300, 1, 330, -50), (0, 0, None, 0)]
    ids, mon, freq, rec, profit = [], [], [], [], []
    for g, (m, f, r, p) in enumerate(groups):
        for i in range(6):
            ids.append(f"G{g}-{i}")
            mon.append(Decimal(m + i))
            freq.append(f)
            rec.append(None if r is None else r + i)
            profit.append(float(p + i))
    return pa.table(
        {
            "customer_id": ids,
            "recency_days": pa.array(rec, pa.int64()),
            "frequency": pa.array(freq, pa.int64()),
            "monetary": pa.array(mon, pa.decimal128(18, 2)),
            "net_profit": pa.array(profit, pa.float64()),
        }
    )


def test_kmeans_k_range_from_config():
    table = _four_groups()
    full = kmeans_segments(table, config=DEFAULT_CONFIG, k="auto")
    assert sorted(full.silhouette) == list(range(2, 9)) and full.k == 4
    narrow = Config(segmentation=SegmentationConfig(kmeans_k_range=(2, 3)))
    scanned = kmeans_segments(table, config=narrow, k="auto")
    assert sorted(scanned.silhouette) == [2, 3]
    assert scanned.k in (2, 3)


# --- script templates folder ----------------------------------------------------------------


def test_templates_dir_from_config(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "A-WELCOME.j2").write_text("Welcome, {{ name }}!", encoding="utf-8")
    row = {
        "action_id": "A1",
        "customer_id": "C1",
        "rule_id": "A-WELCOME",
        "name": "Wei",
        "tier": "gold",
        "trigger_date": dt.date(2024, 6, 1),
        "due_date": dt.date(2024, 6, 8),
        "evidence": "{}",
    }
    mine = Config(actions=ActionsConfig(templates_dir=tmp_path))
    assert render_scripts([row], "en", config=mine) == ["Welcome, Wei!"]
    assert render_scripts([row], "en", config=DEFAULT_CONFIG) != ["Welcome, Wei!"]
