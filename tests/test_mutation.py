"""Mutation testing: altered right sides, left sides, definitions and premises must fail."""

from __future__ import annotations

import json

import pytest
import sympy as sp

from symsde.proof import (
    CheckOutcome,
    Claim,
    Computed,
    Derivation,
    FollowsFrom,
    MultiplyBoth,
    Rule,
)
from symsde.proof.mutation import CLASSES, OPERATORS, expression_mutants, run_mutations

x = sp.Symbol("x", real=True)
a = sp.Symbol("a", positive=True)
J = sp.Function("J")


def test_operators_alter_an_expression() -> None:
    e = -a**2 / 2 * x + sp.Rational(1, 2)
    made = list(expression_mutants(e))
    assert {name for name, _ in made} == set(OPERATORS)
    for name, m in made:
        assert sp.simplify(m - e) != 0, name


def _toy() -> Derivation:
    d = Derivation("toy", "toy")
    d.define("j", J(x), a * x**2, "a quantity", slide="S")
    d.step("slope", Claim(sp.Derivative(J(x), x), 2 * a * x), "differentiate", slide="S",
           check=Computed())
    d.step("double", Claim(2 * sp.Derivative(J(x), x), 4 * a * x), "double", slide="S",
           check=FollowsFrom(MultiplyBoth(2)))
    return d


def test_every_class_is_made_and_killed_on_a_sound_derivation() -> None:
    report = run_mutations([_toy()])
    by = report.by_class()
    assert set(by) == set(CLASSES)
    for cls in CLASSES:
        assert by[cls]["mutants"] > 0, cls
        assert by[cls]["killed"] == by[cls]["mutants"], report.summary()
    doc = report.to_dict()
    assert json.loads(json.dumps(doc))["classes"]["premise"]["mutants"] == 3
    assert doc["survivors"] == []


class _Blind(Computed):
    """A check that ignores the claim: every mutant of it survives."""

    def run(self, claim, context):
        return CheckOutcome(True, sp.Integer(0))

    def witness_sides(self, claim, context):
        return claim.lhs, claim.lhs


def test_a_check_that_cannot_fail_is_exposed() -> None:
    d = Derivation("blind", "blind")
    d.step("s", Claim(sp.Derivative(x**3, x), 3 * x**2), "r", slide="S", check=_Blind())
    report = run_mutations([d], ["rhs", "lhs"])
    assert report.by_class()["rhs"]["mutants"] > 0
    assert report.by_class()["rhs"]["killed"] == 0
    assert len(report.survivors) == sum(v["mutants"] for v in report.by_class().values())


class _Constant(Rule):
    def apply(self, premise, context):
        return Claim(2 * sp.Derivative(J(x), x), 4 * a * x)


def test_a_rule_ignoring_its_premise_survives_premise_mutants() -> None:
    d = Derivation("t", "t")
    d.define("j", J(x), a * x**2, "a quantity", slide="S")
    d.step("slope", Claim(sp.Derivative(J(x), x), 2 * a * x), "r", slide="S", check=Computed())
    d.step("double", Claim(2 * sp.Derivative(J(x), x), 4 * a * x), "r", slide="S",
           check=FollowsFrom(_Constant()))
    report = run_mutations([d], ["premise"])
    assert report.by_class()["premise"] == {"mutants": 3, "killed": 0}


def test_an_unused_definition_survives_its_mutants() -> None:
    d = Derivation("t", "t")
    d.define("unused", J(x), a * x**2, "nothing uses it", slide="S")
    d.step("s", Claim(sp.Derivative(x**2, x), 2 * x), "r", slide="S", check=Computed())
    report = run_mutations([d], ["definition"])
    assert report.by_class()["definition"]["mutants"] > 0
    assert report.by_class()["definition"]["killed"] == 0


def test_a_mutant_equal_to_the_claim_is_set_aside_as_equivalent() -> None:
    d = Derivation("t", "t")
    d.step("s", Claim(sp.Derivative(x**2 - 2 * x, x) + 2, 2 * x), "r", slide="S",
           check=Computed())
    d.step("z", Claim(sp.Derivative(x**2, x) - 2 * x, 0), "r", slide="S", check=Computed())
    report = run_mutations([d], ["lhs"])
    # -(lhs) = 0 and 2*lhs = 0 say what lhs = 0 says.
    assert {(e["step"], e["operator"]) for e in report.equivalent} >= {("z", "flip-sign"),
                                                                       ("z", "factor-2")}


def test_unknown_class_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown mutation classes"):
        run_mutations([_toy()], ["everything"])
