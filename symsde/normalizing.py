"""Normalisability and normalising constants of densities :math:`\\propto e^{-U}`.

Used by :mod:`symsde.stationary` (and its state-space checks): whether :math:`e^{-U}` is
integrable over the whole space (limits along rays, power decay, quadratic growth), and its
normalising constant in closed form (Gaussian, separable, one-dimensional integrals) or
numerically (mpmath quadrature, a trapezoid rule in two dimensions) to
:data:`NUMERIC_DIGITS` digits.
"""

from __future__ import annotations

from itertools import product
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from symsde._timeout import time_limit
from symsde.domains import REALS
from symsde.errors import (
    NotNormalizableError,
    SymbolicTimeoutError,
)
from symsde.sde import SDE, gradient

#: Digits of the numeric normalising constant when no closed form is found.
NUMERIC_DIGITS = 50


def _exp_neg(U: sp.Expr) -> sp.Expr:
    """exp(-U) as a product, each c*log(f) term of -U becoming f**c."""
    factors = []
    for t in sp.Add.make_args(sp.expand(-U)):
        logs = [f for f in sp.Mul.make_args(t) if isinstance(f, sp.log)]
        if len(logs) == 1:
            c = t / logs[0]
            if not c.has(sp.log) and not c.free_symbols & logs[0].free_symbols:
                factors.append(logs[0].args[0] ** c)
                continue
        factors.append(sp.exp(t))
    return sp.Mul(*factors)


def _drop_constants(expr: sp.Expr, state: tuple[sp.Symbol, ...]) -> sp.Expr:
    """Remove additive terms that do not depend on the state."""
    expr = sp.expand(sp.expand_log(expr, force=False))
    terms = sp.Add.make_args(expr)
    kept = [t for t in terms if t.has(*state)]
    return sp.Add(*kept)


def _tidy(expr: sp.Expr, state: tuple[sp.Symbol, ...]) -> sp.Expr:
    out = _drop_constants(sp.simplify(expr), state)
    # Prefer the factored form when it is no longer (e.g. 2*(x**4/4 - x**2/2)/sigma**2).
    fac = sp.factor_terms(out)
    return fac if sp.count_ops(fac) <= sp.count_ops(out) else out


def _has_unevaluated(expr: sp.Expr) -> bool:
    return bool(expr.has(sp.Integral)) or expr.has(sp.nan)


# -- normalisability -----------------------------------------------------------------------
def _ray_limit(U: sp.Expr, state: tuple[sp.Symbol, ...], direction: tuple[int, ...]) -> sp.Expr:
    r = sp.Dummy("r", positive=True)
    ray = U.subs({s: k * r for s, k in zip(state, direction, strict=True)}, simultaneous=True)
    return sp.limit(ray, r, sp.oo)


def _directions(d: int) -> list[tuple[int, ...]]:
    """Rays to probe: every non-zero vector of {-1, 0, 1}^d (axes and diagonals for d > 3)."""
    if d <= 3:
        return [v for v in product((-1, 0, 1), repeat=d) if any(v)]
    out: list[tuple[int, ...]] = []
    for i in range(d):
        for sgn in (1, -1):
            v = [0] * d
            v[i] = sgn
            out.append(tuple(v))
    return [*out, (1,) * d, (-1,) * d]


def _check_power_decay(ratio: sp.Expr, where: str, base: str, at_point: bool) -> None:
    """exp(-U) behaves like |base|^(-ratio); raise unless that is integrable."""
    if ratio is sp.oo:
        return
    # At infinity |t|^-k is integrable iff k > 1; at a finite point iff k < 1.
    margin = (ratio - 1) if not at_point else (1 - ratio)
    if margin.is_positive:
        return
    shape = f"|{base}|^(-{ratio})"
    if margin.is_nonpositive:
        if at_point:
            raise NotNormalizableError(
                f"the density blows up like {shape} at {where}, so its integral diverges; "
                "the noise vanishes or the drift is singular there (a diffusion that is "
                "positive everywhere, e.g. sqrt(1 + x**2), avoids this)"
            )
        raise NotNormalizableError(
            f"the density decays only like {shape} as {where}, so its integral diverges; "
            "a stationary density needs a confining drift (e.g. a loss that grows at least "
            "quadratically)"
        )
    cond = f"{ratio} > 1" if not at_point else f"{ratio} < 1"
    raise NotNormalizableError(
        f"the density behaves like {shape} near {where}: it is normalisable only if {cond}, "
        "which SymPy cannot decide; declare the parameters' signs (e.g. positive=True) or "
        "give them numeric values"
    )


def _check_quadratic(U: sp.Expr, state: tuple[sp.Symbol, ...]) -> bool:
    """Decide normalisability of a quadratic U by its Hessian; False when undecidable."""
    if not U.is_polynomial(*state) or sp.Poly(U, *state).total_degree() != 2:
        return False
    H = sp.hessian(U, state)
    minors = [sp.simplify(H[:k, :k].det()) for k in range(1, len(state) + 1)]
    if all(m.is_positive for m in minors):
        return True
    if any(m.is_nonpositive for m in minors):
        # Sylvester: leading minors all positive <=> positive definite.
        raise NotNormalizableError(
            f"U = {U} is quadratic with a Hessian {H.tolist()} that is not positive definite, "
            "so exp(-U) does not decay along some direction and cannot be normalised; the "
            "drift must pull the state back in every direction (e.g. a loss with a strict "
            "minimum)"
        )
    return False


def _check_normalizable(U: sp.Expr, state: tuple[sp.Symbol, ...],
                        directions: list[tuple[int, ...]] | None = None) -> None:
    """Reject potentials whose exp(-U) provably has infinite mass along a ray.

    In one dimension this is decisive up to logarithmic borderline cases: exp(-U) is
    integrable at an end when U grows faster than log|x|. A quadratic U is decided by its
    Hessian. Otherwise, in more dimensions, the check runs along the axes and diagonals,
    a necessary condition.
    """
    d = len(state)
    if d > 1 and _check_quadratic(U, state):
        return
    if U.has(sp.sinh, sp.cosh, sp.tanh, sp.coth):
        U = U.rewrite(sp.exp)  # limits of exponentials are much cheaper for SymPy
    r = sp.Dummy("r", positive=True)
    for direction in (_directions(d) if directions is None else directions):
        lim = _ray_limit(U, state, direction)
        where = _direction_text(state, direction)
        if lim is sp.oo:
            if d == 1:
                ray = U.subs(state[0], direction[0] * r)
                ratio = sp.limit(ray / sp.log(r), r, sp.oo)
                if ratio.is_extended_real is not False:
                    _check_power_decay(ratio, where, str(state[0]), at_point=False)
            continue
        if lim.is_extended_real and (lim is -sp.oo or lim.is_finite):
            raise NotNormalizableError(
                f"exp(-U) does not decay as {where} (U -> {lim}), so the density cannot be "
                "normalised; U must grow to +infinity in every direction, i.e. the drift must "
                "push the state back from infinity (e.g. a drift -x, or a loss with a minimum "
                "such as x**2/2)"
            )
        raise NotNormalizableError(
            f"cannot decide whether U -> +oo as {where} (limit {lim}); declare parameters "
            "positive (e.g. Symbol('sigma', positive=True)) or give them numeric values"
        )


def _singular_points_1d(sde: SDE) -> list[sp.Expr]:
    """Real points where D vanishes or 2 mu / D is singular (finite sets only)."""
    (x,) = sde.state
    D = sde.diffusion_matrix[0, 0]
    points: set[sp.Expr] = set()
    for finder in (
        lambda: sp.solveset(D, x, sp.S.Reals),
        lambda: sp.singularities(2 * sde.drift[0] / D, x, sp.S.Reals),
    ):
        try:
            with time_limit(5, "looking for zeros of the diffusion"):
                found = finder()
        except (NotImplementedError, ValueError, TypeError, AttributeError,
                SymbolicTimeoutError):
            continue
        if isinstance(found, sp.FiniteSet):
            points |= {p for p in found if p.is_extended_real is not False}
    return sorted(points, key=sp.default_sort_key)


def _check_singular_points(U: sp.Expr, x: sp.Symbol, points: list[sp.Expr],
                           sides: tuple[str, ...] = ("+", "-")) -> None:
    """Reject a 1-D density that is not integrable next to a finite singular point."""
    for x0 in points:
        for side in sides:
            where = f"{x} = {x0} (from the {'right' if side == '+' else 'left'})"
            lim = sp.limit(U, x, x0, side)
            if lim is sp.oo or (lim.is_extended_real and lim.is_finite):
                continue
            if lim is -sp.oo:
                ratio = sp.limit(U / sp.log(sp.Abs(x - x0)), x, x0, side)
                _check_power_decay(ratio, where, str(x - x0), at_point=True)
                continue
            raise NotNormalizableError(
                f"cannot decide how the density behaves near {where} (U -> {lim}); "
                "give the parameters numeric values"
            )


def _direction_text(state: tuple[sp.Symbol, ...], direction: tuple[int, ...]) -> str:
    parts = [f"{s} -> {'+' if k > 0 else '-'}oo" for s, k in zip(state, direction, strict=True)
             if k != 0]
    return ", ".join(parts)


# -- normalising constant -------------------------------------------------------------------
def _gaussian_normalizer(U: sp.Expr, state: tuple[sp.Symbol, ...]) -> sp.Expr | None:
    """Closed form of the integral of exp(-U) for a quadratic U, else None."""
    poly = sp.Poly(U, *state) if U.is_polynomial(*state) else None
    if poly is None or poly.total_degree() != 2:
        return None
    H = sp.hessian(U, state)
    b = gradient(U, state).subs({s: 0 for s in state})
    c = U.subs({s: 0 for s in state})
    detH = sp.simplify(H.det())
    # Only a positive definite Hessian gives a finite Gaussian integral (Sylvester).
    if any(sp.simplify(H[:k, :k].det()).is_positive is False for k in range(1, len(state) + 1)):
        return None
    # int exp(-(x^T H x/2 + b^T x + c)) = sqrt((2 pi)^d / det H) exp(b^T H^-1 b / 2 - c)
    quad = (b.T * H.inv() * b)[0, 0]
    return sp.simplify(sp.sqrt((2 * sp.pi) ** len(state) / detH) * sp.exp(quad / 2 - c))


def _separable_parts(U: sp.Expr, state: tuple[sp.Symbol, ...]) -> list[sp.Expr] | None:
    parts: dict[sp.Symbol, list[sp.Expr]] = {s: [] for s in state}
    for term in sp.Add.make_args(sp.expand(U)):
        involved = [s for s in state if term.has(s)]
        if len(involved) != 1:
            return None
        parts[involved[0]].append(term)
    return [sp.Add(*parts[s]) for s in state]


def _closed_form_1d(U: sp.Expr, x: sp.Symbol, seconds: float) -> sp.Expr | None:
    g = _gaussian_normalizer(U, (x,))
    if g is not None:
        return g
    try:
        with time_limit(seconds, f"integrating exp(-({U})) over the real line"):
            val = sp.integrate(sp.exp(-U), (x, -sp.oo, sp.oo), conds="none")
    except SymbolicTimeoutError:
        return None
    if _has_unevaluated(val) or val.has(sp.I) or val.has(sp.Piecewise):
        return None
    if val is sp.oo or val.is_zero:
        return None
    return sp.simplify(val)


def _mpmath_normalizer_1d(U: sp.Expr, x: sp.Symbol) -> sp.Float | None:
    """50-digit tanh-sinh quadrature of exp(-U) over the real line."""
    # Split the line on a geometric grid (|x| = 1/8 ... 64) so that tanh-sinh resolves a
    # sharp bump away from the origin (splitting only at 0, +-1 lost 5 digits on
    # exp(-8 (x^4/4 + 2x^3 - x^2/2)), whose peak is at x = -6).
    value = _quad_interval(U, x, REALS, {}, NUMERIC_DIGITS + 10)
    if value is None:
        return None
    return sp.Float(value, NUMERIC_DIGITS)


def _trapezoid_normalizer_2d(U: sp.Expr, state: tuple[sp.Symbol, ...]) -> sp.Float | None:
    """Integral of exp(-U) over the plane by the trapezoidal rule after x = sinh(t).

    The substitution turns algebraic tails into exponential ones, and the trapezoidal rule
    converges exponentially fast for such smooth integrands. The result is accepted only
    when halving the step changes it by less than 1e-10 (relative) and the outermost band
    of the grid carries no visible mass; otherwise None.
    """
    T, h = 14.0, 0.025
    t = np.arange(-T, T + h / 2, h)
    nodes = np.sinh(t)
    weights = np.cosh(t) * h
    f = sp.lambdify(list(state), U, modules="numpy", dummify=True)
    X, Y = np.meshgrid(nodes, nodes, indexing="ij")
    with np.errstate(all="ignore"):
        vals = np.broadcast_to(np.asarray(f(X, Y), dtype=float), X.shape).copy()
        bad = ~np.isfinite(vals)
        far = np.maximum(np.abs(X), np.abs(Y)) > 1e4
        if np.any(bad & ~far) or np.any(np.isneginf(vals)):
            return None
        vals[bad] = np.inf
        m = float(np.min(vals))
        F = np.exp(-(vals - m)) * np.outer(weights, weights)
    fine = float(F.sum())
    coarse = 2 * 2 * float(F[::2, ::2].sum())
    band = np.abs(t) > T - 2
    tail = float(F[band, :].sum() + F[:, band].sum())
    if not (np.isfinite(fine) and fine > 0):
        return None
    if abs(fine - coarse) > 1e-10 * fine or tail > 1e-12 * fine:
        return None
    return sp.Float(mpmath.mpf(fine) * mpmath.exp(-m), 12)


def _numeric_normalizer(U: sp.Expr, state: tuple[sp.Symbol, ...]) -> sp.Float | None:
    """A numeric normalising constant for a parameter-free U, or None."""
    if len(state) == 1:
        return _mpmath_normalizer_1d(U, state[0])
    if len(state) == 2:
        return _trapezoid_normalizer_2d(U, state)
    return None


def _normalizer(U: sp.Expr, state: tuple[sp.Symbol, ...], seconds: float) -> sp.Expr:
    g = _gaussian_normalizer(U, state)
    if g is not None:
        return g
    numeric_ok = not (U.free_symbols - set(state))
    if len(state) == 1:
        z = _closed_form_1d(U, state[0], seconds)
        if z is not None:
            return z
    parts = _separable_parts(U, state)
    if parts is not None and len(state) > 1:
        factors: list[sp.Expr | None] = []
        for u, s in zip(parts, state, strict=True):
            z = _closed_form_1d(u, s, seconds)
            if z is None and numeric_ok:
                z = _mpmath_normalizer_1d(u, s)
            factors.append(z)
        if all(f is not None for f in factors):
            return sp.Mul(*factors)
    if numeric_ok:
        value = _numeric_normalizer(U, state)
        if value is not None:
            return value
    integral: sp.Expr = sp.exp(-U)
    return sp.Integral(integral, *[(s, -sp.oo, sp.oo) for s in state])


def _quad_interval(U: sp.Expr, x: sp.Symbol, iv: sp.Interval, params: dict[Any, Any],
                   dps: int = NUMERIC_DIGITS + 10) -> mpmath.mpf | None:
    """Tanh-sinh quadrature of exp(-U) over the interval, or None.

    A finite interval is split at its midpoint and each half written with its end at
    t = 0 (x = a + t, x = b - t), where tanh-sinh nodes are exact: an algebraic
    singularity at an end (a Beta density) then costs no digits.
    """
    a, b = iv.start.subs(params), iv.end.subs(params)
    u = U.subs(params)
    t = sp.Dummy("t", positive=True)
    if a.is_finite and b.is_finite:
        half = (b - a) / 2
        pieces = [(u.subs(x, a + t), [0, half]), (u.subs(x, b - t), [0, half])]
    else:
        # A geometric grid of break points, so that a sharp peak anywhere is resolved.
        grid = [0, *[sp.Rational(2) ** j for j in range(-3, 7)], sp.oo]
        if a.is_finite:
            pieces = [(u.subs(x, a + t), grid)]
        elif b.is_finite:
            pieces = [(u.subs(x, b - t), grid)]
        else:
            pieces = [(u.subs(x, t), grid), (u.subs(x, -t), grid)]
    total = mpmath.mpf(0)
    with mpmath.workdps(dps):
        for expr, nodes in pieces:
            f0 = sp.lambdify([t], sp.exp(-expr), modules="mpmath")
            pts = [mpmath.inf if n is sp.oo else mpmath.mpf(sp.N(n, dps)) for n in nodes]
            try:
                # f ~ t^k at t = 0: with t = w^n, n = 1/(k + 1), the integrand is bounded.
                t1, t2 = mpmath.mpf(10) ** -30, mpmath.mpf(10) ** -32
                k = mpmath.log(abs(f0(t1) / f0(t2))) / mpmath.log(t1 / t2)
                n = 1 / (k + 1) if -1 < k < 0 else mpmath.mpf(1)

                def f(w: Any, f0: Any = f0, n: Any = n) -> Any:
                    return n * w ** (n - 1) * f0(w**n) if w > 0 else mpmath.mpf(0)

                pts = [p if p == mpmath.inf else p ** (1 / n) for p in pts]
                value = mpmath.quad(f, pts)
            except (ValueError, TypeError, ZeroDivisionError, OverflowError):
                return None
            if not mpmath.isfinite(value) or mpmath.im(value) != 0:
                return None
            total += value
        if total <= 0:
            return None
        return +total


def _has_undefined(*exprs: sp.Expr) -> bool:
    from sympy.core.function import AppliedUndef

    return any(sp.sympify(e).atoms(AppliedUndef) for e in exprs)
