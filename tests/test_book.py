"""Tests of symsde.book's rendering: reasons as maths, step labels, errata counted once."""

from __future__ import annotations

import json
import re

import pytest
import sympy as sp

from symsde.book import (
    SAME_MISTAKE,
    errata_markdown,
    reason_markdown,
    step_label,
    steps_markdown,
    tidy_latex,
)
from symsde.proof import Claim, Derivation, Identity
from symsde.proof.witness import WITNESS_DIGITS


@pytest.mark.parametrize(("text", "want"), [
    ("Divide both sides by p > 0.", "Divide both sides by $p > 0$."),
    ("sigma^2 = 2/n", r"$\sigma ^{2} = 2/n$"),
    ("the zero-flux equation", "the zero-flux equation"),          # a hyphen, not a minus
    ("the flow's Taylor series", "the flow\u2019s Taylor series"),   # not $s$
    ("i.e. sigma^2 = 2/n", r"i.e. $\sigma ^{2} = 2/n$"),
    ("decays like N^(-1/4), a negative power", "decays like $N ^{-1/4}$, a negative power"),
    ("with sqrt(eta) sigma dB", r"with $\sqrt{\eta} \sigma dB$"),
])
def test_reason_markdown(text: str, want: str) -> None:
    assert reason_markdown(text) == want


def test_reason_markdown_leaves_english_alone() -> None:
    text = "A block of steps lasts a while in time."
    assert "$" not in reason_markdown(text)


def test_tidy_latex() -> None:
    assert tidy_latex(r"p{\left(\Phi \right)}") == r"p(\Phi)"
    assert tidy_latex(r"\log{\left(x \right)}") == r"\ln(x)"
    assert tidy_latex(r"i_{last block}") == r"i_{\text{last block}}"
    # typesets the same maths: the sympy parse of both sides agrees
    from symsde.latex import parse_latex_expr
    x = sp.Symbol("x")
    before = r"\log{\left(p{\left(x \right)} \right)} + L{\left(x \right)}"
    assert parse_latex_expr(tidy_latex(before), {"x": x}) == \
        sp.log(sp.Function("p")(x)) + sp.Function("L")(x)


def test_steps_have_labels_and_one_witness_sentence() -> None:
    x = sp.Symbol("x")
    d = Derivation("demo", "A demo")
    for k in range(3):
        d.step(f"s_{k}", Claim((x + k)**2, x**2 + 2*k*x + k**2), "Expand the square.",
               slide="Demo", check=Identity())
    md = steps_markdown(d)
    assert [m for m in re.findall(r":name: (\S+)", md)] == \
        ["step-demo-s-0", "step-demo-s-1", "step-demo-s-2"]
    assert md.count(f"{WITNESS_DIGITS} significant digits") == 1
    assert md.count("{dropdown} Evidence") == 3


def test_step_label_is_stable() -> None:
    r = type("R", (), {"step": type("S", (), {"id": "A_b c"})})()
    assert step_label("langevin", r) == "step-langevin-a-b-c"


def _doc() -> dict:
    def step(i, eqs=()):
        return {"id": i, "equations": list(eqs), "reason": "r", "check": "c",
                "claim": {"latex": "a = b"}, "corrected": {"latex": "a = c"},
                "witness": {"points": 8, "digits": 50, "max_relative_error": 0.0},
                "verdict": "erratum"}
    first, second = SAME_MISTAKE[("bayes_posterior", "langevin-equals-posterior")][1], \
        "langevin-equals-posterior"
    return {"summary": {"steps": 3, "derivations": 1, "holds": 0, "errata": 3, "fails": 0},
            "derivations": [{"name": "bayes_posterior", "title": "Bayes",
                             "steps": [step(first), step(second, ["E39"]), step("other")]}],
            "errata": [{"derivation": "bayes_posterior", "step": s, "slide": "S",
                        "explanation": "e"} for s in (first, second, "other")]}


def test_errata_same_mistake_counted_once() -> None:
    md = errata_markdown(_doc(), chapters=None)
    assert md.count("{admonition} Erratum") == 2
    assert "Erratum 2" in md and "Erratum 3" not in md
    assert "The same mistake, carried on" in md
    assert "3 erratum steps come from 2 mistakes" in md


def test_errata_json_round_trip_is_plain_data() -> None:
    json.dumps(_doc())


def test_book_renders_steps_through_the_one_renderer() -> None:
    """symsde.book has no step renderer of its own: its steps are render_myst's."""
    from symsde.book import steps_markdown
    from symsde.proof import render

    x = sp.Symbol("x")
    d = Derivation("demo", "A demo")
    d.step("sq", Claim((x + 1)**2, x**2 + 2*x + 1), "Expand the square.", slide="Demo",
           check=Identity())
    d.step("bad", Claim((x + 1)**2, x**2 + 1), "A wrong expansion.", slide="Demo",
           check=Identity())
    md = steps_markdown(d)
    timing = re.compile(r"checked in [0-9.]+ s")   # two runs, two timings
    assert timing.sub("", md) == timing.sub("", render.render_myst(d.verify(), {}))
    # the failing step is rendered as failing, with the error admonition
    assert "{bdg-danger}`fails`" in md and ":class: error symsde-step" in md


def _notes_demo(notes_latex: str) -> str:
    x = sp.Symbol("x")
    d = Derivation("demo", "A demo", symbols={"x": x},
                   catalogue={"E1": notes_latex, "E2": notes_latex})
    d.step("square", Claim((x + 1)**2, x**2 + 2*x + 1), "Expand the square.", slide="Demo",
           check=Identity(), equations=("E1", "E2"))
    return steps_markdown(d)


def test_claim_folds_when_the_notes_say_the_same() -> None:
    """The notes' display is shown once; the checked claim joins the folded evidence, with
    a sentence saying the kernel read the display as this very claim."""
    md = _notes_demo(r"(x + 1)^2 = x^2 + 2x + 1")
    assert "*The notes, E1 = E2:*" in md                   # a repeated display, shown once
    assert md.count("(x + 1)^2 = x^2 + 2x + 1") == 1
    head, folded = md.split(":::{dropdown} Checked claim and evidence", 1)
    assert "x^{2} + 2 x + 1" not in head and "x^{2} + 2 x + 1" in folded
    assert "is this claim, which the kernel checked" in folded
    assert "- *slide:* *Demo*" in folded and "- *kind:* " in folded


def test_claim_folds_and_says_so_when_the_notes_differ() -> None:
    """A display that states the claim in another form: the notes are in view, the claim
    folded, and the fold does not pretend the two are the same."""
    md = _notes_demo(r"(x + 1)^2 = x^2 + 1")                 # not the step's claim
    head, folded = md.split(":::{dropdown} Checked claim and evidence", 1)
    assert "(x + 1)^2 = x^2 + 1" in head and "x^{2} + 2 x + 1" not in head
    assert "states in its own form" in folded and "x^{2} + 2 x + 1" in folded
    assert "is this claim, which the kernel checked" not in folded


def test_a_step_without_notes_shows_its_claim_without_chrome() -> None:
    x = sp.Symbol("x")
    d = Derivation("demo", "A demo")
    d.step("sq", Claim((x + 1)**2, x**2 + 2*x + 1), "Expand the square.", slide="Demo",
           check=Identity())
    md = steps_markdown(d)
    head = md.split(":::{dropdown} Evidence", 1)[0]
    assert "x^{2} + 2 x + 1" in head and "**" not in head.split("\n", 1)[1]
    d.step("bad", Claim((x + 1)**2, x**2 + 1), "A wrong expansion.", slide="Demo",
           check=Identity())
    assert "**Checked claim, which fails**" in steps_markdown(d)


# -- claims in the notes' notation -------------------------------------------------------------
def test_notes_latex_reads_back_as_the_same_claim() -> None:
    """The notes' letters replace SymPy's names, and the notes' reader (symsde.latex, with
    the same symbol table) reads the printed claim back as the very same equation."""
    from symsde.latex import parse_latex_expr
    from symsde.proof.render import notes_latex

    x, sigma, dt = sp.symbols("x sigma Delta_t", positive=True)
    L, p = sp.Function("L"), sp.Function("p")
    table = {r"\Phi": x, r"\sigma": sigma, r"\Delta t": dt, r"\mathcal{L}": L, "p": p(x)}
    lhs = sigma**2 * sp.Derivative(p(x), x) / 2
    rhs = -sp.Derivative(L(x), x) * p(x) * dt
    out = notes_latex(Claim(lhs, rhs), table)
    assert r"\Phi" in out and r"\mathcal{L}(\Phi)" in out and r"\Delta t" in out
    assert "x" not in out and "L(" not in out.replace(r"\mathcal{L}(", "")
    left, right = out.split(" = ")
    assert sp.simplify(parse_latex_expr(left, table) - lhs) == 0
    assert sp.simplify(parse_latex_expr(right, table) - rhs) == 0
    # without the table SymPy's names show: the check above can fail
    assert r"\Delta_{t}" in notes_latex(Claim(lhs, rhs), {})


def test_notes_latex_names_a_function_at_other_arguments() -> None:
    from symsde.proof.render import notes_latex

    x, s2, n = sp.symbols("Phi sigma2 n", positive=True)
    pl = sp.Function("p_Langevin")
    table = {r"\Phi": x, r"p_{\text{Langevin}}(\Phi)": pl(x, s2)}
    assert notes_latex(pl(x, s2), table) == r"p_{\text{Langevin}}(\Phi)"
    assert notes_latex(pl(x, 1 / n), table) == r"p_{\text{Langevin}}(\Phi, \frac{1}{n})"


def test_errata_page_uses_the_notes_notation() -> None:
    """The sgd_sde erratum reads Phi_{i+N} and g-hat, as the notes write them."""
    from symsde.book import errata_notation

    forms = errata_notation(["sgd_sde"])
    claim = forms[("sgd_sde", "n-step-sum-index")]["claim"]
    assert r"\Phi_{i+N}" in claim and r"\hat{g}_i" in claim and r"\eta" in claim
    doc = _doc()
    key = ("bayes_posterior", doc["errata"][0]["step"])
    md = errata_markdown(doc, chapters=None, notation={key: {"claim": r"\sigma^2 = 1",
                                                              "corrected": r"\sigma^2 = 2"}})
    assert r"\sigma^2 = 1" in md and r"\sigma^2 = 2" in md
    assert md.count("a = b") == 2          # the other errata keep the JSON's LaTeX


def test_errata_page_has_no_raw_pseudo_maths() -> None:
    """The errata's prose (reason, explanation, check) is typeset as the chapters' is."""
    doc = _doc()
    for d in doc["derivations"]:
        for st in d["steps"]:
            st["reason"] = "The notes set sigma^2 = 1/(2n); dp/dt = 0 there."
            st["check"] = "from step 'x' by the hypothesis sigma**2 = 2/n (exp(-nL) > 0)"
    for e in doc["errata"]:
        e["explanation"] = "the summand g_hat_i does not depend on j; sqrt(N) terms"
    md = errata_markdown(doc, chapters=None)
    assert raw_math(md) == [], raw_math(md)
    assert r"\frac{dp}{dt}" in md and r"\hat{g}_{i}" in md


# -- no raw pseudo-maths left in the prose ---------------------------------------------------
#: What a reader must never see as plain text: a derivative written d./d., a Python power, a
#: function call written as code, SymPy's printed nodes, an escaped subscript or power.
RAW_MATH = re.compile(r"\bd[A-Za-z(]+\)?/d[A-Za-z]|(?<=\w)\*\*(?=\w)|\bsqrt\(|\bexp\(|Derivative\(|"
                      r"Integral\(|\\_|\^|\\\*")


def raw_math(markdown: str) -> list[str]:
    """The raw pseudo-maths in MyST prose: what is left outside ``$...$`` and code."""
    prose = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`", " ", markdown, flags=re.S)
    return [m.group() for m in RAW_MATH.finditer(prose)]


def test_raw_math_detector_rejects_half_typeset_prose() -> None:
    # (a derivative split by "$", as in dp/$dt$, leaves no d./d. outside the maths: the
    # browser check catches it, tests/test_book_browser.py)
    assert raw_math("exp($-4$nL), four times too sharp")
    assert raw_math("sum\\_i of Eq(sigma**2*Derivative(p(Phi), Phi)/2, 0)")
    assert raw_math("the value $\\exp(-2L/\\sigma^2)$ at `sqrt(x)`") == []


@pytest.mark.parametrize(("text", "want"), [
    ("The Fokker-Planck equation is a conservation law: dp/dt = -dJ/dPhi.",
     r"The Fokker-Planck equation is a conservation law: $\frac{dp}{dt} = -\frac{dJ}{d\Phi}$."),
    ("J = mu p - (1/2) d(sigma^2 p)/dPhi",
     r"$J = \mu p - (1/2) \frac{d(\sigma ^{2} p )}{d\Phi}$"),
    ("Phi_(i+1) = Phi_i - eta g_hat_i", r"$\Phi_{i +1} = \Phi_{i} - \eta \hat{g}_{i}$"),
    ("proportional to exp(-4nL), four", r"proportional to $\exp (-4n L )$, four"),
    ("(step log-ratio-zero) of E36-E37", "(step log-ratio-zero) of E36-E37"),
    ("symsde's stationary_density(SDE.sgd(h x^2/2, eta, s)) finds it",
     "symsde\u2019s `stationary_density(SDE.sgd(h x^2/2, eta, s))` finds it"),
    ("computed: SDE.fokker_planck(p)", "computed: `SDE.fokker_planck(p)`"),
    ("half g - sqrt(S). K = 1", r"half $g - \sqrt{S}$. $K = 1$"),
    ("Z_Langevin(sigma^2) = int exp(-2L/sigma^2) dPhi",
     r"$Z_{\text{Langevin}} (\sigma ^{2}) = \int \exp (-2L /\sigma ^{2}) d\Phi$"),
])
def test_reason_markdown_typesets_the_maths(text: str, want: str) -> None:
    assert reason_markdown(text) == want


def test_every_reason_of_every_derivation_is_typeset() -> None:
    """The renderer, not one reason: every text a step box shows (reason, reading, erratum,
    check, notation notes) of every registered derivation has no raw pseudo-maths."""
    from symsde import registry
    from symsde.proof.render import step_check_markdown

    bad: list[str] = []
    for d in registry.load(registry.derivation_names()):
        for s in d.steps:
            texts = [s.reason, s.reading or "", s.erratum or ""]
            for t in texts:
                found = raw_math(reason_markdown(t)) if t else []
                if found:
                    bad.append(f"{d.name}::{s.id}: {found} in {reason_markdown(t)[:120]}")
            check = step_check_markdown(s)
            if raw_math(check):
                bad.append(f"{d.name}::{s.id} check: {check[:120]}")
        for df in d.notation:
            if raw_math(reason_markdown(df.why_not_a_claim)):
                bad.append(f"{d.name} notation {df.equation}")
    assert not bad, "\n".join(bad[:20])


def test_a_long_claim_folds_with_the_evidence() -> None:
    """A machine expansion longer than LONG_CLAIM_CHARS folds when it holds; a short one
    and a long one that fails stay in view."""
    from symsde.proof.render import LONG_CLAIM_CHARS

    xs = sp.symbols("x0:40")
    long_lhs = sp.expand(sum(xs) ** 2)
    d = Derivation("demo", "A demo")
    d.step("long", Claim(long_lhs, sp.expand(long_lhs)), "Expand.", slide="Demo",
           check=Identity())
    md = steps_markdown(d)
    assert len(sp.latex(long_lhs)) > 2 * LONG_CLAIM_CHARS
    head, folded = md.split(":::{dropdown} Checked claim and evidence", 1)
    assert "x_{39}" not in head and "x_{39}" in folded and "folded here" in folded
    d.step("long-bad", Claim(long_lhs, long_lhs + 1), "Wrong.", slide="Demo",
           check=Identity())
    bad = steps_markdown(d).split("Step 2", 1)[1]
    assert "x_{39}" in bad.split(":::{dropdown}", 1)[0]
