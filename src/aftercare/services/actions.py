"""Run the action engine for an as-of date and read the call list (SPEC §6).

Where an engine run is put together: it runs the plan (:mod:`.action_plan`: the rules' lazy
inputs, compiled once; every customer or the queued ones, :mod:`.incremental`), schedules the
new actions (holdout, advisor, weekly cap, advisor capacity) and stores them, the
dedicated-advisor assignments, the moves, the stops and the expiries (:mod:`.run_store`) in
one transaction, holding the store's run lock (:mod:`aftercare.store.locks`) from its first
read of the store's rows.

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
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from aftercare.config import TIER_ORDER, Config
from aftercare.playbook import schedule
from aftercare.playbook.engine import enabled_rules
from aftercare.playbook.ids import member
from aftercare.playbook.outcomes import EXPIRED_STATUS
from aftercare.schema.playbook import ACTIONS, DEDICATED_ADVISORS
from aftercare.services import action_plan, incremental, run_store
from aftercare.services.action_plan import rule_context
from aftercare.services.call_list import action_list, actions_export
from aftercare.services.capacity import (
    BACKLOG_STATUS,
    BacklogRow,
    backlog_summary,
    fill_valid_until,
    fit_capacity,
    rule_valid_days,
)
from aftercare.services.frames import arrow_frame
from aftercare.services.run_store import DEDICATED_TABLE
from aftercare.store import engine_state
from aftercare.store.connect import Store
from aftercare.store.locks import store_lock
from aftercare.store.rows import insert_new_rows, set_where_in
from aftercare.store.snapshots import transaction
from aftercare.store.transaction import fetch_compiled, without_nested_loops
from aftercare.store.updates import update_many

__all__ = [
    "DEDICATED_TABLE",
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
    scores_as_of = action_plan.scores_date(store, as_of)
    planned = action_plan.compile_plan(store, as_of, config, through, scores_as_of)
    with store_lock(store):
        scores_as_of = action_plan.scores_date(store, as_of)
        if scores_as_of != planned.scores_as_of:  # a score run came in between
            planned = action_plan.compile_plan(store, as_of, config, through, scores_as_of)
        scope = incremental.decide(store, as_of, planned.scores_as_of, config, full=full)
        return _generate(store, planned, scope, as_of, config, through)


def _generate(
    store: Store,
    planned: action_plan.CompiledPlan,
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
    with without_nested_loops(store):  # PostgreSQL: the plan's estimates mislead it
        plan_rows, wake, vehicles = action_plan.fetch_plan(
            store, planned, as_of, config, through, queued
        )
    new = arrow_frame(plan_rows) if plan_rows is not None else pd.DataFrame()
    # The engine returns rows in any order; ties (advisor loads, the cap) go by action id.
    new = new.sort_values("action_id", ignore_index=True) if not new.empty else new
    blocked = int(new.blocked.sum()) if not new.empty else 0
    blocked_rows = incremental.blocked_rows(new, config)
    new = new[~new.blocked].reset_index(drop=True) if not new.empty else new
    stop_ids = run_store.stop_query(store)
    if new.empty:
        new = pd.DataFrame(columns=[*ACTIONS.names, "tier", "is_marketing", "blocked"])
    rules = enabled_rules(config)
    shares = new.rule_id.map({k: r.holdout_share for k, r in rules.items()}).fillna(0.0)
    held = schedule.holdout_mask(new.action_id, shares)
    dedicated = run_store.current_dedicated(store)
    open_loads = run_store.open_loads(store)
    advisors = run_store.advisors(store)
    if new.empty:
        per_action = pd.Series(dtype="object")
        new_dedicated = pd.DataFrame(columns=["customer_id", "advisor_id"])
    else:
        per_action, new_dedicated = schedule.assign_advisors(new, advisors, dedicated, open_loads)

    week_counts, movable = run_store.stored_contacts(store, iso_week(as_of)[0])
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
    out = run_store.actions_table(
        new, held, per_action, fit.new_due, fit.new_backlog, valid_day, as_of
    )
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
            run_store.move(store, fit.moves, as_of)
            displaced = fit.displaced
        if not fit.status.empty:
            update_many(
                store,
                "actions",
                key="action_id",
                column="status",
                values=pa.Table.from_pandas(fit.status, preserve_index=False),
            )
        stopped = run_store.stop(store, stop_ids)
        expired = set_where_in(
            store,
            "actions",
            column="status",
            value=EXPIRED_STATUS,
            key="action_id",
            keys=run_store.expire_query(store, config, as_of),
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
    planned: action_plan.CompiledPlan,
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
