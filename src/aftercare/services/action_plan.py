"""An engine run's plan (SPEC §6): the rules' lazy inputs, the plan compiled once per store
and shape (:mod:`aftercare.store.plans`), and its rows.

A run plans every customer, or only those in ``engine_queue`` (an incremental run, issue 11:
:mod:`aftercare.services.incremental`), and reads the planned customers' bookkeeping (wake
dates, borrowing vehicles) right after the plan, before it stores anything. Scores: the latest
stored ``customer_scores`` snapshot on or before the as-of date (its tier moves fire
A-TIER-UP/DOWN); without any, scores are computed for the as-of date on the fly (no moves).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from aftercare.config import Config, config_key
from aftercare.pipeline.reminders import fleet_rates
from aftercare.pipeline.staging import resolved_orders
from aftercare.pipeline.subset import tables_of_customers
from aftercare.playbook.context import computed_scores, wire_rule_context
from aftercare.playbook.engine import enabled_rules, plan_actions, plan_from_inputs
from aftercare.playbook.rules import RuleContext
from aftercare.services import incremental, staged_plan
from aftercare.services.inputs import canonical_tables
from aftercare.services.scoring import SCORES_TABLE, scores_on
from aftercare.store import engine_state, plans
from aftercare.store.connect import Store
from aftercare.store.snapshots import snapshot_dates
from aftercare.store.transaction import CompiledQuery, fetch_compiled


def scores_date(store: Store, as_of: dt.date) -> dt.date | None:
    """The date of the latest stored scores on or before ``as_of`` (None: none stored)."""
    stored = [d for d in snapshot_dates(store, SCORES_TABLE) if d <= as_of]
    return stored[-1] if stored else None


def wired_context(
    store: Store,
    dates: Mapping[str, dt.date],
    config: Config,
    *,
    stored_scores: bool,
    years_ahead: int,
    customers: ir.Table | None = None,
    kept_fleet: bool = False,
) -> tuple[RuleContext, ir.Table]:
    """The rules' lazy inputs and the customer value for ``dates``: ``as_of``, ``through``
    and, with ``stored_scores``, ``scores`` (the snapshot's date; else scores are computed
    for ``as_of``, with no tier moves).

    ``customers`` (column ``customer_id``): read only what those customers' figures need
    (:func:`aftercare.pipeline.subset.tables_of_customers`), the rates the reminders borrow
    from every vehicle from the whole store; the stored actions and outcomes stay whole
    (an action id is matched whoever's it is). Their figures equal a whole-store run's;
    other customers' rows that come along are not theirs to trust (filter them out).
    ``kept_fleet``: those rates from the kept fleet facts of an incremental run
    (:func:`aftercare.services.incremental.refresh_fleet`), not computed from every order.
    """
    tables = canonical_tables(store)
    fleet = None
    if customers is not None:
        if kept_fleet:
            fleet = incremental.fleet_kept(store)
        else:
            every = resolved_orders(tables.service_orders, tables.vehicles)
            fleet = fleet_rates(
                every, tables.vehicles, as_of=dates["as_of"], config=config.reminders
            )
        tables = tables_of_customers(tables, customers)
    if stored_scores:  # the snapshot of that date exists (see scores_date)
        s = scores_on(store, dates["scores"])
        scores = s.mutate(snapshot_date=s.as_of_date)
        if customers is not None:
            scores = scores.filter(scores.customer_id.isin(customers.customer_id))
    else:
        scores = computed_scores(tables, as_of=dates["as_of"], config=config)
    return wire_rule_context(
        tables,
        scores,
        actions=store.table("actions"),
        outcomes=store.table("action_outcomes"),
        as_of=dates["as_of"],
        through=dates["through"],
        config=config,
        years_ahead=years_ahead,
        fleet=fleet,
    )


def rule_context(
    store: Store, as_of: dt.date, config: Config, *, through: dt.date | None = None
) -> tuple[RuleContext, ir.Table, dt.date | None]:
    """The rules' lazy inputs for one as-of date, the customer value, and the scores' date
    (the latest stored snapshot on or before ``as_of``; None: scores computed for it)."""
    dates, scores_as_of = run_dates(store, as_of, max(through or as_of, as_of))
    ctx, value = wired_context(
        store,
        dates,
        config,
        stored_scores=scores_as_of is not None,
        years_ahead=dates["through"].year - as_of.year,
    )
    return ctx, value, scores_as_of


def run_dates(
    store: Store, as_of: dt.date, through: dt.date
) -> tuple[dict[str, dt.date], dt.date | None]:
    """A run's dates in their order (the scores' date, if stored, then ``as_of`` and
    ``through``: compiled plans keep the order, :mod:`aftercare.store.plans`), and the date
    of the latest stored scores on or before ``as_of`` (None: none stored)."""
    scores_as_of = scores_date(store, as_of)
    return _dates(scores_as_of, as_of, through), scores_as_of


def _dates(scores_as_of: dt.date | None, as_of: dt.date, through: dt.date) -> dict[str, dt.date]:
    """:func:`run_dates`' dates, the scores' date known."""
    dates = {"as_of": as_of, "through": through}
    return {"scores": scores_as_of, **dates} if scores_as_of is not None else dates


def plan_expression(
    store: Store,
    dates: Mapping[str, dt.date],
    config: Config,
    *,
    stored_scores: bool,
    years_ahead: int,
    customers: ir.Table | None = None,
    kept_fleet: bool = False,
    bookkeeping: bool = False,
    combined: bool = False,
    staging: bool = False,
    staged: pa.Schema | None = None,
) -> ir.Table:
    """The engine's plan (the new actions) for ``dates`` (see :func:`wired_context`);
    with ``customers``, those customers' new actions only (the same rows as the whole
    store's plan has for them: the first piece of the incremental run, issue 11).
    ``bookkeeping``: the planned customers' wake dates and borrowing vehicles instead
    (:func:`aftercare.services.incremental.bookkeeping`); ``combined``: the plan and those
    in one table (:func:`_with_bookkeeping`); ``staging``: the plan's inputs and those
    (:func:`aftercare.services.staged_plan.staging`); ``staged``: the plan from the staged
    rows of that schema (:func:`aftercare.services.staged_plan.staged_inputs`)."""
    ctx, value = wired_context(
        store,
        dates,
        config,
        stored_scores=stored_scores,
        years_ahead=years_ahead,
        customers=customers,
        kept_fleet=kept_fleet,
    )
    if bookkeeping:
        plan = incremental.bookkeeping(ctx)
    elif staging:
        plan = staged_plan.staging(ctx, value)
    elif staged is not None:
        rows = ibis.table(ibis.Schema.from_pyarrow(staged), name=staged_plan.STAGED)
        inputs = staged_plan.staged_inputs(rows)
        plan = plan_from_inputs(inputs, ctx, store.table("contact_preferences"))
    else:
        planned = plan_actions(ctx, value, store.table("contact_preferences"))
        assert planned is not None  # only planned when a rule is enabled
        plan = planned
        if combined:
            plan = _with_bookkeeping(plan, incremental.bookkeeping(ctx))
    if customers is not None and not staging:
        plan = plan.filter(plan.customer_id.isin(customers.customer_id))
    return plan


#: The most customers an incremental run plans with its bookkeeping in one statement: DuckDB
#: plans the customers' shared inputs once (on a small store a run's time is mostly DuckDB
#: planning: ~125 ms for the one statement against ~195 ms for the two). DuckDB 1.5 stalled
#: on the one statement (every thread waiting) at 80k planned customers and on the whole 1M
#: store, so a larger run reads its bookkeeping in a statement of its own.
COMBINED_MAX = 1_000

#: The most customers a larger incremental run plans with its inputs computed once and kept
#: in the engine (:mod:`aftercare.services.staged_plan`); beyond, the plan and its
#: bookkeeping are two statements. The one statement holds every input at once: at 1M
#: customers on 2 threads, planning 78k customers it took 4.2 s against 6.8 s for the two, the
#: whole run's peak 2.5-2.6 GB against 2.5 GB. Planning 243k (the first daily night after
#: quarterly snapshots: the downgrades R-TIER-HOLD held take effect) it took 4.3 GB against
#: 4.0 GB while the narrowed orders carried their lineage columns; without them
#: (:func:`aftercare.pipeline.subset.tables_of_customers`) the whole run took 9.6-11.3 s and
#: 3.7-3.8 GB staged against 12.4-16.6 s and 3.2-3.3 GB, under the 4 GB a night may take
#: (issue 11). A go-live or a full run plans everyone in its own way.
STAGED_MAX = 300_000

#: The plan's rows in :func:`_with_bookkeeping` (the bookkeeping's keep their own parts).
ACTION_PART = "action"
_BOOKKEEPING_COLUMNS = ("customer_id", "wake_on", "vin", "rate_source", "due_date")
#: The bookkeeping's columns the plan has not (the others it shares).
_BOOKKEEPING_ONLY = ("wake_on", "rate_source")


def _with_bookkeeping(plan: ir.Table, book: ir.Table) -> ir.Table:
    """The plan's rows and the bookkeeping's in one table (column :data:`incremental.PART`
    tells them apart; the other part's columns NULL): :func:`_split_combined`."""
    types = {**dict(plan.schema().items()), **dict(book.schema().items())}

    def padded(table: ir.Table, part: ir.Value, names: tuple[str, ...]) -> ir.Table:
        values = {
            name: table[name].cast(dtype) if name in names else ibis.null(dtype)
            for name, dtype in types.items()
            if name != incremental.PART
        }
        return table.select(**values, **{incremental.PART: part})

    actions = padded(plan, ibis.literal(ACTION_PART), tuple(plan.columns))
    kept = padded(book, book[incremental.PART], _BOOKKEEPING_COLUMNS)
    return actions.union(kept, distinct=False)


def _split_combined(rows: pa.Table) -> tuple[pa.Table, pa.Table]:
    """:func:`_with_bookkeeping`'s rows as (the plan's rows, the bookkeeping's rows)."""
    is_plan = pc.equal(rows.column(incremental.PART), ACTION_PART)
    not_plan = {incremental.PART, *_BOOKKEEPING_ONLY}
    plan = rows.filter(is_plan).select([c for c in rows.column_names if c not in not_plan])
    book = rows.filter(pc.invert(is_plan)).select([incremental.PART, *_BOOKKEEPING_COLUMNS])
    return plan, book


@dataclass(frozen=True)
class CompiledPlan:
    """A run's plan, compiled: the SQL of the new actions and the scores' date."""

    query: CompiledQuery | None  # None: no rule enabled
    scores_as_of: dt.date | None


def compile_plan(
    store: Store,
    as_of: dt.date,
    config: Config,
    through: dt.date,
    scores_as_of: dt.date | None,
    *,
    queued: bool = False,
    bookkeeping: bool = False,
    combined: bool = False,
    staging: bool = False,
    staged: pa.Schema | None = None,
) -> CompiledPlan:
    """The plan's SQL for the run, with the scores of ``scores_as_of`` (:func:`scores_date`;
    None: computed), of every customer or of those in ``engine_queue`` (``queued``: an
    incremental run), or its bookkeeping (:func:`plan_expression`). Reads nothing of the
    store's rows. Compiled once per store, configuration and shape, the dates put in per
    run (:mod:`aftercare.store.plans`)."""
    dates = _dates(scores_as_of, as_of, through)
    if not enabled_rules(config):
        return CompiledPlan(None, scores_as_of)
    years_ahead = through.year - as_of.year
    stored = scores_as_of is not None
    parts = (bookkeeping, combined, staging, staged is not None)
    shape = ("actions.plan", config_key(config), stored, years_ahead, queued, *parts)
    customers = store.table(incremental.QUEUE) if queued else None
    # The staged rows' candidates: computed for each use (the plan's due ones with their
    # evidence, the wake dates' without), not kept whole (transaction.compute_per_use).
    per_use = "evidence" if staging else None
    query = plans.compiled(
        store,
        shape,
        lambda d: plan_expression(
            store,
            d,
            config,
            stored_scores=stored,
            years_ahead=years_ahead,
            customers=customers,
            kept_fleet=queued,
            bookkeeping=bookkeeping,
            combined=combined,
            staging=staging,
            staged=staged,
        ),
        dates,
        per_use=per_use,
    )
    return CompiledPlan(query, scores_as_of)


def fetch_plan(
    store: Store,
    planned: CompiledPlan,
    as_of: dt.date,
    config: Config,
    through: dt.date,
    queued: int | None,
) -> tuple[pa.Table | None, pa.Table | None, pa.Table | None]:
    """The plan's rows, then the planned customers' wake dates and borrowing vehicles
    (:func:`aftercare.services.incremental.bookkeeping`), before the run stores anything."""
    if planned.query is None:
        return None, None, None
    plan, scores_as_of = planned, planned.scores_as_of
    if queued is not None and queued <= COMBINED_MAX:
        both = compile_plan(store, as_of, config, through, scores_as_of, queued=True, combined=True)
        assert both.query is not None
        rows, book = _split_combined(fetch_compiled(store, both.query))
        return (rows, *incremental.split_rows(book))
    if queued is not None and queued <= STAGED_MAX:
        return _fetch_staged(store, as_of, config, through, scores_as_of)
    if queued is not None:
        plan = compile_plan(store, as_of, config, through, scores_as_of, queued=True)
    assert plan.query is not None
    rows = fetch_compiled(store, plan.query)
    kept = compile_plan(
        store, as_of, config, through, scores_as_of, queued=queued is not None, bookkeeping=True
    )
    assert kept.query is not None
    wake, vehicles = incremental.split_rows(fetch_compiled(store, kept.query))
    return rows, wake, vehicles


def _fetch_staged(
    store: Store,
    as_of: dt.date,
    config: Config,
    through: dt.date,
    scores_as_of: dt.date | None,
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """:func:`fetch_plan` of a run planning more than :data:`COMBINED_MAX` queued customers
    and at most :data:`STAGED_MAX`: the plan's inputs and the bookkeeping computed once and
    kept in the engine, then the plan's last steps over them
    (:mod:`aftercare.services.staged_plan`)."""
    staging = compile_plan(store, as_of, config, through, scores_as_of, queued=True, staging=True)
    assert staging.query is not None
    schema = staging.query.schema
    engine_state.stage(store, staging.query)
    try:
        plan = compile_plan(store, as_of, config, through, scores_as_of, queued=True, staged=schema)
        assert plan.query is not None
        rows = fetch_compiled(store, plan.query)
        book = plans.compiled(
            store,
            ("actions.staged.bookkeeping", tuple(schema.names)),
            lambda _: staged_plan.unstacked(
                ibis.table(ibis.Schema.from_pyarrow(schema), name=staged_plan.STAGED),
                staged_plan.BOOKKEEPING,
            ),
            {},
        )
        wake, vehicles = incremental.split_rows(fetch_compiled(store, book))
    finally:
        engine_state.unstage(store)
    return rows, wake, vehicles
