"""The notes read as written: a step that silently corrects a display is caught."""

from __future__ import annotations

import pytest
import sympy as sp

import derivations
from derivations._catalogue import CATALOGUE, EQUATIONS
from symsde.proof import Claim, Computed, Derivation
from symsde.proof.notes import failures
from symsde.registry import load

x = sp.Symbol("Phi", real=True)
sigma = sp.Symbol("sigma", positive=True)
L, p = sp.Function("L"), sp.Function("p")
TABLE = {r"\Phi": x, r"\sigma": sigma, r"\mathcal{L}": L(x), "p": p(x)}
DISPLAY = {
    "N1": r"\frac{1}{2}\sigma^2\frac{\nabla_{\Phi} p}{p} = -\nabla_{\Phi}\mathcal{L}",
    "N2": r"\nabla_{\Phi} \left(\frac{1}{2}\sigma^2 \ln p \right)"
          r" = \nabla_{\Phi}(-\mathcal{L})",
    # A sum without its range: the reader cannot parse it.
    "N3": r"\frac{1}{n} \sum_i \sigma^2 = \sigma^2",
}


def _one(claim: Claim, eq: str, **kw) -> str:
    d = Derivation("n", "n", symbols=TABLE, catalogue=DISPLAY)
    d.step("s", claim, "r", slide="S", check=Computed(), equations=(eq,), **kw)
    (form,) = d.verify().notes()["s"]
    return form.status


def test_the_same_claim_in_other_symbols_is_the_same() -> None:
    claim = Claim(sigma**2 * sp.Derivative(p(x), x) / p(x) + 2 * sp.Derivative(L(x), x), 0)
    assert _one(claim, "N1") == "same"


def test_a_silently_corrected_claim_differs() -> None:
    # sigma^2 instead of sigma^2/2: a "correction" nobody declared.
    claim = Claim(sigma**2 * sp.Derivative(p(x), x) / p(x), -sp.Derivative(L(x), x))
    assert _one(claim, "N1") == "differs"


def test_a_declared_reading_is_accepted_and_reported() -> None:
    claim = Claim(sigma**2 * sp.Derivative(p(x), x) / p(x), -sp.Derivative(L(x), x))
    assert _one(claim, "N1", reading="reads sigma^2/2 as sigma^2") == "reading"


def test_a_display_the_reader_reads_is_compared_directly() -> None:
    claim = Claim(sp.Derivative(sigma**2 / 2 * sp.log(p(x)), x), sp.Derivative(-L(x), x))
    assert _one(claim, "N2") == "same"


def test_a_hand_transcription_must_match_the_display_token_by_token() -> None:
    i, n = sp.Symbol("i", integer=True), sp.Symbol("n", integer=True, positive=True)
    claim = Claim(sp.Sum(sigma**2, (i, 1, n)) / n, sigma**2)
    assert _one(claim, "N3") == "unread"  # without a transcription
    assert _one(claim, "N3", transcription=claim) == "transcribed"
    # A transcription with another number (sigma^3) does not match the display.
    wrong_tokens = Claim(sp.Sum(sigma**3, (i, 1, n)) / n, sigma**3)
    assert _one(claim, "N3", transcription=wrong_tokens) == "differs"
    # One that matches the display but is not the step's claim does not pass either.
    other = Claim(sp.Sum(sigma**2, (i, 1, n)) / n, 2 * sigma**2)
    assert _one(claim, "N3", transcription=other) == "differs"


def test_true_statements_about_different_constants_are_not_the_same_claim() -> None:
    u = sp.Symbol("u", real=True)
    alpha = sp.Symbol("alpha", positive=True)
    d = Derivation("n", "n", symbols={r"\alpha": alpha},
                   catalogue={"A": r"\alpha = \frac{1}{2}"})
    d.define("a", alpha, 2 * sp.Integral(u * sp.exp(-u**2) , (u, 0, sp.oo)) / 2, "r",
             slide="S")
    d.step("s", Claim(sp.Integral(u**3 * sp.exp(-u**2), (u, 0, sp.oo)), sp.Rational(1, 2)),
           "r", slide="S", check=Computed(), equations=("A",))
    (form,) = d.verify().notes()["s"]
    assert form.status == "differs"  # both are true, but they are different claims


@pytest.mark.parametrize("name", derivations.REGISTRY)
def test_every_covered_display_is_the_same_claim_an_erratum_a_reading_or_transcribed(
        name: str) -> None:
    (d,) = load([name])
    if not d.catalogue:
        pytest.skip(f"{name} has no symbol table for the notes yet")
    bad = failures(d.verify().notes())
    assert not bad, [(sid, f.equation, f.status, f.detail) for sid, f in bad]


def test_the_catalogue_is_keyed_by_equation_id() -> None:
    assert len(CATALOGUE) == len(EQUATIONS) and "E27" in CATALOGUE
    # (tests/test_derivations.py checks EQUATIONS against the displays of the notes)
