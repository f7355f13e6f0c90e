"""Dated result snapshots Aftercare stores (R-TIER-HIST).

Grain of each:
- ``customer_scores``: one row per customer per as-of date (RFM+L scores, the effective
  ``tier`` and the scorecard's ``scored_tier`` (R-TIER-HOLD: a downgrade is held), the previous
  snapshot's effective tier and the move since). One as-of date is replaced as a whole; others
  are kept. A store made before R-TIER-HOLD gains ``scored_tier`` empty; its rows are read as
  ``scored_tier = tier`` (:func:`aftercare.services.scoring.snapshot`).
"""

from __future__ import annotations

import ibis

from aftercare.schema.canonical import MONEY_SCALE

#: Snapshots sum orders, so their money is wider than one order's DECIMAL(14, 2).
SNAPSHOT_MONEY = f"decimal(18, {MONEY_SCALE})"

CUSTOMER_SCORES = ibis.schema(
    {
        "as_of_date": "date",
        "customer_id": "string",
        "last_visit_date": "date",
        "recency_days": "int64",
        "frequency": "int64",
        "monetary": SNAPSHOT_MONEY,
        "r_score": "int64",
        "f_score": "int64",
        "m_score": "int64",
        "l_extended_warranty": "int64",
        "l_referral": "int64",
        "l_brand_event": "int64",
        "l_complaint": "int64",
        "l_competitor_visit": "int64",
        "l_points": "int64",
        "total_score": "int64",
        "tier": "string",  # the effective tier (R-TIER-HOLD): what alerts, rules and reports use
        "scored_tier": "string",  # the scorecard's tier of this date (R-TIER)
        "previous_tier": "string",
        "move": "string",
    }
)

SNAPSHOT_TABLES: dict[str, ibis.Schema] = {"customer_scores": CUSTOMER_SCORES}
