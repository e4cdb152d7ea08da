"""Numeric witnesses: each side of a claim evaluated on its own by mpmath.

A witness draws a concrete *instance* (undefined functions such as the loss
:math:`\\mathcal{L}` replaced by members of a family, e.g. a random confining quartic) and
*points* (values of the free symbols), both from a seed, and evaluates the two sides of a
claim separately at 50 significant digits. Unevaluated operations are evaluated
numerically and never by SymPy's symbolic answer:

- :class:`sympy.Derivative` by :func:`mpmath.diff` (finite differences at raised precision),
- :class:`sympy.Integral` by :func:`mpmath.quad` (tanh-sinh quadrature),
- :class:`sympy.Sum` term by term (or :func:`mpmath.nsum` for infinite sums),
- :class:`sympy.Limit` by evaluating ever closer to the limit point.

The witness is *independent* when the two expressions it evaluates differ after
:func:`sympy.expand` (unevaluated operations left standing), i.e. it does not evaluate one
expression twice.
"""

from __future__ import annotations

import functools
import itertools
import random
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef

from symsde._lambdify import lambdify_mpmath

__all__ = [
    "LIMIT_STEPS",
    "WITNESS_DIGITS",
    "WITNESS_POINTS",
    "WITNESS_TOLERANCE",
    "NotNumericError",
    "Witness",
    "WitnessOutcome",
    "apply_instance",
    "confining_polynomial",
    "evaluate",
    "polynomial",
    "rng_for",
    "witness_claim",
]

#: Digits used by the numeric witness.
WITNESS_DIGITS = 30
#: Default number of points per claim (typical points, one of size 10, one near 0).
WITNESS_POINTS = 8
#: Largest relative disagreement a witness accepts (10 digits of slack below 30).
WITNESS_TOLERANCE = mpmath.mpf("1e-20")
#: Distances 10**-k from the limit point at which a limit's argument is evaluated.
LIMIT_STEPS = (10, 20, 30, 40)
#: Largest error accepted at the closest of those points.
LIMIT_TOLERANCE = mpmath.mpf("1e-8")
#: Errors below this are rounding when judging whether a limit's error shrinks.
LIMIT_NOISE = mpmath.mpf("1e-30")

#: Unevaluated operations: ``doit`` carries them out, the witness evaluates them numerically.
_SPECIAL = (sp.Derivative, sp.Integral, sp.Sum, sp.Subs, sp.Limit)


class NotNumericError(ValueError):
    """An expression could not be evaluated to a number (a symbol without a value...)."""


def rng_for(*parts: object) -> random.Random:
    """A generator seeded by the text of ``parts`` (stable across runs and hash seeds)."""
    return random.Random(zlib.crc32(":".join(map(str, parts)).encode()))


# --------------------------------------------------------------------------------------------
# Families of instances
# --------------------------------------------------------------------------------------------
def _rational(rng: random.Random, lo: float, hi: float, den: int = 60) -> sp.Rational:
    return sp.Rational(rng.randint(int(lo * den), int(hi * den)), den)


def polynomial(var: sp.Symbol, degree: int, *, lo: float = -1, hi: float = 1
               ) -> Callable[[random.Random, dict], sp.Lambda]:
    """A family of polynomials in ``var`` with random rational coefficients in ``[lo, hi]``.

    The leading coefficient is kept away from zero so that the degree is exact.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> f = polynomial(x, 2)(rng_for(0), {})
    >>> sp.degree(f(x), x)
    2
    """

    def draw(rng: random.Random, _inst: dict) -> sp.Lambda:
        coeffs = [_rational(rng, lo, hi) for _ in range(degree)]
        lead = _rational(rng, 0.25, 1) * rng.choice([-1, 1])
        return sp.Lambda(var, lead * var**degree + sum(c * var**k for k, c in enumerate(coeffs)))

    return draw


def confining_polynomial(var: sp.Symbol, degree: int = 4
                         ) -> Callable[[random.Random, dict], sp.Lambda]:
    """A family of confining losses: even degree, positive leading coefficient.

    :math:`e^{-c\\,\\mathcal{L}}` is then integrable for every :math:`c > 0`.
    """
    if degree % 2 or degree < 2:
        raise ValueError("a confining polynomial needs an even degree >= 2")

    def draw(rng: random.Random, _inst: dict) -> sp.Lambda:
        coeffs = [_rational(rng, -1, 1) for _ in range(degree)]
        lead = _rational(rng, 0.25, 1)
        return sp.Lambda(var, lead * var**degree + sum(c * var**k for k, c in enumerate(coeffs)))

    return draw


# --------------------------------------------------------------------------------------------
# The witness
# --------------------------------------------------------------------------------------------
Draw = Any  # a concrete value, or a callable (rng, instance so far) -> value


class _Instance(dict):
    """Concrete functions drawn on first look-up, each from its own generator."""

    def __init__(self, families: Mapping[Any, Draw], base: int) -> None:
        super().__init__()
        self.families, self.base = families, base

    def __missing__(self, f: Any) -> Any:
        how = self.families[f]
        value = how(rng_for(self.base, f), self) if callable(how) and not isinstance(
            how, (sp.Basic, sp.FunctionClass)) else how
        self[f] = value
        return value


@dataclass(frozen=True)
class Witness:
    """How to make concrete instances and points for the numeric check of a claim.

    Parameters
    ----------
    functions : mapping
        Undefined functions (or symbols standing for them) and their instance: a
        :class:`sympy.Lambda`, or a family ``draw(rng, instance) -> Lambda`` (see
        :func:`confining_polynomial`); a draw may look up other functions of the instance
        (``instance[L]``, drawn on demand), so an instance can tie ``p`` to the drawn loss.
        Only the functions a claim uses are drawn, each from its own generator.
    values : mapping
        Symbols fixed at every point: a value, or ``draw(rng, instance) -> value``
        (evaluated after the functions).
    ranges : mapping
        Sampling interval ``(lo, hi)`` of a symbol; others are drawn by their assumptions.
    points : int
        Points per claim (at least 8 by default): typical ones, one where the symbols have
        size 10 and one close to 0 (where ``1/x`` and ``log x`` are singular).
    """

    functions: Mapping[Any, Draw] = field(default_factory=dict)
    values: Mapping[sp.Symbol, Draw] = field(default_factory=dict)
    ranges: Mapping[sp.Symbol, tuple[Any, Any]] = field(default_factory=dict)
    points: int = WITNESS_POINTS

    def with_(self, **changes: Any) -> Witness:
        """A copy with some fields replaced (``functions`` and ``values`` are merged)."""
        merged = {"functions": {**self.functions, **changes.pop("functions", {})},
                  "values": {**self.values, **changes.pop("values", {})},
                  "ranges": {**self.ranges, **changes.pop("ranges", {})},
                  "points": changes.pop("points", self.points)}
        if changes:
            raise TypeError(f"unknown witness fields {sorted(changes)}")
        return Witness(**merged)

    def draw(self, rng: random.Random, needed: Iterable[Any] | None = None
             ) -> tuple[dict[Any, Any], dict[sp.Symbol, Any]]:
        """Draw one instance: concrete functions and fixed values.

        Each function is drawn from its own generator (seeded from ``rng`` and its name),
        when first needed: only the functions in ``needed`` (all by default) and those
        their draws look up, so an instance does not depend on which others were drawn.
        """
        inst = _Instance(self.functions, rng.getrandbits(64))
        wanted = set(self.functions) if needed is None else set(needed)
        inst.update({f: inst[f] for f in self.functions if f in wanted})  # drawn on look-up
        vals: dict[sp.Symbol, Any] = {}
        for s, how in self.values.items():
            vals[s] = sp.sympify(how(rng_for(inst.base, s), inst) if callable(how) and not
                                 isinstance(how, sp.Basic) else how)
        return dict(inst), vals

    def sample(self, symbols: Sequence[sp.Symbol], rng: random.Random, k: int
               ) -> dict[sp.Symbol, sp.Expr]:
        """Point number ``k``: typical values, then size 10 (``k = points-2``), then near 0."""
        kind = "typical"
        if k == self.points - 2:
            kind = "large"
        elif k == self.points - 1:
            kind = "small"
        point: dict[sp.Symbol, sp.Expr] = {}
        for s in sorted(symbols, key=lambda t: t.name):
            point[s] = self._one(s, rng, kind)
        return point

    def _one(self, s: sp.Symbol, rng: random.Random, kind: str) -> sp.Expr:
        u = sp.Rational(rng.randint(1, 10**6 - 1), 10**6)
        if s in self.ranges:
            lo, hi = (sp.Rational(v) if not isinstance(v, sp.Basic) else v
                      for v in self.ranges[s])
            if s.is_integer:
                lo_i, hi_i = int(lo), int(hi)
                return sp.Integer({"large": hi_i, "small": lo_i}.get(kind,
                                                                    rng.randint(lo_i, hi_i)))
            if kind == "large":
                return hi - (hi - lo) * u / 1000
            if kind == "small":
                return lo + (hi - lo) * u / 1000
            return lo + (hi - lo) * u
        if s.is_integer:
            positive = s.is_positive or s.is_nonnegative
            if kind == "large":
                return sp.Integer(10)
            if kind == "small":
                return sp.Integer(1 if positive else -1)
            return sp.Integer(rng.randint(1 if positive else -9, 9))
        sign = 1
        if s.is_negative:
            sign = -1
        elif not (s.is_positive or s.is_nonnegative):
            sign = rng.choice([-1, 1])
        if kind == "large":
            return sign * (10 - u / 10)
        if kind == "small":
            return sign * u / 1000
        return sign * (sp.Rational(1, 5) + sp.Rational(23, 10) * u)


# --------------------------------------------------------------------------------------------
# Instantiation and numeric evaluation
# --------------------------------------------------------------------------------------------
def instantiate(expr: Any, functions: Mapping[Any, Any], values: Mapping[sp.Symbol, Any]) -> Any:
    """Replace undefined functions by concrete ones and fixed symbols by their values.

    Derivatives, integrals, sums and limits are left unevaluated: the numeric evaluation
    takes care of them.
    """
    out = expr
    for f, concrete in functions.items():
        if isinstance(f, sp.FunctionClass):
            out = apply_instance(out, f, concrete)
        else:
            out = out.subs(f, concrete)
    if values:
        out = out.subs(dict(values))
    return out


def apply_instance(expr: Any, f: sp.FunctionClass, concrete: Any) -> Any:
    """Every application ``f(a)`` in ``expr`` replaced by ``concrete(a)``, inside sums and
    integrals too (where :meth:`~sympy.core.basic.Basic.subs` of a function fails); the
    innermost first when applications are nested."""
    if not callable(concrete):
        return expr.replace(f, concrete) if isinstance(expr, sp.Basic) else expr
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda e: apply_instance(e, f, concrete))
    if not isinstance(expr, sp.Basic):
        return expr
    for _ in range(100):
        calls = [a for a in expr.atoms(AppliedUndef) if a.func == f
                 and not any(b.has(f) for b in a.args)]
        if not calls:
            return expr
        expr = expr.xreplace({a: concrete(*a.args) for a in calls})
    raise NotNumericError(f"applications of {f} nested more than 100 deep")


def _mp(value: Any) -> Any:
    if value is sp.oo:
        return mpmath.inf
    if value is -sp.oo:
        return -mpmath.inf
    v = sp.sympify(value)
    n = sp.N(v, mpmath.mp.dps + 5)
    if n.is_real is False or isinstance(n, sp.Add):
        return mpmath.mpc(sp.re(n), sp.im(n))
    return mpmath.mpf(n)


@functools.lru_cache(maxsize=8192)
def _leaf_fn(expr: sp.Expr, names: tuple[sp.Symbol, ...]) -> Callable[..., Any]:
    return lambdify_mpmath(names, expr)  # a symbol named "mpf" is an argument


def _outermost_special(expr: sp.Basic) -> list[sp.Basic]:
    out: list[sp.Basic] = []

    def walk(e: sp.Basic) -> None:
        if isinstance(e, _SPECIAL):
            out.append(e)
            return
        for a in e.args:
            if isinstance(a, sp.Basic):
                walk(a)

    walk(expr)
    return out


def evaluate(expr: Any, env: Mapping[sp.Symbol, Any]) -> Any:
    """Evaluate ``expr`` at the point ``env`` by mpmath, operations included.

    Examples
    --------
    >>> import sympy as sp, mpmath
    >>> x = sp.Symbol("x")
    >>> with mpmath.workdps(30):
    ...     v = evaluate(sp.Derivative(sp.sin(x), x), {x: mpmath.mpf(0)})
    >>> mpmath.nstr(v, 10)
    '1.0'
    """
    expr = sp.sympify(expr)
    if isinstance(expr, sp.Derivative):
        return _derivative(expr, env)
    if isinstance(expr, sp.Integral):
        return _integral(expr, env)
    if isinstance(expr, sp.Sum):
        return _sum(expr, env)
    if isinstance(expr, sp.Subs):
        inner = dict(env)
        for v, p in zip(expr.variables, expr.point, strict=True):
            inner[v] = evaluate(p, env)
        return evaluate(expr.expr, inner)
    if isinstance(expr, sp.Limit):
        raise NotNumericError("a limit inside an expression; state it as the claim's side")
    specials = _outermost_special(expr)
    if specials:
        # Fixed names (not Dummies) so the outer expression, and its lambdified form, is the
        # same at every point and cached.
        reps = {node: sp.Symbol(f"_witness_{i}") for i, node in enumerate(specials)}
        inner = dict(env)
        for node, d in reps.items():
            inner[d] = evaluate(node, env)
        return evaluate(expr.xreplace(reps), inner)
    free = tuple(sorted(expr.free_symbols, key=sp.default_sort_key))
    missing = [s for s in free if s not in env]
    if missing:
        raise NotNumericError(f"no value for {', '.join(map(str, missing))}")
    if not free:
        return _mp(expr) if expr.is_number else _leaf_fn(expr, ())()
    return _leaf_fn(expr, free)(*(env[s] for s in free))


def _closure(body: Any, v: sp.Symbol, env: Mapping[sp.Symbol, Any]) -> Callable[[Any], Any]:
    """``t -> body`` at ``env`` with ``v = t``; lambdified once when ``body`` has no
    operation left (quadrature and differences call it hundreds of times)."""
    body = sp.sympify(body)
    if body.has(*_SPECIAL):
        # Operations that do not involve v (a derivative of p at x inside an integral over
        # u) have one value for every t: evaluate them once, not at every quadrature node.
        fixed = [node for node in _outermost_special(body) if v not in node.free_symbols]
        if fixed:
            env = dict(env)
            reps = {}
            for i, node in enumerate(fixed):
                name = sp.Symbol(f"_fixed_{v}_{i}")
                env[name] = evaluate(node, env)
                reps[node] = name
            body = body.xreplace(reps)
    if not body.has(*_SPECIAL):
        free = tuple(sorted(body.free_symbols | {v}, key=sp.default_sort_key))
        missing = [s for s in free if s != v and s not in env]
        if missing:
            raise NotNumericError(f"no value for {', '.join(map(str, missing))}")
        fn = _leaf_fn(body, free)
        at = [None if s == v else env[s] for s in free]
        k = free.index(v)

        def fast(t: Any) -> Any:
            args = list(at)
            args[k] = t
            return fn(*args)

        return fast

    def slow(t: Any) -> Any:
        inner = dict(env)
        inner[v] = t
        return evaluate(body, inner)

    return slow


def _derivative(d: sp.Derivative, env: Mapping[sp.Symbol, Any]) -> Any:
    (v, n), *rest = d.variable_count
    body = sp.Derivative(d.expr, *rest) if rest else d.expr
    if v not in env and not body.has(v):
        return mpmath.mpf(0)
    if v not in env:
        raise NotNumericError(f"no value for the differentiation variable {v}")
    return mpmath.diff(_closure(body, v, env), env[v], int(n))


_CONSTANTS: dict[tuple[sp.Basic, int], Any] = {}


def _integral(it: sp.Integral, env: Mapping[sp.Symbol, Any]) -> Any:
    if not it.free_symbols:
        # A number (e.g. the integral of u Phi(-u) over (0, oo)): the same at every point
        # and in every step, so computed once per precision.
        key = (it, mpmath.mp.dps)
        if key not in _CONSTANTS:
            _CONSTANTS[key] = _integral_value(it, env)
        return _CONSTANTS[key]
    return _integral_value(it, env)


def _integral_value(it: sp.Integral, env: Mapping[sp.Symbol, Any]) -> Any:
    (lim, *rest) = it.limits
    body = sp.Integral(it.function, *rest) if rest else it.function
    if len(lim) != 3:
        raise NotNumericError(f"an indefinite integral has no value: {it}")
    v, a, b = lim
    lo, hi = _mp(a) if a.is_number or a.is_infinite else evaluate(a, env), \
        _mp(b) if b.is_number or b.is_infinite else evaluate(b, env)
    # The witness's own 30 digits (20 fewer than the working precision, 10 more than the
    # tolerance needs; a limit's distance 10^-j adds j): tanh-sinh's nodes grow with the
    # digits asked for. A re-check at more digits raises it too.
    with mpmath.workdps(mpmath.mp.dps - 20):
        return +mpmath.quad(_closure(body, v, env), [lo, hi])


def _sum(s: sp.Sum, env: Mapping[sp.Symbol, Any]) -> Any:
    (lim, *rest) = s.limits
    body = sp.Sum(s.function, *rest) if rest else s.function
    v, a, b = lim
    lo = a if a.is_number else sp.sympify(evaluate(a, env))
    hi = b if (b.is_number or b.is_infinite) else sp.sympify(evaluate(b, env))
    f = _closure(body, v, env)

    if hi.is_infinite:
        return mpmath.nsum(f, [int(lo), mpmath.inf])
    lo_i, hi_i = int(sp.Integer(round(float(lo)))), int(sp.Integer(round(float(hi))))
    if hi_i - lo_i > 100_000:
        raise NotNumericError(f"a sum of {hi_i - lo_i} terms is too long for the witness")
    return mpmath.fsum(f(mpmath.mpf(k)) for k in range(lo_i, hi_i + 1))


def _terms(expr: Any) -> list[Any]:
    return list(sp.Add.make_args(expr)) if isinstance(expr, sp.Basic) else [expr]


def _entries(expr: Any) -> list[Any]:
    return list(expr) if isinstance(expr, sp.MatrixBase) else [expr]


# --------------------------------------------------------------------------------------------
# Comparing two sides
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WitnessOutcome:
    """What the witness found for one claim."""

    ok: bool
    max_error: float | None
    points: int
    independent: bool
    detail: str = ""


def same_expression(a: Any, b: Any) -> bool:
    """True when ``a`` and ``b`` are one expression after :func:`sympy.expand`."""
    ea, eb = _entries(a), _entries(b)
    if len(ea) != len(eb):
        return False
    try:
        return all(sp.expand(x) == sp.expand(y) for x, y in zip(ea, eb, strict=True))
    except Exception:  # an expression expand cannot handle is not the same one
        return False


def _approach(expr: Any, k: int) -> Any:
    def at(lim: sp.Limit) -> sp.Expr:
        arg, var, x0, direction = lim.args
        h = sp.Float(10, WITNESS_DIGITS + 20) ** (-k)
        if x0 is sp.oo:
            value = 1 / h
        elif x0 is -sp.oo:
            value = -1 / h
        else:
            value = x0 - h if str(direction) == "-" else x0 + h
        return arg.subs(var, value)

    return expr.replace(lambda t: isinstance(t, sp.Limit), at)


def _compare(lhs: Any, rhs: Any, env: Mapping[sp.Symbol, Any], floor: int = 0) -> Any:
    """Largest relative difference of the two sides at one point (entrywise).

    ``floor=1`` measures differences of values below 1 absolutely (for limits, where the
    argument approaches a limit of 0 and a relative error would stay at 1).
    """
    worst = mpmath.mpf(0)
    for a_expr, b_expr in zip(_entries(lhs), _entries(rhs), strict=True):
        a, b = evaluate(a_expr, env), evaluate(b_expr, env)
        for v in (a, b):
            if not isinstance(v, (mpmath.mpf, mpmath.mpc, int, float)) or mpmath.isnan(v):
                raise NotNumericError(f"the witness left a non-numeric value {v}")
        diff = abs(a - b)
        if diff == 0:
            continue
        scale = max(abs(a), abs(b), floor)
        err = diff / scale if scale else diff
        if err > WITNESS_TOLERANCE and not floor:
            # Both sides near 0 by cancellation: rounding noise shrinks with more digits,
            # a real difference does not.
            with mpmath.workdps(mpmath.mp.dps + 30):
                env2 = {k: _mp(sp.Rational(str(v))) if isinstance(v, mpmath.mpf) else v
                        for k, v in env.items()}
                diff2 = abs(evaluate(a_expr, env2) - evaluate(b_expr, env2))
            if diff2 < diff * mpmath.mpf("1e-20"):
                err = mpmath.mpf(0)
        worst = max(worst, err)
    return worst


def witness_claim(lhs: Any, rhs: Any, witness: Witness, rng: random.Random) -> WitnessOutcome:
    """Draw an instance and points from ``rng``; evaluate both sides of ``lhs = rhs``.

    The witness is independent when ``lhs`` and ``rhs`` (before the instance is drawn) are
    different expressions after :func:`sympy.expand`.
    """
    independent = not same_expression(lhs, rhs)
    try:
        used = {f for f in witness.functions
                if any(isinstance(e, sp.Basic) and e.has(f)
                       for side in (lhs, rhs) for e in _entries(side))}
        functions, values = witness.draw(rng, used)
        a = instantiate(lhs, functions, values)
        b = instantiate(rhs, functions, values)
    except Exception as exc:  # a malformed instance is a failing witness, not a crash
        return WitnessOutcome(False, None, 0, independent,
                              f"could not instantiate the witness: {exc}")
    free: set[sp.Symbol] = set()
    for side in (a, b):
        free |= getattr(side, "free_symbols", set())
    for side in (a, b):
        for e in _entries(side):
            if isinstance(e, sp.Basic) and e.atoms(AppliedUndef):
                return WitnessOutcome(False, None, 0, independent,
                                      "the witness has no instance for "
                                      f"{sorted(map(str, e.atoms(AppliedUndef)))}")
    has_limit = any(isinstance(e, sp.Basic) and e.has(sp.Limit)
                    for side in (a, b) for e in _entries(side))
    worst = mpmath.mpf(0)
    with mpmath.workdps(WITNESS_DIGITS + 20):
        for k in range(max(1, witness.points)):
            point = witness.sample(list(free), rng, k)
            env = {s: _mp(v) for s, v in point.items()}
            try:
                if has_limit:
                    # 10**-j from the limit point: j more digits, or the cancellation in a
                    # difference quotient eats the answer.
                    errs = []
                    for j in LIMIT_STEPS:
                        with mpmath.workdps(mpmath.mp.dps + j):
                            errs.append(_compare(_approach(a, j), _approach(b, j), env, 1))
                    # Differences below 1e-30 are the quadrature's rounding, not a trend.
                    errs = [mpmath.mpf(0) if e <= LIMIT_NOISE else e for e in errs]
                    shrinking = all(y <= x for x, y in itertools.pairwise(errs))
                    if not shrinking or errs[-1] > LIMIT_TOLERANCE:
                        return WitnessOutcome(
                            False, float(errs[-1]), k, independent,
                            "approaching the limit point (distances 1e-10 ... 1e-40) the "
                            f"error does not shrink below 1e-8: {[float(e) for e in errs]}")
                    worst = max(worst, errs[-1])
                else:
                    worst = max(worst, _compare(a, b, env))
            except (NotNumericError, ZeroDivisionError, ValueError, TypeError) as exc:
                return WitnessOutcome(False, None, k, independent,
                                      f"numeric evaluation failed at {_fmt_point(point)}: {exc}")
    ok = bool(worst <= (LIMIT_TOLERANCE if has_limit else WITNESS_TOLERANCE))
    detail = "" if ok else f"the sides differ by {mpmath.nstr(worst, 3)} (relative)"
    return WitnessOutcome(ok, float(worst), max(1, witness.points), independent, detail)


def _fmt_point(point: Mapping[sp.Symbol, Any]) -> str:
    return "{" + ", ".join(f"{k}={sp.Float(v, 6)}" for k, v in point.items()) + "}"
