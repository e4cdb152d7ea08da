"""symsde.linear: the shared Gaussian mathematics of linear SDEs and their Euler chains.

Expected values come from SciPy's Lyapunov solvers, sympy.stats and hand derivations,
never from the functions under test.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from sympy import stats

from symsde import SDE
from symsde.linear import (
    euler_chain_gap,
    euler_chain_moments,
    lyapunov_covariance,
    normal_expectation,
    quadratic_expectation,
    sub_seed,
)

x, y = sp.symbols("x y", real=True)
A_NUM = np.array([[-2.0, 1.0], [-1.0, -3.0]])
G_NUM = np.array([[1.0, 0.0], [0.5, 2.0]])


def test_lyapunov_covariance_matches_scipy_and_solves_the_equation() -> None:
    linalg = pytest.importorskip("scipy.linalg")
    D = G_NUM @ G_NUM.T
    S = lyapunov_covariance(sp.Matrix(A_NUM).applyfunc(sp.nsimplify),
                            sp.Matrix(D).applyfunc(sp.nsimplify))
    np.testing.assert_allclose(np.array(S, dtype=float),
                               linalg.solve_continuous_lyapunov(A_NUM, -D), rtol=1e-12)


def test_lyapunov_covariance_symbolic_and_refused_when_not_unique() -> None:
    a, s = sp.symbols("a s", positive=True)
    assert sp.simplify(lyapunov_covariance([[-a]], [[s**2]])[0, 0] - s**2 / (2 * a)) == 0
    with pytest.raises(ArithmeticError, match="no unique solution"):
        lyapunov_covariance([[0]], [[1]])  # A = 0: 0 * S + 1 = 0 has no solution


def test_euler_chain_moments_match_the_discrete_lyapunov_solution() -> None:
    linalg = pytest.importorskip("scipy.linalg")
    h = 0.05
    c = np.array([1.0, -0.5])
    sde = SDE([x, y], list(sp.Matrix(A_NUM).applyfunc(sp.nsimplify) * sp.Matrix([x, y])
                           + sp.Matrix(c).applyfunc(sp.nsimplify)),
              sp.Matrix(G_NUM).applyfunc(sp.nsimplify))
    mean, cov = euler_chain_moments(sde, sp.Rational(1, 20))
    B = np.eye(2) + A_NUM * h
    np.testing.assert_allclose(np.array(cov, dtype=float),
                               linalg.solve_discrete_lyapunov(B, G_NUM @ G_NUM.T * h),
                               rtol=1e-12)
    np.testing.assert_allclose(np.array(mean, dtype=float).ravel(),
                               -np.linalg.solve(A_NUM, c), rtol=1e-12)


def test_euler_chain_covariance_tends_to_the_sde_covariance_and_differs_from_it() -> None:
    a, h = sp.symbols("a h", positive=True)
    _, cov = euler_chain_moments(SDE([x], [-a * x], 1), h)
    # by hand: v = (1 - a h)^2 v + h, so v = 1/(a (2 - a h)); the SDE's is 1/(2a)
    assert sp.simplify(cov[0, 0] - 1 / (a * (2 - a * h))) == 0
    assert sp.limit(cov[0, 0], h, 0) == 1 / (2 * a)
    assert sp.simplify(cov[0, 0] - 1 / (2 * a)) != 0  # the bias is not zero
    with pytest.raises(ArithmeticError, match="affine drift"):
        euler_chain_moments(SDE([x], [-x**3], 1), h)


def test_normal_expectation_matches_sympy_stats() -> None:
    z1, z2, s = sp.symbols("z1 z2 s", real=True)
    expr = (1 + s * z1 + z1**2 * z2) ** 3 + z2**5
    e1, e2 = stats.Normal("e1", 0, 1), stats.Normal("e2", 0, 1)
    expected = stats.E(sp.expand(expr.subs({z1: e1, z2: e2})))
    assert sp.simplify(normal_expectation(expr, [z1, z2]) - expected) == 0
    assert normal_expectation(z1**3 * z2**2, [z1, z2]) == 0  # an odd moment


def test_quadratic_expectation_is_the_trace_and_refuses_higher_degrees() -> None:
    cov = np.array([[2.0, 0.3], [0.3, 0.5]])
    M = np.array([[1.0, 1.5], [1.5, -2.0]])  # q = x^2 + 3 x y - 2 y^2 = [x y] M [x y]^T
    q = x**2 + 3 * x * y - 2 * y**2
    assert float(quadratic_expectation(q, [x, y], sp.Matrix(cov))) == pytest.approx(
        float(np.trace(M @ cov)), rel=1e-12)
    # a linear part has mean zero, a constant is its own mean
    assert float(quadratic_expectation(q + 5 * x - 7, [x, y], sp.Matrix(cov))) == \
        pytest.approx(float(np.trace(M @ cov)) - 7, rel=1e-12)
    for bad in (x**3, x**2 * y):
        with pytest.raises(ArithmeticError, match="degree at most 2"):
            quadratic_expectation(bad, [x, y], sp.Matrix(cov))


def test_sub_seed_is_the_seed_sequence_of_seed_and_tag() -> None:
    assert sub_seed(7, 2, 3) == int(np.random.SeedSequence([7, 2, 3]).generate_state(1)[0])
    assert len({sub_seed(0, t) for t in range(50)}) == 50


def test_euler_chain_gap_is_the_exact_bias_for_ou_and_large_for_a_wrong_density() -> None:
    h = 0.02
    gap = euler_chain_gap(-x, x**2, x, 1.0, h, 0.0, 1500)
    # by hand: the chain's stationary variance 1/(2 - h) against the density's 1/2
    assert gap["variance_relative"] == pytest.approx(h / (2 - h), rel=1e-6)
    assert gap["mass"] == pytest.approx(1.0, abs=1e-9)
    wrong = euler_chain_gap(-x, 2 * x**2, x, 1.0, h, 0.0, 1500)  # variance 1/4, not 1/2
    assert wrong["variance_relative"] > 0.9 and wrong["cdf_distance"] > 0.05
