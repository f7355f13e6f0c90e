"""Latest row per key, and came back within N days: two shapes every mart repeats.

Ibis only, ``Table -> Table``; nothing here connects or executes.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir


def latest_per_key(
    table: ir.Table, key: str | Sequence[str], order_by: Sequence[ir.Value | str]
) -> ir.Table:
    """The first row of each ``key`` group in ``order_by`` order (write it newest first).

    Grain: one row per distinct ``key``. ``order_by`` must break every tie (end it with a
    column unique within the key), or the row kept is the engine's choice.
    """
    keys = [key] if isinstance(key, str) else list(key)
    w = ibis.window(group_by=keys, order_by=list(order_by))
    ranked = table.mutate(_pick=ibis.row_number().over(w))
    return ranked.filter(ranked._pick == 0).drop("_pick")


def latest_contact_preference(preferences: ir.Table) -> ir.Table:
    """Each customer's current contact preference (R-ACT-CONSENT).

    Grain: one row per customer with a recorded preference: the latest ``set_at``. When two
    rows share the latest ``set_at``, an opt-out wins the tie (``do_not_contact`` true before
    false: a consent defect must never err towards calling), then the greater ``source``.

    Returns
    -------
    ir.Table
        customer_id, do_not_contact, set_at, source.
    """
    p = preferences.select("customer_id", "do_not_contact", "set_at", "source")
    return latest_per_key(
        p,
        "customer_id",
        [
            ibis.desc("set_at"),
            ibis.desc(p.do_not_contact.fill_null(False)),
            ibis.desc("source"),
        ],
    )


def returned_within(
    events: ir.Table,
    visits: ir.Table,
    *,
    event_date: str,
    days: int,
    key: str = "customer_id",
) -> ir.Table:
    """The events followed by a visit of the same ``key`` within ``days`` days.

    A visit on the event's own day counts; the window is ``event_date ≤ visit ≤ event_date +
    days``. Grain: the rows of ``events`` that were (each once).

    Parameters
    ----------
    events
        Rows with ``key`` and ``event_date`` (e.g. actions and their trigger dates).
    visits
        Rows with ``key`` and ``open_date`` (e.g. :func:`~aftercare.pipeline.staging.visits`).
    """
    v = visits.select(_v_key=visits[key], _v_date=visits.open_date)
    hits = events.semi_join(
        v,
        [
            events[key] == v._v_key,
            v._v_date >= events[event_date],
            v._v_date <= events[event_date] + ibis.interval(days=days),
        ],
    )
    return hits
