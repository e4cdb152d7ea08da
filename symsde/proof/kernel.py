"""The kernel: claims, steps, checks and verdicts.

A :class:`Derivation` is an ordered list of steps of four kinds:

``definition``
    names a quantity: ``J(Phi) := mu p - (1/2) d(D p)/dPhi``. Every named quantity that
    appears bare on a left side has exactly one definition, and the kernel computes with
    the definition, never with the name.
``computed``
    the left side (after unfolding definitions) is computed by SymPy (``doit``: integrals,
    limits, sums, derivatives; or a stated computation applied to it) and must equal the
    right side; or (:class:`SolvesODE`) the claim solves an ODE with initial conditions.
``rule``
    the claim is what a named sound rule (:mod:`symsde.proof.rules`) makes of an earlier
    step, its premise; the step must use its premise (mutating the premise makes it fail).
``erratum``
    the notes' claim fails, symbolically and numerically, and the recorded correction
    holds.

A left side that is a bare undefined symbol or function (a label) is refused when the
step is added. Every claim is also evaluated by an independent numeric witness
(:mod:`symsde.proof.witness`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import sympy as sp
from sympy.core.function import AppliedUndef

from symsde._timeout import time_limit
from symsde.errors import SymbolicTimeoutError
from symsde.proof.algebra import is_zero, nonzero_somewhere
from symsde.proof.claim import Claim, _sym
from symsde.proof.rules import Rule, RuleMisuseError
from symsde.proof.witness import (
    WITNESS_DIGITS,
    WITNESS_POINTS,
    Witness,
    WitnessOutcome,
    rng_for,
    witness_claim,
)

__all__ = [
    "Check",
    "CheckOutcome",
    "Claim",
    "Computed",
    "Define",
    "Derivation",
    "DerivationResult",
    "EquationCheck",
    "FollowsFrom",
    "GroundingError",
    "Identity",
    "Notation",
    "SolvesODE",
    "Step",
    "StepContext",
    "StepKind",
    "StepResult",
    "Verdict",
    "check_equation",
    "is_zero",
]

Verdict = Literal["holds", "fails", "erratum"]
StepKind = Literal["definition", "computed", "rule", "erratum"]

#: Wall-clock limit of one witness evaluation.
WITNESS_SECONDS = 30.0


class GroundingError(ValueError):
    """A step's left side is a bare name that nothing defines or computes."""


# --------------------------------------------------------------------------------------------
# Claims
# --------------------------------------------------------------------------------------------
def _entries(e: Any) -> list[Any]:
    return list(e) if isinstance(e, sp.MatrixBase) else [e]


def _bare(e: Any) -> bool:
    """A bare name: an undefined symbol or an undefined function applied to symbols."""
    if isinstance(e, sp.Symbol):
        return True
    return isinstance(e, AppliedUndef) and all(isinstance(a, sp.Symbol) for a in e.args)


# --------------------------------------------------------------------------------------------
# Context
# --------------------------------------------------------------------------------------------
@dataclass
class StepContext:
    """What a check may see: earlier (effective) claims and the definitions so far."""

    previous: dict[str, Claim]
    order: list[str]
    step_id: str
    definitions: dict[Any, Any] = field(default_factory=dict)
    definition_steps: frozenset[str] = frozenset()

    def claim_of(self, step_id: str | None) -> Claim:
        if step_id is None:
            # The previous step that is not a definition.
            idx = self.order.index(self.step_id)
            earlier = [s for s in self.order[:idx] if s in self.previous
                       and s not in self.definition_steps]
            if not earlier:
                raise LookupError(f"step {self.step_id!r} follows from nothing: it is the first")
            step_id = earlier[-1]
        if step_id not in self.previous:
            raise LookupError(f"step {self.step_id!r} refers to {step_id!r}, which is not an "
                              "earlier step")
        return self.previous[step_id]

    def unfold(self, expr: Any) -> Any:
        """Replace every defined name by its definition (repeatedly)."""
        return unfold(expr, self.definitions)


def unfold(expr: Any, definitions: Mapping[Any, Any]) -> Any:
    out = expr
    for _ in range(12):
        new = out
        for name, value in definitions.items():
            if isinstance(name, sp.FunctionClass):
                new = new.replace(name, value)
            else:
                new = new.xreplace({name: value})
        if new == out:
            return new
        out = new
    raise RecursionError("definitions refer to each other in a circle")


def _definition_entry(name: Any, value: Any) -> tuple[Any, Any]:
    """(key, replacement) for a definition of a symbol or of f(x, ...)."""
    if isinstance(name, sp.Symbol):
        return name, value
    if isinstance(name, AppliedUndef) and all(isinstance(a, sp.Symbol) for a in name.args):
        return name.func, sp.Lambda(tuple(name.args), value)
    raise GroundingError(f"a definition names a symbol or f(x, ...), not {name}")


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckOutcome:
    """What a symbolic check found: whether it passed and the simplified residual."""

    ok: bool
    residual: Any
    detail: str = ""


class Check:
    """Base class: a computation that decides whether a claim holds."""

    kind: str = "computed"

    def run(self, claim: Claim, context: StepContext) -> CheckOutcome:
        raise NotImplementedError

    def witness_sides(self, claim: Claim, context: StepContext) -> tuple[Any, Any]:
        """The two expressions the witness evaluates separately."""
        return context.unfold(claim.lhs), context.unfold(claim.rhs)

    def describe(self) -> str:
        return self.kind

    def describe_latex(self) -> str:
        return self.describe()


@dataclass(frozen=True)
class Define(Check):
    """A definition step: its claim ``name = value`` introduces ``name``."""

    kind: str = "definition"

    def run(self, claim: Claim, context: StepContext) -> CheckOutcome:
        return CheckOutcome(True, sp.Integer(0))

    def describe(self) -> str:
        return "definition"


@dataclass(frozen=True)
class Computed(Check):
    """SymPy computes the left side (unfolded) and it must equal the right side.

    ``how`` is the computation applied to the unfolded left side (default: ``doit``, which
    evaluates integrals, limits, sums and derivatives). ``givens`` are substitutions that
    state the step's hypotheses (shown in the report). A step whose left side has no
    operation left is an identity.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> ctx = StepContext({}, ["s"], "s")
    >>> Computed().run(Claim((x + 1)**2, x**2 + 2*x + 1), ctx).ok
    True
    >>> Computed().run(Claim((x + 1)**2, x**2 + 1), ctx).residual
    2*x
    """

    how: Callable[[Any], Any] | None = None
    label: str = ""
    givens: Mapping[Any, Any] = field(default_factory=dict)
    kind: str = "computed"

    def value(self, lhs: Any) -> Any:
        out = self.how(lhs) if self.how is not None else (
            lhs.doit() if isinstance(lhs, sp.Basic) else lhs)
        return _sym(out)

    def run(self, claim: Claim, context: StepContext) -> CheckOutcome:
        lhs, rhs = context.unfold(claim.lhs), context.unfold(claim.rhs)
        if self.givens:
            lhs, rhs = lhs.subs(dict(self.givens)), rhs.subs(dict(self.givens))
        value = self.value(lhs)
        ok, residual = is_zero(value - rhs)
        return CheckOutcome(ok, residual, "" if ok else f"computed value: {sp.sstr(value)}")

    def witness_sides(self, claim: Claim, context: StepContext) -> tuple[Any, Any]:
        lhs, rhs = context.unfold(claim.lhs), context.unfold(claim.rhs)
        if self.givens:
            lhs, rhs = lhs.subs(dict(self.givens)), rhs.subs(dict(self.givens))
        return lhs, rhs

    def describe(self) -> str:
        what = f"computed: {self.label}" if self.label else "computed"
        if self.givens:
            what += " given " + ", ".join(f"{sp.sstr(k)} = {sp.sstr(v)}"
                                          for k, v in self.givens.items())
        return what

    def describe_latex(self) -> str:
        what = f"computed: {self.label}" if self.label else "computed"
        if self.givens:
            what += " given " + ", ".join(f"${sp.latex(k)} = {sp.latex(v)}$"
                                          for k, v in self.givens.items())
        return what


#: An identity is a computed step whose left side has no operation left to compute.
Identity = Computed


@dataclass(frozen=True)
class SolvesODE(Check):
    """The claim ``f(x) = expr`` solves the ODE (checked by :func:`sympy.checkodesol`).

    A linear ODE is solved by every multiple of a solution, so a claim about *the*
    solution pins it down with initial conditions ``ics`` (``{f(x0): value}``), which are
    checked as well. The witness evaluates the ODE's residual numerically (derivatives by
    finite differences), independently of the symbolic check.
    """

    ode: Any
    ics: Mapping[Any, Any] = field(default_factory=dict)
    kind: str = "computed"

    def _ode(self, context: StepContext) -> sp.Equality:
        ode = self.ode if isinstance(self.ode, sp.Equality) else sp.Eq(self.ode, 0)
        return sp.Eq(context.unfold(ode.lhs), context.unfold(ode.rhs))

    def _ics_sides(self, claim: Claim, context: StepContext) -> list[tuple[Any, Any]]:
        var = claim.lhs.args[0]
        rhs = context.unfold(claim.rhs)
        return [(rhs.subs(var, point.args[0]), context.unfold(sp.sympify(value)))
                for point, value in self.ics.items()]

    def run(self, claim: Claim, context: StepContext) -> CheckOutcome:
        if not isinstance(claim.lhs, AppliedUndef):
            return CheckOutcome(False, sp.nan, "the left side must be the ODE's unknown f(x)")
        ok, residual = sp.checkodesol(self._ode(context),
                                      sp.Eq(claim.lhs, context.unfold(claim.rhs)))
        if not ok:
            ok, residual = is_zero(residual)
        if not ok:
            return CheckOutcome(False, residual)
        for got, want in self._ics_sides(claim, context):
            ic_ok, ic_res = is_zero(got - want)
            if not ic_ok:
                return CheckOutcome(False, ic_res, "initial condition not met")
        return CheckOutcome(True, sp.Integer(0))

    def witness_sides(self, claim: Claim, context: StepContext) -> tuple[Any, Any]:
        ode = self._ode(context)
        f = claim.lhs
        sol = sp.Lambda(tuple(f.args), context.unfold(claim.rhs))
        ics = self._ics_sides(claim, context)
        lhs = [ode.lhs.replace(f.func, sol), *(g for g, _ in ics)]
        rhs = [ode.rhs.replace(f.func, sol), *(w for _, w in ics)]
        return sp.ImmutableMatrix(lhs), sp.ImmutableMatrix(rhs)

    def describe(self) -> str:
        extra = ""
        if self.ics:
            extra = " with " + ", ".join(f"{sp.sstr(k)} = {sp.sstr(v)}"
                                         for k, v in self.ics.items())
        ode = self.ode if isinstance(self.ode, sp.Equality) else sp.Eq(self.ode, 0)
        return f"solves the ODE {sp.sstr(ode)}{extra}"

    def describe_latex(self) -> str:
        ode = self.ode if isinstance(self.ode, sp.Equality) else sp.Eq(self.ode, 0)
        extra = ""
        if self.ics:
            extra = " with " + ", ".join(f"${sp.latex(k)} = {sp.latex(v)}$"
                                         for k, v in self.ics.items())
        return f"solves the ODE ${sp.latex(ode)}${extra}"


def _premise_mutants(premise: Claim) -> list[Claim]:
    """Three wrong premises: a term added to the right side, to the left side, and the
    right side doubled plus that term.

    The term is the product of the premise's symbols plus 1, so that neither
    differentiation nor a limit nor substituting one symbol can make it vanish.
    """
    free = sorted(premise.lhs.free_symbols | premise.rhs.free_symbols, key=sp.default_sort_key)
    bump = sp.Mul(*free) + 1 if free else sp.Integer(1)

    def add(side: Any, scale: int = 1) -> Any:
        if isinstance(side, sp.MatrixBase):
            return scale * side + sp.ImmutableMatrix(side.shape[0], side.shape[1],
                                                     [bump] * (side.shape[0] * side.shape[1]))
        return scale * side + bump

    return [Claim(premise.lhs, add(premise.rhs)), Claim(add(premise.lhs), premise.rhs),
            Claim(premise.lhs, add(premise.rhs, 2))]


def _opposite(a: Any, b: Any) -> bool:
    """``a = -b`` by algebra: derivatives and substitutions carried out, products multiplied
    out, and fractions cancelled when no integral, sum or limit is left (those are never
    carried out: equal ones cancel), so a relation with its sides swapped is recognised
    cheaply."""
    pairs = zip(a, b, strict=True) if isinstance(a, sp.MatrixBase) else [(a, b)]

    def vanishes(e: Any) -> bool:
        e = sp.expand(e)
        if e == 0:
            return True
        if nonzero_somewhere(e):  # clearly not opposite: no symbolic work
            return False
        e = sp.expand(e.replace(lambda t: isinstance(t, (sp.Derivative, sp.Subs)),
                                lambda t: t.doit(deep=False)))
        return e == 0 or (not e.has(sp.Integral, sp.Sum, sp.Limit) and sp.cancel(e) == 0)

    try:
        return all(vanishes(x + y) for x, y in pairs)
    except (TypeError, ValueError, sp.PolynomialError):  # kinds that cannot be added
        return False


@dataclass(frozen=True)
class FollowsFrom(Check):
    """The claim is what ``rule`` makes of an earlier step (``source``, default: previous).

    The claim must agree with the derived relation: ``lhs - rhs`` of both are equal (or
    opposite). The step must also *use* its premise: for each of three mutated premises
    the derived relation no longer matches the claim.
    """

    rule: Rule
    source: str | None = None
    kind: str = "rule"

    def __post_init__(self) -> None:
        if not isinstance(self.rule, Rule):
            raise TypeError("FollowsFrom takes a rule from symsde.proof.rules, not a callable")

    def derived(self, context: StepContext, premise: Claim | None = None) -> Claim:
        p = context.claim_of(self.source) if premise is None else premise
        return self.rule.apply(p, context)

    @staticmethod
    def _matches(claim: Claim, derived: Claim, context: StepContext,
                 expect_nonzero: bool = False) -> tuple[bool, Any]:
        a = context.unfold(claim.difference)
        b = context.unfold(derived.difference)
        ok, residual = is_zero(a - b, expect_nonzero)
        if not ok and _opposite(a, b):
            return True, sp.Integer(0)  # the derived relation with its sides swapped
        return ok, residual

    def run(self, claim: Claim, context: StepContext) -> CheckOutcome:
        try:
            derived = self.derived(context)
        except RuleMisuseError as exc:
            return CheckOutcome(False, sp.nan, f"misused rule: {exc}")
        ok, residual = self._matches(claim, derived, context)
        return CheckOutcome(ok, residual, "" if ok else f"derived: {derived.text()}")

    def premise_sensitive(self, claim: Claim, context: StepContext) -> tuple[bool, str]:
        """False when the claim still follows from each of three wrong premises."""
        premise = context.claim_of(self.source)
        survivors = []
        for wrong in _premise_mutants(premise):
            try:
                derived = self.derived(context, wrong)
            except RuleMisuseError:
                return True, ""  # the rule refuses the wrong premise: it depends on it
            if not self._matches(claim, derived, context, expect_nonzero=True)[0]:
                return True, ""
            survivors.append(wrong.text())
        return False, f"the claim also follows from the wrong premises {'; '.join(survivors)}"

    def describe(self) -> str:
        src = f"step {self.source!r}" if self.source else "the previous step"
        return f"from {src} by {self.rule.describe()}"

    def describe_latex(self) -> str:
        src = f"step `{self.source}`" if self.source else "the previous step"
        return f"from {src} by {self.rule.describe_latex()}"


# --------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One claim of a derivation, with its reason, its slide and its check.

    ``corrected`` records the right form of a claim the notes get wrong; ``erratum`` says
    what the notes' form would do. ``equations`` lists the displayed equations of the
    notes this step covers; ``reading`` says how the step interprets an ambiguous
    display; ``no_independent_witness`` says why no independent witness is possible.
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
    reading: str | None = None
    hypotheses: tuple[str, ...] = ()
    no_independent_witness: str = ""
    transcription: Claim | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "claim", Claim.of(self.claim))
        if self.corrected is not None:
            object.__setattr__(self, "corrected", Claim.of(self.corrected))
        if self.transcription is not None:
            object.__setattr__(self, "transcription", Claim.of(self.transcription))

    @property
    def kind(self) -> StepKind:
        if isinstance(self.check, Define):
            return "definition"
        if self.corrected is not None:
            return "erratum"
        if isinstance(self.check, FollowsFrom):
            return "rule"
        return "computed"

    @property
    def all_hypotheses(self) -> tuple[str, ...]:
        rule = self.check.rule.hypotheses() if isinstance(self.check, FollowsFrom) else ()
        return tuple(dict.fromkeys((*self.hypotheses, *rule)))


@dataclass(frozen=True)
class Notation:
    """A displayed equation that is notation (an update rule, a sampling statement)."""

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
    independent_witness: bool = False
    premise_sensitive: bool | None = None
    witness_note: str = ""
    #: Comparisons with the notes' displays (filled by DerivationResult.notes()).
    notes: tuple[Any, ...] = ()

    @property
    def notes_form(self) -> str | None:
        """The notes' literal form this step was compared with (LaTeX), if any."""
        for n in self.notes:
            if n.latex:
                return n.latex
        return None

    @property
    def kind(self) -> StepKind:
        return self.step.kind

    @property
    def effective_claim(self) -> Claim:
        if self.verdict == "erratum" and self.step.corrected is not None:
            return self.step.corrected
        return self.step.claim

    def to_dict(self) -> dict[str, Any]:
        from symsde.proof.render import step_dict

        return step_dict(self)


@dataclass
class DerivationResult:
    """Verdicts of every step of a derivation."""

    derivation: Derivation
    steps: list[StepResult]
    seconds: float
    seed: int = 0
    _notes: dict[str, list[Any]] | None = field(default=None, repr=False)

    def count(self, verdict: Verdict) -> int:
        return sum(1 for r in self.steps if r.verdict == verdict)

    def notes(self) -> dict[str, list[Any]]:
        """Compare each step with the notes' displays it names (once; needs a catalogue)."""
        d = self.derivation
        if not d.catalogue:
            return {}
        if self._notes is None:
            from symsde.proof.notes import compare_with_notes

            self._notes = compare_with_notes(self, d.catalogue, d.symbols)
            for r in self.steps:
                r.notes = tuple(self._notes.get(r.step.id, ()))
        return self._notes

    def count_kind(self, kind: StepKind) -> int:
        return sum(1 for r in self.steps if r.kind == kind)

    @property
    def independent(self) -> int:
        return sum(1 for r in self.steps if r.independent_witness)

    @property
    def ok(self) -> bool:
        return self.count("fails") == 0

    def to_dict(self) -> dict[str, Any]:
        from symsde.proof.render import result_dict

        return result_dict(self)


def _witness(check: Check, claim: Claim, context: StepContext, witness: Witness,
             rng_parts: tuple[object, ...]) -> WitnessOutcome:
    what = f"evaluating the numeric witness of step {context.step_id!r}"
    try:
        with time_limit(WITNESS_SECONDS, what):
            lhs, rhs = check.witness_sides(claim, context)
            return witness_claim(lhs, rhs, witness, rng_for(*rng_parts))
    except SymbolicTimeoutError as exc:
        if what not in str(exc):
            raise  # the caller's limit, not the witness's own
        return WitnessOutcome(False, None, 0, False, f"witness timed out: {exc}")
    except Exception as exc:
        return WitnessOutcome(False, None, 0, False,
                              f"witness raised {type(exc).__name__}: {exc}")


def _symbolic(check: Check, claim: Claim, context: StepContext) -> CheckOutcome:
    try:
        return check.run(claim, context)
    except SymbolicTimeoutError:
        raise  # a caller's time limit ran out: no verdict, and nothing may be cached
    except Exception as exc:  # a check that crashes has not shown the claim
        return CheckOutcome(False, sp.nan, f"check raised {type(exc).__name__}: {exc}")


def judge(step: Step, context: StepContext, witness: Witness, seed: int = 0,
          derivation: str = "") -> StepResult:
    """Run a step's check, witness and premise test on the notes' claim and any correction."""
    t0 = time.perf_counter()
    if step.kind == "definition":
        return StepResult(step, "holds", sp.Integer(0), None, 0, "", time.perf_counter() - t0,
                          witness_note="a definition introduces a name; there is nothing to "
                                       "witness")
    parts = (seed, derivation, step.id)
    sym = _symbolic(step.check, step.claim, context)
    num = _witness(step.check, step.claim, context, witness, parts)
    details = [d for d in (sym.detail, num.detail) if d]
    if sym.ok != num.ok:
        details.append(f"symbolic check {'passed' if sym.ok else 'failed'} but the numeric "
                       f"witness {'agreed' if num.ok else 'disagreed'}")
    sensitive: bool | None = None
    checked_claim = step.claim
    corrected_residual = None
    if step.corrected is None:
        ok = sym.ok and num.ok
        w = num
    elif sym.ok and num.ok:
        ok = False
        details.append("an erratum is recorded, but the notes' form holds: the erratum is wrong")
        w = num
    else:
        csym = _symbolic(step.check, step.corrected, context)
        cnum = _witness(step.check, step.corrected, context, witness, (*parts, "corrected"))
        corrected_residual = csym.residual
        refuted = not sym.ok and not num.ok
        ok = csym.ok and cnum.ok and refuted
        if not refuted:
            details.append("the notes' form is not refuted by both the symbolic check and the "
                           "witness")
        if not (csym.ok and cnum.ok):
            details.append(f"the corrected claim does not hold either (residual "
                           f"{sp.sstr(csym.residual)}; {cnum.detail})")
        w = cnum
        checked_claim = step.corrected
    if isinstance(step.check, FollowsFrom) and ok:
        sensitive, why = step.check.premise_sensitive(checked_claim, context)
        if not sensitive:
            ok = False
            details.append(f"ignores its premise: {why}")
    if step.corrected is not None:
        verdict: Verdict = "erratum" if ok else "fails"
    else:
        verdict = "holds" if ok else "fails"
    note = step.no_independent_witness
    if not w.independent and not note:
        note = "the witness evaluates one expression twice (the sides agree after expand)"
    return StepResult(
        step=step, verdict=verdict, residual=sym.residual, witness_error=w.max_error,
        witness_points=w.points, detail="; ".join(details),
        seconds=time.perf_counter() - t0, corrected_residual=corrected_residual,
        independent_witness=w.independent and not step.no_independent_witness,
        premise_sensitive=sensitive,
        witness_note="" if (w.independent and not step.no_independent_witness) else note,
    )


# --------------------------------------------------------------------------------------------
# Derivations
# --------------------------------------------------------------------------------------------
class Derivation:
    """An ordered list of checked steps reproducing one part of the notes.

    Examples
    --------
    >>> import sympy as sp
    >>> from symsde.proof.rules import DifferentiateBoth
    >>> x = sp.Symbol("x", real=True)
    >>> d = Derivation("demo", "A two-step demo")
    >>> _ = d.step("square", Claim((x + 1)**2, x**2 + 2*x + 1), "expand the square",
    ...            slide="Demo", check=Computed())
    >>> _ = d.step("derivative", Claim(2*x + 2, 2*x + 2), "differentiate both sides",
    ...            slide="Demo", check=FollowsFrom(DifferentiateBoth(x)))
    >>> [r.verdict for r in d.verify().steps]
    ['holds', 'holds']
    """

    def __init__(self, name: str, title: str, *, witness: Witness | None = None,
                 summary: str = "", symbols: Mapping[str, Any] | None = None,
                 catalogue: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.title = title
        self.summary = summary
        #: The notes' notation (LaTeX names) -> this derivation's SymPy objects.
        self.symbols: dict[str, Any] = dict(symbols or {})
        #: The notes' displayed equations (id -> LaTeX), to compare steps with.
        self.catalogue: dict[str, str] = dict(catalogue or {})
        self.witness = witness or Witness()
        self.steps: list[Step] = []
        self.notation: list[Notation] = []
        self.definitions: dict[Any, Any] = {}
        self._results: dict[int, DerivationResult] = {}

    # -- building ------------------------------------------------------------------------
    def _add(self, st: Step) -> Step:
        if any(s.id == st.id for s in self.steps):
            raise ValueError(f"duplicate step id {st.id!r} in derivation {self.name!r}")
        self.steps.append(st)
        self._results.clear()
        return st

    def define(self, id: str, name: Any, value: Any, reason: str, *, slide: str,
               equations: Sequence[str] = (), reading: str | None = None,
               transcription: Any = None) -> Step:
        """Add a definition step ``name := value`` (``name`` a symbol or ``f(x, ...)``)."""
        key, replacement = _definition_entry(name, value)
        if key in self.definitions:
            raise GroundingError(f"step {id!r}: {name} is defined twice in {self.name!r}")
        if _sym(value).has(key):
            raise GroundingError(f"step {id!r}: the definition of {name} refers to itself")
        st = self._add(Step(id=id, claim=Claim(name, value), reason=reason, slide=slide,
                            check=Define(), equations=tuple(equations), reading=reading,
                            transcription=transcription))
        self.definitions[key] = replacement
        return st

    def step(self, id: str, claim: Claim | sp.Equality | tuple[Any, Any], reason: str, *,
             slide: str, check: Check, corrected: Any = None, erratum: str = "",
             equations: Sequence[str] = (), witness: Witness | None = None,
             reading: str | None = None, hypotheses: Sequence[str] = (),
             no_independent_witness: str = "", transcription: Any = None) -> Step:
        """Append a computed, rule or erratum step and return it.

        Raises
        ------
        GroundingError
            If the left side of a computed claim is a bare name that no definition step
            defines (a label that nothing evaluates).
        """
        if isinstance(check, Define):
            raise GroundingError(f"step {id!r}: use Derivation.define for definitions")
        st = Step(id=id, claim=Claim.of(claim), reason=reason, slide=slide, check=check,
                  corrected=None if corrected is None else Claim.of(corrected),
                  erratum=erratum, equations=tuple(equations), witness=witness,
                  reading=reading, hypotheses=tuple(hypotheses),
                  no_independent_witness=no_independent_witness,
                  transcription=transcription)
        self._ground(st)
        return self._add(st)

    def _ground(self, st: Step) -> None:
        if isinstance(st.check, FollowsFrom):
            return  # a rule step's claim is grounded by its premise and rule
        if isinstance(st.check, SolvesODE):
            if not isinstance(st.claim.lhs, AppliedUndef):
                raise GroundingError(f"step {st.id!r}: a SolvesODE claim reads f(x) = ..., "
                                     "with f the ODE's unknown function")
            return
        for claim in (st.claim, st.corrected):
            if claim is None:
                continue
            for e in _entries(unfold(claim.lhs, self.definitions)):
                if _bare(e):
                    raise GroundingError(
                        f"step {st.id!r} of {self.name!r}: the left side {sp.sstr(e)} is a "
                        "bare name that nothing computes; define it in a definition step "
                        "(Derivation.define) or write the computation itself")

    def note(self, equation: str, slide: str, why_not_a_claim: str) -> Notation:
        """Record a displayed equation that is notation, not a claim."""
        n = Notation(equation, slide, why_not_a_claim)
        self.notation.append(n)
        return n

    # -- checking ------------------------------------------------------------------------
    def context_for(self, step_id: str, effective: Mapping[str, Claim]) -> StepContext:
        """The context a step sees: earlier claims and the definitions made before it."""
        order = [s.id for s in self.steps]
        idx = order.index(step_id)
        defs: dict[Any, Any] = {}
        for s in self.steps[:idx]:
            if s.kind == "definition":
                k, v = _definition_entry(s.claim.lhs, s.claim.rhs)
                defs[k] = v
        previous = {k: v for k, v in effective.items() if k in order[:idx]}
        return StepContext(previous=dict(previous), order=order, step_id=step_id,
                           definitions=defs,
                           definition_steps=frozenset(s.id for s in self.steps
                                                      if s.kind == "definition"))

    def verify(self, *, refresh: bool = False, seed: int = 0) -> DerivationResult:
        """Judge every step in order (cached per seed)."""
        if seed in self._results and not refresh:
            return self._results[seed]
        t0 = time.perf_counter()
        results: list[StepResult] = []
        effective: dict[str, Claim] = {}
        for st in self.steps:
            ctx = self.context_for(st.id, effective)
            r = judge(st, ctx, st.witness or self.witness, seed, self.name)
            results.append(r)
            effective[st.id] = r.effective_claim
        res = DerivationResult(self, results, time.perf_counter() - t0, seed)
        self._results[seed] = res
        return res

    def verify_step(self, step_id: str, *, seed: int = 0) -> StepResult:
        for r in self.verify(seed=seed).steps:
            if r.step.id == step_id:
                return r
        raise KeyError(step_id)

    # -- rendering -----------------------------------------------------------------------
    def render_text(self, *, seed: int = 0) -> str:
        from symsde.proof.render import render_text

        return render_text(self.verify(seed=seed))

    def render_latex(self, *, seed: int = 0) -> str:
        from symsde.proof.render import render_latex

        return render_latex(self.verify(seed=seed))

    def render_markdown(self, *, seed: int = 0) -> str:
        from symsde.proof.render import render_markdown

        return render_markdown(self.verify(seed=seed))

    def to_dict(self, *, seed: int = 0) -> dict[str, Any]:
        return self.verify(seed=seed).to_dict()

    def to_json(self, *, seed: int = 0) -> str:
        import json

        return json.dumps(self.to_dict(seed=seed), indent=2, sort_keys=True)

    def __repr__(self) -> str:
        return f"Derivation({self.name!r}, {len(self.steps)} steps)"


# --------------------------------------------------------------------------------------------
# One equation, checked on its own (used by the Sphinx directive and by users)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EquationCheck:
    """The verdict on one stand-alone equation ``lhs = rhs``.

    ``ok`` is True only when the symbolic check and the numeric witness both agree;
    ``independent_witness`` says that the witness evaluated two different expressions.
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
    ctx = StepContext({}, ["equation"], "equation")
    sym = _symbolic(Computed(), claim, ctx)
    num = _witness(Computed(), claim, ctx, witness or Witness(points=WITNESS_POINTS),
                   (seed, "equation", claim.text()))
    details = [d for d in (sym.detail, num.detail) if d]
    return EquationCheck(sym.ok and num.ok, sym.residual, num.max_error, num.points,
                         num.independent, "; ".join(details))


_ = WITNESS_DIGITS  # re-exported through symsde.proof
