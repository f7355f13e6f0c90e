"""Probabilistic CLV: BG/NBD visits × Gamma-Gamma spend × the customer's margin (R-VAL-LTV).

An *additional, clearly labelled* estimate beside the simple LTV of
:func:`aftercare.pipeline.value.customer_value`. Inputs come from the engine
(:func:`aftercare.pipeline.value.clv_inputs`, one row per customer, pulled as Arrow); both
models are fitted by maximum likelihood on those rows:

- BG/NBD (:mod:`aftercare.models.bgnbd`) on every customer's (frequency, recency_weeks,
  age_weeks) → ``expected_visits_horizon``, visits expected in the next
  ``value.clv_horizon_days``, and ``probability_active``;
- Gamma-Gamma (:mod:`aftercare.models.gamma_gamma`) on the customers whose spend per visit
  is positive, x = visit days → ``expected_spend_per_visit_cny``;
- ``clv_probabilistic_cny`` = expected visits × expected spend per visit × the customer's
  gross margin over their history (undiscounted, over the horizon; NULL without a margin).

With fewer than ``value.clv_min_customers`` customers, or when a fit fails, every estimate is
NULL and ``clv_status`` says why; nothing is guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from aftercare.config import ValueConfig
from aftercare.models import bgnbd, gamma_gamma

#: The label every estimate carries (the ``clv_model`` column).
MODEL_LABEL = "BG/NBD + Gamma-Gamma (probabilistic)"
DAYS_PER_WEEK = 7.0
CLV_COLUMNS = (
    "customer_id",
    "clv_model",
    "clv_status",
    "clv_horizon_days",
    "probability_active",
    "expected_visits_horizon",
    "expected_spend_per_visit_cny",
    "clv_probabilistic_cny",
)


@dataclass(frozen=True)
class ClvFit:
    """The fitted models and one row of estimates per customer."""

    status: str
    visits_params: bgnbd.BgNbdParams | None
    spend_params: gamma_gamma.GammaGammaParams | None
    estimates: pa.Table


def _column(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=float)


def probabilistic_clv(inputs: pa.Table, *, config: ValueConfig) -> ClvFit:
    """Fit BG/NBD and Gamma-Gamma on ``inputs`` and estimate each customer's CLV.

    Parameters
    ----------
    inputs
        :func:`aftercare.pipeline.value.clv_inputs`, pulled as Arrow.
    config
        ``clv_horizon_days`` and ``clv_min_customers``.

    Returns
    -------
    ClvFit
        ``estimates`` has :data:`CLV_COLUMNS`, one row per customer of ``inputs``.
    """
    n = inputs.num_rows
    ids = inputs.column("customer_id")
    empty = np.full(n, np.nan)
    if n < config.clv_min_customers:
        status = f"not fitted: {n} customers with a visit, fewer than {config.clv_min_customers}"
        return ClvFit(status, None, None, _table(ids, status, config, empty, empty, empty, empty))
    x = _column(inputs, "frequency")
    t_x = _column(inputs, "recency_weeks")
    T = _column(inputs, "age_weeks")
    visit_days = _column(inputs, "visit_days")
    m = _column(inputs, "spend_per_visit_cny")
    margin = _column(inputs, "gross_margin_history")
    try:
        visits_params = bgnbd.fit(x, t_x, T)
        positive = m > 0
        spend_params = gamma_gamma.fit(visit_days[positive], m[positive])
    except ValueError as exc:
        status = f"not fitted: {exc}"
        return ClvFit(status, None, None, _table(ids, status, config, empty, empty, empty, empty))
    horizon_weeks = config.clv_horizon_days / DAYS_PER_WEEK
    alive = bgnbd.probability_alive(visits_params, x, t_x, T)
    expected = bgnbd.expected_visits_conditional(visits_params, horizon_weeks, x, t_x, T)
    # A customer without positive spend is valued at the population's expected spend.
    spend = gamma_gamma.expected_spend_per_visit(spend_params, np.where(m > 0, visit_days, 0.0), m)
    if spend_params.q <= 1:  # the Gamma-Gamma mean spend is infinite: no estimate
        spend = np.full(n, np.nan)
    clv = expected * spend * margin
    status = "fitted"
    estimates = _table(ids, status, config, alive, expected, spend, clv)
    return ClvFit(status, visits_params, spend_params, estimates)


def _table(
    ids: pa.ChunkedArray,
    status: str,
    config: ValueConfig,
    alive: np.ndarray,
    expected: np.ndarray,
    spend: np.ndarray,
    clv: np.ndarray,
) -> pa.Table:
    n = len(ids)

    def floats(values: np.ndarray) -> pa.Array:
        return pa.array(values, type=pa.float64(), mask=~np.isfinite(values))

    return pa.table(
        {
            "customer_id": ids,
            "clv_model": pa.array([MODEL_LABEL] * n, type=pa.string()),
            "clv_status": pa.array([status] * n, type=pa.string()),
            "clv_horizon_days": pa.array([config.clv_horizon_days] * n, type=pa.int64()),
            "probability_active": floats(alive),
            "expected_visits_horizon": floats(expected),
            "expected_spend_per_visit_cny": floats(spend),
            "clv_probabilistic_cny": floats(clv),
        }
    )
