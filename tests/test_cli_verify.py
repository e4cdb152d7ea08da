"""`symsde list`, `verify` and `show`: tables, JSON, exit codes."""

from __future__ import annotations

import json

import pytest

import derivations
from symsde.cli import main


def test_list_shows_every_derivation_with_its_step_count(capsys: pytest.CaptureFixture) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in derivations.REGISTRY:
        assert name in out


def test_verify_prints_the_table_coverage_and_errata(capsys: pytest.CaptureFixture) -> None:
    assert main(["verify", "--symbolic-only"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["derivation", "steps", "holds", "errata", "fails",
                                           "time"]
    assert "coverage of the notes' displayed equations:" in out
    assert "erratum bayes_posterior::matching-noise" in out


def test_verify_json_lists_steps_verdicts_and_errata(capsys: pytest.CaptureFixture) -> None:
    assert main(["verify", "--json", "--symbolic-only"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in doc["derivations"]] == list(derivations.REGISTRY)
    assert doc["summary"]["fails"] == 0 and doc["summary"]["ok"] is True
    steps = {(d["name"], s["id"]): s for d in doc["derivations"] for s in d["steps"]}
    assert steps[("bayes_posterior", "matching-noise")]["verdict"] == "erratum"
    assert {"derivation", "step", "slide", "notes", "corrected", "explanation"} <= set(
        doc["errata"][0])
    assert doc["coverage"]["total"] == 66


def test_verify_one_derivation(capsys: pytest.CaptureFixture) -> None:
    assert main(["verify", "langevin"]) == 0
    out = capsys.readouterr().out
    assert "langevin" in out and "bayes_posterior" not in out


def test_show_latex_is_a_pasteable_enumerate(capsys: pytest.CaptureFixture) -> None:
    assert main(["show", "langevin", "--latex"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("%") and "\\begin{enumerate}" in out and "\\end{enumerate}" in out
    assert "e^{- \\frac{2 L{\\left(\\Phi \\right)}}{\\sigma^{2}}}" in out


@pytest.mark.parametrize("fmt", [[], ["--markdown"], ["--json"]])
def test_show_formats(fmt: list[str], capsys: pytest.CaptureFixture) -> None:
    assert main(["show", "bayes_posterior", *fmt]) == 0
    assert "matching-noise" in capsys.readouterr().out


def test_unknown_derivation_is_bad_input(capsys: pytest.CaptureFixture) -> None:
    assert main(["show", "nonsense"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown derivation 'nonsense'" in err
    assert main(["verify", "nonsense"]) == 2


def test_a_failing_step_gives_exit_code_one(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture) -> None:
    import sympy as sp

    from symsde import registry
    from symsde.proof import Claim, Derivation, Identity

    x = sp.Symbol("x")
    broken = Derivation("broken", "broken")
    broken.step("wrong", Claim((x + 1) ** 2, x**2 + 1), "r", slide="S", check=Identity())
    monkeypatch.setattr(registry, "derivation_names", lambda: ("broken",))
    monkeypatch.setattr(registry, "load_module", lambda name: None)
    monkeypatch.setattr(registry, "_build", lambda name: broken)
    assert main(["verify"]) == 1
    assert "FAILS broken::wrong" in capsys.readouterr().out
