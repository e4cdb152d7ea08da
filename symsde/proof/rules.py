"""Named, sound rules of inference for rule steps.

A rule step (:class:`~symsde.proof.kernel.FollowsFrom`) claims what a rule makes of an
earlier step, its *premise*. A rule is sound: from a true premise it only derives true
relations (with the hypotheses it states). Each rule refuses misuse with
:class:`RuleMisuseError` (dividing by zero, integrating with a constant that already
occurs, substituting something that does not occur, ...). Whether a step really uses its
premise is checked separately by the kernel, every time a derivation is verified.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sympy as sp

from symsde.proof.algebra import is_zero
from symsde.proof.claim import Claim

if TYPE_CHECKING:
    from symsde.proof.kernel import StepContext

__all__ = [
    "AddBoth",
    "ApplyBoth",
    "Combine",
    "DifferentiateBoth",
    "DivideBoth",
    "Given",
    "GivenThroughout",
    "Induction",
    "Instantiate",
    "IntegrateBoth",
    "LimitBoth",
    "MultiplyBoth",
    "Rearrange",
    "Rewrite",
    "Rule",
    "RuleMisuseError",
    "Specialise",
    "Substitute",
]


class RuleMisuseError(ValueError):
    """A rule was applied where it is not sound (or does nothing)."""


def _claim(lhs: Any, rhs: Any) -> Claim:
    return Claim(lhs, rhs)


def _tex(e: Any) -> str:
    return sp.latex(e)


class Rule:
    """Base class: ``apply(premise, context) -> Claim``; ``describe()`` for humans."""

    name: str = "rule"

    def apply(self, premise: Claim, context: StepContext) -> Claim:
        raise NotImplementedError

    def describe(self) -> str:
        return self.name

    def describe_latex(self) -> str:
        """The rule as LaTeX-friendly text (maths in ``$...$``)."""
        return self.describe()

    def hypotheses(self) -> tuple[str, ...]:
        return ()


def _substitute(premise: Claim, old: Any, new: Any, what: str) -> Claim:
    """``premise`` with ``old`` replaced by ``new``, refusing variable capture.

    Replacing ``exp(-a x)`` by a constant ``E`` inside ``d/dx`` changes what is
    differentiated; so ``old`` may depend on a differentiation or integration variable of
    a part it occurs in only if ``new`` depends on it too.
    """
    old, new = sp.sympify(old), sp.sympify(new)
    for side in (premise.lhs, premise.rhs):
        for e in ([side] if not isinstance(side, sp.MatrixBase) else list(side)):
            for node in sp.preorder_traversal(e):
                if isinstance(node, (sp.Derivative, sp.Integral, sp.Sum)):
                    bound = set(node.variables)
                    lost = (old.free_symbols & bound) - new.free_symbols
                    if lost and node.subs(old, new) != node:
                        raise RuleMisuseError(
                            f"{what}: {sp.sstr(old)} depends on {sorted(map(str, lost))}, "
                            f"bound inside a derivative or integral, and {sp.sstr(new)} does "
                            "not")
    out = _claim(premise.lhs.subs(old, new), premise.rhs.subs(old, new))
    if out == premise:
        raise RuleMisuseError(f"{what}: {sp.sstr(old)} does not occur in the premise")
    return out


def _surely_zero(q: Any) -> bool:
    q = sp.sympify(q)
    return q == 0 or q.is_zero is True


@dataclass(frozen=True)
class MultiplyBoth(Rule):
    """``a = b`` gives ``q a = q b``; ``q`` must not be zero (or the premise is lost)."""

    factor: Any
    name: str = "multiply both sides"

    def apply(self, premise: Claim, context: StepContext) -> Claim:
        if _surely_zero(self.factor):
            raise RuleMisuseError("multiplying both sides by 0 forgets the premise")
        return _claim(self.factor * premise.lhs, self.factor * premise.rhs)

    def describe(self) -> str:
        return f"multiplying both sides by {sp.sstr(self.factor)}"

    def describe_latex(self) -> str:
        return f"multiplying both sides by ${_tex(self.factor)}$"


@dataclass(frozen=True)
class DivideBoth(Rule):
    """``a = b`` gives ``a/q = b/q`` where ``q`` is stated nonzero (``because``)."""

    divisor: Any
    because: str
    name: str = "divide both sides"

    def apply(self, premise: Claim, context: StepContext) -> Claim:
        if _surely_zero(self.divisor):
            raise RuleMisuseError("division by zero")
        if not self.because.strip():
            raise RuleMisuseError("dividing needs a stated reason why the divisor is nonzero")
        return _claim(premise.lhs / self.divisor, premise.rhs / self.divisor)

    def describe(self) -> str:
        return f"dividing both sides by {sp.sstr(self.divisor)} (nonzero: {self.because})"

    def describe_latex(self) -> str:
        return f"dividing both sides by ${_tex(self.divisor)}$ (nonzero: {self.because})"

    def hypotheses(self) -> tuple[str, ...]:
        return (f"{sp.sstr(self.divisor)} != 0: {self.because}",)


@dataclass(frozen=True)
class AddBoth(Rule):
    """``a = b`` gives ``a + q = b + q``."""

    term: Any
    name: str = "add to both sides"

    def apply(self, premise: Claim, context: StepContext) -> Claim:
        return _claim(premise.lhs + self.term, premise.rhs + self.term)

    def describe(self) -> str:
        return f"adding {sp.sstr(self.term)} to both sides"

    def describe_latex(self) -> str:
        return f"adding ${_tex(self.term)}$ to both sides"


@dataclass(frozen=True)
class ApplyBoth(Rule):
    """``a = b`` gives ``f(a) = f(b)`` for a named function ``f`` (e.g. ``exp``, ``log``).

    ``log`` and fractional powers need the sides positive: say why in ``because``.
    """

    function: Any
    because: str = ""
    name: str = "apply to both sides"

    def apply(self, premise: Claim, context: StepContext) -> Claim:
        f = self.function
        if f in (sp.log, sp.sqrt) and not self.because.strip():
            raise RuleMisuseError(f"taking {f} of both sides needs a reason why they are "
                                  "positive")
        if not isinstance(f, (sp.FunctionClass, sp.Lambda)):
            raise RuleMisuseError("apply a SymPy function or Lambda, not arbitrary code")
        return _claim(f(premise.lhs), f(premise.rhs))

    def describe(self) -> str:
        extra = f" ({self.because})" if self.because else ""
        return f"applying {self.function} to both sides{extra}"

    def describe_latex(self) -> str:
        f = self.function
        name = f"${_tex(f(sp.Symbol('u')))}$" if isinstance(f, sp.Lambda) else f"$\\{f}$"
        extra = f" ({self.because})" if self.because else ""
        return f"applying {name} to both sides{extra}"

    def hypotheses(self) -> tuple[str, ...]:
        return (self.because,) if self.because else ()


@dataclass(frozen=True)
class DifferentiateBoth(Rule):
    """``a = b`` for all ``x`` gives ``da/dx = db/dx``."""

    variable: sp.Symbol
    name: str = "differentiate both sides"

    def apply(self, premise: Claim, context: StepContext) -> Claim:
        if not (premise.lhs.has(self.variable) or premise.rhs.has(self.variable)):
            raise RuleMisuseError(f"the premise does not depend on {self.variable}")
        return _claim(sp.diff(premise.lhs, self.variable), sp.diff(premise.rhs, self.variable))

    def describe(self) -> str:
        return f"differentiating both sides in {self.variable}"

    def describe_latex(self) -> str:
        return f"differentiating both sides in ${_tex(self.variable)}$"


def _antiderivative(e: Any, x: sp.Symbol) -> Any:
    """An antiderivative, term by term; SymPy's cheap methods first (heurisch is slow)."""
    out = []
    for term in sp.Add.make_args(sp.sympify(e)):
        if isinstance(term, sp.Derivative) and term.variables == (x,):
            out.append(term.expr)  # the fundamental theorem, without a search
            continue
        got = sp.integrate(term, x, manual=True)
        if got.has(sp.Integral):
            got = sp.integrate(term, x)
        out.append(got)
    return sp.Add(*out)


@dataclass(frozen=True)
class IntegrateBoth(Rule):
    """``a' = b'`` (or ``a = b``) integrated in ``x``: ``∫a = ∫b + C``, ``C`` a new constant."""

    variable: sp.Symbol
    constant: sp.Symbol
    name: str = "integrate both sides"

    def apply(self, premise: Claim, context: StepContext) -> Claim:
        if premise.lhs.has(self.constant) or premise.rhs.has(self.constant):
            raise RuleMisuseError(f"the constant {self.constant} already occurs in the premise")
        if not (premise.lhs.has(self.variable) or premise.rhs.has(self.variable)):
            raise RuleMisuseError(f"the premise does not depend on {self.variable}")
        return _claim(_antiderivative(premise.lhs, self.variable),
                      _antiderivative(premise.rhs, self.variable) + self.constant)

    def describe(self) -> str:
        return (f"integrating both sides in {self.variable} "
                f"(constant of integration {self.constant})")

    def describe_latex(self) -> str:
        return (f"integrating both sides in ${_tex(self.variable)}$ "
                f"(constant of integration ${_tex(self.constant)}$)")


@dataclass(frozen=True)
class LimitBoth(Rule):
    """``a = b`` for all ``x`` gives ``lim a = lim b``; ``known`` states limits assumed.

    ``known`` maps limits the notes take for granted (e.g. that the current vanishes at
    infinity) to their values; they are hypotheses of the step.
    """

    variable: sp.Symbol
    point: Any
    known: Mapping[Any, Any] = field(default_factory=dict)
    because: str = ""
    name: str = "take limits"

    def apply(self, premise: Claim, context: StepContext) -> Claim:
        if not (premise.lhs.has(self.variable) or premise.rhs.has(self.variable)):
            raise RuleMisuseError(f"the premise does not depend on {self.variable}")
        if self.known and not self.because.strip():
            raise RuleMisuseError("assumed limits need a stated reason")

        def lim(e: Any) -> Any:
            e = sp.sympify(e)
            for part, value in self.known.items():
                if e == part:
                    return sp.sympify(value)
            if not e.has(self.variable):
                return e
            if isinstance(e, sp.Add):
                return sp.Add(*(lim(t) for t in e.args))
            return sp.limit(e.doit(), self.variable, self.point)

        return _claim(lim(premise.lhs), lim(premise.rhs))

    def describe(self) -> str:
        extra = ""
        if self.known:
            extra = " with " + ", ".join(f"{sp.sstr(k)} -> {sp.sstr(v)}"
                                         for k, v in self.known.items())
            extra += f" ({self.because})"
        return f"taking the limit {self.variable} -> {sp.sstr(self.point)} of both sides{extra}"

    def describe_latex(self) -> str:
        extra = ""
        if self.known:
            extra = " with " + ", ".join(f"${_tex(k)} \\to {_tex(v)}$"
                                         for k, v in self.known.items())
            extra += f" ({self.because})"
        return (f"taking the limit ${_tex(self.variable)} \\to {_tex(self.point)}$ of both "
                f"sides{extra}")

    def hypotheses(self) -> tuple[str, ...]:
        return (self.because,) if self.known else ()


@dataclass(frozen=True)
class Substitute(Rule):
    """Replace, in the premise, the left side of step ``using`` by its right side."""

    using: str
    reverse: bool = False
    name: str = "substitute"

    def apply(self, premise: Claim, context: StepContext) -> Claim:
        eq = context.claim_of(self.using)
        old, new = (eq.rhs, eq.lhs) if self.reverse else (eq.lhs, eq.rhs)
        return _substitute(premise, old, new, f"substituting step {self.using!r}")

    def describe(self) -> str:
        return f"substituting step {self.using!r}"

    def describe_latex(self) -> str:
        return f"substituting step `{self.using}`"


@dataclass(frozen=True)
class Combine(Rule):
    """Combine the premise ``a = b`` with step ``other`` ``c = d``.

    ``how``: ``"add"`` gives ``a + c = b + d``, ``"subtract"`` ``a - c = b - d``,
    ``"equate"`` (same left sides) gives ``b = d``, ``"chain"`` (``b`` is ``c``) gives
    ``a = d``.
    """

    other: str
    how: str = "add"
    name: str = "combine"

    def apply(self, premise: Claim, context: StepContext) -> Claim:
        o = context.claim_of(self.other)
        if self.how == "add":
            return _claim(premise.lhs + o.lhs, premise.rhs + o.rhs)
        if self.how == "subtract":
            return _claim(premise.lhs - o.lhs, premise.rhs - o.rhs)
        if self.how == "equate":
            if not _same(premise.lhs, o.lhs):
                raise RuleMisuseError("equating needs two steps with the same left side")
            return _claim(premise.rhs, o.rhs)
        if self.how == "chain":
            if not _same(premise.rhs, o.lhs):
                raise RuleMisuseError("chaining needs the premise's right side to be the other "
                                      "step's left side")
            return _claim(premise.lhs, o.rhs)
        raise RuleMisuseError(f"unknown way to combine {self.how!r}")

    def describe(self) -> str:
        return {"add": "adding step {o!r} to the premise",
                "subtract": "subtracting step {o!r} from the premise",
                "equate": "equating the right sides of the premise and step {o!r}",
                "chain": "chaining the premise with step {o!r}"}.get(
            self.how, "combining with {o!r}").format(o=self.other)

    def describe_latex(self) -> str:
        return self.describe().replace("'", "`")


def _same(a: Any, b: Any) -> bool:
    d = sp.sympify(a - b)
    if isinstance(d, sp.MatrixBase):
        return all(sp.simplify(x) == 0 for x in d)
    return sp.simplify(d) == 0


@dataclass(frozen=True)
class Rearrange(Rule):
    """Move terms across: the claim must have the premise's ``lhs - rhs`` (or its negative)."""

    name: str = "rearrange"

    def apply(self, premise: Claim, context: StepContext) -> Claim:
        return premise

    def describe(self) -> str:
        return "rearranging terms"


@dataclass(frozen=True)
class Rewrite(Rule):
    """Rewrite ``old`` as ``new`` wherever it occurs; ``old = new`` is checked first."""

    old: Any
    new: Any
    name: str = "rewrite"

    def apply(self, premise: Claim, context: StepContext) -> Claim:
        if not is_zero(sp.sympify(self.old) - sp.sympify(self.new))[0]:
            raise RuleMisuseError(f"{sp.sstr(self.old)} is not {sp.sstr(self.new)}")
        return _substitute(premise, self.old, self.new, "rewriting")

    def describe(self) -> str:
        return f"rewriting {sp.sstr(self.old)} as {sp.sstr(self.new)}"

    def describe_latex(self) -> str:
        return f"rewriting ${_tex(self.old)}$ as ${_tex(self.new)}$"


@dataclass(frozen=True)
class Given(Rule):
    """Substitute a stated hypothesis ``old = new`` (e.g. stationarity) into the premise.

    The hypothesis is shown with the step; ``because`` says where it comes from.
    """

    old: Any
    new: Any
    because: str
    name: str = "use a hypothesis"

    def apply(self, premise: Claim, context: StepContext) -> Claim:
        if not self.because.strip():
            raise RuleMisuseError("a hypothesis needs a stated reason")
        return _substitute(premise, self.old, self.new, "the hypothesis")

    def describe(self) -> str:
        return f"the hypothesis {sp.sstr(self.old)} = {sp.sstr(self.new)} ({self.because})"

    def describe_latex(self) -> str:
        return f"the hypothesis ${_tex(self.old)} = {_tex(self.new)}$ ({self.because})"

    def hypotheses(self) -> tuple[str, ...]:
        return (f"{sp.sstr(self.old)} = {sp.sstr(self.new)}: {self.because}",)


#: Assumptions an instantiated value must be known to satisfy.
_ASSUMPTIONS = ("integer", "positive", "nonnegative", "negative", "nonpositive", "nonzero",
                "real", "finite")


@dataclass(frozen=True)
class Instantiate(Rule):
    """An identity in free symbols ``x`` gives the identity at ``x = e``: ``a[x:=e] = b[x:=e]``.

    The premise must hold for *every* value of each instantiated symbol allowed by its
    SymPy assumptions (as every checked identity of a derivation does; ``because`` says
    why this premise is such an identity and not, e.g., a relation that fixes a constant
    of integration). Misuse is refused: a symbol that is not free in the premise, a value
    whose assumptions do not imply the symbol's (``n`` integer and positive needs a value
    SymPy knows to be an integer and positive), and an instantiation that changes nothing.
    The substitution is simultaneous.

    Examples
    --------
    >>> import sympy as sp
    >>> from symsde.proof import Claim, StepContext
    >>> s, n = sp.Symbol("s", positive=True), sp.Symbol("n", positive=True, integer=True)
    >>> sigma, dt = sp.symbols("sigma Delta_t", positive=True)
    >>> rule = Instantiate(((s, sigma * sp.sqrt(dt)),), "an identity in s > 0")
    >>> rule.apply(Claim(s**2 * n, n * s * s), StepContext({}, ["x"], "x")).text()
    'Delta_t*n*sigma**2 = Delta_t*n*sigma**2'
    >>> Instantiate(((n, sp.Rational(1, 2)),), "an identity in n").apply(
    ...     Claim(n, n), StepContext({}, ["x"], "x"))
    Traceback (most recent call last):
    ...
    symsde.proof.rules.RuleMisuseError: n is integer, but SymPy cannot show that 1/2 is
    """

    values: tuple[tuple[sp.Symbol, Any], ...]
    because: str
    name: str = "instantiate"

    def apply(self, premise: Claim, context: StepContext) -> Claim:
        if not self.because.strip():
            raise RuleMisuseError("instantiating needs a reason why the premise holds for "
                                  "every value of the symbols")
        free = premise.lhs.free_symbols | premise.rhs.free_symbols
        for sym, value in self.values:
            if not isinstance(sym, sp.Symbol) or sym not in free:
                raise RuleMisuseError(f"{sym} is not a free symbol of the premise")
            value = sp.sympify(value)
            for assumption in _ASSUMPTIONS:
                if getattr(sym, f"is_{assumption}") and getattr(value, f"is_{assumption}") \
                        is not True:
                    raise RuleMisuseError(f"{sym} is {assumption}, but SymPy cannot show "
                                          f"that {value} is")
        subs = dict(self.values)
        out = _claim(premise.lhs.subs(subs, simultaneous=True),
                                premise.rhs.subs(subs, simultaneous=True))
        if out == premise:
            raise RuleMisuseError("the instantiation changes nothing")
        return out

    def describe(self) -> str:
        vals = ", ".join(f"{sp.sstr(k)} = {sp.sstr(v)}" for k, v in self.values)
        return f"instantiating {vals} ({self.because})"

    def describe_latex(self) -> str:
        vals = ", ".join(f"${sp.latex(k)} = {sp.latex(v)}$" for k, v in self.values)
        return f"instantiating {vals} ({self.because})"

    def hypotheses(self) -> tuple[str, ...]:
        return (self.because,)


@dataclass(frozen=True)
class GivenThroughout(Rule):
    """Substitute a hypothesis ``old = new`` that holds at every value of its variables.

    :class:`~symsde.proof.rules.Given` substitutes with ``subs``, which SymPy does not do
    under an integral sign when ``old`` contains the integration variable. This rule
    replaces ``old`` structurally (``xreplace``), also under integral and sum signs. That
    is sound when the hypothesis holds for *every* value of the variables in ``old`` (e.g.
    ``Phi'(s) = -g(Phi(s))`` at every time ``s``), which ``because`` must say. Misuse is
    refused: no reason, or ``old`` not occurring in the premise.

    Examples
    --------
    >>> import sympy as sp
    >>> from symsde.proof import Claim, StepContext
    >>> s, t = sp.symbols("s t", real=True)
    >>> f, g = sp.Function("f"), sp.Function("g")
    >>> rule = GivenThroughout(sp.Derivative(f(s), s), g(s), "f' = g everywhere")
    >>> rule.apply(Claim(sp.Integral(sp.Derivative(f(s), s), (s, 0, t)), f(t) - f(0)),
    ...            StepContext({}, ["x"], "x")).text()
    'Integral(g(s), (s, 0, t)) = -f(0) + f(t)'
    """

    old: Any
    new: Any
    because: str
    name: str = "use a hypothesis throughout"

    def apply(self, premise: Claim, context: StepContext) -> Claim:
        if not self.because.strip():
            raise RuleMisuseError("a hypothesis needs a stated reason")
        rep = {self.old: self.new}
        out = _claim(premise.lhs.xreplace(rep), premise.rhs.xreplace(rep))
        if out == premise:
            raise RuleMisuseError(f"{sp.sstr(self.old)} does not occur in the premise")
        return out

    def describe(self) -> str:
        return (f"the hypothesis {sp.sstr(self.old)} = {sp.sstr(self.new)} throughout "
                f"({self.because})")

    def describe_latex(self) -> str:
        return (f"the hypothesis ${sp.latex(self.old)} = {sp.latex(self.new)}$ throughout "
                f"({self.because})")

    def hypotheses(self) -> tuple[str, ...]:
        return (f"{sp.sstr(self.old)} = {sp.sstr(self.new)}: {self.because}",)


@dataclass(frozen=True)
class Specialise(Rule):
    r"""A premise that holds for *every* test function holds for a particular one.

    ``function`` is an undefined function the premise quantifies over (a test function
    :math:`\varphi`); ``instance`` a closed :class:`sympy.Lambda` (no free symbols besides
    its own variables, so nothing in the premise can be captured). The derivatives of the
    instance are evaluated. Refused when the function does not occur, when it is a name an
    earlier definition fixes (a defined name is not arbitrary), or without a reason.
    """

    function: Any
    instance: sp.Lambda
    because: str
    name: str = "specialise a test function"

    def apply(self, premise: Claim, context: StepContext) -> Claim:
        if not self.because.strip():
            raise RuleMisuseError("specialising needs a reason why the premise holds for "
                                  "every such function")
        if not isinstance(self.instance, sp.Lambda):
            raise RuleMisuseError("the instance must be a sympy.Lambda")
        if self.instance.expr.free_symbols - set(self.instance.variables):
            raise RuleMisuseError("the instance must be closed (no free symbols), or it could "
                                  "capture a variable of the premise")
        if self.function in context.definitions:
            raise RuleMisuseError(f"{self.function} is defined, not arbitrary")
        sides = (premise.lhs, premise.rhs)
        if not any(isinstance(s, sp.Basic) and s.has(self.function) for s in sides):
            raise RuleMisuseError(f"{self.function} does not occur in the premise")
        lhs, rhs = (s.replace(self.function, self.instance).doit() for s in sides)
        return _claim(lhs, rhs)

    def describe(self) -> str:
        return (f"taking {self.function} = {sp.sstr(self.instance)} "
                f"(the premise holds for every {self.function}: {self.because})")

    def describe_latex(self) -> str:
        u = self.instance.variables
        return (f"taking ${sp.latex(self.function(*u))} = {sp.latex(self.instance.expr)}$ "
                f"(the premise holds for every ${sp.latex(self.function(*u))}$: "
                f"{self.because})")

    def hypotheses(self) -> tuple[str, ...]:
        return (f"the premise holds for every {self.function}: {self.because}",)


@dataclass(frozen=True)
class Induction(Rule):
    r"""From :math:`q(k+1) = q(k)` for all integers :math:`k \ge k_0` conclude
    :math:`q(k) = q(k_0)` for all :math:`k \ge k_0`.

    The premise must read ``q(k+1) = q(k)`` literally up to simplification (its left side is
    its right side with ``k`` shifted by one); anything else is refused.
    """

    variable: sp.Symbol
    start: Any = 0
    name: str = "induction"

    def apply(self, premise: Claim, context: StepContext) -> Claim:
        k = self.variable
        if not k.is_integer:
            raise RuleMisuseError(f"induction needs an integer variable, not {k}")
        if not premise.rhs.has(k):
            raise RuleMisuseError(f"the premise does not depend on {k}")
        shifted = premise.rhs.subs(k, k + 1)
        if sp.simplify(context.unfold(premise.lhs) - context.unfold(shifted)) != 0:
            raise RuleMisuseError("the premise is not of the form q(k+1) = q(k)")
        return _claim(premise.rhs, premise.rhs.subs(k, self.start))

    def describe(self) -> str:
        return (f"induction on {self.variable} from {self.variable} = {self.start}: "
                "q(k+1) = q(k) for all k gives q(k) = q(start)")

    def describe_latex(self) -> str:
        k = sp.latex(self.variable)
        return (f"induction on ${k} \\ge {sp.latex(self.start)}$: $q({k}+1) = q({k})$ for "
                f"all ${k}$ gives $q({k}) = q({sp.latex(self.start)})$")


#: A hook for tests: rules a user may not define as arbitrary callables.
RULE_TYPES: tuple[type[Rule], ...] = (AddBoth, ApplyBoth, Combine, DifferentiateBoth,
                                      DivideBoth, Given, GivenThroughout, Induction,
                                      Instantiate, IntegrateBoth, LimitBoth, MultiplyBoth,
                                      Rearrange, Rewrite, Specialise, Substitute)
