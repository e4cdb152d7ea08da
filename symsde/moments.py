"""Moments of an Ito SDE as functions of time.

For a polynomial :math:`f` Dynkin's formula gives
:math:`\\tfrac{d}{dt}\\mathbb{E} f(X_t) = \\mathbb{E}\\,(\\mathcal{A} f)(X_t)` with the
generator :math:`\\mathcal{A}` (Oksendal, *Stochastic Differential Equations*, thm. 7.4.1).
When the drift is affine and :math:`D = G G^\\top` a polynomial of degree at most two in the
state, :math:`\\mathcal{A}` maps polynomials of degree :math:`\\le k` into themselves, so the
moments up to any order solve a *closed* linear system :math:`y' = K y`, solved here by the
matrix exponential :math:`y(t) = e^{K t} y(0)`. This covers Ornstein-Uhlenbeck processes in
any dimension, geometric Brownian motion, CIR and Jacobi. Otherwise (polynomial drift and
:math:`D` in any dimension) the ODEs of the moments up to ``order`` involve higher moments
and are closed by setting the joint cumulants above ``order`` to zero (``order = 2``:
Gaussian closure), which is an approximation and is stated in ``closure``.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations_with_replacement, product
from math import comb
from typing import Any

import sympy as sp

from symsde._timeout import time_limit
from symsde.errors import InputError, MathematicalError, SymbolicTimeoutError
from symsde.inputs import front_door
from symsde.sde import SDE

__all__ = ["CLOSURE_TEXT", "MomentEquations", "moment_equations"]

#: What ``MomentEquations.closure`` says when the system is not closed. Cumulant neglect is
#: Whittle's closure (P. Whittle, "On the use of the normal approximation in the treatment
#: of stochastic processes", J. R. Stat. Soc. B 19 (1957) 268-281); see C. Kuehn, "Moment
#: closure - a brief review", in *Control of Self-Organizing Nonlinear Systems*, Springer
#: 2016, sec. 3.
CLOSURE_TEXT = ("cumulant neglect: joint cumulants of order > {order} set to zero{gauss}; "
                "an approximation, not exact (Whittle 1957; Kuehn 2016, sec. 3)")

#: Highest total degree of a moment the closure rewrites (the recursion visits every
#: sub-multi-index, so the work grows like the number of monomials of that degree).
MAX_CLOSURE_DEGREE = 12
#: Most moment equations :func:`moment_equations` writes (monomials of degree 1..order).
MAX_MOMENTS = 500


@dataclass(frozen=True, eq=False)
class MomentEquations:
    """Moment equations of an SDE started at a point.

    Attributes
    ----------
    mean : sympy.Matrix or None
        :math:`\\mathbb{E} X_t` as a function of ``time`` (closed form), else ``None``.
    covariance : sympy.Matrix or None
        :math:`\\operatorname{Cov} X_t` as a function of ``time`` (closed form), else ``None``.
    odes : list of sympy.Eq
        :math:`\\tfrac{d}{dt} m_\\alpha(t) = \\dots` for the moments
        :math:`m_\\alpha = \\mathbb{E} X^\\alpha` up to ``order`` (after closure).
    moments : dict
        Multi-index :math:`\\alpha` (a tuple of exponents) to the function :math:`m_\\alpha(t)`.
    initial : dict
        :math:`m_\\alpha(0)` for the start :math:`X_0 = x_0`.
    closure : str
        ``"exact"`` when the system is closed, else the closure used, in words.
    """

    sde: SDE
    x0: sp.Matrix
    time: sp.Symbol
    order: int
    mean: sp.Matrix | None
    covariance: sp.Matrix | None
    odes: list[sp.Eq]
    moments: dict[tuple[int, ...], sp.Expr]
    initial: dict[tuple[int, ...], sp.Expr]
    closure: str


def _monomials(d: int, order: int) -> list[tuple[int, ...]]:
    out: list[tuple[int, ...]] = []
    for k in range(order + 1):
        for combo in combinations_with_replacement(range(d), k):
            alpha = [0] * d
            for i in combo:
                alpha[i] += 1
            out.append(tuple(alpha))
    return out


def _mono(X: tuple[sp.Symbol, ...], alpha: tuple[int, ...]) -> sp.Expr:
    return sp.Mul(*[s**a for s, a in zip(X, alpha, strict=True)])


def _is_closed_case(sde: SDE) -> bool:
    X = sde.state
    if any(e.has(*X) for e in sde.drift.jacobian(X)):
        return False
    for e in sde.diffusion_matrix:
        e = sp.expand(e)
        if not e.is_polynomial(*X) or (e.has(*X) and sp.Poly(e, *X).total_degree() > 2):
            return False
    return True


class _CumulantNeglect:
    """Joint moments of degree above ``order`` with all joint cumulants above ``order`` zero.

    The moment-cumulant recursion (Kendall & Stuart, *The Advanced Theory of Statistics*,
    vol. 1, sec. 13.12; Smith, "A recursive formulation of the old problem of obtaining
    moments from cumulants and vice versa", *Amer. Statist.* 49 (1995)): pick a variable
    :math:`i` with :math:`\\alpha_i > 0` and write :math:`\\rho = \\alpha - e_i`; then

    .. math:: \\mu_\\alpha = \\sum_{\\beta \\le \\rho}
              \\prod_j \\binom{\\rho_j}{\\beta_j}\\,
              \\kappa_{\\beta + e_i}\\, \\mu_{\\rho - \\beta}.

    Solved for :math:`\\kappa` up to degree ``order`` (from the unknown moment functions)
    and used for :math:`\\mu` above it with :math:`\\kappa_\\gamma = 0` for
    :math:`|\\gamma| > ` ``order``. In one dimension this is
    :math:`\\mu_k = \\sum_i \\binom{k-1}{i-1} \\kappa_i \\mu_{k-i}`.
    """

    def __init__(self, order: int, fn: dict[tuple[int, ...], sp.Expr]) -> None:
        self.order = order
        self.fn = fn
        self.kappa: dict[tuple[int, ...], sp.Expr] = {}
        self.mu: dict[tuple[int, ...], sp.Expr] = {}

    def _terms(self, alpha: tuple[int, ...]) -> list[tuple[int, tuple[int, ...],
                                                          tuple[int, ...]]]:
        i = next(k for k, a in enumerate(alpha) if a)
        rho = tuple(a - (k == i) for k, a in enumerate(alpha))
        out = []
        for beta in product(*[range(r + 1) for r in rho]):
            weight = 1
            for r, b in zip(rho, beta, strict=True):
                weight *= comb(r, b)
            block = tuple(b + (k == i) for k, b in enumerate(beta))
            rest = tuple(r - b for r, b in zip(rho, beta, strict=True))
            out.append((weight, block, rest))
        return out

    def cumulant(self, alpha: tuple[int, ...]) -> sp.Expr:
        if alpha not in self.kappa:
            acc = self.fn[alpha]
            for weight, block, rest in self._terms(alpha):
                if block != alpha:
                    acc -= weight * self.cumulant(block) * self.moment(rest)
            self.kappa[alpha] = sp.expand(acc)
        return self.kappa[alpha]

    def moment(self, alpha: tuple[int, ...]) -> sp.Expr:
        if sum(alpha) <= self.order:
            return self.fn[alpha]
        if alpha not in self.mu:
            self.mu[alpha] = sp.expand(sp.Add(*[
                weight * self.cumulant(block) * self.moment(rest)
                for weight, block, rest in self._terms(alpha) if sum(block) <= self.order]))
        return self.mu[alpha]


@front_door("x0", sde="sde", vectors=("x0",))
def moment_equations(sde: SDE, x0: Any, time: sp.Symbol, *, order: int = 2,
                     seconds: float = 60.0) -> MomentEquations:
    """Mean, covariance and moment ODEs of an SDE started at :math:`X_0 = x_0`.

    Parameters
    ----------
    sde : SDE
        The (Ito) SDE.
    x0 : expression, list or Matrix
        The deterministic start, one entry per state variable (numbers or symbols).
    time : sympy.Symbol
        The time variable of the answer.
    order : int
        The highest total degree of the moments in ``odes`` (at least 2).
    seconds : float
        Time budget for the closed form (matrix exponentials); after it ``mean`` and
        ``covariance`` are ``None`` and ``closure`` says so (the ``odes`` stay exact).

    Returns
    -------
    MomentEquations

    Examples
    --------
    Ornstein-Uhlenbeck :math:`dX = -\\theta X\\,dt + \\sigma\\,dB`:

    >>> import sympy as sp
    >>> x, x0 = sp.symbols("x x0", real=True)
    >>> t, th, s = sp.symbols("t theta sigma", positive=True)
    >>> me = moment_equations(SDE([x], [-th * x], s), [x0], t)
    >>> me.mean[0]
    x0*exp(-t*theta)
    >>> sp.simplify(me.covariance[0, 0] - s**2 * (1 - sp.exp(-2 * th * t)) / (2 * th))
    0
    >>> me.closure
    'exact'

    A cubic drift in two dimensions: the moment ODEs need :math:`\\mathbb{E} X^3` and
    :math:`\\mathbb{E} X^4` (beyond ``order``), closed here by the Gaussian closure (``order = 2``),
    :math:`\\mathbb{E} X^3 = 3 m_1 m_2 - 2 m_1^3`:

    >>> y = sp.Symbol("y", real=True)
    >>> me = moment_equations(SDE([x, y], [-x**3 + y, -y], [[1, 0], [0, 1]]), [0, 0], t)
    >>> me.closure.split(";")[0]
    'cumulant neglect: joint cumulants of order > 2 set to zero (Gaussian closure)'
    >>> me.odes[0].rhs
    m_01(t) + 2*m_10(t)**3 - 3*m_10(t)*m_20(t)
    """
    if not isinstance(time, sp.Symbol):
        raise InputError(f"time must be a SymPy Symbol, got {time!r}")
    if not isinstance(order, int) or order < 2:
        raise InputError(f"order must be an integer >= 2, got {order!r}")
    X = sde.state
    d = len(X)
    if comb(d + order, d) - 1 > MAX_MOMENTS:
        raise InputError(
            f"order={order} in {d} dimension(s) asks for {comb(d + order, d) - 1} moment "
            f"equations, more than the limit of {MAX_MOMENTS}; give a smaller order")
    start = sp.Matrix(x0 if isinstance(x0, (list, tuple, sp.MatrixBase)) else [x0])
    if start.shape[0] * start.shape[1] != d:
        raise InputError(f"x0 has {len(start)} entries but the state has {d}; give one each")
    start = start.reshape(d, 1)
    if sde.time is not None and any(e.has(sde.time) for e in [*sde.drift, *sde.diffusion]):
        raise MathematicalError(
            "the coefficients depend on time; moment equations are derived for "
            "time-homogeneous SDEs only")
    for e in [*sde.drift, *sde.diffusion_matrix]:
        if not sp.expand(e).is_polynomial(*X):
            raise MathematicalError(
                f"coefficient {e} is not a polynomial in the state, so the moments do not "
                "satisfy a finite system of ODEs; moment equations need polynomial drift and "
                "diffusion matrix D")
    closed = _is_closed_case(sde)
    basis = _monomials(d, order)
    fn = {a: sp.Function("m_" + "".join(map(str, a)))(time) for a in basis}
    fn[(0,) * d] = sp.Integer(1)
    closure = "exact"
    neglect = _CumulantNeglect(order, fn)
    odes: list[sp.Eq] = []
    rhs_of: dict[tuple[int, ...], sp.Expr] = {}
    for alpha in basis[1:]:
        poly = sp.Poly(sp.expand(sde.generator(_mono(X, alpha))), *X)
        rhs = sp.Integer(0)
        for monom, coeff in poly.terms():
            if sum(monom) <= order:
                rhs += coeff * fn[tuple(monom)]
            else:
                if closed:  # cannot happen: the generator keeps the degree
                    raise AssertionError("degree grew in a closed system")
                if sum(monom) > MAX_CLOSURE_DEGREE:
                    raise MathematicalError(
                        f"the generator of a degree-{sum(alpha)} moment has terms of degree "
                        f"{sum(monom)}; closing them needs more than the {MAX_CLOSURE_DEGREE} "
                        "degrees symsde expands. Lower order= or the degree of the "
                        "coefficients")
                rhs += coeff * neglect.moment(tuple(monom))
                closure = CLOSURE_TEXT.format(order=order, gauss=" (Gaussian closure)"
                                              if order == 2 else "")
        rhs_of[alpha] = sp.expand(rhs)
        odes.append(sp.Eq(sp.Derivative(fn[alpha], time), rhs_of[alpha]))
    initial = {a: _mono(tuple(start), a) for a in basis[1:]}
    mean = cov = None
    if closed:
        try:
            with time_limit(seconds, "solving the moment equations in closed form"):
                sol = _solve_linear(basis[1:], rhs_of, fn, initial, time)
        except SymbolicTimeoutError:
            closure = (f"exact, but the closed-form solution took longer than {seconds} s; "
                       "solve the linear system in odes numerically")
            closed = False
    if closed:
        unit = [tuple(1 if j == i else 0 for j in range(d)) for i in range(d)]
        mean = sp.Matrix([sol[u] for u in unit])
        cov = sp.zeros(d, d)
        for i in range(d):
            for j in range(d):
                a = tuple((k == i) + (k == j) for k in range(d))
                cov[i, j] = _tidy(sol[a] - mean[i] * mean[j])
        mean = mean.applyfunc(_tidy)
    return MomentEquations(sde=sde, x0=start, time=time, order=order, mean=mean,
                           covariance=cov, odes=odes,
                           moments={a: fn[a] for a in basis[1:]}, initial=initial,
                           closure=closure)


def _tidy(e: sp.Expr) -> sp.Expr:
    e = sp.simplify(e)
    if e.has(sp.I):
        e = sp.simplify(sp.expand_complex(e.rewrite(sp.cos)))
    return e


def _solve_linear(basis: list[tuple[int, ...]], rhs_of: dict[tuple[int, ...], sp.Expr],
                  fn: dict[tuple[int, ...], sp.Expr], initial: dict[tuple[int, ...], sp.Expr],
                  time: sp.Symbol) -> dict[tuple[int, ...], sp.Expr]:
    """Solve y' = K y + k by degree blocks (the generator never raises the degree).

    Within each degree block B: y_B' = K_BB y_B + f_B(t), with f_B known from lower
    degrees; y_B(t) = e^{K_BB t} y_B(0) + int_0^t e^{K_BB (t - s)} f_B(s) ds.
    """
    s = sp.Dummy("s", nonnegative=True)
    sol: dict[tuple[int, ...], sp.Expr] = {}
    for deg in range(1, max(sum(a) for a in basis) + 1):
        block = [a for a in basis if sum(a) == deg]
        K = sp.Matrix([[rhs_of[a].coeff(fn[b]) for b in block] for a in block])
        forcing = sp.Matrix([
            rhs_of[a] - sp.Add(*[K[i, j] * fn[b] for j, b in enumerate(block)])
            for i, a in enumerate(block)])
        lower = {fn[b]: v for b, v in sol.items()}
        forcing = forcing.subs(lower)
        E = (K * time).exp()
        y0 = sp.Matrix([initial[a] for a in block])
        y = E * y0
        if any(f != 0 for f in forcing):
            Es = (K * (time - s)).exp()
            integrand = (Es * forcing.subs(time, s)).applyfunc(sp.expand)
            y = y + integrand.applyfunc(lambda e: sp.integrate(e, (s, 0, time), conds="none"))
        for i, a in enumerate(block):
            sol[a] = sp.simplify(y[i])
    return sol
