"""Each rule of inference: sound on a true premise, refuses misuse, and a rule step fails
when its premise is mutated three ways."""

from __future__ import annotations

import pytest
import sympy as sp

from symsde.proof import (
    AddBoth,
    ApplyBoth,
    Claim,
    Combine,
    Computed,
    Derivation,
    DifferentiateBoth,
    DivideBoth,
    FollowsFrom,
    Given,
    GivenThroughout,
    Induction,
    Instantiate,
    IntegrateBoth,
    LimitBoth,
    MultiplyBoth,
    Rearrange,
    Rewrite,
    RuleMisuseError,
    Specialise,
    Substitute,
    Witness,
)
from symsde.proof.kernel import StepContext, _premise_mutants
from symsde.proof.rules import RULE_TYPES

x = sp.Symbol("x", positive=True)
a = sp.Symbol("a", positive=True)
C = sp.Symbol("C", real=True)
E = sp.Symbol("E", positive=True)

#: A true premise about x: d/dx (x^3 e^{-a x}) = (3 x^2 - a x^3) e^{-a x}.
F = x**3 * sp.exp(-a * x)
PREMISE = Claim(sp.Derivative(F, x), (3 * x**2 - a * x**3) * sp.exp(-a * x))
OTHER = Claim(sp.Derivative(x**3, x), 3 * x**2)  # a second true step, for Combine / Substitute

#: rule -> the claim it makes of PREMISE (written out independently of the rule).
CASES = {
    "multiply": (MultiplyBoth(a), Claim(a * sp.Derivative(F, x),
                                        a * (3 * x**2 - a * x**3) * sp.exp(-a * x))),
    "divide": (DivideBoth(x**2, "x > 0"), Claim(sp.Derivative(F, x) / x**2,
                                               (3 - a * x) * sp.exp(-a * x))),
    "add": (AddBoth(x), Claim(sp.Derivative(F, x) + x,
                              x + (3 * x**2 - a * x**3) * sp.exp(-a * x))),
    "apply-exp": (ApplyBoth(sp.exp), Claim(sp.exp(sp.Derivative(F, x)),
                                           sp.exp((3 * x**2 - a * x**3) * sp.exp(-a * x)))),
    "differentiate": (DifferentiateBoth(x), Claim(
        sp.Derivative(F, (x, 2)), (6 * x - 6 * a * x**2 + a**2 * x**3) * sp.exp(-a * x))),
    "integrate": (IntegrateBoth(x, C), Claim(F, x**3 * sp.exp(-a * x) + C)),
    "limit": (LimitBoth(x, sp.oo), Claim(sp.Limit(sp.Derivative(F, x), x, sp.oo), 0)),
    "substitute": (Substitute("other", reverse=True), Claim(
        sp.Derivative(F, x), (sp.Derivative(x**3, x) - a * x**3) * sp.exp(-a * x))),
    "given": (Given(3 * x**2 - a * x**3, E, "name the polynomial factor"),
              Claim(sp.Derivative(F, x), E * sp.exp(-a * x))),
    "given-throughout": (GivenThroughout(3 * x**2 - a * x**3, E, "the factor, everywhere"),
                         Claim(sp.Derivative(F, x), E * sp.exp(-a * x))),
    "instantiate": (Instantiate(((a, 2),), "an identity for every a > 0"),
                    Claim(sp.Derivative(x**3 * sp.exp(-2 * x), x),
                          (3 * x**2 - 2 * x**3) * sp.exp(-2 * x))),
    "combine-add": (Combine("other", "add"), Claim(
        sp.Derivative(F, x) + sp.Derivative(x**3, x),
        (3 * x**2 - a * x**3) * sp.exp(-a * x) + 3 * x**2)),
    "rearrange": (Rearrange(), Claim(sp.Derivative(F, x) - 3 * x**2 * sp.exp(-a * x),
                                     -a * x**3 * sp.exp(-a * x))),
    "rewrite": (Rewrite(3 * x**2, sp.Derivative(x**3, x)), Claim(
        sp.Derivative(F, x), (sp.Derivative(x**3, x) - a * x**3) * sp.exp(-a * x))),
}


def chain(rule, claim, premise=PREMISE) -> Derivation:
    # The constant of integration takes the value for which the integrated claim is true.
    # E names 3 x^2 - a x^3 in the Given case.
    d = Derivation("rules", "rules", witness=Witness(values={C: 0, E: 3 * x**2 - a * x**3}))
    d.step("other", OTHER, "true", slide="S", check=Computed())
    d.step("premise", premise, "true", slide="S", check=Computed())
    d.step("s", claim, "by the rule", slide="S", check=FollowsFrom(rule, source="premise"))
    return d


def test_every_rule_has_a_case() -> None:
    # Induction and Specialise need premises of their own form: tested below.
    assert {type(r) for r, _ in CASES.values()} | {Induction, Specialise} == set(RULE_TYPES)


@pytest.mark.parametrize("name", CASES)
def test_rule_is_sound_on_a_true_premise(name: str) -> None:
    rule, claim = CASES[name]
    r = chain(rule, claim).verify_step("s")
    assert r.verdict == "holds", (name, r.detail)
    assert r.premise_sensitive is True
    # The numeric witness evaluated the derived claim on its own at 8 points: it is true.
    assert r.witness_points >= 8 and r.witness_error is not None


@pytest.mark.parametrize("name", CASES)
def test_a_premise_mutated_three_ways_makes_the_rule_step_fail(name: str) -> None:
    rule, claim = CASES[name]
    mutants = _premise_mutants(PREMISE)
    assert len(mutants) == 3
    for wrong in mutants:
        d = Derivation("rules", "rules")
        d.step("other", OTHER, "true", slide="S", check=Computed())
        # The wrong premise enters as a (failing) step; its claim is what the rule sees.
        d.step("premise", wrong, "wrong", slide="S", check=Computed())
        d.step("s", claim, "by the rule", slide="S", check=FollowsFrom(rule, source="premise"))
        r = d.verify_step("s")
        assert d.verify_step("premise").verdict == "fails"
        assert r.verdict == "fails", (name, wrong.text())


@pytest.mark.parametrize("name", CASES)
def test_a_wrong_left_side_of_a_rule_step_fails(name: str) -> None:
    rule, claim = CASES[name]
    r = chain(rule, Claim(claim.lhs + x**5, claim.rhs)).verify_step("s")
    assert r.verdict == "fails", name


MISUSE = [
    (MultiplyBoth(0), "multiplying both sides by 0"),
    (DivideBoth(0, "never"), "division by zero"),
    (DivideBoth(x, ""), "stated reason"),
    (ApplyBoth(sp.log), "positive"),
    (DifferentiateBoth(sp.Symbol("y")), "does not depend"),
    (IntegrateBoth(x, a), "already occurs"),
    (IntegrateBoth(sp.Symbol("y"), C), "does not depend"),
    (LimitBoth(sp.Symbol("y"), sp.oo), "does not depend"),
    (LimitBoth(x, sp.oo, {x: 0}, ""), "stated reason"),
    (Substitute("other"), "does not occur"),
    (Given(sp.exp(-a * x), E, "capture"), "bound inside a derivative"),
    (Given(sp.Symbol("nowhere"), 0, "assumed"), "does not occur"),
    (Given(x, 0, ""), "stated reason"),
    (Combine("other", "equate"), "same left side"),
    (Combine("other", "chain"), "right side"),
    (Combine("other", "multiply"), "unknown way"),
    (Rewrite(x, 2 * x), "is not"),
    (GivenThroughout(x, 0, ""), "stated reason"),
    (GivenThroughout(sp.Symbol("nowhere"), 0, "assumed"), "does not occur"),
    (Instantiate(((a, 2),), ""), "needs a reason"),
    (Instantiate(((sp.Symbol("y"), 2),), "r"), "not a free symbol"),
    (Instantiate(((a, -1),), "r"), "cannot show"),
    (Rewrite(sp.sin(x) ** 2 + sp.cos(x) ** 2, 1), "does not occur"),
]


@pytest.mark.parametrize(("rule", "message"), MISUSE, ids=[m for _, m in MISUSE])
def test_misuse_is_refused(rule, message: str) -> None:
    ctx = StepContext({"other": OTHER, "premise": PREMISE}, ["other", "premise", "s"], "s")
    with pytest.raises(RuleMisuseError, match=message):
        rule.apply(PREMISE, ctx)
    # ... and a step that misuses a rule fails with the reason.
    r = chain(rule, PREMISE).verify_step("s")
    assert r.verdict == "fails" and "misused rule" in r.detail


def test_apply_refuses_arbitrary_code() -> None:
    ctx = StepContext({}, ["s"], "s")
    with pytest.raises(RuleMisuseError, match="arbitrary code"):
        ApplyBoth(lambda e: 7).apply(PREMISE, ctx)


# -- rules whose premise has a form of its own ----------------------------------------------
k = sp.Symbol("k", integer=True, nonnegative=True)
q = sp.Function("q")
phi = sp.Function("phi")


def _rule_step(premise: Claim, claim: Claim, rule) -> str:
    d = Derivation("form", "form")
    d.step("premise", premise, "true", slide="S", check=Computed())
    d.step("s", claim, "by the rule", slide="S", check=FollowsFrom(rule))
    return d.verify_step("s").verdict


def test_induction_from_a_constant_step_to_a_constant_sequence() -> None:
    # q(k) = a^2 + 0*k in disguise: (k+1) - k = 1 appears on both sides.
    premise = Claim(sp.Sum(1, (sp.Symbol("j", integer=True), 1, k + 1)) - (k + 1),
                    sp.Sum(1, (sp.Symbol("j", integer=True), 1, k)) - k)
    claim = Claim(premise.rhs, 0)
    assert _rule_step(premise, claim, Induction(k)) == "holds"
    assert _rule_step(premise, Claim(premise.rhs, 1), Induction(k)) == "fails"
    for wrong in _premise_mutants(premise):
        assert _rule_step(wrong, claim, Induction(k)) == "fails"
    ctx = StepContext({}, ["s"], "s")
    with pytest.raises(RuleMisuseError, match="integer"):
        Induction(x).apply(premise, ctx)
    with pytest.raises(RuleMisuseError, match="q\\(k\\+1\\) = q\\(k\\)"):
        Induction(k).apply(Claim(k + 2, k), ctx)
    with pytest.raises(RuleMisuseError, match="does not depend"):
        Induction(k).apply(Claim(x, x), ctx)


def test_specialise_a_statement_about_every_test_function() -> None:
    u = sp.Symbol("u", real=True)
    premise = Claim(sp.Derivative(phi(x) * sp.exp(-a * x), x),
                    (sp.Derivative(phi(x), x) - a * phi(x)) * sp.exp(-a * x))
    instance = sp.Lambda(u, u**2)
    claim = Claim(sp.Derivative(x**2 * sp.exp(-a * x), x), (2 * x - a * x**2) * sp.exp(-a * x))
    rule = Specialise(phi, instance, "the product rule holds for every phi")
    assert _rule_step(premise, claim, rule) == "holds"
    for wrong in _premise_mutants(premise):
        assert _rule_step(wrong, claim, rule) == "fails"
    ctx = StepContext({}, ["s"], "s")
    with pytest.raises(RuleMisuseError, match="closed"):
        Specialise(phi, sp.Lambda(u, u * a), "r").apply(premise, ctx)
    with pytest.raises(RuleMisuseError, match="reason"):
        Specialise(phi, instance, "").apply(premise, ctx)
    with pytest.raises(RuleMisuseError, match="does not occur"):
        Specialise(q, instance, "r").apply(premise, ctx)
