"""Segmentation beyond RFM+L: RFM quintiles and the profit pyramid (SPEC §8).

Ibis only, ``Table -> Table``; nothing here connects or executes. K-means lives in
:mod:`aftercare.models.kmeans` (it needs the data in memory); the validation of any scheme
(R-SEG-VALID) in :mod:`aftercare.models.validation`.

Input: the per-customer **feature table** (:func:`segment_features`): ``customer_id``,
``recency_days`` (NULL = never visited), ``frequency``, ``monetary``, ``net_profit``.

Positions without a window over all customers
---------------------------------------------
Both schemes need each customer's position in the customer base. A window over all customers
runs on one Spark partition. Here positions come from the table of *distinct values* of the
metric (one row per value, so the value is a unique, deterministic ordering key on every
engine): a running count over the distinct values gives, per value, how many customers have a
strictly worse (quintiles) or strictly better (pyramid) value, and is joined back to the
customers. That running count is still one unpartitioned window, but over distinct values
only — tens of rows for frequency, hundreds to a few thousand for recency days, at most one per
customer for money (amounts repeat, so far fewer in practice). Spark puts it on one partition,
which is fine for customer-level data up to a few million customers.

Tie handling
------------
- ``rfm-quintile``: tied customers share a score. score = 1 + floor(5 · worse / n), where
  worse = customers with a strictly worse value and n = all customers (exact integer
  arithmetic). Without ties this is the equal-count quintile (n = 10: two customers per
  score). A tie never splits: if 60 % of customers have no visit they all get F = 1 and the next
  value gets F = 4 (F 2 and 3 stay empty) — an honest picture instead of scoring identical
  customers differently by their id. NULL recency (never visited) is the worst recency:
  R = 1. R: fewer days since the last visit = better; F, M: higher = better.
- ``pyramid``: the levels are exact shares of customers, so ties in net profit are broken by
  ``customer_id`` ascending (the smaller id ranks higher; string order is byte order on DuckDB,
  Spark and PostgreSQL with the C collation — a linguistic collation can only move tied
  customers across a level boundary). NULL net profit ranks last. A customer of rank r
  (1 = highest net profit) of n belongs to the first level whose cumulative share c has
  r ≤ ceil(n · c).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import ibis
import ibis.expr.types as ir

from aftercare.config import Config, SegmentationConfig

#: The number of equal-count groups of the ``rfm-quintile`` scheme (its definition).
QUANTILES = 5


@dataclass(frozen=True)
class RfmRule:
    """A named RFM segment: every quintile score within its inclusive ``(low, high)`` ranges."""

    name: str
    r: tuple[int, int]
    f: tuple[int, int]
    m: tuple[int, int]


#: Coarse named RFM segments, checked in order, first match wins; unmatched customers are
#: :data:`RFM_FALLBACK_SEGMENT`.
#: - champions: recent, frequent and high-spending (R, F, M all 4–5);
#: - loyal: frequent and not lapsing (F 4–5, R 3–5), any spend;
#: - new: recent but few visits yet (R 4–5, F 1–2);
#: - at_risk: used to come often, not seen lately (R 1–2, F 3–5);
#: - hibernating: neither recent nor frequent (R 1–2, F 1–2).
#: CONFIG: a module constant until ``SegmentationConfig`` has a ``rfm_rules`` field.
RFM_SEGMENT_RULES: tuple[RfmRule, ...] = (
    RfmRule("champions", r=(4, 5), f=(4, 5), m=(4, 5)),
    RfmRule("loyal", r=(3, 5), f=(4, 5), m=(1, 5)),
    RfmRule("new", r=(4, 5), f=(1, 2), m=(1, 5)),
    RfmRule("at_risk", r=(1, 2), f=(3, 5), m=(1, 5)),
    RfmRule("hibernating", r=(1, 2), f=(1, 2), m=(1, 5)),
)
RFM_FALLBACK_SEGMENT = "needs_attention"

#: Level names of a five-level pyramid, best first; the share in percent is appended.
PYRAMID_POSITIONS = ("top", "next", "middle", "lower", "bottom")

FEATURE_COLUMNS = ("customer_id", "recency_days", "frequency", "monetary", "net_profit")


def _segmentation(config: Config | SegmentationConfig) -> SegmentationConfig:
    return config.segmentation if isinstance(config, Config) else config


def segment_features(scores: ir.Table, customer_value: ir.Table) -> ir.Table:
    """The per-customer feature table every segmentation scheme takes (SPEC §8).

    Grain: one row per customer of ``scores`` (one snapshot, one as-of date).

    Parameters
    ----------
    scores
        One snapshot of RFM+L scores with ``customer_id``, ``recency_days`` (NULL = never),
        ``frequency`` and ``monetary``.
    customer_value
        Per-customer value with ``customer_id`` and ``net_profit`` (R-VAL-PROFIT) of the
        same as-of date.

    Returns
    -------
    ir.Table
        :data:`FEATURE_COLUMNS`; ``net_profit`` is NULL for a customer absent from
        ``customer_value``.
    """
    value = customer_value.select("customer_id", "net_profit")
    joined = scores.select("customer_id", "recency_days", "frequency", "monetary").left_join(
        value, "customer_id"
    )
    return joined.select(*FEATURE_COLUMNS)


def _quantile_scores(values: ir.Table, *, quantiles: int) -> ir.Table:
    """Score 1…``quantiles`` of each customer by ``key`` (higher = better, NULL = worst).

    Grain: one row per row of ``values`` (``customer_id``, ``key``). See the module docstring
    for the formula and ties.
    """
    known = values.filter(values.key.notnull())
    distinct = known.group_by("key").aggregate(at_value=known.count())
    # Window over the distinct values (unique key), not over customers.
    running = ibis.window(order_by="key", rows=(None, 0))
    distinct = distinct.mutate(
        worse_known=(distinct.at_value.sum().over(running) - distinct.at_value).cast("int64")
    )
    totals = values.aggregate(
        customers=values.count(), unknown=values.count(where=values.key.isnull())
    )
    joined = values.left_join(distinct, "key").cross_join(totals)
    worse = ibis.cases(
        (joined.key.isnull(), ibis.literal(0, type="int64")),
        else_=joined.unknown.cast("int64") + joined.worse_known,
    )
    score = 1 + (worse * quantiles) // joined.customers.cast("int64")
    return joined.select(customer_id=joined.customer_id, score=score.cast("int64"))


def _within(score: ir.IntegerValue, bounds: tuple[int, int]) -> ir.BooleanValue:
    return (score >= bounds[0]) & (score <= bounds[1])


def rfm_segment_name(
    r: ir.IntegerValue,
    f: ir.IntegerValue,
    m: ir.IntegerValue,
    rules: tuple[RfmRule, ...] = RFM_SEGMENT_RULES,
) -> ir.StringValue:
    """The coarse named segment of quintile scores: first matching rule, else the fallback."""
    return ibis.cases(
        *[
            (_within(r, rule.r) & _within(f, rule.f) & _within(m, rule.m), rule.name)
            for rule in rules
        ],
        else_=RFM_FALLBACK_SEGMENT,
    )


def rfm_quintiles(
    features: ir.Table, *, rules: tuple[RfmRule, ...] = RFM_SEGMENT_RULES
) -> ir.Table:
    """RFM quintile scores, cell label and named segment of every customer (SPEC §8).

    Grain: one row per customer of ``features``.

    R, F and M are each scored 1–5 by quintile of the customer base, ties sharing a score and
    never visited = R 1 (module docstring). ``rfm_cell`` reads like ``R5F4M3``; ``segment``
    is the first of ``rules`` the scores fall in, else ``needs_attention``.

    Parameters
    ----------
    features
        The feature table (:func:`segment_features`).
    rules
        Named segments, in priority order.

    Returns
    -------
    ir.Table
        customer_id, scheme (``rfm-quintile``), r_quintile, f_quintile, m_quintile, rfm_cell,
        segment.
    """
    by_key = {
        # Fewer days since the last visit is better; NULL (never) stays NULL = worst.
        "r": -features.recency_days,
        "f": features.frequency,
        "m": features.monetary,
    }
    out = features.select("customer_id")
    for name, key in by_key.items():
        scored = _quantile_scores(
            features.select(customer_id=features.customer_id, key=key), quantiles=QUANTILES
        )
        out = out.inner_join(scored.rename({f"{name}_quintile": "score"}), "customer_id")
    cell = (
        ibis.literal("R")
        + out.r_quintile.cast("string")
        + ibis.literal("F")
        + out.f_quintile.cast("string")
        + ibis.literal("M")
        + out.m_quintile.cast("string")
    )
    return out.select(
        customer_id=out.customer_id,
        scheme=ibis.literal("rfm-quintile"),
        r_quintile=out.r_quintile,
        f_quintile=out.f_quintile,
        m_quintile=out.m_quintile,
        rfm_cell=cell,
        segment=rfm_segment_name(out.r_quintile, out.f_quintile, out.m_quintile, rules),
    )


def _cumulative_fractions(shares: tuple[float, ...]) -> list[Fraction]:
    """Exact cumulative shares; they must be positive and sum to exactly 1."""
    fractions = [Fraction(str(s)) for s in shares]
    if not fractions or any(f <= 0 for f in fractions) or sum(fractions) != 1:
        raise ValueError(f"pyramid_shares must be positive and sum to 1, got {list(shares)}")
    cumulative, running = [], Fraction(0)
    for f in fractions:
        running += f
        cumulative.append(running)
    return cumulative


def pyramid_labels(shares: tuple[float, ...]) -> list[str]:
    """Level names from the configured shares, best first.

    Five levels (the default 5/15/30/40/10 %) are ``top_5``, ``next_15``, ``middle_30``,
    ``lower_40``, ``bottom_10``; other counts are ``top_…``, ``band2_…`` …, ``bottom_…``.
    A share with decimals keeps them with ``_`` (12.5 % → ``12_5``).
    """
    _cumulative_fractions(shares)
    count = len(shares)
    if count == len(PYRAMID_POSITIONS):
        positions = list(PYRAMID_POSITIONS)
    else:
        positions = ["top", *[f"band{i}" for i in range(2, count)], "bottom"][:count]
    percents = [f"{float(Fraction(str(s)) * 100):g}".replace(".", "_") for s in shares]
    return [f"{p}_{pct}" for p, pct in zip(positions, percents, strict=True)]


def profit_pyramid(features: ir.Table, *, config: Config | SegmentationConfig) -> ir.Table:
    """Profit pyramid level of every customer by net profit (SPEC §8, seeds 001/003).

    Grain: one row per customer of ``features``.

    Levels are exact shares of customers (``pyramid_shares``, default 5/15/30/40/10 %), best
    first; ties broken by ``customer_id`` and NULL net profit last (module docstring).

    Parameters
    ----------
    features
        The feature table (:func:`segment_features`).
    config
        ``pyramid_shares``.

    Returns
    -------
    ir.Table
        customer_id, scheme (``pyramid``), profit_rank (1 = highest net profit),
        pyramid_level (1 = top), segment (:func:`pyramid_labels`).
    """
    shares = _segmentation(config).pyramid_shares
    cumulative = _cumulative_fractions(shares)
    labels = pyramid_labels(shares)
    t = features.select(customer_id=features.customer_id, key=features.net_profit)
    known = t.filter(t.key.notnull())
    distinct = known.group_by("key").aggregate(at_value=known.count())
    # Window over the distinct values (unique key), not over customers.
    running = ibis.window(order_by=ibis.desc("key"), rows=(None, 0))
    distinct = distinct.mutate(
        better=(distinct.at_value.sum().over(running) - distinct.at_value).cast("int64")
    )
    totals = t.aggregate(customers=t.count(), known_customers=t.count(where=t.key.notnull()))
    # Partitioned by value: ties only, each partition small.
    tied = ibis.window(group_by="key", order_by="customer_id")
    ranked = t.mutate(rank_in_value=ibis.row_number().over(tied) + 1)
    joined = ranked.left_join(distinct, "key").cross_join(totals)
    before = ibis.cases(
        (joined.key.isnull(), joined.known_customers.cast("int64")), else_=joined.better
    )
    rank = (before + joined.rank_in_value).cast("int64")
    n = joined.customers.cast("int64")
    # r ≤ ceil(n·c) ⇔ (r − 1)·den < n·num, exact in integers.
    level = ibis.cases(
        *[
            ((rank - 1) * c.denominator < n * c.numerator, ibis.literal(i, type="int64"))
            for i, c in enumerate(cumulative[:-1], start=1)
        ],
        else_=ibis.literal(len(cumulative), type="int64"),
    )
    leveled = joined.select(customer_id=joined.customer_id, profit_rank=rank, pyramid_level=level)
    return leveled.select(
        customer_id=leveled.customer_id,
        scheme=ibis.literal("pyramid"),
        profit_rank=leveled.profit_rank,
        pyramid_level=leveled.pyramid_level,
        segment=ibis.cases(
            *[(leveled.pyramid_level == i, name) for i, name in enumerate(labels, start=1)],
            else_=labels[-1],
        ),
    )
