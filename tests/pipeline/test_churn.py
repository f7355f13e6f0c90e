"""R-CHURN-RISK and R-CHURN-REASON on every backend, against hand-computed levels."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from aftercare.config import RetentionConfig
from aftercare.pipeline.churn import churn_reason, churn_risk, churn_signals
from aftercare.pipeline.staging import resolved_orders
from conftest import load_tables
from factories import make_table

AS_OF = dt.date(2024, 6, 30)
CONFIG = RetentionConfig()


def ago(days: int) -> dt.date:
    return AS_OF - dt.timedelta(days=days)


def visit(customer: str, days: int) -> dict:
    return {
        "order_id": f"{customer}-{days}",
        "customer_id": customer,
        "open_date": ago(days),
        "total_amount": 300,
    }


def event(customer: str, days: int, type_: str, **extra) -> dict:
    return {
        "interaction_id": f"{customer}-{type_}-{days}",
        "customer_id": customer,
        "ts": dt.datetime.combine(ago(days), dt.time(10)),
        "type": type_,
        **extra,
    }


ORDERS = [
    visit("A89", 89),
    visit("A90", 90),
    visit("A119", 119),
    visit("A120", 120),
    visit("NPS95", 95),
    visit("NPSOLD", 95),
    visit("CMP30", 30),
    visit("CMPRES", 30),
    visit("CAP", 125),
    visit("INT", 250),
    visit("INT", 150),  # usual interval 100 days; 150 absent = 50 overdue → low
    visit("INT2", 400),
    visit("INT2", 370),  # usual interval 30; 370 absent = 340 overdue → high
    visit("REM", 10),
    visit("REMF", 200),
    visit("NPS6", 95),
    visit("NPS7", 95),
    visit("BOTH", 30),
]
INTERACTIONS = [
    event("A89", 600, "complaint"),  # outside the window
    event("NPS95", 40, "nps_survey", score=5),
    event("NPSOLD", 60, "nps_survey", score=3),
    event("NPSOLD", 20, "nps_survey", score=9),  # the latest survey counts
    event("CMP30", 10, "complaint"),  # resolved unknown → unresolved
    event("CMPRES", 10, "complaint", resolved=True),
    event("CAP", 5, "nps_survey", score=2),
    event("A120", 50, "competitor_visit"),
    event("NPS6", 10, "nps_survey", score=6),  # 0–6 is low (R-CHURN-RISK)
    event("NPS7", 10, "nps_survey", score=7),  # 7 is not
    event("BOTH", 10, "nps_survey", score=0),
    event("BOTH", 12, "complaint", resolved=False),
]
IDS = [
    "A89",
    "A90",
    "A119",
    "A120",
    "NPS95",
    "NPSOLD",
    "CMP30",
    "CMPRES",
    "CAP",
    "INT",
    "INT2",
    "REM",
    "REMF",
    "NPS6",
    "NPS7",
    "BOTH",
    "NEVER",
    "LAP_P",
    "LAP_D",
    "LAP_X",
    "LAP_S",
]
CUSTOMERS = [
    {"customer_id": c, "price_sensitivity": "high" if c in {"LAP_P", "CAP"} else None} for c in IDS
]
VIN_D = "LSVCHURN0000000LD"
VEHICLES = [{"vin": VIN_D, "customer_id": "LAP_D", "delivery_date": "2018-01-01"}]
DECLINED = [
    {"order_id": "q1", "item": "brakes", "vin": VIN_D, "declined_date": ago(30), "reason": "price"},
    {
        "order_id": "q2",
        "item": "tyres",
        "customer_id": "LAP_X",
        "declined_date": ago(30),
        "reason": "time",
    },
    {
        "order_id": "q3",
        "item": "tyres",
        "customer_id": "LAP_X",
        "declined_date": ago(400),
        "reason": "price",
    },  # outside the window
]
REMINDERS = pa.table(
    {
        "customer_id": ["REM", "REM", "REMF"],
        "vin": ["V1", "V2", "V3"],
        "due_date": [ago(95), ago(-30), ago(-100)],
    }
)
TIERS = pa.table(
    {
        "customer_id": [
            "LAP_P",
            "LAP_D",
            "LAP_X",
            "CMPRES",
            "LAP_S",
            "A120",
            "NPS95",
            "CAP",
            "INT2",
            "A90",
        ],
        "tier": ["lapsed"] * 5 + ["regular", "gold", "silver", "regular", "regular"],
    }
)
FLAGS = pa.table({"customer_id": ["LAP_S"], "needs_trade_in_conversation": [True]})


@pytest.fixture(scope="module")
def churn_results(backend):
    t = load_tables(
        backend,
        {
            "orders": make_table("service_orders", ORDERS),
            "vehicles": make_table("vehicles", VEHICLES),
            "customers": make_table("customers", CUSTOMERS),
            "interactions": make_table("interactions", INTERACTIONS),
            "declined": make_table("declined_services", DECLINED),
            "reminders": REMINDERS,
            "tiers": TIERS,
            "flags": FLAGS,
        },
    )
    orders = resolved_orders(t["orders"], t["vehicles"])
    signals = churn_signals(
        t["interactions"], t["declined"], as_of=AS_OF, config=CONFIG, vehicles=t["vehicles"]
    )
    risk = churn_risk(orders, t["customers"], t["reminders"], signals, as_of=AS_OF, config=CONFIG)
    reasons = churn_reason(risk, t["tiers"], t["customers"], signals, vehicle_flags=t["flags"])
    return {
        "risk": {r["customer_id"]: r for r in risk.to_pyarrow().to_pylist()},
        "reason": {r["customer_id"]: r for r in reasons.to_pyarrow().to_pylist()},
    }


def test_r_churn_risk_levels_at_89_90_119_120_days(churn_results):
    risk = churn_results["risk"]
    got = {c: (risk[c]["risk_level"], risk[c]["reasons"]) for c in ("A89", "A90", "A119", "A120")}
    assert got == {
        "A89": ("low", None),  # its old complaint is outside the window
        "A90": ("medium", "absent_90d"),
        "A119": ("medium", "absent_119d"),
        "A120": ("high", "absent_120d"),
    }
    assert risk["A90"]["days_absent"] == 90 and risk["A90"]["days_overdue"] is None
    assert len(risk) == len(IDS)  # grain: every customer
    assert risk["NEVER"]["risk_level"] == "low" and risk["NEVER"]["days_absent"] is None


def test_r_churn_risk_raised_by_low_nps_or_unresolved_complaint(churn_results):
    risk = churn_results["risk"]
    assert (risk["NPS95"]["risk_level"], risk["NPS95"]["reasons"]) == ("high", "absent_95d;low_nps")
    assert risk["NPSOLD"]["risk_level"] == "medium"  # latest survey 9: no raise
    assert risk["NPSOLD"]["has_low_nps"] is False
    assert (risk["CMP30"]["risk_level"], risk["CMP30"]["reasons"]) == (
        "medium",
        "unresolved_complaint",
    )
    assert risk["CMPRES"]["risk_level"] == "low"  # the complaint was resolved
    assert (risk["CAP"]["risk_level"], risk["CAP"]["reasons"]) == ("high", "absent_125d;low_nps")


def test_r_churn_risk_nps_boundary_6_low_7_not(churn_results):
    risk = churn_results["risk"]
    # Both 95 days absent (medium); an NPS of 6 raises to high, 7 does not.
    assert (risk["NPS6"]["risk_level"], risk["NPS6"]["reasons"]) == ("high", "absent_95d;low_nps")
    assert risk["NPS6"]["has_low_nps"] is True
    assert (risk["NPS7"]["risk_level"], risk["NPS7"]["reasons"]) == ("medium", "absent_95d")
    assert risk["NPS7"]["has_low_nps"] is False


def test_r_churn_risk_low_nps_and_complaint_raise_one_level_only(churn_results):
    # 30 days absent → low; a low NPS and an unresolved complaint together raise it by one.
    both = churn_results["risk"]["BOTH"]
    assert (both["has_low_nps"], both["has_unresolved_complaint"]) == (True, True)
    assert (both["risk_level"], both["reasons"]) == ("medium", "low_nps;unresolved_complaint")


def test_r_churn_risk_against_own_interval_and_expected_service(churn_results):
    risk = churn_results["risk"]
    assert risk["INT"]["usual_interval_days"] == pytest.approx(100.0)
    assert (risk["INT"]["days_overdue"], risk["INT"]["risk_level"]) == (50, "low")
    assert (risk["INT2"]["risk_level"], risk["INT2"]["reasons"]) == ("high", "overdue_340d")
    # REM came 10 days ago, but one car's service was due 95 days ago (earliest reminder).
    assert risk["REM"]["next_service_due_date"] == ago(95)
    assert (risk["REM"]["risk_level"], risk["REM"]["reasons"]) == ("medium", "overdue_95d")
    # REMF has been away 200 days but is not due for another 100: not at risk.
    assert (risk["REMF"]["days_overdue"], risk["REMF"]["risk_level"]) == (-100, "low")


def test_r_churn_reason_precedence(churn_results):
    reason = churn_results["reason"]
    # Lapsed tier or high risk; medium A90 is not a churn case.
    assert set(reason) == {
        "LAP_P",
        "LAP_D",
        "LAP_X",
        "CMPRES",
        "LAP_S",
        "A120",
        "NPS95",
        "CAP",
        "INT2",
        "NPS6",
    }
    got = {c: (r["churn_reason"], r["reason_evidence"]) for c, r in reason.items()}
    assert got == {
        "LAP_P": ("price", "price_sensitivity_high"),
        "LAP_D": ("price", "declined_price"),  # the quote found through its VIN
        "LAP_X": ("passive", None),  # declined for time; the price decline is too old
        "CMPRES": ("experience", "complaint"),
        "LAP_S": ("passive", None),
        "A120": ("price", "competitor_visit"),
        "NPS95": ("experience", "low_nps"),
        "CAP": ("experience", "low_nps;price_sensitivity_high"),
        "INT2": ("passive", None),
        "NPS6": ("experience", "low_nps"),
    }
    assert reason["LAP_S"]["conversation"] == "trade_in"  # R-VEHICLE-SOLD
    assert reason["LAP_X"]["conversation"] == "winback"
    assert (reason["NPS95"]["tier"], reason["NPS95"]["risk_level"]) == ("gold", "high")
