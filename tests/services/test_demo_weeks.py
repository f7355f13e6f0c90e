"""The demo centre's worked weeks (issue 10): call lists planned, worked and logged."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow.compute as pc
from typer.testing import CliRunner

from aftercare.cli import app
from aftercare.services.demo_weeks import RESULT_SHARES, WORKED_SHARE, worked_outcomes
from aftercare.store import open_store

MONDAY = dt.date(2025, 6, 23)


def _week(n: int) -> pd.DataFrame:
    due = [
        MONDAY - dt.timedelta(days=3) if i % 10 == 0 else MONDAY + dt.timedelta(i % 7)
        for i in range(n)
    ]
    return pd.DataFrame({"action_id": [f"A{i:016x}" for i in range(n)], "due_date": due})


def test_worked_outcomes_follow_their_shares_and_stay_the_same():
    week = _week(20_000)
    out = worked_outcomes(week, MONDAY)
    assert abs(len(out) / len(week) - WORKED_SHARE) < 0.01
    shares = out["result"].value_counts(normalize=True)
    for result, share in RESULT_SHARES:
        assert abs(shares[result] - share) < 0.01, result
    assert out.equals(worked_outcomes(week, MONDAY))  # drawn from the ids: deterministic


def test_worked_outcomes_draw_again_on_another_day():
    week = _week(20_000)
    first = worked_outcomes(week, MONDAY)
    missed = week[~week.action_id.isin(first.action_id)]
    unanswered = first[first.result == "no_answer"].action_id
    tuesday = MONDAY + dt.timedelta(days=1)
    again = worked_outcomes(week, tuesday).set_index("action_id").result
    # A call not worked (or not answered) on Monday is worked (answered) on Tuesday as often
    # as any other: the draws are per action and day.
    assert abs(missed.action_id.isin(again.index).mean() - WORKED_SHARE) < 0.02
    retried = again.reindex(unanswered).dropna()
    assert abs((retried == "no_answer").mean() - dict(RESULT_SHARES)["no_answer"]) < 0.03


def test_worked_outcomes_are_dated_in_the_week_in_working_hours():
    week = _week(1_000)
    out = worked_outcomes(week, MONDAY).merge(week, on="action_id")
    days = out["recorded_at"].dt.date
    overdue = out["due_date"] < MONDAY
    assert (days[overdue] == MONDAY).all()  # an overdue call is made on Monday
    assert (days[~overdue] == out["due_date"][~overdue]).all()
    hours = out["recorded_at"].dt.hour
    assert hours.between(9, 16).all()


def test_demo_works_the_weeks_before_and_imports_their_call_log(tmp_path):
    out = tmp_path / "demo"
    res = CliRunner().invoke(
        app,
        ["demo", "--customers", "300", "--seed", "4", "--as-of", "2025-06-30", "--out", str(out),
         "--worked-weeks", "2"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    log = pd.read_csv(out / "回访记录.csv")
    assert list(log.columns) == ["行动编号", "回访结果", "回访时间"]
    with open_store(str(out / "aftercare.duckdb")) as store:
        outcomes = store.table("action_outcomes").to_pyarrow()
        vehicles = store.table("vehicles").to_pyarrow()
    assert outcomes.num_rows == len(log) > 0
    days = {d.date() for d in outcomes.column("recorded_at").to_pylist()}
    assert min(days) >= dt.date(2025, 6, 16) and max(days) <= dt.date(2025, 6, 29)
    # The demo's vehicles carry their insurance expiry (保险到期日 maps onto it).
    assert pc.sum(pc.is_valid(vehicles.column("insurance_expiry"))).as_py() > 100
