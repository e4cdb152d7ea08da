"""Linear SDEs and their Euler chains: the Gaussian mathematics several lectures share.

A linear SDE :math:`dX = (AX + c)\\,dt + G\\,dB` with constant noise has a Gaussian
stationary law (when :math:`A` is stable) whose covariance solves the Lyapunov equation
:math:`A S + S A^\\top + D = 0`, :math:`D = G G^\\top` (Gardiner, *Stochastic Methods*,
section 4.5.6; Risken, *The Fokker-Planck Equation*, section 6.5). Its Euler-Maruyama chain
:math:`X' = (I + A\\Delta t) X + c\\Delta t + G\\sqrt{\\Delta t}\\,Z` is Gaussian too, with
the same mean and a covariance solving the discrete Lyapunov equation
:math:`S = B S B^\\top + D\\Delta t`, :math:`B = I + A\\Delta t`: the scheme's
discretisation bias, exactly. For a non-linear drift the chain's law is propagated
numerically (:func:`euler_chain_gap`).

These used to be private helpers repeated across the lecture's modules (issue 11); the
lecture now calls them here.

Examples
--------
>>> import sympy as sp
>>> a, dt = sp.symbols("a Delta_t", positive=True)
>>> lyapunov_covariance([[-a]], [[1]])
Matrix([[1/(2*a)]])
>>> normal_expectation(sp.Symbol("z")**4)
3
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from symsde.inputs import as_expression
from symsde.sde import SDE

__all__ = [
    "euler_chain_gap",
    "euler_chain_moments",
    "even_density_variance",
    "lyapunov_covariance",
    "normal_expectation",
    "quadratic_expectation",
    "sub_seed",
]


def sub_seed(seed: int, *tag: int) -> int:
    """A seed for one run of an experiment, derived from ``seed`` and the run's ``tag``.

    NumPy's :class:`~numpy.random.SeedSequence` of ``[seed, *tag]``: different tags give
    independent streams, and the same ``(seed, tag)`` always the same seed.

    Examples
    --------
    >>> sub_seed(0, 1) == sub_seed(0, 1), sub_seed(0, 1) == sub_seed(0, 2)
    (True, False)
    """
    return int(np.random.SeedSequence([seed, *tag]).generate_state(1)[0])


def normal_expectation(expr: sp.Expr, noises: Sequence[sp.Symbol] | None = None) -> sp.Expr:
    """Expectation of a polynomial in independent standard normals ``noises``.

    Each monomial :math:`z_1^{k_1}\\cdots z_m^{k_m}` becomes the product of the moments
    :math:`E[z^k] = (k-1)!!` for even :math:`k` and :math:`0` for odd :math:`k`
    (independence). ``noises`` defaults to every free symbol of ``expr``.

    Examples
    --------
    >>> import sympy as sp
    >>> z, w, s = sp.symbols("z w s")
    >>> normal_expectation((1 + s * z) ** 2 * w**2, [z, w])
    s**2 + 1
    """
    expr = as_expression(expr, "expr", noises or ())
    zs = list(noises) if noises is not None else sorted(expr.free_symbols, key=str)
    if not zs:
        return sp.expand(expr)
    poly = sp.Poly(sp.expand(expr), *zs)
    total: sp.Expr = sp.Integer(0)
    for powers, coeff in poly.terms():
        weight: sp.Expr = sp.Integer(1)
        for k in powers:
            weight *= 0 if k % 2 else sp.factorial2(k - 1)
        total += coeff * weight
    return sp.expand(total)


def quadratic_expectation(q: sp.Expr, state: Sequence[sp.Symbol], cov: Any) -> sp.Expr:
    """:math:`E[q(X)]` for a polynomial ``q`` of degree at most 2 and
    :math:`X \\sim N(0, \\Sigma)`: :math:`q(0) + \\operatorname{tr}(M\\Sigma)` with
    :math:`M` half the Hessian of ``q`` (the linear part has mean zero).

    Raises ``ArithmeticError`` when ``q`` has a term of degree 3 or more in ``state``.

    Examples
    --------
    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> quadratic_expectation(x**2 + 3*x*y, [x, y], [[2, 1], [1, 5]])
    5
    """
    X = list(state)
    q = as_expression(q, "q", X)
    M = sp.hessian(q, X) / 2
    if any(e.has(*X) for e in M):
        raise ArithmeticError(f"{q} is not a polynomial of degree at most 2 in {X}")
    return sp.simplify(q.subs(dict.fromkeys(X, 0)) + (M * sp.Matrix(cov)).trace())


def _symmetric_unknown(d: int) -> sp.Matrix:
    return sp.Matrix(d, d, lambda i, j: sp.Dummy(f"S_{min(i, j) + 1}{max(i, j) + 1}"))


def _solve_symmetric(eqs: list[sp.Expr], unknown: sp.Matrix) -> sp.Matrix:
    names = sorted(unknown.free_symbols, key=str)
    sol = sp.solve(eqs, names, dict=True)
    if len(sol) != 1 or any(s not in sol[0] for s in names):
        raise ArithmeticError("the Lyapunov equation has no unique solution (the drift "
                              "matrix has eigenvalues that sum to zero)")
    return unknown.subs(sol[0]).applyfunc(sp.factor)


def lyapunov_covariance(A: Any, D: Any) -> sp.Matrix:
    """The symmetric solution :math:`S` of :math:`A S + S A^\\top + D = 0`, solved by SymPy.

    The stationary covariance of :math:`dX = AX\\,dt + G\\,dB` with :math:`D = GG^\\top`
    (any dimension; ``A`` and ``D`` may hold symbols). Raises ``ArithmeticError`` when the
    solution is not unique.

    Examples
    --------
    >>> lyapunov_covariance([[-1, 0], [0, -2]], [[1, 0], [0, 1]])
    Matrix([
    [1/2,   0],
    [  0, 1/4]])
    """
    A, D = sp.Matrix(A), sp.Matrix(D)
    S = _symmetric_unknown(A.shape[0])
    return _solve_symmetric(list(A * S + S * A.T + D), S)


def _affine(sde: SDE) -> tuple[sp.Matrix, sp.Matrix]:
    X = list(sde.state)
    A = sde.drift.jacobian(X)
    if any(e.has(*X) for e in A) or not sde.is_constant_diffusion:
        raise ArithmeticError("the Euler chain's law is known here only for an affine drift "
                              "and constant noise")
    c = sde.drift.subs(dict.fromkeys(X, 0))
    return A, c


def euler_chain_moments(sde: SDE, dt: Any) -> tuple[sp.Matrix, sp.Matrix]:
    """Exact stationary mean and covariance of the Euler-Maruyama chain of a linear SDE.

    For :math:`dX = (AX + c)\\,dt + G\\,dB` the chain
    :math:`X' = BX + c\\Delta t + G\\sqrt{\\Delta t}Z`, :math:`B = I + A\\Delta t`, has the
    mean :math:`m = -A^{-1}c` (the fixed point :math:`m = Bm + c\\Delta t`) and the
    covariance solving :math:`S = BSB^\\top + D\\Delta t`. As :math:`\\Delta t \\to 0`
    the covariance tends to :func:`lyapunov_covariance`; the difference is the scheme's
    bias. Raises ``ArithmeticError`` for a non-affine drift or non-constant noise.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> a, h = sp.symbols("a h", positive=True)
    >>> m, S = euler_chain_moments(SDE([x], [-a * (x - 1)], 1), h)
    >>> m, sp.factor(S[0, 0])
    (Matrix([[1]]), -1/(a*(a*h - 2)))
    """
    A, c = _affine(sde)
    d = A.shape[0]
    h = as_expression(dt, "dt", [*sde.state, *sde.parameters])
    B = sp.eye(d) + A * h
    S = _symmetric_unknown(d)
    cov = _solve_symmetric(list(B * S * B.T + sde.diffusion_matrix * h - S), S)
    mean = (-A.inv() * c).applyfunc(sp.simplify)
    return mean, cov


def euler_chain_gap(drift: sp.Expr, potential: sp.Expr, var: sp.Symbol, D: float, dt: float,
                    x0: float, n_steps: int) -> dict[str, float]:
    """How far the 1-D Euler chain's law after ``n_steps`` is from the density
    :math:`\\propto e^{-U}` (``potential`` :math:`U`).

    The chain :math:`x' = x + \\mu(x)\\Delta t + \\sqrt{D\\Delta t}\\,\\varepsilon` has a
    Gaussian transition kernel; its law is propagated from the point ``x0`` on a grid of
    spacing :math:`\\sqrt{D\\Delta t}/4` (the trapezoidal rule on a Gaussian sampled that
    finely is accurate to about :math:`10^{-12}`) covering every point where the density is
    above :math:`e^{-60}` of its maximum, with 12 kernel widths to spare. Returns the
    sup-distance of the CDFs, the relative difference of the variances and the mass kept
    on the grid: the simulation's bias (discretisation plus the rest of the transient).

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> gap = euler_chain_gap(-x, x**2, x, 1.0, 0.01, 0.0, 2000)
    >>> abs(gap["variance_relative"] - (1 / (1 - 0.005) - 1)) < 1e-6  # exact: 1/(2 - h)
    True
    """
    s = math.sqrt(D * dt)
    U = sp.lambdify(var, potential, modules="numpy")
    mu = sp.lambdify(var, drift, modules="numpy")
    wide = np.linspace(-20, 20, 40_001)
    Uw = np.asarray(U(wide), dtype=float)
    inside = wide[Uw - Uw.min() < 60]
    g = np.arange(min(inside[0], x0) - 12 * s, max(inside[-1], x0) + 12 * s, s / 4)
    h = g[1] - g[0]

    def kernel(points: np.ndarray) -> np.ndarray:
        m = points + np.asarray(mu(points), dtype=float) * dt
        return np.exp(-0.5 * ((g[:, None] - m[None, :]) / s) ** 2) / (s * math.sqrt(2 * math.pi))

    K = kernel(g) * h
    p = kernel(np.array([x0]))[:, 0]
    for _ in range(n_steps - 1):
        p = K @ p
    q = np.exp(-(np.asarray(U(g), dtype=float) - Uw.min()))
    q /= q.sum() * h
    F, Fq = np.cumsum(p) * h, np.cumsum(q) * h

    def variance(f: np.ndarray) -> float:
        m = float((g * f).sum() * h)
        return float(((g - m) ** 2 * f).sum() * h)

    return {"cdf_distance": float(np.max(np.abs(F - Fq))),
            "variance_relative": variance(p) / variance(q) - 1,
            "mass": float(p.sum() * h)}


def even_density_variance(density: sp.Expr, x: sp.Symbol) -> sp.Expr:
    r"""The variance :math:`\int_0^\infty x^2 p\,dx \,/ \int_0^\infty p\,dx` of a density
    even in ``x`` (not necessarily normalised), left unevaluated.

    The half line halves a numeric witness's quadrature; evenness is checked, so the
    ratio is the variance over the whole line.

    Examples
    --------
    >>> x = sp.Symbol("x", real=True)
    >>> even_density_variance(sp.exp(-x**2 / 2), x).doit()
    1
    >>> even_density_variance(sp.exp(-(x - 1)**2), x)
    Traceback (most recent call last):
    ...
    ArithmeticError: the density exp(-(x - 1)**2) is not even
    """
    density = as_expression(density, "density", [x])
    if sp.simplify(density.subs(x, -x) - density) != 0:
        raise ArithmeticError(f"the density {density} is not even")
    return (sp.Integral(x**2 * density, (x, 0, sp.oo))
            / sp.Integral(density, (x, 0, sp.oo)))
