"""The proof kernel: derivations as ordered, machine-checked steps.

A :class:`Derivation` is a list of :class:`Step` objects. Each step makes one
:class:`Claim` (``lhs = rhs``), gives a reason in words and the slide of the notes it
comes from, and carries a :class:`Check` that *computes*:

``Identity``
    both sides agree after substituting the givens and simplifying;
``SolvesODE``
    the claim is a solution of an ODE (:func:`sympy.checkodesol`);
``Value``
    the left side is an operation (integral, limit, solve, series, ...) whose computed
    value equals the right side;
``FollowsFrom``
    the claim is what a stated operation (divide by :math:`p`, integrate, exponentiate)
    turns an earlier step's claim into.

Every symbolic check is backed by an independent numeric witness: both sides are
evaluated by mpmath at 50 significant digits at several random admissible points,
with undefined functions replaced by a concrete model instance (:class:`Witness`).

A step's verdict is ``holds``, ``fails`` or ``erratum``: the notes' claim fails and the
recorded corrected claim holds, both symbolically and numerically.
"""

from __future__ import annotations

import functools
import itertools
import json
import random
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import mpmath
import sympy as sp

from symsde._timeout import time_limit
from symsde.errors import SymbolicTimeoutError

__all__ = [
    "Check",
    "CheckOutcome",
    "Claim",
    "Definition",
    "Derivation",
    "DerivationResult",
    "EquationCheck",
    "FollowsFrom",
    "Identity",
    "SolvesODE",
    "Step",
    "StepResult",
    "Value",
    "Verdict",
    "Witness",
    "check_equation",
]

Verdict = Literal["holds", "fails", "erratum"]

#: Digits used by the numeric witness.
WITNESS_DIGITS = 50
#: Wall-clock limit of one witness evaluation (main thread only).
WITNESS_SECONDS = 30.0
#: Largest relative disagreement a witness accepts (10 digits of slack below 50).
WITNESS_TOLERANCE = sp.Float("1e-40", WITNESS_DIGITS)


# --------------------------------------------------------------------------------------------
# Claims
# --------------------------------------------------------------------------------------------
def _sym(value: Any) -> Any:
    if isinstance(value, sp.MatrixBase):
        return sp.ImmutableMatrix(value)
    if isinstance(value, (list, tuple)):
        return sp.ImmutableMatrix(value)
    return sp.sympify(value)


@dataclass(frozen=True)
class Claim:
    """A claimed equality ``lhs = rhs`` of expressions or matrices.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> Claim(sp.sin(x)**2 + sp.cos(x)**2, 1).latex()
    '\\\\sin^{2}{\\\\left(x \\\\right)} + \\\\cos^{2}{\\\\left(x \\\\right)} = 1'
    """

    lhs: Any
    rhs: Any

    def __post_init__(self) -> None:
        object.__setattr__(self, "lhs", _sym(self.lhs))
        object.__setattr__(self, "rhs", _sym(self.rhs))

    @classmethod
    def of(cls, value: Claim | sp.Equality | tuple[Any, Any]) -> Claim:
        """Coerce a Claim, a SymPy ``Eq`` or a pair into a Claim."""
        if isinstance(value, Claim):
            return value
        if isinstance(value, sp.Equality):
            return cls(value.lhs, value.rhs)
        if isinstance(value, tuple) and len(value) == 2:
            return cls(*value)
        raise TypeError(f"a claim must be a Claim, an Eq or a (lhs, rhs) pair, got {value!r}")

    @property
    def difference(self) -> Any:
        """``lhs - rhs``."""
        return self.lhs - self.rhs

    def map(self, fn: Callable[[Any], Any]) -> Claim:
        """Apply the same operation to both sides."""
        return Claim(fn(self.lhs), fn(self.rhs))

    def subs(self, *args: Any, **kw: Any) -> Claim:
        return Claim(self.lhs.subs(*args, **kw), self.rhs.subs(*args, **kw))

    def latex(self) -> str:
        return f"{sp.latex(self.lhs)} = {sp.latex(self.rhs)}"

    def text(self) -> str:
        """One line of SymPy syntax (matrices as nested lists)."""
        def one(e: Any) -> str:
            return sp.sstr(e.tolist()) if isinstance(e, sp.MatrixBase) else sp.sstr(e)

        return f"{one(self.lhs)} = {one(self.rhs)}"

    def __str__(self) -> str:
        return self.text()


# --------------------------------------------------------------------------------------------
# Numeric witness
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Witness:
    """A concrete model instance on which claims are evaluated numerically.

    Parameters
    ----------
    functions : mapping
        Undefined functions replaced by concrete ones, e.g. ``{L: Lambda(x, x**4/4)}``.
    values : mapping
        Symbols fixed to given values at every point.
    ranges : mapping
        Sampling interval ``(lo, hi)`` for some symbols; others are drawn according to
        their assumptions (positive: ``(0.2, 2.5)``, integer: ``1..9``, real: ``(-2, 2)``).
    points : int
        How many random points to evaluate at.
    """

    functions: Mapping[Any, Any] = field(default_factory=dict)
    values: Mapping[sp.Symbol, Any] = field(default_factory=dict)
    ranges: Mapping[sp.Symbol, tuple[Any, Any]] = field(default_factory=dict)
    points: int = 3

    def instantiate(self, expr: Any) -> Any:
        """Replace undefined functions by the concrete instance and carry out derivatives.

        Integrals, limits and sums are left for the numeric evaluation (mpmath quadrature,
        evaluation ever closer to the limit point, summation), so the witness never reuses
        SymPy's symbolic answer.
        """
        out = expr
        for f, concrete in self.functions.items():
            # replace() also reaches inside Sum/Integral, where subs() of a function fails.
            out = out.replace(f, concrete) if isinstance(f, sp.FunctionClass) \
                else out.subs(f, concrete)
        if self.values:
            out = out.subs(dict(self.values))
        if isinstance(out, sp.Basic) and out.has(sp.Derivative, sp.Subs):
            out = out.replace(lambda e: isinstance(e, (sp.Derivative, sp.Subs)),
                              lambda e: e.doit())
        return out

    def sample(self, symbols: Sequence[sp.Symbol], rng: random.Random) -> dict[sp.Symbol, Any]:
        point: dict[sp.Symbol, Any] = {}
        for s in sorted(symbols, key=lambda t: t.name):
            if s in self.ranges:
                lo, hi = (sp.Rational(v) if not isinstance(v, sp.Basic) else v
                          for v in self.ranges[s])
                if s.is_integer:
                    point[s] = sp.Integer(rng.randint(int(lo), int(hi)))
                else:
                    point[s] = lo + (hi - lo) * sp.Rational(rng.randint(1, 10**6 - 1), 10**6)
            elif s.is_integer:
                lo_i = 1 if s.is_positive or s.is_nonnegative else -9
                point[s] = sp.Integer(rng.randint(lo_i, 9))
            elif s.is_positive or s.is_nonnegative:
                point[s] = sp.Rational(rng.randint(200_000, 2_500_000), 10**6)
            elif s.is_negative:
                point[s] = -sp.Rational(rng.randint(200_000, 2_500_000), 10**6)
            else:
                point[s] = sp.Rational(rng.randint(-2_000_000, 2_000_000), 10**6)
        return point


#: Distances from the limit point at which a limit's argument is evaluated.
LIMIT_STEPS = (10, 20, 30, 40)
#: Largest error accepted at the closest of those points.
LIMIT_TOLERANCE = sp.Float("1e-8")


def _approach(expr: Any, k: int) -> Any:
    """Replace every Limit by its argument evaluated 10**-k away from the limit point."""

    def at(lim: sp.Limit) -> sp.Expr:
        arg, var, x0, direction = lim.args
        # Floats, not exact rationals: (1 - a h)**(t/h) must not become a huge exact power.
        h = sp.Float(10, WITNESS_DIGITS + 20) ** (-k)
        if x0 is sp.oo:
            value = 1 / h
        elif x0 is -sp.oo:
            value = -1 / h
        else:
            value = x0 - h if str(direction) == "-" else x0 + h
        return arg.subs(var, value)

    return expr.replace(lambda t: isinstance(t, sp.Limit), at)


def _mp(value: sp.Expr) -> Any:
    if value is sp.oo:
        return mpmath.inf
    if value is -sp.oo:
        return -mpmath.inf
    return mpmath.mpf(sp.Float(value, WITNESS_DIGITS + 20))


@functools.lru_cache(maxsize=4096)
def _quad(integral: sp.Integral) -> sp.Expr:
    """A definite 1-D integral by mpmath's tanh-sinh quadrature (SymPy's evalf is slower).

    Cached: the same integral recurs across points, steps and mutants.
    """
    limits = integral.limits
    if len(limits) != 1 or len(limits[0]) != 3:
        return integral.evalf(WITNESS_DIGITS)
    var, a, b = limits[0]
    body = integral.function
    if body.free_symbols - {var} or not (a.is_number and b.is_number):
        return integral
    f = sp.lambdify(var, body, modules="mpmath")
    with mpmath.workdps(WITNESS_DIGITS + 8):
        value = mpmath.quad(f, [_mp(a), _mp(b)])
    return sp.Float(value, WITNESS_DIGITS + 5)


def _numeric(expr: Any, point: Mapping[sp.Symbol, Any]) -> list[sp.Expr]:
    entries = list(expr) if isinstance(expr, sp.MatrixBase) else [expr]
    out = []
    for e in entries:
        v = sp.sympify(e).subs(dict(point))
        if v.has(sp.Integral):
            v = v.replace(lambda t: isinstance(t, sp.Integral), _quad)
        out.append(v.evalf(WITNESS_DIGITS))
    return out


@dataclass(frozen=True)
class WitnessOutcome:
    ok: bool
    max_error: float | None
    points: int
    detail: str = ""


def _witness_claim(claim: Claim, witness: Witness, seed_text: str) -> WitnessOutcome:
    """Evaluate both sides of the claim at random points; compare to 40 digits."""
    try:
        lhs = witness.instantiate(claim.lhs)
        rhs = witness.instantiate(claim.rhs)
    except SymbolicTimeoutError:
        raise
    except Exception as exc:  # a malformed instance is a failing witness, not a crash
        return WitnessOutcome(False, None, 0, f"could not instantiate the witness: {exc}")
    free = set()
    for side in (lhs, rhs):
        free |= getattr(side, "free_symbols", set())
    rng = random.Random(zlib.crc32(seed_text.encode()))
    has_limit = any(isinstance(side, sp.Basic) and side.has(sp.Limit) for side in (lhs, rhs))
    if has_limit:
        return _witness_limit(lhs, rhs, witness, rng, free)
    worst = sp.Float(0)
    for _ in range(max(1, witness.points)):
        point = witness.sample(list(free), rng)
        try:
            lv, rv = _numeric(lhs, point), _numeric(rhs, point)
        except SymbolicTimeoutError:
            raise
        except Exception as exc:
            return WitnessOutcome(False, None, 0, f"numeric evaluation failed: {exc}")
        for a, b in zip(lv, rv, strict=True):
            if not (a.is_number and b.is_number) or a.has(sp.nan) or b.has(sp.nan):
                return WitnessOutcome(
                    False, None, 0,
                    f"witness left a non-numeric value ({a} vs {b}); give the witness concrete "
                    "functions and values for every undefined symbol",
                )
            scale = max(sp.Float(1), abs(a), abs(b))
            err = abs(a - b) / scale
            if not err.is_number:
                return WitnessOutcome(False, None, 0, f"non-numeric residual {err}")
            worst = max(worst, err)
    ok = bool(worst <= WITNESS_TOLERANCE)
    return WitnessOutcome(ok, float(worst), max(1, witness.points))


def _witness_limit(lhs: Any, rhs: Any, witness: Witness, rng: random.Random,
                   free: set[sp.Symbol]) -> WitnessOutcome:
    """Limits: the error must shrink as the point approaches and end below 1e-8."""
    worst = sp.Float(0)
    for _ in range(max(1, witness.points)):
        point = {s: sp.Float(v, WITNESS_DIGITS + 20)
                 for s, v in witness.sample(list(free), rng).items()}
        errors = []
        for k in LIMIT_STEPS:
            lv = _numeric(_approach(lhs, k), point)
            rv = _numeric(_approach(rhs, k), point)
            err = max(abs(a - b) / max(sp.Float(1), abs(b)) for a, b in zip(lv, rv, strict=True))
            # Below the witness tolerance a difference is rounding noise, not a trend.
            errors.append(sp.Float(0) if err.is_number and err <= WITNESS_TOLERANCE else err)
        if not all(e.is_number for e in errors):
            return WitnessOutcome(False, None, 0, f"non-numeric limit errors {errors}")
        shrinking = all(b <= a for a, b in itertools.pairwise(errors))
        if not shrinking or errors[-1] > LIMIT_TOLERANCE:
            return WitnessOutcome(
                False, float(errors[-1]), 0,
                "approaching the limit point (distances 1e-10 ... 1e-40) the error "
                f"does not shrink below {LIMIT_TOLERANCE}: {[float(e) for e in errors]}",
            )
        worst = max(worst, errors[-1])
    return WitnessOutcome(True, float(worst), max(1, witness.points))


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckOutcome:
    """What a symbolic check found: whether it passed and the simplified residual."""

    ok: bool
    residual: Any
    detail: str = ""


def is_zero(expr: Any) -> tuple[bool, Any]:
    """Decide ``expr == 0`` by cheap means first, then :func:`sympy.simplify`."""
    if isinstance(expr, sp.MatrixBase):
        res = [is_zero(e) for e in expr]
        return all(r[0] for r in res), sp.ImmutableMatrix(expr.shape[0], expr.shape[1],
                                                           [r[1] for r in res])
    e = sp.sympify(expr)
    if e == 0:
        return True, sp.Integer(0)
    e = e.doit() if e.has(sp.Derivative, sp.Integral, sp.Subs) else e
    for simplifier in (sp.expand, sp.cancel, sp.simplify):
        try:
            e = simplifier(e)
        except (sp.PolynomialError, TypeError, ValueError):
            continue
        if e == 0:
            return True, sp.Integer(0)
    return False, e


class Check:
    """Base class: a computation that decides whether a claim holds."""

    kind: str = "check"

    def run(self, claim: Claim, context: StepContext) -> CheckOutcome:
        raise NotImplementedError

    def witness_claim(self, claim: Claim, context: StepContext) -> Claim:
        """The relation the numeric witness evaluates (by default the claim itself)."""
        return claim

    def describe(self) -> str:
        return self.kind


@dataclass
class StepContext:
    """What a check may see: the derivation's earlier (effective) claims."""

    previous: dict[str, Claim]
    order: list[str]
    step_id: str

    def claim_of(self, step_id: str | None) -> Claim:
        if step_id is None:
            idx = self.order.index(self.step_id)
            if idx == 0:
                raise LookupError(f"step {self.step_id!r} follows from nothing: it is the first")
            step_id = self.order[idx - 1]
        return self.previous[step_id]


@dataclass(frozen=True)
class Identity(Check):
    """Both sides agree after substituting ``givens`` and simplifying.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> Identity().run(Claim((x + 1)**2, x**2 + 2*x + 1), None).ok
    True
    >>> Identity().run(Claim((x + 1)**2, x**2 + 1), None).residual
    2*x
    """

    givens: Mapping[Any, Any] = field(default_factory=dict)
    kind: str = "identity"

    def run(self, claim: Claim, context: StepContext | None) -> CheckOutcome:
        diff = claim.difference
        if self.givens:
            diff = diff.subs(dict(self.givens))
        ok, residual = is_zero(diff)
        return CheckOutcome(ok, residual)

    def witness_claim(self, claim: Claim, context: StepContext) -> Claim:
        return claim.subs(dict(self.givens)) if self.givens else claim

    def describe(self) -> str:
        if self.givens:
            g = ", ".join(f"{sp.sstr(k)} = {sp.sstr(v)}" for k, v in self.givens.items())
            return f"identity given {g}"
        return "identity"


@dataclass(frozen=True)
class SolvesODE(Check):
    """The claim ``f(x) = expr`` solves the ODE (checked by :func:`sympy.checkodesol`).

    A linear ODE is solved by every multiple of a solution, so a claim about *the*
    solution pins it down with initial conditions ``ics`` (``{f(x0): value}``), which are
    checked as well.
    """

    ode: Any
    ics: Mapping[Any, Any] = field(default_factory=dict)
    kind: str = "solves-ode"

    def _ode(self) -> sp.Equality:
        ode = self.ode
        return ode if isinstance(ode, sp.Equality) else sp.Eq(ode, 0)

    def _ics_sides(self, claim: Claim) -> list[tuple[Any, Any]]:
        """(claimed value at x0, required value) for each initial condition."""
        var = claim.lhs.args[0]
        return [(claim.rhs.subs(var, point.args[0]), sp.sympify(value))
                for point, value in self.ics.items()]

    def run(self, claim: Claim, context: StepContext | None) -> CheckOutcome:
        ok, residual = sp.checkodesol(self._ode(), sp.Eq(claim.lhs, claim.rhs))
        if not ok:
            ok, residual = is_zero(residual)
        if not ok:
            return CheckOutcome(False, residual)
        for got, want in self._ics_sides(claim):
            ic_ok, ic_res = is_zero(got - want)
            if not ic_ok:
                return CheckOutcome(False, ic_res, "initial condition not met")
        return CheckOutcome(True, sp.Integer(0))

    def witness_claim(self, claim: Claim, context: StepContext) -> Claim:
        # The ODE with the claim substituted, and each initial condition, side by side.
        ode = self._ode()
        ics = self._ics_sides(claim)
        lhs = [ode.lhs.subs(claim.lhs, claim.rhs), *(g for g, _ in ics)]
        rhs = [ode.rhs.subs(claim.lhs, claim.rhs), *(w for _, w in ics)]
        return Claim(sp.Matrix(lhs), sp.Matrix(rhs))

    def describe(self) -> str:
        extra = ""
        if self.ics:
            extra = " with " + ", ".join(f"{sp.sstr(k)} = {sp.sstr(v)}"
                                         for k, v in self.ics.items())
        return f"solves the ODE {sp.sstr(self._ode())}{extra}"


@dataclass(frozen=True)
class Value(Check):
    """The left side is computed (``compute()`` or ``lhs.doit()``) and must equal the right side.

    Use for integrals, limits, sums, series coefficients, ``dsolve`` and ``solve``. The
    claim's left side is what the notes write (an unevaluated ``Integral``, a named
    quantity); ``compute`` is the SymPy computation that produces its value. The numeric
    witness compares the computed value with the right side; when there is no ``compute``
    it evaluates the unevaluated left side itself (mpmath quadrature for an integral), and
    with ``numeric_lhs=True`` it does both (for a left side that is an integral, limit or
    sum needing no other context).

    Examples
    --------
    >>> import sympy as sp
    >>> u = sp.Symbol("u", positive=True)
    >>> Value().run(Claim(sp.Integral(sp.exp(-u), (u, 0, sp.oo)), 1), None).ok
    True
    """

    compute: Callable[[], Any] | None = None
    label: str = ""
    numeric_lhs: bool = False
    kind: str = "value"
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def computed(self, claim: Claim) -> Any:
        if self.compute is None:
            return claim.lhs.doit()
        if "value" not in self._memo:  # the same computation serves claim and correction
            self._memo["value"] = _sym(self.compute())
        return self._memo["value"]

    def run(self, claim: Claim, context: StepContext | None) -> CheckOutcome:
        value = self.computed(claim)
        ok, residual = is_zero(_sym(value) - claim.rhs)
        return CheckOutcome(ok, residual, "" if ok else f"computed value: {sp.sstr(value)}")

    def witness_claim(self, claim: Claim, context: StepContext) -> Claim:
        if self.compute is None:
            return claim
        computed = self.computed(claim)
        if self.numeric_lhs:
            # The left side is itself computable (an integral, limit or sum with every
            # symbol it needs): evaluate it numerically too, so the witness does not rest
            # on SymPy's closed form alone.
            return Claim(sp.Matrix([computed, claim.lhs]), sp.Matrix([claim.rhs, claim.rhs]))
        return Claim(computed, claim.rhs)

    def describe(self) -> str:
        return f"computed: {self.label}" if self.label else "computed value"


@dataclass(frozen=True)
class FollowsFrom(Check):
    """The claim is what ``operation`` makes of an earlier step's claim.

    ``source`` names that step (default: the previous one). The claim must agree with the
    derived relation: ``(lhs - rhs)`` of both differ by zero.
    """

    operation: Callable[[Claim], Claim] = field(default=lambda c: c)
    description: str = "rearranging"
    source: str | None = None
    kind: str = "follows-from"

    def derived(self, context: StepContext) -> Claim:
        return Claim.of(self.operation(context.claim_of(self.source)))

    def run(self, claim: Claim, context: StepContext | None) -> CheckOutcome:
        if context is None:
            raise ValueError("FollowsFrom needs the derivation context")
        derived = self.derived(context)
        ok, residual = is_zero(claim.difference - derived.difference)
        return CheckOutcome(ok, residual, "" if ok else f"derived: {derived.text()}")

    def witness_claim(self, claim: Claim, context: StepContext) -> Claim:
        # Numerically, the claim and the derived relation must have equal lhs - rhs.
        return Claim(claim.difference, self.derived(context).difference)

    def describe(self) -> str:
        src = f" step {self.source!r}" if self.source else " the previous step"
        return f"follows from{src} by {self.description}"


# --------------------------------------------------------------------------------------------
# Steps and derivations
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One claim of a derivation, with its reason, its slide and its check.

    ``corrected`` records the right form of a claim the notes get wrong; ``erratum`` says
    what the notes' form would do. ``equations`` lists the displayed equations of the
    notes this step covers.
    """

    id: str
    claim: Claim
    reason: str
    slide: str
    check: Check
    corrected: Claim | None = None
    erratum: str = ""
    equations: tuple[str, ...] = ()
    witness: Witness | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "claim", Claim.of(self.claim))
        if self.corrected is not None:
            object.__setattr__(self, "corrected", Claim.of(self.corrected))


@dataclass(frozen=True)
class Definition:
    """A displayed equation that defines notation rather than claims something."""

    equation: str
    slide: str
    why_not_a_claim: str


@dataclass
class StepResult:
    """The verdict of one step and the evidence for it."""

    step: Step
    verdict: Verdict
    residual: Any
    witness_error: float | None
    witness_points: int
    detail: str
    seconds: float
    corrected_residual: Any = None

    @property
    def effective_claim(self) -> Claim:
        if self.verdict == "erratum" and self.step.corrected is not None:
            return self.step.corrected
        return self.step.claim

    def to_dict(self) -> dict[str, Any]:
        s = self.step
        out: dict[str, Any] = {
            "id": s.id,
            "slide": s.slide,
            "reason": s.reason,
            "check": s.check.describe(),
            "claim": {"sympy": s.claim.text(), "latex": s.claim.latex()},
            "verdict": self.verdict,
            "residual": sp.sstr(self.residual),
            "witness": {"points": self.witness_points, "max_relative_error": self.witness_error,
                        "digits": WITNESS_DIGITS},
            "equations": list(s.equations),
            "seconds": round(self.seconds, 4),
        }
        if s.corrected is not None:
            out["corrected"] = {"sympy": s.corrected.text(), "latex": s.corrected.latex()}
            out["erratum"] = s.erratum
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass
class DerivationResult:
    """Verdicts of every step of a derivation."""

    derivation: Derivation
    steps: list[StepResult]
    seconds: float

    def count(self, verdict: Verdict) -> int:
        return sum(1 for r in self.steps if r.verdict == verdict)

    @property
    def ok(self) -> bool:
        return self.count("fails") == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.derivation.name,
            "title": self.derivation.title,
            "steps": [r.to_dict() for r in self.steps],
            "holds": self.count("holds"),
            "errata": self.count("erratum"),
            "fails": self.count("fails"),
            "seconds": round(self.seconds, 3),
        }


def _run_check(check: Check, claim: Claim, context: StepContext, witness: Witness,
               seed: str) -> tuple[CheckOutcome, WitnessOutcome]:
    try:
        outcome = check.run(claim, context)
    except SymbolicTimeoutError:
        raise  # a caller's time limit ran out: no verdict, and nothing may be cached
    except Exception as exc:  # a check that crashes has not shown the claim
        outcome = CheckOutcome(False, sp.nan, f"check raised {type(exc).__name__}: {exc}")
    what = f"evaluating the numeric witness of step {seed!r}"
    try:
        with time_limit(WITNESS_SECONDS, what):
            target = check.witness_claim(claim, context)
            w = _witness_claim(target, witness, seed)
    except SymbolicTimeoutError as exc:
        if what not in str(exc):
            raise  # the caller's limit, not the witness's own
        w = WitnessOutcome(False, None, 0, f"witness raised SymbolicTimeoutError: {exc}")
    except Exception as exc:
        w = WitnessOutcome(False, None, 0, f"witness raised {type(exc).__name__}: {exc}")
    return outcome, w


def judge(step: Step, context: StepContext, witness: Witness) -> StepResult:
    """Run a step's check and witness on the notes' claim and, if needed, the correction."""
    t0 = time.perf_counter()
    sym, num = _run_check(step.check, step.claim, context, witness, step.id)
    notes_ok = sym.ok and num.ok
    details = [d for d in (sym.detail, num.detail) if d]
    if sym.ok != num.ok:
        details.append(
            f"symbolic check {'passed' if sym.ok else 'failed'} but the numeric witness "
            f"{'agreed' if num.ok else 'disagreed'} (max relative error {num.max_error})"
        )
    corrected_residual = None
    if step.corrected is None:
        verdict: Verdict = "holds" if notes_ok else "fails"
        w_err, w_pts = num.max_error, num.points
    elif notes_ok:
        verdict = "fails"
        details.append("an erratum is recorded, but the notes' form holds: the erratum is wrong")
        w_err, w_pts = num.max_error, num.points
    else:
        csym, cnum = _run_check(step.check, step.corrected, context, witness,
                                step.id + ":corrected")
        corrected_residual = csym.residual
        refuted = not sym.ok and not num.ok
        if csym.ok and cnum.ok and refuted:
            verdict = "erratum"
        else:
            verdict = "fails"
            if not refuted:
                details.append("the notes' form is not refuted by both the symbolic check and "
                               "the witness")
            if not (csym.ok and cnum.ok):
                details.append(f"the corrected claim does not hold either (residual "
                               f"{sp.sstr(csym.residual)}; {cnum.detail})")
        w_err, w_pts = cnum.max_error, cnum.points
    return StepResult(
        step=step,
        verdict=verdict,
        residual=sym.residual,
        witness_error=w_err,
        witness_points=w_pts,
        detail="; ".join(details),
        seconds=time.perf_counter() - t0,
        corrected_residual=corrected_residual,
    )


class Derivation:
    """An ordered list of checked steps reproducing one part of the notes.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> d = Derivation("demo", "A two-step demo")
    >>> _ = d.step("square", Claim((x + 1)**2, x**2 + 2*x + 1), "expand the square",
    ...            slide="Demo", check=Identity())
    >>> _ = d.step("derivative", Claim(2*x + 2, 2*x + 2), "differentiate both sides",
    ...            slide="Demo", check=FollowsFrom(lambda c: c.map(lambda e: sp.diff(e, x)),
    ...                                            "differentiating in x"))
    >>> [r.verdict for r in d.verify().steps]
    ['holds', 'holds']
    """

    def __init__(self, name: str, title: str, *, witness: Witness | None = None,
                 summary: str = "") -> None:
        self.name = name
        self.title = title
        self.summary = summary
        self.witness = witness or Witness()
        self.steps: list[Step] = []
        self.definitions: list[Definition] = []
        self._result: DerivationResult | None = None

    # -- building ------------------------------------------------------------------------
    def step(self, id: str, claim: Claim | sp.Equality | tuple[Any, Any], reason: str, *,
             slide: str, check: Check, corrected: Any = None, erratum: str = "",
             equations: Sequence[str] = (), witness: Witness | None = None) -> Step:
        """Append a step and return it."""
        if any(s.id == id for s in self.steps):
            raise ValueError(f"duplicate step id {id!r} in derivation {self.name!r}")
        st = Step(id=id, claim=Claim.of(claim), reason=reason, slide=slide, check=check,
                  corrected=None if corrected is None else Claim.of(corrected), erratum=erratum,
                  equations=tuple(equations), witness=witness)
        self.steps.append(st)
        self._result = None
        return st

    def define(self, equation: str, slide: str, why_not_a_claim: str) -> Definition:
        """Record a displayed equation that is notation, not a claim."""
        d = Definition(equation, slide, why_not_a_claim)
        self.definitions.append(d)
        return d

    # -- checking ------------------------------------------------------------------------
    def verify(self, *, refresh: bool = False) -> DerivationResult:
        """Judge every step in order (cached)."""
        if self._result is not None and not refresh:
            return self._result
        t0 = time.perf_counter()
        results: list[StepResult] = []
        effective: dict[str, Claim] = {}
        order = [s.id for s in self.steps]
        for st in self.steps:
            ctx = StepContext(previous=effective, order=order, step_id=st.id)
            r = judge(st, ctx, st.witness or self.witness)
            results.append(r)
            effective[st.id] = r.effective_claim
        self._result = DerivationResult(self, results, time.perf_counter() - t0)
        return self._result

    def verify_step(self, step_id: str) -> StepResult:
        for r in self.verify().steps:
            if r.step.id == step_id:
                return r
        raise KeyError(step_id)

    # -- rendering -----------------------------------------------------------------------
    def render_text(self) -> str:
        res = self.verify()
        lines = [f"{self.title}  [{self.name}]", ""]
        for i, r in enumerate(res.steps, 1):
            s = r.step
            lines.append(f"{i:2d}. [{r.verdict}] {s.id}  ({s.slide})")
            lines.append(f"    claim:     {s.claim.text()}")
            if s.corrected is not None:
                lines.append(f"    corrected: {s.corrected.text()}")
                lines.append(f"    erratum:   {s.erratum}")
            lines.append(f"    because:   {s.reason}")
            lines.append(f"    check:     {s.check.describe()}; witness {r.witness_points} "
                         f"points, max rel. error {_fmt_err(r.witness_error)}")
            if r.verdict == "fails":
                lines.append(f"    residual:  {sp.sstr(r.residual)}  {r.detail}")
        return "\n".join(lines)

    def render_latex(self) -> str:
        res = self.verify()
        out = [f"% {self.title} -- generated by symsde, every step machine-checked",
               "\\begin{enumerate}"]
        for r in res.steps:
            s = r.step
            claim = s.corrected if r.verdict == "erratum" and s.corrected else s.claim
            out.append(f"  \\item {_latex_text(s.reason)} ({_latex_text(r.verdict)})")
            out.append("  \\[")
            out.append(f"    {claim.latex()}")
            out.append("  \\]")
            if r.verdict == "erratum":
                out.append(f"  \\emph{{Erratum: the notes have}} \\({s.claim.latex()}\\). "
                           f"{_latex_text(s.erratum)}")
        out.append("\\end{enumerate}")
        return "\n".join(out)

    def render_markdown(self) -> str:
        res = self.verify()
        out = [f"## {self.title}", ""]
        if self.summary:
            out += [self.summary, ""]
        for i, r in enumerate(res.steps, 1):
            s = r.step
            out.append(f"{i}. **{s.id}** ({s.slide}): {s.reason} *[{r.verdict}]*")
            out.append("")
            out.append(f"   $$ {s.claim.latex()} $$")
            if s.corrected is not None:
                out.append("")
                out.append(f"   Corrected: $$ {s.corrected.latex()} $$")
                out.append("")
                out.append(f"   {s.erratum}")
            out.append("")
            out.append(f"   Check: {s.check.describe()}; numeric witness at "
                       f"{r.witness_points} points, max relative error "
                       f"{_fmt_err(r.witness_error)}.")
            out.append("")
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        d = self.verify().to_dict()
        d["definitions"] = [
            {"equation": x.equation, "slide": x.slide, "why_not_a_claim": x.why_not_a_claim}
            for x in self.definitions
        ]
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def __repr__(self) -> str:
        return f"Derivation({self.name!r}, {len(self.steps)} steps)"


def _fmt_err(err: float | None) -> str:
    return "n/a" if err is None else f"{err:.1e}"


def _latex_text(text: str) -> str:
    rep = {"&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#"}
    return "".join(rep.get(c, c) for c in text)


# --------------------------------------------------------------------------------------------
# One equation, checked on its own (used by the Sphinx directive and by users)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EquationCheck:
    """The verdict on one stand-alone equation ``lhs = rhs``.

    ``ok`` is True only when the symbolic check and the numeric witness both agree;
    ``independent_witness`` says that the witness evaluated the two sides separately.
    """

    ok: bool
    residual: Any
    witness_error: float | None
    witness_points: int
    independent_witness: bool
    detail: str = ""


def check_equation(lhs: Any, rhs: Any, *, seed: int = 0,
                   witness: Witness | None = None) -> EquationCheck:
    """Check ``lhs = rhs`` symbolically and by an mpmath witness on each side separately.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> check_equation(sp.sin(x)**2 + sp.cos(x)**2, 1).ok
    True
    >>> check_equation((x + 1)**2, x**2 + 1).residual
    2*x
    """
    claim = Claim(lhs, rhs)
    sym = Identity().run(claim, None)
    w = witness or Witness(points=8)
    num = _witness_claim(claim, w, f"equation:{seed}:{claim.text()}")
    details = [d for d in (sym.detail, num.detail) if d]
    return EquationCheck(sym.ok and num.ok, sym.residual, num.max_error, num.points,
                         True, "; ".join(details))
