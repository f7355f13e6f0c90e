"""Whether a row's keys are among some others, in one pass every engine plans well.

Ibis only, ``Table -> Table``; nothing here connects or executes.

A filter ``a IN (SELECT …) OR b IN (SELECT …)`` reads naturally, but PostgreSQL cannot turn
a sub-SELECT under an ``OR`` into a join: it runs it as a SubPlan, hashed only while its
rows fit in ``work_mem`` (4 MB by default), else scanned once per outer row. At 1M customers
that scanned 78k queued customers for each of 7.5M orders (issue 11). Left joins on the
distinct keys are hash joins on PostgreSQL and on DuckDB alike, and read the rows once.
"""

from __future__ import annotations

import ibis.expr.types as ir

#: Prefix of the flag columns :func:`with_membership` adds.
FLAG_PREFIX = "_in_"


def with_membership(rows: ir.Table, **keys: ir.Column) -> ir.Table:
    """``rows`` with a flag ``_in_<column>`` for each ``column=values`` of ``keys``: True
    when the row's ``column`` is among ``values``, False otherwise (a NULL key included).

    Grain: the rows of ``rows``, each once (the values are made distinct before the join).

    Parameters
    ----------
    rows
        Any table.
    **keys
        Column name of ``rows`` -> a column of the values it is looked up in.

    Returns
    -------
    ir.Table
        Every column of ``rows`` plus one boolean ``_in_<column>`` per key.
    """
    out = rows
    for column, values in keys.items():
        key = f"{FLAG_PREFIX}{column}"
        distinct = values.name(key).as_table().distinct()
        joined = out.left_join(distinct, out[column] == distinct[key])
        out = joined.select(*out.columns, **{key: joined[key].notnull()})
    return out


def matching_any(rows: ir.Table, **keys: ir.Column) -> ir.Table:
    """The rows of ``rows`` whose ``column`` is among ``values`` for any ``column=values``
    of ``keys`` (``column IN (…) OR …``, as :func:`with_membership`'s joins).

    Grain: a subset of ``rows``; same columns.
    """
    flagged = with_membership(rows, **keys)
    flags = [flagged[f"{FLAG_PREFIX}{column}"] for column in keys]
    keep = flags[0]
    for flag in flags[1:]:
        keep = keep | flag
    return flagged.filter(keep).select(*rows.columns)
