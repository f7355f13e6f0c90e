"""Torn writes repaired (R-IN-3): rows of a load that never committed, a snapshot written twice.

A load writes its rows and its ``load_log`` row in one transaction, so a row whose load has no
``load_log`` row was never committed; a snapshot date is replaced in one transaction, so a
customer twice in one date's snapshot is the trace of a replacement that never committed.
PostgreSQL's transactions never leave either behind. DuckDB can: killed at the moment it
commits a bulk append, it may recover the appended rows at the next open without the rest of
the transaction (the deletes and the ``load_log`` row; duckdb/duckdb PR #25931). Such a
crash always leaves the file's ``.wal`` behind, so a DuckDB store found with a ``.wal`` at open
is repaired (:func:`repair_at_open`): nothing is scanned on an ordinary open.
``aftercare check --repair`` runs the same repair on demand, on DuckDB or PostgreSQL.

A repair removes those rows and that date's snapshot (rescore it to get it back) in one
transaction, records each removal in ``store_repairs`` and returns a one-line summary.

This module works on the engine's Ibis backend (not on ``Store``), so the store can repair
itself while it opens.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import ibis

from aftercare.errors import StoreError
from aftercare.schema.registry import STORED_TABLES
from aftercare.store.load import quote

#: Tables whose rows name the load that wrote them (canonical, rejects, warnings, history).
LOADED_TABLES = tuple(name for name, table in STORED_TABLES.items() if table.written_by_load)
#: Dated snapshots: one row per key per as-of date.
SNAPSHOT_TABLES = tuple(name for name, table in STORED_TABLES.items() if table.family == "snapshot")
REPAIRS_TABLE = "store_repairs"

RemovedKind = Literal["load", "snapshot"]


def plural(n: int, word: str) -> str:
    """``n`` and ``word``, with an ``s`` unless ``n`` is one (``1 row``, ``2 rows``)."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class Removed:
    """Rows of one table that one torn write left behind.

    ``kind`` ``load``: the rows of load ``removed_id`` (no ``load_log`` row); ``snapshot``:
    the whole snapshot of as-of date ``removed_id`` (ISO), some of its keys held twice.
    """

    table: str
    kind: RemovedKind
    removed_id: str
    rows: int


@dataclass(frozen=True)
class Repair:
    """One repair pass: what it removed, and why."""

    repair_id: str
    repaired_at: dt.datetime
    reason: str
    removed: tuple[Removed, ...]

    def summary(self) -> str:
        """One line saying what was removed, e.g. for stderr at open."""
        loads = sorted({r.removed_id for r in self.removed if r.kind == "load"})
        dates = sorted({r.removed_id for r in self.removed if r.kind == "snapshot"})
        parts = []
        if loads:
            rows = ", ".join(
                f"{plural(r.rows, 'row')} of {r.table}" for r in self.removed if r.kind == "load"
            )
            which = "load " + ", ".join(loads)
            parts.append(f"removed {rows} written by {which}, which never committed")
        if dates:
            rows = ", ".join(
                f"{plural(r.rows, 'row')} of {r.table}"
                for r in self.removed
                if r.kind == "snapshot"
            )
            parts.append(
                f"removed the snapshot of {', '.join(dates)} ({rows}; a customer in it twice): "
                f"rerun `aftercare score --as-of {dates[0]}`"
            )
        return (
            f"repaired a torn write ({self.reason}): "
            + "; ".join(parts)
            + ("; recorded in store_repairs")
        )


def uncommitted_loads(con: ibis.BaseBackend) -> list[Removed]:
    """Per table and load, the rows written by a load that has no ``load_log`` row.

    One query: each table grouped by load (a few distinct values) before the anti-join, so
    millions of rows cost one scan of a dictionary-compressed column.
    """
    log_ids = con.table("load_log").load_id
    parts = []
    for name in LOADED_TABLES:
        t = con.table(name)
        per_load = t.group_by("load_id").aggregate(rows=t.count())
        parts.append(
            per_load.filter(per_load.load_id.notnull() & ~per_load.load_id.isin(log_ids))
            .mutate(table_name=ibis.literal(name))
            .select("table_name", "load_id", "rows")
        )
    found = ibis.union(*parts).to_pyarrow().to_pylist()
    return sorted(
        (Removed(r["table_name"], "load", r["load_id"], int(r["rows"])) for r in found),
        key=lambda r: (LOADED_TABLES.index(r.table), r.removed_id),
    )


def torn_snapshots(con: ibis.BaseBackend) -> list[Removed]:
    """Per snapshot table, the as-of dates in which some key is held twice (whole date)."""
    out: list[Removed] = []
    for name in SNAPSHOT_TABLES:
        t = con.table(name)
        key = list(STORED_TABLES[name].key)
        per_key = t.group_by(key).aggregate(n=t.count())
        dates = per_key.filter(per_key.n > 1).select("as_of_date").distinct()
        torn = t.filter(t.as_of_date.isin(dates.as_of_date))
        sizes = torn.group_by("as_of_date").aggregate(rows=torn.count())
        found = sizes.order_by("as_of_date").to_pyarrow().to_pylist()
        out.extend(
            Removed(name, "snapshot", r["as_of_date"].isoformat(), int(r["rows"])) for r in found
        )
    return out


def repair_torn_writes(
    con: ibis.BaseBackend, *, reason: str, snapshots: bool = True
) -> Repair | None:
    """Remove every torn write's rows in one transaction and record them in ``store_repairs``.

    Parameters
    ----------
    con
        An Ibis DuckDB or PostgreSQL backend holding the store's tables.
    reason
        Why this repair ran (recorded, and shown in the summary).
    snapshots
        Also look for snapshot dates holding a key twice (a scan of the snapshots).

    Returns
    -------
    Repair or None
        What was removed; ``None`` when nothing was torn.
    """
    found = uncommitted_loads(con) + (torn_snapshots(con) if snapshots else [])
    if not found:
        return None
    repair = Repair(
        repair_id=f"{dt.datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}",
        repaired_at=dt.datetime.now().replace(microsecond=0),
        reason=reason,
        removed=tuple(found),
    )
    statements: list[tuple[str, Sequence[Any]]] = []
    for r in found:
        column = "load_id" if r.kind == "load" else "as_of_date"
        value: object = r.removed_id if r.kind == "load" else dt.date.fromisoformat(r.removed_id)
        statements.append((f"DELETE FROM {quote(r.table)} WHERE {quote(column)} = ?", [value]))
        statements.append(
            (
                f"INSERT INTO {REPAIRS_TABLE} (repair_id, repaired_at, table_name, "
                "removed_kind, removed_id, rows_removed, reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    repair.repair_id,
                    repair.repaired_at,
                    r.table,
                    r.kind,
                    r.removed_id,
                    r.rows,
                    reason,
                ],
            )
        )
    _run_in_transaction(con, statements)
    return repair


def _run_in_transaction(con: ibis.BaseBackend, statements: list[tuple[str, Sequence[Any]]]) -> None:
    """Run ``?``-placeholder statements in one transaction on DuckDB or PostgreSQL."""
    native = con.con  # the engine's own connection (DDL, transactions)
    if con.name == "duckdb":
        native.execute("BEGIN TRANSACTION")
        try:
            for sql, params in statements:
                native.execute(sql, list(params))
        except BaseException:
            native.execute("ROLLBACK")
            raise
        native.execute("COMMIT")
        return
    with native.transaction(), native.cursor() as cur:
        for sql, params in statements:
            cur.execute(sql.replace("?", "%s"), list(params))


def repair_at_open(con: ibis.BaseBackend, *, wal_found: bool) -> list[str]:
    """Repair a DuckDB store that a crash left with its ``.wal`` (R-IN-3); one line if it did.

    Parameters
    ----------
    con
        The Ibis DuckDB backend, just opened (the ``.wal`` replayed).
    wal_found
        Whether the file's ``.wal`` was there before this process opened it: only a process
        that died with the store open leaves one, so an ordinary open scans nothing.

    Returns
    -------
    list of str
        The repair's one-line summary, or nothing.
    """
    if not wal_found:
        return []
    try:
        repair = repair_torn_writes(con, reason="found at open after a crash")
    except Exception as exc:  # the .wal is gone once the store closes: say so, plainly
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StoreError(
            f"the store was left by a crash and could not be checked ({first}); "
            "run `aftercare check --repair`"
        ) from None
    return [repair.summary()] if repair else []
