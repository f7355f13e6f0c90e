"""Run the action engine for an as-of date and read the call list (SPEC §6).

The only module of the playbook that touches the store: it builds the rules' lazy inputs,
runs the engine's plan once, schedules the new actions (holdout, advisor, weekly cap,
advisor capacity) and stores them, the dedicated-advisor assignments, the moves, the stops
and the expiries in one transaction, holding the store's run lock
(:mod:`aftercare.store.locks`) from its first read of the store's rows.

R-ACT-EXPIRE: each action is stored with ``valid_until`` = its due date when stored (after
catch-up, before the cap or capacity move it) + its rule's ``valid_days``; every run stores
``expired`` on the open and backlog actions not closed by an outcome whose ``valid_until``
is before its as-of date. Actions stored by an older Aftercare (``valid_until`` NULL) get
theirs on the next run, from the rule's current ``valid_days`` and the date the action was
due when created (``max(original_due_date, created_on)``); until then they never expire.

R-ACT-CAPACITY: after the weekly cap, :func:`aftercare.playbook.schedule.apply_capacity`
places the run's new contacts, the stored ones the cap moved and the stored backlog still
valid on their advisors' working days; what finds no day within its validity is stored
with status ``backlog`` (see :func:`backlog_summary`), and placed again by a later run that
finds room (it is then ``open`` again, its move logged in ``action_moves``). An open call
due before the as-of date (not worked by its day, or tried without an answer) is carried
over: placed again from the as-of date on like the others (its move logged), or put in the
backlog when no day within its validity has room. So the list an advisor reads on a day,
overdue calls included, never holds more than ``calls_per_day`` calls.

Scores: the latest stored ``customer_scores`` snapshot on or before the as-of date (its tier
moves fire A-TIER-UP/DOWN); without any, scores are computed for the as-of date on the fly
(no moves then).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from aftercare.config import TIER_ORDER, Config, config_key
from aftercare.pipeline.latest import latest_per_key
from aftercare.pipeline.reminders import fleet_rates
from aftercare.pipeline.staging import as_date, resolved_orders
from aftercare.pipeline.subset import tables_of_customers
from aftercare.playbook import schedule
from aftercare.playbook.consent import consent_stops
from aftercare.playbook.context import computed_scores, wire_rule_context
from aftercare.playbook.engine import enabled_rules, plan_actions
from aftercare.playbook.outcomes import EXPIRED_STATUS
from aftercare.playbook.rules import RuleContext
from aftercare.schema.playbook import (
    ACTION_MOVES,
    ACTIONS,
    ACTIVE_STATUSES,
    DEDICATED_ADVISORS,
)
from aftercare.services import incremental
from aftercare.services.call_list import action_list, actions_export, current_actions
from aftercare.services.capacity import (
    BACKLOG_STATUS,
    BacklogRow,
    backlog_summary,
    fill_valid_until,
    fit_capacity,
    rule_valid_days,
)
from aftercare.services.frames import arrow_frame, date_array, member, pull_planned
from aftercare.services.inputs import canonical_tables
from aftercare.services.scoring import SCORES_TABLE, scores_on
from aftercare.store import engine_state, plans
from aftercare.store.connect import Store
from aftercare.store.locks import store_lock
from aftercare.store.rows import insert_new_rows, set_where_in
from aftercare.store.snapshots import snapshot_dates, transaction
from aftercare.store.transaction import CompiledQuery, fetch_compiled
from aftercare.store.updates import update_many

DEDICATED_TABLE = "dedicated_advisors"
#: Statuses that are (or were) contacts, for the weekly cap: an expired action held its
#: slot in its week (it may have been tried), so it keeps counting there.
CONTACT_STATUSES = ("open", "done", "expired")
MOVES_TABLE = "action_moves"

__all__ = [
    "BacklogRow",
    "GenerationRun",
    "action_list",
    "actions_export",
    "backlog_summary",
    "generate_actions",
    "iso_week",
    "rule_context",
]


@dataclass(frozen=True)
class GenerationRun:
    """What one engine run stored: each count is rows this run inserted or changed."""

    as_of: dt.date
    through: dt.date
    scores_as_of: dt.date | None
    created: int = 0
    holdout: int = 0
    blocked: int = 0
    moved_by_cap: int = 0
    displaced: int = 0  # stored lower-priority actions moved to a later week (R-ACT-CAP)
    stopped: int = 0
    dedicated: int = 0  # platinum customers given a dedicated advisor (R-ACT-ADVISOR)
    by_rule: dict[str, int] = field(default_factory=dict)
    # R-ACT-CAPACITY: new actions moved to a later working day; actions (new or stored) this
    # run put in the backlog; stored backlog actions it placed on a day again.
    moved_by_capacity: int = 0
    to_backlog: int = 0
    from_backlog: int = 0
    expired: int = 0  # R-ACT-EXPIRE: open or backlog actions this run marked expired
    # Open calls due before the as-of date (not worked, or missed) given a day from it on.
    carried: int = 0
    # The backlog per store after the run (stores with none left out).
    backlog: tuple[BacklogRow, ...] = ()
    # Issue 11: the customers this run planned; None: every customer (a full run).
    customers_planned: int | None = None


def iso_week(day: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of the ISO week containing ``day``."""
    start = day - dt.timedelta(days=day.weekday())
    return start, start + dt.timedelta(days=6)


def _scores_date(store: Store, as_of: dt.date) -> dt.date | None:
    """The date of the latest stored scores on or before ``as_of`` (None: none stored)."""
    stored = [d for d in snapshot_dates(store, SCORES_TABLE) if d <= as_of]
    return stored[-1] if stored else None


def _wired_context(
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
    if stored_scores:  # the snapshot of that date exists (see _scores_date)
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
    dates, scores_as_of = _run_dates(store, as_of, max(through or as_of, as_of))
    ctx, value = _wired_context(
        store,
        dates,
        config,
        stored_scores=scores_as_of is not None,
        years_ahead=dates["through"].year - as_of.year,
    )
    return ctx, value, scores_as_of


def _run_dates(
    store: Store, as_of: dt.date, through: dt.date
) -> tuple[dict[str, dt.date], dt.date | None]:
    """A run's dates in their order (the scores' date, if stored, then ``as_of`` and
    ``through``: compiled plans keep the order, :mod:`aftercare.store.plans`), and the date
    of the latest stored scores on or before ``as_of`` (None: none stored)."""
    scores_as_of = _scores_date(store, as_of)
    dates = {"as_of": as_of, "through": through}
    if scores_as_of is not None:
        dates = {"scores": scores_as_of, **dates}
    return dates, scores_as_of


def _plan_expression(
    store: Store,
    dates: Mapping[str, dt.date],
    config: Config,
    *,
    stored_scores: bool,
    years_ahead: int,
    customers: ir.Table | None = None,
    kept_fleet: bool = False,
    bookkeeping: bool = False,
) -> ir.Table:
    """The engine's plan (the new actions) for ``dates`` (see :func:`_wired_context`);
    with ``customers``, those customers' new actions only (the same rows as the whole
    store's plan has for them: the first piece of the incremental run, issue 11).
    ``bookkeeping``: the planned customers' wake dates and borrowing vehicles instead
    (:func:`aftercare.services.incremental.bookkeeping`)."""
    ctx, value = _wired_context(
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
    else:
        planned = plan_actions(ctx, value, store.table("contact_preferences"))
        assert planned is not None  # only planned when a rule is enabled
        plan = planned
    if customers is not None:
        plan = plan.filter(plan.customer_id.isin(customers.customer_id))
    return plan


def _stop_query(store: Store) -> CompiledQuery:
    """Open and backlog actions that consent no longer allows (R-ACT-CONSENT), as
    ``action_id``."""

    def build(_: Mapping[str, dt.date]) -> ir.Table:
        a = store.table("actions")
        to_work = a.mutate(
            status=ibis.ifelse(a.status.isin(list(ACTIVE_STATUSES)), "open", a.status)
        )
        return consent_stops(to_work, store.table("customers"), store.table("contact_preferences"))

    return plans.compiled(store, ("actions.stops",), build, {})


def _expire_query(store: Store, config: Config, as_of: dt.date) -> CompiledQuery:
    """R-ACT-EXPIRE: stored open or backlog actions expired on ``as_of``, as ``action_id``."""

    def build(d: Mapping[str, dt.date]) -> ir.Table:
        s = current_actions(store, config, as_of=d["as_of"])
        return s.filter(
            s.status == EXPIRED_STATUS, s.stored_status.isin(list(ACTIVE_STATUSES))
        ).select("action_id")

    return plans.compiled(store, ("actions.expired", config_key(config)), build, {"as_of": as_of})


def _open_loads(store: Store) -> pd.Series:
    """Open actions per advisor (``advisor_id`` → n)."""

    def build(_: Mapping[str, dt.date]) -> ir.Table:
        a = store.table("actions")
        busy = a.filter(a.status == "open", a.advisor_id.notnull())
        return busy.group_by("advisor_id").aggregate(n=busy.count())

    loads = pull_planned(store, ("actions.loads",), build)
    return loads.set_index("advisor_id").n if not loads.empty else pd.Series(dtype="int64")


def _advisors(store: Store) -> pd.DataFrame:
    return pull_planned(
        store,
        ("actions.advisors",),
        lambda _: store.table("advisors").select("advisor_id", "store_id", "role", "active"),
    )


@dataclass(frozen=True)
class _Plan:
    """A run's plan, compiled: the SQL of the new actions and the scores' date."""

    query: CompiledQuery | None  # None: no rule enabled
    scores_as_of: dt.date | None


def _compile_plan(
    store: Store,
    as_of: dt.date,
    config: Config,
    through: dt.date,
    *,
    queued: bool = False,
    bookkeeping: bool = False,
) -> _Plan:
    """The plan's SQL for the run (reads only the snapshot dates), of every customer or of
    those in ``engine_queue`` (``queued``: an incremental run), or its bookkeeping
    (:func:`_plan_expression`). Compiled once per store, configuration and
    shape, the dates put in per run (:mod:`aftercare.store.plans`)."""
    dates, scores_as_of = _run_dates(store, as_of, through)
    if not enabled_rules(config):
        return _Plan(None, scores_as_of)
    years_ahead = through.year - as_of.year
    stored = scores_as_of is not None
    shape = ("actions.plan", config_key(config), stored, years_ahead, queued, bookkeeping)
    customers = store.table(incremental.QUEUE) if queued else None
    query = plans.compiled(
        store,
        shape,
        lambda d: _plan_expression(
            store,
            d,
            config,
            stored_scores=stored,
            years_ahead=years_ahead,
            customers=customers,
            kept_fleet=queued,
            bookkeeping=bookkeeping,
        ),
        dates,
    )
    return _Plan(query, scores_as_of)


def _fetch_plan(
    store: Store,
    planned: _Plan,
    as_of: dt.date,
    config: Config,
    through: dt.date,
    queued: int | None,
) -> tuple[pa.Table | None, pa.Table | None, pa.Table | None]:
    """The plan's rows, then the planned customers' wake dates and borrowing vehicles
    (:func:`aftercare.services.incremental.bookkeeping`), before the run stores anything."""
    if planned.query is None:
        return None, None, None
    plan = planned
    if queued is not None:
        plan = _compile_plan(store, as_of, config, through, queued=True)
    assert plan.query is not None
    rows = fetch_compiled(store, plan.query)
    kept = _compile_plan(store, as_of, config, through, queued=queued is not None, bookkeeping=True)
    assert kept.query is not None
    wake, vehicles = incremental.split_rows(fetch_compiled(store, kept.query))
    return rows, wake, vehicles


def generate_actions(
    store: Store,
    as_of: dt.date,
    config: Config,
    *,
    through: dt.date | None = None,
    full: bool = False,
) -> GenerationRun:
    """Generate and store the actions due by ``through`` (default ``as_of``) (SPEC §6).

    Reruns for the same date add nothing (stable ids); open actions whose customer no longer
    allows them are stopped (R-ACT-CONSENT). Everything is stored in one transaction, under
    the store's run lock: a second run on the store waits, then plans from what the first
    stored. The counts are what this run stored (rows inserted or changed), so concurrent
    runs never each claim the same actions.

    A run after another plans only the customers whose plan may have changed since, with
    the same result as planning every customer (:mod:`aftercare.services.incremental`);
    ``full`` plans every customer.

    Raises
    ------
    StoreBusyError
        Another run holds the store longer than ``$AFTERCARE_LOCK_TIMEOUT`` allows.
    """
    store.require_transactions("actions")
    through = max(through or as_of, as_of)
    # Compiling the plan takes seconds; it reads no data, so it runs before the lock and only
    # the reads and writes wait for another run.
    planned = _compile_plan(store, as_of, config, through)
    with store_lock(store):
        if _scores_date(store, as_of) != planned.scores_as_of:  # a score run came in between
            planned = _compile_plan(store, as_of, config, through)
        scope = incremental.decide(store, as_of, planned.scores_as_of, config, full=full)
        return _generate(store, planned, scope, as_of, config, through)


def _generate(
    store: Store,
    planned: _Plan,
    scope: incremental.Scope,
    as_of: dt.date,
    config: Config,
    through: dt.date,
) -> GenerationRun:
    """:func:`generate_actions` once the store is this run's."""
    scores_as_of = planned.scores_as_of
    ran_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    queued: int | None = None
    with transaction(store):
        fill_valid_until(store, config)
        incremental.refresh_fleet(store, scope, as_of=as_of, config=config)
        if not scope.full:
            assert scores_as_of is not None  # decide() plans all without stored scores
            queued = incremental.queue_changed(
                store,
                scope,
                as_of=as_of,
                through=through,
                scores_as_of=scores_as_of,
                config=config,
            )
    plan_rows, wake, vehicles = _fetch_plan(store, planned, as_of, config, through, queued)
    new = arrow_frame(plan_rows) if plan_rows is not None else pd.DataFrame()
    # The engine returns rows in any order; ties (advisor loads, the cap) go by action id.
    new = new.sort_values("action_id", ignore_index=True) if not new.empty else new
    blocked = int(new.blocked.sum()) if not new.empty else 0
    blocked_rows = incremental.blocked_rows(new, config)
    new = new[~new.blocked].reset_index(drop=True) if not new.empty else new
    stop_ids = _stop_query(store)
    if new.empty:
        new = pd.DataFrame(columns=[*ACTIONS.names, "tier", "is_marketing", "blocked"])
    rules = enabled_rules(config)
    shares = new.rule_id.map({k: r.holdout_share for k, r in rules.items()}).fillna(0.0)
    held = schedule.holdout_mask(new.action_id, shares)
    dedicated = _current_dedicated(store)
    open_loads = _open_loads(store)
    advisors = _advisors(store)
    if new.empty:
        per_action = pd.Series(dtype="object")
        new_dedicated = pd.DataFrame(columns=["customer_id", "advisor_id"])
    else:
        per_action, new_dedicated = schedule.assign_advisors(new, advisors, dedicated, open_loads)

    week_counts, movable = _stored_contacts(store, as_of)
    due, moves = schedule.apply_weekly_cap(
        new.assign(due_day=new.due_date, is_contact=~held),
        week_counts,
        config.actions.weekly_contact_cap,
        movable,
    )
    valid_day = new.due_date.to_numpy(dtype=np.int64) + rule_valid_days(new.rule_id, config)
    vip = set(dedicated.customer_id) | set(new_dedicated.customer_id)
    stops = set(arrow_frame(fetch_compiled(store, stop_ids)).action_id)
    fit = fit_capacity(
        store,
        config,
        as_of,
        new=new.assign(
            advisor_id=per_action.reindex(new.index),
            due_day=due,
            valid_day=valid_day,
            is_contact=~held,
            vip=(new.tier == TIER_ORDER[0]).fillna(False).to_numpy(bool)
            | member(new.customer_id, vip),
        ),
        cap_moves=moves,
        movable=movable,
        week_counts=week_counts,
        vip=vip,
        stops=stops,
    )
    out = _actions_table(new, held, per_action, fit.new_due, fit.new_backlog, valid_day, as_of)
    assigned = displaced = 0
    with transaction(store):
        created = insert_new_rows(store, "actions", out).column("action_id").to_pylist()
        if not new_dedicated.empty:
            rows = new_dedicated.assign(assigned_on=as_of)
            assigned = insert_new_rows(
                store,
                DEDICATED_TABLE,
                pa.Table.from_pandas(
                    rows, schema=DEDICATED_ADVISORS.to_pyarrow(), preserve_index=False
                ),
            ).num_rows
        if not fit.moves.empty:
            _move(store, fit.moves, as_of)
            displaced = fit.displaced
        if not fit.status.empty:
            update_many(
                store,
                "actions",
                key="action_id",
                column="status",
                values=pa.Table.from_pandas(fit.status, preserve_index=False),
            )
        stopped = _stop(store, stop_ids)
        expired = set_where_in(
            store,
            "actions",
            column="status",
            value=EXPIRED_STATUS,
            key="action_id",
            keys=_expire_query(store, config, as_of),
        )
        if planned.query is not None:
            if queued is not None:  # the blocked triggers of the customers not planned
                blocked += engine_state.blocked_elsewhere(store, as_of=as_of, through=through)
            incremental.keep_blocked(store, scope, blocked_rows)
            assert wake is not None and vehicles is not None
            wake = pa.concat_tables([wake, incremental.repeat_wakes(new, config, as_of)])
            _record(
                store, scope, wake, vehicles, config, planned, as_of, through, stops, queued, ran_at
            )
    mine = member(new.action_id, created)
    counts = new.rule_id[mine].value_counts()
    plan_due = new.due_date.to_numpy(dtype=np.int64)
    return GenerationRun(
        as_of=as_of,
        through=through,
        scores_as_of=scores_as_of,
        created=int(mine.sum()),
        holdout=int((held & mine).sum()),
        blocked=blocked,
        moved_by_cap=int(((due != plan_due) & mine).sum()),
        displaced=displaced,
        stopped=stopped,
        dedicated=assigned,
        by_rule={str(k): int(v) for k, v in counts.items()},
        moved_by_capacity=int(((fit.new_due != due) & ~fit.new_backlog & mine).sum()),
        to_backlog=int((fit.new_backlog & mine).sum())
        + int((fit.status.status == BACKLOG_STATUS).sum()),
        from_backlog=int((fit.status.status == "open").sum()),
        expired=expired,
        carried=fit.carried,
        backlog=tuple(backlog_summary(store, as_of, config)),
        customers_planned=queued,
    )


def _record(
    store: Store,
    scope: incremental.Scope,
    wake: pa.Table,
    vehicles: pa.Table,
    config: Config,
    planned: _Plan,
    as_of: dt.date,
    through: dt.date,
    stops: set[str],
    queued: int | None,
    ran_at: dt.datetime,
) -> None:
    """The run's bookkeeping for the next incremental run (:mod:`.incremental`)."""
    a = store.table("actions")
    stopped = (
        set(
            a.filter(a.action_id.isin(sorted(stops)))
            .select("customer_id")
            .to_pyarrow()
            .column(0)
            .to_pylist()
        )
        if stops
        else set()
    )
    incremental.record_run(
        store,
        scope,
        wake=wake,
        vehicles=vehicles,
        as_of=as_of,
        through=through,
        stopped={c for c in stopped if c is not None},
        scores_as_of=planned.scores_as_of,
        config=config,
        planned=queued,
        ran_at=ran_at,
    )


def _stored_contacts(store: Store, as_of: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stored contacts from the Monday of ``as_of``'s week on, for R-ACT-CAP.

    Returns the fixed ones counted per customer and week (customer_id, week_start,
    contacts) and the movable ones (open, no outcome yet: customer_id, due_day, priority,
    expected_value, action_id, rule_id, channel, advisor_id, valid_until).
    """

    def build(d: Mapping[str, dt.date]) -> ir.Table:
        a = store.table("actions")
        tried = store.table("action_outcomes").select(t_action_id="action_id").distinct()
        a = a.filter(a.status.isin(list(CONTACT_STATUSES)), a.due_date >= as_date(d["week_start"]))
        a = a.left_join(tried, a.action_id == tried.t_action_id)
        return a.select(
            "action_id",
            "customer_id",
            "due_date",
            "priority",
            "expected_value",
            "rule_id",
            "channel",
            "advisor_id",
            "valid_until",
            is_movable=(a.status == "open") & a.t_action_id.isnull(),
        )

    monday = iso_week(as_of)[0]
    rows = pull_planned(store, ("actions.week_contacts",), build, {"week_start": monday})
    movable_cols = [
        "customer_id",
        "due_day",
        "priority",
        "expected_value",
        "action_id",
        "rule_id",
        "channel",
        "advisor_id",
        "valid_until",
    ]
    if rows.empty:
        empty = pd.DataFrame(columns=["customer_id", "week_start", "contacts"])
        return empty, pd.DataFrame(columns=movable_cols)
    rows["week_start"] = schedule.monday(rows.due_date.to_numpy(dtype=np.int64))
    fixed = rows[~rows.is_movable.astype(bool)]
    counts = fixed.groupby(["customer_id", "week_start"], as_index=False).size()
    movable = rows[rows.is_movable.astype(bool)].rename(columns={"due_date": "due_day"})
    return counts.rename(columns={"size": "contacts"}), movable[movable_cols].reset_index(drop=True)


def _move(store: Store, moves: pd.DataFrame, as_of: dt.date) -> int:
    """Give each action of ``moves`` its new due date and log the move (R-ACT-CAP,
    R-ACT-CAPACITY: ``reason``); return the moves logged.

    An action moved twice on one day (two runs of one date) keeps one log row, the first.
    """
    log = pa.table(
        {
            "action_id": pa.array(moves.action_id, pa.string()),
            "moved_on": pa.array([as_of] * len(moves), pa.date32()),
            "from_due_date": date_array(moves.from_day.to_numpy()),
            "to_due_date": date_array(moves.to_day.to_numpy()),
            "reason": pa.array(moves.reason, pa.string()),
        },
        schema=ACTION_MOVES.to_pyarrow(),
    )
    made = insert_new_rows(store, MOVES_TABLE, log).num_rows
    due = log.select(["action_id", "to_due_date"]).rename_columns(["action_id", "due_date"])
    update_many(store, "actions", key="action_id", column="due_date", values=due)
    return made


def _stop(store: Store, stop_ids: CompiledQuery) -> int:
    """Stop the open actions of ``stop_ids``; return how many this run stopped."""
    return set_where_in(
        store, "actions", column="status", value="stopped", key="action_id", keys=stop_ids
    )


def _current_dedicated(store: Store) -> pd.DataFrame:
    """Each platinum customer's dedicated advisor: the latest assignment (R-ACT-ADVISOR)."""

    def build(_: Mapping[str, dt.date]) -> ir.Table:
        d = store.table(DEDICATED_TABLE)
        latest = latest_per_key(
            d, "customer_id", [ibis.desc("assigned_on"), ibis.desc("advisor_id")]
        )
        return latest.select("customer_id", "advisor_id")

    out = pull_planned(store, ("actions.dedicated",), build)
    return out if not out.empty else pd.DataFrame(columns=["customer_id", "advisor_id"])


def _actions_table(
    new: pd.DataFrame,
    held: np.ndarray,
    advisor: pd.Series,
    due: np.ndarray,
    backlog: np.ndarray,
    valid_day: np.ndarray,
    as_of: dt.date,
) -> pa.Table:
    """The new rows of ``actions`` (schema :data:`model.ACTIONS`)."""
    n = len(new)
    cols = {
        "action_id": pa.array(new.action_id, pa.string()),
        "rule_id": pa.array(new.rule_id, pa.string()),
        "trigger_key": pa.array(new.trigger_key, pa.string()),
        "trigger_date": date_array(new.trigger_date.to_numpy()),
        "customer_id": pa.array(new.customer_id, pa.string()),
        "vin": pa.array(new.vin.astype(object).where(new.vin.notna(), None), pa.string()),
        "store_id": pa.array(
            new.store_id.astype(object).where(new.store_id.notna(), None), pa.string()
        ),
        "advisor_id": pa.array(advisor.astype(object).where(advisor.notna(), None), pa.string()),
        "due_date": date_array(due),
        "original_due_date": date_array(new.original_due_date.to_numpy()),
        "priority": pa.array(new.priority, pa.string()),
        "channel": pa.array(new.channel, pa.string()),
        "is_marketing": pa.array(new.is_marketing.astype(bool), pa.bool_()),
        "expected_value": pa.array(new.expected_value.astype(float), pa.float64()),
        "status": pa.array(
            np.where(held, "holdout", np.where(backlog, BACKLOG_STATUS, "open")), pa.string()
        ),
        "evidence": pa.array(new.evidence, pa.string()),
        "created_on": pa.array([as_of] * n, pa.date32()),
        "valid_until": date_array(valid_day),
    }
    return pa.table(cols, schema=ACTIONS.to_pyarrow())
