"""Advisor capacity and action validity (R-ACT-CAPACITY, R-ACT-EXPIRE) for one engine run.

:func:`fit_capacity` places a run's contacts on their advisors' working days (the placement
itself is :func:`aftercare.playbook.schedule.apply_capacity`): the new ones, the stored ones
the weekly cap moved, the stored backlog still valid and the open calls carried over from
days before the run; :func:`backlog_summary` reads each store's backlog;
:func:`rule_valid_days` and :func:`fill_valid_until` give each action its validity. Only
:func:`fill_valid_until` writes; :mod:`aftercare.services.actions` writes what the placement
decides in its transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from aftercare.config import Config, config_key
from aftercare.config.actions import RuleConfig
from aftercare.playbook import schedule
from aftercare.playbook.ids import member
from aftercare.schema.playbook import ACTIVE_STATUSES
from aftercare.services.call_list import current_actions
from aftercare.services.frames import EPOCH, date_array, pull_planned
from aftercare.store import plans
from aftercare.store.connect import Store
from aftercare.store.rows import has_value
from aftercare.store.transaction import fetch_compiled
from aftercare.store.updates import update_many

BACKLOG_STATUS = "backlog"
CAP_REASON = "R-ACT-CAP"
CAPACITY_REASON = "R-ACT-CAPACITY"
#: ``valid_days`` of a rule the config no longer names (a custom rule removed since).
DEFAULT_VALID_DAYS: int = RuleConfig.model_fields["valid_days"].default


@dataclass(frozen=True)
class BacklogRow:
    """R-ACT-CAPACITY: one store's backlog (actions no advisor day had room for)."""

    store_id: str | None
    actions: int
    expected_value: float


def backlog_summary(store: Store, as_of: dt.date, config: Config) -> list[BacklogRow]:
    """R-ACT-CAPACITY: each store's backlog on ``as_of``: actions and their expected value.

    Grain: one row per store with a backlog (``store_id`` None: actions of no store),
    ordered by store. An action is in the backlog while its status on ``as_of`` is
    ``backlog`` (not closed by an outcome, not stopped, not yet expired): only an action
    stored in the backlog can be, so a store with none reads nothing more.
    """
    if not has_value(store, "actions", column="status", value=BACKLOG_STATUS):
        return []

    def build(d: Mapping[str, dt.date]) -> ir.Table:
        s = current_actions(store, config, as_of=d["as_of"])
        s = s.filter(s.status == BACKLOG_STATUS)
        return (
            s.group_by("store_id")
            .aggregate(actions=s.count(), expected_value=s.expected_value.sum())
            .order_by("store_id")
        )

    query = plans.compiled(store, ("backlog", config_key(config)), build, {"as_of": as_of})
    rows = fetch_compiled(store, query).to_pylist()
    return [
        BacklogRow(r["store_id"], int(r["actions"]), round(float(r["expected_value"] or 0.0), 2))
        for r in rows
    ]


def rule_valid_days(rule_ids: pd.Series, config: Config) -> np.ndarray:
    """R-ACT-EXPIRE: each rule's ``valid_days`` (built-in or custom; a rule no longer
    configured: the default), one per row of ``rule_ids``."""
    days = {rule_id: rule.valid_days for rule_id, rule in config.actions.rules.items()}
    days.update({rule.rule_id: rule.valid_days for rule in config.actions.custom_rules})
    return rule_ids.map(days).fillna(DEFAULT_VALID_DAYS).to_numpy(np.int64)


def due_when_stored(actions: ir.Table) -> ir.DateValue:
    """The day each action was due when the engine stored it: ``max(original_due_date,
    created_on)`` (after catch-up, before the weekly cap or capacity moved it); ``due_date``
    where those are empty (rows of an older Aftercare). R-ACT-EXPIRE counts validity from it,
    and the week's volume plans an action in its week."""
    a = actions
    return ibis.greatest(
        a.original_due_date.fill_null(a.due_date), a.created_on.fill_null(a.due_date)
    ).fill_null(a.due_date)


def fill_valid_until(store: Store, config: Config) -> int:
    """Give open and backlog actions stored without ``valid_until`` (by an older Aftercare)
    theirs: :func:`due_when_stored` + the rule's current ``valid_days``. Writes them."""

    def build(_: Mapping[str, dt.date]) -> ir.Table:
        a = store.table("actions")
        return a.filter(a.valid_until.isnull(), a.status.isin(list(ACTIVE_STATUSES))).select(
            "action_id", "rule_id", due=due_when_stored(a)
        )

    old = pull_planned(store, ("valid_until.missing",), build)
    if old.empty:
        return 0
    days = rule_valid_days(old.rule_id, config)
    values = pa.table(
        {
            "action_id": pa.array(old.action_id, pa.string()),
            "valid_until": date_array(old.due.to_numpy(dtype=np.int64) + days),
        }
    )
    update_many(store, "actions", key="action_id", column="valid_until", values=values)
    return len(old)


@dataclass(frozen=True)
class CapacityFit:
    """R-ACT-CAPACITY's outcome for one run."""

    new_due: np.ndarray  # due day of each new action
    new_backlog: np.ndarray  # True: the new action goes to the backlog
    moves: pd.DataFrame  # stored actions: action_id, from_day, to_day, reason
    status: pd.DataFrame  # stored actions changing status: action_id, status
    displaced: int  # stored actions the weekly cap moved (R-ACT-CAP), capacity after it
    carried: int  # open calls due before as_of placed on a day from as_of on


def fit_capacity(
    store: Store,
    config: Config,
    as_of: dt.date,
    *,
    new: pd.DataFrame,
    cap_moves: pd.DataFrame,
    movable: pd.DataFrame,
    week_counts: pd.DataFrame,
    vip: set[str],
    stops: set[str],
) -> CapacityFit:
    """Place the run's contacts on their advisors' working days (R-ACT-CAPACITY).

    ``new``: the new actions with advisor_id, due_day (after the cap), valid_day, is_contact
    and vip; ``cap_moves``: the stored actions the cap moved (action_id, from_day, to_day);
    ``movable``/``week_counts``: the stored contacts of
    :func:`aftercare.services.run_store.stored_contacts`.
    """
    capacity = config.actions.capacity
    channels = list(capacity.channels)
    cap_moves = cap_moves.astype({"action_id": object, "from_day": np.int64, "to_day": np.int64})
    first_day = (as_of - EPOCH).days
    cols = [
        "action_id",
        "advisor_id",
        "customer_id",
        "due_day",
        "valid_day",
        "priority",
        "expected_value",
        "vip",
        "stored",
        "counted_week",
    ]
    new_due = new.due_day.to_numpy(dtype=np.int64).copy()
    new_backlog = np.zeros(len(new), dtype=bool)

    # The customers' weeks (R-ACT-CAP) as the cap left them.
    mov_day = movable.due_day.to_numpy(np.int64).copy()
    was_capped = member(movable.action_id, cap_moves.action_id)
    if was_capped.any():
        moved_to = cap_moves.set_index("action_id").to_day
        mov_day[was_capped] = movable.action_id[was_capped].map(moved_to).to_numpy(np.int64)
    weeks = pd.concat(
        [
            week_counts.rename(columns={"week_start": "week"}),
            pd.DataFrame(
                {
                    "customer_id": movable.customer_id,
                    "week": schedule.monday(mov_day),
                    "contacts": 1,
                }
            ),
            pd.DataFrame(
                {
                    "customer_id": new.customer_id[new.is_contact],
                    "week": schedule.monday(new_due[new.is_contact.to_numpy(bool)]),
                    "contacts": 1,
                }
            ),
        ],
        ignore_index=True,
    )

    # New contacts on the capacity channels with an advisor.
    take = (new.is_contact & new.channel.isin(channels) & new.advisor_id.notna()).to_numpy(bool)
    parts = [
        new.loc[take].assign(
            stored=False, counted_week=schedule.monday(new_due[take]), pos=np.flatnonzero(take)
        )
    ]
    # Stored actions the cap moved, on the capacity channels.
    moved = movable[was_capped].merge(cap_moves[["action_id", "to_day"]], on="action_id")
    moved = moved[moved.channel.isin(channels) & moved.advisor_id.notna()]
    moved = moved.assign(valid_day=_valid_day(moved, config))
    moved = moved.assign(
        due_day=moved.to_day,
        vip=member(moved.customer_id, vip),
        stored=True,
        counted_week=schedule.monday(moved.to_day.to_numpy(np.int64)),
        pos=_CAP_MOVED,
    )
    parts.append(moved)
    # Stored backlog still valid, the open calls carried over from before ``as_of`` (not
    # worked by their day, or a missed call to try again), and the fixed load of every
    # advisor's day.
    backlog, carried, fixed = _stored_capacity(store, config, as_of)
    carried = carried[~member(carried.action_id, moved.action_id)]
    # A carried call is counted in the week it was due; a backlog action in none.
    parts.append(_stored_items(carried, config, stops, vip, pos=_CARRIED, counted=True))
    parts.append(_stored_items(backlog, config, stops, vip, pos=_BACKLOG, counted=False))
    fixed = fixed[~member(fixed.action_id, stops) & ~member(fixed.action_id, moved.action_id)]
    day_counts = fixed.groupby(["advisor_id", "due_date"], as_index=False).size()
    day_counts = day_counts.rename(columns={"due_date": "day", "size": "n"})

    items = schedule.capacity_order(
        pd.concat([p[[*cols, "pos"]] for p in parts if not p.empty], ignore_index=True)
        if any(not p.empty for p in parts)
        else pd.DataFrame(columns=[*cols, "pos"])
    )
    placed = schedule.apply_capacity(
        items,
        day_counts,
        weeks,
        calls_per_day=capacity.calls_per_day,
        working_days=capacity.weekday_numbers,
        weekly_cap=config.actions.weekly_contact_cap,
        first_day=first_day,
    )
    to_backlog = placed == schedule.BACKLOG
    pos = items.pos.to_numpy(dtype=np.int64)
    is_new = pos >= 0
    new_due[pos[is_new & ~to_backlog]] = placed[is_new & ~to_backlog]
    new_backlog[pos[is_new & to_backlog]] = True

    # Stored ones the cap moved: the cap's day, then capacity's; the backlog when none fits.
    was_moved = pos == _CAP_MOVED
    cap_ids = items.action_id[was_moved].to_numpy()
    cap_final = np.where(to_backlog[was_moved], items.due_day[was_moved], placed[was_moved])
    finals = pd.Series(cap_final, index=cap_ids)
    move_rows = cap_moves.assign(
        to_day=cap_moves.action_id.map(finals).fillna(cap_moves.to_day).astype(np.int64)
    )
    move_rows = move_rows.assign(
        reason=np.where(
            move_rows.action_id.map(finals).notna()
            & (move_rows.to_day.to_numpy() != cap_moves.to_day.to_numpy()),
            CAPACITY_REASON,
            CAP_REASON,
        )
    )
    displaced = int((move_rows.from_day != move_rows.to_day).sum())
    # Stored backlog placed on a day again, and the calls carried over: on a day from
    # ``as_of`` on (the move logged), or the backlog when none has room.
    was_backlog = pos == _BACKLOG
    was_carried = pos == _CARRIED
    back_ids = items.action_id[was_backlog & ~to_backlog].to_numpy()
    on_day = (was_backlog | was_carried) & ~to_backlog
    move_rows = pd.concat(
        [
            move_rows[["action_id", "from_day", "to_day", "reason"]],
            pd.DataFrame(
                {
                    "action_id": items.action_id[on_day].to_numpy(),
                    "from_day": items.due_day[on_day].to_numpy(np.int64),
                    "to_day": placed[on_day],
                    "reason": CAPACITY_REASON,
                }
            ),
        ],
        ignore_index=True,
    )
    move_rows = move_rows[move_rows.from_day.astype(np.int64) != move_rows.to_day.astype(np.int64)]
    unplaced = np.concatenate(
        [cap_ids[to_backlog[was_moved]], items.action_id[was_carried & to_backlog].to_numpy()]
    )
    status = pd.DataFrame(
        {
            "action_id": np.concatenate([unplaced, back_ids]),
            "status": [BACKLOG_STATUS] * len(unplaced) + ["open"] * len(back_ids),
        }
    )
    carried_placed = int((was_carried & ~to_backlog).sum())
    return CapacityFit(
        new_due, new_backlog, move_rows.reset_index(drop=True), status, displaced, carried_placed
    )


#: ``pos`` of the stored items of :func:`fit_capacity` (new ones carry their row number).
_CAP_MOVED, _BACKLOG, _CARRIED = -1, -2, -3


def _stored_items(
    rows: pd.DataFrame,
    config: Config,
    stops: set[str],
    vip: set[str],
    *,
    pos: int,
    counted: bool,
) -> pd.DataFrame:
    """Stored actions of :func:`_stored_capacity` as capacity items: not stopped, due from
    their stored due date, valid to ``valid_until``; ``counted``: counted in the customer's
    week of that date (R-ACT-CAP), else in none."""
    rows = rows[~member(rows.action_id, stops)]
    due = rows.due_date.to_numpy(np.int64)
    rows = rows.assign(due_day=due)
    return rows.assign(
        valid_day=_valid_day(rows, config),
        vip=member(rows.customer_id, vip),
        stored=True,
        counted_week=schedule.monday(due) if counted else -1,
        pos=pos,
    )


def _valid_day(rows: pd.DataFrame, config: Config) -> np.ndarray:
    """Stored rows' ``valid_until`` as day numbers (NULL: from the rule, see
    :func:`fill_valid_until`; ``due_day`` stands in for the date it was due when stored)."""
    fallback = rows.due_day.to_numpy(dtype=np.int64) + rule_valid_days(rows.rule_id, config)
    stored = pd.to_numeric(rows.valid_until, errors="coerce")
    return np.where(stored.isna(), fallback, stored.fillna(0)).astype(np.int64)


#: What the capacity placement reads of each stored backlog action.
_BACKLOG_COLUMNS = (
    "action_id",
    "rule_id",
    "customer_id",
    "advisor_id",
    "due_date",
    "valid_until",
    "priority",
    "expected_value",
)


def _stored_capacity(
    store: Store, config: Config, as_of: dt.date
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The stored backlog still valid on ``as_of``, the open calls carried over to it, and
    the stored open contacts from then on.

    Returns the backlog and the carried-over calls (open on ``as_of`` but due before it: not
    worked by their day, or tried without an answer), both as action_id, rule_id,
    customer_id, advisor_id, due_date, valid_until, priority, expected_value; and the open
    actions due on or after ``as_of`` (action_id, advisor_id, due_date). All three: on the
    capacity channels, with an advisor, not closed by an outcome, not expired.
    """

    def build(d: Mapping[str, dt.date]) -> ir.Table:
        s = current_actions(store, config, as_of=d["as_of"])
        return s.filter(
            s.channel.isin(list(config.actions.capacity.channels)),
            s.advisor_id.notnull(),
            s.status.isin(["open", BACKLOG_STATUS]),
        ).select(*_BACKLOG_COLUMNS, "status")

    # One query for the three: the status derivation is the costly part.
    rows = pull_planned(store, ("capacity.stored", config_key(config)), build, {"as_of": as_of})
    if rows.empty:
        rows = pd.DataFrame(columns=[*_BACKLOG_COLUMNS, "status"])
    day = (as_of - EPOCH).days
    is_open = (rows.status == "open").to_numpy(bool)
    before = (pd.to_numeric(rows.due_date) < day).to_numpy(bool)
    columns = list(_BACKLOG_COLUMNS)
    backlog = rows.loc[~is_open, columns].reset_index(drop=True)
    carried = rows.loc[is_open & before, columns].reset_index(drop=True)
    fixed = rows.loc[is_open & ~before, ["action_id", "advisor_id", "due_date"]]
    return backlog, carried, fixed.reset_index(drop=True)
