"""Monthly KPIs against hand computations, on every engine (SPEC §7)."""

from __future__ import annotations

import datetime as dt

import pytest

from aftercare.config import LifecycleConfig, ReminderConfig
from aftercare.errors import AftercareError
from aftercare.pipeline.staging import resolved_orders
from aftercare.playbook.kpis import (
    first_service_arrival,
    growth_value_added_penetration,
    month_bounds,
    net_promoter_score,
    winback_rate,
)
from conftest import load_tables
from factories import make_table
from outcome_rows import make_actions, make_outcomes

JUNE = (dt.date(2024, 6, 1), dt.date(2024, 6, 30))


def _vehicles() -> list[dict]:
    rows = []
    # First service: 10 cars delivered 2024-02-10: due 2024-05-10, window closes 2024-06-09
    # (3 months + 30 days grace) -> due in June.
    for i in range(1, 11):
        rows.append(
            {"vin": f"FS{i:015d}", "customer_id": f"F{i}", "brand": "BYD",
             "delivery_date": "2024-02-10"}
        )  # fmt: skip
    rows += [
        # Sold before its first service: left out (R-VEHICLE-SOLD).
        {"vin": "FS000000000000099", "customer_id": "F99", "brand": "BYD",
         "delivery_date": "2024-02-10", "status": "sold"},
        # Window closes 2024-05-31: not due in June, though serviced.
        {"vin": "FS000000000000098", "customer_id": "F98", "brand": "BYD",
         "delivery_date": "2024-01-01"},
        # Tesla: with the brand's 12-month first service its window closes 2024-06-09.
        {"vin": "TS000000000000001", "customer_id": "T1", "brand": "Tesla",
         "delivery_date": "2023-05-10"},
    ]  # fmt: skip
    # Growth stage (3-5 years) at 2024-06-30: G1..G10 delivered 2020-01-01.
    for i in range(1, 11):
        rows.append({"vin": f"GR{i:015d}", "customer_id": f"G{i}", "delivery_date": "2020-01-01"})
    rows += [
        # G6 also has a new car: the newest vehicle gives the stage -> "new", not growth.
        {"vin": "GR000000000000066", "customer_id": "G6", "delivery_date": "2024-01-01"},
        # N1: activation stage, buys value-added: in neither count.
        {"vin": "NA000000000000001", "customer_id": "N1", "delivery_date": "2023-01-01"},
    ]
    return rows


def _orders() -> list[dict]:
    rows = []
    for i in range(1, 9):  # F1..F8 serviced well in time
        rows.append({"order_id": f"FO{i}", "vin": f"FS{i:015d}", "open_date": "2024-05-01",
                     "category": "maintenance", "total_amount": 0})  # fmt: skip
    rows += [
        # F9: on the window's last day -> on time.
        {"order_id": "FO9", "vin": "FS000000000000009", "open_date": "2024-06-09",
         "category": "maintenance", "total_amount": 0},
        # F10: a repair in time does not count; the maintenance came a day late.
        {"order_id": "FO10a", "vin": "FS000000000000010", "open_date": "2024-05-01",
         "category": "repair", "total_amount": 300},
        {"order_id": "FO10b", "vin": "FS000000000000010", "open_date": "2024-06-10",
         "category": "maintenance", "total_amount": 0},
        {"order_id": "FO98", "vin": "FS000000000000098", "open_date": "2024-03-01",
         "category": "maintenance", "total_amount": 0},
        # Value-added in the trailing 365 days to 2024-06-30: G1 (inside), G2 (first day).
        {"order_id": "VA1", "customer_id": "G1", "open_date": "2024-03-01",
         "category": "value_added", "total_amount": 5000},
        {"order_id": "VA2", "customer_id": "G2", "open_date": "2023-07-01",
         "category": "value_added", "total_amount": 800},
        # G3: 366 days before -> outside; G4: a refund is no purchase; G5: maintenance only.
        {"order_id": "VA3", "customer_id": "G3", "open_date": "2023-06-30",
         "category": "value_added", "total_amount": 800},
        {"order_id": "VA4", "customer_id": "G4", "open_date": "2024-04-01",
         "category": "value_added", "total_amount": -800},
        {"order_id": "MA5", "customer_id": "G5", "open_date": "2024-04-01",
         "category": "maintenance", "total_amount": 600},
        {"order_id": "VA6", "customer_id": "G6", "open_date": "2024-04-01",
         "category": "value_added", "total_amount": 800},
        {"order_id": "VAN", "customer_id": "N1", "open_date": "2024-04-01",
         "category": "value_added", "total_amount": 800},
        # Win-back visits: W1 60 days after its first contact (returned), W2 61 days (not),
        # W3 before its contact (not), W4 a refund (not), W12 came back but was not a win-back,
        # W13 came back but was high-risk, not lapsed (not counted at all).
        {"order_id": "W1", "customer_id": "W1", "open_date": "2024-08-04",
         "category": "maintenance", "total_amount": 500},
        {"order_id": "W2", "customer_id": "W2", "open_date": "2024-08-10",
         "category": "maintenance", "total_amount": 500},
        {"order_id": "W3", "customer_id": "W3", "open_date": "2024-05-01",
         "category": "maintenance", "total_amount": 500},
        {"order_id": "W4", "customer_id": "W4", "open_date": "2024-06-20",
         "category": "maintenance", "total_amount": -500},
        {"order_id": "W12", "customer_id": "W12", "open_date": "2024-06-20",
         "category": "maintenance", "total_amount": 500},
        {"order_id": "W13", "customer_id": "W13", "open_date": "2024-06-20",
         "category": "maintenance", "total_amount": 500},
    ]  # fmt: skip
    return rows


LAPSED = '{"churn_reason":"passive","tier":"lapsed","risk_level":"low"}'
HIGH_RISK = '{"churn_reason":"price","tier":"regular","risk_level":"high"}'


def _actions_and_outcomes():
    actions = [
        {"rule_id": "A-WINBACK", "customer_id": f"W{i}", "trigger_key": f"W{i}|2024-06",
         "due_date": "2024-06-01", "evidence": LAPSED}
        for i in range(1, 12)
    ]  # fmt: skip
    actions.append({"rule_id": "A-WINBACK", "customer_id": "W13", "due_date": "2024-06-01",
                    "evidence": HIGH_RISK})  # fmt: skip
    actions.append({"rule_id": "A-CARE-90D", "customer_id": "W12", "due_date": "2024-06-01"})
    acts = make_actions(actions).to_pylist()
    ids = {(a["rule_id"], a["customer_id"]): a["action_id"] for a in acts}

    def out(customer: str, result: str, at: str, rule: str = "A-WINBACK") -> dict:
        return {"action_id": ids[(rule, customer)], "result": result, "recorded_at": at}

    outcomes = [
        # W1: the missed call of 06-03 is an attempt; the contact is 06-05.
        out("W1", "no_answer", "2024-06-03 10:00:00"),
        out("W1", "reached", "2024-06-05 10:00:00"),
        out("W2", "declined", "2024-06-10 10:00:00"),
        out("W3", "reached", "2024-06-15 09:00:00"),
        out("W4", "visited", "2024-06-15 09:00:00"),
        # Not contacts: a wrong number, an opt-out, missed calls (W7..W10).
        out("W5", "wrong_number", "2024-06-15 09:00:00"),
        out("W6", "opted_out", "2024-06-15 09:00:00"),
        # W11: contacted in May only.
        out("W11", "reached", "2024-05-31 23:00:00"),
        out("W12", "booked", "2024-06-10 10:00:00", rule="A-CARE-90D"),
        out("W13", "reached", "2024-06-10 10:00:00"),
    ]
    for i in range(7, 11):
        outcomes.append(out(f"W{i}", "no_answer", "2024-06-15 09:00:00"))
    return make_actions(actions), make_outcomes(outcomes)


def _interactions() -> list[dict]:
    # June: 6 promoters (10,10,9,9,9,9), 3 passives (8,7,7), 1 detractor (5):
    # NPS = (6 - 1) / 10 * 100 = 50; mean = 83 / 10 = 8.3.
    scores = [10, 10, 9, 9, 9, 9, 8, 7, 7, 5]
    rows = [
        {"interaction_id": f"S{i}", "customer_id": f"C{i}", "ts": f"2024-06-{i + 1:02d} 12:00:00",
         "type": "nps_survey", "score": s}
        for i, s in enumerate(scores)
    ]  # fmt: skip
    rows += [
        {"interaction_id": "SJ", "customer_id": "C1", "ts": "2024-07-01 00:00:00",
         "type": "nps_survey", "score": 0},  # July
        {"interaction_id": "SN", "customer_id": "C1", "ts": "2024-06-20 00:00:00",
         "type": "nps_survey", "score": None},  # no score
        {"interaction_id": "CP", "customer_id": "C1", "ts": "2024-06-20 00:00:00",
         "type": "complaint", "score": 0},  # not a survey
        {"interaction_id": "SM", "customer_id": "C1", "ts": "2024-05-31 23:59:59",
         "type": "nps_survey", "score": 0},  # May
    ]  # fmt: skip
    return rows


@pytest.fixture(scope="module")
def kpis(backend):
    actions, outcomes = _actions_and_outcomes()
    t = load_tables(
        backend,
        {
            "vehicles": make_table("vehicles", _vehicles()),
            "orders": make_table("service_orders", _orders()),
            "interactions": make_table("interactions", _interactions()),
            "actions": actions,
            "outcomes": outcomes,
        },
    )
    orders = resolved_orders(t["orders"], t["vehicles"])
    reminders = ReminderConfig()
    tesla = ReminderConfig(first_service_by_brand={"Tesla": {"months": 12}})
    return {
        "first": first_service_arrival(
            orders, t["vehicles"], month_start=JUNE[0], month_end=JUNE[1],
            config=reminders, grace_days=30,
        ).to_pyarrow().to_pylist()[0],
        "first_tesla": first_service_arrival(
            orders, t["vehicles"], month_start=JUNE[0], month_end=JUNE[1],
            config=tesla, grace_days=30,
        ).to_pyarrow().to_pylist()[0],
        "growth": growth_value_added_penetration(
            orders, t["vehicles"], month_end=JUNE[1], lifecycle=LifecycleConfig(),
            window_days=365,
        ).to_pyarrow().to_pylist()[0],
        "winback": winback_rate(
            t["actions"], t["outcomes"], orders, month_start=JUNE[0], month_end=JUNE[1],
            visit_days=60,
        ).to_pyarrow().to_pylist()[0],
        "nps": net_promoter_score(
            t["interactions"], month_start=JUNE[0], month_end=JUNE[1],
            promoter_min=9, detractor_max=6,
        ).to_pyarrow().to_pylist()[0],
        "empty_nps": net_promoter_score(
            t["interactions"], month_start=dt.date(2020, 1, 1), month_end=dt.date(2020, 1, 31),
            promoter_min=9, detractor_max=6,
        ).to_pyarrow().to_pylist()[0],
    }  # fmt: skip


def test_first_service_arrival_nine_of_ten_on_time(kpis):
    assert kpis["first"] == {
        "first_services_due": 10,
        "first_services_on_time": 9,
        "arrival_rate": pytest.approx(0.9),
    }


def test_first_service_window_follows_brand_override(kpis):
    # The Tesla is due in June too with its 12-month first service, and was not serviced.
    assert kpis["first_tesla"]["first_services_due"] == 11
    assert kpis["first_tesla"]["first_services_on_time"] == 9
    assert kpis["first_tesla"]["arrival_rate"] == pytest.approx(9 / 11)


def test_growth_value_added_penetration_two_of_nine(kpis):
    # Growth customers G1..G10 without G6 (newest car is new) = 9; buyers G1, G2.
    assert kpis["growth"] == {
        "growth_customers": 9,
        "value_added_buyers": 2,
        "penetration": pytest.approx(2 / 9),
    }


def test_winback_rate_one_of_four_lapsed_reached_returned(kpis):
    # Lapsed and reached in June: W1, W2, W3, W4; back within 60 days: W1. Not contacts:
    # W5 (wrong number), W6 (opted out), W7..W10 (no answer); W11 in May; W13 not lapsed.
    assert kpis["winback"] == {
        "winback_contacted": 4,
        "winback_returned": 1,
        "winback_rate": pytest.approx(0.25),
    }


def test_nps_six_promoters_one_detractor_is_50(kpis):
    assert kpis["nps"] == {
        "surveys": 10,
        "promoters": 6,
        "detractors": 1,
        "nps": pytest.approx(50.0),
        "mean_score": pytest.approx(8.3),
    }


def test_nps_without_surveys_is_null(kpis):
    assert kpis["empty_nps"]["surveys"] == 0
    assert kpis["empty_nps"]["nps"] is None
    assert kpis["empty_nps"]["mean_score"] is None


def test_month_bounds():
    assert month_bounds("2024-02") == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    with pytest.raises(AftercareError, match="YYYY-MM"):
        month_bounds("June")
