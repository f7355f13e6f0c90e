"""R-ACT-CAPACITY's order of the items to place (schedule.capacity_order).

Priority (an unknown one last), platinum/dedicated first, stored before new, expected value
(highest first, unknown last), due day, action id. Compared with that order written as a
pandas sort of the frame (the implementation before Arrow sorted the keys) on random items
with many ties, unknown values and an empty frame.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aftercare.playbook.rules import PRIORITY_ORDER
from aftercare.playbook.schedule import capacity_order


def _reference(items: pd.DataFrame) -> pd.DataFrame:
    rank = items.priority.map({p: i for i, p in enumerate(PRIORITY_ORDER)}).fillna(
        len(PRIORITY_ORDER)
    )
    return (
        items.assign(_rank=rank, _vip=~items.vip.astype(bool), _new=~items.stored.astype(bool))
        .sort_values(
            ["_rank", "_vip", "_new", "expected_value", "due_day", "action_id"],
            ascending=[True, True, True, False, True, True],
            kind="stable",
            na_position="last",
        )
        .drop(columns=["_rank", "_vip", "_new"])
        .reset_index(drop=True)
    )


def _items(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    priorities = [*PRIORITY_ORDER, "unknown", None]
    return pd.DataFrame(
        {
            "action_id": pd.array(
                [f"A{x:04d}" for x in rng.permutation(n)], dtype="string[pyarrow]"
            ),
            "priority": pd.array(rng.choice(priorities, n), dtype="string[pyarrow]"),
            "vip": rng.random(n) < 0.3,
            "stored": rng.random(n) < 0.5,
            "expected_value": np.where(rng.random(n) < 0.2, np.nan, rng.integers(0, 4, n) * 1.5),
            "due_day": rng.integers(20600, 20604, n),
            "pos": np.arange(n),
        }
    )


@pytest.mark.parametrize("seed", range(20))
def test_capacity_order_is_the_rule_order(seed):
    items = _items(seed, 300)
    got = capacity_order(items)
    assert got.pos.tolist() == _reference(items).pos.tolist()
    assert got.index.tolist() == list(range(len(items)))


def test_a_hand_made_order():
    items = pd.DataFrame(
        {
            "action_id": ["A5", "A4", "A3", "A2", "A1", "A0"],
            "priority": ["medium", "high", "high", "high", "high", None],
            "vip": [True, False, False, False, True, True],
            "stored": [True, False, True, True, False, True],
            "expected_value": [900.0, 10.0, np.nan, 5.0, 1.0, 999.0],
            "due_day": [1, 1, 1, 1, 1, 1],
        }
    )
    # High first; within it the VIP; then stored before new; among the stored, 5.0 before
    # the unknown value; medium next; the unknown priority last.
    assert capacity_order(items).action_id.tolist() == ["A1", "A2", "A3", "A4", "A5", "A0"]


def test_no_items():
    columns = ["action_id", "priority", "vip", "stored", "expected_value", "due_day"]
    assert capacity_order(pd.DataFrame(columns=columns)).empty
