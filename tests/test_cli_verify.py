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


def _fake_experiment(ok: bool):
    from symsde.confirm import Confirmation
    from symsde.experiment import Experiment

    exp = Experiment("fake", "fake experiment", seed=0)
    exp.confirm("variance = sigma^2 t", Confirmation("variance", 1.2 if ok else 7.0, 5.0, ok,
                                                     "z-score"))
    exp.reject("variance = 2 sigma^2 t", Confirmation("variance", 40.0, 5.0, False, "z"))
    return exp


@pytest.mark.parametrize("ok", [True, False])
def test_verify_runs_confirmations_and_fails_when_one_fails(
    ok: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import types

    import sympy as sp

    from symsde import registry
    from symsde.proof import Claim, Derivation, Identity

    x = sp.Symbol("x")
    d = Derivation("fake", "fake")
    d.step("s", Claim((x + 1) ** 2, x**2 + 2 * x + 1), "r", slide="S", check=Identity())
    module = types.SimpleNamespace(derivation=lambda: d, confirm=lambda seed: _fake_experiment(ok))
    monkeypatch.setattr(registry, "derivation_names", lambda: ("fake",))
    monkeypatch.setattr(registry, "load_module", lambda name: module)
    monkeypatch.setattr(registry, "_build", lambda name: d)
    assert main(["verify", "fake"]) == (0 if ok else 1)
    out = capsys.readouterr().out
    assert "predicts: variance = sigma^2 t" in out and "rejects: variance = 2 sigma^2 t" in out
    assert ("FAILS" in out) is (not ok)
    # --symbolic-only skips the experiments.
    assert main(["verify", "fake", "--symbolic-only"]) == 0
    assert "confirmation by simulation" not in capsys.readouterr().out


def test_stationary_accepts_expressions_that_start_with_a_minus(
    capsys: pytest.CaptureFixture,
) -> None:
    assert main(["stationary", "--state", "x", "--drift", "-x", "--diffusion", "1",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["potential"] == "x**2"
