"""`aftercare outcome` and `aftercare kpis` on a small store, KPIs against hand computations."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from aftercare.cli import app
from aftercare.config import DEFAULT_CONFIG
from aftercare.services.kpis import dashboard
from aftercare.store import open_store
from factories import make_table
from outcome_rows import make_actions, make_outcomes

runner = CliRunner()
TODAY = dt.date(2024, 6, 26)  # a Wednesday: the week is 2024-06-24 .. 2024-06-30


def _data() -> dict:
    vehicles, orders, customers = [], [], []
    # 10 first services whose window (due 2024-05-10 + 30 days) closes 2024-06-09; 9 on time.
    for i in range(1, 11):
        vin = f"FS{i:015d}"
        customers.append({"customer_id": f"F{i}", "name": f"客户{i}"})
        vehicles.append({"vin": vin, "customer_id": f"F{i}", "delivery_date": "2024-02-10"})
        day = "2024-05-01" if i <= 9 else "2024-06-10"
        orders.append({"order_id": f"O{i}", "vin": vin, "open_date": day,
                       "category": "maintenance", "total_amount": 300})  # fmt: skip
    # CRR over 2023-06-30 .. 2024-06-30: R1..R4 active at start, R1..R3 still at end, and the
    # ten F customers are new: (13 - 10) / 4 = 75 % -> alert band, below target.
    for i in range(1, 5):
        customers.append({"customer_id": f"R{i}"})
        orders.append({"order_id": f"RA{i}", "customer_id": f"R{i}", "open_date": "2023-03-01",
                       "total_amount": 500})  # fmt: skip
        if i <= 3:
            orders.append({"order_id": f"RB{i}", "customer_id": f"R{i}",
                           "open_date": "2024-01-01", "total_amount": 500})  # fmt: skip
    # NPS in June: 6 promoters, 3 passives, 1 detractor -> 50 (target 75: below); mean 8.3.
    scores = [10, 10, 9, 9, 9, 9, 8, 7, 7, 5]
    interactions = [
        {"interaction_id": f"S{i}", "customer_id": "R1", "ts": f"2024-06-{i + 1:02d} 10:00:00",
         "type": "nps_survey", "score": s}
        for i, s in enumerate(scores)
    ]  # fmt: skip
    actions = [
        {"action_id": "A1", "rule_id": "A-WELCOME", "customer_id": "F1", "priority": "high",
         "due_date": "2024-06-25"},
        {"action_id": "A2", "rule_id": "A-MAINTENANCE", "customer_id": "F2",
         "due_date": "2024-06-20"},
        {"action_id": "A3", "rule_id": "A-MAINTENANCE", "customer_id": "F3",
         "due_date": "2024-07-20"},
        {"action_id": "W1", "rule_id": "A-WINBACK", "customer_id": "R4",
         "due_date": "2024-06-24"},
        {"action_id": "W2", "rule_id": "A-WINBACK", "customer_id": "R4", "trigger_key": "R4|2",
         "due_date": "2024-06-24"},
        {"action_id": "W3", "rule_id": "A-WINBACK", "customer_id": "R4", "trigger_key": "R4|3",
         "due_date": "2024-06-24"},
        # R-ACT-HOLDOUT: R3's control action (came back 2024-01-01: returned), R4's did not.
        {"action_id": "K3", "rule_id": "A-CARE-90D", "customer_id": "R3", "status": "holdout",
         "due_date": "2023-12-01"},
        {"action_id": "K4", "rule_id": "A-CARE-90D", "customer_id": "R4", "status": "holdout",
         "due_date": "2023-12-01"},
        # R-ACT-OUTCOME: B10 booked 06-05, F10 came 06-10 (converted); B4 booked 06-01, F4
        # has not come, its 30 days run to 07-01 (pending on 06-26).
        {"action_id": "B10", "rule_id": "A-MAINTENANCE", "customer_id": "F10",
         "due_date": "2024-06-05", "advisor_id": "S1"},
        {"action_id": "B4", "rule_id": "A-MAINTENANCE", "customer_id": "F4",
         "due_date": "2024-06-01"},
    ]  # fmt: skip
    outcomes = [
        {"action_id": "B10", "result": "booked", "recorded_at": "2024-06-05 10:00:00"},
        {"action_id": "B4", "result": "booked", "recorded_at": "2024-06-01 10:00:00"},
    ]
    return {
        "customers": make_table("customers", customers),
        "vehicles": make_table("vehicles", vehicles),
        "service_orders": make_table("service_orders", orders),
        "interactions": make_table("interactions", interactions),
        # S1 owns B10; S2 made no call this month (listed with zeros).
        "advisors": make_table(
            "advisors",
            [{"advisor_id": "S1", "name": "王顾问"}, {"advisor_id": "S2", "name": "李顾问"}],
        ),
        "actions": make_actions(actions),
        "action_outcomes": make_outcomes(outcomes),
    }


@pytest.fixture(autouse=True, scope="module")
def _commands():
    # Registers `outcome` and `kpis` on the app until cli/__init__.py imports the module;
    # imported at run time, not collection time, so the README check of test_docs only sees
    # them once they are wired in (and documented).
    import aftercare.cli.outcome_cmds  # noqa: F401


@pytest.fixture
def db(store_url):
    with open_store(store_url) as store:
        for name, table in _data().items():
            store.con.insert(name, table)
    return store_url


def _cells(output: str, first: str) -> list[str]:
    """The cells after ``first`` on the printed table row that starts with it."""
    line = next(x for x in output.splitlines() if x.startswith(f"│ {first} "))
    return [c.strip() for c in line.strip("│").split("│")][1:]


def _run(*args: str):
    return runner.invoke(app, list(args))


def test_a_finished_month_is_measured_to_its_end(db):
    with open_store(db) as store:
        board = dashboard(store, DEFAULT_CONFIG, month="2024-05", today=TODAY)
    assert board.month_end == dt.date(2024, 5, 31)
    assert {k.key: k for k in board.kpis}["crr"].period_end == dt.date(2024, 5, 31)


def test_kpis_match_hand_computations(db):
    with open_store(db) as store:
        board = dashboard(store, DEFAULT_CONFIG, month="2024-06", today=TODAY)
    k = {x.key: x for x in board.kpis}
    first = k["first_service_arrival_rate"]
    assert (first.numerator, first.denominator, first.status) == (9, 10, "ok")
    assert first.value == pytest.approx(90.0) and first.target == pytest.approx(90.0)
    assert (k["nps"].value, k["nps"].status, k["nps"].detail) == (pytest.approx(50.0), "below",
                                                                 "8.3")  # fmt: skip
    assert k["crr"].value == pytest.approx(75.0)
    assert (k["crr"].status, k["crr"].detail) == ("below", "alert")
    # June is still in progress on the 26th: measured to that day, never over days to come.
    assert board.month_end == TODAY and k["crr"].period_end == TODAY
    assert k["winback_rate"].status == "no_data" and k["winback_rate"].provisional
    assert k["growth_value_added_penetration"].status == "no_data"
    new = next(s for s in board.lifecycle if s.stage == "new")
    assert (new.customers, new.previous_customers) == (10, 10)
    week = {(a.priority, a.rule_id): a for a in board.week_actions}
    assert set(week) == {("high", "A-WELCOME"), ("medium", "A-MAINTENANCE"),
                         ("medium", "A-WINBACK")}  # fmt: skip
    assert week[("medium", "A-MAINTENANCE")].overdue == 1  # A3 is due next month
    (care,) = board.lifts
    assert (care["rule_id"], care["control_actions"], care["control_returned"]) == (
        "A-CARE-90D", 2, 1,
    )  # fmt: skip
    assert care["control_rate"] == pytest.approx(0.5) and care["lift"] is None
    (booked,) = board.bookings
    assert (booked.rule_id, booked.bookings, booked.converted, booked.pending) == (
        "A-MAINTENANCE", 2, 1, 1,
    )  # fmt: skip
    assert booked.rate == pytest.approx(1.0)
    # June's calls: S1's B10 (booked 06-05, F10 came 06-10: a visit); the pool's B4 (booked
    # 06-01, F4 not back); S2 made none.
    advisors = [(a.advisor_id, a.calls, a.reached, a.bookings, a.visits, a.expired, a.reach_rate)
                for a in board.advisors]  # fmt: skip
    assert advisors == [("S1", 1, 1, 1, 1, 0, 1.0), ("S2", 0, 0, 0, 0, 0, None),
                        (None, 1, 1, 1, 0, 0, 1.0)]  # fmt: skip


def test_outcome_command_records_and_reports(db):
    ok = _run("outcome", "A1", "已预约", "--note", "周六10点", "--advisor", "S1", "--db", db)
    assert ok.exit_code == 0, ok.output
    assert "booked" in ok.output and "action is now done" in ok.output
    for action, word in (("W1", "未接通"), ("W2", "no_answer"), ("W3", "空号")):
        r = _run("outcome", action, word, "--db", db)
        assert r.exit_code == 0, r.output
    assert "win-back exhausted: 3 failed attempts" in r.output
    out = _run("outcome", "A2", "opted_out", "--db", db)
    assert "F2 set to do-not-contact; 0 open actions stopped" in out.output
    bad = _run("outcome", "NOPE", "booked", "--db", db)
    assert bad.exit_code == 1 and "unknown action id 'NOPE'" in bad.output
    worse = _run("outcome", "A1", "maybe", "--db", db)
    assert worse.exit_code == 1 and "unknown result 'maybe'" in worse.output
    # --advisor takes a name too; one that names nobody is refused and nothing is recorded.
    named = _run("outcome", "A3", "no_answer", "--advisor", "李顾问", "--db", db)
    assert named.exit_code == 0, named.output
    nobody = _run("outcome", "A3", "reached", "--advisor", "张三", "--db", db)
    assert nobody.exit_code == 1 and "S1" in nobody.output and "李顾问" in nobody.output
    with open_store(db) as store:
        t = store.table("action_outcomes")
        calls = t.filter(t.action_id == "A3").select("result", "advisor_id").to_pyarrow()
    assert calls.to_pylist() == [{"result": "no_answer", "advisor_id": "S2"}]

    # The booked welcome call and the exhausted win-back leave this week's list.
    board = _run("kpis", "--month", "2024-06", "--as-of", TODAY.isoformat(), "--db", db)
    assert board.exit_code == 0, board.output
    assert "新客户welcome call: 1人" not in board.output
    assert "流失客户召回: 1人" not in board.output
    # Planned this week, made or not: A1 (booked) and W1..W3 (spent): 4 of 14 customers, 4 /
    # 14 × 1000 = 285.7; A2 opted out (stopped) and A3 is due next month.
    assert "合计: 4, 285.7/千客户 (客户 14; 种子004 54.1/千客户)" in board.output


def test_kpis_command_prints_the_seed_dashboard(db):
    zh = _run("kpis", "--month", "2024-06", "--as-of", TODAY.isoformat(), "--db", db)
    assert zh.exit_code == 0, zh.output
    for text in ("客户生命周期分布", "新客期(0-12月): 10人 ↔ 环比持平", "本周关键行动清单",
                 "【高优先级】", "新客户welcome call: 1人", "本月目标达成情况",
                 "新客户首保到店率", "90.0%", "✅ 达成", "❌ 需加强", "平均分 8.3",
                 "规则效果（对照组）", "50.0% (n=2)",
                 "本月预约到店转化 (2024-06): 1/1 到店 (100.0%), 1 观察中",
                 "常规保养提醒: 1/1 到店 (100.0%), 1 观察中", "服务顾问本月回访 (2024-06)",
                 "未分配（门店公共池）"):  # fmt: skip
        assert text in zh.output, text
    # calls made, reached, reach rate, bookings, visits, expired (hand counts: see above)
    assert _cells(zh.output, "王顾问 (S1)") == ["1", "1", "100.0%", "1", "1", "0"]
    assert _cells(zh.output, "李顾问 (S2)") == ["0", "0", "—", "0", "0", "0"]
    assert _cells(zh.output, "未分配（门店公共池）") == ["1", "1", "100.0%", "1", "0", "0"]
    en = _run("kpis", "--month", "2024-06", "--as-of", "2024-06-26", "--lang", "en", "--db", db)
    assert en.exit_code == 0, en.output
    # The KPI column wraps at the test terminal's 80 columns: "First-service / arrival rate".
    assert "First-service" in en.output and "arrival rate" in en.output and "9/10" in en.output
    bad = _run("kpis", "--month", "June", "--db", db)
    assert bad.exit_code == 1 and "YYYY-MM" in bad.output


def test_import_outcomes_command_reads_a_call_log(db, tmp_path):
    # R-ACT-OUTCOME: a GBK call log with Chinese results; a bad row is reported, exit 3.
    log = tmp_path / "回访记录.csv"
    log.write_bytes(
        (
            "任务编号,回访结果,回访时间,备注,服务顾问\n"
            "A1,已预约,2024-06-25 10:00,周六保养,S1\n"
            "A2,也许,2024-06-25 10:05,,S1\n"
        ).encode("gbk")
    )
    first = _run("import", "outcomes", str(log), "--db", db)
    assert first.exit_code == 3, first.output
    assert "2 rows read, 1 recorded, 0 already recorded, 1 rejected" in first.output
    assert "回访记录.csv:3: result: unknown result '也许'" in first.output
    again = _run("import", "outcomes", str(log), "--db", db)
    assert "0 recorded, 1 already recorded" in again.output
