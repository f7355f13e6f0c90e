"""Schedule one run's new actions: holdout, advisor, weekly cap (R-ACT-HOLDOUT/ADVISOR/CAP).

Works on the reduced set of one run's new actions (the engine's plan, pulled as Arrow),
vectorised with NumPy/pandas: no Python loop per action. Loops below run over *rounds*
(the n-th action of every customer at once) and *weeks ahead*, both a handful.

Decisions:

- Holdout: an action is in its rule's control group when the 8 hex digits after the ``A``
  of its id, read as a fraction of 16⁸, fall below the rule's ``holdout_share`` — random
  across triggers, yet the same on every run. Holdout actions are stored with status
  ``holdout`` and are not contacts (they neither count toward nor move under the cap).
- Advisor (R-ACT-ADVISOR): a platinum customer keeps their dedicated advisor while that
  advisor is active (``dedicated_advisors``: latest row per customer); one without gets
  the least-loaded active advisor (role ``advisor``) of their store — load = platinum
  customers dedicated to them — ties by advisor id; customers with most value first.
  Everyone else: their ``customers.advisor_id`` if active, else the advisor of their last
  service order if active, else the store's least-loaded active advisor (load = open
  actions). A store without active advisors borrows from every store's. Actions that need
  a manager (win-back after a bad experience) go to the store's least-loaded active
  manager, when there is one.
- Cap (R-ACT-CAP): at most ``weekly_contact_cap`` contacts per customer per ISO week by due
  date, counting stored open and done actions. A customer's new actions and their stored
  open, untried actions of this week or later are placed together by priority (stored
  first within one priority), then expected value, then due date; one that finds its week
  full moves to the Monday of the first later week with room. So a new complaint displaces
  a stored maintenance reminder, never the other way round (``original_due_date`` keeps a
  new action's date before the move; a stored action's move is logged by the service).
- Capacity (R-ACT-CAPACITY), after the cap: at most ``calls_per_day`` contacts on the
  capacity channels (an advisor's own work: phone, WeChat) per advisor per working day, by
  due date. Stored open actions not closed by an outcome keep their day and fill it (first
  come keeps its slot). The run's actions to place (new ones, stored ones the cap moved,
  stored backlog still valid, stored open calls carried over from days before the run) are
  placed day by day from their due date (the run's day at the earliest): each working day
  takes them by priority, then platinum/dedicated customers first, then stored before new,
  then expected value (highest first), due date and id; one that does not fit waits for
  the next working day with room, never past its ``valid_until`` (R-ACT-EXPIRE: a move
  never extends validity) and never into a week where the customer already has their
  ``weekly_contact_cap`` contacts. What finds no day goes to the store's backlog. So an
  action due on a non-working day moves to the next working day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from aftercare.config import TIER_ORDER
from aftercare.errors import ConfigError
from aftercare.playbook.ids import id_codes, member
from aftercare.playbook.rules import PRIORITY_ORDER

ANY_STORE = "\x00any"
HEX_DIGITS = 8
_HEX = np.zeros(256, dtype=np.int64)
for _i, _ch in enumerate(b"0123456789abcdef"):
    _HEX[_ch] = _i
    _HEX[ord(chr(_ch).upper())] = _i


def id_fraction(action_ids: pd.Series) -> np.ndarray:
    """Each action id's hex digits 2–9 as a fraction in [0, 1) (uniform: ids are MD5)."""
    raw = np.asarray(action_ids.str.slice(1, 1 + HEX_DIGITS), dtype=f"S{HEX_DIGITS}")
    digits = raw.view(np.uint8).reshape(-1, HEX_DIGITS)
    weights = 16 ** np.arange(HEX_DIGITS - 1, -1, -1, dtype=np.int64)
    return (_HEX[digits] * weights).sum(axis=1) / float(16**HEX_DIGITS)


def holdout_mask(action_ids: pd.Series, shares: pd.Series) -> np.ndarray:
    """R-ACT-HOLDOUT: True for actions in their rule's control group."""
    if action_ids.empty:
        return np.zeros(0, dtype=bool)
    return id_fraction(action_ids) < shares.to_numpy(dtype=float)


def least_loaded(items: pd.DataFrame, pool: pd.DataFrame) -> pd.Series:
    """Give each item the least-loaded advisor of its group, in item order (water-filling).

    Parameters
    ----------
    items
        Column ``group``; rows in the order they should be served (index kept).
    pool
        Columns ``group``, ``advisor_id``, ``load`` (current load, ints).

    Returns
    -------
    pd.Series
        Advisor id per item (index of ``items``); missing when the group has no advisor.
        The result equals giving items one by one to the advisor with the lowest load
        (ties: smallest advisor id), each gift adding one to the load.
    """
    out = pd.Series(pd.NA, index=items.index, dtype="object")
    if items.empty or pool.empty:
        return out
    k = items.groupby("group").size().rename("k")
    p = pool.merge(k, left_on="group", right_index=True)
    if p.empty:
        return out
    stats = p.groupby("group").agg(
        m=("advisor_id", "size"), total=("load", "sum"), k=("k", "first")
    )
    # The final water level never exceeds ceil((k + total load) / advisors).
    stats["level"] = np.ceil((stats.k + stats.total) / stats.m).astype(np.int64)
    p = p.merge(stats[["level"]], left_on="group", right_index=True).reset_index(drop=True)
    slots = (p.level - p.load).clip(lower=0).to_numpy()
    rep = p.loc[p.index.repeat(slots), ["group", "advisor_id", "load"]]
    rep["slot_load"] = rep.load.to_numpy() + rep.groupby(level=0).cumcount().to_numpy()
    rep = rep.sort_values(["group", "slot_load", "advisor_id"], kind="stable")
    rep["i"] = rep.groupby("group").cumcount()
    served = items[["group"]].assign(i=items.groupby("group").cumcount().to_numpy())
    served = served.reset_index(names="_row").merge(
        rep[["group", "i", "advisor_id"]], on=["group", "i"], how="left"
    )
    out.loc[served._row.to_numpy()] = served.advisor_id.to_numpy()
    return out


def _pool(advisors: pd.DataFrame, role: str, loads: pd.Series) -> pd.DataFrame:
    """Active advisors of ``role`` with their loads, per store and under :data:`ANY_STORE`."""
    a = advisors[advisors.is_active & (advisors.role_name == role)]
    a = a.assign(load=a.advisor_id.map(loads).fillna(0).astype(np.int64))
    own = a.assign(group=a.store_id.fillna(ANY_STORE))
    return pd.concat([own, a.assign(group=ANY_STORE)])[["group", "advisor_id", "load"]]


def _group(store_ids: pd.Series, pool: pd.DataFrame) -> pd.Series:
    staffed = set(pool.group)
    return store_ids.where(store_ids.isin(staffed), ANY_STORE).fillna(ANY_STORE)


def assign_advisors(
    plan: pd.DataFrame,
    advisors: pd.DataFrame,
    dedicated: pd.DataFrame,
    open_loads: pd.Series,
) -> tuple[pd.Series, pd.DataFrame]:
    """R-ACT-ADVISOR: the advisor of each planned action, and new dedicated assignments.

    Parameters
    ----------
    plan
        customer_id, store_id, tier, customer_advisor_id, last_order_advisor_id,
        assign_role, expected_value (one row per action).
    advisors
        advisor_id, store_id, role, active (the canonical table).
    dedicated
        customer_id, advisor_id: the current dedicated advisor of platinum customers.
    open_loads
        Open actions per advisor id.

    Returns
    -------
    tuple
        (advisor id per action, DataFrame customer_id/advisor_id of new dedications).
    """
    adv = advisors.assign(
        is_active=advisors.active.fillna(True).astype(bool),
        role_name=advisors.role.fillna("advisor"),
    )
    active_ids = set(adv.advisor_id[adv.is_active])
    advisor_ids = set(adv.advisor_id[adv.is_active & (adv.role_name == "advisor")])
    cust = (
        plan.sort_values(["expected_value", "customer_id"], ascending=[False, True])
        .drop_duplicates("customer_id")
        .set_index("customer_id")
    )
    chosen = pd.Series(pd.NA, index=cust.index, dtype="object")

    platinum = cust.tier == TIER_ORDER[0]
    sticky = dedicated.set_index("customer_id").advisor_id
    sticky = sticky[member(sticky, advisor_ids)]
    keep = platinum & member(cust.index, sticky.index)
    chosen[keep] = sticky.reindex(cust.index[keep]).to_numpy()
    need = cust[platinum & ~keep]
    new_dedicated = pd.DataFrame({"customer_id": [], "advisor_id": []}, dtype="object")
    if not need.empty:  # pools are only built for someone to serve (a day's run has few)
        pool = _pool(adv, "advisor", sticky.value_counts())
        picked = least_loaded(pd.DataFrame({"group": _group(need.store_id, pool)}), pool)
        chosen[picked.index] = picked.to_numpy()
        new_dedicated = pd.DataFrame(
            {"customer_id": picked.dropna().index, "advisor_id": picked.dropna().to_numpy()}
        )

    rest = cust[~platinum]
    own = rest.customer_advisor_id.where(member(rest.customer_advisor_id, active_ids))
    last = rest.last_order_advisor_id.where(member(rest.last_order_advisor_id, active_ids))
    first_choice = own.fillna(last)
    chosen[first_choice.dropna().index] = first_choice.dropna().to_numpy()
    orphans = rest[first_choice.isna()]
    if not orphans.empty:
        pool = _pool(adv, "advisor", open_loads)
        picked = least_loaded(pd.DataFrame({"group": _group(orphans.store_id, pool)}), pool)
        chosen[picked.index] = picked.to_numpy()

    per_action = plan.customer_id.map(chosen)
    managed = plan[plan.assign_role == "manager"]
    if not managed.empty:
        managers = _pool(adv, "manager", open_loads)
        managers = managers[managers.group != ANY_STORE]  # a manager of the customer's store
        by_manager = least_loaded(
            pd.DataFrame({"group": managed.store_id.fillna(ANY_STORE)}), managers
        )
        per_action.loc[by_manager.dropna().index] = by_manager.dropna().to_numpy()
    return per_action, new_dedicated


def monday(days: np.ndarray) -> np.ndarray:
    """The Monday (ISO week start) of each day number (days since 1970-01-01, a Thursday)."""
    return days - (days + 3) % 7


def _place(items: pd.DataFrame, counts: pd.DataFrame, cap: int) -> np.ndarray:
    """Due day of each item after the cap: its own week if it has room, else the Monday of
    the first later week with room; items are placed in row order (by rounds per customer).

    ``items``: customer_id, due_day; ``counts``: customer_id, week, contacts (fixed ones).
    Counts live in a customer × week grid (integer codes), so a round is array indexing.
    """
    due = items.due_day.to_numpy(dtype=np.int64).copy()
    if items.empty:
        return due
    customer, (counted,), n_customers = id_codes(items.customer_id, counts.customer_id)
    mine = counted >= 0  # other customers' weeks are never looked up
    fixed_weeks = counts.week.to_numpy(dtype=np.int64)[mine]  # Mondays, as the items' weeks
    item_weeks = monday(due)
    first = int(np.concatenate([item_weeks, fixed_weeks]).min())
    week = (item_weeks - first) // 7  # week index of each item
    fixed = (fixed_weeks - first) // 7
    contacts = counts.contacts.to_numpy(dtype=np.int64)[mine]
    # An item moves past full weeks of its customer only: at most (their contacts) / cap.
    per_customer = np.bincount(customer, minlength=n_customers) + np.bincount(
        counted[mine], weights=contacts, minlength=n_customers
    ).astype(np.int64)
    last = int(np.concatenate([week, fixed]).max())
    span = last + int(per_customer.max()) // max(cap, 1) + 2
    grid = np.zeros((n_customers, span), dtype=np.int32)
    np.add.at(grid, (counted[mine], fixed), contacts)
    rounds = _rank_within(customer)
    for rnd in range(int(rounds.max()) + 1):
        pending = np.flatnonzero(rounds == rnd)  # one item per customer
        at = week[pending].copy()
        while pending.size:
            fits = grid[customer[pending], at] < cap
            done, where = pending[fits], at[fits]
            grid[customer[done], where] += 1
            moved = where != week[done]
            due[done[moved]] = first + 7 * where[moved]
            pending, at = pending[~fits], at[~fits] + 1
    return due


def apply_weekly_cap(
    plan: pd.DataFrame,
    week_counts: pd.DataFrame,
    cap: int,
    movable: pd.DataFrame | None = None,
) -> tuple[np.ndarray, pd.DataFrame]:
    """R-ACT-CAP: due day numbers after moving what does not fit the customer's week.

    A customer's contacts are placed by priority — stored movable ones before new ones of
    the same priority (first come keeps its slot) — then expected value, due date and id.
    So a new higher-priority action (a complaint) takes the slot of a stored lower-priority
    one, which waits: it moves to the Monday of the first later week with room.

    Parameters
    ----------
    plan
        customer_id, due_day (days since epoch), priority, expected_value, action_id,
        is_contact (holdout actions are not contacts and never move).
    week_counts
        customer_id, week_start (day number of a Monday), contacts: stored contacts that
        never move (done, tried, or from earlier weeks).
    cap
        Contacts allowed per customer per ISO week.
    movable
        Stored open actions not yet tried, of the current week or later (same columns as
        ``plan`` without ``is_contact``); only those of customers with a new contact are
        placed again.

    Returns
    -------
    tuple
        (due day of each ``plan`` row, DataFrame action_id / from_day / to_day of the
        stored actions that had to move).
    """
    if cap < 1:
        raise ConfigError("actions.weekly_contact_cap must be at least 1")
    cols = ["customer_id", "due_day", "priority", "expected_value", "action_id"]
    due = plan.due_day.to_numpy(dtype=np.int64).copy()
    no_moves = pd.DataFrame({"action_id": [], "from_day": [], "to_day": []})
    contact = plan.is_contact.to_numpy(dtype=bool)
    if not contact.any():
        return due, no_moves
    new = plan.loc[contact, cols].assign(newcomer=1, pos=np.flatnonzero(contact))
    parts = [new]
    if movable is not None and not movable.empty:
        mine = movable[member(movable.customer_id, new.customer_id)]
        parts.append(mine[cols].assign(newcomer=0, pos=-1))
    items = pd.concat(parts, ignore_index=True)
    items["rank"] = items.priority.map({p: i for i, p in enumerate(PRIORITY_ORDER)}).fillna(
        len(PRIORITY_ORDER)
    )
    items = items.sort_values(
        ["customer_id", "rank", "newcomer", "expected_value", "due_day", "action_id"],
        ascending=[True, True, True, False, True, True],
        kind="stable",
    ).reset_index(drop=True)
    counts = week_counts.rename(columns={"week_start": "week"})
    placed = _place(items, counts, cap)
    is_new = items.pos.to_numpy() >= 0
    due[items.pos.to_numpy()[is_new]] = placed[is_new]
    old_day = items.due_day.to_numpy(dtype=np.int64)
    moved = ~is_new & (placed != old_day)
    moves = pd.DataFrame(
        {
            "action_id": items.action_id.to_numpy()[moved],
            "from_day": old_day[moved],
            "to_day": placed[moved],
        }
    )
    return due, moves


#: Day number 0 (1970-01-01) was a Thursday: weekday (Monday = 0) of day ``d`` is (d + 3) % 7.
_EPOCH_WEEKDAY = 3
#: Placed day of an action that found no day with room (R-ACT-CAPACITY: the backlog).
BACKLOG = -1


def weekday(days: np.ndarray) -> np.ndarray:
    """Weekday (Monday = 0) of each day number (days since 1970-01-01)."""
    return (np.asarray(days, dtype=np.int64) + _EPOCH_WEEKDAY) % 7


def capacity_order(items: pd.DataFrame) -> pd.DataFrame:
    """``items`` in R-ACT-CAPACITY's order: priority (an unknown one last), platinum/dedicated
    first, stored before new, expected value (highest first, unknown last), due day, action id
    (index reset).

    Sorted by Arrow on the keys alone: a night of a 1M-customer store orders every still-valid
    backlog action (~650k at the month's end), 0.4-0.6 s less than pandas' sort of the frame.
    """
    keys = pa.table(
        {
            "rank": pc.index_in(
                pa.array(items.priority, pa.string()), pa.array(PRIORITY_ORDER, pa.string())
            ).fill_null(len(PRIORITY_ORDER)),
            "vip_last": pa.array(~items.vip.to_numpy(bool)),
            "new_last": pa.array(~items.stored.to_numpy(bool)),
            "value_desc": pa.array(
                -pd.to_numeric(items.expected_value).to_numpy(np.float64), from_pandas=True
            ),
            "due_day": pa.array(items.due_day.to_numpy(np.int64)),
            "action_id": pa.array(items.action_id, pa.string()),
        }
    )
    order = pc.sort_indices(keys, sort_keys=[(k, "ascending", "at_end") for k in keys.column_names])
    return items.take(order.to_numpy()).reset_index(drop=True)


def apply_capacity(
    items: pd.DataFrame,
    day_counts: pd.DataFrame,
    week_counts: pd.DataFrame,
    *,
    calls_per_day: int,
    working_days: tuple[int, ...],
    weekly_cap: int,
    first_day: int,
) -> np.ndarray:
    """R-ACT-CAPACITY: the day each item is worked on, or :data:`BACKLOG`.

    Day by day (a loop over days, vectorised over the items of each day) from the earliest
    due day to the last ``valid_day``: every working day takes the waiting items whose due
    day has come and whose validity has not ended, in row order (see
    :func:`capacity_order`), as long as their advisor's day has room. An item moving into
    another ISO week also needs room in the customer's week (R-ACT-CAP).

    Parameters
    ----------
    items
        action_id, advisor_id, customer_id, due_day (earliest day, day number), valid_day
        (last day, day number), counted_week (the Monday of the week the item is counted in
        ``week_counts``, -1: none, e.g. a backlog action); rows in placement order.
    day_counts
        advisor_id, day, n: contacts already fixed on an advisor's day.
    week_counts
        customer_id, week (Monday's day number), contacts: the customer's contacts per ISO
        week, the items counted in their ``counted_week`` included.
    calls_per_day
        ``actions.capacity.calls_per_day``.
    working_days
        Weekdays worked (Monday = 0).
    weekly_cap
        ``actions.weekly_contact_cap``.
    first_day
        No item is placed before this day (the run's as-of date).

    Returns
    -------
    np.ndarray
        The placed day number per item (row order), :data:`BACKLOG` when none had room.
    """
    n = len(items)
    placed = np.full(n, BACKLOG, dtype=np.int64)
    if n == 0:
        return placed
    earliest = np.maximum(items.due_day.to_numpy(dtype=np.int64), first_day)
    last = items.valid_day.to_numpy(dtype=np.int64)
    waiting = earliest <= last
    if not waiting.any():
        return placed
    start, end = int(earliest[waiting].min()), int(last[waiting].max())
    counted = items.counted_week.to_numpy(dtype=np.int64).copy()
    # Counters as arrays over integer codes (advisor × day, customer × week): a day's
    # lookups and updates are then array indexing, whatever the store's size.
    # Only the items' advisors and customers are looked up: other rows are left out.
    advisor, (fixed_advisor,), n_advisors = id_codes(items.advisor_id, day_counts.advisor_id)
    customer, (counted_customer,), n_customers = id_codes(
        items.customer_id, week_counts.customer_id
    )
    used = np.zeros((n_advisors, end - start + 1), dtype=np.int64)
    fixed_days = day_counts.day.to_numpy(dtype=np.int64)
    inside = (fixed_days >= start) & (fixed_days <= end) & (fixed_advisor >= 0)
    np.add.at(
        used,
        (fixed_advisor[inside], fixed_days[inside] - start),
        day_counts.n.to_numpy(dtype=np.int64)[inside],
    )
    mine = counted_customer >= 0
    week_counts = week_counts[mine]
    counted_customer = counted_customer[mine]
    week_numbers = np.unique(
        np.concatenate(
            [
                week_counts.week.to_numpy(dtype=np.int64),
                counted[counted >= 0],
                monday(np.arange(start, end + 1, dtype=np.int64)),
            ]
        )
    )
    weeks = np.zeros((n_customers, len(week_numbers)), dtype=np.int64)
    np.add.at(
        weeks,
        (
            counted_customer,
            np.searchsorted(week_numbers, week_counts.week.to_numpy(dtype=np.int64)),
        ),
        week_counts.contacts.to_numpy(dtype=np.int64),
    )
    counted_col = np.where(counted >= 0, np.searchsorted(week_numbers, counted), -1)
    works = np.zeros(7, dtype=bool)
    works[list(working_days)] = True
    for day in range(start, end + 1):
        if not works[weekday(np.array([day]))[0]]:
            continue
        idx = np.flatnonzero(waiting & (earliest <= day) & (last >= day))
        if idx.size == 0:
            if not waiting.any():
                break
            continue
        week = int(np.searchsorted(week_numbers, monday(np.array([day]))[0]))
        # The customer's week: an item entering it needs room there (in row order).
        entering = counted_col[idx] != week
        if entering.any():
            e = idx[entering]
            room = weeks[customer[e], week] + _rank_within(customer[e]) < weekly_cap
            ok = np.ones(idx.size, dtype=bool)
            ok[np.flatnonzero(entering)[~room]] = False
            idx = idx[ok]
        if idx.size == 0:
            continue
        # The advisor's day, in row order.
        taken = used[advisor[idx], day - start]
        chosen = idx[taken + _rank_within(advisor[idx]) < calls_per_day]
        if chosen.size == 0:
            continue
        placed[chosen] = day
        waiting[chosen] = False
        moved = chosen[counted_col[chosen] != week]
        if moved.size:
            left = moved[counted_col[moved] >= 0]
            np.add.at(weeks, (customer[moved], week), 1)
            np.add.at(weeks, (customer[left], counted_col[left]), -1)
            counted_col[moved] = week
        np.add.at(used, (advisor[chosen], day - start), 1)
    return placed


def _rank_within(codes: np.ndarray) -> np.ndarray:
    """Each element's position among the equal codes before it (0 for the first)."""
    n = len(codes)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, n]))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - first
    return rank
