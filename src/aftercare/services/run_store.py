"""What an engine run reads and writes of the stored actions besides its plan (SPEC §6).

Consent stops (R-ACT-CONSENT) and expiries (R-ACT-EXPIRE) as compiled queries; advisors, their
open loads and the platinum customers' dedicated advisors (R-ACT-ADVISOR); the stored contacts
of the run's weeks (R-ACT-CAP); the moves, stops and new rows the run writes.
:mod:`aftercare.services.actions` calls these in its transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from aftercare.config import Config, config_key
from aftercare.pipeline.latest import latest_per_key
from aftercare.pipeline.staging import as_date
from aftercare.playbook import schedule
from aftercare.playbook.consent import consent_stops
from aftercare.playbook.outcomes import EXPIRED_STATUS
from aftercare.schema.playbook import (
    ACTION_MOVES,
    ACTIONS,
    ACTIVE_STATUSES,
)
from aftercare.services.call_list import current_actions
from aftercare.services.capacity import (
    BACKLOG_STATUS,
)
from aftercare.services.frames import date_array, pull_planned
from aftercare.store import plans
from aftercare.store.connect import Store
from aftercare.store.rows import insert_new_rows, set_where_in
from aftercare.store.transaction import CompiledQuery
from aftercare.store.updates import update_many

DEDICATED_TABLE = "dedicated_advisors"
#: Statuses that are (or were) contacts, for the weekly cap: an expired action held its
#: slot in its week (it may have been tried), so it keeps counting there.
CONTACT_STATUSES = ("open", "done", "expired")
MOVES_TABLE = "action_moves"


def stop_query(store: Store) -> CompiledQuery:
    """Open and backlog actions that consent no longer allows (R-ACT-CONSENT), as
    ``action_id``."""

    def build(_: Mapping[str, dt.date]) -> ir.Table:
        a = store.table("actions")
        to_work = a.mutate(
            status=ibis.ifelse(a.status.isin(list(ACTIVE_STATUSES)), "open", a.status)
        )
        return consent_stops(to_work, store.table("customers"), store.table("contact_preferences"))

    return plans.compiled(store, ("actions.stops",), build, {})


def expire_query(store: Store, config: Config, as_of: dt.date) -> CompiledQuery:
    """R-ACT-EXPIRE: stored open or backlog actions expired on ``as_of``, as ``action_id``."""

    def build(d: Mapping[str, dt.date]) -> ir.Table:
        s = current_actions(store, config, as_of=d["as_of"])
        return s.filter(
            s.status == EXPIRED_STATUS, s.stored_status.isin(list(ACTIVE_STATUSES))
        ).select("action_id")

    return plans.compiled(store, ("actions.expired", config_key(config)), build, {"as_of": as_of})


def open_loads(store: Store) -> pd.Series:
    """Open actions per advisor (``advisor_id`` → n)."""

    def build(_: Mapping[str, dt.date]) -> ir.Table:
        a = store.table("actions")
        busy = a.filter(a.status == "open", a.advisor_id.notnull())
        return busy.group_by("advisor_id").aggregate(n=busy.count())

    loads = pull_planned(store, ("actions.loads",), build)
    return loads.set_index("advisor_id").n if not loads.empty else pd.Series(dtype="int64")


def advisors(store: Store) -> pd.DataFrame:
    return pull_planned(
        store,
        ("actions.advisors",),
        lambda _: store.table("advisors").select("advisor_id", "store_id", "role", "active"),
    )


def stored_contacts(store: Store, monday: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stored contacts from ``monday`` (of the run's ISO week) on, for R-ACT-CAP.

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


def move(store: Store, moves: pd.DataFrame, as_of: dt.date) -> int:
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


def stop(store: Store, stop_ids: CompiledQuery) -> int:
    """Stop the open actions of ``stop_ids``; return how many this run stopped."""
    return set_where_in(
        store, "actions", column="status", value="stopped", key="action_id", keys=stop_ids
    )


def current_dedicated(store: Store) -> pd.DataFrame:
    """Each platinum customer's dedicated advisor: the latest assignment (R-ACT-ADVISOR)."""

    def build(_: Mapping[str, dt.date]) -> ir.Table:
        d = store.table(DEDICATED_TABLE)
        latest = latest_per_key(
            d, "customer_id", [ibis.desc("assigned_on"), ibis.desc("advisor_id")]
        )
        return latest.select("customer_id", "advisor_id")

    out = pull_planned(store, ("actions.dedicated",), build)
    return out if not out.empty else pd.DataFrame(columns=["customer_id", "advisor_id"])


def actions_table(
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
