"""``aftercare status`` on a DuckDB file in plain SQL: no Ibis, no SQL compiler (issue 11).

Opening a store through Ibis imports its SQL compilers (sqlglot's dialects) and looks up the
schema of each table it reads: about a second, for counts that take DuckDB milliseconds.
:func:`duckdb_store_status` reads the figures of :func:`~aftercare.store.status.store_status`
with the ``duckdb`` module alone, and answers only where opening the store the full way
(:func:`~aftercare.store.connect.open_store`) would do nothing but open it. Everywhere else it
returns ``None`` and the caller opens the store the full way, which then does what it always
does:

- not a DuckDB URL (PostgreSQL, a Spark lake): ``None``;
- ``:memory:``, a folder, a file that is not DuckDB's, no file: the same one-line error, from
  the same check (:func:`~aftercare.store.duckdb_file.check_duckdb_path`), nothing created;
- a ``.wal`` beside the file: the trace of a crash to repair (R-IN-3), or of another
  process's open store: ``None`` (the full way repairs it, or waits for the other run);
- the file held by another process, or any failure to open it: ``None`` (the full way waits,
  says so once, gives up after ``$AFTERCARE_LOCK_TIMEOUT``, or says why it cannot open it);
- a file without Aftercare's tables, or an older store lacking a table or column read here:
  ``None`` (the full way says there is no store there, or migrates it, then reads it).

The file is opened read-only, so reading the figures writes nothing; the ``.wal`` is looked
at once the file is held (no writer can open it then), so a crash just before is not missed.
The unmatched records are R-IN-6's definition
(:func:`~aftercare.pipeline.unmatched.unmatched_records`) in SQL; the tests check that both
ways give the same figures on the same stores.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from aftercare.store.duckdb_file import check_duckdb_path, resolve_url, wal_path
from aftercare.store.status import StoreStatus, TableStatus

__all__ = ["CANONICAL_TABLES", "duckdb_store_status"]


#: R-IN-6 for each canonical table that references a customer or vehicle, in
#: :data:`aftercare.schema.TABLES`' order; an order's customer is its own, else its vehicle's
#: owner (``resolved_orders``). ``NOT (x IN (…))`` keeps SQL's NULL rules, as Ibis writes it.
_UNMATCHED = {
    "vehicles": """
        SELECT count(*) FROM vehicles
        WHERE NOT (customer_id IN (SELECT customer_id FROM customers))""",
    "service_orders": """
        SELECT count(*) FROM (
            SELECT o.vin, coalesce(o.customer_id, v.customer_id) AS customer_id
            FROM service_orders AS o LEFT JOIN vehicles AS v ON o.vin = v.vin
        ) AS orders
        WHERE orders.customer_id IS NULL
           OR NOT (orders.customer_id IN (SELECT customer_id FROM customers))
           OR (orders.vin IS NOT NULL AND NOT (orders.vin IN (SELECT vin FROM vehicles)))""",
    "declined_services": """
        SELECT count(*) FROM declined_services
        WHERE (customer_id IS NOT NULL
               AND NOT (customer_id IN (SELECT customer_id FROM customers)))
           OR (vin IS NOT NULL AND NOT (vin IN (SELECT vin FROM vehicles)))""",
    "interactions": """
        SELECT count(*) FROM interactions
        WHERE NOT (customer_id IN (SELECT customer_id FROM customers))""",
}

#: The canonical tables in :data:`aftercare.schema.TABLES`' order (checked equal by a test):
#: customers, the tables that reference them, then advisors, which reference nothing.
CANONICAL_TABLES = ("customers", *_UNMATCHED, "advisors")

#: One row per canonical table, in order: its rows and its unmatched records.
_ROWS = (
    " UNION ALL ".join(
        f'SELECT {i} AS position, (SELECT count(*) FROM "{name}") AS n_rows, '
        f"({_UNMATCHED.get(name, 'SELECT 0')}) AS n_unmatched"
        for i, name in enumerate(CANONICAL_TABLES)
    )
    + " ORDER BY position"
)

#: A rejected row is one source row of one file, however many problems it had.
_REJECTED = """
    SELECT table_name, count(DISTINCT source_file || ':' || CAST(source_row AS VARCHAR))
    FROM rejected_rows GROUP BY table_name"""
_WARNINGS = "SELECT table_name, count(source_row) FROM load_warnings GROUP BY table_name"
#: Newest load first within each table; load_id (it starts with the time) breaks ties.
_LAST_LOAD = """
    SELECT table_name, finished_at, source_file FROM load_log
    QUALIFY row_number() OVER (
        PARTITION BY table_name ORDER BY finished_at DESC, load_id DESC) = 1"""


def duckdb_store_status(url: str | None) -> StoreStatus | None:
    """The store's status read in plain SQL, or ``None`` where the full open is needed.

    Parameters
    ----------
    url
        The store URL as given to ``--db``; ``None``: ``$AFTERCARE_DB``, else
        ``./aftercare.duckdb``.

    Returns
    -------
    StoreStatus or None
        The figures :func:`~aftercare.store.status.store_status` gives; ``None`` when the
        store is not a DuckDB file, or opening it must repair, wait, migrate or fail (see the
        module's notes).

    Raises
    ------
    StoreError
        ``url`` names no DuckDB store: ``:memory:``, a folder, a file that is not DuckDB's,
        or nothing (the messages of :func:`~aftercare.store.connect.open_store`).
    """
    url = resolve_url(url)
    name = url.removeprefix("duckdb://")
    if "://" in name or name.startswith(("spark:", "pyspark:")):
        return None
    path = Path(name)
    check_duckdb_path(path, create=False)
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        if wal_path(path).exists():
            return None
        # DuckDB's own progress bar would print into the table on a large store.
        con.execute("SET enable_progress_bar = false")
        return _read(con, str(path))
    except (duckdb.CatalogException, duckdb.BinderException):
        return None
    finally:
        con.close()


def _read(con: duckdb.DuckDBPyConnection, url: str) -> StoreStatus:
    """Every canonical table's figures, from four small queries."""
    rejected = dict(con.sql(_REJECTED).fetchall())
    warnings = dict(con.sql(_WARNINGS).fetchall())
    last = {name: (at, file) for name, at, file in con.sql(_LAST_LOAD).fetchall()}
    tables = []
    counts = con.sql(_ROWS).fetchall()
    for name, (_, rows, unmatched) in zip(CANONICAL_TABLES, counts, strict=True):
        at, file = last.get(name, (None, None))
        tables.append(
            TableStatus(
                name=name,
                rows=int(rows),
                unmatched=int(unmatched),
                rejected_rows=int(rejected.get(name, 0)),
                warnings=int(warnings.get(name, 0)),
                last_load_at=at,
                last_file=file,
            )
        )
    return StoreStatus(url=url, tables=tuple(tables))
