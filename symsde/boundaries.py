"""One-dimensional diffusions on an interval: Feller's boundary classification and the
checks that stand between a candidate stationary density and the user.

For :math:`dX = \\mu\\,dt + \\sqrt{D}\\,dB` on :math:`(a, b)` the scale density is
:math:`s = \\exp(-\\int 2\\mu/D)` and the speed density :math:`m = 2/(D s)`; the zero-flux
stationary density is :math:`p \\propto m = 2 e^{-U}` with
:math:`U = \\log D - \\int 2\\mu/D`. Feller's classification of an end :math:`e`
(Karlin and Taylor, *A Second Course in Stochastic Processes*, sec. 15.6) uses
:math:`S(e) = \\int^e s`, :math:`M(e) = \\int^e m` and the nested integrals
:math:`\\Sigma(e) = \\int^e m\\,|S(e) - S|` and :math:`N(e) = \\int^e s\\,|M(e) - M|`:

============  =====================  =====================
kind          :math:`\\Sigma(e)`     :math:`N(e)`
============  =====================  =====================
regular       finite                 finite
exit          finite                 infinite
entrance      infinite               finite
natural       infinite               infinite
============  =====================  =====================

Here each integral is decided from the power of the distance to :math:`e` with which its
integrand behaves, :math:`k = \\lim \\log f / \\log \\mathrm{dist}` (integrable at a finite
end iff :math:`k > -1`, at an infinite end iff :math:`k < -1`); the tail of a faster than
power integrand is :math:`f / |(\\log f)'|` (l'Hopital). The borderline :math:`k = -1` is
taken as divergent, which is right unless logarithmic factors decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from symsde._timeout import time_limit
from symsde.errors import SymbolicTimeoutError

__all__ = ["KINDS", "Boundary", "classify_boundaries"]

KINDS = ("regular", "exit", "entrance", "natural")

_CONDITION = {
    "regular": ("reachable and left again: the density returned assumes the zero-flux "
                "(reflecting) boundary condition J = 0 here"),
    "exit": "reached in finite time and never left (absorbing): no mass can stay near it",
    "entrance": ("not reached from inside, but the process can start there; no boundary "
                 "condition is needed (the current vanishes by itself)"),
    "natural": "neither reached nor left; no boundary condition is needed",
}


@dataclass(frozen=True)
class Boundary:
    """Feller's classification of one end of a one-dimensional state space.

    Attributes
    ----------
    point : sympy.Expr
        The end (``-oo`` or ``oo`` for an infinite one).
    kind : str or None
        ``"regular"``, ``"exit"``, ``"entrance"`` or ``"natural"``; ``None`` when it
        depends on the parameters (see ``cases``) or could not be decided.
    cases : tuple of (sympy.Boolean, str)
        The kind under each condition on the parameters.
    condition : str
        The boundary condition it implies for the stationary density, in words.
    """

    point: sp.Expr
    kind: str | None
    cases: tuple[tuple[sp.Basic, str], ...] = field(default=())
    condition: str = ""

    def __str__(self) -> str:
        if self.kind is not None:
            return f"{self.point}: {self.kind} ({self.condition})"
        if self.cases:
            txt = "; ".join(f"{k} if {c}" for c, k in self.cases)
            return f"{self.point}: {txt}"
        return f"{self.point}: undecided ({self.condition})"


def _limit(expr: sp.Expr, x: sp.Symbol, e: sp.Expr, side: str) -> sp.Expr | None:
    try:
        with time_limit(10, "classifying a boundary"):
            if e.is_infinite:
                return sp.limit(expr, x, e)
            return sp.limit(expr, x, e, side)
    except (NotImplementedError, ValueError, TypeError, AttributeError, SymbolicTimeoutError):
        return None


def _exponent(log_f: sp.Expr, x: sp.Symbol, e: sp.Expr, side: str) -> sp.Expr | None:
    """k with f ~ dist^k near e (dist = |x - e|, or |x| at infinity)."""
    log_dist = sp.log(sp.Abs(x)) if e.is_infinite else sp.log(sp.Abs(x - e))
    k = _limit(log_f / log_dist, x, e, side)
    if k is None or k.has(sp.AccumBounds) or k.is_extended_real is False or k is sp.nan:
        return None
    return k


def _integrable(k: sp.Expr, infinite_end: bool) -> sp.Basic:
    if k is sp.oo:
        return sp.false if infinite_end else sp.true
    if k is -sp.oo:
        return sp.true if infinite_end else sp.false
    return sp.Lt(k, -1) if infinite_end else sp.Gt(k, -1)


def _tail(log_f: sp.Expr, k: sp.Expr, x: sp.Symbol, e: sp.Expr) -> sp.Expr:
    """log of |F(e) - F(x)| up to a constant, for f ~ dist^k (or faster)."""
    if k.is_infinite:
        return log_f - sp.log(sp.Abs(sp.diff(log_f, x)))
    log_dist = sp.log(sp.Abs(x)) if e.is_infinite else sp.log(sp.Abs(x - e))
    return log_f + log_dist


def _one_variable(cond: sp.Basic) -> sp.Basic:
    """Rewrite relations that all compare one parameter combination f (e.g. 2 mu/sigma^2)
    with numbers as relations in a single real variable, so that SymPy can decide them."""
    rels = list(cond.atoms(sp.core.relational.Relational))
    if not rels:
        return cond
    z = sp.Dummy("z", real=True)
    parts = []
    for r in rels:
        e = sp.expand(r.lhs - r.rhs)
        const, var = e.as_independent(*e.free_symbols, as_Add=True)
        parts.append((r, const, var))
    f0 = parts[0][2]
    if f0 == 0:
        return cond
    rep = {}
    for r, const, var in parts:
        ratio = sp.simplify(var / f0)
        if not ratio.is_number or not ratio.is_nonzero:
            return cond
        rep[r] = r.func(ratio * z + const, 0)
    reduced = sp.simplify(cond.xreplace(rep))
    if reduced in (sp.true, sp.false):
        return reduced
    return cond


def _decide(cond: sp.Basic) -> sp.Basic:
    try:
        out = sp.simplify(cond)
        if out not in (sp.true, sp.false):
            out = _one_variable(out)
        return out
    except (TypeError, ValueError, NotImplementedError):
        return cond


def classify_endpoint(U: sp.Expr, D: sp.Expr, x: sp.Symbol, e: sp.Expr, side: str) -> Boundary:
    """Classify the end ``e`` approached from ``side`` (``"+"`` for a left end).

    ``U`` is the potential (:math:`m \\propto e^{-U}`) and ``D`` the diffusion.
    """
    log_m = -U
    log_s = U - sp.log(D)
    infinite = bool(e.is_infinite)
    ks, km = _exponent(log_s, x, e, side), _exponent(log_m, x, e, side)
    if ks is None or km is None:
        return Boundary(e, None, (), "SymPy could not find how the scale and speed "
                                     "densities behave here")
    S_fin, M_fin = _decide(_integrable(ks, infinite)), _decide(_integrable(km, infinite))
    branches: list[tuple[sp.Basic, str]] = []
    # S finite, M finite: regular.
    branches.append((sp.And(S_fin, M_fin), "regular"))
    # S finite, M infinite: exit if Sigma finite, else natural.
    c = sp.And(S_fin, sp.Not(M_fin))
    if c is not sp.false:
        kg = _exponent(log_m + _tail(log_s, ks, x, e), x, e, side)
        if kg is None:
            return Boundary(e, None, (), "SymPy could not decide the integral Sigma")
        sig = _decide(_integrable(kg, infinite))
        branches += [(sp.And(c, sig), "exit"), (sp.And(c, sp.Not(sig)), "natural")]
    c = sp.And(sp.Not(S_fin), M_fin)
    if c is not sp.false:
        kg = _exponent(log_s + _tail(log_m, km, x, e), x, e, side)
        if kg is None:
            return Boundary(e, None, (), "SymPy could not decide the integral N")
        n = _decide(_integrable(kg, infinite))
        branches += [(sp.And(c, n), "entrance"), (sp.And(c, sp.Not(n)), "natural")]
    branches.append((sp.And(sp.Not(S_fin), sp.Not(M_fin)), "natural"))
    live = [(_decide(cond), kind) for cond, kind in branches]
    live = [(cond, kind) for cond, kind in live if cond is not sp.false]
    kinds = {kind for _, kind in live}
    if len(kinds) == 1:
        kind = kinds.pop()
        return Boundary(e, kind, ((sp.true, kind),), _CONDITION[kind])
    merged: dict[str, sp.Basic] = {}
    for cond, kind in live:
        merged[kind] = _decide(sp.Or(merged.get(kind, sp.false), cond))
    cases = tuple((cond, kind) for kind, cond in merged.items())
    txt = "; ".join(f"{kind}: {_CONDITION[kind]}" for kind in merged)
    return Boundary(e, None, cases, txt)


def classify_boundaries(U: sp.Expr, D: sp.Expr, x: sp.Symbol, interval: sp.Interval
                        ) -> tuple[Boundary, Boundary]:
    """Feller's classification of both ends of ``interval``.

    Examples
    --------
    Ornstein-Uhlenbeck on the line: both infinite ends are natural.

    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> lo, hi = classify_boundaries(x**2, sp.Integer(1), x, sp.Interval(-sp.oo, sp.oo))
    >>> lo.kind, hi.kind
    ('natural', 'natural')
    """
    return (classify_endpoint(U, D, x, interval.start, "+"),
            classify_endpoint(U, D, x, interval.end, "-"))
