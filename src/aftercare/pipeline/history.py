"""Tier history between two score snapshots (R-TIER-HIST).

Ibis only, ``Table -> Table``; nothing here connects or executes. A snapshot is a score table
of one as-of date (:func:`aftercare.pipeline.scoring.score_customers`, or any table with
``customer_id`` and ``tier``); filter a stored multi-date snapshot table to one date first.

Moves: ``up`` / ``down`` / ``same`` by the tier order of :data:`aftercare.config.TIER_ORDER`
(platinum highest); ``new`` for a customer absent from the previous snapshot (a snapshot holds
the customers that exist on its date, :mod:`aftercare.pipeline.population`, so a customer
created in between is ``new``, never a move from a tier they did not have); ``removed`` for one
absent from the current snapshot (its customer record is gone: merged or deleted — the scorer
gives every customer of the date a row). A ``down`` move from platinum or gold is a downgrade
alert (A-TIER-DOWN); neither a ``new`` nor a ``removed`` customer is an alert.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from aftercare.config import TIER_ORDER, Config, ScoringConfig

MOVE_UP = "up"
MOVE_DOWN = "down"
MOVE_SAME = "same"
MOVE_NEW = "new"
MOVE_REMOVED = "removed"


def tier_rank(tier: ir.StringValue) -> ir.IntegerValue:
    """Position of a tier in :data:`TIER_ORDER` (0 = platinum, the highest); NULL if unknown."""
    return ibis.cases(
        *[(tier == name, ibis.literal(rank, type="int64")) for rank, name in enumerate(TIER_ORDER)],
        else_=ibis.null("int64"),
    )


def tier_move(previous_tier: ir.StringValue, tier: ir.StringValue) -> ir.StringValue:
    """``up``/``down``/``same``/``new``/``removed`` from a previous to a current tier."""
    prev_rank, rank = tier_rank(previous_tier), tier_rank(tier)
    return ibis.cases(
        (previous_tier.isnull(), ibis.literal(MOVE_NEW)),
        (tier.isnull(), ibis.literal(MOVE_REMOVED)),
        (rank < prev_rank, ibis.literal(MOVE_UP)),
        (rank > prev_rank, ibis.literal(MOVE_DOWN)),
        else_=ibis.literal(MOVE_SAME),
    )


def _alert_tiers(config: Config | ScoringConfig) -> tuple[str, ...]:
    scoring = config.scoring if isinstance(config, Config) else config
    return scoring.downgrade_alert_tiers


def _moves(previous: ir.Table, current: ir.Table) -> ir.Table:
    """customer_id, previous_tier, tier, move: one row per customer in either snapshot."""
    prev = previous.select(p_customer_id=previous.customer_id, previous_tier=previous.tier)
    cur = current.select(c_customer_id=current.customer_id, tier=current.tier)
    joined = prev.outer_join(cur, prev.p_customer_id == cur.c_customer_id)
    return joined.select(
        customer_id=joined.c_customer_id.coalesce(joined.p_customer_id),
        previous_tier=joined.previous_tier,
        tier=joined.tier,
        move=tier_move(joined.previous_tier, joined.tier),
    )


def tier_moves(
    previous: ir.Table,
    current: ir.Table,
    *,
    config: Config | ScoringConfig,
) -> ir.Table:
    """Each customer's tier move between two snapshots (R-TIER-HIST).

    Grain: one row per customer present in either snapshot.

    Parameters
    ----------
    previous, current
        Snapshots of one as-of date each, with ``customer_id`` and ``tier``.
    config
        Config (or its scoring section) naming the tiers whose downgrade is an alert
        (``scoring.downgrade_alert_tiers``; SPEC: platinum and gold).

    Returns
    -------
    ir.Table
        ``customer_id``, ``previous_tier`` (NULL when new), ``tier`` (NULL when removed),
        ``move`` and ``is_downgrade_alert`` (previous tier in the alert tiers and move down).
    """
    moves = _moves(previous, current)
    alert_tiers = list(_alert_tiers(config))
    return moves.mutate(
        is_downgrade_alert=(moves.move == MOVE_DOWN) & moves.previous_tier.isin(alert_tiers)
    ).mutate(is_downgrade_alert=lambda t: t.is_downgrade_alert.fill_null(False))


def migration_matrix(previous: ir.Table, current: ir.Table) -> ir.Table:
    """Tier migration matrix between two snapshots (R-TIER-HIST).

    Grain: one row per (from_tier, to_tier) pair with at least one customer (empty cells are
    absent). ``from_tier`` is NULL for customers new in ``current``, ``to_tier`` NULL for those
    removed from it.

    Returns
    -------
    ir.Table
        ``from_tier``, ``to_tier``, ``move`` and ``customers`` (int64 count).
    """
    moves = _moves(previous, current)
    return moves.group_by(
        from_tier=moves.previous_tier, to_tier=moves.tier, move=moves.move
    ).aggregate(customers=moves.customer_id.count().cast("int64"))


def with_previous_tier(current_scores: ir.Table, previous_scores: ir.Table) -> ir.Table:
    """The current score table with each customer's previous tier and move (R-TIER-HIST).

    Grain: that of ``current_scores`` (one row per customer per as-of date); customers only in
    ``previous_scores`` are left out (see :func:`tier_moves` for them).

    Returns
    -------
    ir.Table
        Every column of ``current_scores``, then ``previous_tier`` (NULL when new) and
        ``move`` (``up``/``down``/``same``/``new``).
    """
    prev = previous_scores.select(
        p_customer_id=previous_scores.customer_id, previous_tier=previous_scores.tier
    )
    joined = current_scores.left_join(prev, current_scores.customer_id == prev.p_customer_id)
    return joined.select(
        *[joined[c] for c in current_scores.columns],
        previous_tier=joined.previous_tier,
        move=tier_move(joined.previous_tier, joined.tier),
    )
