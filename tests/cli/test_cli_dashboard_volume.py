"""The dashboard's week volume (issue 10): planned contacts per 1,000 customers per rule beside
seed 004's rate, the A-CARE-90D share, and the advisors' load against capacity.

Today is Wednesday 2024-06-26 (week 2024-06-24 … 2024-06-30). 20 customers exist today (C21
is created 2024-07-15: not yet). Capacity: 2 contacts a day, Monday to Friday = 10 a week.
Planned this week (due on a day of it when stored; open, done, expired or backlog):

- S1: 5 A-MAINTENANCE, 3 A-WELCOME, 2 A-CARE-90D, all by phone;
- S2: 2 A-FIRST-SERVICE (phone), 1 A-BIRTHDAY (WeChat), 1 A-EXT-WARRANTY (SMS), and 1
  A-WELCOME (phone) planned for Thursday 06-27 that capacity moved to Monday 07-01;
- S3: 1 A-MAINTENANCE booked (done, due 06-25) and 1 A-WELCOME expired on 06-26 (valid
  until 06-25: R-ACT-EXPIRE), both by phone, planned this week though off the list;
- the pool: 2 A-WINBACK.

Not planned this week: S1's A-MAINTENANCE due 06-20 (last week's, still open: overdue), one
due next week, one held out, two in the backlog since last week (expected value 150 + 250).
Total 19 -> 19 / 20 × 1000 = 950 per 1,000; A-CARE-90D 2 / 19 = 10.5 %.

Load (the calls on each advisor's days this week, overdue included, phone and WeChat):
S1 5 + 1 overdue + 3 + 2 = 11, over its 10; S2 2 + 1 = 3 (the SMS is sent by the system, the
moved welcome is next week's); S3 2; S4 is inactive and M1 a manager: not counted. Min 2,
median 3, max 11, 1 advisor over capacity.
"""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from aftercare.cli import app
from aftercare.config import load_config
from aftercare.playbook.volumes import (
    SEED_004_CUSTOMERS,
    SEED_004_WEEK,
    advisor_load,
    seed_per_thousand,
    seed_per_thousand_total,
)
from aftercare.services.kpis import dashboard
from aftercare.store import open_store
from factories import make_table
from outcome_rows import make_actions, make_outcomes

runner = CliRunner()
TODAY = dt.date(2024, 6, 26)
CONFIG = """\
actions:
  capacity:
    calls_per_day: 2
    working_days: [mon, tue, wed, thu, fri]
"""


def test_seed_004_rates_are_the_seeds_figures():
    # 342 + 687 + 523 + 289 + 156 customers; 15 + 8 + 3 + 23 + 12 + 47 = 108 actions a week.
    assert SEED_004_CUSTOMERS == 1997 and sum(SEED_004_WEEK.values()) == 108
    rates = {r: round(seed_per_thousand(r) or 0.0, 1) for r in SEED_004_WEEK}
    assert rates == {"A-WELCOME": 7.5, "A-CARE-90D": 4.0, "A-BIRTHDAY": 1.5,
                     "A-FIRST-SERVICE": 11.5, "A-EXT-WARRANTY": 6.0,
                     "A-MAINTENANCE": 23.5}  # fmt: skip
    assert seed_per_thousand("A-WELCOME") == pytest.approx(15_000 / 1997)
    assert seed_per_thousand("A-WINBACK") is None
    assert seed_per_thousand_total() == pytest.approx(108_000 / 1997)  # 54.08


def test_advisor_load_min_median_max_over_capacity():
    load = advisor_load([11, 3, 0, 10], capacity=10)
    assert (load.advisors, load.least, load.median, load.most) == (4, 0, 6.5, 11)
    assert load.over_capacity == 1  # 10 is at capacity, not over
    assert advisor_load([], capacity=10).least is None


def _store(url: str) -> None:
    customers = [{"customer_id": f"C{i:02d}"} for i in range(1, 21)]
    customers.append({"customer_id": "C21", "created_at": "2024-07-15"})
    advisors = [
        {"advisor_id": "S1", "name": "王顾问"},
        {"advisor_id": "S2", "name": "李顾问"},
        {"advisor_id": "S3", "name": "张顾问"},
        {"advisor_id": "S4", "name": "离职", "active": False},
        {"advisor_id": "M1", "name": "经理", "role": "manager"},
    ]
    plan: list[tuple[str, str, str | None, str, str]] = []
    plan += [("A-MAINTENANCE", "C01", "S1", "phone", f"2024-06-2{i}") for i in range(4, 9)]
    plan += [("A-MAINTENANCE", "C02", "S1", "phone", "2024-06-20")]  # overdue, still open
    plan += [("A-WELCOME", f"C0{i}", "S1", "phone", "2024-06-25") for i in (3, 4, 5)]
    plan += [("A-CARE-90D", f"C0{i}", "S1", "phone", "2024-06-27") for i in (6, 7)]
    plan += [("A-FIRST-SERVICE", f"C0{i}", "S2", "phone", "2024-06-28") for i in (8, 9)]
    plan += [("A-BIRTHDAY", "C10", "S2", "wechat", "2024-06-29"),
             ("A-EXT-WARRANTY", "C11", "S2", "sms", "2024-06-30"),
             ("A-WINBACK", "C12", None, "phone", "2024-06-24"),
             ("A-WINBACK", "C13", None, "phone", "2024-06-26")]  # fmt: skip
    rows: list[dict] = [
        {"rule_id": r, "customer_id": c, "advisor_id": a, "channel": ch, "due_date": d,
         "trigger_key": f"{c}|{r}|{d}"}
        for r, c, a, ch, d in plan
    ]  # fmt: skip
    rows += [
        {"rule_id": "A-WELCOME", "customer_id": "C20", "advisor_id": "S2",
         "created_on": "2024-06-24", "original_due_date": "2024-06-27",
         "due_date": "2024-07-01"},  # planned this week, moved to next by capacity
        {"rule_id": "A-MAINTENANCE", "customer_id": "C14", "advisor_id": "S3",
         "due_date": "2024-07-01"},  # next week
        {"action_id": "DONE", "rule_id": "A-MAINTENANCE", "customer_id": "C15",
         "advisor_id": "S3", "due_date": "2024-06-25"},  # booked: done
        {"rule_id": "A-CARE-90D", "customer_id": "C16", "advisor_id": "S3",
         "due_date": "2024-06-25", "status": "holdout"},
        {"rule_id": "A-WELCOME", "customer_id": "C19", "advisor_id": "S3",
         "due_date": "2024-06-24", "valid_until": "2024-06-25"},  # expired (R-ACT-EXPIRE)
        {"rule_id": "A-MAINTENANCE", "customer_id": "C17", "due_date": "2024-06-22",
         "status": "backlog", "expected_value": 150.0},
        {"rule_id": "A-DECLINED", "customer_id": "C18", "due_date": "2024-06-23",
         "status": "backlog", "expected_value": 250.0},
    ]  # fmt: skip
    done = make_outcomes([{"action_id": "DONE", "result": "booked",
                           "recorded_at": "2024-06-25 10:00:00"}])  # fmt: skip
    with open_store(url) as store:
        store.con.insert("customers", make_table("customers", customers))
        store.con.insert("advisors", make_table("advisors", advisors))
        store.con.insert("actions", make_actions(rows))
        store.con.insert("action_outcomes", done)


@pytest.fixture
def db(store_url, tmp_path):
    _store(store_url)
    path = tmp_path / "capacity.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return store_url, path


def test_week_volume_matches_hand_computation(db):
    url, config = db
    with open_store(url, create=False) as store:
        v = dashboard(store, load_config(config), month="2024-06", today=TODAY).volume
    assert (v.customers, v.total, v.per_1000) == (20, 19, pytest.approx(950.0))
    got = {r.rule_id: (r.actions, r.per_1000, r.seed_actions) for r in v.rules}
    assert got == {
        "A-WELCOME": (5, pytest.approx(250.0), 15),
        "A-CARE-90D": (2, pytest.approx(100.0), 8),
        "A-BIRTHDAY": (1, pytest.approx(50.0), 3),
        "A-FIRST-SERVICE": (2, pytest.approx(100.0), 23),
        "A-EXT-WARRANTY": (1, pytest.approx(50.0), 12),
        "A-MAINTENANCE": (6, pytest.approx(300.0), 47),
        "A-WINBACK": (2, pytest.approx(100.0), None),
    }
    # Seed's rules first in the seed's order, then the others.
    assert [r.rule_id for r in v.rules][-1] == "A-WINBACK"
    welcome = v.rules[0]
    assert welcome.seed_ratio == pytest.approx(250.0 / (15_000 / 1997))  # 33.3×
    assert v.care_share == pytest.approx(2 / 19)
    assert (v.advisors, v.least, v.median, v.most) == (3, 2, 3.0, 11)
    assert (v.capacity, v.over_capacity) == (10, 1)
    assert (v.pool, v.backlog, v.backlog_value) == (2, 2, pytest.approx(400.0))
    assert v.seed_care_share == pytest.approx(8 / 108)


def test_dashboard_prints_the_week_volume(db):
    url, config = db
    import aftercare.cli.outcome_cmds  # noqa: F401  (registers `kpis`)

    out = runner.invoke(app, ["kpis", "--month", "2024-06", "--as-of", TODAY.isoformat(),
                              "--db", url, "--config", str(config)])  # fmt: skip
    assert out.exit_code == 0, out.output
    for text in ("本周计划外呼量 (2024-06-24 – 2024-06-30)",
                 "合计: 19, 950.0/千客户 (客户 20; 种子004 54.1/千客户)",
                 "新客户welcome call: 5, 250.0/千客户 (种子004 7.5, 33.3×)",
                 "流失预警客户关怀: 2, 100.0/千客户 (种子004 4.0, 25.0×)",
                 "常规保养提醒: 6, 300.0/千客户 (种子004 23.5, 12.7×)",
                 "流失客户召回: 2, 100.0/千客户",
                 "流失预警客户关怀占比: 10.5% (种子004 7.4%)",
                 "服务顾问负荷: 3人, 最少 2 / 中位 3 / 最多 11 (产能 10/周), 超产能 1",
                 "未分配: 2", "积压（有效期内排不进）: 2 (预期价值 400)"):  # fmt: skip
        assert text in out.output, text
    en = runner.invoke(app, ["kpis", "--month", "2024-06", "--as-of", TODAY.isoformat(),
                             "--db", url, "--config", str(config), "--lang", "en"])  # fmt: skip
    assert en.exit_code == 0, en.output
    assert "Total: 19, 950.0/1k customers (customers 20; seed 004 54.1/1k customers)" in en.output
    assert "A-CARE-90D share: 10.5% (seed 004 7.4%)" in en.output
