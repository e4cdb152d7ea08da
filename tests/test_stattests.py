"""The statistical tests: calibrated on correct predictions, and each one can fail (power).

Seeds are fixed, so every outcome here is deterministic. The false-alarm probability of
each correct-prediction check is stated next to it: the chance that a seed drawn at random
would make it fail.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import sympy as sp

from symsde import SDE, stationary_density
from symsde.errors import InputError
from symsde.stattests import (
    FALSE_ALARM_5_SIGMA,
    KS_P_VALUE,
    StatTestResult,
    covariance_test,
    density_cdf,
    kolmogorov_sf,
    ks_critical_value,
    ks_test,
    mean_test,
    moment_tests,
    slope_test,
    stationary_test,
    variance_test,
)

x = sp.Symbol("x", real=True)


def test_false_alarm_constants() -> None:
    assert 5.7e-7 < FALSE_ALARM_5_SIGMA < 5.8e-7
    assert KS_P_VALUE == 1e-6


# -- moment tests -----------------------------------------------------------------------------
def test_mean_test_passes_correct_predictions() -> None:
    """20 seeds x 1 comparison each; P(any false alarm) <= 20 * 5.7e-7."""
    for seed in range(20):
        s = np.random.default_rng(seed).exponential(2.0, 3000)  # skewed on purpose
        r = mean_test(s, 2.0)
        assert r.verdict, r.text
        assert r.false_alarm == pytest.approx(FALSE_ALARM_5_SIGMA)


def test_mean_test_power() -> None:
    s = np.random.default_rng(0).standard_normal(10_000)  # s.e. 0.01
    r = mean_test(s, 0.08)
    assert not r.verdict and r.statistic > 5
    assert "REJECTED" in r.text and "\n" not in r.text


def test_variance_test_uses_fourth_moment() -> None:
    """For heavy-tailed samples the Gaussian s.e. sqrt(2/n) s^2 is too small; the fourth-
    moment s.e. keeps the false-alarm rate. Student t with 5 degrees of freedom: variance
    5/3, kurtosis 9 (excess 6), so the right s.e. is twice the Gaussian one."""
    rng = np.random.default_rng(1)
    for _ in range(20):  # P(any false alarm) <= 20 * 5.7e-7
        s = rng.standard_t(5, 20_000)
        r = variance_test(s, 5 / 3)
        assert r.verdict, r.text
    se = r.details["standard_error"][0]
    assert se > 1.5 * math.sqrt(2 / 20_000) * 5 / 3


def test_variance_test_power() -> None:
    s = np.random.default_rng(2).normal(0, 1.0, 20_000)  # s.e. of s^2 ~ 0.01
    assert variance_test(s, 1.0).verdict
    assert not variance_test(s, 1.08).verdict
    assert not variance_test(s, 0.92).verdict


def test_vector_mean_and_covariance() -> None:
    S = np.array([[2.0, -0.6, 0.0], [-0.6, 1.0, 0.3], [0.0, 0.3, 0.5]])
    m = np.array([1.0, -2.0, 0.5])
    s = np.random.default_rng(3).multivariate_normal(m, S, 30_000)
    r = mean_test(s, m)
    assert r.verdict
    assert r.false_alarm == pytest.approx(3 * FALSE_ALARM_5_SIGMA)
    c = covariance_test(s, S)
    assert c.verdict
    assert c.false_alarm == pytest.approx(6 * FALSE_ALARM_5_SIGMA)  # 6 distinct entries
    wrong = S.copy()
    wrong[0, 1] = wrong[1, 0] = -0.5  # off by 0.1, s.e. about 0.009
    assert not covariance_test(s, wrong).verdict
    assert not mean_test(s, m + np.array([0, 0, 0.05])).verdict
    assert [t.test for t in moment_tests(s, mean=m, cov=S)] == ["mean", "covariance"]


def test_sympy_predictions_are_accepted() -> None:
    s = np.random.default_rng(4).normal(0.5, 1.0, 5000)
    assert mean_test(s, sp.Rational(1, 2)).verdict
    assert variance_test(s, sp.Integer(1)).verdict
    assert covariance_test(s[:, None], sp.Matrix([[1]])).verdict


def test_degenerate_samples() -> None:
    s = np.full(100, 3.0)
    assert mean_test(s, 3.0).verdict
    assert not mean_test(s, 3.1).verdict


def test_bad_samples_are_refused() -> None:
    with pytest.raises(InputError, match="non-finite"):
        mean_test(np.array([1.0, np.nan, 2.0]), 0.0)
    with pytest.raises(InputError, match="at least 2"):
        mean_test(np.array([1.0]), 0.0)
    with pytest.raises(InputError, match="shape"):
        mean_test(np.zeros((10, 2)), [0.0, 0.0, 0.0])
    with pytest.raises(InputError, match="numbers"):
        mean_test(np.zeros(10), sp.Symbol("a"))


# -- Kolmogorov-Smirnov -------------------------------------------------------------------------
def test_kolmogorov_distribution_values() -> None:
    # Classical critical values: P(K > 1.3581) = 0.05, P(K > 1.6276) = 0.01.
    assert kolmogorov_sf(1.3581) == pytest.approx(0.05, abs=2e-5)
    assert kolmogorov_sf(1.6276) == pytest.approx(0.01, abs=2e-5)
    # The two series agree where they hand over.
    lo, hi = kolmogorov_sf(1.0 - 1e-12), kolmogorov_sf(1.0 + 1e-12)
    assert lo == pytest.approx(hi, rel=1e-9)
    assert kolmogorov_sf(0.0) == 1.0 and kolmogorov_sf(10.0) < 1e-80
    n = 5000
    lam = ks_critical_value(n, 1e-6) * (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n))
    assert kolmogorov_sf(lam) == pytest.approx(1e-6, rel=1e-6)


def test_density_cdf_is_accurate() -> None:
    F = density_cdf(sp.exp(-((x - 1) ** 2) / 8), x)  # N(1, 4), unnormalised
    pts = np.array([-30.0, -3.0, 0.0, 0.37, 1.0, 2.5, 9.99, 10.0, 40.0])
    exact = np.array([0.5 * math.erfc(-(p - 1) / (2 * math.sqrt(2))) for p in pts])
    np.testing.assert_allclose(F(pts), exact, atol=1e-9)


def test_ks_accepts_samples_from_the_density() -> None:
    """Double-well samples by rejection sampling; 5 seeds, P(any false alarm) <= 5e-6."""
    U = x**4 / 4 - x**2 / 2
    sigma = 0.8
    dens = sp.exp(-2 * U / sigma**2)
    f = sp.lambdify(x, dens, "numpy")
    for seed in range(5):
        rng = np.random.default_rng(seed)
        cand = rng.uniform(-3, 3, 60_000)
        s = cand[rng.uniform(0, float(f(1.0)) * 1.0001, cand.size) < f(cand)][:10_000]
        r = ks_test(s, dens, x)
        assert r.verdict, r.text
        assert r.false_alarm == 1e-6 and r.threshold == ks_critical_value(s.size)


def test_ks_power() -> None:
    s = np.random.default_rng(9).standard_normal(10_000)
    assert ks_test(s, sp.exp(-x**2 / 2), x).verdict
    assert not ks_test(s, sp.exp(-x**2 / (2 * 1.2**2)), x).verdict  # 20% too wide
    assert not ks_test(s, sp.exp(-((x - 0.1) ** 2) / 2), x).verdict  # shifted by 0.1
    r = ks_test(s, sp.exp(-sp.Abs(x)), x)  # Laplace: wrong shape
    assert not r.verdict and r.details["p_value"] < 1e-6


def test_ks_with_stationary_density_and_params() -> None:
    s_ = sp.Symbol("sigma", positive=True)
    st = stationary_density(SDE([x], [-x], s_))
    s = np.random.default_rng(5).normal(0, 0.7 / math.sqrt(2), 8000)
    assert ks_test(s, st, params={"sigma": 0.7}).verdict
    assert not ks_test(s, st, params={"sigma": 0.8}).verdict
    with pytest.raises(InputError, match="sigma"):
        ks_test(s, st)


def test_ks_refuses_multivariate_samples() -> None:
    with pytest.raises(InputError, match="one-dimensional"):
        ks_test(np.zeros((10, 2)), sp.exp(-x**2), x)


# -- slopes --------------------------------------------------------------------------------------
def test_slope_test() -> None:
    h = 0.1 / 2 ** np.arange(5)
    err = 0.7 * h * (1 + 0.3 * h)  # order 1 with a pre-asymptotic term
    assert slope_test(h, err, 1.0).verdict
    assert not slope_test(h, err, 0.5).verdict
    assert not slope_test(h, np.sqrt(h), 1.0).verdict
    r = slope_test(h, err, 1.0)
    assert r.false_alarm is None and abs(r.details["slope"] - 1.0) < 0.05


def test_slope_test_with_standard_errors() -> None:
    rng = np.random.default_rng(6)
    h = 0.2 / 2 ** np.arange(5)
    se = 0.02 * h
    err = h + se * rng.standard_normal(5)  # noisy order-1 errors
    r = slope_test(h, err, 1.0, tol=0.0, errors_se=se)
    assert r.verdict and r.false_alarm == pytest.approx(FALSE_ALARM_5_SIGMA)
    assert not slope_test(h, err, 1.5, tol=0.0, errors_se=se).verdict
    with pytest.raises(InputError, match="at least 3"):
        slope_test([1, 2], [1, 2], 1.0)
    with pytest.raises(InputError, match="positive"):
        slope_test([1, 2, 3], [1, 0, 2], 1.0)


# -- the result object ---------------------------------------------------------------------------
def test_confirmation_is_plain_data() -> None:
    r = variance_test(np.random.default_rng(7).standard_normal(100), 1.0)
    assert isinstance(r, StatTestResult)
    d = r.to_dict()
    json.dumps(d)
    assert set(d) >= {"test", "statistic", "threshold", "verdict", "text"}
    assert isinstance(d["verdict"], bool)


# -- stationary_test (moved from the CLI's _compare_stationary, issue 11) -------------------------
def test_stationary_test_one_dimension_is_ks_and_rejects_a_wrong_variance() -> None:
    st = stationary_density(SDE([x], [-x], 1))  # OU: N(0, 1/2) by hand (sigma^2 / 2 theta)
    z = np.random.default_rng(31).standard_normal(5000)
    good = stationary_test(z * np.sqrt(0.5), st)
    assert good.test == "ks" and good.verdict and good.false_alarm == KS_P_VALUE
    assert not stationary_test(z, st).verdict  # variance 1, not 1/2: rejected


def test_stationary_test_gaussian_moments_and_power() -> None:
    x, y = sp.symbols("x y", real=True)
    # drift -(x - 1), -2 y with unit noise: mean (1, 0), covariance diag(1/2, 1/4) by hand
    st = stationary_density(SDE([x, y], [-(x - 1), -2 * y], [[1, 0], [0, 1]]))
    z = np.random.default_rng(32).standard_normal((6000, 2))
    ok = stationary_test(z * np.sqrt([0.5, 0.25]) + [1.0, 0.0], st)
    assert ok.test == "gaussian-moments" and ok.verdict
    assert len(ok.details["tests"]) == 2 and ok.false_alarm > 0
    assert not stationary_test(z * np.sqrt([0.5, 0.25]) + [1.1, 0.0], st).verdict  # mean
    assert not stationary_test(z * np.sqrt([0.5, 0.5]) + [1.0, 0.0], st).verdict  # cov


def test_stationary_test_refuses_a_non_gaussian_law_in_two_dimensions() -> None:
    x, y = sp.symbols("x y", real=True)
    st = stationary_density(SDE([x, y], [-x**3, -y**3], [[1, 0], [0, 1]]))
    with pytest.raises(InputError, match="not Gaussian"):
        stationary_test(np.zeros((10, 2)), st)
