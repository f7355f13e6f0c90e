"""The demo population scores like the seed says a centre does (R-TIER, R-VAL-LTV, seed 000).

The scorer here is the test's own: a few lines of DuckDB SQL written from SPEC §2, not the
product's pipeline, so the demo is calibrated against the rules and not against their code.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from aftercare.demo.generate import generate

AS_OF = dt.date(2025, 6, 30)
SEED_MIX = {"platinum": 0.05, "gold": 0.15, "silver": 0.30, "regular": 0.40, "lapsed": 0.10}

SCORER = """
WITH o AS (
    SELECT coalesce(o.customer_id, v.customer_id) AS customer_id, o.vin, o.open_date,
           o.total_amount, o.cost_amount, o.payer
    FROM service_orders o LEFT JOIN vehicles v ON o.vin = v.vin
    WHERE o.open_date <= $as_of
),
visits AS (
    SELECT DISTINCT customer_id, vin, open_date FROM o
    WHERE total_amount >= 0 AND customer_id IS NOT NULL
),
win AS (SELECT * FROM o WHERE open_date >= $as_of - INTERVAL 365 DAY),
r AS (SELECT customer_id, date_diff('day', max(open_date), $as_of) AS days
      FROM visits GROUP BY 1),
f AS (SELECT customer_id, count(*) AS n FROM visits
      WHERE open_date >= $as_of - INTERVAL 365 DAY GROUP BY 1),
m AS (SELECT customer_id, sum(total_amount) AS spend,
             sum(total_amount - cost_amount) AS profit
      FROM win WHERE payer IN ('customer', 'insurance') GROUP BY 1),
ev AS (SELECT customer_id,
              max(type = 'referral')::int + max(type = 'brand_event')::int
              - max(type = 'complaint')::int - max(type = 'competitor_visit')::int AS pts
       FROM interactions
       WHERE ts::date BETWEEN $as_of - INTERVAL 365 DAY AND $as_of GROUP BY 1),
ew AS (SELECT DISTINCT customer_id, 1 AS pts FROM vehicles
       WHERE extended_warranty_end >= $as_of),
scored AS (
    SELECT c.customer_id,
           CASE WHEN r.days <= 30 THEN 5 WHEN r.days <= 90 THEN 4 WHEN r.days <= 180 THEN 3
                WHEN r.days <= 365 THEN 2 ELSE 1 END
         + CASE WHEN f.n >= 6 THEN 5 WHEN f.n >= 4 THEN 4 WHEN f.n >= 2 THEN 3
                WHEN f.n >= 1 THEN 2 ELSE 1 END
         + CASE WHEN m.spend >= 10000 THEN 5 WHEN m.spend >= 5000 THEN 4
                WHEN m.spend >= 2000 THEN 3 WHEN m.spend >= 1000 THEN 2 ELSE 1 END
         + coalesce(ev.pts, 0) + coalesce(ew.pts, 0) AS total,
           coalesce(m.spend, 0) AS spend, coalesce(m.profit, 0) AS profit
    FROM customers c
    LEFT JOIN r USING (customer_id) LEFT JOIN f USING (customer_id)
    LEFT JOIN m USING (customer_id) LEFT JOIN ev USING (customer_id)
    LEFT JOIN ew USING (customer_id)
)
SELECT CASE WHEN total >= 16 THEN 'platinum' WHEN total >= 12 THEN 'gold'
            WHEN total >= 8 THEN 'silver' WHEN total >= 4 THEN 'regular' ELSE 'lapsed' END AS tier,
       count(*) AS customers, count(*) / sum(count(*)) OVER () AS share,
       avg(spend) AS spend, sum(profit) / nullif(sum(spend), 0) AS margin
FROM scored GROUP BY 1
"""


def score_tiers(tables: dict, as_of: dt.date) -> dict[str, dict[str, float]]:
    """Tier -> {customers, share, spend, margin} by the test's own RFM+L scorer."""
    con = duckdb.connect()
    for name in ("customers", "vehicles", "service_orders", "interactions"):
        con.register(name, tables[name])
    rows = con.execute(SCORER, {"as_of": as_of}).fetchall()
    return {t: {"customers": n, "share": s, "spend": sp, "margin": mg} for t, n, s, sp, mg in rows}


@pytest.fixture(scope="module")
def tiers() -> dict[str, dict[str, float]]:
    data = generate(20_000, seed=7, as_of=AS_OF)
    return score_tiers(data.tables, AS_OF)


@pytest.mark.parametrize("tier", list(SEED_MIX))
def test_tier_mix_near_seed_R_TIER(tiers, tier):
    assert tiers[tier]["share"] == pytest.approx(SEED_MIX[tier], abs=0.03)


def test_platinum_spend_and_margin_near_seed_R_VAL_LTV(tiers):
    # Seed 000: platinum ≈ 15000 CNY a year at 55 % gross margin.
    assert tiers["platinum"]["spend"] == pytest.approx(15000, rel=0.15)
    assert tiers["platinum"]["margin"] == pytest.approx(0.55, abs=0.03)


def test_regular_spend_and_margin_near_seed_R_VAL_LTV(tiers):
    # Seed 000: regular ≈ 800 CNY a year at 35 % gross margin.
    assert tiers["regular"]["spend"] == pytest.approx(800, rel=0.25)
    assert tiers["regular"]["margin"] == pytest.approx(0.35, abs=0.04)
