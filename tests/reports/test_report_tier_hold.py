"""The report reads the effective tier (R-TIER-HOLD, issue 10) on the hand-made centre.

``report_store.py`` gives each customer's scorecard tier at P (2024-03-31) and A (2024-06-30).
With the default hold (2 snapshots), a downgrade at A is held (P is the only snapshot before
it), an upgrade is not:

- C1 gold → platinum: up at once → platinum;
- C2 regular → scored lapsed: held → regular;
- C3 lapsed → silver: up → silver; C4 new at A → its scored silver;
- C5 gold → scored silver: held → gold; C6 silver → scored regular: held → silver;
- C7 lapsed → lapsed.
"""

from __future__ import annotations

from report_store import A, P, fill_store

from aftercare.config import DEFAULT_CONFIG
from aftercare.services.report import build_report
from aftercare.services.scoring import snapshot


def test_r_tier_hold_report_uses_the_effective_tier(store_url):
    store = fill_store(store_url)
    try:
        build_report(store, P, DEFAULT_CONFIG)
        report = build_report(store, A, DEFAULT_CONFIG)
        rows = snapshot(store, A).to_pyarrow().to_pylist()
    finally:
        store.close()
    assert {r["customer_id"]: (r["tier"], r["scored_tier"]) for r in rows} == {
        "C1": ("platinum", "platinum"),
        "C2": ("regular", "lapsed"),
        "C3": ("silver", "silver"),
        "C4": ("silver", "silver"),
        "C5": ("gold", "silver"),
        "C6": ("silver", "regular"),
        "C7": ("lapsed", "lapsed"),
    }
    assert report.tier_counts == {"platinum": 1, "gold": 1, "silver": 3, "regular": 1, "lapsed": 1}
    cells = {(r["from_tier"], r["to_tier"]): r["customers"] for r in report.migration}
    assert cells == {
        ("gold", "platinum"): 1,  # C1
        ("regular", "regular"): 1,  # C2, held
        ("lapsed", "silver"): 1,  # C3
        (None, "silver"): 1,  # C4
        ("gold", "gold"): 1,  # C5, held
        ("silver", "silver"): 1,  # C6, held
        ("lapsed", "lapsed"): 1,  # C7
    }
