"""Score customers and keep dated snapshots (R-SCORE-*, R-TIER, R-TIER-HIST, R-TIER-HOLD)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir

from aftercare.config import TIER_ORDER, Config, config_key
from aftercare.errors import AftercareError
from aftercare.pipeline.history import (
    MOVE_NEW,
    effective_tiers,
    migration_matrix,
    tier_moves,
    tier_rank,
    with_previous_tier,
)
from aftercare.pipeline.marts import population_as_of
from aftercare.pipeline.scoring import SCORE_COLUMNS, score_customers
from aftercare.pipeline.staging import as_date
from aftercare.services.inputs import canonical_tables
from aftercare.store import plans
from aftercare.store.connect import Store
from aftercare.store.locks import store_lock
from aftercare.store.snapshots import replace_snapshot, snapshot_dates
from aftercare.store.transaction import CompiledQuery

SCORES_TABLE = "customer_scores"


@dataclass(frozen=True)
class TierMix:
    """Customers per tier in one snapshot, beside the seed's expected mix (R-TIER)."""

    as_of: dt.date
    counts: dict[str, int]
    expected_share: dict[str, float]

    @property
    def total(self) -> int:
        """Customers scored."""
        return sum(self.counts.values())

    def share(self, tier: str) -> float:
        """Actual share of ``tier`` (0 when nobody was scored)."""
        return self.counts.get(tier, 0) / self.total if self.total else 0.0


@dataclass(frozen=True)
class ScoreRun:
    """What one ``score`` run stored."""

    as_of: dt.date
    previous_as_of: dt.date | None
    customers: int
    mix: TierMix
    downgrade_alerts: int
    #: The later snapshot whose previous tier and move were recomputed (back-fill), if any.
    refreshed_as_of: dt.date | None = None
    #: Customers in this snapshot and not in the previous one (move ``new``; 0 without one).
    new_customers: int = 0
    #: Customers whose scored tier is below their effective tier: a downgrade held
    #: (R-TIER-HOLD) until the lower tier holds ``scoring.downgrade_hold_snapshots`` snapshots.
    held_downgrades: int = 0


def previous_snapshot_date(store: Store, as_of: dt.date) -> dt.date | None:
    """The latest stored snapshot strictly before ``as_of``."""
    earlier = [d for d in snapshot_dates(store, SCORES_TABLE) if d < as_of]
    return earlier[-1] if earlier else None


def next_snapshot_date(store: Store, as_of: dt.date) -> dt.date | None:
    """The earliest stored snapshot strictly after ``as_of``."""
    later = [d for d in snapshot_dates(store, SCORES_TABLE) if d > as_of]
    return later[0] if later else None


def snapshot(store: Store, as_of: dt.date) -> ir.Table:
    """The stored ``customer_scores`` of one date.

    Raises
    ------
    AftercareError
        When no snapshot of that date exists (naming the dates that do).
    """
    dates = snapshot_dates(store, SCORES_TABLE)
    if as_of not in dates:
        known = ", ".join(d.isoformat() for d in dates) or "none"
        raise AftercareError(
            f"no scores as of {as_of}: run `aftercare score --as-of {as_of}` (stored: {known})"
        )
    return scores_on(store, as_of)


def scores_on(store: Store, as_of: dt.date) -> ir.Table:
    """The stored ``customer_scores`` rows of ``as_of`` (see :func:`snapshot`, which first
    checks that the date is stored); the date enters only as a literal, so a compiled plan
    can substitute it (:mod:`aftercare.store.plans`)."""
    scores = stored_scores(store)
    return scores.filter(scores.as_of_date == as_date(as_of))


def stored_scores(store: Store) -> ir.Table:
    """Every stored ``customer_scores`` row, ``scored_tier`` read as ``tier`` where empty.

    A snapshot stored before R-TIER-HOLD has no scored tier (the column is added empty when
    such a store is opened): its tier was the scorecard's, so it is read as both.
    """
    scores = store.table(SCORES_TABLE)
    if "scored_tier" not in scores.columns:  # a lake view older than the column
        return scores.mutate(scored_tier=scores.tier)
    return scores.mutate(scored_tier=scores.scored_tier.fill_null(scores.tier))


def score_snapshot(store: Store, as_of: dt.date, config: Config) -> ScoreRun:
    """Score every customer as of ``as_of`` and store it as that date's snapshot.

    The stored ``tier`` is the effective tier (R-TIER-HOLD,
    :func:`aftercare.pipeline.history.effective_tiers`: an upgrade at once, a downgrade once
    the lower tier held ``scoring.downgrade_hold_snapshots`` snapshots) and ``scored_tier`` the
    scorecard's; each customer carries the effective tier of the previous stored snapshot and
    the move since (R-TIER-HIST). Rerunning for a date replaces that date's snapshot, never
    duplicates; a second run on the same store waits for the first (the store's run lock).
    When later snapshots exist (a back-fill, or an earlier date re-scored), their effective
    tier, previous tier and move are recomputed in date order (their scores are kept), so no
    snapshot keeps a move from a tier that is no longer the one before it.
    """
    with store_lock(store):  # one writer per store: a second score waits (issue 9)
        return _score_snapshot(store, as_of, config)


def _score_snapshot(
    store: Store, as_of: dt.date, config: Config, *, refresh_before: dt.date | None = None
) -> ScoreRun:
    """:func:`score_snapshot` once the store is this run's.

    Later snapshots before ``refresh_before`` (None: all) get their effective tier, previous
    tier and move recomputed (a back-fill scores the dates in between itself).
    """
    history_dates = _history_dates(store, as_of, config)
    previous_as_of = previous_snapshot_date(store, as_of)
    stored = replace_snapshot(
        store, SCORES_TABLE, as_of, _snapshot_query(store, as_of, history_dates, config)
    )
    previous = snapshot(store, history_dates[0]) if history_dates else None
    alerts = new = 0
    if previous is not None:
        moves = tier_moves(previous, snapshot(store, as_of), config=config)
        counts = moves.aggregate(
            alerts=moves.is_downgrade_alert.sum(), new=moves.count(where=moves.move == MOVE_NEW)
        )
        row = counts.to_pyarrow().to_pylist()[0]
        alerts, new = int(row["alerts"] or 0), int(row["new"] or 0)
    refreshed = [
        d
        for d in snapshot_dates(store, SCORES_TABLE)
        if d > as_of and (refresh_before is None or d < refresh_before)
    ]
    for later in refreshed:  # oldest first: each one's hold reads the ones before it
        _refresh_snapshot(store, later, config)
    return ScoreRun(
        as_of=as_of,
        previous_as_of=previous_as_of,
        customers=stored,
        mix=tier_mix(store, as_of, config),
        downgrade_alerts=alerts,
        refreshed_as_of=refreshed[0] if refreshed else None,
        new_customers=new,
        held_downgrades=held_downgrades(store, as_of),
    )


def _history_dates(store: Store, as_of: dt.date, config: Config) -> list[dt.date]:
    """The stored snapshots an ``as_of`` snapshot's hold reads, newest first (R-TIER-HOLD)."""
    earlier = [d for d in snapshot_dates(store, SCORES_TABLE) if d < as_of]
    wanted = max(config.scoring.downgrade_hold_snapshots - 1, 1)
    return list(reversed(earlier[-wanted:]))


def _history(store: Store, as_of: dt.date, config: Config) -> list[ir.Table]:
    """The stored snapshots an ``as_of`` snapshot's hold reads, newest first (R-TIER-HOLD)."""
    return [snapshot(store, d) for d in _history_dates(store, as_of, config)]


def _snapshot_query(
    store: Store, as_of: dt.date, history: list[dt.date], config: Config
) -> ir.Table | CompiledQuery:
    """The ``as_of`` snapshot's rows: scores, effective tier, previous tier and move.

    On DuckDB and PostgreSQL compiled once per store, configuration and number of earlier
    snapshots read (:mod:`aftercare.store.plans`), the dates put in per run; a Spark lake
    runs the expression.
    """

    def build(d: Mapping[str, dt.date]) -> ir.Table:
        tables = canonical_tables(store)
        current = score_customers(
            tables.customers,
            tables.vehicles,
            tables.service_orders,
            tables.interactions,
            as_of=d["as_of"],
            config=config,
        )
        earlier = [scores_on(store, d[f"history{i}"]) for i in range(len(history))]
        return _snapshot_rows(current, earlier, config)

    # Oldest first: the stand-in dates keep the real ones' order.
    dates = {f"history{i}": day for i, day in reversed(list(enumerate(history)))}
    dates["as_of"] = as_of
    if not store.has_transactions:
        return build(dates)
    shape = ("scores.snapshot", config_key(config), len(history))
    return plans.compiled(store, shape, build, dates)


def _snapshot_rows(current: ir.Table, history: list[ir.Table], config: Config) -> ir.Table:
    """A snapshot's stored rows: effective tier (R-TIER-HOLD), previous tier and move."""
    effective = effective_tiers(current, history, config=config)
    previous = history[0] if history else current.filter(ibis.literal(False))
    return with_previous_tier(effective, previous)


def _refresh_snapshot(store: Store, later: dt.date, config: Config) -> None:
    """Recompute ``later``'s effective tier, previous tier and move from the ones before it.

    Its scores are kept (the scorecard's tier is ``scored_tier``); only what depends on the
    snapshots before it changes, so no snapshot keeps a move from a tier that is no longer
    the one before it.
    """
    stored = snapshot(store, later)
    scores = stored.drop("tier", "previous_tier", "move").rename(tier="scored_tier")
    scores = scores.select(*[c for c in SCORE_COLUMNS])
    # Materialised first: the replacement deletes the very rows it is computed from.
    rows = _snapshot_rows(scores, _history(store, later, config), config).to_pyarrow()
    replace_snapshot(store, SCORES_TABLE, later, ibis.memtable(rows))


def held_downgrades(store: Store, as_of: dt.date) -> int:
    """Customers of the ``as_of`` snapshot scored below their effective tier (R-TIER-HOLD)."""
    scores = snapshot(store, as_of)
    held = scores.filter(tier_rank(scores.scored_tier) > tier_rank(scores.tier))
    return int(held.count().to_pyarrow().as_py() or 0)


def tier_mix(store: Store, as_of: dt.date, config: Config) -> TierMix:
    """Customers per tier in the ``as_of`` snapshot, beside the expected mix."""
    scores = snapshot(store, as_of)
    rows = scores.group_by("tier").aggregate(n=scores.count()).to_pyarrow().to_pylist()
    counts: dict[str, int] = {tier: 0 for tier in TIER_ORDER}
    counts.update({r["tier"]: int(r["n"]) for r in rows})
    expected: dict[str, float] = {str(t): float(v) for t, v in config.scoring.expected_mix.items()}
    return TierMix(as_of=as_of, counts=counts, expected_share=expected)


def quarter_ends(start: dt.date, end: dt.date) -> list[dt.date]:
    """Calendar quarter ends (31 Mar, 30 Jun, 30 Sep, 31 Dec) within [start, end]."""
    ends = []
    for year in range(start.year, end.year + 1):
        for month, day in ((3, 31), (6, 30), (9, 30), (12, 31)):
            d = dt.date(year, month, day)
            if start <= d <= end:
                ends.append(d)
    return ends


def backfill_quarterly(
    store: Store, start: dt.date, end: dt.date, config: Config
) -> list[ScoreRun]:
    """Score every quarter end between ``start`` and ``end``, oldest first (R-TIER-HIST)."""
    if end < start:
        raise AftercareError(f"--quarterly: {end} is before {start}")
    dates = quarter_ends(start, end)
    with store_lock(store):  # the whole back-fill, so no other run interleaves its dates
        # In date order, each date's hold (R-TIER-HOLD) reads the ones just scored; a stored
        # snapshot between two back-filled dates is refreshed before the later one is scored.
        return [
            _score_snapshot(store, d, config, refresh_before=nxt)
            for d, nxt in zip(dates, [*dates[1:], None], strict=True)
        ]


@dataclass(frozen=True)
class Migration:
    """Tier moves between two snapshots (R-TIER-HIST).

    ``matrix`` rows have ``from_tier`` NULL for customers new in the later snapshot (the
    "(new)" row) and ``to_tier`` NULL for those gone from it. ``not_yet`` counts, per
    snapshot date, the customers it holds who did not exist on that date: a snapshot stored
    before snapshots kept to their date, to be scored again.
    """

    from_date: dt.date
    to_date: dt.date
    matrix: list[dict]
    #: The downgrade alerts shown: the first ``max_alerts`` by spend.
    alerts: list[dict]
    not_yet: dict[dt.date, int] = field(default_factory=dict)
    #: Every downgrade alert between the two snapshots (``alerts`` may list fewer).
    alert_count: int = 0

    @property
    def new_customers(self) -> int:
        """Customers in the later snapshot only (the matrix's "(new)" row)."""
        return sum(int(r["customers"]) for r in self.matrix if r["from_tier"] is None)

    def moved(self, move: str) -> int:
        """Customers whose effective tier moved ``up`` or ``down`` (R-TIER-HOLD)."""
        return sum(int(r["customers"]) for r in self.matrix if r["move"] == move)


def customers_not_yet(store: Store, as_of: dt.date) -> int:
    """Customers in the ``as_of`` snapshot who did not exist on that date (R-TIER-HIST).

    0 for every snapshot scored since snapshots keep to their date; more for one stored by an
    older Aftercare, which held every customer of the store, those created later too.
    """
    scores = snapshot(store, as_of)
    tables = canonical_tables(store)
    existing = population_as_of(tables, as_of=as_of).select(e_customer_id="customer_id")
    # Of the store's customers: one whose record is gone since (merged, deleted) is not "later".
    known = tables.customers.select("customer_id")
    later = known.anti_join(existing, known.customer_id == existing.e_customer_id)
    early = scores.semi_join(later, scores.customer_id == later.customer_id)
    return int(early.count().to_pyarrow().as_py() or 0)


def migration(
    store: Store, from_date: dt.date, to_date: dt.date, config: Config, *, max_alerts: int = 50
) -> Migration:
    """The tier migration matrix and the downgrade alerts between two snapshots.

    Both read the effective tiers (R-TIER-HOLD): a held downgrade is no move and no alert.
    ``alerts`` lists the first ``max_alerts`` by spend; ``alert_count`` counts them all.
    New customers (in ``to_date``'s snapshot, not in ``from_date``'s) fill the matrix's
    "(new)" row; their move is ``new``, never a move from a tier they did not have.
    """
    previous, current = snapshot(store, from_date), snapshot(store, to_date)
    not_yet = {day: customers_not_yet(store, day) for day in (from_date, to_date)}
    matrix = migration_matrix(previous, current).to_pyarrow().to_pylist()
    moves = tier_moves(previous, current, config=config)
    flagged = moves.filter(moves.is_downgrade_alert)
    alerts = (
        flagged.join(current.select("customer_id", "total_score", "monetary"), "customer_id")
        .order_by([ibis.desc("monetary"), "customer_id"])
        .limit(max_alerts)
        .to_pyarrow()
        .to_pylist()
    )
    return Migration(
        from_date,
        to_date,
        matrix,
        alerts,
        {d: n for d, n in not_yet.items() if n},
        alert_count=int(flagged.count().to_pyarrow().as_py() or 0),
    )
