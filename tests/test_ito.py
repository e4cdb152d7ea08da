"""Tests of :func:`symsde.ito_lemma` against Ito's formula worked out by hand."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp

from symsde import SDE, ItoDifferential, ito_lemma, stationary_density

x, y, t = sp.symbols("x y t", real=True)
xp = sp.Symbol("x", positive=True)
sigma, theta = sp.symbols("sigma theta", positive=True)
a, b = sp.symbols("a b", real=True)


def is_zero(expr: sp.Expr) -> bool:
    return sp.simplify(expr) == 0


def matrices_equal(u: sp.Matrix, v: sp.Matrix) -> bool:
    u, v = sp.Matrix(u), sp.Matrix(v)
    return u.shape == v.shape and all(is_zero(p - q) for p, q in zip(u, v, strict=True))


def test_geometric_brownian_motion_log() -> None:
    # d log X = (a - b^2/2) dt + b dB for dX = a X dt + b X dB.
    dY = ito_lemma(SDE([xp], [a * xp], [[b * xp]]), sp.log(xp))
    assert isinstance(dY, ItoDifferential)
    assert is_zero(dY.drift[0] - (a - b**2 / 2))
    assert is_zero(dY.diffusion[0, 0] - b)
    assert dY.expression == sp.Matrix([sp.log(xp)])
    # The ordinary chain rule (no Ito correction) is a wrong claim and is rejected.
    assert not is_zero(dY.drift[0] - a)


def test_ou_square() -> None:
    # d(X^2) = 2X dX + d<X> = (-2 theta X^2 + sigma^2) dt + 2 sigma X dB.
    dY = ito_lemma(SDE([x], [-theta * x], sigma), x**2)
    assert is_zero(dY.drift[0] - (-2 * theta * x**2 + sigma**2))
    assert is_zero(dY.diffusion[0, 0] - 2 * sigma * x)
    assert is_zero(dY.diffusion_matrix[0, 0] - 4 * sigma**2 * x**2)
    assert not is_zero(dY.drift[0] - (-2 * theta * x**2 + sigma**2 / 2))


def test_identity_returns_the_sde() -> None:
    G = sp.Matrix([[1, x, 0], [0, 1, sigma]])
    sde = SDE([x, y], [x - x**3, -y], G)
    dX = ito_lemma(sde, [x, y])
    assert matrices_equal(dX.drift, sde.drift)
    assert matrices_equal(dX.diffusion, G)
    assert dX.diffusion.shape == (2, 3)
    assert matrices_equal(dX.diffusion_matrix, sde.diffusion_matrix)


def test_product_with_correlated_noise() -> None:
    # G = [[1, 0], [1, 1]], D = [[1, 1], [1, 2]], Y = X1 X2:
    # drift = (-x) y + x (-2y) + D_12 = -3xy + 1; diffusion = (y, x) G = (x + y, x).
    sde = SDE([x, y], [-x, -2 * y], [[1, 0], [1, 1]])
    dY = ito_lemma(sde, x * y)
    assert is_zero(dY.drift[0] - (-3 * x * y + 1))
    assert matrices_equal(dY.diffusion, sp.Matrix([[x + y, x]]))
    assert is_zero(dY.diffusion_matrix[0, 0] - ((x + y) ** 2 + x**2))
    # Ignoring the correlation of the two noises (D_12 = 0) is rejected.
    assert not is_zero(dY.drift[0] - (-3 * x * y))


def test_vector_function_and_matrix_input() -> None:
    sde = SDE([x], [-theta * x], sigma)
    for f in ([x, x**2], (x, x**2), sp.Matrix([x, x**2])):
        dY = ito_lemma(sde, f)
        assert matrices_equal(dY.drift, sp.Matrix([-theta * x, -2 * theta * x**2 + sigma**2]))
        assert matrices_equal(dY.diffusion, sp.Matrix([[sigma], [2 * sigma * x]]))
        # Quadratic covariation of X and X^2 is sigma * 2 sigma x.
        assert is_zero(dY.diffusion_matrix[0, 1] - 2 * sigma**2 * x)


def test_drift_equals_generator_without_time() -> None:
    sde = SDE([x, y], [x - x**3 - y, x - y], [[sp.sqrt(1 + y**2), 0], [x, 1]])
    for f in (sp.exp(-x * y), sp.sin(x) * y**2, x**4 + y**4):
        assert is_zero(ito_lemma(sde, f).drift[0] - sde.generator(f))


def test_time_dependent_function() -> None:
    # Y = e^(2t) X^2 for OU with theta = 1: dY = e^(2t) (2 X^2 + (-2 X^2 + sigma^2)) dt + ...
    sde = SDE([x], [-x], sigma, time=t)
    dY = ito_lemma(sde, sp.exp(2 * t) * x**2)
    assert is_zero(dY.drift[0] - sigma**2 * sp.exp(2 * t))
    assert is_zero(dY.diffusion[0, 0] - 2 * sigma * x * sp.exp(2 * t))
    # Dropping the time derivative is a wrong claim.
    assert not is_zero(dY.drift[0] - sde.generator(sp.exp(2 * t) * x**2))


def test_time_dependent_coefficients() -> None:
    sde = SDE([x], [-t * x], sp.exp(-t), time=t)
    dY = ito_lemma(sde, x**2 + t)
    assert is_zero(dY.drift[0] - (1 - 2 * t * x**2 + sp.exp(-2 * t)))
    assert is_zero(dY.diffusion[0, 0] - 2 * x * sp.exp(-t))


def test_stationary_expectation_of_the_drift_vanishes() -> None:
    # Cross-module witness: under the stationary law E[A f] = 0 (d E f(X) / dt = 0).
    sde = SDE.langevin(x**4 / 4 - x**2 / 2, [x], 1)
    st = stationary_density(sde, integration_seconds=1)
    dens = sp.lambdify([x], st.density, modules="mpmath")
    with mpmath.workdps(30):
        for f in (x**2, x**4, sp.cos(x)):
            drift = sp.lambdify([x], ito_lemma(sde, f).drift[0], modules="mpmath")
            val = mpmath.quad(lambda s, d=drift: d(s) * dens(s), [-mpmath.inf, 0, mpmath.inf])
            assert abs(val) < 1e-20
        # The naive chain-rule drift mu f' does not average to zero: rejected.
        naive = sp.lambdify([x], sde.drift[0] * sp.diff(x**2, x), modules="mpmath")
        bad = mpmath.quad(lambda s: naive(s) * dens(s), [-mpmath.inf, 0, mpmath.inf])
        assert abs(bad) > 0.1


@pytest.mark.parametrize("f", [sp.Integer(3), t])
def test_functions_without_state_have_no_noise(f: sp.Expr) -> None:
    dY = ito_lemma(SDE([x], [-x], 1, time=t), f)
    assert dY.diffusion == sp.zeros(1, 1)
    assert is_zero(dY.drift[0] - sp.diff(f, t))


omega = sp.Symbol("omega", positive=True)
# name: (SDE, f, hand-written dt coefficient, hand-written dB row)
CASES: dict[str, tuple[SDE, sp.Expr, sp.Expr, list[sp.Expr]]] = {
    "OU": (SDE([x], [-theta * x], sigma), x**2, -2 * theta * x**2 + sigma**2, [2 * sigma * x]),
    "double well": (SDE.langevin(x**4 / 4 - x**2 / 2, [x], sigma), x**2,
                    2 * x**2 - 2 * x**4 + sigma**2, [2 * sigma * x]),
    "state-dependent 1-D": (SDE([x], [x - x**3], [[sp.sqrt(1 + x**2)]]), x**2,
                            -2 * x**4 + 3 * x**2 + 1, [2 * x * sp.sqrt(1 + x**2)]),
    "2-D gradient": (SDE.langevin(x**2 / 2 + x * y / 2 + y**2, [x, y], sigma), x**2 + y**2,
                     -2 * x**2 - 2 * x * y - 4 * y**2 + 2 * sigma**2,
                     [2 * sigma * x, 2 * sigma * y]),
    "2-D anisotropic": (SDE.langevin(x**2 / 2 + y**2 / 2, [x, y], [1, 2]), x**2 + y**2,
                        -2 * x**2 - 2 * y**2 + 5, [2 * x, 4 * y]),
    "rotational": (SDE([x, y], [-x - omega * y, omega * x - y], sigma), x**2 + y**2,
                   -2 * x**2 - 2 * y**2 + 2 * sigma**2, [2 * sigma * x, 2 * sigma * y]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_ito_lemma_on_each_case(case: str) -> None:
    sde, f, drift, row = CASES[case]
    dY = ito_lemma(sde, f)
    assert is_zero(dY.drift[0] - drift)
    assert matrices_equal(dY.diffusion, sp.Matrix([row]))
    # Negative control: the Stratonovich-style drift (no Ito correction) is rejected.
    naive = sum(sde.drift[i] * sp.diff(f, s) for i, s in enumerate(sde.state))
    assert not is_zero(dY.drift[0] - naive)
