"""Tests of :func:`symsde.transition_density`: the checks reject wrong densities.

The right answers are in the peer catalogue (tests/test_peer_catalogue.py), compared with
SciPy; here each check is shown to fail on a wrong claim, and declined cases give clear
errors.
"""

from __future__ import annotations

import pytest
import sympy as sp

import symsde.transition as tr
from symsde import SDE, transition_density
from symsde.errors import InputError, MathematicalError

x, x0 = sp.symbols("x x0", real=True)
xp, x0p = sp.symbols("x x0", positive=True)
t = sp.Symbol("t", positive=True)
mu, s, k, th = sp.symbols("mu sigma kappa theta", positive=True)


def test_heat_kernel_and_its_checks() -> None:
    td = transition_density(SDE([x], [0], 1), [x0], t)
    assert sp.simplify(td.density - sp.exp(-(x - x0) ** 2 / (2 * t))
                       / sp.sqrt(2 * sp.pi * t)) == 0
    assert td.family == "gaussian"
    assert td.checks["fokker_planck"].ok
    assert "covariance -> 0" in td.checks["initial"]


def test_wrong_lognormal_fails_fokker_planck(monkeypatch: pytest.MonkeyPatch) -> None:
    # Ito/Stratonovich slip: drift mu t instead of (mu - sigma^2/2) t.
    def wrong(sde, start, tt, a, b):  # type: ignore[no-untyped-def]
        p = sp.exp(-(sp.log(xp / start[0]) - a * tt) ** 2 / (2 * b**2 * tt)) / (
            xp * sp.sqrt(2 * sp.pi * b**2 * tt))
        return tr.TransitionDensity(sde, start, tt, p, "log-normal", sp.Interval.open(0, sp.oo))

    monkeypatch.setattr(tr, "_lognormal", wrong)
    with pytest.raises(MathematicalError, match="Fokker-Planck"):
        transition_density(SDE([xp], [mu * xp], [[s * xp]]), [x0p], t)


def test_wrong_start_fails_the_initial_check(monkeypatch: pytest.MonkeyPatch) -> None:
    # A stationary-looking Gaussian centred at 2*x0 solves FP of BM but starts wrongly.
    def wrong(sde, start, tt):  # type: ignore[no-untyped-def]
        m = sp.Matrix([2 * start[0]])
        P = sp.Matrix([[tt]])
        p = sp.exp(-(x - m[0]) ** 2 / (2 * tt)) / sp.sqrt(2 * sp.pi * tt)
        return tr.TransitionDensity(sde, start, tt, p, "gaussian", sp.S.Reals, m, P)

    monkeypatch.setattr(tr, "_gaussian", wrong)
    with pytest.raises(MathematicalError, match="does not start at x0"):
        transition_density(SDE([x], [0], 1), [x0], t)


def test_wrong_lognormal_start_fails_the_quadrature_check(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Density of 2 * GBM: solves the same FP equation (GBM is linear) but starts at 2 x0.
    real = tr._lognormal

    def wrong(sde, start, tt, a, b):  # type: ignore[no-untyped-def]
        return real(sde, 2 * start, tt, a, b)

    monkeypatch.setattr(tr, "_lognormal", lambda sde, st, tt, a, b: tr.TransitionDensity(
        sde, st, tt, wrong(sde, st, tt, a, b).density, "log-normal",
        sp.Interval.open(0, sp.oo)))
    with pytest.raises(MathematicalError, match="does not start at delta"):
        transition_density(SDE([xp], [mu * xp], [[s * xp]]), [x0p], t)


@pytest.mark.slow
def test_wrong_cir_order_fails_the_bessel_check(monkeypatch: pytest.MonkeyPatch) -> None:
    real = tr._noncentral_chi2
    monkeypatch.setattr(tr, "_noncentral_chi2",
                        lambda sde, st, tt, a, kk, g: real(sde, st, tt, a + g / 2, kk, g))
    with pytest.raises(MathematicalError, match="Fokker-Planck"):
        transition_density(SDE([xp], [k * (th - xp)], [[s * sp.sqrt(xp)]]), [x0p], t)


@pytest.mark.parametrize("sde, phrase", [
    (SDE([x], [-sp.sin(x)], 1), "no closed-form transition density"),
    (SDE([x, sp.Symbol("y", real=True)], [-x, 0], [[1], [0]]), "covariance of X_t is singular"),
])
def test_declined(sde: SDE, phrase: str) -> None:
    with pytest.raises(MathematicalError, match=phrase):
        transition_density(sde, [0] * sde.dim, t)


def test_bad_input() -> None:
    with pytest.raises(InputError, match="x0 has 2 entries"):
        transition_density(SDE([x], [0], 1), [1, 2], t)
    with pytest.raises(InputError, match="time must be a SymPy Symbol"):
        transition_density(SDE([x], [0], 1), [1], "t")  # type: ignore[arg-type]


def test_a_state_named_like_mpmath_code_gives_the_same_density() -> None:
    """The mpmath witnesses of the density (Fokker-Planck, initial condition) rename the
    state before lambdifying: a state named ``mpf`` was called as mpmath.mpf."""
    t = sp.Symbol("t", positive=True)
    dens = []
    for name in ("x", "mpf"):
        s = sp.Symbol(name, positive=True)
        td = transition_density(SDE([s], [s / 3], s / 2, domain=sp.Interval.open(0, sp.oo)),
                                x0=1, time=t)
        assert td.checks["fokker_planck"].ok and "mass 1" in td.checks["initial"]
        dens.append(td.density.subs(s, sp.Rational(3, 2)).subs(t, 1))
    assert sp.simplify(dens[0] - dens[1]) == 0
