"""A seven-customer service centre whose every report number is computed by hand.

As of A = 2024-06-30 with a previous snapshot P = 2024-03-31 (scoring window 365 days, SPEC
defaults). Each customer's comment gives its R+F+M+L total (R-SCORE-*), tier at P and at A,
lifecycle stage, value, churn risk and reminder. The tests in this folder assert the sums.
"""

from __future__ import annotations

import datetime as dt

from aftercare.store import Store, open_store
from factories import make_table

P = dt.date(2024, 3, 31)
A = dt.date(2024, 6, 30)

V1, V2, V3, V4, V5, V6 = (f"LSVAA4182E200000{i}" for i in range(1, 7))

CUSTOMERS = [
    # C1 at A: R 10 d → 5, F 6 → 5, M 12000 → 5, L +1 (extended warranty) = 16 platinum;
    #    at P: R 21 d → 5, F 3 → 3, M 6000 → 4, L +1 = 13 gold. Value: gross 6000 − (6 × 120
    #    + 2500 platinum benefit) = net 2780. Stage growth (P and A). Churn low.
    {"customer_id": "C1"},
    # C2 at A: R 426 d → 1, F 0 → 1, M 0 → 1 = 3 lapsed; at P: R 335 → 2, F 1 → 2, M 800 → 1
    #    = 5 regular. Net 0. Stage new at P (11 months), activation at A (14). Reminder due
    #    2024-05-01: overdue 60 d → churn low; lapsed → reason passive.
    {"customer_id": "C2"},
    # C3 at A: R 29 → 5, F 2 → 3, M 1200 → 2, L −1 (complaint) = 9 silver; at P never → 3
    #    lapsed. Net 500 − (2 × 120 + 300 complaint + 200 silver) = −240 (loss-making). Decline.
    #    Unresolved complaint raises low → medium. Reminder by mileage (400 km/day): 2024-07-21.
    {"customer_id": "C3"},
    # C4 at A: R 86 → 4, F 1 → 2, M 3000 → 3 = 9 silver; at P → 3 lapsed. Net 1500 − 320 =
    #    1180. Stage new. First service due 2024-07-05 (week 1). New customer in the CRR period.
    {"customer_id": "C4"},
    # C5 at A: R 162 → 3, F 3 → 3, M 7500 → 4 = 10 silver; at P: R 71 → 4, F 4 → 4, M 10000
    #    → 5 = 13 gold. Net 3750 − 560 = 3190. Growth at P, mature at A. 162 d absent − 71.33 d
    #    usual interval = 90 d overdue → medium, low NPS → high; reason experience.
    {"customer_id": "C5"},
    # C6 at A: R 177 → 3, F 1 → 2, M 1500 → 2 = 7 regular; at P: R 86 → 4 → 8 silver. Net
    #    600 − 120 = 480. Stage new. First service due 2023-12-01: 212 d overdue → high;
    #    price_sensitivity high → reason price.
    {"customer_id": "C6", "price_sensitivity": "high"},
    # C7: nothing at all: 3 lapsed at P and A, net 0, no stage, churn low, reason passive.
    {"customer_id": "C7"},
]

VEHICLES = [
    {"vin": V1, "customer_id": "C1", "delivery_date": "2020-01-01",
     "extended_warranty_end": "2026-01-01"},
    {"vin": V2, "customer_id": "C2", "delivery_date": "2023-04-20"},
    {"vin": V3, "customer_id": "C3", "delivery_date": "2015-03-01"},
    {"vin": V4, "customer_id": "C4", "delivery_date": "2024-04-05"},
    {"vin": V5, "customer_id": "C5", "delivery_date": "2019-05-10"},
    {"vin": V6, "customer_id": "C6", "delivery_date": "2023-09-01"},
]  # fmt: skip


def _order(oid: str, vin: str, day: str, category: str, total: int, cost: int, **kw) -> dict:
    return {
        "order_id": oid,
        "vin": vin,
        "open_date": day,
        "category": category,
        "payer": "customer",
        "total_amount": total,
        "cost_amount": cost,
        **kw,
    }


ORDERS = [
    *[
        _order(f"R1-{m}", V1, day, "maintenance", 2000, 1000)
        for m, day in enumerate(
            ["2024-01-10", "2024-02-10", "2024-03-10", "2024-04-10", "2024-05-10", "2024-06-20"]
        )
    ],
    _order("R2-1", V2, "2023-05-01", "maintenance", 800, 520),
    _order("R3-1", V3, "2024-04-15", "repair", 500, 300, odometer_km=100000),
    _order("R3-2", V3, "2024-06-01", "maintenance", 700, 400, odometer_km=118800),
    _order("R4-1", V4, "2024-04-05", "value_added", 3000, 1500),
    *[
        _order(f"R5-{i}", V5, day, category, 2500, 1250)
        for i, (day, category) in enumerate(
            [
                ("2023-06-20", "repair"),
                ("2023-10-01", "repair"),
                ("2023-12-01", "repair"),
                ("2024-01-20", "maintenance"),
            ]
        )
    ],
    _order("R6-1", V6, "2024-01-05", "repair", 1500, 900),
]

INTERACTIONS = [
    {"interaction_id": "I1", "customer_id": "C3", "ts": "2024-06-05T10:00:00",
     "type": "complaint", "resolved": False},
    {"interaction_id": "I2", "customer_id": "C5", "ts": "2024-05-01T10:00:00",
     "type": "nps_survey", "score": 4},
]  # fmt: skip


def fill_store(url: str) -> Store:
    """Open a new store at ``url`` and load the hand-made centre into it."""
    store = open_store(url)
    for name, rows in (
        ("customers", CUSTOMERS),
        ("vehicles", VEHICLES),
        ("service_orders", ORDERS),
        ("interactions", INTERACTIONS),
    ):
        store.con.insert(name, make_table(name, rows))
    return store


def build_reports(folder) -> tuple:
    """Reports at P and at A on a DuckDB store in ``folder`` (P first: A has a previous)."""
    from aftercare.config import DEFAULT_CONFIG
    from aftercare.services.report import build_report

    store = fill_store(str(folder / "hand.duckdb"))
    try:
        return build_report(store, P, DEFAULT_CONFIG), build_report(store, A, DEFAULT_CONFIG)
    finally:
        store.close()
