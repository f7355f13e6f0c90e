"""R-ACT-CAP's placement against a plain reference: one item at a time, in row order.

:func:`aftercare.playbook.schedule.apply_weekly_cap` places a customer's contacts (already in
priority order) in rounds on a customer × week grid of counts; the reference reads the rule as
stated: each item, in row order, stays in its own ISO week if the customer has fewer than
``cap`` contacts there, else moves to the Monday of the first later week with room.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from aftercare.playbook.schedule import _place, monday


def _reference(items: pd.DataFrame, counts: pd.DataFrame, cap: int) -> list[int]:
    weeks = Counter()
    for r in counts.itertuples():
        weeks[(r.customer_id, r.week)] += r.contacts
    placed = []
    for r in items.itertuples():
        own = int(monday(np.array([r.due_day]))[0])
        week = own
        while weeks[(r.customer_id, week)] >= cap:
            week += 7
        weeks[(r.customer_id, week)] += 1
        placed.append(int(r.due_day) if week == own else week)
    return placed


@pytest.mark.parametrize("seed", range(6))
def test_r_act_cap_placement_equals_the_one_at_a_time_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _case in range(60):
        n, customers = int(rng.integers(0, 40)), int(rng.integers(1, 8))
        items = pd.DataFrame(
            {
                "customer_id": [f"C{x}" for x in rng.integers(0, customers, n)],
                "due_day": rng.integers(19_800, 19_860, n),
            }
        )
        m = int(rng.integers(0, 30))
        counts = pd.DataFrame(
            {
                "customer_id": [f"C{x}" for x in rng.integers(0, customers + 3, m)],
                "week": monday(rng.integers(19_780, 19_880, m)),
                "contacts": rng.integers(1, 3, m),
            }
        )
        counts = counts.groupby(["customer_id", "week"], as_index=False).contacts.sum()
        cap = int(rng.integers(1, 4))
        assert _place(items, counts, cap).tolist() == _reference(items, counts, cap)


def test_r_act_cap_a_full_week_sends_the_third_contact_to_next_monday() -> None:
    tuesday = 19_801  # 2024-03-19, a Tuesday; its Monday is day 19_800, the next 19_807
    items = pd.DataFrame({"customer_id": ["C1", "C1", "C1"], "due_day": [tuesday] * 3})
    counts = pd.DataFrame({"customer_id": ["C1"], "week": [19_800], "contacts": [1]})
    assert _place(items, counts, 2).tolist() == [tuesday, 19_807, 19_807]


def test_r_act_cap_one_customer_with_many_contacts_moves_them_week_after_week() -> None:
    items = pd.DataFrame({"customer_id": ["C1"] * 50 + ["C2"], "due_day": [19_801] * 51})
    counts = pd.DataFrame(
        {"customer_id": ["C1", "C3"], "week": [19_807, 19_800], "contacts": [1, 5]}
    )
    placed = _place(items, counts, 1).tolist()
    assert placed == _reference(items, counts, 1)
    assert placed[:3] == [19_801, 19_814, 19_821] and placed[49] == 19_800 + 7 * 50
    assert placed[50] == 19_801  # C2's week is C2's alone
