"""Aftercare's own bookkeeping tables: what was loaded, rejected, replaced and warned about.

Grain of each:
- ``load_log``: one row per import of one file (R-IN-2, R-IN-3).
- ``rejected_rows``: one row per bad cell of a rejected row (R-IN-1); the latest import of a
  file (same name and path) replaces that file's previous rejects, so a fixed file clears its
  quarantine, while another file of the same name keeps its own.
- ``load_warnings``: one row per warning (R-IN-7 unknown category, duplicate rows …), same
  replacement rule as rejects.
- ``row_history``: one row per replaced canonical row, with the old row as JSON (R-IN-2).
- ``store_repairs``: one row per table per torn write removed at open or by
  ``aftercare check --repair`` (R-IN-3): the rows of a load that never committed, or a
  snapshot date written twice.
"""

from __future__ import annotations

import ibis

LOAD_LOG = ibis.schema(
    {
        "load_id": "string",
        "table_name": "string",
        "source_file": "string",
        "file_sha256": "string",
        "started_at": "timestamp",
        "finished_at": "timestamp",
        "rows_read": "int64",
        "rows_inserted": "int64",
        "rows_replaced": "int64",
        "rows_unchanged": "int64",
        "rows_rejected": "int64",
        "warnings": "int64",
        # Which file this was (resolved path): two exports may share a name (工单导出.csv).
        "source_path": "string",
    }
)

REJECTED_ROWS = ibis.schema(
    {
        "load_id": "string",
        "table_name": "string",
        "source_file": "string",
        "source_row": "int64",
        "column_name": "string",
        "reason": "string",
        "raw_record": "string",
        "rejected_at": "timestamp",
    }
)

LOAD_WARNINGS = ibis.schema(
    {
        "load_id": "string",
        "table_name": "string",
        "source_file": "string",
        "source_row": "int64",
        "column_name": "string",
        "message": "string",
    }
)

ROW_HISTORY = ibis.schema(
    {
        "load_id": "string",
        "table_name": "string",
        "natural_key": "string",
        "old_row_hash": "string",
        "new_row_hash": "string",
        "old_record": "string",
        "replaced_at": "timestamp",
    }
)

STORE_REPAIRS = ibis.schema(
    {
        "repair_id": "string",  # one per repair pass (several tables may be repaired at once)
        "repaired_at": "timestamp",
        "table_name": "string",
        "removed_kind": "string",  # 'load' (never committed) or 'snapshot' (written twice)
        "removed_id": "string",  # the load id, or the snapshot's as-of date (ISO)
        "rows_removed": "int64",
        "reason": "string",
    }
)

SYSTEM_TABLES: dict[str, ibis.Schema] = {
    "load_log": LOAD_LOG,
    "rejected_rows": REJECTED_ROWS,
    "load_warnings": LOAD_WARNINGS,
    "row_history": ROW_HISTORY,
    "store_repairs": STORE_REPAIRS,
}
