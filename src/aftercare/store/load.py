"""What one file's load hands the store, and the merge pieces every engine shares (R-IN-2).

The store defines what it accepts (:class:`LoadBatch`) and what a merge did
(:class:`MergeCounts`); the import service builds the batch. The key SQL and the load-log
counts are shared by the DuckDB/PostgreSQL writer (:mod:`.writer`) and the Spark lake's
(:mod:`.spark_writer`), so neither imports the other's module.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from aftercare.schema import TableSpec

#: Test hook (R-IN-3, proved with a real kill -9): set to a fault point, the process kills
#: itself there, inside the load's transaction. ``after-append``: the rows are appended (and
#: replaced rows deleted), the ``load_log`` row not yet written; ``mid-load``: everything is
#: written, the commit not yet run.
FAULT_ENV = "AFTERCARE_FAULT"
FAULT_POINTS = ("after-append", "mid-load")


@dataclass(frozen=True)
class LoadBatch:
    """Everything one file's import writes.

    ``rows`` has the stored schema of ``spec`` (system columns filled); ``rejects``,
    ``warnings`` and ``log`` have the schemas of the system tables.
    """

    spec: TableSpec
    source_file: str
    source_path: str
    load_id: str
    rows: pa.Table
    rejects: pa.Table
    warnings: pa.Table
    log: pa.Table


@dataclass(frozen=True)
class MergeCounts:
    """What a merge did to the target table."""

    inserted: int  # rows written: new keys and replacements
    replaced: int  # of them, rows that replaced a stored row of the same key
    unchanged: int


def quote(name: str) -> str:
    """``name`` as a double-quoted SQL identifier (DuckDB, PostgreSQL)."""
    return '"' + name.replace('"', '""') + '"'


def key_match_sql(
    spec: TableSpec, left: str, right: str, quote: Callable[[str], str] = quote
) -> str:
    """``left.k = right.k AND …`` over the natural key (``quote``: the dialect's quoting)."""
    return " AND ".join(f"{left}.{quote(k)} = {right}.{quote(k)}" for k in spec.key)


def key_text_sql(
    spec: TableSpec, alias: str, quote: Callable[[str], str] = quote, text: str = "VARCHAR"
) -> str:
    """The natural key as one text (``k1|k2``), as ``row_history`` records it."""
    parts = ", ".join(f"CAST({alias}.{quote(k)} AS {text})" for k in spec.key)
    return f"concat_ws('|', {parts})"


def log_with_counts(log: pa.Table, counts: MergeCounts) -> pa.Table:
    """The ``load_log`` row with the merge's counts filled in."""
    for name, value in (
        ("rows_inserted", counts.inserted),
        ("rows_replaced", counts.replaced),
        ("rows_unchanged", counts.unchanged),
    ):
        i = log.schema.get_field_index(name)
        log = log.set_column(i, name, pa.array([value] * log.num_rows, pa.int64()))
    return log


def maybe_crash(point: str = "mid-load") -> None:
    """Kill this process at ``point`` (of :data:`FAULT_POINTS`) if :data:`FAULT_ENV` names it."""
    if os.environ.get(FAULT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)
