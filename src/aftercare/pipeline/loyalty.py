"""Loyalty points of the RFM+L scorecard (R-SCORE-L).

Ibis only, ``Table -> Table``; nothing here connects or executes.

Signals, each counted at most once per customer (points from ``ScoringConfig``):

- extended warranty (``loyalty_extended_warranty``): one of the customer's vehicles has
  ``extended_warranty_end >= as_of``, was delivered on or before ``as_of`` and is not sold or
  scrapped. A vehicle's ``status`` and owner are its *current* state (the data has no history),
  so a sold vehicle's warranty never counts, not even when scoring a past date before the
  sale; a NULL status means active (the schema default).
- referral, brand event, complaint, competitor visit: an interaction of that type whose
  timestamp's date lies in the window, 0 <= (as_of - date) <= window_days (SPEC §2).
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from aftercare.config import Config, ScoringConfig
from aftercare.pipeline.staging import as_date

#: Interaction-based loyalty signals: output column -> (interaction type, ScoringConfig field).
INTERACTION_SIGNALS: dict[str, tuple[str, str]] = {
    "l_referral": ("referral", "loyalty_referral"),
    "l_brand_event": ("brand_event", "loyalty_brand_event"),
    "l_complaint": ("complaint", "loyalty_complaint"),
    "l_competitor_visit": ("competitor_visit", "loyalty_competitor_visit"),
}

#: Every loyalty column of the score table, in output order (R-SCORE-L).
LOYALTY_COLUMNS: tuple[str, ...] = ("l_extended_warranty", *INTERACTION_SIGNALS)

#: Vehicle status whose extended warranty counts (schema enum value; NULL means active).
ACTIVE_VEHICLE_STATUS = "active"


def scoring_config(config: Config | ScoringConfig) -> ScoringConfig:
    """The scorecard section of ``config`` (accepts the whole config or its scoring part)."""
    return config.scoring if isinstance(config, Config) else config


def within_window(date: ir.DateValue, as_of: dt.date | str, window_days: int) -> ir.BooleanValue:
    """True when 0 <= (as_of - date) <= window_days (SPEC §2; later events are ignored)."""
    as_of_lit = as_date(as_of)
    return (date <= as_of_lit) & (date >= as_of_lit - ibis.interval(days=window_days))


def warranty_eligible(vehicles: ir.Table, as_of: dt.date | str) -> ir.BooleanValue:
    """Whether each vehicle's extended warranty earns the R-SCORE-L point at ``as_of``."""
    as_of_lit = as_date(as_of)
    return (
        (vehicles.extended_warranty_end >= as_of_lit)
        & (vehicles.delivery_date <= as_of_lit)
        & (vehicles.status.fill_null(ACTIVE_VEHICLE_STATUS) == ACTIVE_VEHICLE_STATUS)
    )


def loyalty_points(
    vehicles: ir.Table,
    interactions: ir.Table,
    *,
    as_of: dt.date | str,
    config: Config | ScoringConfig,
) -> ir.Table:
    """Loyalty points per customer (R-SCORE-L).

    Grain: one row per customer with at least one loyalty signal (others have none: join
    with a left join and fill 0).

    Parameters
    ----------
    vehicles
        Canonical ``vehicles`` (``customer_id`` is the current owner).
    interactions
        Canonical ``interactions``; the date part of ``ts`` is the event date.
    as_of
        Scoring date.
    config
        Scorecard (or the whole config).

    Returns
    -------
    ir.Table
        ``customer_id``, ``l_extended_warranty``, ``l_referral``, ``l_brand_event``,
        ``l_complaint``, ``l_competitor_visit`` (int64 points, 0 when absent).
    """
    scoring = scoring_config(config)
    zero = ibis.literal(0, type="int64")

    warranty = vehicles.filter(warranty_eligible(vehicles, as_of), vehicles.customer_id.notnull())
    warranty_rows = warranty.select(
        customer_id=warranty.customer_id,
        l_extended_warranty=ibis.literal(scoring.loyalty_extended_warranty, type="int64"),
        **{column: zero for column in INTERACTION_SIGNALS},
    )

    types = [itype for itype, _ in INTERACTION_SIGNALS.values()]
    events = interactions.filter(
        interactions.type.isin(types),
        interactions.customer_id.notnull(),
        within_window(interactions.ts.date(), as_of, scoring.window_days),
    )
    event_rows = events.select(
        customer_id=events.customer_id,
        l_extended_warranty=zero,
        **{
            column: ibis.cases(
                (events.type == itype, ibis.literal(getattr(scoring, field), type="int64")),
                else_=zero,
            )
            for column, (itype, field) in INTERACTION_SIGNALS.items()
        },
    )

    # Each signal at most once: a signal's points are the same on every row that carries it,
    # so the non-zero value is min for penalties and max for bonuses.
    both = warranty_rows.union(event_rows)
    return both.group_by("customer_id").aggregate(
        **{column: _once(both[column]) for column in LOYALTY_COLUMNS}
    )


def _once(points: ir.IntegerColumn) -> ir.IntegerValue:
    """The signal's points if any row carries it, else 0 (works for negative points too)."""
    return ibis.cases(
        (points.min() < 0, points.min()),
        else_=points.max(),
    ).cast("int64")
