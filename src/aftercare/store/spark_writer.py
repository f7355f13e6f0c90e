"""One file's import into a Spark lake: the same merge as :mod:`.writer`, as new directories.

Parquet cannot update or delete, so the new state of the table is computed in Spark and written
to a new version directory: existing rows whose key the file does not change, plus the file's
new and changed rows (R-IN-2), completed from the stored rows as on every engine (R-IN-8).
Replaced rows go to ``row_history``; the file's earlier rejects and warnings are replaced; the
``load_log`` row is appended. Every directory is written first, then one manifest switch makes
all of it visible at once — or, after a crash, none of it (R-IN-3).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq

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
from aftercare.store.partial import PartialUpdate, fill_from_stored, stored_rows_sql
from aftercare.store.spark_lake import MAX_PARTS, Lake, LakeChange


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _match(spec: TableSpec, left: str, right: str) -> str:
    return key_match_sql(spec, left, right, quote=_q)


def _key_text(spec: TableSpec, alias: str) -> str:
    return key_text_sql(spec, alias, quote=_q, text="STRING")


def _counts(session: Any, spec: TableSpec) -> MergeCounts:
    row = session.sql(
        f"""SELECT
            count_if(t.row_hash IS NULL) AS new_keys,
            count_if(t.row_hash IS NOT NULL AND t.row_hash <> i.row_hash) AS replaced,
            count_if(t.row_hash = i.row_hash) AS unchanged
          FROM _incoming i LEFT JOIN {_q(spec.name)} t ON {_match(spec, "t", "i")}"""
    ).collect()[0]
    new_keys, replaced, unchanged = (int(v or 0) for v in row)
    return MergeCounts(inserted=new_keys + replaced, replaced=replaced, unchanged=unchanged)


def _merge(
    lake: Lake,
    spec: TableSpec,
    batch: LoadBatch,
    change: LakeChange,
    update: PartialUpdate | None = None,
) -> MergeCounts:
    """Write the table's new state (and the replaced rows' history) as new directories."""
    session = lake.session
    name = spec.name
    if sum(lake.rows(rel) for rel in lake.parts(name).values()) == 0:
        change.parts[name] = {batch.load_id: lake.write_arrow(lake.new_dir(name), batch.rows)}
        return MergeCounts(inserted=batch.rows.num_rows, replaced=0, unchanged=0)
    staged = lake.staging_dir() / "incoming.parquet"
    pq.write_table(batch.rows, staged)
    session.read.parquet(str(staged)).createOrReplaceTempView("_incoming")
    if update is not None:  # R-IN-8: complete the file's rows from the stored ones
        stored = session.sql(stored_rows_sql(spec, _match(spec, "t", "i"), _q)).toArrow()
        if stored.num_rows:
            merged = fill_from_stored(batch.rows, stored.cast(spec.arrow_schema()), spec, update)
            staged = lake.staging_dir() / "incoming-merged.parquet"
            pq.write_table(merged, staged)
            session.read.parquet(str(staged)).createOrReplaceTempView("_incoming")
    counts = _counts(session, spec)
    if counts.inserted == 0:
        return counts  # nothing new or changed: the table stays as it is
    match = _match(spec, "t", "i")
    cols = ", ".join(_q(c) for c in spec.arrow_schema().names)
    session.sql(
        f"""SELECT i.* FROM _incoming i JOIN {_q(name)} t ON {match}
            WHERE NOT (t.row_hash <=> i.row_hash)"""
    ).createOrReplaceTempView("_changed")
    state = session.sql(
        f"""SELECT {cols} FROM {_q(name)} t LEFT ANTI JOIN _changed i ON {match}
            UNION ALL
            SELECT {cols} FROM _incoming i LEFT ANTI JOIN {_q(name)} t ON {match}
            UNION ALL
            SELECT {cols} FROM _changed"""
    )
    change.parts[name] = {batch.load_id: lake.write_frame(lake.new_dir(name), state)}
    if counts.replaced:
        # The old row as JSON, NULL fields included (as DuckDB's to_json writes them).
        history = session.sql(
            f"""SELECT i.load_id, '{name}' AS table_name, {_key_text(spec, "t")} AS natural_key,
                   t.row_hash AS old_row_hash, i.row_hash AS new_row_hash,
                   to_json(struct(t.*), map('ignoreNullFields', 'false')) AS old_record,
                   i.loaded_at AS replaced_at
                FROM {_q(name)} t JOIN _changed i ON {match}"""
        )
        rel = lake.write_frame(lake.new_dir("row_history"), history)
        _add_part(lake, change, "row_history", batch.load_id, rel)
    return counts


def _add_part(lake: Lake, change: LakeChange, table: str, key: str, rel: str) -> None:
    """Append a part to ``table`` in ``change``; many parts are compacted into one."""
    parts = change.parts.get(table, lake.parts(table))
    parts = {k: v for k, v in parts.items() if k != "empty"}
    parts[key] = rel
    if len(parts) > MAX_PARTS:
        frame = lake.frame_of(table, list(parts.values()))
        parts = {key: lake.write_frame(lake.new_dir(table), frame.coalesce(1))}
    change.parts[table] = parts


def _replace_file_rows(
    lake: Lake, change: LakeChange, table: str, batch: LoadBatch, rows: pa.Table
) -> None:
    """Replace the quarantine rows of earlier loads of the same file (same name and path)."""
    session = lake.session
    earlier = """table_name = :table AND source_file = :file AND load_id IN
        (SELECT load_id FROM load_log WHERE table_name = :table AND source_path = :path)"""
    args = {"table": batch.spec.name, "file": batch.source_file, "path": batch.source_path}
    stale = session.sql(f"SELECT count(*) FROM {table} WHERE {earlier}", args=args).collect()
    if int(stale[0][0]):
        kept = session.sql(f"SELECT * FROM {table} WHERE NOT ({earlier})", args=args)
        change.parts[table] = {f"{batch.load_id}-kept": lake.write_frame(lake.new_dir(table), kept)}
    if rows.num_rows:
        _add_part(lake, change, table, batch.load_id, lake.write_arrow(lake.new_dir(table), rows))


def apply_load_spark(
    store: Store, batch: LoadBatch, *, update: PartialUpdate | None = None
) -> MergeCounts:
    """Write one file's load into a Spark lake, all of it or (after a crash) none of it.

    Parameters
    ----------
    store
        An open ``spark:`` store.
    batch
        Validated rows, rejects, warnings and the load-log row.
    update
        What the file carries (R-IN-8); ``None`` replaces whole rows.

    Returns
    -------
    MergeCounts
        Rows inserted (new keys), replaced (same key, new content) and unchanged.
    """
    lake: Lake = store.lake
    change = LakeChange()
    try:
        counts = _merge(lake, batch.spec, batch, change, update)
        _replace_file_rows(lake, change, "rejected_rows", batch, batch.rejects)
        _replace_file_rows(lake, change, "load_warnings", batch, batch.warnings)
        log = log_with_counts(batch.log, counts)
        _add_part(
            lake, change, "load_log", batch.load_id, lake.write_arrow(lake.new_dir("load_log"), log)
        )
        lake.commit(change, before_switch=maybe_crash)
    finally:
        for view in ("_incoming", "_changed"):
            lake.session.catalog.dropTempView(view)
    return counts


def replace_snapshot_spark(store: Store, table: str, as_of: dt.date, rows: ir.Table) -> int:
    """Store ``rows`` as the ``as_of`` partition of ``table``; other dates are not touched.

    The partition is written to a new directory (``<table>/as_of_date=YYYY-MM-DD/v-…``) and
    swapped in by the manifest. Returns the rows stored.
    """
    lake: Lake = store.lake
    day = as_of.isoformat()
    rel = lake.write_frame(lake.new_dir(table, f"as_of_date={day}"), store.con.frame(rows))
    stored = lake.rows(rel)
    parts = {k: v for k, v in lake.parts(table).items() if k not in (day, "empty")}
    if stored:
        parts[day] = rel
    elif not parts:
        parts["empty"] = rel  # keeps the table (and its schema) without listing a date
    change = LakeChange(parts={table: parts}, partition={table: "as_of_date"})
    lake.commit(change)
    return stored


def snapshot_dates_spark(store: Store, table: str) -> list[dt.date]:
    """The as-of dates stored in ``table`` (from the manifest: no Spark job), oldest first."""
    lake: Lake = store.lake
    return sorted(dt.date.fromisoformat(k) for k in lake.parts(table) if k != "empty")
