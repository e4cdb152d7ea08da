"""The proof kernel: every step kind accepts a true claim and rejects a wrong one, for the
right reason (a wrong right side, a wrong left side, a wrong definition, a wrong premise)."""

from __future__ import annotations

import json

import pytest
import sympy as sp

from symsde.proof import (
    CheckOutcome,
    Claim,
    Computed,
    Derivation,
    DifferentiateBoth,
    FollowsFrom,
    GroundingError,
    Rule,
    SolvesODE,
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


# -- computed steps hold on a true claim and fail, with a residual, on a wrong one ----------
CASES = [
    ("identity", Claim((x + a) ** 2, x**2 + 2 * a * x + a**2),
     Claim((x + a) ** 2, x**2 + a**2), Computed()),
    ("integral", Claim(sp.Integral(sp.exp(-a * u), (u, 0, sp.oo)), 1 / a),
     Claim(sp.Integral(sp.exp(-a * u), (u, 0, sp.oo)), 2 / a), Computed()),
    ("limit", Claim(sp.Limit(sp.sin(a * x) / x, x, 0), a),
     Claim(sp.Limit(sp.sin(a * x) / x, x, 0), a + 1), Computed()),
    ("derivative", Claim(sp.Derivative(sp.exp(a * x), x), a * sp.exp(a * x)),
     Claim(sp.Derivative(sp.exp(a * x), x), sp.exp(a * x)), Computed()),
    ("sum", Claim(sp.Sum(u**2, (u, 1, 10)), 385), Claim(sp.Sum(u**2, (u, 1, 10)), 384),
     Computed()),
    ("how", Claim(sp.Integral(x * sp.exp(-x**2), (x, 0, sp.oo)), sp.Rational(1, 2)),
     Claim(sp.Integral(x * sp.exp(-x**2), (x, 0, sp.oo)), 1),
     Computed(how=lambda e: sp.integrate(e.function, *e.limits, conds="none"))),
    ("solves-ode", Claim(f(x), 3 * sp.exp(-a * x)), Claim(f(x), sp.exp(-2 * a * x)),
     SolvesODE(sp.Eq(f(x).diff(x), -a * f(x)), ics={f(0): 3})),
]


@pytest.mark.parametrize(("name", "good", "bad", "check"), CASES, ids=[c[0] for c in CASES])
def test_computed_kinds_accept_truth_and_reject_error(name, good, bad, check) -> None:
    ok = verdict(one_step(good, check))
    assert ok.verdict == "holds", ok.detail
    assert ok.kind == "computed"
    assert ok.residual == 0
    assert ok.witness_points >= 8 and ok.witness_error is not None
    # A polynomial identity is one expression after expand: not an independent witness.
    assert ok.independent_witness is (name != "identity"), name
    wrong = verdict(one_step(bad, check))
    assert wrong.verdict == "fails"
    assert wrong.residual != 0


@pytest.mark.parametrize(("name", "good", "bad", "check"), CASES, ids=[c[0] for c in CASES])
def test_a_wrong_left_side_fails_for_every_computed_kind(name, good, bad, check) -> None:
    if isinstance(check, SolvesODE):
        wrong_lhs = Claim(2 * good.lhs, good.rhs)
        with pytest.raises(GroundingError):
            one_step(wrong_lhs, check)
        g = sp.Function("g")
        r = verdict(one_step(Claim(g(x), good.rhs), check))
        assert r.verdict == "fails"
        return
    r = verdict(one_step(Claim(2 * good.lhs, good.rhs), check))
    assert r.verdict == "fails", name


def test_solves_ode_needs_the_initial_condition() -> None:
    ode = sp.Eq(f(x).diff(x), -a * f(x))
    r = verdict(one_step(Claim(f(x), 5 * sp.exp(-a * x)), SolvesODE(ode, ics={f(0): 3})))
    assert r.verdict == "fails"
    assert "initial condition" in r.detail


# -- grounding: a left side is a computation or a defined name, never a label ----------------
@pytest.mark.parametrize("label", [sp.Symbol("i_last_block"), sp.Symbol("exponent ratio"),
                                   sp.Function("ratio")(sp.Symbol("N")), sp.Symbol("T")])
def test_a_bare_label_on_a_left_side_is_refused_when_the_step_is_added(label) -> None:
    d = Derivation("labels", "labels")
    with pytest.raises(GroundingError, match=r"'s'.*bare name"):
        d.step("s", Claim(label, 4), "r", slide="S", check=Computed())


def test_a_defined_name_is_computed_from_its_definition() -> None:
    T = sp.Symbol("T", positive=True)
    d = Derivation("defs", "defs")
    d.define("time", T, sp.Integral(sp.exp(-a * u), (u, 0, sp.oo)), "total time", slide="S")
    d.step("value", Claim(T, 1 / a), "computed", slide="S", check=Computed())
    d.step("wrong", Claim(T, 2 / a), "computed", slide="S", check=Computed())
    res = {r.step.id: r for r in d.verify().steps}
    assert res["time"].kind == "definition" and res["time"].verdict == "holds"
    assert res["value"].verdict == "holds" and res["value"].independent_witness
    assert res["wrong"].verdict == "fails"


def test_definitions_are_unique_and_not_circular() -> None:
    T = sp.Symbol("T")
    d = Derivation("defs", "defs")
    d.define("t1", T, a + 1, "r", slide="S")
    with pytest.raises(GroundingError, match="defined twice"):
        d.define("t2", T, a + 2, "r", slide="S")
    with pytest.raises(GroundingError, match="refers to itself"):
        d.define("t3", sp.Symbol("U"), sp.Symbol("U") + 1, "r", slide="S")


def test_a_wrong_definition_makes_the_step_that_uses_it_fail() -> None:
    J = sp.Function("J")
    for value, expected in ((x**2 * a, "holds"), (2 * x**2 * a, "fails")):
        d = Derivation("d", "d")
        d.define("j", J(x), value, "r", slide="S")
        d.step("s", Claim(sp.Derivative(J(x), x), 2 * a * x), "r", slide="S", check=Computed())
        assert d.verify_step("s").verdict == expected


# -- rule steps --------------------------------------------------------------------------
def test_rule_steps_hold_and_fail_by_their_rule_and_premise() -> None:
    d = Derivation("t", "t", witness=Witness(functions={f: sp.Lambda(x, x**3)}))
    d.define("cube", sp.Symbol("K"), sp.Integer(3), "K", slide="S")
    d.step("first", Claim(sp.Derivative(x**3, x), 3 * x**2), "given", slide="S",
           check=Computed())
    d.step("good", Claim(sp.Derivative(x**3, (x, 2)), 6 * x), "diff", slide="S",
           check=FollowsFrom(DifferentiateBoth(x)))
    d.step("bad", Claim(sp.Derivative(x**3, (x, 2)), 3 * x), "diff", slide="S",
           check=FollowsFrom(DifferentiateBoth(x), source="first"))
    d.step("wrong-lhs", Claim(sp.Derivative(x**3, (x, 2)) + 1, 6 * x), "diff", slide="S",
           check=FollowsFrom(DifferentiateBoth(x), source="first"))
    res = {r.step.id: r for r in d.verify().steps}
    assert res["good"].verdict == "holds" and res["good"].kind == "rule"
    assert res["good"].premise_sensitive is True
    assert res["bad"].verdict == "fails" and res["bad"].residual != 0
    assert res["wrong-lhs"].verdict == "fails"


class _IgnoresPremise(Rule):
    """Rebuilds its result from scratch, whatever the premise (the flaw of the old kernel)."""

    def apply(self, premise, context):
        return Claim(sp.Derivative(x**3, (x, 2)), 6 * x)


def test_a_rule_that_ignores_its_premise_fails_every_time_it_is_verified() -> None:
    d = Derivation("t", "t")
    d.step("premise", Claim(sp.Derivative(x**3, x), 3 * x**2), "given", slide="S",
           check=Computed())
    d.step("s", Claim(sp.Derivative(x**3, (x, 2)), 6 * x), "rebuilt", slide="S",
           check=FollowsFrom(_IgnoresPremise()))
    r = d.verify_step("s")
    assert r.verdict == "fails"
    assert r.premise_sensitive is False
    assert "ignores its premise" in r.detail


def test_follows_from_takes_a_rule_not_a_lambda() -> None:
    with pytest.raises(TypeError, match="rule"):
        FollowsFrom(lambda c: c)


# -- errata ------------------------------------------------------------------------------
def test_erratum_verdict_needs_a_refuted_claim_and_a_holding_correction() -> None:
    lhs = sp.Integral(sp.exp(-a * u / 2), (u, 0, sp.oo))
    ok = verdict(one_step(Claim(lhs, 1 / (2 * a)), Computed(), corrected=Claim(lhs, 2 / a),
                          erratum="wrong factor"))
    assert ok.verdict == "erratum" and ok.kind == "erratum"
    assert ok.effective_claim.rhs == 2 / a
    bad_fix = verdict(one_step(Claim(lhs, 1 / (2 * a)), Computed(),
                               corrected=Claim(lhs, 3 / a)))
    assert bad_fix.verdict == "fails"
    spurious = verdict(one_step(Claim(lhs, 2 / a), Computed(), corrected=Claim(lhs, 2 / a)))
    assert spurious.verdict == "fails"
    assert "erratum is wrong" in spurious.detail
    # A wrong left side of the correction fails too.
    wrong_lhs = verdict(one_step(Claim(lhs, 1 / (2 * a)), Computed(),
                                 corrected=Claim(2 * lhs, 2 / a)))
    assert wrong_lhs.verdict == "fails"


# -- the witness ---------------------------------------------------------------------------
class _CredulousCheck(Computed):
    """A buggy symbolic check that accepts everything."""

    def run(self, claim, context):
        return CheckOutcome(True, sp.Integer(0))


def test_witness_catches_a_symbolic_check_that_wrongly_passes() -> None:
    r = verdict(one_step(Claim(sp.sin(x), x), _CredulousCheck()))
    assert r.verdict == "fails"
    assert "numeric witness disagreed" in r.detail


def test_witness_without_an_instance_for_a_function_fails() -> None:
    r = verdict(one_step(Claim(sp.Derivative(f(x) ** 2, x), 2 * f(x) * f(x).diff(x)),
                         Computed()))
    assert r.verdict == "fails"
    assert "no instance" in r.detail


def test_witness_evaluates_integrals_numerically_to_thirty_digits() -> None:
    normal_tail = sp.erfc(u / sp.sqrt(2)) / 2
    lhs = sp.Integral(u * normal_tail, (u, 0, sp.oo))
    good = verdict(one_step(Claim(lhs, sp.Rational(1, 4)), Computed()))
    assert good.verdict == "holds" and good.witness_error < 1e-25
    # 4e-18 relative: far below double precision, far above the witness's 1e-20
    near = verdict(one_step(Claim(lhs, sp.Rational(1, 4) + sp.Rational(1, 10**18)),
                            Computed()))
    assert near.verdict == "fails"
    assert near.witness_error is not None and 1e-18 < near.witness_error < 1e-17


def test_limit_witness_rejects_a_wrong_limit() -> None:
    lim = sp.Limit(x * sp.log(x), x, 0, "+")
    assert verdict(one_step(Claim(lim, 0), Computed())).verdict == "holds"
    assert verdict(one_step(Claim(lim, sp.Rational(1, 10**6)), Computed())).verdict == "fails"


def test_a_step_comparing_an_expression_with_itself_is_not_an_independent_witness() -> None:
    r = verdict(one_step(Claim(x**2 + 2 * x, x * (x + 2)), Computed()))
    assert r.verdict == "holds" and not r.independent_witness
    assert "one expression twice" in r.witness_note
    r2 = verdict(one_step(Claim(sp.Derivative(x**3, x), 3 * x**2), Computed()))
    assert r2.independent_witness


def test_witness_instances_and_points_depend_on_the_seed() -> None:
    from symsde.proof import confining_polynomial
    from symsde.proof.witness import rng_for

    w = Witness(functions={f: confining_polynomial(x, 4)})
    draws = {str(w.draw(rng_for(seed))[0][f]) for seed in range(5)}
    assert len(draws) == 5
    pts = [w.sample([x, a], rng_for(1), k) for k in range(w.points)]
    assert len(pts) >= 8
    assert any(abs(p[x]) > 9 and p[a] > 9 for p in pts)  # a point of size 10
    assert any(0 < p[a] < sp.Rational(1, 100) for p in pts)  # one near the singularity a=0


def test_a_witness_that_runs_too_long_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from symsde.proof import kernel

    monkeypatch.setattr(kernel, "WITNESS_SECONDS", 1e-4)
    slow = sp.Integral(sp.exp(-u**2) * sp.cos(u) ** 2, (u, 0, sp.oo))
    r = verdict(one_step(Claim(slow, slow.doit()), Computed(), witness=Witness(points=50)))
    assert r.verdict == "fails"
    assert "timed out" in r.detail


def test_an_outer_time_limit_aborts_verification_without_caching() -> None:
    from symsde._timeout import time_limit
    from symsde.errors import SymbolicTimeoutError

    # An integral with a parameter: the witness integrates afresh at each of 80 points
    # (about 1 s here; an integral without one is computed once and cached), far beyond
    # the 0.05 s limit.
    a = sp.Symbol("a", positive=True)
    slow = sp.Integral(sp.exp(-a * u**2) * (1 + u**2) ** 3, (u, 0, sp.oo))
    d = one_step(Claim(slow, slow.doit()), Computed(), witness=Witness(points=80))
    assert d.verify(refresh=True).steps[0].verdict == "holds"  # a true claim, when unhurried
    d._results.clear()
    with pytest.raises(SymbolicTimeoutError), time_limit(0.05, "verifying the test"):
        d.verify()
    assert d._results == {}  # nothing half-done was cached


# -- bookkeeping and rendering -----------------------------------------------------------------
def test_duplicate_step_ids_are_refused() -> None:
    d = Derivation("t", "t")
    d.step("s", Claim(x + x, 2 * x), "r", slide="S", check=Computed())
    with pytest.raises(ValueError, match="duplicate step id"):
        d.step("s", Claim(x + x, 2 * x), "r", slide="S", check=Computed())


def test_is_zero_reports_the_simplified_residual() -> None:
    ok, res = is_zero(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1)
    assert ok and res == 0
    ok, res = is_zero((x + 1) ** 2 - x**2 - 1)
    assert not ok and sp.expand(res - 2 * x) == 0


def test_renderings_and_json_carry_the_contract_keys() -> None:
    s2 = sp.Symbol("s2")
    d = Derivation("demo", "Demo derivation")
    d.define("noise-def", s2, sp.Integral(sp.exp(-a * u / 2), (u, 0, sp.oo)), "the noise level",
             slide="S")
    d.step("square", Claim((x + 1) ** 2, x**2 + 2 * x + 1), "expand", slide="S",
           check=Computed(), equations=("E01",), reading="read as a polynomial identity")
    d.step("noise", Claim(s2, 1 / (2 * a)), "solve", slide="S", check=Computed(),
           corrected=Claim(s2, 2 / a), erratum="factor four")
    text = d.render_text()
    assert "[holds] square" in text and "[erratum] noise" in text and "factor four" in text
    assert "s2 := Integral" in text
    latex = d.render_latex()
    assert latex.count("\\item") == 3 and "\\frac{2}{a}" in latex and "Erratum" in latex
    md = d.render_markdown()
    assert "$$" in md and "Corrected" in md
    doc = json.loads(d.to_json())
    steps = doc["steps"]
    assert [s["kind"] for s in steps] == ["definition", "computed", "erratum"]
    assert [s["verdict"] for s in steps] == ["holds", "holds", "erratum"]
    for s in steps:
        assert {"kind", "independent_witness", "premise_sensitive", "notes_form",
                "reading"} <= set(s)
    assert steps[1]["reading"] == "read as a polynomial identity"
    assert steps[1]["independent_witness"] is False  # (x+1)^2 vs its expansion
    assert steps[2]["independent_witness"] is True
    assert doc["errata"] == 1 and doc["definitions"] == 1 and doc["fails"] == 0
    assert steps[2]["corrected"]["sympy"] == "s2 = 2/a"


def test_check_equation_checks_one_equation_with_an_independent_witness() -> None:
    from symsde.proof import check_equation

    ok = check_equation(sp.Integral(sp.exp(-x**2), (x, -sp.oo, sp.oo)), sp.sqrt(sp.pi))
    assert ok.ok and ok.independent_witness
    bad = check_equation(sp.Integral(sp.exp(-x**2), (x, -sp.oo, sp.oo)), sp.pi)
    assert not bad.ok and bad.residual != 0


# -- the numeric disproof used before symbolic work ----------------------------------------------
def test_nonzero_somewhere_never_flags_an_identity() -> None:
    from symsde.proof.algebra import nonzero_somewhere

    x, y = sp.symbols("x y", positive=True)
    n = sp.Symbol("n", integer=True, positive=True)
    z = sp.Symbol("z")
    f = sp.Function("f")
    identities = [
        sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1,
        sp.sqrt(x**2) - x,                                   # needs x > 0: sampled so
        sp.log(x * y) - sp.log(x) - sp.log(y),
        sp.diff(sp.log(f(x)), x) - sp.diff(f(x), x) / f(x),  # needs f > 0: instance is
        (-1) ** (2 * n) - 1,                                 # needs n integer
        sp.exp(z) * sp.exp(-z) - 1,
        sp.Integral(sp.exp(-x**2 * y), (x, 0, sp.oo)) - sp.sqrt(sp.pi / y) / 2,
    ]
    for e in identities:
        assert not nonzero_somewhere(e, integrals=True), e


def test_nonzero_somewhere_finds_false_identities() -> None:
    from symsde.proof.algebra import is_zero, nonzero_somewhere

    x, y = sp.symbols("x y", positive=True)
    f = sp.Function("f")
    false = [
        sp.sin(x) ** 2 - sp.cos(x) ** 2 - 1,
        sp.diff(f(x), x) - f(x),
        sp.Integral(sp.exp(-x**2 * y), (x, 0, sp.oo)) - sp.sqrt(sp.pi / y),
    ]
    for e in false:
        assert nonzero_somewhere(e, integrals=True), e
        assert is_zero(e, expect_nonzero=True)[0] is False
    # Without integrals=True an integral is left to the symbolic route ("not shown").
    assert not nonzero_somewhere(false[2])


def test_nonzero_somewhere_handles_functions_of_several_arguments() -> None:
    from symsde.proof.algebra import nonzero_somewhere

    x, y = sp.symbols("x y", real=True)
    F = sp.Function("F")
    # Each undefined function gets an instance with as many arguments as it is applied to.
    assert nonzero_somewhere(sp.Derivative(F(x, y), x) + 1 + F(x, y) ** 2)
    assert not nonzero_somewhere(sp.Derivative(F(x, y) ** 2, y) - 2 * F(x, y)
                                 * sp.Derivative(F(x, y), y))


def test_shared_operations_cancel_without_being_carried_out(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Equal limits on both sides cancel by algebra: no limit is computed to see it; and a
    difference that does not cancel is still decided by carrying the operations out."""
    L = sp.Limit(sp.Integral(sp.exp(-u * x) * x, (u, 0, 1)) / x, x, 0)
    expr = (L + 2 * x) - (L + x) - x
    calls = []
    original = sp.Limit.doit
    monkeypatch.setattr(sp.Limit, "doit", lambda self, **kw: calls.append(self)
                        or original(self, **kw))
    assert is_zero(expr) == (True, 0) and calls == []
    ok, residual = is_zero(L - 1 + x)  # L = 1: the limit has to be taken, and is
    assert not ok and calls and sp.simplify(residual - x) == 0


def test_a_claim_with_its_sides_swapped_follows_and_a_wrong_one_does_not() -> None:
    from symsde.proof.kernel import _opposite

    g = sp.Function("g")
    lhs, rhs = a**2 * sp.Derivative(g(x), x) / 2, -sp.Derivative(a**2 * g(x), x) / 2
    # a - b = 0 needs the derivative of a constant times g carried out: allowed.
    assert _opposite(lhs - 0, rhs - 0)
    assert not _opposite(lhs, rhs + 1)
    assert not _opposite(lhs, -lhs + x * g(x))
    # Integrals are never carried out for it: equal ones cancel, a value is not computed.
    integral = sp.Integral(sp.exp(-u), (u, 0, sp.oo))
    assert _opposite(integral + x, -integral - x)
    assert not _opposite(integral, sp.Integer(-1))
    m = sp.ImmutableMatrix([lhs, x])
    assert _opposite(m, sp.ImmutableMatrix([rhs, -x]))
    assert not _opposite(m, sp.ImmutableMatrix([rhs, x]))


def test_witness_hoists_what_does_not_involve_the_integration_variable() -> None:
    import mpmath

    from symsde.proof.witness import evaluate

    g = sp.Lambda(x, sp.sin(3 * x) + x**3)
    # int_0^1 u g'(x) du = g'(x) / 2, with g'(x) a numeric derivative evaluated once.
    it = sp.Integral(u * sp.Derivative(g(x), x), (u, 0, 1))
    with mpmath.workdps(50):  # the witness's working precision (30 digits + 20)
        got = evaluate(it, {x: mpmath.mpf("0.7")})
        want = (3 * mpmath.cos(mpmath.mpf("2.1")) + 3 * mpmath.mpf("0.49")) / 2
        assert abs(got - want) < mpmath.mpf("1e-30")
        # A derivative that does involve u is still evaluated at every node.
        it2 = sp.Integral(sp.Derivative(g(x * u), u), (u, 0, 1))  # = g(x) - g(0)
        got2 = evaluate(it2, {x: mpmath.mpf("0.7")})
        want2 = mpmath.sin(mpmath.mpf("2.1")) + mpmath.mpf("0.343")
        assert abs(got2 - want2) < mpmath.mpf("1e-30")
        assert abs(got2 - got) > 0.1


def test_witness_draws_each_function_independently_of_the_others() -> None:
    from symsde.proof import polynomial
    from symsde.proof.witness import rng_for

    g, h = sp.Function("g"), sp.Function("h")
    w = Witness(functions={f: polynomial(x, 3), g: polynomial(x, 3),
                           h: lambda rng, inst: sp.Lambda(x, sp.diff(inst[g](x), x))})
    everything, _ = w.draw(rng_for(3))
    only_f, _ = w.draw(rng_for(3), {f})
    only_h, _ = w.draw(rng_for(3), {h})
    assert set(only_f) == {f} and only_f[f] == everything[f]
    # h looks up g: g is drawn for it, and is the same g as in the full instance.
    assert set(only_h) == {g, h} and only_h[g] == everything[g]
    assert only_h[h] == everything[h]
    assert everything[f] != everything[g]  # one generator per function, not one shared


def test_printing_a_claim_never_evaluates_a_constant_integral(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from symsde.proof.claim import print_order

    s = sp.Symbol("sigma", positive=True)
    integral = sp.Integral(u * sp.erfc(u), (u, 0, sp.oo))  # a number SymPy would evaluate
    claim = Claim(s**2 * integral + 2 * integral + s, 3 * integral)
    assert print_order(claim.lhs) == "none" and print_order(x**2 + x) is None

    from sympy.core import evalf

    def refuse(*args, **kwargs):
        raise AssertionError("a constant integral was evaluated to order printed terms")

    if not evalf.evalf_table:
        evalf._create_evalf_table()
    monkeypatch.setitem(evalf.evalf_table, sp.Integral, refuse)
    assert "int" in claim.latex() and "Integral(u*erfc(u)" in claim.text()
    # Without the setting SymPy's printer does evaluate it (so the test can fail).
    with pytest.raises(AssertionError, match="was evaluated"):
        sp.latex(claim.lhs)
    # Claims without constant operations print exactly as SymPy prints them.
    plain = Claim(x**2 + a * x + 1, (x + a) ** 2)
    assert plain.latex() == f"{sp.latex(plain.lhs)} = {sp.latex(plain.rhs)}"
    assert plain.text() == f"{sp.sstr(plain.lhs)} = {sp.sstr(plain.rhs)}"
