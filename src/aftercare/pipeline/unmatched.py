"""Records whose master record has not arrived yet (R-IN-6): kept, listed, counted."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from aftercare.pipeline.staging import VIN_KNOWN, resolved_orders


def _with_not_in(rows: ir.Table, column: str, known: ir.Table, known_column: str) -> ir.Table:
    """``rows`` plus a boolean column ``not_in_<column>``: ``NOT (column IN known_column)``.

    TRUE where SQL's ``NOT (x IN (SELECT …))`` is TRUE, FALSE where it is FALSE or NULL (a
    filter drops both alike): x not NULL and held by no known row while no known row holds
    a NULL; or, for every x, a NULL one too, when there are no known rows at all. Written as
    a left join on the distinct known keys (no row of ``rows`` is repeated) because
    PostgreSQL runs a NOT IN whose set outgrows ``work_mem`` row by row (issue 11), and a
    join is hashed (and spilled if need be) on every engine.
    """
    key, hit, flag = f"known_{column}_key", f"known_{column}_hit", f"not_in_{column}"
    keys = known.select(**{key: known[known_column]})
    keys = keys.filter(keys[key].notnull()).distinct().mutate(**{hit: ibis.literal(True)})
    # A view: Ibis would fold this join into the one ``rows`` may be a projection of
    # (resolved orders), where a computed ``customer_id`` cannot be joined on.
    rows = rows.view()
    joined = rows.left_join(keys, rows[column] == keys[key])
    matched = joined.select(*[joined[c] for c in rows.columns], joined[hit])
    # One scan each, once per query (scalar subqueries): NULL's part in NOT IN's rules.
    is_empty = known.count() == 0
    value = matched[column]
    not_in = ibis.ifelse(
        value.isnull(), is_empty, matched[hit].isnull() & _holds_no_null(known, known_column)
    )
    return matched.select(*rows.columns, **{flag: not_in})


def _holds_no_null(known: ir.Table, column: str) -> ir.BooleanValue:
    """TRUE when no row of ``known`` has a NULL ``column`` (an empty table holds none): NOT
    IN finds nothing while the set holds a NULL."""
    return known.aggregate(v=known[column].count() == known.count()).as_scalar()


def unmatched_records(
    table: str, rows: ir.Table, *, customers: ir.Table, vehicles: ir.Table
) -> ir.Table | None:
    """Rows of canonical table ``table`` that reference a customer or vehicle not (yet) known.

    Grain: one row per unmatched record of ``table``; ``None`` for tables that reference
    nothing (customers, advisors). An order's customer is resolved through its vehicle first
    (:func:`~aftercare.pipeline.staging.resolved_orders`). "Not known" follows SQL's
    ``NOT (x IN known)``: an unknown key is not reported while a known key column holds a
    NULL, and a NULL key is reported only where the rule says so or nothing is known.

    Parameters
    ----------
    table
        The canonical table's name.
    rows
        Its rows.
    customers, vehicles
        The known customers and vehicles.
    """
    if table == "service_orders":
        resolved = resolved_orders(rows, vehicles, vin_known=True)
        rows = resolved.drop(VIN_KNOWN)
        flagged = _with_not_in(resolved, "customer_id", customers, "customer_id")
        # A non-NULL VIN is NOT IN the vehicles' when the resolving join found no vehicle for
        # it and no vehicle's VIN is NULL.
        vin_not_in = ~flagged[VIN_KNOWN] & _holds_no_null(vehicles, "vin")
        found = flagged.filter(
            flagged.customer_id.isnull()
            | flagged.not_in_customer_id
            | (flagged.vin.notnull() & vin_not_in)
        )
    elif table in ("vehicles", "interactions"):
        flagged = _with_not_in(rows, "customer_id", customers, "customer_id")
        found = flagged.filter(flagged.not_in_customer_id)
    elif table == "declined_services":
        flagged = _with_not_in(rows, "customer_id", customers, "customer_id")
        flagged = _with_not_in(flagged, "vin", vehicles, "vin")
        found = flagged.filter(
            (flagged.customer_id.notnull() & flagged.not_in_customer_id)
            | (flagged.vin.notnull() & flagged.not_in_vin)
        )
    else:
        return None
    return found.select(*rows.columns)
