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


def test_nonclosed_multidimensional_is_declined() -> None:
    with pytest.raises(MathematicalError, match="one-dimensional SDEs only"):
        moment_equations(SDE([x, y], [-(x**3), -y], 1), [0, 0], t)
