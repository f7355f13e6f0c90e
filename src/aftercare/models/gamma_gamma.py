"""Gamma-Gamma model of spend per visit (Fader & Hardie 2013 note), fitted by maximum likelihood.

Part of R-VAL-LTV's probabilistic CLV. A customer's visits are worth z ~ Gamma(p, ν) each,
with ν ~ Gamma(q, γ) across customers (rate parameterisation), independent of the visit
process. Per customer the data are ``x`` (visits whose spend is averaged, ≥ 1) and ``m``
(their mean spend, > 0). The mean of x visits has density

    f(m | p, q, γ, x) = Γ(px + q) / (Γ(px) Γ(q)) · γ^q · x^(px) · m^(px − 1) / (γ + x m)^(px + q)

and the expected spend per visit given (x, m) is p (γ + x m) / (p x + q − 1); with x = 0 it
is the population mean p γ / (q − 1).

Published reference: on the CDNOW sample, p = 6.25, q = 3.74, γ = 15.44.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters (all positive; q > 1 for a finite mean)."""

    p: float
    q: float
    gamma: float


def log_likelihood(params: GammaGammaParams, x: ArrayLike, m: ArrayLike) -> NDArray[np.float64]:
    """Log-density of each customer's mean spend ``m`` over ``x`` visits.

    Returns
    -------
    numpy.ndarray
        One value per customer (x ≥ 1, m > 0).
    """
    p, q, g = params.p, params.q, params.gamma
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    px = p * x
    return (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(g)
        + px * np.log(x)
        + (px - 1) * np.log(m)
        - (px + q) * np.log(g + x * m)
    )


def fit(x: ArrayLike, m: ArrayLike) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma parameters from customers with x ≥ 1 and m > 0.

    Raises
    ------
    ValueError
        When the optimiser does not converge.
    """
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)

    def nll(log_params: NDArray[np.float64]) -> float:
        return -float(np.sum(log_likelihood(GammaGammaParams(*np.exp(log_params)), x, m)))

    start = np.log([1.0, 2.0, max(float(np.mean(m)), 1e-6)])
    result = optimize.minimize(nll, start, method="L-BFGS-B", bounds=[(-12.0, 16.0)] * 3)
    if not result.success:
        raise ValueError(f"Gamma-Gamma fit did not converge: {result.message}")
    return GammaGammaParams(*(float(v) for v in np.exp(result.x)))


def expected_spend_per_visit(
    params: GammaGammaParams, x: ArrayLike, m: ArrayLike
) -> NDArray[np.float64]:
    """Expected spend of a customer's next visit given x visits averaging m (x = 0: mean)."""
    p, q, g = params.p, params.q, params.gamma
    x = np.asarray(x, dtype=float)
    m = np.where(x > 0, np.asarray(m, dtype=float), 0.0)
    return p * (g + x * m) / (p * x + q - 1)
