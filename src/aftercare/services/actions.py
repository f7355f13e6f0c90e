"""Run the action engine for an as-of date and read the call list (SPEC §6).

The only module of the playbook that touches the store: it builds the rules' lazy inputs,
runs the engine's plan once, schedules the new actions (holdout, advisor, weekly cap) and
stores them, the dedicated-advisor assignments and the stops in one transaction, holding the
store's run lock (:mod:`aftercare.store.locks`) from its first read of the store's rows.

Scores: the latest stored ``customer_scores`` snapshot on or before the as-of date (its tier
moves fire A-TIER-UP/DOWN); without any, scores are computed for the as-of date on the fly
(no moves then).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from aftercare.config import Config
from aftercare.playbook import schedule
from aftercare.playbook.consent import consent_stops
from aftercare.playbook.context import computed_scores, wire_rule_context
from aftercare.playbook.engine import enabled_rules, plan_actions
from aftercare.playbook.rules import RuleContext
from aftercare.schema.playbook import ACTION_MOVES, ACTIONS, DEDICATED_ADVISORS
from aftercare.services.call_list import action_list, actions_export
from aftercare.services.inputs import CanonicalTables, canonical_tables
from aftercare.services.scoring import SCORES_TABLE, snapshot
from aftercare.store.connect import Store
from aftercare.store.locks import store_lock
from aftercare.store.rows import insert_new_rows, set_where_in, update_by_key
from aftercare.store.snapshots import snapshot_dates, transaction
from aftercare.store.transaction import CompiledQuery, compile_query, fetch_compiled

DEDICATED_TABLE = "dedicated_advisors"
#: Statuses that are (or were) contacts, for the weekly cap.
CONTACT_STATUSES = ("open", "done")
MOVES_TABLE = "action_moves"
EPOCH = dt.date(1970, 1, 1)

__all__ = ["GenerationRun", "action_list", "actions_export", "generate_actions", "iso_week"]


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


def iso_week(day: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of the ISO week containing ``day``."""
    start = day - dt.timedelta(days=day.weekday())
    return start, start + dt.timedelta(days=6)


def _scores_date(store: Store, as_of: dt.date) -> dt.date | None:
    """The date of the latest stored scores on or before ``as_of`` (None: none stored)."""
    stored = [d for d in snapshot_dates(store, SCORES_TABLE) if d <= as_of]
    return stored[-1] if stored else None


def _scores(
    store: Store, tables: CanonicalTables, as_of: dt.date, config: Config
) -> tuple[ir.Table, dt.date | None]:
    """Latest stored scores on or before ``as_of`` (with their date), else computed ones."""
    day = _scores_date(store, as_of)
    if day is not None:
        s = snapshot(store, day)
        return s.mutate(snapshot_date=s.as_of_date), day
    return computed_scores(tables, as_of=as_of, config=config), None


def rule_context(
    store: Store, as_of: dt.date, config: Config, *, through: dt.date | None = None
) -> tuple[RuleContext, ir.Table, dt.date | None]:
    """The rules' lazy inputs for one as-of date, the customer value, and the scores' date."""
    tables = canonical_tables(store)
    scores, scores_as_of = _scores(store, tables, as_of, config)
    ctx, value = wire_rule_context(
        tables,
        scores,
        actions=store.table("actions"),
        outcomes=store.table("action_outcomes"),
        as_of=as_of,
        through=through,
        config=config,
    )
    return ctx, value, scores_as_of


def _pandas(table: ir.Table) -> pd.DataFrame:
    """Pull a small table; dates become day numbers (days since 1970-01-01)."""
    return _frame(table.to_pyarrow())


def _frame(arrow: pa.Table) -> pd.DataFrame:
    """Arrow rows as pandas; dates become day numbers (days since 1970-01-01)."""
    cols = {}
    for name in arrow.column_names:
        col = arrow.column(name)
        cols[name] = col.cast(pa.int32()) if pa.types.is_date(col.type) else col
    return pa.table(cols).to_pandas()


def _stop_expression(store: Store, config: Config) -> ir.Table:
    """Open actions that consent no longer allows (R-ACT-CONSENT), as ``action_id``."""
    return consent_stops(
        store.table("actions"), store.table("customers"), store.table("contact_preferences")
    )


@dataclass(frozen=True)
class _Plan:
    """A run's plan, compiled: the rules' inputs and the SQL of the new actions."""

    ctx: RuleContext
    query: CompiledQuery | None  # None: no rule enabled
    scores_as_of: dt.date | None


def _compile_plan(store: Store, as_of: dt.date, config: Config, through: dt.date) -> _Plan:
    """Wire the rules over the store's tables and compile the plan (reads only the dates)."""
    ctx, value, scores_as_of = rule_context(store, as_of, config, through=through)
    plan = plan_actions(ctx, value, store.table("contact_preferences"))
    return _Plan(ctx, compile_query(store, plan) if plan is not None else None, scores_as_of)


def generate_actions(
    store: Store, as_of: dt.date, config: Config, *, through: dt.date | None = None
) -> GenerationRun:
    """Generate and store the actions due by ``through`` (default ``as_of``) (SPEC §6).

    Reruns for the same date add nothing (stable ids); open actions whose customer no longer
    allows them are stopped (R-ACT-CONSENT). Everything is stored in one transaction, under
    the store's run lock: a second run on the store waits, then plans from what the first
    stored. The counts are what this run stored (rows inserted or changed), so concurrent
    runs never each claim the same actions.

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
        return _generate(store, planned, as_of, config, through)


def _generate(
    store: Store, planned: _Plan, as_of: dt.date, config: Config, through: dt.date
) -> GenerationRun:
    """:func:`generate_actions` once the store is this run's."""
    ctx, scores_as_of = planned.ctx, planned.scores_as_of
    new = _frame(fetch_compiled(store, planned.query)) if planned.query else pd.DataFrame()
    blocked = int(new.blocked.sum()) if not new.empty else 0
    new = new[~new.blocked].reset_index(drop=True) if not new.empty else new
    stop_ids = _stop_expression(store, config)
    if new.empty:
        with transaction(store):
            stopped = _stop(store, stop_ids)
        return GenerationRun(as_of, through, scores_as_of, blocked=blocked, stopped=stopped)

    rules = enabled_rules(ctx)
    shares = new.rule_id.map({k: r.holdout_share for k, r in rules.items()}).fillna(0.0)
    held = schedule.holdout_mask(new.action_id, shares)
    actions = store.table("actions")
    dedicated = _current_dedicated(store)
    busy = actions.filter(actions.status == "open", actions.advisor_id.notnull())
    loads = _pandas(busy.group_by("advisor_id").aggregate(n=busy.count()))
    open_loads = loads.set_index("advisor_id").n if not loads.empty else pd.Series(dtype="int64")
    advisors = _pandas(store.table("advisors").select("advisor_id", "store_id", "role", "active"))
    per_action, new_dedicated = schedule.assign_advisors(new, advisors, dedicated, open_loads)

    week_counts, movable = _stored_contacts(store, as_of)
    due, moves = schedule.apply_weekly_cap(
        new.assign(due_day=new.due_date, is_contact=~held),
        week_counts,
        config.actions.weekly_contact_cap,
        movable,
    )
    out = _actions_table(new, held, per_action, due, as_of)
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
        if not moves.empty:
            displaced = _move(store, moves, as_of)
        stopped = _stop(store, stop_ids)
    mine = new.action_id.isin(created).to_numpy()
    counts = new.rule_id[mine].value_counts()
    return GenerationRun(
        as_of=as_of,
        through=through,
        scores_as_of=scores_as_of,
        created=int(mine.sum()),
        holdout=int((held & mine).sum()),
        blocked=blocked,
        moved_by_cap=int(((due != new.due_date.to_numpy()) & mine).sum()),
        displaced=displaced,
        stopped=stopped,
        dedicated=assigned,
        by_rule={str(k): int(v) for k, v in counts.items()},
    )


def _stored_contacts(store: Store, as_of: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stored contacts from the Monday of ``as_of``'s week on, for R-ACT-CAP.

    Returns the fixed ones counted per customer and week (customer_id, week_start,
    contacts) and the movable ones (open, no outcome yet: customer_id, due_day, priority,
    expected_value, action_id).
    """
    week_start = int(schedule.monday(np.array([(as_of - EPOCH).days]))[0])
    a = store.table("actions")
    tried = store.table("action_outcomes").select(t_action_id="action_id").distinct()
    a = a.filter(
        a.status.isin(list(CONTACT_STATUSES)),
        a.due_date >= ibis.literal(EPOCH + dt.timedelta(days=week_start)),
    )
    a = a.left_join(tried, a.action_id == tried.t_action_id)
    rows = _pandas(
        a.select(
            "action_id",
            "customer_id",
            "due_date",
            "priority",
            "expected_value",
            is_movable=(a.status == "open") & a.t_action_id.isnull(),
        )
    )
    if rows.empty:
        empty = pd.DataFrame(columns=["customer_id", "week_start", "contacts"])
        return empty, pd.DataFrame(
            columns=["customer_id", "due_day", "priority", "expected_value", "action_id"]
        )
    rows["week_start"] = schedule.monday(rows.due_date.to_numpy(dtype=np.int64))
    fixed = rows[~rows.is_movable.astype(bool)]
    counts = fixed.groupby(["customer_id", "week_start"], as_index=False).size()
    movable = rows[rows.is_movable.astype(bool)].rename(columns={"due_date": "due_day"})
    return counts.rename(columns={"size": "contacts"}), movable.reset_index(drop=True)


def _move(store: Store, moves: pd.DataFrame, as_of: dt.date) -> int:
    """Log each move of ``moves`` and give its action the new due date; return the moves made.

    A move already logged (same action, same day) is neither logged nor applied again.
    """
    log = pa.table(
        {
            "action_id": pa.array(moves.action_id, pa.string()),
            "moved_on": pa.array([as_of] * len(moves), pa.date32()),
            "from_due_date": _dates(moves.from_day.to_numpy()),
            "to_due_date": _dates(moves.to_day.to_numpy()),
            "reason": pa.array(["R-ACT-CAP"] * len(moves), pa.string()),
        },
        schema=ACTION_MOVES.to_pyarrow(),
    )
    made = insert_new_rows(store, MOVES_TABLE, log).column("action_id")
    log = log.filter(pc.is_in(log.column("action_id"), value_set=made))
    due = log.select(["action_id", "to_due_date"]).rename_columns(["action_id", "due_date"])
    update_by_key(store, "actions", key="action_id", column="due_date", values=due)
    return log.num_rows


def _stop(store: Store, stop_ids: ir.Table) -> int:
    """Stop the open actions of ``stop_ids``; return how many this run stopped."""
    return set_where_in(
        store, "actions", column="status", value="stopped", key="action_id", keys=stop_ids
    )


def _current_dedicated(store: Store) -> pd.DataFrame:
    d = store.table(DEDICATED_TABLE)
    w = ibis.window(
        group_by="customer_id", order_by=[ibis.desc("assigned_on"), ibis.desc("advisor_id")]
    )
    d = d.mutate(pick=ibis.row_number().over(w))
    out = _pandas(d.filter(d.pick == 0).select("customer_id", "advisor_id"))
    return out if not out.empty else pd.DataFrame(columns=["customer_id", "advisor_id"])


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(days, dtype=np.int32), type=pa.int32()).cast(pa.date32())


def _actions_table(
    new: pd.DataFrame, held: np.ndarray, advisor: pd.Series, due: np.ndarray, as_of: dt.date
) -> pa.Table:
    """The new rows of ``actions`` (schema :data:`model.ACTIONS`)."""
    n = len(new)
    cols = {
        "action_id": pa.array(new.action_id, pa.string()),
        "rule_id": pa.array(new.rule_id, pa.string()),
        "trigger_key": pa.array(new.trigger_key, pa.string()),
        "trigger_date": _dates(new.trigger_date.to_numpy()),
        "customer_id": pa.array(new.customer_id, pa.string()),
        "vin": pa.array(new.vin.astype(object).where(new.vin.notna(), None), pa.string()),
        "store_id": pa.array(
            new.store_id.astype(object).where(new.store_id.notna(), None), pa.string()
        ),
        "advisor_id": pa.array(advisor.astype(object).where(advisor.notna(), None), pa.string()),
        "due_date": _dates(due),
        "original_due_date": _dates(new.original_due_date.to_numpy()),
        "priority": pa.array(new.priority, pa.string()),
        "channel": pa.array(new.channel, pa.string()),
        "is_marketing": pa.array(new.is_marketing.astype(bool), pa.bool_()),
        "expected_value": pa.array(new.expected_value.astype(float), pa.float64()),
        "status": pa.array(np.where(held, "holdout", "open"), pa.string()),
        "evidence": pa.array(new.evidence, pa.string()),
        "created_on": pa.array([as_of] * n, pa.date32()),
    }
    return pa.table(cols, schema=ACTIONS.to_pyarrow())
