"""Compiled once: an expression's SQL kept per store and shape, its dates put in per run.

Building an engine run's Ibis expressions and compiling them to SQL takes a second or more of
Python on every run, whatever the store's size (issue 11: ~60 % of a daily run on a small
store). The SQL only changes with what the expression is built from, never with the run's
date: the dates enter it as literals (``as_date``) and in-engine date arithmetic. So a run
builds each expression once per store and *shape* (the configuration and whatever changes
the expression's form), with a sentinel date standing for each of its dates, compiles it,
keeps the SQL text, and later runs substitute their own dates into the text.

A sentinel is a date no store holds (years 1001 on); it is written by both DuckDB and
PostgreSQL as ``MAKE_DATE(year, month, day)``. When the compiled text holds a sentinel's
year anywhere else (a year the builder took out of the date in Python, a timestamp), the
text cannot be trusted, so the expression is compiled for each run instead (slow, never
wrong). What a builder must not do is compute from its dates in Python: tests compile
directly for several dates (leap days, year ends, Sundays) and compare.

A trusted template is also kept on disk (:mod:`aftercare.store.plan_store`), so the next
process on a store of the same tables, with the same code and configuration, reads it
instead of compiling.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

import ibis.expr.types as ir

from aftercare.store import plan_store
from aftercare.store.connect import Store
from aftercare.store.transaction import CompiledQuery, compile_query

#: The first sentinel year; the n-th date of a call gets ``FIRST_SENTINEL_YEAR + n``.
FIRST_SENTINEL_YEAR = 1001

Builder = Callable[[Mapping[str, dt.date]], ir.Table]


@dataclass(frozen=True)
class _Template:
    """A compiled expression with sentinel dates, or ``None`` text: compile every time."""

    query: CompiledQuery | None
    sentinels: Mapping[str, dt.date]


def sentinel_dates(names: tuple[str, ...]) -> dict[str, dt.date]:
    """One sentinel per name, later names later (a builder comparing its dates sees them in
    the order the caller gave them: pass them in their real order). Mid-year, so a date a
    builder derives in Python (the 1st of its year, the day after) has the sentinel's year
    in another literal, which :func:`compiled` detects."""
    return {name: dt.date(FIRST_SENTINEL_YEAR + i, 5, 17 + i) for i, name in enumerate(names)}


def date_sql(day: dt.date) -> str:
    """How DuckDB and PostgreSQL write the date literal ``day`` in compiled Ibis SQL."""
    return f"MAKE_DATE({day.year}, {day.month}, {day.day})"


def compiled(
    store: Store,
    shape: Hashable,
    build: Builder,
    dates: Mapping[str, dt.date],
    *,
    per_use: str | None = None,
) -> CompiledQuery:
    """The SQL of ``build(dates)`` on ``store``, compiled once per ``shape``.

    Parameters
    ----------
    store
        The open store (the cache lives with it: one connection, one schema).
    shape
        Everything the expression's form depends on other than ``dates`` (the query's name,
        the configuration, flags such as whether stored scores exist).
    build
        Builds the expression from a mapping of the names of ``dates`` to dates. It may use
        a date only as an Ibis literal; never in Python arithmetic.
    dates
        The run's dates, in their real order (earliest first when they are ordered).
    per_use
        The CTEs with an output column of this name are computed at each use
        (:func:`~aftercare.store.transaction.compute_per_use`); part of the shape.

    Returns
    -------
    CompiledQuery
        The SQL with ``dates`` substituted, to run with
        :func:`~aftercare.store.transaction.fetch_compiled`.
    """
    cache = store.plans
    key = (shape, tuple(dates), per_use)
    template = cache.templates.get(key)
    if template is None:
        sentinels = sentinel_dates(tuple(dates))
        kept = plan_store.load(store, key)  # compiled by an earlier process
        if kept is not None:
            cache.templates[key] = _Template(kept, sentinels)
            cache.loaded += 1
            return _fill(kept, sentinels, dates)
        query = compile_query(store, build(sentinels), per_use=per_use)
        trusted = query.expr is None and _only_as_literals(query.sql, sentinels)
        template = _Template(query if trusted else None, sentinels)
        cache.templates[key] = template
        cache.compiled += 1
        if trusted:
            plan_store.save(store, key, query)
            return _fill(query, sentinels, dates)
    if template.query is None:
        cache.uncached += 1
        return compile_query(store, build(dates), per_use=per_use)
    cache.reused += 1
    return _fill(template.query, template.sentinels, dates)


def _only_as_literals(sql: str, sentinels: Mapping[str, dt.date]) -> bool:
    """Every sentinel year in ``sql`` is inside its own date literal."""
    for day in sentinels.values():
        year_hits = len(re.findall(rf"(?<![0-9]){day.year}(?![0-9])", sql))
        if year_hits != sql.count(date_sql(day)):
            return False
    return True


def _fill(
    query: CompiledQuery, sentinels: Mapping[str, dt.date], dates: Mapping[str, dt.date]
) -> CompiledQuery:
    sql = query.sql
    for name, day in dates.items():
        sql = sql.replace(date_sql(sentinels[name]), date_sql(day))
    return CompiledQuery(sql, query.schema)
