"""R-VAL-LTV probabilistic CLV: BG/NBD and Gamma-Gamma checked against independent references.

The CDNOW data cannot be downloaded here, so the published parameters (FHL 2005: r = 0.243,
α = 4.414, a = 0.793, b = 2.426; Fader-Hardie 2013: p = 6.25, q = 3.74, γ = 15.44) drive:

- the closed-form likelihoods against direct numerical integration over the mixing
  distributions (an independent computation of the same probability);
- the closed-form expectations against Monte Carlo simulation of the generative story;
- parameter recovery by maximum likelihood from data simulated with the published values.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from scipy import integrate, stats

from aftercare.config import ValueConfig
from aftercare.models import bgnbd, gamma_gamma
from aftercare.models.bgnbd import BgNbdParams
from aftercare.models.clv import CLV_COLUMNS, probabilistic_clv
from aftercare.models.gamma_gamma import GammaGammaParams

CDNOW = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
CDNOW_GG = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)


def simulate_bgnbd(params: BgNbdParams, T: np.ndarray, horizon: float, seed: int):
    """(x, t_x, T, future visits in (T, T + horizon]) drawn from the BG/NBD story."""
    rng = np.random.default_rng(seed)
    n = len(T)
    lam = rng.gamma(params.r, 1 / params.alpha, n)
    p = rng.beta(params.a, params.b, n)
    # Visits before drop-out (the N-th visit is the last): N ~ Geometric(p), N ≥ 1.
    lifetime_visits = rng.geometric(p)
    arrivals = rng.poisson(lam * T)
    x = np.minimum(lifetime_visits, arrivals)
    # The x-th of `arrivals` uniform arrival times on (0, T]: T × Beta(x, arrivals − x + 1).
    t_x = np.zeros(n)
    seen = x > 0
    t_x[seen] = T[seen] * rng.beta(x[seen], arrivals[seen] - x[seen] + 1)
    alive = lifetime_visits > arrivals
    future = np.where(alive, np.minimum(lifetime_visits - arrivals, rng.poisson(lam * horizon)), 0)
    return x.astype(float), t_x, T, future


def _bgnbd_likelihood_by_integration(params: BgNbdParams, x: int, t_x: float, T: float) -> float:
    """L(x, t_x, T) = E over λ, p of the individual likelihood (FHL 2005 eq. 3)."""
    lam_pdf = stats.gamma(params.r, scale=1 / params.alpha).pdf
    p_pdf = stats.beta(params.a, params.b).pdf

    def individual(p: float, lam: float) -> float:
        stay = (1 - p) ** x * lam**x * np.exp(-lam * T)
        gone = p * (1 - p) ** (x - 1) * lam**x * np.exp(-lam * t_x) if x > 0 else 0.0
        return (stay + gone) * lam_pdf(lam) * p_pdf(p)

    value, _ = integrate.dblquad(individual, 0, np.inf, 0, 1, epsabs=1e-12, epsrel=1e-8)
    return value


@pytest.mark.parametrize(("x", "t_x", "T"), [(0, 0.0, 38.0), (1, 10.0, 30.0), (4, 25.5, 32.0)])
def test_r_val_ltv_bgnbd_likelihood_matches_integration(x, t_x, T):
    closed = np.exp(bgnbd.log_likelihood(CDNOW, [x], [t_x], [T]))[0]
    assert closed == pytest.approx(_bgnbd_likelihood_by_integration(CDNOW, x, t_x, T), rel=1e-4)


def test_r_val_ltv_bgnbd_expected_visits_matches_simulation():
    # E[X(t)] of a new customer, t = 39 and 78 weeks, against 400 000 simulated customers.
    n = 400_000
    for t in (39.0, 78.0):
        _, _, _, future = simulate_bgnbd(CDNOW, np.zeros(n), t, seed=1)
        mc_mean, mc_se = future.mean(), future.std() / np.sqrt(n)
        assert bgnbd.expected_visits(CDNOW, t) == pytest.approx(mc_mean, abs=4 * mc_se)


def test_r_val_ltv_bgnbd_conditional_expectation_matches_simulation():
    # Customers observed for 39 weeks, then 39 more: the mean predicted future visits of each
    # frequency group matches what the simulated customers then did.
    n = 300_000
    x, t_x, T, future = simulate_bgnbd(CDNOW, np.full(n, 39.0), 39.0, seed=2)
    predicted = bgnbd.expected_visits_conditional(CDNOW, 39.0, x, t_x, T)
    for group in (x == 0, x == 1, (x >= 2) & (x <= 4), x >= 5):
        se = future[group].std() / np.sqrt(group.sum())
        assert predicted[group].mean() == pytest.approx(future[group].mean(), abs=4 * se)
    # With no history (x = 0, T = 0) the conditional expectation is the unconditional one.
    assert bgnbd.expected_visits_conditional(CDNOW, 52.0, [0], [0.0], [0.0])[0] == pytest.approx(
        bgnbd.expected_visits(CDNOW, 52.0)
    )


def test_r_val_ltv_bgnbd_probability_alive():
    # No repeat visit: certainly alive (the model's drop-out happens only after a visit).
    assert bgnbd.probability_alive(CDNOW, [0], [0.0], [30.0])[0] == 1.0
    # Hand computation, x = 2, t_x = 10, T = 30: 1 / (1 + a/(b+1) · (34.414/14.414)^2.243).
    odds = 0.793 / 3.426 * (34.414 / 14.414) ** 2.243
    assert bgnbd.probability_alive(CDNOW, [2], [10.0], [30.0])[0] == pytest.approx(1 / (1 + odds))


def test_r_val_ltv_bgnbd_recovers_published_parameters():
    # 60 000 customers with CDNOW-like calibration periods (27–39 weeks).
    n = 60_000
    T = np.random.default_rng(3).uniform(27.0, 39.0, n)
    x, t_x, T, _ = simulate_bgnbd(CDNOW, T, 0.0, seed=4)
    fitted = bgnbd.fit(x, t_x, T)
    assert fitted.r == pytest.approx(CDNOW.r, rel=0.05)
    assert fitted.alpha == pytest.approx(CDNOW.alpha, rel=0.05)
    assert fitted.a == pytest.approx(CDNOW.a, rel=0.1)
    assert fitted.b == pytest.approx(CDNOW.b, rel=0.1)
    # The maximum is a maximum: the true parameters fit no better than the estimate.
    at_fit = bgnbd.log_likelihood(fitted, x, t_x, T).sum()
    assert at_fit >= bgnbd.log_likelihood(CDNOW, x, t_x, T).sum()


def simulate_gamma_gamma(params: GammaGammaParams, n: int, seed: int):
    """(x, mean spend) with x in 1…10 visits, drawn from the Gamma-Gamma story."""
    rng = np.random.default_rng(seed)
    nu = rng.gamma(params.q, 1 / params.gamma, n)
    x = rng.integers(1, 11, n).astype(float)
    # The sum of x Gamma(p, ν) visits is Gamma(p·x, ν).
    m = rng.gamma(params.p * x, 1 / nu) / x
    return x, m, nu


def test_r_val_ltv_gamma_gamma_likelihood_matches_integration():
    for x, m in ((1.0, 30.0), (3.0, 42.5), (7.0, 18.0)):

        def joint(nu: float, x: float = x, m: float = m) -> float:
            total = stats.gamma(CDNOW_GG.p * x, scale=1 / nu).pdf(x * m) * x
            return total * stats.gamma(CDNOW_GG.q, scale=1 / CDNOW_GG.gamma).pdf(nu)

        reference, _ = integrate.quad(joint, 0, np.inf, epsabs=1e-14, limit=200)
        closed = np.exp(gamma_gamma.log_likelihood(CDNOW_GG, [x], [m]))[0]
        assert closed == pytest.approx(reference, rel=1e-5)


def test_r_val_ltv_gamma_gamma_expected_spend_matches_simulation():
    # Population mean p·γ/(q − 1) = 6.25 × 15.44 / 2.74 = 35.22 (CDNOW: about $35).
    assert gamma_gamma.expected_spend_per_visit(CDNOW_GG, [0], [0.0])[0] == pytest.approx(
        6.25 * 15.44 / 2.74
    )
    # Conditional mean: the average true mean spend p/ν of customers with x = 3, m ≈ 40.
    x, m, nu = simulate_gamma_gamma(CDNOW_GG, 2_000_000, seed=5)
    near = (x == 3) & (np.abs(m - 40.0) < 1.0)
    truth = CDNOW_GG.p / nu[near]
    predicted = gamma_gamma.expected_spend_per_visit(CDNOW_GG, [3.0], [40.0])[0]
    assert predicted == pytest.approx(truth.mean(), abs=4 * truth.std() / np.sqrt(near.sum()))


def test_r_val_ltv_gamma_gamma_recovers_published_parameters():
    x, m, _ = simulate_gamma_gamma(CDNOW_GG, 20_000, seed=6)
    fitted = gamma_gamma.fit(x, m)
    assert fitted.p == pytest.approx(CDNOW_GG.p, rel=0.1)
    assert fitted.q == pytest.approx(CDNOW_GG.q, rel=0.1)
    assert fitted.gamma == pytest.approx(CDNOW_GG.gamma, rel=0.1)


def _clv_inputs_table(n: int, seed: int) -> pa.Table:
    """Simulated engine inputs (one row per customer) from the published parameters."""
    T = np.random.default_rng(seed).uniform(27.0, 39.0, n)
    x, t_x, T, _ = simulate_bgnbd(CDNOW, T, 0.0, seed=seed + 1)
    _, m, _ = simulate_gamma_gamma(CDNOW_GG, n, seed=seed + 2)
    return pa.table(
        {
            "customer_id": [f"C{i:05d}" for i in range(n)],
            "visit_days": (x + 1).astype("int64"),
            "frequency": x.astype("int64"),
            "recency_weeks": t_x,
            "age_weeks": T,
            "spend_per_visit_cny": m,
            "gross_margin_history": np.full(n, 0.4),
        }
    )


def test_r_val_ltv_probabilistic_clv_combines_the_two_models():
    inputs = _clv_inputs_table(5000, seed=10)
    result = probabilistic_clv(inputs, config=ValueConfig(clv_horizon_days=364))
    assert result.status == "fitted" and result.visits_params is not None
    rows = result.estimates.to_pylist()
    assert result.estimates.column_names == list(CLV_COLUMNS)
    one, data = rows[7], inputs.slice(7, 1).to_pylist()[0]
    # By hand from the fitted parameters: 52 weeks of expected visits × expected spend × 40 %.
    visits = bgnbd.expected_visits_conditional(
        result.visits_params,
        52.0,
        [data["frequency"]],
        [data["recency_weeks"]],
        [data["age_weeks"]],
    )[0]
    spend = gamma_gamma.expected_spend_per_visit(
        result.spend_params, [data["visit_days"]], [data["spend_per_visit_cny"]]
    )[0]
    assert one["expected_visits_horizon"] == pytest.approx(visits)
    assert one["expected_spend_per_visit_cny"] == pytest.approx(spend)
    assert one["clv_probabilistic_cny"] == pytest.approx(visits * spend * 0.4)
    assert one["clv_model"] == "BG/NBD + Gamma-Gamma (probabilistic)"
    assert one["clv_horizon_days"] == 364


def test_r_val_ltv_probabilistic_clv_not_fitted_on_too_few_customers():
    inputs = _clv_inputs_table(10, seed=20)
    result = probabilistic_clv(inputs, config=ValueConfig())  # needs 30
    assert result.status == "not fitted: 10 customers with a visit, fewer than 30"
    rows = result.estimates.to_pylist()
    assert len(rows) == 10
    assert all(r["clv_probabilistic_cny"] is None for r in rows)
    assert all(r["expected_visits_horizon"] is None for r in rows)
