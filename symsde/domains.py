"""State spaces of SDEs: the line, half-lines, intervals and their products.

A one-dimensional diffusion lives on an interval :math:`(a, b)` whose ends are where the
diffusion :math:`D = G^2` vanishes (Wright-Fisher and Jacobi on :math:`(0, 1)`, CIR on
:math:`(0, \\infty)`) or where the user says the state ends. The domain of an
:class:`~symsde.sde.SDE` comes, in this order, from

1. the ``domain=`` keyword (a SymPy :class:`~sympy.sets.sets.Interval`, or a product of
   intervals in several dimensions);
2. the state symbols' assumptions (``positive=True`` gives :math:`(0, \\infty)`,
   ``negative=True`` gives :math:`(-\\infty, 0)`);
3. in one dimension, the zeros of :math:`D`: the interval between consecutive real zeros
   on which :math:`D` is positive (Karlin and Taylor, *A Second Course in Stochastic
   Processes*, ch. 15, take the state space of a diffusion to be such an interval).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import sympy as sp

from symsde._timeout import time_limit
from symsde.errors import InvalidSDEError, SymbolicTimeoutError

__all__ = [
    "assumption_interval",
    "candidate_intervals_1d",
    "domain_text",
    "infer_domain_1d",
    "normalize_domain",
    "sample_parameters",
    "sample_points",
]

REALS = sp.Interval(-sp.oo, sp.oo)


def assumption_interval(s: sp.Symbol) -> sp.Interval:
    """The interval a symbol's assumptions allow.

    Examples
    --------
    >>> import sympy as sp
    >>> assumption_interval(sp.Symbol("r", positive=True))
    Interval.open(0, oo)
    >>> assumption_interval(sp.Symbol("x", real=True))
    Interval(-oo, oo)
    """
    if s.is_positive:
        return sp.Interval.open(0, sp.oo)
    if s.is_nonnegative:
        return sp.Interval(0, sp.oo)
    if s.is_negative:
        return sp.Interval.open(-sp.oo, 0)
    if s.is_nonpositive:
        return sp.Interval(-sp.oo, 0)
    return REALS


def normalize_domain(domain: Any, state: Sequence[sp.Symbol]) -> tuple[sp.Interval, ...]:
    """One interval per state variable from an Interval, a ProductSet or a sequence.

    Examples
    --------
    >>> import sympy as sp
    >>> x, y = sp.symbols("x y", real=True)
    >>> normalize_domain(sp.Interval(0, 1) * sp.Interval(0, sp.oo), [x, y])
    (Interval(0, 1), Interval(0, oo))
    """
    d = len(state)
    if isinstance(domain, sp.Interval):
        parts: tuple[Any, ...] = (domain,)
    elif isinstance(domain, sp.ProductSet):
        parts = tuple(domain.sets)
    elif domain is sp.S.Reals:
        parts = (REALS,)
    elif isinstance(domain, (list, tuple)):
        parts = tuple(REALS if p is sp.S.Reals else p for p in domain)
    else:
        raise InvalidSDEError(f"domain {_not_an_interval(domain)}")
    parts = tuple(REALS if p is sp.S.Reals else p for p in parts)
    if len(parts) == 1 and d > 1 and isinstance(parts[0], sp.Interval):
        parts = parts * d
    if len(parts) != d:
        names = ", ".join(str(s) for s in state)
        example = " * ".join(["Interval(0, oo)"] * d)
        raise InvalidSDEError(
            f"domain has {len(parts)} factor(s) but the state ({names}) has {d}: give {d} "
            f"intervals, one interval per state variable in that order (e.g. {example}), or "
            "a single Interval for all of them"
        )
    for p in parts:
        if not isinstance(p, sp.Interval) or p.measure == 0:
            raise InvalidSDEError(f"domain factor {_not_an_interval(p)}")
    return parts


def _not_an_interval(p: Any) -> str:
    """Why ``p`` is not an interval of positive length, for an error message."""
    if p is sp.S.EmptySet:
        return ("is empty (sympy.Interval(a, b) with a >= b, e.g. Interval(1, 0), is the empty "
                "set): write the smaller end first, e.g. sympy.Interval(0, 1)")
    if isinstance(p, sp.FiniteSet):
        return (f"{p} is a set of points, not an interval of positive length "
                "(sympy.Interval(a, a) is the single point a): give ends a < b")
    if isinstance(p, sp.Union):
        return (f"{p} is a union of intervals: a state space is one interval; give the piece "
                "the process lives on")
    if isinstance(p, sp.Interval):
        return f"{p} has length zero: give ends a < b"
    return (f"{p!r} is not an interval; give a SymPy Interval such as "
            "sympy.Interval.open(0, sympy.oo) (a product of intervals in several dimensions)")


def domain_text(iv: sp.Interval) -> str:
    """``(a, b)`` with brackets for closed ends."""
    left = "[" if not iv.left_open and iv.start.is_finite else "("
    right = "]" if not iv.right_open and iv.end.is_finite else ")"
    return f"{left}{iv.start}, {iv.end}{right}"


def sample_parameters(symbols: Any, seed: int = 0) -> dict[sp.Symbol, sp.Rational]:
    """Admissible rational values for parameters, from their assumptions.

    Positive, real and unconstrained symbols get values in (1/2, 2); negative ones the
    opposite; integer symbols small integers.
    """
    import random

    rng = random.Random(seed)
    out: dict[sp.Symbol, sp.Rational] = {}
    for s in sorted(symbols, key=lambda u: u.name):
        v = sp.Rational(rng.randint(55, 190), 100)
        if s.is_integer:
            v = sp.Integer(rng.randint(1, 3))
        if s.is_negative or (s.is_nonpositive and not s.is_zero):
            v = -v
        out[s] = v
    return out


def sample_points(iv: sp.Interval, n: int = 6) -> list[sp.Expr]:
    """Points strictly inside an interval (exact, for a numeric interval)."""
    a, b = iv.start, iv.end
    if a.is_finite and b.is_finite:
        fr = [sp.Rational(k, 100) for k in (3, 17, 31, 50, 66, 83, 97)][:n + 1]
        return [a + f * (b - a) for f in fr]
    off = [sp.Rational(k, 100) for k in (5, 37, 100, 240, 530, 1100)][:n]
    if a.is_finite:
        return [a + o for o in off]
    if b.is_finite:
        return [b - o for o in off]
    return [sp.Rational(k, 100) for k in (-290, -130, -45, 15, 80, 170, 340)][:n + 1]


def _sign_at(expr: sp.Expr, x: sp.Symbol, point: sp.Expr) -> int | None:
    """Sign of expr at point: decided by assumptions, else None."""
    v = sp.simplify(expr.subs(x, point))
    if v.is_positive:
        return 1
    if v.is_negative:
        return -1
    if v.is_zero:
        return 0
    return None


def _real_zeros(D: sp.Expr, x: sp.Symbol, within: sp.Interval) -> list[sp.Expr] | None:
    try:
        with time_limit(5, "looking for zeros of the diffusion"):
            found = sp.solveset(D, x, sp.S.Reals)
    except (NotImplementedError, ValueError, TypeError, AttributeError, SymbolicTimeoutError):
        return None
    if not isinstance(found, sp.FiniteSet):
        return None
    pts = []
    for p in found:
        if p.is_extended_real is False:
            continue
        inside = within.contains(p)
        if inside is sp.true:
            pts.append(p)
        elif inside is not sp.false:
            # Cannot tell whether a symbolic zero lies inside: do not guess.
            return None
    return list(dict.fromkeys(pts))


def _sorted_points(points: list[sp.Expr]) -> list[sp.Expr] | None:
    out = list(points)
    for i in range(len(out)):
        for j in range(len(out) - 1 - i):
            diff = sp.simplify(out[j] - out[j + 1])
            if diff.is_positive:
                out[j], out[j + 1] = out[j + 1], out[j]
            elif not diff.is_nonpositive:
                return None
    return out


def _midpoint(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    if a.is_finite and b.is_finite:
        return (a + b) / 2
    if a.is_finite:
        return a + 1
    if b.is_finite:
        return b - 1
    return sp.Integer(0)


def candidate_intervals_1d(x: sp.Symbol, D: sp.Expr, base: sp.Interval
                           ) -> tuple[list[sp.Interval], list[sp.Expr]]:
    """The intervals of ``base`` between consecutive zeros of ``D`` where D may be positive.

    Returns the intervals and the zeros. ``[base]`` when the zeros cannot be found or
    ordered (then the checks of :func:`~symsde.stationary.stationary_density` decide).
    """
    D = sp.sympify(D)
    if not D.has(x):
        return [base], []
    zeros = _real_zeros(D, x, base)
    if zeros is None:
        return [base], []
    zeros = [z for z in zeros if z != base.start and z != base.end]
    zeros = _sorted_points(zeros)
    if zeros is None or not zeros:
        return [base], []
    ends = [base.start, *zeros, base.end]
    candidates: list[sp.Interval] = []
    for a, b in pairwise(ends):
        sgn = _sign_at(D, x, _midpoint(a, b))
        if sgn == -1 or sgn == 0:
            continue
        lo_open = base.left_open if a == base.start else True
        hi_open = base.right_open if b == base.end else True
        candidates.append(sp.Interval(a, b, lo_open, hi_open))
    return candidates, zeros


def infer_domain_1d(x: sp.Symbol, D: sp.Expr, base: sp.Interval) -> sp.Interval:
    """The interval of ``base`` between consecutive zeros of ``D`` on which D is positive.

    Raises :class:`InvalidSDEError` when several intervals qualify (the process cannot
    cross a zero of D, so the user must say on which side it lives).

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> infer_domain_1d(x, x * (1 - x), sp.Interval(-sp.oo, sp.oo))
    Interval.open(0, 1)
    >>> infer_domain_1d(x, 2 + 0 * x, sp.Interval(-sp.oo, sp.oo))
    Interval(-oo, oo)
    """
    candidates, zeros = candidate_intervals_1d(x, D, base)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise InvalidSDEError(
            f"the diffusion D = {D} is not positive anywhere on {domain_text(base)}; the SDE "
            "has no state space there (check the sign of the diffusion)"
        )
    listed = ", ".join(domain_text(c) for c in candidates)
    raise InvalidSDEError(
        f"the diffusion D = {D} vanishes at {', '.join(map(str, zeros))}, which the process "
        f"cannot cross, so it lives on one of {listed}; say which with domain= (e.g. "
        f"domain=sympy.Interval.open(0, sympy.oo)) or declare {x} positive"
    )
