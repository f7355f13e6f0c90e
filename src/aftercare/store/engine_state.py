"""The engine's bookkeeping for incremental runs, read and written (issue 11).

The tables are described in :mod:`aftercare.schema.playbook` (``engine_*``); what they are
for, in :mod:`aftercare.services.incremental`. Every write here runs in the caller's
transaction (the engine run's).
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from aftercare.schema.playbook import ENGINE_CUSTOMERS, ENGINE_RUNS, ENGINE_VEHICLES
from aftercare.store.connect import Store
from aftercare.store.load import quote
from aftercare.store.plans import date_sql
from aftercare.store.rows import append_rows
from aftercare.store.transaction import CompiledQuery, execute, execute_counted, fetch_rows

RUNS = "engine_runs"
SEEN_LOADS = "engine_seen_loads"
CUSTOMERS = "engine_customers"
VEHICLES = "engine_vehicles"
QUEUE = "engine_queue"
BLOCKED = "engine_blocked"
FLEET_RATES = "engine_fleet_rates"
FLEET_ERRORS = "engine_fleet_errors"
FLEET_VINS = "engine_fleet_vins"
#: A large run's shared plan inputs (:mod:`aftercare.services.staged_plan`): a temporary
#: table of the run's connection, not part of the store.
STAGED = "engine_run_staged"
_IN_QUEUE = f"SELECT customer_id FROM {quote(QUEUE)}"


def latest_run(store: Store) -> tuple[dt.date, dt.date | None, str] | None:
    """The latest engine run's as-of date, scores' date and plan key (None: no run yet)."""
    rows = fetch_rows(
        store,
        f"SELECT as_of, scores_as_of, plan_key FROM {quote(RUNS)} "
        "ORDER BY ran_at DESC, run_id DESC LIMIT 1",
    )
    if not rows:
        return None
    as_of, scores_as_of, key = rows[0]
    return _day(as_of), (_day(scores_as_of) if scores_as_of is not None else None), str(key)


def _day(value: object) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value  # type: ignore[return-value]


def _fill(store: Store, table: str, column: str, rows: CompiledQuery) -> int:
    """Make the one-column scratch ``table`` hold ``rows`` (column ``column``, distinct);
    return how many."""
    execute(store, f"DELETE FROM {quote(table)}")
    col = quote(column)
    return execute_counted(
        store, f"INSERT INTO {quote(table)} ({col}) SELECT {col} FROM ({rows.sql}) q"
    )


def fill_queue(store: Store, customers: CompiledQuery) -> int:
    """Make ``engine_queue`` hold the customers of ``customers`` (column customer_id,
    distinct); return how many."""
    return _fill(store, QUEUE, "customer_id", customers)


def replace_planned(store: Store, *, queued: bool, customers: pa.Table, vehicles: pa.Table) -> None:
    """Replace the ``engine_customers`` and ``engine_vehicles`` rows of the customers the run
    planned (``queued``: those in ``engine_queue``; else every row) with ``customers`` and
    ``vehicles`` (rows of those tables)."""
    if queued:
        execute(store, f"DELETE FROM {quote(CUSTOMERS)} WHERE customer_id IN ({_IN_QUEUE})")
        # Their rows, and their cars' rows under a previous owner (a car that changed hands).
        # Two statements, not one WHERE … IN … OR … IN: PostgreSQL scans a sub-SELECT under
        # an OR once per row past work_mem (pipeline.membership; minutes at 1M customers).
        execute(store, f"DELETE FROM {quote(VEHICLES)} WHERE customer_id IN ({_IN_QUEUE})")
        execute(
            store,
            f"DELETE FROM {quote(VEHICLES)} WHERE vin IN "
            f"(SELECT vin FROM vehicles WHERE customer_id IN ({_IN_QUEUE}))",
        )
    else:
        execute(store, f"DELETE FROM {quote(CUSTOMERS)}")
        execute(store, f"DELETE FROM {quote(VEHICLES)}")
    append_rows(store, CUSTOMERS, customers)
    append_rows(store, VEHICLES, vehicles.cast(ENGINE_VEHICLES.to_pyarrow()))


def _insert(store: Store, table: str, columns: tuple[str, ...], query: CompiledQuery) -> None:
    cols = ", ".join(quote(c) for c in columns)
    execute(store, f"INSERT INTO {quote(table)} ({cols}) SELECT {cols} FROM ({query.sql}) q")


def fill_fleet_vins(store: Store, vins: CompiledQuery) -> int:
    """Make ``engine_fleet_vins`` hold the vehicles of ``vins`` (column vin, distinct): the
    ones whose fleet facts the run refreshes; return how many."""
    return _fill(store, FLEET_VINS, "vin", vins)


def replace_fleet(
    store: Store, *, queued: bool, rates: CompiledQuery, errors: CompiledQuery
) -> None:
    """Replace the kept fleet facts of the vehicles in ``engine_fleet_vins`` (``queued``;
    else of every vehicle) with ``rates`` and ``errors`` (computed for those vehicles)."""
    where = f" WHERE vin IN (SELECT vin FROM {quote(FLEET_VINS)})" if queued else ""
    for table in (FLEET_RATES, FLEET_ERRORS):
        execute(store, f"DELETE FROM {quote(table)}{where}")
    _insert(store, FLEET_RATES, ("vin", "model", "own_rate"), rates)
    _insert(store, FLEET_ERRORS, ("vin", "reading_date", "error_rel"), errors)


def blocked_elsewhere(store: Store, *, as_of: dt.date, through: dt.date) -> int:
    """Triggers consent blocked at the last planning of customers this run does not plan
    (not in ``engine_queue``) that a run on ``as_of`` planning through ``through`` would
    meet again: every day's (a rule of the customer's state), or due by ``through`` and not
    stale (R-ACT-CATCHUP)."""
    day, last = date_sql(as_of), date_sql(through)
    rows = fetch_rows(
        store,
        f"SELECT COUNT(*) FROM {quote(BLOCKED)} b "
        f"WHERE NOT EXISTS (SELECT 1 FROM {quote(QUEUE)} q WHERE q.customer_id = b.customer_id) "
        f"AND (b.every_day OR "
        f"(b.original_due_date <= {last} AND (b.catch_up_days IS NULL "
        f"OR {day} - b.original_due_date <= b.catch_up_days)))",
    )
    return int(rows[0][0])


def replace_blocked(store: Store, *, queued: bool, rows: pa.Table) -> None:
    """Replace the blocked triggers of the customers the run planned (``queued``: those in
    ``engine_queue``; else all) with ``rows`` (``engine_blocked``'s columns)."""
    where = f" WHERE customer_id IN ({_IN_QUEUE})" if queued else ""
    execute(store, f"DELETE FROM {quote(BLOCKED)}{where}")
    append_rows(store, BLOCKED, rows)


def wake_on(store: Store, customers: list[str], day: dt.date) -> None:
    """Plan ``customers`` again on ``day`` at the latest (a row with no counts for those
    without one: their next run compares their logs against zero and plans them anyway)."""
    if not customers:
        return
    ids = ", ".join("'" + c.replace("'", "''") + "'" for c in customers)
    have = {
        r[0]
        for r in fetch_rows(
            store, f"SELECT customer_id FROM {quote(CUSTOMERS)} WHERE customer_id IN ({ids})"
        )
    }
    missing = [c for c in customers if c not in have]
    if missing:
        n = len(missing)
        append_rows(
            store,
            CUSTOMERS,
            pa.table(
                {
                    "customer_id": pa.array(missing, pa.string()),
                    "wake_on": pa.array([day] * n, pa.date32()),
                    "outcomes": pa.array([0] * n, pa.int64()),
                    "preferences": pa.array([0] * n, pa.int64()),
                },
                schema=ENGINE_CUSTOMERS.to_pyarrow(),
            ),
        )
    when = date_sql(day)
    execute(
        store,
        f"UPDATE {quote(CUSTOMERS)} SET wake_on = {when} WHERE customer_id IN ({ids}) "
        f"AND (wake_on IS NULL OR wake_on > {when})",
    )


def mark_loads_seen(store: Store) -> None:
    """Note every load in ``load_log`` as seen by an engine run."""
    execute(
        store,
        f"INSERT INTO {quote(SEEN_LOADS)} (load_id) SELECT l.load_id FROM load_log l "
        f"WHERE NOT EXISTS (SELECT 1 FROM {quote(SEEN_LOADS)} s WHERE s.load_id = l.load_id)",
    )


def log_run(store: Store, row: dict[str, object]) -> None:
    """Append the run's row to ``engine_runs`` and empty the queue."""
    execute(store, f"DELETE FROM {quote(QUEUE)}")
    schema = ENGINE_RUNS.to_pyarrow()
    append_rows(
        store, RUNS, pa.table({k: pa.array([row[k]], schema.field(k).type) for k in schema.names})
    )


def stage(store: Store, rows: CompiledQuery) -> None:
    """Keep ``rows`` in the connection's temporary table :data:`STAGED` (replacing any
    earlier); it is not part of the store and goes with :func:`unstage` or the connection."""
    unstage(store)
    execute(store, f"CREATE TEMPORARY TABLE {quote(STAGED)} AS {rows.sql}")


def unstage(store: Store) -> None:
    """Drop :data:`STAGED` if the connection holds it."""
    execute(store, f"DROP TABLE IF EXISTS {quote(STAGED)}")
