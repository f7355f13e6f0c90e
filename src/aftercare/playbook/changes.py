"""Which customers' plans the data changed since the engine's last run (issue 11).

Ibis only, ``Table -> Table``; nothing here connects or executes. An incremental engine run
(:mod:`aftercare.services.incremental`) plans only the customers whose inputs changed and
those whose date came (:mod:`aftercare.playbook.wake`); this module finds the first kind.
Each function returns one column, ``customer_id`` (a customer may appear more than once).

A customer's plan reads their own rows and their vehicles' (see
:mod:`aftercare.pipeline.subset`), so a changed row touches its customer and the owner of
its vehicle:

- *stored since*: the rows a load wrote that the last run had not seen (their ``load_id``),
  and the rows those loads replaced (``row_history``: the old row's customer and vehicle,
  e.g. the previous owner of a vehicle that changed hands);
- *dated since*: rows the plan only counts from a date on (an order opened or closed, a
  vehicle delivered, a quote declined, an interaction logged) whose date fell between the
  last run's as-of date and this one's;
- *logged since*: outcomes and contact preferences — both append-only logs — whose count
  per customer differs from what the customer's last planning saw;
- *scored since*: a customer whose row differs between the scores the last run read and
  the scores this one reads.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.datatypes as dt_
import ibis.expr.types as ir

from aftercare.pipeline.inputs import CanonicalTables
from aftercare.pipeline.staging import as_date

#: The canonical tables a customer's plan reads, with the columns that name whose they are.
_OWNED_BY = {
    "customers": ("customer_id", None),
    "vehicles": ("customer_id", "vin"),
    "service_orders": ("customer_id", "vin"),
    "declined_services": ("customer_id", "vin"),
    "interactions": ("customer_id", None),
}


@ibis.udf.scalar.builtin
def json_extract_path_text(document: dt_.JSON, key: str) -> str:  # type: ignore[empty-body]
    """The text of ``document``'s member ``key`` (NULL when absent or null): DuckDB and
    PostgreSQL both have it built in (Ibis' own JSON access writes SQL PostgreSQL rejects)."""


def _ids(column: ir.StringValue) -> ir.Table:
    return column.name("customer_id").as_table().filter(lambda t: t.customer_id.notnull())


def _with_owners(rows: ir.Table, vehicles: ir.Table) -> ir.Table:
    """The customer of each row of (customer_id, vin) and the current owner of its vin."""
    owners = vehicles.select(o_vin=vehicles.vin, o_customer_id=vehicles.customer_id)
    owned = rows.filter(rows.vin.notnull()).inner_join(owners, rows.vin == owners.o_vin)
    return _ids(rows.customer_id).union(_ids(owned.o_customer_id), distinct=False)


def stored_since(tables: CanonicalTables, row_history: ir.Table, new_loads: ir.Table) -> ir.Table:
    """Customers of the rows the loads of ``new_loads`` (column ``load_id``) wrote or replaced.

    Parameters
    ----------
    tables
        The canonical tables.
    row_history
        The stored ``row_history`` (the rows loads replaced, as JSON).
    new_loads
        The loads the last run had not seen.
    """
    loads = new_loads.load_id
    parts = []
    for name, (customer, vin) in _OWNED_BY.items():
        t = getattr(tables, name)
        t = t.filter(t.load_id.isin(loads))
        vin_col = t[vin] if vin else ibis.null("string")
        parts.append(t.select(customer_id=t[customer], vin=vin_col))
    old = row_history.filter(
        row_history.load_id.isin(loads), row_history.table_name.isin(list(_OWNED_BY))
    )
    record = old.old_record.cast("json")
    parts.append(
        old.select(
            customer_id=json_extract_path_text(record, "customer_id"),
            vin=json_extract_path_text(record, "vin"),
        )
    )
    rows = parts[0]
    for part in parts[1:]:
        rows = rows.union(part, distinct=False)
    return _with_owners(rows, tables.vehicles)


def vins_since(
    tables: CanonicalTables,
    row_history: ir.Table,
    new_loads: ir.Table,
    *,
    after: dt.date,
    through: dt.date,
) -> ir.Table:
    """Vehicles whose own mileage rate or forecast errors may have changed (R-REMIND): of
    orders and vehicles written or replaced by ``new_loads`` (the replaced rows' too), and
    of orders opened after ``after``, on or before ``through``. Column ``vin`` (may repeat).
    """
    loads = new_loads.load_id
    o, v = tables.service_orders, tables.vehicles
    start, end = as_date(after), as_date(through)
    old = row_history.filter(
        row_history.load_id.isin(loads),
        row_history.table_name.isin(["service_orders", "vehicles"]),
    )
    parts = [
        o.filter(o.load_id.isin(loads)).select("vin"),
        v.filter(v.load_id.isin(loads)).select("vin"),
        old.select(vin=json_extract_path_text(old.old_record.cast("json"), "vin")),
        o.filter(o.open_date > start, o.open_date <= end).select("vin"),
    ]
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part, distinct=False)
    return out.filter(out.vin.notnull())


def dated_since(tables: CanonicalTables, *, after: dt.date, through: dt.date) -> ir.Table:
    """Customers of rows dated after ``after`` and on or before ``through``: orders opened or
    closed, vehicles delivered, quotes declined, interactions logged (and their vehicles'
    owners)."""
    start, end = as_date(after), as_date(through)

    def between(day: ir.DateValue) -> ir.BooleanValue:
        return (day > start) & (day <= end)

    o, v, d, i = (
        tables.service_orders,
        tables.vehicles,
        tables.declined_services,
        tables.interactions,
    )
    rows = (
        o.filter(between(o.open_date) | between(o.close_date))
        .select("customer_id", "vin")
        .union(v.filter(between(v.delivery_date)).select("customer_id", "vin"), distinct=False)
        .union(d.filter(between(d.declined_date)).select("customer_id", "vin"), distinct=False)
        .union(
            i.filter(between(i.ts.date())).select("customer_id", vin=ibis.null("string")),
            distinct=False,
        )
    )
    return _with_owners(rows, v)


def logged_counts(actions: ir.Table, outcomes: ir.Table, preferences: ir.Table) -> ir.Table:
    """Outcomes (of their actions) and contact preferences per customer with any.

    Returns
    -------
    ir.Table
        customer_id, outcomes, preferences (one row per customer with either).
    """
    whose = actions.select(a_action_id="action_id", customer_id="customer_id")
    o = outcomes.inner_join(whose, outcomes.action_id == whose.a_action_id)
    zero = ibis.literal(0, type="int64")
    rows = o.select("customer_id", outcomes=ibis.literal(1, type="int64"), preferences=zero).union(
        preferences.select("customer_id", outcomes=zero, preferences=ibis.literal(1, type="int64")),
        distinct=False,
    )
    return rows.group_by("customer_id").aggregate(
        outcomes=rows.outcomes.sum(), preferences=rows.preferences.sum()
    )


def logged_since(counts: ir.Table, seen: ir.Table) -> ir.Table:
    """Customers whose ``counts`` (:func:`logged_counts`) differ from ``seen`` (the stored
    ``engine_customers``: the counts their last planning saw)."""
    s = seen.select(s_customer_id="customer_id", s_outcomes="outcomes", s_preferences="preferences")
    j = counts.left_join(s, counts.customer_id == s.s_customer_id)
    changed = (j.outcomes != j.s_outcomes.fill_null(0)) | (
        j.preferences != j.s_preferences.fill_null(0)
    )
    return _ids(j.filter(changed).customer_id)


def scored_since(before: ir.Table, after: ir.Table, columns: tuple[str, ...]) -> ir.Table:
    """Customers whose ``columns`` of their score row differ between two snapshots, who are
    in one only, or who moved tier in ``after`` (a tier move is keyed by its snapshot's date).

    ``columns``: what the plan's candidates read of the scores (the tier and its move, and
    whatever a custom rule's condition reads); the rest (the recency score …) only values a
    new action, which is computed for the customers planned.
    """
    keep = ["customer_id", *columns]
    b = before.select(*keep)
    a = after.select(*keep)
    differ = a.difference(b, distinct=True).select("customer_id")
    gone = b.difference(a, distinct=True).select("customer_id")
    moved = after.filter(after.move.isin(["up", "down"])).select("customer_id")
    return differ.union(gone, distinct=False).union(moved, distinct=False)
