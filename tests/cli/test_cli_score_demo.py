"""The demo's quarterly back-fill keeps each snapshot to its date (R-TIER-HIST, issue 9 item 9).

`aftercare demo --customers 300`, then `aftercare score --quarterly`, then `aftercare migration`,
as a user runs them: the demo creates customers all along its history (``created_at`` = their
first car's delivery), so every quarter has new customers and none may be scored before it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from typer.testing import CliRunner

from aftercare.cli import app
from aftercare.store import open_store

runner = CliRunner()

AS_OF = "2025-06-30"
QUARTERS = ("2024-03-31", "2024-06-30", "2024-09-30", "2024-12-31", "2025-03-31", "2025-06-30")


def test_r_tier_hist_demo_quarterly_backfill(tmp_path: Path, store_url: str):
    out = str(tmp_path / "demo")
    args = ["--customers", "300", "--as-of", AS_OF, "--data-only", "--out", out]
    demo = runner.invoke(app, ["demo", *args, "--db", store_url])
    assert demo.exit_code == 0, demo.output
    scored = runner.invoke(app, ["score", "--quarterly", "2024-01-01", AS_OF, "--db", store_url])
    assert scored.exit_code == 0, scored.output

    with open_store(store_url) as store:
        scores, customers = store.table("customer_scores"), store.table("customers")
        joined = scores.join(customers, "customer_id")
        per_date = (
            joined.group_by("as_of_date")
            .aggregate(
                scored=joined.count(),
                created_later=joined.count(where=joined.created_at > joined.as_of_date),
                new=joined.count(where=joined.move == "new"),
            )
            .order_by("as_of_date")
            .to_pyarrow()
            .to_pylist()
        )
        total = customers.count().to_pyarrow().as_py()
    assert [r["as_of_date"] for r in per_date] == [dt.date.fromisoformat(d) for d in QUARTERS]
    for row in per_date:
        assert row["created_later"] == 0, row  # no customer before their created_at
    counts = [r["scored"] for r in per_date]
    assert counts == sorted(counts) and counts[0] < total  # the centre grows, from fewer
    assert all(r["new"] > 0 for r in per_date[1:])  # every quarter brings new customers
    assert f"scored {counts[-1]} customers as of {AS_OF}" in scored.output

    moved = runner.invoke(app, ["migration", QUARTERS[-2], QUARTERS[-1], "--db", store_url])
    assert moved.exit_code == 0, moved.output
    new_row = next(ln for ln in moved.output.splitlines() if "(new)" in ln and "│" in ln)
    cells = [int(c) for c in new_row.split("│")[2:8]]
    assert sum(cells) == per_date[-1]["new"] > 0  # the (new) row holds them
    assert f"{per_date[-1]['new']} new customers (the (new) row" in moved.output
    assert "created after that date" not in moved.output
