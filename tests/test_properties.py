"""Property tests: for random polynomial losses the stationary density is stationary.

Every example checks, by recomputing the operators of :class:`symsde.SDE` on the returned
density, that the probability current vanishes (for the zero-current methods) and that the
Fokker-Planck residual vanishes (for every method). Runs are derandomised and use no example
database, so the suite is reproducible.
"""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symsde import SDE, StationaryDensity, stationary_density
from symsde.errors import NoStationaryDensityError, NotNormalizableError

x, y = sp.symbols("x y", real=True)
sigma = sp.Symbol("sigma", positive=True)


def profile(n: int) -> settings:
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


# Leading coefficients are positive; the others are small integers or halves.
lead = st.sampled_from([sp.Rational(1, 4), sp.Rational(1, 2), sp.Integer(1), sp.Integer(2)])
coef = st.integers(-4, 4).map(lambda k: sp.Rational(k, 2))


@st.composite
def loss_1d(draw: st.DrawFn) -> sp.Expr:
    degree = draw(st.sampled_from([2, 4, 6]))
    lower = [draw(coef) * x**k for k in range(1, degree)]
    return draw(lead) * x**degree + sp.Add(*lower)


@st.composite
def loss_2d(draw: st.DrawFn) -> sp.Expr:
    top = draw(lead) * x**4 + draw(lead) * y**4
    lower = [draw(coef) * x**i * y**j for i in range(4) for j in range(4) if 0 < i + j <= 3]
    return top + sp.Add(*lower)


def zero_current(dens: StationaryDensity) -> bool:
    u = dens.unnormalized
    return all(sp.simplify(sp.expand(J / u)) == 0 for J in dens.sde.current(u))


def zero_fokker_planck(dens: StationaryDensity) -> bool:
    u = dens.unnormalized
    return sp.simplify(sp.expand(dens.sde.fokker_planck(u) / u)) == 0


def test_checks_reject_a_density_at_the_wrong_temperature() -> None:
    sde = SDE.langevin(x**4 / 4 - x, [x], sigma)
    wrong = StationaryDensity(sde=sde, potential=sde.loss / sigma**2, normalizer=sp.S.One,
                              method="zero-flux-1d")
    assert not zero_current(wrong)
    assert not zero_fokker_planck(wrong)


@profile(15)
@given(L=loss_1d())
def test_langevin_1d_zero_current_and_gibbs(L: sp.Expr) -> None:
    dens = stationary_density(SDE.langevin(L, [x], sigma), normalize=False)
    assert dens.method == "zero-flux-1d"
    assert zero_current(dens)
    assert zero_fokker_planck(dens)
    assert dens.is_gibbs is True
    assert sp.simplify(dens.temperature - sigma**2 / 2) == 0
    assert sp.simplify(sp.diff(dens.potential - 2 * L / sigma**2, x)) == 0


@profile(5)
@given(L=loss_1d())
def test_langevin_1d_normalised_density(L: sp.Expr) -> None:
    dens = stationary_density(SDE.langevin(L, [x], 1), integration_seconds=0.3)
    assert zero_current(dens)
    assert zero_fokker_planck(dens)
    # The normalised density integrates to one (mpmath, hand-written integrand exp(-2L)/Z).
    fn = sp.lambdify([x], sp.exp(-2 * L), modules="mpmath")
    with mpmath.workdps(25):
        Z = mpmath.mpf(str(sp.N(dens.normalizer, 30)))
        mass = mpmath.quad(fn, [-mpmath.inf, -1, 0, 1, mpmath.inf]) / Z
        assert abs(mass - 1) < 1e-15


@profile(10)
@given(L=loss_2d())
def test_langevin_2d_zero_current(L: sp.Expr) -> None:
    # The quartic terms confine, so the normalisability check must pass; with a free sigma
    # and cross terms Z stays an unevaluated integral.
    dens = stationary_density(SDE.langevin(L, [x, y], sigma), integration_seconds=0.3)
    assert dens.method == "potential"
    assert zero_current(dens)
    assert zero_fokker_planck(dens)
    assert dens.is_gibbs is True


@profile(10)
@given(L=loss_1d(), c0=st.integers(1, 3), c2=st.integers(0, 2))
def test_state_dependent_noise_1d_zero_current(L: sp.Expr, c0: int, c2: int) -> None:
    sde = SDE([x], [-sp.diff(L, x)], [[sp.sqrt(c0 + c2 * x**2)]])
    dens = stationary_density(sde, normalize=False)
    assert dens.method == "zero-flux-1d"
    assert zero_current(dens)
    assert zero_fokker_planck(dens)


small = st.integers(-2, 2)


@profile(10)
@given(m=st.lists(small, min_size=4, max_size=4), k=small,
       n=st.lists(small, min_size=4, max_size=4))
def test_stable_linear_sde(m: list[int], k: int, n: list[int]) -> None:
    # A = -(M M^T + I) + K (K skew) has eigenvalues with negative real part;
    # D = N N^T + I is positive definite.
    M = sp.Matrix(2, 2, m)
    N = sp.Matrix(2, 2, n)
    A = -(M * M.T + sp.eye(2)) + sp.Matrix([[0, k], [-k, 0]])
    D = N * N.T + sp.eye(2)
    sde = SDE.from_diffusion_matrix([x, y], A * sp.Matrix([x, y]), D)
    dens = stationary_density(sde)
    assert zero_fokker_planck(dens)
    if dens.method == "potential":
        assert zero_current(dens)
    else:
        assert dens.method == "gaussian-lyapunov"
        assert (A * dens.covariance + dens.covariance * A.T + D).applyfunc(sp.simplify) == \
            sp.zeros(2, 2)


@profile(10)
@given(L=loss_1d(), flip=st.booleans())
def test_non_confining_losses_are_rejected(L: sp.Expr, flip: bool) -> None:
    # -L has a negative leading coefficient; L + x^7 an odd leading term: neither confines.
    bad = -L if flip else L + x**7
    with pytest.raises(NotNormalizableError):
        stationary_density(SDE.langevin(bad, [x], sigma))


@profile(10)
@given(c=st.integers(1, 3), k=st.integers(1, 3))
def test_non_gradient_nonlinear_drift_has_no_method(c: int, k: int) -> None:
    drift = [-c * x**3 - k * y, k * x - y**3]
    with pytest.raises(NoStationaryDensityError):
        stationary_density(SDE([x, y], drift, 1))
