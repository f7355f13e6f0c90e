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

A stored snapshot's ``tier`` is the effective tier (R-TIER-HOLD, :func:`effective_tiers`: an
upgrade at once, a downgrade held) and ``scored_tier`` the scorecard's; moves and alerts here
read ``tier``.
"""

from __future__ import annotations

from collections.abc import Sequence

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


def tier_at_rank(rank: ir.IntegerValue) -> ir.StringValue:
    """The tier at a position of :data:`TIER_ORDER` (0 = platinum); NULL if out of range."""
    return ibis.cases(
        *[(rank == position, ibis.literal(name)) for position, name in enumerate(TIER_ORDER)],
        else_=ibis.null("string"),
    )


def _scoring(config: Config | ScoringConfig) -> ScoringConfig:
    return config.scoring if isinstance(config, Config) else config


def effective_tiers(
    current: ir.Table,
    history: Sequence[ir.Table],
    *,
    config: Config | ScoringConfig,
) -> ir.Table:
    """Effective tiers of a new snapshot: upgrades at once, downgrades held (R-TIER-HOLD).

    With ``N = scoring.downgrade_hold_snapshots`` and, for one customer, ``E`` the effective
    tier of the previous snapshot and ``S0`` (this snapshot), ``S1`` … ``S(N-1)`` (the
    snapshots before it, newest first) the scored tiers:

    - no previous snapshot holds the customer (new), or ``N`` is 0 or 1: the effective tier
      is the scored tier ``S0`` (every move at once);
    - ``S0`` at or above ``E``: ``S0`` (an upgrade takes effect at once; same stays same);
    - ``S0`` … ``S(N-1)`` all below ``E`` (the lower tier held in ``N`` consecutive
      snapshots): the highest of them. A customer is moved down only as far as every
      snapshot of the hold agrees: gold → silver (Sep) → regular (Dec) becomes silver in
      December, and regular in March if March scores regular again;
    - otherwise (below ``E`` in fewer than ``N`` consecutive snapshots, or a snapshot of
      the hold does not hold the customer): ``E`` is kept.

    Put simply, once a customer has ``N`` snapshots in a row, their effective tier is the
    highest tier they scored in the last ``N`` snapshots (the rules above keep that true from
    one snapshot to the next): with ``N = 2``, the better of this quarter and the last.

    The hold counts snapshots, so its length in time is the snapshot cadence times ``N``
    (quarterly by default, ``scoring.snapshot_every_months``: two quarters).

    Parameters
    ----------
    current
        A score table of one date (:func:`aftercare.pipeline.scoring.score_customers`) whose
        ``tier`` is the scorecard's tier.
    history
        The stored snapshots before it, newest first, each with ``customer_id``, ``tier``
        (effective) and ``scored_tier``; only the first ``N - 1`` (at least one) are read.
        Empty: every tier is the scored one.
    config
        Config (or its scoring section) with ``downgrade_hold_snapshots``.

    Returns
    -------
    ir.Table
        The columns of ``current`` with ``tier`` the effective tier, then ``scored_tier``
        (the scorecard's tier, R-TIER).
    """
    hold = _scoring(config).downgrade_hold_snapshots
    if not history or hold <= 1:
        return current.mutate(scored_tier=current.tier)
    prev = history[0].select(e_customer_id="customer_id", e_tier="tier")
    joined = current.left_join(prev, current.customer_id == prev.e_customer_id)
    # S1 … S(N-1): the scored tiers of the snapshots before this one (NULL: not held there).
    earlier_tiers = []
    for i, earlier in enumerate(history[: hold - 1]):
        part = earlier.select(**{f"h{i}_customer_id": "customer_id", f"h{i}_tier": "scored_tier"})
        joined = joined.left_join(part, joined.customer_id == part[f"h{i}_customer_id"])
        earlier_tiers.append(f"h{i}_tier")
    scored = joined.tier
    effective_rank = tier_rank(joined.e_tier)
    ranks = [tier_rank(scored), *(tier_rank(joined[c]) for c in earlier_tiers)]
    # Lower = a greater rank than E's; a NULL rank (not held by that snapshot) is not lower.
    held = ibis.literal(len(ranks) == hold)
    for rank in ranks:
        held = held & (rank > effective_rank).fill_null(False)
    tier = ibis.cases(
        (joined.e_tier.isnull(), scored),
        (tier_rank(scored) <= effective_rank, scored),
        (held, tier_at_rank(ibis.least(*ranks))),
        else_=joined.e_tier,
    )
    return joined.select(
        *[(tier if c == "tier" else joined[c]).name(c) for c in current.columns],
        scored_tier=scored,
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
