"""The rows an export of a stored table writes: the table (or one dated snapshot), in key order.

Writing them to a file is :mod:`aftercare.reports.table_file`'s job; the use case that joins
the two is :mod:`aftercare.services.exports`.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from aftercare.errors import InputFileError
from aftercare.store.connect import Store


def table_rows(
    store: Store,
    name: str,
    *,
    as_of: dt.date | None = None,
    rows: pa.Table | None = None,
) -> ir.Table:
    """Stored table ``name`` as an export writes it, ordered by its first ``*_id`` column.

    Parameters
    ----------
    store
        An open store.
    name
        A stored table.
    as_of
        Keep one dated snapshot of a table that has an ``as_of_date`` column.
    rows
        Export these rows under ``name`` instead of the stored table (a view a service
        derived from it, e.g. the actions with their current status).

    Raises
    ------
    InputFileError
        Unknown table, or a dated snapshot asked of an undated table.
    """
    if not store.has_table(name):
        known = ", ".join(sorted(t for t in store.con.list_tables() if not t.startswith("_")))
        raise InputFileError(f"no table {name!r} in the store; tables: {known}")
    expr: ir.Table = store.table(name) if rows is None else ibis.memtable(rows)
    if as_of is not None:
        if "as_of_date" not in expr.columns:
            raise InputFileError(f"table {name!r} has no dated snapshots (no as_of_date column)")
        expr = expr.filter(expr.as_of_date == as_of)
    key = [c for c in expr.columns if c.endswith("_id")][:1]
    return expr.order_by(key) if key else expr
