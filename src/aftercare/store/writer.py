"""Atomic, idempotent loads of validated rows into a canonical table (R-IN-2, R-IN-3).

Ibis has no transactions, deletes or COPY, so this module speaks each engine's SQL directly,
and only here. One call is one transaction: new keys are inserted, changed rows replace the
old ones (the old row kept as JSON in ``row_history``), unchanged rows are left alone, and
the file's rejects, warnings and ``load_log`` row are written with them — or nothing is.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from aftercare.schema import TableSpec
from aftercare.store.connect import Store
from aftercare.store.load import (
    LoadBatch,
    MergeCounts,
    key_match_sql,
    key_text_sql,
    log_with_counts,
    maybe_crash,
)
from aftercare.store.load import quote as _quote
from aftercare.store.partial import PartialUpdate, fill_from_stored, stored_rows_sql

__all__ = ["apply_load", "replace_file_rows_sql"]


def _statements(spec: TableSpec, kind: str) -> list[str]:
    """The merge as SQL over the staged ``_incoming`` table (same in DuckDB and PostgreSQL)."""
    target = _quote(spec.name)
    match = key_match_sql(spec, "t", "i")
    row_json = "to_json(t)::VARCHAR" if kind == "duckdb" else "row_to_json(t)::text"
    cols = ", ".join(_quote(c) for c in spec.arrow_schema().names)
    return [
        f"""CREATE TEMP TABLE _changed AS
            SELECT i.* FROM _incoming i JOIN {target} t ON {match}
            WHERE t.row_hash IS DISTINCT FROM i.row_hash""",
        f"""INSERT INTO row_history
            SELECT i.load_id, '{spec.name}', {key_text_sql(spec, "t")}, t.row_hash, i.row_hash,
                   {row_json}, i.loaded_at
            FROM {target} t JOIN _changed i ON {match}""",
        f"DELETE FROM {target} t USING _changed i WHERE {match}",
        f"""INSERT INTO {target} ({cols})
            SELECT {cols} FROM _incoming i
            WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE {match})""",
    ]


def _count_sql(spec: TableSpec) -> str:
    match = key_match_sql(spec, "t", "i")
    return f"""SELECT
        count(*) FILTER (WHERE t.row_hash IS NULL),
        count(*) FILTER (WHERE t.row_hash IS NOT NULL AND t.row_hash <> i.row_hash),
        count(*) FILTER (WHERE t.row_hash = i.row_hash)
      FROM _incoming i LEFT JOIN {_quote(spec.name)} t ON {match}"""


def replace_file_rows_sql(table: str, spec_name: str, param: str) -> str:
    """Delete the quarantine of earlier loads of the same file (same name and path).

    ``param`` is the engine's placeholder; it binds the file name, then its resolved path.
    """
    return f"""DELETE FROM {table} WHERE table_name = '{spec_name}' AND source_file = {param}
        AND load_id IN (SELECT load_id FROM load_log
                        WHERE table_name = '{spec_name}' AND source_path = {param})"""


def apply_load(
    store: Store, batch: LoadBatch, *, update: PartialUpdate | None = None
) -> MergeCounts:
    """Write one file's load atomically.

    Parameters
    ----------
    store
        The open store (DuckDB, PostgreSQL or a Spark lake).
    batch
        Validated rows, rejects, warnings and the load-log row.
    update
        What the file carries (R-IN-8): a stored row it updates keeps every value the file
        does not carry. ``None`` replaces whole rows.

    Returns
    -------
    MergeCounts
        Rows written (``inserted``: new keys and replacements together, what the CLI
        prints as "stored"), of them ``replaced`` (same key, new content), and unchanged.

    Raises
    ------
    BlankingRefused
        ``update`` would blank too many stored values; nothing was written.
    """
    if store.kind == "duckdb":
        return _apply_duckdb(store, batch, update)
    if store.kind == "spark":
        from aftercare.store.spark_writer import apply_load_spark  # PySpark is optional

        return apply_load_spark(store, batch, update=update)
    return _apply_postgres(store, batch, update)


def _apply_duckdb(store: Store, batch: LoadBatch, update: PartialUpdate | None) -> MergeCounts:
    con = store.con.con  # the native duckdb connection: one transaction for everything
    spec = batch.spec
    # The Arrow rows are scanned in place: copying them into a temp table first cost seconds.
    con.register("_incoming", batch.rows)
    con.register("_rejects_arrow", batch.rejects)
    con.register("_warnings_arrow", batch.warnings)
    # Rows of a table have no order (SQL), so the load need not keep the file's: DuckDB then
    # writes the inserted row groups in parallel, compressed, at insert time, instead of
    # compressing them again at the next checkpoint (measured on 8.9M orders: insert + close
    # 18 s -> 9 s). Only this connection's loads are affected; the setting is restored below.
    con.execute("SET preserve_insertion_order = false")
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            counts = _merge_duckdb(con, spec, batch.rows, update)
            con.register("_log_arrow", log_with_counts(batch.log, counts))
            for table, arrow in (
                ("rejected_rows", "_rejects_arrow"),
                ("load_warnings", "_warnings_arrow"),
            ):
                con.execute(
                    replace_file_rows_sql(table, spec.name, "?"),
                    [batch.source_file, batch.source_path],
                )
                con.execute(f"INSERT INTO {table} SELECT * FROM {arrow}")
            maybe_crash("after-append")
            con.execute("INSERT INTO load_log SELECT * FROM _log_arrow")
            maybe_crash()
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.execute("RESET preserve_insertion_order")
        for name in ("_incoming", "_rejects_arrow", "_warnings_arrow", "_log_arrow"):
            with contextlib.suppress(Exception):
                con.unregister(name)
    return counts


def _merge_duckdb(
    con: Any, spec: TableSpec, rows: pa.Table, update: PartialUpdate | None
) -> MergeCounts:
    """The merge inside an open DuckDB transaction; an empty target takes a plain insert."""
    target_rows = con.execute(f"SELECT count(*) FROM {_quote(spec.name)}").fetchone()[0]
    if target_rows == 0:
        cols = ", ".join(_quote(c) for c in spec.arrow_schema().names)
        incoming = con.execute("SELECT count(*) FROM _incoming").fetchone()[0]
        con.execute(f"INSERT INTO {_quote(spec.name)} ({cols}) SELECT {cols} FROM _incoming")
        return MergeCounts(inserted=int(incoming), replaced=0, unchanged=0)
    if update is not None:  # R-IN-8: complete the file's rows from the stored ones
        stored = con.execute(stored_rows_sql(spec, key_match_sql(spec, "t", "i")))
        stored = stored.fetch_arrow_table()
        if stored.num_rows:
            con.unregister("_incoming")
            con.register("_incoming", fill_from_stored(rows, stored, spec, update))
    row = con.execute(_count_sql(spec)).fetchone()
    inserted, replaced, unchanged = (int(v) for v in row)
    con.execute("DROP TABLE IF EXISTS _changed")
    for sql in _statements(spec, "duckdb"):
        con.execute(sql)
    con.execute("DROP TABLE _changed")
    return MergeCounts(inserted=inserted + replaced, replaced=replaced, unchanged=unchanged)


def _copy_into(cursor: Any, table: str, data: pa.Table) -> None:
    """Bulk-load Arrow rows into a PostgreSQL table with COPY (executemany is ~100x slower)."""
    if data.num_rows == 0:
        return
    buffer = io.BytesIO()
    pacsv.write_csv(
        data,
        buffer,
        write_options=pacsv.WriteOptions(include_header=False, quoting_style="all_valid"),
    )
    cols = ", ".join(_quote(c) for c in data.schema.names)
    with cursor.copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(buffer.getvalue())


def _fill_postgres(cur: Any, batch: LoadBatch, update: PartialUpdate) -> None:
    """R-IN-8 on PostgreSQL: ``_incoming`` completed from the stored rows of its keys."""
    spec = batch.spec
    cur.execute(stored_rows_sql(spec, key_match_sql(spec, "t", "i")))
    found = cur.fetchall()
    if not found:
        return
    schema = spec.arrow_schema()
    columns = list(zip(*found, strict=True))
    stored = pa.table(
        [pa.array(values, f.type) for values, f in zip(columns, schema, strict=True)],
        schema=schema,
    )
    cur.execute("TRUNCATE _incoming")
    _copy_into(cur, "_incoming", fill_from_stored(batch.rows, stored, spec, update))


def _apply_postgres(store: Store, batch: LoadBatch, update: PartialUpdate | None) -> MergeCounts:
    pg = store.con.con  # the native psycopg connection
    spec = batch.spec
    with pg.transaction(), pg.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE _incoming (LIKE {_quote(spec.name)}) ON COMMIT DROP")
        _copy_into(cur, "_incoming", batch.rows)
        if update is not None:
            _fill_postgres(cur, batch, update)
        cur.execute(_count_sql(spec).replace("VARCHAR", "text"))
        row = cur.fetchone()
        assert row is not None
        inserted, replaced, unchanged = (int(v) for v in row)
        counts = MergeCounts(inserted=inserted + replaced, replaced=replaced, unchanged=unchanged)
        for sql in _statements(spec, "postgres"):
            if sql.startswith("CREATE TEMP TABLE _changed"):
                sql = sql.replace(
                    "CREATE TEMP TABLE _changed", "CREATE TEMP TABLE _changed ON COMMIT DROP"
                )
            cur.execute(sql.replace("AS VARCHAR", "AS text"))
        for table, data in (("rejected_rows", batch.rejects), ("load_warnings", batch.warnings)):
            cur.execute(
                replace_file_rows_sql(table, spec.name, "%s"),
                [batch.source_file, batch.source_path],
            )
            _copy_into(cur, table, data)
        maybe_crash("after-append")
        _copy_into(cur, "load_log", log_with_counts(batch.log, counts))
        maybe_crash()
    return counts
