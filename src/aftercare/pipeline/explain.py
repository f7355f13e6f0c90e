"""Why a customer has the score it has (R-SCORE-EXPLAIN).

Ibis only, ``Table -> Table``; nothing here connects or executes; formatting is the caller's
job. For one customer and as-of date:

- :func:`explain_orders`: every service order, whether it counted toward F (R-SCORE-F) and M
  (R-SCORE-M) and, when not, why; which visit set the recency (R-SCORE-R).
- :func:`explain_loyalty`: every loyalty signal candidate (R-SCORE-L) with its date, whether it
  counted and why not.
- :func:`explain_score`: the customer's score row, computed from that customer's data only.

Reasons are stable codes (the ``REASON_*`` constants) for the CLI/web to translate.
The counted rows add up to the score: ``frequency`` = number of orders with
``counts_toward_f``; ``monetary`` = sum of ``total_amount`` with ``counts_toward_m``;
``l_points`` = sum of ``points``.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from aftercare.config import Config, ScoringConfig
from aftercare.pipeline.loyalty import (
    ACTIVE_VEHICLE_STATUS,
    INTERACTION_SIGNALS,
    scoring_config,
    within_window,
)
from aftercare.pipeline.scoring import score_resolved
from aftercare.pipeline.staging import as_date, resolved_orders

REASON_COUNTED = "counted"
REASON_AFTER_AS_OF = "after_as_of"
REASON_OUTSIDE_WINDOW = "outside_window"
REASON_REFUND = "refund"  # R-IN-4: a refund is not a visit
REASON_SAME_VISIT = "same_visit"  # R-SCORE-F: another order of this vehicle/day was counted
REASON_PAYER = "payer_not_counted"  # R-IN-5: payer not in scoring.spend_payers
REASON_ALREADY_COUNTED = "already_counted"  # R-SCORE-L: each signal at most once
REASON_WARRANTY_EXPIRED = "warranty_expired"
REASON_VEHICLE_NOT_ACTIVE = "vehicle_not_active"  # sold or scrapped
REASON_NOT_DELIVERED = "not_delivered"  # delivered after the as-of date

#: Signal name of the extended-warranty loyalty point (the score table's column).
WARRANTY_SIGNAL = "l_extended_warranty"


def _str(value: str) -> ir.StringScalar:
    return ibis.literal(value, type="string")


def explain_orders(
    service_orders: ir.Table,
    vehicles: ir.Table,
    *,
    customer_id: str,
    as_of: dt.date | str,
    config: Config | ScoringConfig,
) -> ir.Table:
    """One customer's orders and how each counted toward F and M.

    Grain: one row per service order of the customer (any date, after ``as_of`` included,
    so an ignored order is shown with its reason), ordered by open date and order id.

    Parameters
    ----------
    service_orders, vehicles
        Canonical tables; an order's customer is its ``customer_id``, else its vehicle's owner.
    customer_id
        The customer to explain.
    as_of
        Scoring date.
    config
        Scorecard (or the whole config).

    Returns
    -------
    ir.Table
        ``order_id``, ``vin``, ``open_date``, ``category``, ``payer``, ``total_amount``,
        ``days_before_as_of`` (negative when after), ``is_refund``, ``in_window``,
        ``is_last_visit`` (sets the recency, R-SCORE-R), ``counts_toward_f``, ``f_reason``,
        ``counts_toward_m``, ``m_reason``.
    """
    scoring = scoring_config(config)
    as_of_lit = as_date(as_of)
    resolved = resolved_orders(service_orders, vehicles)
    orders = resolved.filter(resolved.customer_id == customer_id)

    # staging.visits' definition kept order by order (not grouped): the explanation lists
    # every order with why it counts or not. Orders of one visit (vehicle, day) ranked by
    # order id: the first one carries the visit.
    is_visit = ~orders.is_refund & (orders.open_date <= as_of_lit)
    visit_rank = ibis.row_number().over(
        group_by=[orders.customer_id, orders.vin, orders.open_date, orders.is_refund],
        order_by=orders.order_id,
    )
    last_visit_date = (
        ibis.cases((is_visit, orders.open_date)).max().over(group_by=orders.customer_id)
    )
    flagged = orders.mutate(
        days_before_as_of=as_of_lit.delta(orders.open_date, unit="day").cast("int64"),
        in_window=within_window(orders.open_date, as_of, scoring.window_days),
        is_last_visit=(is_visit & (orders.open_date == last_visit_date)).fill_null(False),
        visit_rank=visit_rank,
        pays_spend=orders.payer.isin(list(scoring.spend_payers)).fill_null(False),
    )
    outside = [
        (flagged.open_date > as_of_lit, _str(REASON_AFTER_AS_OF)),
        (~flagged.in_window, _str(REASON_OUTSIDE_WINDOW)),
    ]
    reasons = flagged.mutate(
        f_reason=ibis.cases(
            *outside,
            (flagged.is_refund, _str(REASON_REFUND)),
            (flagged.visit_rank > 0, _str(REASON_SAME_VISIT)),
            else_=_str(REASON_COUNTED),
        ),
        m_reason=ibis.cases(
            *outside,
            (~flagged.pays_spend, _str(REASON_PAYER)),
            else_=_str(REASON_COUNTED),
        ),
    )
    return reasons.select(
        "order_id",
        "vin",
        "open_date",
        "category",
        "payer",
        "total_amount",
        "days_before_as_of",
        "is_refund",
        "in_window",
        "is_last_visit",
        counts_toward_f=reasons.f_reason == REASON_COUNTED,
        f_reason=reasons.f_reason,
        counts_toward_m=reasons.m_reason == REASON_COUNTED,
        m_reason=reasons.m_reason,
    ).order_by(["open_date", "order_id"])


def explain_loyalty(
    vehicles: ir.Table,
    interactions: ir.Table,
    *,
    customer_id: str,
    as_of: dt.date | str,
    config: Config | ScoringConfig,
) -> ir.Table:
    """One customer's loyalty signal candidates and which of them counted (R-SCORE-L).

    Grain: one row per candidate: each of the customer's vehicles with an extended warranty
    end date, and each interaction of a loyalty type (referral, brand event, complaint,
    competitor visit) at any date. Of a signal's eligible candidates the latest (then lowest
    id) counts; the others are ``already_counted``.

    Returns
    -------
    ir.Table
        ``signal`` (the score column it feeds, e.g. ``l_referral``), ``source_id`` (VIN or
        interaction id), ``event_date`` (warranty end date, or the interaction's date),
        ``counted``, ``points`` (the signal's points when counted, else 0), ``reason``.
    """
    scoring = scoring_config(config)
    as_of_lit = as_date(as_of)

    cars = vehicles.filter(
        vehicles.customer_id == customer_id, vehicles.extended_warranty_end.notnull()
    )
    warranty = cars.select(
        signal=_str(WARRANTY_SIGNAL),
        source_id=cars.vin,
        event_date=cars.extended_warranty_end,
        reason=ibis.cases(
            (
                cars.status.fill_null(ACTIVE_VEHICLE_STATUS) != ACTIVE_VEHICLE_STATUS,
                _str(REASON_VEHICLE_NOT_ACTIVE),
            ),
            (cars.delivery_date > as_of_lit, _str(REASON_NOT_DELIVERED)),
            (cars.extended_warranty_end < as_of_lit, _str(REASON_WARRANTY_EXPIRED)),
            else_=_str(REASON_COUNTED),
        ),
    )

    signal_of_type = {itype: column for column, (itype, _) in INTERACTION_SIGNALS.items()}
    events = interactions.filter(
        interactions.customer_id == customer_id, interactions.type.isin(list(signal_of_type))
    )
    event_date = events.ts.date()
    interaction_rows = events.select(
        signal=ibis.cases(*[(events.type == t, _str(c)) for t, c in signal_of_type.items()]),
        source_id=events.interaction_id,
        event_date=event_date,
        reason=ibis.cases(
            (event_date > as_of_lit, _str(REASON_AFTER_AS_OF)),
            (
                ~within_window(event_date, as_of, scoring.window_days),
                _str(REASON_OUTSIDE_WINDOW),
            ),
            else_=_str(REASON_COUNTED),
        ),
    )

    candidates = warranty.union(interaction_rows)
    eligible = candidates.reason == REASON_COUNTED
    rank = ibis.row_number().over(
        group_by=[candidates.signal, eligible],
        order_by=[candidates.event_date.desc(), candidates.source_id],
    )
    ranked = candidates.mutate(
        reason=ibis.cases(
            (eligible & (rank > 0), _str(REASON_ALREADY_COUNTED)), else_=candidates.reason
        )
    )
    points = {WARRANTY_SIGNAL: scoring.loyalty_extended_warranty} | {
        column: getattr(scoring, field) for column, (_, field) in INTERACTION_SIGNALS.items()
    }
    counted = ranked.reason == REASON_COUNTED
    return ranked.select(
        "signal",
        "source_id",
        "event_date",
        counted=counted,
        points=ibis.cases(
            *[
                (counted & (ranked.signal == column), ibis.literal(value, type="int64"))
                for column, value in points.items()
            ],
            else_=ibis.literal(0, type="int64"),
        ),
        reason=ranked.reason,
    ).order_by(["signal", ibis.desc("event_date"), "source_id"])


def explain_score(
    customers: ir.Table,
    vehicles: ir.Table,
    service_orders: ir.Table,
    interactions: ir.Table,
    *,
    customer_id: str,
    as_of: dt.date | str,
    config: Config | ScoringConfig,
) -> ir.Table:
    """One customer's score row, computed from that customer's data only.

    Grain: one row (none when ``customer_id`` is not in ``customers``); the columns of
    :func:`aftercare.pipeline.scoring.score_customers`, same values.
    """
    ids = customers.filter(customers.customer_id == customer_id).select("customer_id").distinct()
    resolved = resolved_orders(service_orders, vehicles)
    return score_resolved(
        ids,
        resolved.filter(resolved.customer_id == customer_id),
        vehicles.filter(vehicles.customer_id == customer_id),
        interactions.filter(interactions.customer_id == customer_id),
        as_of=as_of,
        config=config,
    )
