"""Coefficients refined on the state space (issue 15, class 8): a kink outside the interval
is no kink of the process, so |1 - x| on (1, oo) is x - 1 and the density is derived."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp

from symsde import SDE, stationary_density
from symsde.cli import main
from symsde.errors import NoStationaryDensityError, NotNormalizableError
from symsde.state_space import _kinks, refine_on_interval

x = sp.Symbol("x", real=True)
oo = sp.oo
RIGHT = sp.Interval.open(1, oo)


@pytest.mark.parametrize(("expr", "iv", "expected"), [
    (sp.Abs(1 - x), RIGHT, x - 1),
    (sp.Abs(1 - x), sp.Interval.open(-oo, 1), 1 - x),
    (sp.sign(x - 2) * x, sp.Interval.open(2, 5), x),
    (sp.sign(x - 2) * x, sp.Interval.open(0, 2), -x),
    (sp.Heaviside(x - 1) * x**2, sp.Interval(2, 3), x**2),
    (sp.Heaviside(x - 1) * x**2, sp.Interval(-3, 0), 0),
    (sp.Max(x, 2), sp.Interval(0, 1), 2),
    (sp.Min(x**2, 4), sp.Interval.open(3, oo), 4),
    (sp.Piecewise((-x, x < 0), (x**3, True)), sp.Interval.open(0, 1), x**3),
    (sp.Piecewise((-x, x < 0), (x**3, True)), sp.Interval.open(-oo, -1), -x),
    (sp.exp(-sp.Abs(x - 3)) * sp.Abs(x), sp.Interval.open(0, 1), x * sp.exp(x - 3)),
])
def test_refine_on_interval(expr: sp.Expr, iv: sp.Interval, expected: sp.Expr) -> None:
    got = refine_on_interval(expr, x, iv)
    assert sp.simplify(got - expected) == 0
    assert not got.has(sp.Abs, sp.sign, sp.Heaviside, sp.Piecewise, sp.Max, sp.Min)
    # the refined form agrees with the original at points inside (checked numerically)
    for t in (sp.Rational(1, 3), sp.Rational(2, 3)):
        pt = (iv.start + t if iv.end is oo else iv.end - 1 + t if iv.start is -oo
              else iv.start + t * (iv.end - iv.start))
        assert sp.N(expr.subs(x, pt) - got.subs(x, pt)) == 0


@pytest.mark.parametrize("expr", [sp.Abs(x), sp.sign(x) * x, sp.Piecewise((x, x < 0), (1, True)),
                                  sp.Max(x, 0)])
def test_a_kink_inside_the_interval_is_kept(expr: sp.Expr) -> None:
    # Power: refining across the kink would be a wrong claim about half the interval.
    got = refine_on_interval(expr, x, sp.Interval(-1, 1))
    assert sp.N(got.subs(x, sp.Rational(-1, 2)) - expr.subs(x, sp.Rational(-1, 2))) == 0
    assert sp.N(got.subs(x, sp.Rational(1, 2)) - expr.subs(x, sp.Rational(1, 2))) == 0


def test_kinks_are_listed() -> None:
    iv = sp.Interval.open(0, 10)
    assert _kinks([sp.Abs(x - 2) + sp.sign(x - 7), sp.Piecewise((x, x < 5), (0, True))],
                  x, iv) == {2, 5, 7}
    assert _kinks([sp.Abs(x + 1)], x, iv) == set()


def _density(drift: sp.Expr, iv: sp.Interval) -> sp.Expr:
    st = stationary_density(SDE([x], [drift], 1, domain=iv))
    assert st.domain == iv
    return st.density


def test_abs_drift_on_the_side_of_its_kink() -> None:
    # dX = -|1 - x| dt + dW on (1, oo) is an OU process about 1 reflected at 1: the
    # density is exp(-(x - 1)^2) / (sqrt(pi)/2), the normaliser computed here by hand.
    p = _density(-sp.Abs(1 - x), RIGHT)
    expected = 2 / sp.sqrt(sp.pi) * sp.exp(-(x - 1) ** 2)
    assert sp.simplify(p - expected) == 0
    # on the other side the same drift is 1 - x (the exact constant, no float)
    p = _density(sp.Abs(1 - x), sp.Interval.open(-oo, 1))
    assert sp.simplify(p - expected) == 0 and not p.atoms(sp.Float)
    # a sign that is constant on the state space
    p = _density(-sp.sign(x - 2), sp.Interval.open(2, oo))
    assert sp.simplify(p - 2 * sp.exp(-2 * (x - 2))) == 0


@pytest.mark.parametrize(("drift", "iv", "kink"), [
    (-sp.Abs(x), sp.Interval.open(-1, 1), 0),
    (-sp.sign(x - 1) * sp.Abs(x), sp.Interval.open(0, oo), 1),
    (-sp.Abs(x - 2), sp.Interval.open(0, oo), 2),
])
def test_a_kink_inside_the_state_space(drift: sp.Expr, iv: sp.Interval, kink: int) -> None:
    # Checked independently with mpmath: total mass 1 (quadrature split at the kink) and
    # p(b)/p(a) = exp(int_a^b 2 mu) (zero flux with D = 1) across the kink.
    p = _density(drift, iv)
    f = sp.lambdify(x, p, "mpmath")
    mu = sp.lambdify(x, drift, "mpmath")
    with mpmath.workdps(30):
        ends = [mpmath.mpf(sp.N(e, 30)) if e.is_finite else mpmath.inf * sp.sign(e)
                for e in (iv.start, iv.end)]
        mass = mpmath.quad(f, [ends[0], kink, ends[1]])
        assert abs(mass - 1) < mpmath.mpf("1e-12")
        a, b = mpmath.mpf(kink) - mpmath.mpf("0.4"), mpmath.mpf(kink) + mpmath.mpf("0.5")
        a = max(a, ends[0] + mpmath.mpf("0.01"))
        ratio = mpmath.exp(mpmath.quad(lambda s: 2 * mu(s), [a, kink, b]))
        assert abs(f(b) / f(a) - ratio) < mpmath.mpf("1e-15") * ratio


def test_what_still_cannot_be_done_says_so() -> None:
    # The drift pushes mass to infinity: a mathematical answer, not a SymPy exception.
    with pytest.raises(NotNormalizableError, match="does not decay as x -> \\+oo"):
        stationary_density(SDE([x], [sp.Abs(1 - x)], 1, domain=RIGHT))
    with pytest.raises(NotNormalizableError, match="does not decay as x -> \\+oo"):
        stationary_density(SDE([x], [sp.Abs(1 - x)], 1))  # |1 - x| >= 0 on the whole line
    # A coefficient that is not real on the state space is named, with the interval.
    with pytest.raises(NoStationaryDensityError,
                       match="real only for x in \\[0, oo\\): give that state space"):
        stationary_density(SDE([x], [-sp.sqrt(x)], 1, domain=sp.Interval(-1, 1)))


@pytest.mark.parametrize("drift", [-sp.sign(x - 1), -sp.Abs(x) * sp.sign(x - 1) - x])
def test_kinks_on_the_whole_line(drift: sp.Expr) -> None:
    # SymPy integrates these once written piece by piece; mass 1 by independent quadrature
    # split at the kinks, and the zero-flux ratio p(b)/p(a) = exp(int_a^b 2 mu) across them.
    p = stationary_density(SDE([x], [drift], 1)).density
    f = sp.lambdify(x, p, "mpmath")
    mu = sp.lambdify(x, drift, "mpmath")
    with mpmath.workdps(30):
        assert abs(mpmath.quad(f, [-mpmath.inf, 0, 1, mpmath.inf]) - 1) < mpmath.mpf("1e-12")
        a, b = mpmath.mpf("-0.5"), mpmath.mpf("1.7")
        ratio = mpmath.exp(mpmath.quad(lambda s: 2 * mu(s), [a, 0, 1, b]))
        assert abs(f(b) / f(a) - ratio) < mpmath.mpf("1e-15") * ratio


def test_cli_abs_drift_with_a_domain(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["stationary", "--state", "x", "--drift", "[-abs(1 - x)]", "--diffusion", "1",
                 "--domain", "(1, oo)", "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and err == "", err
    assert '"method": "zero-flux-1d"' in out
