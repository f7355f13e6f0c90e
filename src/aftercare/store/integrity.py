"""What ``aftercare check`` verifies in a store, as read-only queries (R-IN-2, R-IN-3).

- every declared key is unique (:func:`duplicate_keys`; a snapshot holds one row per customer
  per date);
- every row written by a load belongs to a committed load (:func:`uncommitted_rows`);
- each canonical table holds the rows its loads account for (:func:`load_log_counts`): a load
  adds ``rows_inserted − rows_replaced`` rows (a replaced row takes its old row's place);
- every action, assignment and score points at a stored customer, every outcome and move at a
  stored action (:func:`dangling_references`, :data:`~aftercare.schema.registry.REFERENCES`).

Each returns :class:`Finding` s, one per table and kind of problem, each with an example. All
are Ibis reads, so they run on DuckDB, PostgreSQL and a Spark lake alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from aftercare.schema import TABLES
from aftercare.schema.registry import REFERENCES, STORED_TABLES, Reference
from aftercare.store.connect import Store

__all__ = [
    "Finding",
    "dangling_references",
    "duplicate_keys",
    "load_log_counts",
    "plural",
    "store_size",
    "uncommitted_rows",
]
from aftercare.store.repair import plural, uncommitted_loads


@dataclass(frozen=True)
class Finding:
    """One thing wrong in one table.

    ``kind``: ``key`` (a key held twice), ``uncommitted`` (rows of a load with no
    ``load_log`` row), ``count`` (rows the load log does not account for) or ``reference``
    (rows pointing at nothing); ``rows``: how many rows or keys; ``detail``: one line.
    """

    kind: str
    table: str
    rows: int
    detail: str


def _scalar(expr: ir.Scalar) -> int:
    value = expr.to_pyarrow().as_py()
    return int(value or 0)


def _text(value: object) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def duplicate_keys(store: Store) -> list[Finding]:
    """Tables in which some value of the declared key is held by more than one row.

    A row with a NULL in its key is unkeyed, as in a SQL unique index.
    """
    out = []
    for name, table in STORED_TABLES.items():
        if not table.key or not store.has_table(name):
            continue
        t = store.table(name)
        key = list(table.key)
        keyed = t.filter(ibis.and_(*(t[k].notnull() for k in key)))
        per_key = keyed.group_by(key).aggregate(n=keyed.count())
        twice = per_key.filter(per_key.n > 1)
        keys = _scalar(twice.count())
        if not keys:
            continue
        example = twice.order_by(key).limit(1).to_pyarrow().to_pylist()[0]
        shown = "/".join(_text(example[k]) for k in key)
        what = (
            "one snapshot per date per customer broken"
            if table.family == "snapshot"
            else "key not unique"
        )
        out.append(
            Finding(
                "key",
                name,
                keys,
                f"{what}: {keys:,} {'/'.join(key)} held more than once "
                f"(e.g. {shown}, {example['n']} rows)",
            )
        )
    return out


def uncommitted_rows(store: Store) -> list[Finding]:
    """Rows written by a load that has no ``load_log`` row (a torn commit, R-IN-3)."""
    return [
        Finding(
            "uncommitted",
            r.table,
            r.rows,
            f"{plural(r.rows, 'row')} of load {r.removed_id}, which never committed "
            "(no load_log row); `aftercare check --repair` removes them",
        )
        for r in uncommitted_loads(store.con)
    ]


def load_log_counts(store: Store) -> list[Finding]:
    """Canonical tables whose row count differs from what their committed loads added."""
    log = store.table("load_log")
    added = (
        log.filter(log.table_name.isin(list(TABLES)))
        .group_by("table_name")
        .aggregate(rows=(log.rows_inserted - log.rows_replaced).sum())
        .to_pyarrow()
        .to_pylist()
    )
    expected = {r["table_name"]: int(r["rows"] or 0) for r in added}
    out = []
    for name in TABLES:
        stored = _scalar(store.table(name).count())
        want = expected.get(name, 0)
        if stored != want:
            out.append(
                Finding(
                    "count",
                    name,
                    abs(stored - want),
                    f"{stored:,} rows stored, but its committed loads added {want:,} "
                    "(rows_inserted − rows_replaced in load_log)",
                )
            )
    return out


def dangling_references(store: Store) -> list[Finding]:
    """Rows that point at a customer or an action the store does not hold.

    SQL's ``NOT (x IN targets)`` decides, as it always has: a NULL reference points at
    nothing and is not reported, and nothing is reported against a target column holding a
    NULL (the NOT IN is NULL then, not TRUE).
    """
    out = []
    for ref in REFERENCES:
        if not (store.has_table(ref.table) and store.has_table(ref.target)):
            continue
        lost = _dangling(store, ref)
        rows = _scalar(lost.count())
        if not rows:
            continue
        example = lost.select(ref.column).order_by(ref.column).limit(1).to_pyarrow()
        shown = example.column(0)[0].as_py()
        out.append(
            Finding(
                "reference",
                ref.table,
                rows,
                f"{plural(rows, 'row')} whose {ref.column} is not in {ref.target} (e.g. {shown})",
            )
        )
    return out


def _dangling(store: Store, ref: Reference) -> ir.Table:
    """Rows of ``ref.table`` pointing at no row of ``ref.target`` (NOT IN's NULL rules).

    An anti-join, not ``NOT IN (SELECT …)``: PostgreSQL runs that row by row once the
    targets outgrow ``work_mem`` (issue 11), where an anti-join is hashed and spills.
    """
    t, target = store.table(ref.table), store.table(ref.target)
    keyed = t.filter(t[ref.column].notnull())
    lost = keyed.anti_join(target, keyed[ref.column] == target[ref.target_column])
    holds_no_null = target.aggregate(
        v=target[ref.target_column].count() == target.count()
    ).as_scalar()
    return lost.filter(holds_no_null)


def store_size(store: Store) -> tuple[int, int, int]:
    """(tables, rows, committed loads) of the store, for the check's summary."""
    names = [name for name in STORED_TABLES if store.has_table(name)]
    rows = sum(_scalar(store.table(name).count()) for name in names)
    return len(names), rows, _scalar(store.table("load_log").count())
