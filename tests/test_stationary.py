"""Tests of :func:`symsde.stationary_density`.

The cases of the issue: Ornstein-Uhlenbeck, the double well L = x^4/4 - x^2/2, a
state-dependent 1-D diffusion, a 2-D gradient drift, 2-D anisotropic noise (not Gibbs) and a
rotational linear drift (Lyapunov), plus every error class.

Independent checks: normalisers against ``mpmath.quad`` of a hand-written integrand (or a
closed form from the literature), Lyapunov covariances by substitution into
``A S + S A^T + D = 0``, densities against hand-derived formulas, stationarity by the
Fokker-Planck residual. Each kind of check also has a test showing it rejects a wrong claim.
"""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import numpy as np
import pytest
import sympy as sp

from symsde import SDE, StationaryDensity, stationary_density
from symsde.errors import (
    InputError,
    MathematicalError,
    NoStationaryDensityError,
    NotNormalizableError,
    SymsdeError,
)

x, y = sp.symbols("x y", real=True)
sigma, theta, omega, eta, a = sp.symbols("sigma theta omega eta a", positive=True)
DOUBLE_WELL = x**4 / 4 - x**2 / 2
INF = mpmath.inf


# -- helpers (each has a negative control below) ----------
def is_zero(expr: sp.Expr) -> bool:
    return sp.simplify(expr) == 0


def same_up_to_constant(U1: sp.Expr, U2: sp.Expr, state: tuple[sp.Symbol, ...]) -> bool:
    """Potentials are defined up to an additive constant."""
    return all(is_zero(sp.diff(U1 - U2, s)) for s in state)


def quad_line(integrand: sp.Expr, var: sp.Symbol, dps: int = 30) -> mpmath.mpf:
    """mpmath quadrature over the real line of a hand-written integrand."""
    fn = sp.lambdify([var], integrand, modules="mpmath")
    with mpmath.workdps(dps):
        return +mpmath.quad(fn, [-INF, 0, INF])


def quad_plane(integrand: sp.Expr, dps: int = 10) -> mpmath.mpf:
    fn = sp.lambdify([x, y], integrand, modules="mpmath")
    with mpmath.workdps(dps):
        return +mpmath.quad(fn, [-INF, 0, INF], [-INF, 0, INF])


def close(value: sp.Expr, reference: mpmath.mpf, rel: float) -> bool:
    """|value - reference| <= rel |reference|, compared with 50 digits."""
    with mpmath.workdps(50):
        v = mpmath.mpf(str(sp.N(value, 45)))
        return bool(abs(v - reference) <= rel * abs(reference))


def lyapunov_residual(A: sp.Matrix, S: sp.Matrix, D: sp.Matrix) -> sp.Matrix:
    return (A * S + S * A.T + D).applyfunc(sp.simplify)


def is_stationary(st: StationaryDensity) -> bool:
    """Zero Fokker-Planck residual of the returned density (recomputed, not st's helper)."""
    u = st.unnormalized
    return is_zero(sp.expand(st.sde.fokker_planck(u) / u))


def has_zero_current(st: StationaryDensity) -> bool:
    u = st.unnormalized
    return all(is_zero(sp.expand(J / u)) for J in st.sde.current(u))


def test_same_up_to_constant_rejects_a_different_potential() -> None:
    assert same_up_to_constant(x**2 + 3, x**2 - sp.log(2), (x,))
    assert not same_up_to_constant(x**2, x**2 + x / 100, (x,))
    assert not same_up_to_constant(x**2 + y**2, x**2 + 2 * y**2, (x, y))


def test_close_rejects_a_normalizer_off_by_a_tenth_of_a_percent() -> None:
    ref = quad_line(sp.exp(-(x**2)), x)
    assert close(sp.sqrt(sp.pi), ref, 1e-25)
    assert not close(sp.sqrt(sp.pi) * sp.Rational(1001, 1000), ref, 1e-6)


def test_lyapunov_residual_rejects_a_wrong_covariance() -> None:
    A = sp.Matrix([[-1, -omega], [omega, -1]])
    D = sigma**2 * sp.eye(2)
    assert lyapunov_residual(A, sigma**2 / 2 * sp.eye(2), D) == sp.zeros(2, 2)
    assert lyapunov_residual(A, sigma**2 * sp.eye(2), D) != sp.zeros(2, 2)
    assert lyapunov_residual(A, sp.Matrix([[1, 1], [1, 1]]) * sigma**2 / 2, D) != sp.zeros(2, 2)


def test_stationarity_checks_reject_a_wrong_temperature() -> None:
    sde = SDE.langevin(DOUBLE_WELL, [x], sigma)
    wrong = StationaryDensity(sde=sde, potential=DOUBLE_WELL / sigma**2, normalizer=sp.S.One,
                              method="zero-flux-1d")
    assert not is_stationary(wrong)
    assert not has_zero_current(wrong)
    right = StationaryDensity(sde=sde, potential=2 * DOUBLE_WELL / sigma**2,
                              normalizer=sp.S.One, method="zero-flux-1d")
    assert is_stationary(right)
    assert has_zero_current(right)
    assert wrong.fokker_planck_residual() != 0
    assert right.fokker_planck_residual() == 0


# -- Ornstein-Uhlenbeck ----------
def test_ou_density_normalizer_and_operators() -> None:
    st = stationary_density(SDE([x], [-theta * x], sigma))
    assert st.method == "zero-flux-1d"
    assert same_up_to_constant(st.potential, theta * x**2 / sigma**2, (x,))
    assert is_zero(st.normalizer - sp.sqrt(sp.pi * sigma**2 / theta))
    assert is_zero(st.density - sp.sqrt(theta / (sp.pi * sigma**2)) * sp.exp(-theta * x**2
                                                                           / sigma**2))
    assert is_zero(st.unnormalized - sp.exp(-st.potential))
    assert is_zero(st.density - st.unnormalized / st.normalizer)
    # No loss was given, so the Gibbs question does not arise.
    assert st.is_gibbs is None
    assert st.temperature is None
    assert st.current() == sp.zeros(1, 1)
    assert st.fokker_planck_residual() == 0
    assert is_stationary(st)
    assert has_zero_current(st)
    # Assumptions (theta, sigma > 0) give a clean closed form: no Piecewise, no Abs.
    assert not st.normalizer.has(sp.Piecewise, sp.Abs, sp.Integral)


@pytest.mark.parametrize(("th", "sg"), [(1.7, 0.6), (0.3, 2.5)])
def test_ou_normalizer_against_mpmath(th: float, sg: float) -> None:
    st = stationary_density(SDE([x], [-theta * x], sigma))
    vals = {theta: sp.Rational(str(th)), sigma: sp.Rational(str(sg))}
    ref = quad_line(sp.exp(-vals[theta] * x**2 / vals[sigma] ** 2), x)
    assert close(st.normalizer.subs(vals), ref, 1e-25)
    # The normalised density integrates to one.
    assert abs(quad_line(st.density.subs(vals), x) - 1) < 1e-25


def test_ou_langevin_is_gibbs_with_temperature_sigma_squared_over_two() -> None:
    st = stationary_density(SDE.langevin(theta * x**2 / 2, [x], sigma))
    assert st.is_gibbs is True
    assert is_zero(st.temperature - sigma**2 / 2)
    # Wrong claim: temperature sigma^2 (a common slip) is rejected.
    assert not is_zero(st.temperature - sigma**2)


def test_ou_with_a_mean() -> None:
    m = sp.Symbol("m", real=True)
    st = stationary_density(SDE([x], [theta * (m - x)], sigma))
    assert same_up_to_constant(st.potential, theta * (x - m) ** 2 / sigma**2, (x,))
    expected = sp.sqrt(theta / (sp.pi * sigma**2)) * sp.exp(-theta * (x - m) ** 2 / sigma**2)
    assert is_zero(st.density - expected)
    # The normaliser belongs to the potential as returned (constants dropped).
    vals = {theta: 2, sigma: sp.Rational(3, 2), m: sp.Rational(-1, 3)}
    assert close(st.normalizer.subs(vals), quad_line(st.unnormalized.subs(vals), x), 1e-25)


def test_all_three_methods_agree_on_ou() -> None:
    sde = SDE([x], [-theta * x], sigma)
    dens = {m: stationary_density(sde, method=m) for m in
            ("zero-flux-1d", "potential", "gaussian-lyapunov")}
    assert {m: d.method for m, d in dens.items()} == {m: m for m in dens}
    ref = dens["zero-flux-1d"].density
    for d in dens.values():
        assert is_zero(d.density - ref)
    lyap = dens["gaussian-lyapunov"]
    assert is_zero(lyap.covariance[0, 0] - sigma**2 / (2 * theta))
    assert lyap.mean == sp.Matrix([0])


# -- the double well ----------
def test_double_well_symbolic_sigma() -> None:
    st = stationary_density(SDE.langevin(DOUBLE_WELL, [x], sigma), integration_seconds=2)
    assert st.method == "zero-flux-1d"
    assert same_up_to_constant(st.potential, 2 * DOUBLE_WELL / sigma**2, (x,))
    assert st.is_gibbs is True
    assert is_zero(st.temperature - sigma**2 / 2)
    assert is_stationary(st)
    assert has_zero_current(st)
    # Z is a closed form or the unevaluated integral; either way it is the integral of
    # exp(-2L/sigma^2), checked at sigma = 4/5 against a hand-written integrand.
    s0 = sp.Rational(4, 5)
    ref = quad_line(sp.exp(-2 * DOUBLE_WELL / s0**2), x, dps=20)
    Z = st.normalizer.subs(sigma, s0)
    if isinstance(Z, sp.Integral):
        Z = sp.Integral(*Z.args).doit() if not Z.has(sp.Integral) else Z.evalf(20)
    assert close(Z, ref, 1e-12)


def test_double_well_numeric_normalizer_against_bessel_closed_form() -> None:
    # int exp(-(x^4/2 - x^2)) dx = (pi/2) e^(1/4) (I_{-1/4}(1/4) + I_{1/4}(1/4)),
    # from int exp(-a x^4 + b x^2) = (pi/2) sqrt(b/2a) e^(b^2/8a) (I_-1/4 + I_1/4)(b^2/8a).
    st = stationary_density(SDE.langevin(DOUBLE_WELL, [x], 1), integration_seconds=2)
    assert st.normalizer.is_Float
    with mpmath.workdps(45):
        q = mpmath.mpf(1) / 4
        ref = mpmath.pi / 2 * mpmath.exp(q) * (mpmath.besseli(-q, q) + mpmath.besseli(q, q))
        assert close(st.normalizer, ref, 1e-40)
        assert not close(st.normalizer * sp.Rational(10**9 + 1, 10**9), ref, 1e-12)
    assert st.is_gibbs is True and st.temperature == sp.Rational(1, 2)
    assert abs(quad_line(st.density, x, dps=30) - 1) < 1e-25


# -- state-dependent diffusion in 1-D ----------
def test_state_dependent_contract_example() -> None:
    # p ~ D^-1 exp(int 2 mu / D) with mu = x - x^3, D = 1 + x^2:
    # 2 mu / D = -2x + 4x/(1 + x^2)  =>  p ~ (1 + x^2) exp(-x^2).
    sde = SDE(state=[x], drift=[x - x**3], diffusion=[[sp.sqrt(1 + x**2)]])
    st = stationary_density(sde)
    assert st.method == "zero-flux-1d"
    expected = (1 + x**2) * sp.exp(-(x**2))
    assert same_up_to_constant(st.potential, -sp.log(expected), (x,))
    assert is_zero(st.normalizer - 3 * sp.sqrt(sp.pi) / 2)
    assert is_zero(st.density - expected / (3 * sp.sqrt(sp.pi) / 2))
    assert close(st.normalizer, quad_line(expected, x), 1e-25)
    assert has_zero_current(st)
    assert is_stationary(st)
    # The Gibbs guess exp(-2 L) for L = x^4/4 - x^2/2 ignores the noise and is wrong here.
    gibbs = StationaryDensity(sde=sde, potential=2 * DOUBLE_WELL, normalizer=sp.S.One,
                              method="zero-flux-1d")
    assert not is_stationary(gibbs)


def test_state_dependent_heavy_tail() -> None:
    # mu = -x, D = 1 + x^2: p ~ (1 + x^2)^-2, Z = pi/2.
    st = stationary_density(SDE([x], [-x], [[sp.sqrt(1 + x**2)]]))
    assert is_zero(st.density - 2 / (sp.pi * (1 + x**2) ** 2))
    assert close(st.normalizer, quad_line((1 + x**2) ** -2, x), 1e-25)
    assert is_stationary(st)


def test_sgd_state_dependent_noise_is_not_gibbs() -> None:
    # D = eta (1 + x^2), mu = x - x^3: p ~ (1 + x^2)^(2/eta - 1) exp(-x^2/eta).
    half = sp.Rational(1, 2)
    st = stationary_density(SDE.sgd(DOUBLE_WELL, [x], half, sp.sqrt(1 + x**2)))
    expected = (1 + x**2) ** 3 * sp.exp(-2 * x**2)
    assert same_up_to_constant(st.potential, -sp.log(expected), (x,))
    assert close(st.normalizer, quad_line(expected, x), 1e-25)
    assert st.is_gibbs is False
    assert st.temperature is None
    assert has_zero_current(st)


def test_drift_singularity_gives_a_real_density() -> None:
    # mu = -x + 1/(4x), D = 1: p ~ |x|^(1/2) exp(-x^2), real on both sides of 0.
    st = stationary_density(SDE([x], [-x + 1 / (4 * x)], 1))
    expected = sp.sqrt(sp.Abs(x)) * sp.exp(-(x**2))
    for x0 in (-2, -sp.Rational(1, 3), sp.Rational(1, 3), 2):
        ratio = sp.N((st.unnormalized / expected).subs(x, x0), 30)
        assert ratio.is_real and ratio > 0
        assert abs(ratio - sp.N((st.unnormalized / expected).subs(x, 1), 30)) < 1e-25
    assert close(st.normalizer, quad_line(expected, x), 1e-20)


# -- 2-D gradient drift ----------
def test_two_dimensional_gradient_quadratic() -> None:
    L = x**2 / 2 + x * y / 2 + y**2
    st = stationary_density(SDE.langevin(L, [x, y], sigma))
    assert st.method == "potential"
    assert same_up_to_constant(st.potential, 2 * L / sigma**2, (x, y))
    # Gaussian with precision 2 hess(L)/sigma^2: Z = 2 pi sigma^2 / sqrt(det(2 hess L)).
    assert is_zero(st.normalizer - 2 * sp.pi * sigma**2 / sp.sqrt(7))
    assert close(st.normalizer.subs(sigma, 1), quad_plane(sp.exp(-2 * L)), 1e-8)
    assert st.is_gibbs is True
    assert is_zero(st.temperature - sigma**2 / 2)
    assert st.current() == sp.zeros(2, 1)
    assert has_zero_current(st)
    assert is_stationary(st)


def test_two_dimensional_double_well_separable() -> None:
    L = DOUBLE_WELL + y**2 / 2
    st = stationary_density(SDE.langevin(L, [x, y], 1), integration_seconds=2)
    assert st.method == "potential"
    assert same_up_to_constant(st.potential, 2 * L, (x, y))
    with mpmath.workdps(40):
        ref = quad_line(sp.exp(-2 * DOUBLE_WELL), x) * quad_line(sp.exp(-(y**2)), y)
    assert close(st.normalizer, ref, 1e-25)
    assert is_stationary(st)


def test_two_dimensional_non_separable_numeric_normalizer() -> None:
    L = x**4 / 4 + y**4 / 4 + x * y / 2
    st = stationary_density(SDE.langevin(L, [x, y], 1), integration_seconds=1)
    assert st.method == "potential"
    assert st.normalizer.is_Float
    ref = quad_plane(sp.exp(-2 * L), dps=8)
    assert close(st.normalizer, ref, 1e-6)
    assert not close(st.normalizer * sp.Rational(1001, 1000), ref, 1e-6)


@pytest.mark.slow
def test_two_dimensional_non_separable_numeric_normalizer_high_precision() -> None:
    L = x**4 / 4 + y**4 / 4 + x * y / 2
    st = stationary_density(SDE.langevin(L, [x, y], 1), integration_seconds=1)
    assert close(st.normalizer, quad_plane(sp.exp(-2 * L), dps=15), 1e-10)


# -- 2-D anisotropic noise: not Gibbs ----------
def test_anisotropic_noise_separable_loss() -> None:
    L = x**2 / 2 + y**2 / 2
    sde = SDE.langevin(L, [x, y], [1, 2])
    st = stationary_density(sde)
    assert st.method == "potential"
    # Each coordinate has its own temperature D_ii / 2: U = x^2 + y^2/4.
    assert same_up_to_constant(st.potential, x**2 + y**2 / 4, (x, y))
    assert is_zero(st.normalizer - 2 * sp.pi)
    assert close(st.normalizer, quad_plane(sp.exp(-(x**2) - y**2 / 4)), 1e-8)
    assert st.is_gibbs is False
    assert st.temperature is None
    assert has_zero_current(st)
    # Independently: no single temperature T makes exp(-L/T) stationary.
    T = sp.Symbol("T", positive=True)
    residual = sp.expand(sde.fokker_planck(sp.exp(-L / T)) / sp.exp(-L / T))
    assert sp.solve(sp.Poly(residual, x, y).coeffs(), T) == []


def test_anisotropic_noise_coupled_loss_falls_back_to_lyapunov() -> None:
    L = x**2 / 2 + y**2 / 2 + x * y / 2
    sde = SDE.langevin(L, [x, y], [1, 2])
    st = stationary_density(sde)
    # The curl of D^-1 grad L is non-zero, so no zero-current density exists.
    assert st.method == "gaussian-lyapunov"
    assert st.is_gibbs is False
    A = sde.drift.jacobian([x, y])
    assert lyapunov_residual(A, st.covariance, sde.diffusion_matrix) == sp.zeros(2, 2)
    assert is_stationary(st)
    assert not has_zero_current(st)
    with pytest.raises(NoStationaryDensityError, match="method 'potential' does not apply"):
        stationary_density(sde, method="potential")


def test_anisotropic_noise_double_well() -> None:
    L = DOUBLE_WELL + y**2 / 2
    st = stationary_density(SDE.langevin(L, [x, y], [sigma, 2 * sigma]), integration_seconds=1)
    assert st.method == "potential"
    assert same_up_to_constant(st.potential, (2 * DOUBLE_WELL + y**2 / 4) / sigma**2, (x, y))
    assert st.is_gibbs is False
    assert has_zero_current(st)


# -- rotational linear drift: Lyapunov ----------
def test_rotational_drift_lyapunov() -> None:
    A = sp.Matrix([[-1, -omega], [omega, -1]])
    D = sigma**2 * sp.eye(2)
    sde = SDE([x, y], A * sp.Matrix([x, y]), sigma)
    st = stationary_density(sde)
    assert st.method == "gaussian-lyapunov"
    assert lyapunov_residual(A, st.covariance, D) == sp.zeros(2, 2)
    # The rotation does not change the covariance sigma^2/2 I.
    assert all(is_zero(e) for e in st.covariance - sigma**2 / 2 * sp.eye(2))
    assert st.mean == sp.zeros(2, 1)
    assert same_up_to_constant(st.potential, (x**2 + y**2) / sigma**2, (x, y))
    assert is_zero(st.normalizer - sp.pi * sigma**2)
    assert is_stationary(st)
    # A non-zero, divergence-free current circulates: not detailed balance.
    assert not has_zero_current(st)
    J = st.current()
    assert is_zero(sp.diff(J[0], x) + sp.diff(J[1], y))
    assert st.is_gibbs is None


def test_non_normal_linear_drift_with_offset() -> None:
    A = sp.Matrix([[-1, 3], [0, -2]])
    c = sp.Matrix([1, 2])
    G = sp.Matrix([[1, 0], [1, 1]])
    sde = SDE([x, y], A * sp.Matrix([x, y]) + c, G)
    st = stationary_density(sde)
    assert st.method == "gaussian-lyapunov"
    D = G * G.T
    S = st.covariance
    assert lyapunov_residual(A, S, D) == sp.zeros(2, 2)
    # Independently, by the Kronecker form: vec(S) = -(I (x) A + A (x) I)^-1 vec(D).
    K = sp.kronecker_product(sp.eye(2), A) + sp.kronecker_product(A, sp.eye(2))
    vec_S = -K.inv() * D.reshape(4, 1)
    assert all(is_zero(u - v) for u, v in zip(S.reshape(4, 1), vec_S, strict=True))
    # The mean solves A m + c = 0.
    assert A * st.mean + c == sp.zeros(2, 1)
    # Integrate out y by hand, int exp(-(a y^2 + b y + c)) dy = sqrt(pi/a) e^(b^2/4a - c),
    # then x by mpmath.
    a2, b1, c0 = sp.Poly(st.potential, y).all_coeffs()
    inner = sp.sqrt(sp.pi / a2) * sp.exp(b1**2 / (4 * a2) - c0)
    assert close(st.normalizer, quad_line(inner, x), 1e-25)
    assert is_stationary(st)


# -- errors ----------
NOT_NORMALIZABLE: dict[str, tuple[Callable[[], SDE], str]] = {
    "L = x": (lambda: SDE.langevin(x, [x], sigma), "does not decay"),
    "L = -x^2": (lambda: SDE.langevin(-(x**2), [x], sigma), "does not decay"),
    "drift +x": (lambda: SDE([x], [x], 1), "drift must push the state back"),
    "log tail": (lambda: SDE.langevin(sp.log(1 + x**2) / 4, [x], 1), "decays only like"),
    "saddle": (lambda: SDE.langevin(x**2 - y**2, [x, y], 1), "not positive definite"),
    "flat valley": (lambda: SDE.langevin((x + y) ** 2 / 2, [x, y], 1), "not positive definite"),
    "quartic flat in y": (lambda: SDE.langevin(x**4, [x, y], 1), "does not decay"),
    "GBM": (lambda: SDE([x], [-x], [[x]]), "geometric Brownian motion: no stationary density"),
    "unstable linear": (lambda: SDE([x, y], [x + y, -2 * y], 1), "does not confine"),
    "parameter sign unknown": (
        lambda: SDE.langevin(sp.Symbol("k", real=True) * x**2, [x], 1),
        "declare parameters positive",
    ),
    "parameter-dependent tail": (
        lambda: SDE.langevin(a * sp.log(1 + x**2), [x], 1),
        "normalisable only if 4*a > 1",
    ),
}


@pytest.mark.parametrize("case", sorted(NOT_NORMALIZABLE))
def test_not_normalizable(case: str) -> None:
    build, phrase = NOT_NORMALIZABLE[case]
    with pytest.raises(NotNormalizableError) as info:
        stationary_density(build(), integration_seconds=1)
    assert phrase in str(info.value)
    assert isinstance(info.value, MathematicalError)
    assert info.value.exit_code == 1


def test_parameter_dependent_tail_is_fine_once_decided() -> None:
    st = stationary_density(SDE.langevin(sp.log(1 + x**2), [x], 1))
    assert is_zero(st.density - 2 / (sp.pi * (1 + x**2) ** 2))


NO_DENSITY: dict[str, tuple[Callable[[], SDE], str | None, str]] = {
    "zero noise": (lambda: SDE([x], [-x], 0), None, "give a non-zero diffusion"),
    "non-gradient nonlinear": (
        lambda: SDE([x, y], [-x**3 - y, x - y**3], 1), None, "not a gradient field"),
    "pure rotation": (lambda: SDE([x, y], [-y, x], 1), None, "no unique solution"),
    "degenerate noise": (lambda: SDE([x, y], [-x, -y], [[1], [0]]), None,
                         "add noise to the missing directions"),
    "time dependent": (
        lambda: SDE([x], [-sp.Symbol("t", real=True) * x], 1, time=sp.Symbol("t", real=True)),
        None, "depend on time"),
    "positive state in 2-D": (lambda: SDE([sp.Symbol("r", positive=True), y],
                                          [-sp.Symbol("r", positive=True), -y], 1), None,
                              "real=True"),
    "forced zero-flux in 2-D": (lambda: SDE([x, y], [-x, -y], 1), "zero-flux-1d",
                                "needs a one-dimensional state"),
    "forced potential on rotation": (lambda: SDE([x, y], [-x - y, x - y], 1), "potential",
                                     "try 'gaussian-lyapunov'"),
    "forced lyapunov on nonlinear": (lambda: SDE.langevin(DOUBLE_WELL, [x], 1),
                                     "gaussian-lyapunov", "not linear"),
}


@pytest.mark.parametrize("case", sorted(NO_DENSITY))
def test_no_stationary_density(case: str) -> None:
    build, method, phrase = NO_DENSITY[case]
    with pytest.raises(NoStationaryDensityError) as info:
        stationary_density(build(), method=method)
    assert phrase in str(info.value)
    assert info.value.exit_code == 1


def test_unknown_method_is_an_input_error() -> None:
    with pytest.raises(InputError, match="choose one of zero-flux-1d, potential"):
        stationary_density(SDE([x], [-x], 1), method="gibbs")
    assert issubclass(InputError, ValueError) and issubclass(InputError, SymsdeError)


def test_normalize_false_skips_the_check_and_leaves_the_integral() -> None:
    st = stationary_density(SDE.langevin(x, [x], 1), normalize=False)
    assert isinstance(st.normalizer, sp.Integral)
    assert is_zero(st.normalizer.function - st.unnormalized)
    assert st.normalizer.limits == ((x, -sp.oo, sp.oo),)
    assert has_zero_current(st)


def test_to_dict_has_the_cli_keys() -> None:
    st = stationary_density(SDE.langevin(x**2 / 2, [x], sigma))
    d = st.to_dict()
    assert set(d) == {"state", "density", "unnormalized", "potential", "normalizer", "method",
                      "is_gibbs", "temperature"}
    assert d["state"] == ["x"]
    assert d["method"] == "zero-flux-1d"
    assert d["is_gibbs"] is True
    assert all(isinstance(d[k], str) for k in ("density", "unnormalized", "potential",
                                                "normalizer", "temperature"))
    assert stationary_density(SDE([x], [-x], 1)).to_dict()["temperature"] is None


# -- state spaces with boundaries (issue 12) ----------
# Expected laws by hand: Wright-Fisher / Jacobi -> Beta (Karlin-Taylor, 2nd course, 15.7),
# CIR -> Gamma(2 kappa theta / sigma^2, rate 2 kappa / sigma^2) (Cox, Ingersoll, Ross 1985).
def beta_pdf(u: sp.Expr, p: sp.Expr, q: sp.Expr) -> sp.Expr:
    return u ** (p - 1) * (1 - u) ** (q - 1) * sp.gamma(p + q) / (sp.gamma(p) * sp.gamma(q))


def agrees_at(expr: sp.Expr, reference: sp.Expr, var: sp.Symbol, points: list[sp.Expr],
              subs: dict[sp.Symbol, sp.Expr] | None = None, rel: float = 1e-20) -> bool:
    for p in points:
        a = sp.N(expr.subs(subs or {}).subs(var, p), 40)
        b = sp.N(reference.subs(subs or {}).subs(var, p), 40)
        if not abs(a - b) <= rel * abs(b):
            return False
    return True


INSIDE = [sp.Rational(k, 10) for k in (1, 3, 5, 7, 9)]


@pytest.mark.parametrize("g", [sp.Rational(1, 8), sp.Rational(1, 2), 3])
def test_wright_fisher_beta_including_u_shaped(g: sp.Expr) -> None:
    # dX = (g(1 - X) - g X) dt + sqrt(X(1 - X)) dW: Beta(2g, 2g) on (0, 1).
    st = stationary_density(SDE([x], [g * (1 - x) - g * x], [[sp.sqrt(x * (1 - x))]]))
    assert st.domain == sp.Interval.open(0, 1)
    assert agrees_at(st.density, beta_pdf(x, 2 * g, 2 * g), x, INSIDE)
    kinds = {sp.Rational(1, 8): "regular", sp.Rational(1, 2): "entrance", 3: "entrance"}
    assert [b.kind for b in st.boundaries] == [kinds[g]] * 2


def test_wright_fisher_symbolic_parameters() -> None:
    g1, g2 = sp.symbols("g1 g2", positive=True)
    st = stationary_density(SDE([x], [g2 * (1 - x) - g1 * x], [[sp.sqrt(x * (1 - x))]]))
    vals = {g1: sp.Rational(1, 5), g2: sp.Rational(7, 3)}
    assert agrees_at(st.density, beta_pdf(x, 2 * g2, 2 * g1), x, INSIDE, vals)
    # Wrong parameters swapped must not agree (negative control of agrees_at).
    assert not agrees_at(st.density, beta_pdf(x, 2 * g1, 2 * g2), x, INSIDE, vals)
    left = st.boundaries[0]
    assert left.kind is None and {k for _, k in left.cases} == {"regular", "entrance"}


def test_cir_gamma_law_and_feller_condition() -> None:
    k, th, s = sp.symbols("kappa theta sigma", positive=True)
    st = stationary_density(SDE([x], [k * (th - x)], [[s * sp.sqrt(x)]]))
    assert st.domain == sp.Interval.open(0, sp.oo)
    shape, rate = 2 * k * th / s**2, 2 * k / s**2
    gamma_pdf = rate**shape * x ** (shape - 1) * sp.exp(-rate * x) / sp.gamma(shape)
    vals = {k: 2, th: sp.Rational(3, 4), s: sp.Rational(6, 5)}
    assert agrees_at(st.density, gamma_pdf, x, [sp.Rational(1, 3), 1, 4], vals)
    # Feller: 0 is entrance iff 2 kappa theta >= sigma^2 (Feller 1951), else regular.
    for val, kind in ((vals, "entrance"), ({k: 1, th: sp.Rational(1, 4), s: 1}, "regular")):
        st_num = stationary_density(SDE([x], [(k * (th - x)).subs(val)],
                                        [[(s * sp.sqrt(x)).subs(val)]]))
        assert st_num.boundaries[0].kind == kind
        assert st_num.boundaries[1].kind == "natural"


def test_jacobi_beta_law() -> None:
    # dX = kappa(theta - X) dt + sigma sqrt(X(1 - X)) dW: Beta(2 kappa theta/sigma^2,
    # 2 kappa (1 - theta)/sigma^2).
    st = stationary_density(SDE([x], [2 * (sp.Rational(1, 3) - x)], [[sp.sqrt(x * (1 - x))]]))
    assert agrees_at(st.density, beta_pdf(x, sp.Rational(4, 3), sp.Rational(8, 3)), x, INSIDE)


def test_positive_state_reflects_at_a_regular_end() -> None:
    r = sp.Symbol("r", positive=True)
    st = stationary_density(SDE([r], [-r], 1))
    assert is_zero(st.density - 2 * sp.exp(-(r**2)) / sp.sqrt(sp.pi))
    assert st.boundaries[0].kind == "regular"
    assert "reflecting" in st.boundaries[0].condition


def test_feller_classification_of_infinite_ends() -> None:
    # Cubic drift in: oo is an entrance boundary; cubic drift out: exit (explosion).
    # (Karlin-Taylor 15.6: N finite for -x^3, Sigma finite for +x^3; OU: natural.)
    st = stationary_density(SDE([x], [-(x**3)], 1))
    assert [b.kind for b in st.boundaries] == ["entrance", "entrance"]
    from symsde.boundaries import classify_boundaries

    lo, hi = classify_boundaries(-(x**4) / 2, sp.Integer(1), x, sp.Interval(-sp.oo, sp.oo))
    assert (lo.kind, hi.kind) == ("exit", "exit")


GBM_MU = sp.Symbol("mu", real=True)


@pytest.mark.parametrize("state", [x, sp.Symbol("x", positive=True)])
def test_gbm_message_is_about_the_process(state: sp.Symbol) -> None:
    with pytest.raises(NotNormalizableError) as info:
        stationary_density(SDE([state], [GBM_MU * state], [[sigma * state]]))
    msg = str(info.value)
    assert msg.startswith("geometric Brownian motion:")
    assert "for any value of the parameters" in msg
    assert "declare" not in msg


def test_cir_on_the_whole_line_names_the_missing_half_line() -> None:
    with pytest.raises(NoStationaryDensityError) as info:
        stationary_density(SDE([x], [1 - x], [[sp.sqrt(x)]], sp.Interval(-sp.oo, sp.oo)))
    assert "D = x is negative" in str(info.value)
    assert "(0, oo)" in str(info.value)


def test_ambiguous_domain_asks_for_domain_keyword() -> None:
    # D = x^2 (1 - x^2)... positive on (-1, 0) and (0, 1): two candidate state spaces.
    sde = SDE([x], [-x], [[x * sp.sqrt(1 - x**2)]])
    with pytest.raises(InputError, match="domain="):
        _ = sde.domain


def test_wrong_normaliser_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # The check before returning: a closed form that disagrees with quadrature is refused.
    import symsde.state_space as stmod  # the state-space checks (split from stationary.py)

    monkeypatch.setattr(stmod, "_beta_gamma_normalizer", lambda U, x, iv: -sp.pi)
    with pytest.raises(NotNormalizableError, match="not a finite positive number"):
        stationary_density(SDE([x], [(1 - 2 * x) / 8], [[sp.sqrt(x * (1 - x))]]))
    monkeypatch.setattr(stmod, "_beta_gamma_normalizer", lambda U, x, iv: sp.Integer(7))
    with pytest.raises(NotNormalizableError, match="quadrature"):
        stationary_density(SDE([x], [(1 - 2 * x) / 8], [[sp.sqrt(x * (1 - x))]]))


def test_non_stationary_candidate_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import symsde.stationary as stmod

    monkeypatch.setattr(stmod, "_zero_flux_1d", lambda sde: x**2 / 2)  # true U is x**2
    with pytest.raises(NoStationaryDensityError, match="Fokker-Planck"):
        stationary_density(SDE([x], [-x], 1))


# -- Gibbs detection independent of SymPy's form ----------
def test_gibbs_log_cosh_with_sigma_sqrt2() -> None:
    # L = 2 log cosh(x/2), sigma = sqrt(2): p ∝ exp(-2L/sigma^2) = exp(-L), T = sigma^2/2 = 1.
    st = stationary_density(SDE.langevin(2 * sp.log(sp.cosh(x / 2)), [x], sp.sqrt(2)))
    assert st.is_gibbs is True
    assert st.temperature == 1
    assert st.gibbs_witness["max_error"] < 1e-30
    assert agrees_at(st.density, sp.cosh(x / 2) ** -2 / 4, x, [-2, -sp.Rational(1, 2), 1, 3])


def test_gibbs_false_has_a_witness() -> None:
    st = stationary_density(SDE.sgd(DOUBLE_WELL, [x], sp.Rational(1, 2), sp.sqrt(1 + x**2)))
    assert st.is_gibbs is False
    w = st.gibbs_witness
    p1, p2 = w["points"]
    L, U = st.sde.loss, st.potential
    r = [sp.N((sp.diff(L, x) / sp.diff(U, x)).subs(x, p[0]), 20) for p in (p1, p2)]
    assert abs(r[0] - r[1]) > 1e-3


def test_numeric_normaliser_resolves_a_far_sharp_peak() -> None:
    # Found by the pre-return quadrature check: the peak of exp(-8 L) sits at x ~ -6;
    # reference by mpmath with break points around it (40 digits).
    L = x**4 / 4 + 2 * x**3 - x**2 / 2
    st = stationary_density(SDE.langevin(L, [x], sp.Rational(1, 2)), integration_seconds=1)
    f = sp.lambdify([x], sp.exp(-8 * L), modules="mpmath")
    with mpmath.workdps(40):
        ref = mpmath.quad(f, [-INF, -12, -8, -6.5, -6, -5.5, -4, -2, 0, 1, INF])
    assert close(st.normalizer, ref, 1e-30)
    assert not close(st.normalizer * (1 + sp.Float(1e-6)), ref, 1e-30)


# -- gaussian_law (moved from the CLI's _gaussian_law, issue 11) ----------------------------------
def test_gaussian_law_is_the_lyapunov_solution() -> None:
    """Mean -A^-1 c and the covariance solving A S + S A^T + G G^T = 0, both from SciPy."""
    linalg = pytest.importorskip("scipy.linalg")
    x, y = sp.symbols("x y", real=True)
    A = np.array([[-2.0, 1.0], [-1.0, -3.0]])
    c = np.array([0.0, 1.0])
    G = np.diag([1.0, 2.0])
    st = stationary_density(SDE([x, y], [-2 * x + y, -x - 3 * y + 1], [[1, 0], [0, 2]]))
    law = st.gaussian_law()
    assert law is not None
    np.testing.assert_allclose(law[0], -np.linalg.solve(A, c), rtol=1e-12)
    np.testing.assert_allclose(law[1], linalg.solve_continuous_lyapunov(A, -G @ G.T),
                               rtol=1e-12)


def test_gaussian_law_of_a_quadratic_potential_and_none_otherwise() -> None:
    x, y = sp.symbols("x y", real=True)
    # dX = -grad U dt + sqrt(2) dB with U = (x - 1)^2 + x y + y^2: p ~ exp(-U), Hessian
    # [[2, 1], [1, 2]], covariance its inverse [[2, -1], [-1, 2]] / 3, mean where grad U = 0
    U = (x - 1) ** 2 + x * y + y**2
    st = stationary_density(SDE.langevin(U, [x, y], sp.sqrt(2)))
    mean, cov = st.gaussian_law()
    np.testing.assert_allclose(mean, [4 / 3, -2 / 3], rtol=1e-12)
    np.testing.assert_allclose(cov, [[2 / 3, -1 / 3], [-1 / 3, 2 / 3]], rtol=1e-12)
    quartic = stationary_density(SDE([x, y], [-x**3, -y**3], [[1, 0], [0, 1]]))
    assert quartic.gaussian_law() is None
