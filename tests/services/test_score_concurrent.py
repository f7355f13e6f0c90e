"""Two ``score`` runs of one date at once (issue 9, item 6), in threads with own connections.

Each replaces the date's snapshot (delete, then insert, in one transaction). At the same time,
neither saw the other's rows: PostgreSQL stored the snapshot twice, or failed on its key. The
run lock makes them take turns, so the snapshot holds each customer once.
"""

from __future__ import annotations

import datetime as dt
import threading

from aftercare.config import DEFAULT_CONFIG
from aftercare.services.scoring import SCORES_TABLE, ScoreRun, score_snapshot
from aftercare.store import open_store
from factories import make_table

AS_OF = dt.date(2024, 6, 30)
CUSTOMERS = [f"C{i}" for i in range(6)]


def test_concurrent_scores_of_one_date_store_each_customer_once(store_url):
    with open_store(store_url) as store:
        store.con.insert(
            "customers", make_table("customers", [{"customer_id": c} for c in CUSTOMERS])
        )
        store.con.insert(
            "service_orders",
            make_table(
                "service_orders",
                [
                    {
                        "order_id": f"O{c}",
                        "customer_id": c,
                        "open_date": "2024-05-01",
                        "close_date": "2024-05-01",
                        "total_amount": 500 + i,
                        "category": "repair",
                    }
                    for i, c in enumerate(CUSTOMERS)
                ],
            ),
        )
    results: list[ScoreRun | BaseException | None] = [None, None]
    ready = threading.Barrier(2)

    def run(i: int) -> None:
        try:
            with open_store(store_url) as own:
                ready.wait(30)
                results[i] = score_snapshot(own, AS_OF, DEFAULT_CONFIG)
        except BaseException as exc:  # reported by the test, not lost in the thread
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    assert [r.customers for r in results if isinstance(r, ScoreRun)] == [6, 6]
    with open_store(store_url) as store:
        scores = store.table(SCORES_TABLE)
        ids = scores.filter(scores.as_of_date == AS_OF).customer_id.to_pyarrow().to_pylist()
    assert sorted(ids) == CUSTOMERS
