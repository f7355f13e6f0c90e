"""R-TIER-HIST storage: a dated snapshot is replaced for its date only, never duplicated."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from aftercare.schema.snapshots import CUSTOMER_SCORES
from aftercare.store import open_store
from aftercare.store.snapshots import replace_snapshot, snapshot_dates


def _rows(store, day: dt.date, tiers: list[str]):
    given = {
        "as_of_date": [day] * len(tiers),
        "customer_id": [f"C{i}" for i in range(len(tiers))],
        "tier": tiers,
    }
    schema = CUSTOMER_SCORES.to_pyarrow()
    data = pa.table(
        {f.name: pa.array(given.get(f.name, [None] * len(tiers)), f.type) for f in schema},
        schema=schema,
    )
    name = f"stage_{day:%Y%m%d}_{len(tiers)}"
    store.con.create_table(name, data, overwrite=True)
    return store.table(name)


def test_replace_snapshot_per_date(store_url):
    d1, d2 = dt.date(2024, 3, 31), dt.date(2024, 6, 30)
    with open_store(store_url) as store:
        assert (
            replace_snapshot(store, "customer_scores", d1, _rows(store, d1, ["gold", "lapsed"]))
            == 2
        )
        assert replace_snapshot(store, "customer_scores", d2, _rows(store, d2, ["gold"])) == 1
        # rerun for d1 with new content: replaces d1 only
        assert replace_snapshot(store, "customer_scores", d1, _rows(store, d1, ["silver"] * 3)) == 3
        t = store.table("customer_scores")
        counts = t.group_by("as_of_date").aggregate(n=t.count()).order_by("as_of_date")
        assert counts.to_pyarrow().to_pylist() == [
            {"as_of_date": d1, "n": 3},
            {"as_of_date": d2, "n": 1},
        ]
        assert snapshot_dates(store, "customer_scores") == [d1, d2]
        assert snapshot_dates(store, "missing") == []
