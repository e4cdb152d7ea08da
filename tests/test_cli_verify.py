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
    assert out.splitlines()[0].split() == ["derivation", "steps", "definitions", "holds",
                                           "errata", "fails", "independent", "witnesses",
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
    assert doc["coverage"]["total"] == len(derivations.LECTURE.equations)
    for s in steps.values():  # the contract keys of issue 10
        assert s["kind"] in ("definition", "computed", "rule", "erratum")
        assert isinstance(s["independent_witness"], bool)
        assert s["premise_sensitive"] in (True, False, None)
        assert s["notes_form"] is None or isinstance(s["notes_form"], str)
        assert s["reading"] is None or isinstance(s["reading"], str)
    assert any(s["kind"] == "definition" for s in steps.values())
    assert any(s["kind"] == "rule" for s in steps.values())


def test_verify_one_derivation(capsys: pytest.CaptureFixture) -> None:
    assert main(["verify", "langevin"]) == 0
    out = capsys.readouterr().out
    assert "langevin" in out and "bayes_posterior" not in out


def test_show_latex_is_a_pasteable_enumerate(capsys: pytest.CaptureFixture) -> None:
    assert main(["show", "langevin", "--latex"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("%") and "\\begin{enumerate}" in out and "\\end{enumerate}" in out
    assert "e^{- \\frac{2 L{\\left(\\Phi \\right)}}{\\sigma^{2}}}" in out
    assert "\\coloneqq" in out  # definitions are shown as such


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
    monkeypatch.setattr(registry, "part", lambda name: None)
    monkeypatch.setattr(registry, "_build", lambda name: broken)
    assert main(["verify"]) == 1
    assert "FAILS broken::wrong" in capsys.readouterr().out


def _fake_experiment(ok: bool):
    from symsde.experiment import Experiment
    from symsde.stattests import StatTestResult

    exp = Experiment("fake", "fake experiment", seed=0)
    exp.predict("variance = sigma^2 t",
                StatTestResult("variance", 1.2 if ok else 7.0, 5.0, ok, "z-score"))
    exp.reject("variance = 2 sigma^2 t", StatTestResult("variance", 40.0, 5.0, False, "z"))
    return exp


@pytest.mark.parametrize("ok", [True, False])
def test_verify_runs_experiments_and_fails_when_one_fails(
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
    monkeypatch.setattr(registry, "part", lambda name: None)
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


def _fake_registry(monkeypatch: pytest.MonkeyPatch, d) -> None:
    import types

    from symsde import registry

    module = types.SimpleNamespace(derivation=lambda: d)
    monkeypatch.setattr(registry, "derivation_names", lambda: (d.name,))
    monkeypatch.setattr(registry, "load_module", lambda name: module)
    monkeypatch.setattr(registry, "part", lambda name: None)
    monkeypatch.setattr(registry, "_build", lambda name: d)


def test_mutate_json_has_the_contract_shape(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture) -> None:
    import sympy as sp

    from symsde.proof import Claim, Computed, Derivation, FollowsFrom, MultiplyBoth

    x = sp.Symbol("x", real=True)
    J = sp.Function("J")
    d = Derivation("toy", "toy")
    d.define("j", J(x), x**3, "r", slide="S")
    d.step("slope", Claim(sp.Derivative(J(x), x), 3 * x**2), "r", slide="S", check=Computed())
    d.step("double", Claim(2 * sp.Derivative(J(x), x), 6 * x**2), "r", slide="S",
           check=FollowsFrom(MultiplyBoth(2)))
    _fake_registry(monkeypatch, d)
    assert main(["mutate", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"classes", "equivalent", "survivors"}
    assert set(doc["classes"]) == {"rhs", "lhs", "definition", "premise"}
    for row in doc["classes"].values():
        assert set(row) == {"mutants", "killed"} and row["mutants"] == row["killed"] > 0
    assert main(["mutate"]) == 0
    out = capsys.readouterr().out
    assert out.split()[:3] == ["class", "mutants", "killed"]


def test_mutate_exits_one_on_a_survivor(monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture) -> None:
    import sympy as sp

    from symsde.proof import CheckOutcome, Claim, Computed, Derivation

    class Blind(Computed):
        def run(self, claim, context):
            return CheckOutcome(True, sp.Integer(0))

        def witness_sides(self, claim, context):
            return claim.lhs, claim.lhs

    x = sp.Symbol("x", real=True)
    d = Derivation("blind", "blind")
    d.step("s", Claim(sp.Derivative(x**3, x), 3 * x**2), "r", slide="S", check=Blind())
    _fake_registry(monkeypatch, d)
    assert main(["mutate", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["survivors"] and doc["survivors"][0]["step"] == "s"


def test_mutate_an_unknown_derivation_is_bad_input(capsys: pytest.CaptureFixture) -> None:
    assert main(["mutate", "nonsense"]) == 2
    assert "unknown derivation 'nonsense'" in capsys.readouterr().err
