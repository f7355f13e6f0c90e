"""R-ACT-CAPACITY's placement against a plain reference: one item at a time, in row order.

:func:`aftercare.playbook.schedule.apply_capacity` works on arrays (a day at a time, all its
items at once) so that a 1M-customer store's tens of thousands of calls place in a second;
here random cases are placed by both and must land on the same days. The reference reads the
rule as its docstring states it: each working day from the earliest due day takes the waiting
items due by then and still valid, in row order; an item entering another ISO week needs room
in the customer's week (``weekly_cap``, counting the customer's earlier entering items of the
day), then room on its advisor's day (``calls_per_day``).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from aftercare.playbook.schedule import BACKLOG, apply_capacity, monday, weekday


def _reference(items, day_counts, week_counts, *, calls, working, cap, first_day):
    used = Counter()
    for r in day_counts.itertuples():
        used[(r.advisor_id, r.day)] += r.n
    weeks = Counter()
    for r in week_counts.itertuples():
        weeks[(r.customer_id, r.week)] += r.contacts
    rows = list(items.itertuples())
    placed = [BACKLOG] * len(rows)
    counted = [r.counted_week for r in rows]
    earliest = [max(r.due_day, first_day) for r in rows]
    waiting = [e <= r.valid_day for e, r in zip(earliest, rows, strict=True)]
    if not any(waiting):
        return np.array(placed)
    start = min(e for e, w in zip(earliest, waiting, strict=True) if w)
    end = max(r.valid_day for r, w in zip(rows, waiting, strict=True) if w)
    for day in range(start, end + 1):
        if weekday(np.array([day]))[0] not in working:
            continue
        week = int(monday(np.array([day]))[0])
        entering_seen: Counter = Counter()
        candidates = []
        for i, r in enumerate(rows):
            if not (waiting[i] and earliest[i] <= day <= r.valid_day):
                continue
            if counted[i] != week:
                room = weeks[(r.customer_id, week)] + entering_seen[r.customer_id] < cap
                entering_seen[r.customer_id] += 1
                if not room:
                    continue
            candidates.append(i)
        advisor_seen: Counter = Counter()
        for i in candidates:
            who = rows[i].advisor_id
            if used[(who, day)] + advisor_seen[who] < calls:
                placed[i] = day
            advisor_seen[who] += 1
        for i in candidates:
            if placed[i] != day:
                continue
            waiting[i] = False
            if counted[i] != week:
                weeks[(rows[i].customer_id, week)] += 1
                if counted[i] >= 0:
                    weeks[(rows[i].customer_id, counted[i])] -= 1
                counted[i] = week
            used[(rows[i].advisor_id, day)] += 1
    return np.array(placed)


def _case(rng: np.random.Generator):
    n = int(rng.integers(1, 60))
    base = 20_000 + int(rng.integers(0, 7))
    due = base + rng.integers(-10, 15, n)
    items = pd.DataFrame(
        {
            "action_id": [f"A{i:03d}" for i in range(n)],
            "advisor_id": rng.choice(["V1", "V2", "V3"], n),
            "customer_id": rng.choice([f"C{i}" for i in range(8)], n),
            "due_day": due,
            "valid_day": due + rng.integers(-2, 20, n),
            "counted_week": np.where(rng.random(n) < 0.3, -1, monday(due)),
        }
    )
    k = int(rng.integers(0, 15))
    day_counts = pd.DataFrame(
        {
            "advisor_id": rng.choice(["V1", "V2", "V4"], k),
            "day": base + rng.integers(-3, 25, k),
            "n": rng.integers(1, 4, k),
        }
    )
    m = int(rng.integers(0, 10))
    week_counts = pd.DataFrame(
        {
            "customer_id": rng.choice([f"C{i}" for i in range(10)], m),
            "week": monday(base + rng.integers(-14, 28, m)),
            "contacts": rng.integers(1, 3, m),
        }
    )
    return items, day_counts, week_counts, base


@pytest.mark.parametrize("seed", range(300))
def test_r_act_capacity_array_placement_equals_the_one_at_a_time_reference(seed):
    rng = np.random.default_rng(seed)
    items, day_counts, week_counts, base = _case(rng)
    calls = int(rng.integers(1, 5))
    cap = int(rng.integers(1, 4))
    working = (0, 1, 2, 3, 4) if seed % 3 else (0, 1, 2, 3, 4, 5)
    first_day = base + int(rng.integers(-2, 4))
    got = apply_capacity(
        items,
        day_counts,
        week_counts,
        calls_per_day=calls,
        working_days=working,
        weekly_cap=cap,
        first_day=first_day,
    )
    want = _reference(
        items, day_counts, week_counts, calls=calls, working=working, cap=cap,
        first_day=first_day,
    )  # fmt: skip
    assert got.tolist() == want.tolist()
