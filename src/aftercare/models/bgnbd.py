"""BG/NBD model of repeat visits (Fader, Hardie & Lee 2005), fitted by maximum likelihood.

Part of R-VAL-LTV's probabilistic CLV. Each customer, while active, visits as a Poisson
process of rate λ ~ Gamma(r, α); after each repeat visit they drop out with probability
p ~ Beta(a, b). Per customer the data are ``x`` (repeat visits), ``t_x`` (time of the last
visit since the first) and ``T`` (time from the first visit to the as-of date), all in one
time unit (Aftercare uses weeks). Formulas (numbers refer to FHL 2005):

- log-likelihood of one customer, eq. (6);
- unconditional expected visits in (0, t], eq. (7);
- conditional expected visits in the next t given (x, t_x, T), eq. (10);
- probability of still being active, eq. (11) of the companion note.

Published reference: on the CDNOW sample, r = 0.243, α = 4.414, a = 0.793, b = 2.426.
numpy/scipy only (core dependencies); imported when the model runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special


@dataclass(frozen=True)
class BgNbdParams:
    """Fitted BG/NBD parameters (all positive)."""

    r: float
    alpha: float
    a: float
    b: float

    def as_array(self) -> NDArray[np.float64]:
        """(r, alpha, a, b)."""
        return np.array([self.r, self.alpha, self.a, self.b], dtype=float)


def log_likelihood(
    params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> NDArray[np.float64]:
    """Log-likelihood of each customer's (x, t_x, T) under ``params`` (FHL 2005 eq. 6).

    Returns
    -------
    numpy.ndarray
        One value per customer.
    """
    r, alpha, a, b = params.as_array()
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    stay = special.betaln(a, b + x) - special.betaln(a, b) - (r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        gone = np.where(
            x > 0,
            special.betaln(a + 1, np.maximum(b + x - 1, 1e-300))
            - special.betaln(a, b)
            - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return common + np.logaddexp(stay, gone)


def fit(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> BgNbdParams:
    """Maximum-likelihood BG/NBD parameters for customers' (x, t_x, T).

    Optimised over log-parameters (so all stay positive) with L-BFGS-B from (1, mean T, 1, 1).

    Raises
    ------
    ValueError
        When the optimiser does not converge.
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))

    def nll(log_params: NDArray[np.float64]) -> float:
        p = BgNbdParams(*np.exp(log_params))
        return -float(np.sum(log_likelihood(p, x, t_x, T)))

    start = np.log([1.0, max(float(np.mean(T)), 1e-6), 1.0, 1.0])
    result = optimize.minimize(nll, start, method="L-BFGS-B", bounds=[(-12.0, 12.0)] * 4)
    if not result.success:
        raise ValueError(f"BG/NBD fit did not converge: {result.message}")
    return BgNbdParams(*(float(v) for v in np.exp(result.x)))


def expected_visits(params: BgNbdParams, t: ArrayLike) -> NDArray[np.float64]:
    """Unconditional expected repeat visits in (0, t] of a new customer (FHL 2005 eq. 7)."""
    r, alpha, a, b = params.as_array()
    t = np.asarray(t, dtype=float)
    z = t / (alpha + t)
    hyp = special.hyp2f1(r, b, a + b - 1, z)
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp)


def expected_visits_conditional(
    params: BgNbdParams, t: float, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> NDArray[np.float64]:
    """Expected visits in the next ``t`` of customers with history (x, t_x, T) (eq. 10)."""
    r, alpha, a, b = params.as_array()
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    z = t / (alpha + T + t)
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    numerator = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    return numerator / _alive_denominator(params, x, t_x, T)


def probability_alive(
    params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> NDArray[np.float64]:
    """Probability that customers with history (x, t_x, T) are still active at T."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    return 1.0 / _alive_denominator(params, x, t_x, T)


def _alive_denominator(
    params: BgNbdParams, x: NDArray[np.float64], t_x: NDArray[np.float64], T: NDArray[np.float64]
) -> NDArray[np.float64]:
    r, alpha, a, b = params.as_array()
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    return 1.0 + np.where(x > 0, odds, 0.0)
