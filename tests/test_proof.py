"""The proof kernel: every check kind accepts a true claim and rejects a wrong one."""

from __future__ import annotations

import json

import pytest
import sympy as sp

from symsde.proof import (
    CheckOutcome,
    Claim,
    Derivation,
    FollowsFrom,
    Identity,
    SolvesODE,
    Value,
    Witness,
    is_zero,
)

x = sp.Symbol("x", real=True)
a = sp.Symbol("a", positive=True)
u = sp.Symbol("u", nonnegative=True)
f = sp.Function("f")


def one_step(claim, check, corrected=None, witness=None, erratum="") -> Derivation:
    d = Derivation("t", "test", witness=witness)
    d.step("s", claim, "reason", slide="Slide", check=check, corrected=corrected,
           erratum=erratum)
    return d


def verdict(d: Derivation, step: str = "s"):
    return d.verify_step(step)


# -- each check kind holds on a true claim and fails, with a residual, on a wrong one ------
CASES = [
    ("identity", Claim((x + a) ** 2, x**2 + 2 * a * x + a**2),
     Claim((x + a) ** 2, x**2 + a**2), Identity()),
    ("identity-givens", Claim(sp.Symbol("y") ** 2, x**2 + 2 * x + 1),
     Claim(sp.Symbol("y") ** 2, x**2 + 1), Identity(givens={sp.Symbol("y"): x + 1})),
    ("value-integral", Claim(sp.Integral(sp.exp(-a * u), (u, 0, sp.oo)), 1 / a),
     Claim(sp.Integral(sp.exp(-a * u), (u, 0, sp.oo)), 2 / a), Value()),
    ("value-limit", Claim(sp.Limit(sp.sin(a * x) / x, x, 0), a),
     Claim(sp.Limit(sp.sin(a * x) / x, x, 0), a + 1), Value()),
    ("value-compute", Claim(sp.Symbol("root"), sp.sqrt(a)),
     Claim(sp.Symbol("root"), -sp.sqrt(a)),
     Value(lambda: sp.solve(sp.Symbol("r", positive=True) ** 2 - a,
                            sp.Symbol("r", positive=True))[0])),
    ("solves-ode", Claim(f(x), 3 * sp.exp(-a * x)), Claim(f(x), sp.exp(-2 * a * x)),
     SolvesODE(sp.Eq(f(x).diff(x), -a * f(x)), ics={f(0): 3})),
]


@pytest.mark.parametrize(("name", "good", "bad", "check"), CASES, ids=[c[0] for c in CASES])
def test_check_kind_accepts_truth_and_rejects_error(name, good, bad, check) -> None:
    ok = verdict(one_step(good, check))
    assert ok.verdict == "holds", ok.detail
    assert ok.residual == 0
    assert ok.witness_points >= 1 and ok.witness_error is not None
    wrong = verdict(one_step(bad, check))
    assert wrong.verdict == "fails"
    assert wrong.residual != 0


def test_solves_ode_needs_the_initial_condition() -> None:
    ode = sp.Eq(f(x).diff(x), -a * f(x))
    # 5 e^{-ax} solves the ODE but not f(0) = 3.
    r = verdict(one_step(Claim(f(x), 5 * sp.exp(-a * x)), SolvesODE(ode, ics={f(0): 3})))
    assert r.verdict == "fails"
    assert "initial condition" in r.detail


def test_follows_from_checks_the_stated_operation() -> None:
    d = Derivation("t", "t", witness=Witness(functions={f: sp.Lambda(x, x**2)}))
    d.step("first", Claim(f(x).diff(x), 2 * x), "given", slide="S",
           check=Identity(givens={f(x): x**2}))
    integrate = FollowsFrom(lambda c: c.map(lambda e: sp.integrate(e, x)), "integrating")
    d.step("good", Claim(f(x), x**2), "integrate", slide="S", check=integrate)
    d.step("bad", Claim(f(x), x**2 / 2), "integrate", slide="S", check=integrate)
    d.step("named-source", Claim(2 * f(x).diff(x), 4 * x), "double", slide="S",
           check=FollowsFrom(lambda c: c.map(lambda e: 2 * e), "doubling", source="first"))
    res = {r.step.id: r for r in d.verify().steps}
    assert res["good"].verdict == "holds"
    assert res["bad"].verdict == "fails"
    assert res["bad"].residual != 0
    assert res["named-source"].verdict == "holds"


def test_erratum_verdict_needs_a_refuted_claim_and_a_holding_correction() -> None:
    check = Value(lambda: 2 / a)
    ok = verdict(one_step(Claim(sp.Symbol("s2"), 1 / (2 * a)), check,
                          corrected=Claim(sp.Symbol("s2"), 2 / a), erratum="wrong factor"))
    assert ok.verdict == "erratum"
    assert ok.effective_claim.rhs == 2 / a
    # The correction must hold too.
    bad_fix = verdict(one_step(Claim(sp.Symbol("s2"), 1 / (2 * a)), Value(lambda: 2 / a),
                               corrected=Claim(sp.Symbol("s2"), 3 / a)))
    assert bad_fix.verdict == "fails"
    # Recording an erratum for a claim that holds is itself a failure.
    spurious = verdict(one_step(Claim(sp.Symbol("s2"), 2 / a), Value(lambda: 2 / a),
                                corrected=Claim(sp.Symbol("s2"), 2 / a)))
    assert spurious.verdict == "fails"
    assert "erratum is wrong" in spurious.detail


class _CredulousCheck(Identity):
    """A buggy symbolic check that accepts everything."""

    def run(self, claim, context):
        return CheckOutcome(True, sp.Integer(0))


def test_witness_catches_a_symbolic_check_that_wrongly_passes() -> None:
    r = verdict(one_step(Claim(sp.sin(x), x), _CredulousCheck()))
    assert r.verdict == "fails"
    assert "numeric witness disagreed" in r.detail


def test_witness_without_an_instance_for_a_function_fails() -> None:
    r = verdict(one_step(Claim(f(x) + 1, 1 + f(x)), Identity()))
    assert r.verdict == "fails"
    assert "non-numeric" in r.detail


def test_witness_evaluates_integrals_numerically_to_fifty_digits() -> None:
    # 1/4 is exact; 0.25 + 1e-45 differs only past the 45th digit and must still be caught
    # by the symbolic check; the witness's own threshold is 1e-40 relative.
    normal_tail = sp.erfc(u / sp.sqrt(2)) / 2
    good = verdict(one_step(Claim(sp.Integral(u * normal_tail, (u, 0, sp.oo)),
                                  sp.Rational(1, 4)), Value()))
    assert good.verdict == "holds"
    assert good.witness_error < 1e-45
    near = verdict(one_step(Claim(sp.Integral(u * normal_tail, (u, 0, sp.oo)),
                                  sp.Rational(1, 4) + sp.Rational(1, 10**30)), Value()))
    assert near.verdict == "fails"


def test_limit_witness_rejects_a_wrong_limit() -> None:
    lim = sp.Limit(x * sp.log(x), x, 0, "+")
    assert verdict(one_step(Claim(lim, 0), Value())).verdict == "holds"
    r = verdict(one_step(Claim(lim, sp.Rational(1, 10**6)), Value()))
    assert r.verdict == "fails"


def test_duplicate_step_ids_are_refused() -> None:
    d = Derivation("t", "t")
    d.step("s", Claim(x, x), "r", slide="S", check=Identity())
    with pytest.raises(ValueError, match="duplicate step id"):
        d.step("s", Claim(x, x), "r", slide="S", check=Identity())


def test_is_zero_reports_the_simplified_residual() -> None:
    ok, res = is_zero(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1)
    assert ok and res == 0
    ok, res = is_zero((x + 1) ** 2 - x**2 - 1)
    assert not ok and sp.expand(res - 2 * x) == 0


def test_renderings_carry_claims_verdicts_and_errata() -> None:
    d = Derivation("demo", "Demo derivation")
    d.step("square", Claim((x + 1) ** 2, x**2 + 2 * x + 1), "expand", slide="S",
           check=Identity(), equations=("E01",))
    d.step("noise", Claim(sp.Symbol("s2"), 1 / (2 * a)), "solve", slide="S",
           check=Value(lambda: 2 / a), corrected=Claim(sp.Symbol("s2"), 2 / a),
           erratum="factor four")
    text = d.render_text()
    assert "[holds] square" in text and "[erratum] noise" in text and "factor four" in text
    latex = d.render_latex()
    assert latex.count("\\item") == 2 and "\\frac{2}{a}" in latex and "Erratum" in latex
    md = d.render_markdown()
    assert "$$" in md and "Corrected" in md
    doc = json.loads(d.to_json())
    assert [s["verdict"] for s in doc["steps"]] == ["holds", "erratum"]
    assert doc["errata"] == 1 and doc["holds"] == 1 and doc["fails"] == 0
    assert doc["steps"][0]["equations"] == ["E01"]
    assert doc["steps"][1]["corrected"]["sympy"] == "s2 = 2/a"


def test_value_can_also_witness_its_left_side_numerically() -> None:
    lhs = sp.Integral(sp.exp(-2 * u), (u, 0, sp.oo))  # = 1/2, while compute claims 1
    assert verdict(one_step(Claim(lhs, 1), Value(lambda: 1))).verdict == "holds"
    r = verdict(one_step(Claim(lhs, 1), Value(lambda: 1, numeric_lhs=True)))
    assert r.verdict == "fails"
    assert "numeric witness disagreed" in r.detail


def test_a_witness_that_runs_too_long_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from symsde import proof

    monkeypatch.setattr(proof, "WITNESS_SECONDS", 1e-4)
    slow = sp.Integral(sp.exp(-u**2) * sp.cos(u) ** 2, (u, 0, sp.oo))
    r = verdict(one_step(Claim(slow, slow.doit()), Value(), witness=Witness(points=50)))
    assert r.verdict == "fails"
    assert "SymbolicTimeoutError" in r.detail


def test_an_outer_time_limit_aborts_verification_without_caching() -> None:
    from symsde._timeout import time_limit
    from symsde.errors import SymbolicTimeoutError

    slow = sp.Integral(sp.exp(-u**2) * sp.cos(3 * u) ** 4, (u, 0, sp.oo))
    d = one_step(Claim(slow, slow.doit()), Value(), witness=Witness(points=40))
    with pytest.raises(SymbolicTimeoutError), time_limit(0.05, "verifying the test"):
        d.verify()
    assert d._result is None  # nothing half-done was cached
