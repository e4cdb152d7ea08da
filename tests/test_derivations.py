"""The registered derivations: verdicts, errata, coverage of the notes' equations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import derivations
from derivations._catalogue import EQUATIONS, SLIDES
from symsde.registry import coverage, load

#: The module names are a contract (issue 3), in the order of the notes.
CONTRACT = ("gradient_flow", "diffusion", "langevin", "bayes_posterior", "general_sde",
            "sgd_sde", "diffusion_flow", "modified_equation", "lyapunov")

#: Errata symsde must report: (derivation, step).
EXPECTED_ERRATA = {
    ("bayes_posterior", "matching-noise"),
    ("bayes_posterior", "langevin-equals-posterior"),
    ("diffusion_flow", "multidim-eta"),
    ("diffusion_flow", "state-dependent-noise"),
}

NOTES = Path(__file__).resolve().parents[2] / "shared" / "notes" / "000_c908854fcc5fe0fb.txt"


def test_registry_is_the_contract_in_the_order_of_the_notes() -> None:
    assert tuple(derivations.REGISTRY) == CONTRACT


@pytest.mark.parametrize("name", derivations.REGISTRY)
def test_no_step_fails(name: str) -> None:
    (d,) = load([name])
    res = d.verify()
    bad = [(r.step.id, str(r.residual), r.detail) for r in res.steps if r.verdict == "fails"]
    assert not bad
    assert all(r.witness_points >= 8 for r in res.steps if r.kind != "definition")
    # Every step that has no independent witness says why.
    assert all(r.independent_witness or r.witness_note for r in res.steps)


def test_expected_errata_are_reported_with_slide_forms_and_reason() -> None:
    found = set()
    for d in load():
        for r in d.verify().steps:
            if r.verdict == "erratum":
                found.add((d.name, r.step.id))
                assert r.step.corrected is not None and r.step.erratum
                assert r.step.slide in SLIDES
    assert found >= EXPECTED_ERRATA
    # The block-list index T of 'Gradient Flow and SGD' is one of them too.
    assert any(name == "gradient_flow" for name, _ in found)


def test_every_step_names_a_slide_of_the_notes_or_says_it_goes_beyond() -> None:
    for d in load():
        for s in d.steps:
            assert s.slide in SLIDES or s.slide.startswith("Beyond the notes"), (d.name, s.slide)


def test_coverage_of_displayed_equations_is_complete() -> None:
    cov = coverage(load())
    assert cov.unknown == ()
    # E29 (Bayes' rule) is checked, but Bayes' rule is the definition of the conditional
    # density unfolded, so its witness evaluates one expression twice: it does not count.
    assert cov.missing == ("E29",), f"not covered: {cov.missing}"
    assert cov.weak == ("E29",)
    assert len(cov.covered) == cov.total - 1 == len(EQUATIONS) - 1


def test_notation_says_why_it_is_not_a_claim() -> None:
    for d in load():
        for n in d.notation:
            assert len(n.why_not_a_claim) > 10


def test_the_lecture_is_declared_once_and_matches_the_modules() -> None:
    for p, d in zip(derivations.LECTURE.parts, load(), strict=True):
        assert d.name == p.name and d.title == p.title
        assert (Path(__file__).parents[1] / "book" / f"{p.page}.md").exists(), p.page


@pytest.mark.skipif(not NOTES.exists(), reason="the lecture notes are not beside this checkout")
def test_catalogue_matches_the_notes() -> None:
    blocks = re.findall(r"\$\$(.*?)\$\$", NOTES.read_text(), re.S)
    assert len(blocks) == len(EQUATIONS)
    for (eid, _, latex), block in zip(EQUATIONS, blocks, strict=True):
        assert " ".join(block.split()) == latex, eid
