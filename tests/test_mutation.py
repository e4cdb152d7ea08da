"""Mutation testing: every altered claim of every registered derivation must fail."""

from __future__ import annotations

import pytest
import sympy as sp

from symsde.mutation import OPERATORS, run_mutations
from symsde.proof import Claim, Derivation, Identity, Value
from symsde.registry import load

x = sp.Symbol("x", real=True)
sigma = sp.Symbol("sigma", positive=True)
n = sp.Symbol("n", positive=True)


def test_operators_alter_the_right_side() -> None:
    claim = Claim(sp.Symbol("J"), -sigma**2 / 2 * x + sp.Rational(1, 2))
    made = {name: list(op(claim)) for name, op in OPERATORS.items()}
    assert all(made[k] for k in OPERATORS), "every operator applies to this claim"
    for name, claims in made.items():
        for c in claims:
            assert c.lhs == claim.lhs
            assert sp.simplify(c.rhs - claim.rhs) != 0, name


def test_zero_right_side_is_still_mutated() -> None:
    made = [c for op in OPERATORS.values() for c in op(Claim(sp.Symbol("r"), 0))]
    assert made and all(c.rhs != 0 for c in made)


def test_a_check_that_cannot_fail_is_exposed() -> None:
    # A step whose check ignores the claim survives its mutants: the suite must notice.
    class Blind(Identity):
        def run(self, claim, context):
            return super().run(Claim(claim.lhs, claim.lhs), context)

        def witness_claim(self, claim, context):
            return Claim(claim.lhs, claim.lhs)

    d = Derivation("blind", "blind")
    d.step("s", Claim(x**2, x * x), "r", slide="S", check=Blind())
    report = run_mutations([d])
    assert report.total > 0
    assert report.rate() == 0.0
    assert len(report.survivors) == report.total


@pytest.mark.slow  # about 2 minutes: CI runs it with `make test-slow`
def test_every_mutant_of_every_registered_derivation_is_killed() -> None:
    report = run_mutations(load())
    print("\n" + report.summary())
    assert report.total >= 100
    assert report.survivors == [], report.summary()
    # Each checker alone rejects every mutant: the witness is not a rubber stamp.
    assert report.rate("killed_symbolic") == 1.0, report.summary()
    assert report.rate("killed_witness") == 1.0, report.summary()


def test_sigma_operator_injects_the_notes_noise_level() -> None:
    (c,) = OPERATORS["sigma2-to-1/(2n)"](Claim(sp.Symbol("p"), sp.exp(-2 * x / sigma**2)))
    assert sp.simplify(c.rhs - sp.exp(-4 * n * x).subs(n, sp.Symbol("n", positive=True))) == 0


def test_value_step_mutants_are_killed_by_the_computation() -> None:
    d = Derivation("v", "v")
    d.step("alpha", Claim(sp.Symbol("alpha"), sp.Rational(1, 2)), "r", slide="S",
           check=Value(lambda: sp.integrate(sp.exp(-2 * x), (x, 0, sp.oo))))
    report = run_mutations([d])
    assert {m.operator for m in report.mutants} >= {"half-to-quarter", "factor-2"}
    assert report.rate() == 1.0
