-- The engine's floor for `aftercare score` on PostgreSQL (issue 11): score_floor.sql's work
-- written by hand for PostgreSQL over the same store, with SPEC's default scorecard.
--
-- RFM+L per customer existing on the as-of date (R-TIER-HIST population: created_at on or
-- before it, else the first order / delivery / interaction on or before it, else none at
-- all), orders resolved to their vehicle's owner when they carry no customer (R-IN-6):
-- recency over all history, frequency = distinct (customer, vehicle, day) visits in the
-- 365-day window (refunds are not visits, R-IN-4), spend of customer- and insurance-paid
-- orders in the window (R-IN-5), loyalty signals counted once (R-SCORE-L); points and tier
-- (R-TIER); the effective tier with the downgrade hold of two snapshots (R-TIER-HOLD), the
-- previous tier and move (R-TIER-HIST); written as the as-of date's snapshot rows of
-- customer_scores in one transaction; then the tier mix. {as_of} is the as-of date
-- (YYYY-MM-DD); the previous snapshot is the latest stored before it.
--
-- PostgreSQL idiom rather than a line-by-line copy: the orders are read once and aggregated
-- per customer in one pass (FILTER clauses), the visits deduplicated by a hash aggregate
-- before they are counted (count(DISTINCT …) would sort every order), and the whole snapshot
-- is one INSERT … SELECT (no temporary tables to write and analyse).
BEGIN;

DELETE FROM customer_scores WHERE as_of_date = DATE '{as_of}';

INSERT INTO customer_scores (
    as_of_date, customer_id, last_visit_date, recency_days, frequency, monetary, r_score,
    f_score, m_score, l_extended_warranty, l_referral, l_brand_event, l_complaint,
    l_competitor_visit, l_points, total_score, tier, scored_tier, previous_tier, move
)
WITH orders AS (
    SELECT coalesce(o.customer_id, v.customer_id) AS customer_id, o.vin, o.open_date,
           o.total_amount, o.payer
    FROM service_orders o LEFT JOIN vehicles v ON o.vin = v.vin
    WHERE o.open_date <= DATE '{as_of}'
),
undated AS (
    SELECT customer_id FROM customers WHERE customer_id IS NOT NULL AND created_at IS NULL
),
events(customer_id, d) AS (
    SELECT coalesce(o.customer_id, v.customer_id), min(o.open_date)
    FROM service_orders o LEFT JOIN vehicles v ON o.vin = v.vin
    WHERE coalesce(o.customer_id, v.customer_id) IN (SELECT customer_id FROM undated)
    GROUP BY 1
    UNION ALL
    SELECT customer_id, min(delivery_date) FROM vehicles
    WHERE customer_id IN (SELECT customer_id FROM undated) GROUP BY 1
    UNION ALL
    SELECT customer_id, min(CAST(ts AS DATE)) FROM interactions
    WHERE customer_id IN (SELECT customer_id FROM undated) GROUP BY 1
),
first_event AS (SELECT customer_id, min(d) AS d FROM events GROUP BY 1),
population AS (
    SELECT customer_id FROM customers
    WHERE customer_id IS NOT NULL AND created_at <= DATE '{as_of}'
    UNION ALL
    SELECT u.customer_id FROM undated u LEFT JOIN first_event f USING (customer_id)
    WHERE f.d IS NULL OR f.d <= DATE '{as_of}'
),
per_customer AS (
    SELECT customer_id,
           max(open_date) FILTER (WHERE total_amount >= 0) AS last_visit_date,
           CAST(sum(total_amount) FILTER (
               WHERE payer IN ('customer', 'insurance') AND open_date >= DATE '{as_of}' - 365
           ) AS NUMERIC(18, 2)) AS monetary
    FROM orders WHERE customer_id IS NOT NULL GROUP BY 1
),
visits AS (
    SELECT customer_id FROM orders
    WHERE customer_id IS NOT NULL AND total_amount >= 0 AND open_date >= DATE '{as_of}' - 365
    GROUP BY customer_id, vin, open_date
),
frequency AS (SELECT customer_id, count(*) AS frequency FROM visits GROUP BY 1),
warranty AS (
    SELECT DISTINCT customer_id FROM vehicles
    WHERE customer_id IS NOT NULL AND extended_warranty_end >= DATE '{as_of}'
      AND delivery_date <= DATE '{as_of}' AND coalesce(status, 'active') = 'active'
),
signals AS (
    SELECT customer_id,
           bool_or(type = 'referral') AS referral, bool_or(type = 'brand_event') AS brand_event,
           bool_or(type = 'complaint') AS complaint,
           bool_or(type = 'competitor_visit') AS competitor_visit
    FROM interactions
    WHERE customer_id IS NOT NULL
      AND type IN ('referral', 'brand_event', 'complaint', 'competitor_visit')
      AND ts < DATE '{as_of}' + 1 AND ts >= DATE '{as_of}' - 365
    GROUP BY 1
),
base AS (
    SELECT p.customer_id, c.last_visit_date,
           DATE '{as_of}' - c.last_visit_date AS recency_days,
           coalesce(f.frequency, 0) AS frequency,
           coalesce(c.monetary, CAST(0 AS NUMERIC(18, 2))) AS monetary,
           CASE WHEN w.customer_id IS NULL THEN 0 ELSE 1 END AS l_extended_warranty,
           CASE WHEN g.referral THEN 1 ELSE 0 END AS l_referral,
           CASE WHEN g.brand_event THEN 1 ELSE 0 END AS l_brand_event,
           CASE WHEN g.complaint THEN -1 ELSE 0 END AS l_complaint,
           CASE WHEN g.competitor_visit THEN -1 ELSE 0 END AS l_competitor_visit
    FROM population p
    LEFT JOIN per_customer c USING (customer_id) LEFT JOIN frequency f USING (customer_id)
    LEFT JOIN warranty w USING (customer_id) LEFT JOIN signals g USING (customer_id)
),
points AS (
    SELECT *,
           CASE WHEN recency_days <= 30 THEN 5 WHEN recency_days <= 90 THEN 4
                WHEN recency_days <= 180 THEN 3 WHEN recency_days <= 365 THEN 2
                ELSE 1 END AS r_score,
           CASE WHEN frequency >= 6 THEN 5 WHEN frequency >= 4 THEN 4
                WHEN frequency >= 2 THEN 3 WHEN frequency >= 1 THEN 2 ELSE 1 END AS f_score,
           CASE WHEN monetary >= 10000 THEN 5 WHEN monetary >= 5000 THEN 4
                WHEN monetary >= 2000 THEN 3 WHEN monetary >= 1000 THEN 2 ELSE 1 END AS m_score,
           l_extended_warranty + l_referral + l_brand_event + l_complaint
               + l_competitor_visit AS l_points
    FROM base
),
scored AS (
    SELECT *, r_score + f_score + m_score + l_points AS total_score,
           CASE WHEN r_score + f_score + m_score + l_points >= 16 THEN 0
                WHEN r_score + f_score + m_score + l_points >= 12 THEN 1
                WHEN r_score + f_score + m_score + l_points >= 8 THEN 2
                WHEN r_score + f_score + m_score + l_points >= 4 THEN 3 ELSE 4 END AS scored_rank
    FROM points
),
tiers(rank, tier) AS (
    VALUES (0, 'platinum'), (1, 'gold'), (2, 'silver'), (3, 'regular'), (4, 'lapsed')
),
previous AS (
    SELECT s.customer_id, e.rank AS e_rank, h.rank AS h_rank
    FROM customer_scores s
    JOIN tiers e ON e.tier = s.tier
    JOIN tiers h ON h.tier = coalesce(s.scored_tier, s.tier)
    WHERE s.as_of_date = (SELECT max(as_of_date) FROM customer_scores
                          WHERE as_of_date < DATE '{as_of}')
),
held AS (
    SELECT c.*, p.e_rank,
           CASE WHEN p.e_rank IS NULL THEN c.scored_rank
                WHEN c.scored_rank <= p.e_rank THEN c.scored_rank
                WHEN p.h_rank > p.e_rank THEN least(c.scored_rank, p.h_rank)
                ELSE p.e_rank END AS effective_rank
    FROM scored c LEFT JOIN previous p USING (customer_id)
)
SELECT DATE '{as_of}', customer_id, last_visit_date, recency_days, frequency, monetary,
       r_score, f_score, m_score, l_extended_warranty, l_referral, l_brand_event, l_complaint,
       l_competitor_visit, l_points, total_score, t.tier, st.tier, pt.tier,
       CASE WHEN e_rank IS NULL THEN 'new' WHEN effective_rank < e_rank THEN 'up'
            WHEN effective_rank > e_rank THEN 'down' ELSE 'same' END
FROM held
JOIN tiers t ON t.rank = effective_rank
JOIN tiers st ON st.rank = scored_rank
LEFT JOIN tiers pt ON pt.rank = e_rank;

COMMIT;

SELECT tier, count(*) AS customers FROM customer_scores
WHERE as_of_date = DATE '{as_of}' GROUP BY tier ORDER BY tier;
