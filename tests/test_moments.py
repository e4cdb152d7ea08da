"""Tests of :func:`symsde.moment_equations` beyond the peer catalogue: the ODEs are
Dynkin's formula, closed forms solve them, and bad input is refused."""

from __future__ import annotations

import pytest
import sympy as sp

from symsde import SDE, moment_equations
from symsde.errors import InputError, MathematicalError

x, y, x0, y0 = sp.symbols("x y x0 y0", real=True)
t = sp.Symbol("t", positive=True)
th, s = sp.symbols("theta sigma", positive=True)


def test_closed_form_solves_its_odes_and_starts_at_x0() -> None:
    sde = SDE([x, y], [-x + y, -2 * y], [[1, 0], [1, 1]])
    me = moment_equations(sde, [x0, y0], t)
    assert me.closure == "exact"
    m, P = me.mean, me.covariance
    second = {(1, 0): m[0], (0, 1): m[1], (2, 0): P[0, 0] + m[0] ** 2,
              (1, 1): P[0, 1] + m[0] * m[1], (0, 2): P[1, 1] + m[1] ** 2}
    rep = {me.moments[a]: v for a, v in second.items()}
    for eq in me.odes:
        a = next(a for a, f in me.moments.items() if f == eq.lhs.args[0])
        assert sp.simplify(sp.diff(second[a], t) - eq.rhs.subs(rep)) == 0
    assert m.subs(t, 0) == sp.Matrix([x0, y0])
    assert P.subs(t, 0).applyfunc(sp.simplify) == sp.zeros(2, 2)


def test_odes_are_dynkins_formula() -> None:
    # d/dt E X^3 = E[A x^3] with A x^3 = 3x^2(-x) + 3x (by hand) for dX = -X dt + dW.
    me = moment_equations(SDE([x], [-x], 1), [x0], t, order=3)
    m1, m3 = me.moments[(1,)], me.moments[(3,)]
    eq = next(e for e in me.odes if e.lhs.args[0] == m3)
    assert sp.expand(eq.rhs - (-3 * m3 + 3 * m1)) == 0
    # A wrong generator (forgetting the Ito term) must not match.
    assert sp.expand(eq.rhs - (-3 * m3)) != 0


def test_cumulant_closure_of_order_three() -> None:
    # kappa_4 = 0: E X^4 = m4 from m1..m3 by hand:
    # E X^4 = 4 m1 m3 + 3 m2^2 - 12 m1^2 m2 + 6 m1^4 (cumulant kappa_4 = 0).
    me = moment_equations(SDE([x], [-(x**3)], 1), [x0], t, order=3)
    m1, m2, m3 = (me.moments[(i,)] for i in (1, 2, 3))
    # A x^2 = -2 x^4 + 1, so d m2/dt = -2 E X^4 + 1.
    eq = next(e for e in me.odes if e.lhs.args[0] == m2)
    mu4 = 4 * m1 * m3 + 3 * m2**2 - 12 * m1**2 * m2 + 6 * m1**4
    assert sp.expand(eq.rhs - (-2 * mu4 + 1)) == 0
    assert sp.expand(eq.rhs - (-2 * (mu4 + m1) + 1)) != 0
    assert "cumulants of order > 3" in me.closure


@pytest.mark.parametrize("kwargs, phrase", [({"order": 1}, "order must be"),
                                             ({"time": "t"}, "time must be")])
def test_bad_input(kwargs: dict, phrase: str) -> None:
    args = {"sde": SDE([x], [-x], 1), "x0": [0], "time": t, **kwargs}
    with pytest.raises(InputError, match=phrase):
        moment_equations(**args)


def test_time_budget_keeps_the_exact_odes() -> None:
    # D of degree 2 in 2-D: the closed form needs a Jordan form SymPy finds slowly.
    me = moment_equations(SDE([x, y], [-x + y, -2 * y], [[1, 0], [x, 1]]), [x0, y0], t,
                          seconds=1)
    assert me.mean is None and "longer than 1 s" in me.closure
    assert len(me.odes) == 5


# --- n-D closure, checked against moments computed independently here -----------------
# The expected moments come from generating functions (not from the moment-cumulant
# recursion symsde uses): a Gaussian's moments are derivatives of its moment generating
# function exp(u.mu + u'Cu/2); with cumulants above order n neglected, the moments are the
# Taylor coefficients of exp(K) where K is log M truncated at total degree n.

u, v = sp.symbols("u v")


def _m(me, a):  # the moment function m_a(t) of a multi-index
    return me.moments[a]


def _rhs(me, a):
    return next(e.rhs for e in me.odes if e.lhs.args[0] == _m(me, a))


def _taylor_moment(F, a):
    """E X^a[0] Y^a[1] as the mixed derivative of a generating function at 0."""
    return sp.expand(sp.diff(F, u, a[0], v, a[1]).subs({u: 0, v: 0}))


def _mul(p, q, n):
    """Product of two series {(i, j): coefficient} in u, v, truncated at total degree n."""
    out: dict = {}
    for (i, j), c in p.items():
        for (k, m), e in q.items():
            if i + j + k + m <= n:
                out[(i + k, j + m)] = sp.expand(out.get((i + k, j + m), 0) + c * e)
    return out


def _add(p, q, scale):
    out = dict(p)
    for key, c in q.items():
        out[key] = sp.expand(out.get(key, 0) + scale * c)
    return out


def _cumulant_neglect_moment(me, n, a):
    """Moment of degree |a| > n with joint cumulants above n set to zero, by series:
    K = log M truncated at degree n, then the moment is a! times [u^a] exp(K)."""
    k = sum(a)
    Z = {(i, j): _m(me, (i, j)) / (sp.factorial(i) * sp.factorial(j))
         for i in range(n + 1) for j in range(n + 1 - i) if i + j > 0}
    K: dict = {}
    power = {(0, 0): sp.Integer(1)}
    for r in range(1, n + 1):  # log(1 + Z) = sum (-1)^(r+1) Z^r / r
        power = _mul(power, Z, n)
        K = _add(K, power, sp.Rational((-1) ** (r + 1), r))
    expK = {(0, 0): sp.Integer(1)}
    power = {(0, 0): sp.Integer(1)}
    for r in range(1, k + 1):  # exp(K) = sum K^r / r!
        power = _mul(power, K, k)
        expK = _add(expK, power, 1 / sp.factorial(r))
    return sp.expand(expK.get(tuple(a), 0) * sp.factorial(a[0]) * sp.factorial(a[1]))


def test_gaussian_closure_in_two_dimensions_by_hand() -> None:
    # dX = (-X^3 + Y) dt + dW1, dY = (X^2 - Y) dt + sigma dW2. Dynkin by hand:
    # A x = -x^3 + y, A y = x^2 - y, A x^2 = -2x^4 + 2xy + 1,
    # A xy = -x^3 y + y^2 + x^3 - xy, A y^2 = 2x^2 y - 2y^2 + sigma^2.
    me = moment_equations(SDE([x, y], [-(x**3) + y, x**2 - y], [[1, 0], [0, s]]),
                          [x0, y0], t, order=2)
    assert "cumulants of order > 2" in me.closure and "Gaussian" in me.closure
    assert me.mean is None and me.covariance is None
    m10, m01, m20, m11, m02 = (_m(me, a) for a in [(1, 0), (0, 1), (2, 0), (1, 1), (0, 2)])
    cxx, cxy, cyy = m20 - m10**2, m11 - m10 * m01, m02 - m01**2
    mgf = sp.exp(u * m10 + v * m01 + (u**2 * cxx + 2 * u * v * cxy + v**2 * cyy) / 2)

    def g(a):
        return _taylor_moment(mgf, a)

    expected = {(1, 0): -g((3, 0)) + m01, (0, 1): m20 - m01,
                (2, 0): -2 * g((4, 0)) + 2 * m11 + 1,
                (1, 1): -g((3, 1)) + m02 + g((3, 0)) - m11,
                (0, 2): 2 * g((2, 1)) - 2 * m02 + s**2}
    assert len(me.odes) == 5
    for a, rhs in expected.items():
        assert sp.expand(_rhs(me, a) - rhs) == 0, a
    assert me.initial[(1, 1)] == x0 * y0
    # Power: a closure that drops the mean's contribution (central-moment truncation at
    # zero mean) is a different system and must not match.
    wrong = -2 * (3 * cxx**2) + 2 * m11 + 1
    assert sp.expand(_rhs(me, (2, 0)) - wrong) != 0


def test_cumulant_neglect_of_order_three_in_two_dimensions() -> None:
    # Coupled cubic drift with multiplicative noise on Y; expected ODEs: the generator
    # computed here from its definition, higher moments closed through log/exp series.
    drift = [-(x**3) + y, -y]
    G = sp.Matrix([[1, 0], [0, x]])
    me = moment_equations(SDE([x, y], drift, G), [x0, y0], t, order=3)
    assert "cumulants of order > 3" in me.closure and "Gaussian" not in me.closure
    D = G * G.T
    n = 3
    checked = 0
    for a in me.moments:
        mono = x ** a[0] * y ** a[1]
        gen = sum(drift[i] * sp.diff(mono, z) for i, z in enumerate((x, y)))
        gen += sp.Rational(1, 2) * sum(D[i, j] * sp.diff(mono, zi, zj)
                                       for i, zi in enumerate((x, y))
                                       for j, zj in enumerate((x, y)))
        expected = 0
        for (i, j), c in sp.Poly(sp.expand(gen), x, y).terms():
            if i + j == 0:
                expected += c
            elif i + j <= n:
                expected += c * _m(me, (i, j))
            else:
                expected += c * _cumulant_neglect_moment(me, n, (i, j))
        assert sp.expand(_rhs(me, a) - expected) == 0, a
        checked += 1
    assert checked == 9  # monomials of degree 1..3 in two variables


def test_closure_reduces_to_the_one_dimensional_one() -> None:
    # A decoupled second variable does not change the first one's closed equations.
    one = moment_equations(SDE([x], [-(x**3)], 1), [x0], t, order=3)
    two = moment_equations(SDE([x, y], [-(x**3), -y], [[1, 0], [0, 1]]), [x0, y0], t,
                           order=3)
    for k in (1, 2, 3):
        lhs = _rhs(two, (k, 0)).subs({_m(two, (j, 0)): _m(one, (j,)) for j in (1, 2, 3)})
        assert sp.expand(lhs - _rhs(one, (k,))) == 0


def test_closed_linear_system_of_order_three_is_exact() -> None:
    # Affine drift, constant noise: the generator keeps degrees, so no closure at all.
    me = moment_equations(SDE([x, y], [-x + y, -2 * y], [[1, 0], [1, 1]]), [x0, y0], t,
                          order=3)
    assert me.closure == "exact"
    # A x^2 y = 2xy(-x + y) + x^2(-2y) + (1/2)(2y D11 + 2*2x D12) with D = [[1,1],[1,2]]
    #         = -4x^2 y + 2x y^2 + y + 2x.
    expected = (-4 * _m(me, (2, 1)) + 2 * _m(me, (1, 2)) + _m(me, (0, 1))
                + 2 * _m(me, (1, 0)))
    assert sp.expand(_rhs(me, (2, 1)) - expected) == 0
    assert sp.expand(_rhs(me, (2, 1)) - expected - _m(me, (1, 0))) != 0


def test_closure_degree_is_bounded() -> None:
    with pytest.raises(MathematicalError, match="Lower order="):
        moment_equations(SDE([x, y], [-(x**9), -y], 1), [0, 0], t, order=5)
