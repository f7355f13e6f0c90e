"""Why a customer has the score it has, from a store (R-SCORE-EXPLAIN).

The stored score row of one snapshot, beside every service order (counted toward F and M or
not, and why) and every loyalty signal behind it (:mod:`aftercare.pipeline.explain`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from aftercare.config import Config
from aftercare.errors import AftercareError
from aftercare.pipeline.explain import explain_loyalty, explain_orders
from aftercare.pipeline.inputs import CanonicalTables
from aftercare.pipeline.population import customer_since
from aftercare.services.find import resolve_customer
from aftercare.services.inputs import canonical_tables
from aftercare.services.scoring import snapshot
from aftercare.store.connect import Store

Row = dict[str, Any]


@dataclass(frozen=True)
class ScoreExplanation:
    """One customer's stored score and the rows behind it.

    Attributes
    ----------
    customer_id, as_of
        The customer and the score snapshot.
    score
        The stored ``customer_scores`` row (tier, total and R/F/M/L scores, recency,
        frequency, monetary, previous tier and move).
    orders
        Every service order of the customer (after ``as_of`` too, with its reason), oldest
        first, then by order id: ``open_date``, ``order_id``, ``category``, ``payer``,
        ``total_amount``, ``counts_toward_f`` / ``f_reason``, ``counts_toward_m`` /
        ``m_reason`` (:func:`aftercare.pipeline.explain.explain_orders`).
    loyalty
        Every loyalty signal candidate by signal, then date, then source: ``signal``,
        ``source_id``, ``event_date``, ``counted``, ``points``, ``reason``
        (:func:`aftercare.pipeline.explain.explain_loyalty`).
    """

    customer_id: str
    as_of: dt.date
    score: Row
    orders: list[Row]
    loyalty: list[Row]


def _not_scored(tables: CanonicalTables, customer_id: str, as_of: dt.date) -> str:
    """Why ``customer_id`` has no row in the ``as_of`` snapshot, in one line."""
    customers = tables.customers.filter(tables.customers.customer_id == customer_id)
    since = customer_since(
        customers, tables.service_orders, tables.vehicles, tables.interactions
    ).to_pyarrow()
    if since.num_rows and (day := since.column("since_date")[0].as_py()) and day > as_of:
        # R-TIER-HIST: a snapshot holds the customers of its date.
        return f"customer {customer_id} is not in the scores as of {as_of}: a customer from {day}"
    return f"customer {customer_id} is not in the scores as of {as_of}"


def explain_customer(
    store: Store, customer_id: str, as_of: dt.date, config: Config
) -> ScoreExplanation:
    """Explain a customer's score in the snapshot of ``as_of`` (R-SCORE-EXPLAIN).

    Parameters
    ----------
    store
        An open store with a ``customer_scores`` snapshot of ``as_of``.
    customer_id
        The customer: their id, or any key ``aftercare find`` takes that names one customer
        (phone, last 4 digits of it, plate, VIN, exact or part of the name;
        :func:`aftercare.services.find.resolve_customer`). The explanation carries the id.
    as_of
        The snapshot date.
    config
        The configuration the scores were computed with (scoring window, payers, signals).

    Returns
    -------
    ScoreExplanation
        The score row and the order and loyalty rows that add up to it.

    Raises
    ------
    AftercareError
        When no snapshot of ``as_of`` is stored, the customer is not in it, or the key names
        more than one customer (the message lists them).
    """
    customer_id = resolve_customer(store, customer_id)
    tables = canonical_tables(store)
    scores = snapshot(store, as_of)
    row = scores.filter(scores.customer_id == customer_id).to_pyarrow().to_pylist()
    if not row:
        raise AftercareError(_not_scored(tables, customer_id, as_of))
    orders = explain_orders(
        tables.service_orders, tables.vehicles, customer_id=customer_id, as_of=as_of, config=config
    )
    loyalty = explain_loyalty(
        tables.vehicles, tables.interactions, customer_id=customer_id, as_of=as_of, config=config
    )
    return ScoreExplanation(
        customer_id=customer_id,
        as_of=as_of,
        score=row[0],
        orders=orders.order_by(["open_date", "order_id"]).to_pyarrow().to_pylist(),
        loyalty=loyalty.order_by(["signal", "event_date", "source_id"]).to_pyarrow().to_pylist(),
    )
