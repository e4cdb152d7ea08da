"""Tests of ``symsde stationary``: output, exit codes, one-line errors, no code evaluation.

Most cases run in-process through :func:`symsde.cli.main`; a few run the installed
``symsde`` script in a subprocess to show the real process exits cleanly.
"""

from __future__ import annotations

import builtins
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sympy as sp

from symsde.cli import main
from symsde.parsing import parse_expression

x, y = sp.symbols("x y", real=True)
sigma = sp.Symbol("sigma", positive=True)
NAMES = {"x": x, "y": y, "sigma": sigma}
KEYS = {"state", "density", "unnormalized", "potential", "normalizer", "method", "is_gibbs",
        "temperature"}
SYMSDE = Path(sys.executable).parent / "symsde"


def is_zero(expr: sp.Expr) -> bool:
    return sp.simplify(expr) == 0


def read(text: str) -> sp.Expr:
    """Read an output expression back with the safe parser (never sympify)."""
    return parse_expression(text, NAMES, "output")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code, out, err = run(capsys, "stationary", *argv, "--json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert set(doc) == KEYS | {"provenance"}
    return doc


def assert_one_line_error(err: str, out: str = "") -> None:
    assert out == ""
    assert err.endswith("\n")
    assert err.count("\n") == 1
    assert err.startswith("symsde: error: ")
    assert "Traceback" not in err


def test_helpers_reject_wrong_claims() -> None:
    assert not is_zero(read("exp(-x**2)") - sp.exp(-2 * x**2))
    with pytest.raises(AssertionError):
        assert_one_line_error("symsde: error: a\nb\n")
    with pytest.raises(AssertionError):
        assert_one_line_error("Traceback (most recent call last):\n")


# -- successful runs ----------
def test_two_dimensional_json(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "--state", "x,y", "--drift", "[-x, -2*y]", "--diffusion", "1")
    assert doc["state"] == ["x", "y"]
    assert doc["method"] == "potential"
    assert doc["is_gibbs"] is None
    assert doc["temperature"] is None
    # U = x^2 + 2 y^2, Z = pi / sqrt(2).
    assert is_zero(read(doc["potential"]) - (x**2 + 2 * y**2))
    assert is_zero(read(doc["normalizer"]) - sp.pi / sp.sqrt(2))
    assert is_zero(read(doc["unnormalized"]) - sp.exp(-(x**2) - 2 * y**2))
    assert is_zero(read(doc["density"]) - sp.sqrt(2) * sp.exp(-(x**2) - 2 * y**2) / sp.pi)


def test_numeric_parameter_is_substituted(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "--state", "x", "--drift", "[-x]", "--diffusion", "sigma",
                   "--param", "sigma=0.5")
    # D = 1/4: U = 4 x^2, Z = sqrt(pi)/2.
    assert is_zero(read(doc["potential"]) - 4 * x**2)
    assert is_zero(read(doc["normalizer"]) - sp.sqrt(sp.pi) / 2)
    assert "sigma" not in doc["density"]


def test_symbolic_parameter_is_positive(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "--state", "x", "--drift", "[-x]", "--diffusion", "sigma",
                   "--param", "sigma")
    assert is_zero(read(doc["density"]) - sp.exp(-(x**2) / sigma**2) / (sp.sqrt(sp.pi) * sigma))
    # Positivity of sigma gives a clean normaliser (no Abs, no Piecewise).
    assert "Abs" not in doc["normalizer"] and "Piecewise" not in doc["normalizer"]


def test_loss_gives_gibbs_and_temperature(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "--state", "x", "--loss", "x**2/2", "--diffusion", "sigma",
                   "--param", "sigma")
    assert doc["is_gibbs"] is True
    assert is_zero(read(doc["temperature"]) - sigma**2 / 2)
    assert is_zero(read(doc["potential"]) - x**2 / sigma**2)


def test_double_well_loss_with_numeric_noise(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "--state", "x", "--loss", "x**4/4 - x**2/2", "--diffusion", "1")
    assert doc["is_gibbs"] is True
    assert is_zero(read(doc["temperature"]) - sp.Rational(1, 2))
    assert abs(float(doc["normalizer"]) - 4.16574806894677) < 1e-12


def test_anisotropic_loss_is_not_gibbs(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "--state", "x,y", "--loss", "x**2/2 + y**2/2", "--diffusion",
                   "[1, 2]")
    assert doc["is_gibbs"] is False
    assert doc["temperature"] is None
    assert is_zero(read(doc["potential"]) - (x**2 + y**2 / 4))


def test_diffusion_matrix_option(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "--state", "x,y", "--drift", "[-x, -y]", "--diffusion-matrix",
                   "[[2, 1], [1, 2]]")
    # Zero current: grad log p = D^-1 (2 mu) = -2 D^-1 X, so U = X^T D^-1 X.
    assert is_zero(read(doc["potential"]) - (2 * x**2 - 2 * x * y + 2 * y**2) / 3)


def test_rotational_drift_uses_lyapunov(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "--state", "x,y", "--drift", "[-x - y, x - y]", "--diffusion", "1")
    assert doc["method"] == "gaussian-lyapunov"
    assert is_zero(read(doc["potential"]) - (x**2 + y**2))
    assert is_zero(read(doc["normalizer"]) - sp.pi)


def test_forced_method(capsys: pytest.CaptureFixture[str]) -> None:
    # A value starting with '-' must be attached with '=' (argparse would take it for an option).
    doc = run_json(capsys, "--state", "x", "--drift=-x", "--diffusion", "1", "--method",
                   "gaussian-lyapunov")
    assert doc["method"] == "gaussian-lyapunov"
    assert is_zero(read(doc["density"]) - sp.exp(-(x**2)) / sp.sqrt(sp.pi))


def test_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "stationary", "--state", "x,y", "--drift", "[-x, -2*y]",
                         "--diffusion", "1")
    assert (code, err) == (0, "")
    rows = dict(line.split(None, 1) for line in out.strip().splitlines())
    assert set(rows) == KEYS
    assert rows["state"] == "x, y"
    assert rows["method"] == "potential"
    assert is_zero(read(rows["potential"]) - (x**2 + 2 * y**2))


# -- failures: exit code and one line on stderr ----------
MATH_FAILURES = {
    "growing drift": (["--state", "x", "--drift", "[x]", "--diffusion", "1"], "does not decay"),
    "concave loss": (["--state", "x", "--loss=-x**2", "--diffusion", "1"], "does not decay"),
    "no method": (["--state", "x,y", "--drift", "[-x**3 - y, x - y**3]", "--diffusion", "1"],
                  "no method applies"),
    "zero noise": (["--state", "x", "--drift", "[-x]", "--diffusion", "sigma", "--param",
                    "sigma=0"], "give a non-zero diffusion"),
}


@pytest.mark.parametrize("case", sorted(MATH_FAILURES))
def test_mathematical_failure_exit_1(capsys: pytest.CaptureFixture[str], case: str) -> None:
    argv, phrase = MATH_FAILURES[case]
    code, out, err = run(capsys, "stationary", *argv)
    assert code == 1
    assert_one_line_error(err, out)
    assert phrase in err


INPUT_FAILURES = {
    "caret": (["--state", "x", "--drift", "[-x^3]", "--diffusion", "1"], "did you mean -x**3"),
    "unknown name": (["--state", "x", "--drift", "[-z]", "--diffusion", "1"],
                     "unknown name 'z'"),
    "drift length": (["--state", "x,y", "--drift", "[-x]", "--diffusion", "1"],
                     "drift has 1 component(s) but the state has 2"),
    "nested drift": (["--state", "x", "--drift", "[[-x]]", "--diffusion", "1"],
                     "--drift must be a flat list"),
    "diffusion shape": (["--state", "x,y", "--drift", "[-x, -y]", "--diffusion",
                         "[[1, 0], [0, 1], [1, 1]]"], "3 row(s) but the state has 2"),
    "indefinite D": (["--state", "x,y", "--drift", "[-x, -y]", "--diffusion-matrix",
                      "[[1, 2], [2, 1]]"], "not positive semi-definite"),
    "non-symmetric D": (["--state", "x,y", "--drift", "[-x, -y]", "--diffusion-matrix",
                         "[[1, 0], [1, 1]]"], "not symmetric"),
    "duplicate state": (["--state", "x,x", "--drift", "[-x, -x]", "--diffusion", "1"],
                        "appears twice"),
    "param is state": (["--state", "x", "--drift", "[-x]", "--diffusion", "1", "--param",
                        "x=1"], "is a state variable"),
    "param twice": (["--state", "x", "--drift", "[-x]", "--diffusion", "s", "--param", "s",
                     "--param", "s=1"], "declared twice"),
    "param value": (["--state", "x", "--drift", "[-x]", "--diffusion", "s", "--param",
                     "s=abc"], "a number is expected here"),
    "drift and loss": (["--state", "x", "--drift", "[-x]", "--loss", "x**2", "--diffusion",
                        "1"], "not both"),
    "neither": (["--state", "x", "--diffusion", "1"], "give the drift with --drift"),
    "no noise option": (["--state", "x", "--drift", "[-x]"],
                        "one of the arguments --diffusion --diffusion-matrix is required"),
    "bad method": (["--state", "x", "--drift", "[-x]", "--diffusion", "1", "--method", "foo"],
                   "invalid choice"),
    "bad state name": (["--state", "1x", "--drift", "[-x]", "--diffusion", "1"],
                       "not a valid name"),
    "reserved name": (["--state", "pi", "--drift", "[-pi]", "--diffusion", "1"], "reserved"),
    "unicode minus": (["--state", "x", "--drift", "[−x]", "--diffusion", "1"],
                      "type the ASCII minus"),
    "tiny literal": (["--state", "x", "--drift", "[-x]", "--diffusion", "1e-99999"],
                     "out of range"),
    "complex": (["--state", "x", "--drift", "[-x]", "--diffusion", "sqrt(-1)"],
                "not a real number"),
    "payload": (["--state", "x", "--drift", "[__import__('os').system('true')]",
                 "--diffusion", "1"], "which no expression uses"),
}


@pytest.mark.parametrize("case", sorted(INPUT_FAILURES))
def test_bad_input_exit_2(capsys: pytest.CaptureFixture[str], case: str) -> None:
    argv, phrase = INPUT_FAILURES[case]
    code, out, err = run(capsys, "stationary", *argv)
    assert code == 2
    assert_one_line_error(err, out)
    assert phrase in err


def test_user_strings_never_reach_sympify_eval_or_exec(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = ["[-x + y, -x - 2*y]", "[[1, 0], [0, sigma]]", "sigma=0.5", "-x**2",
            "[__import__('os').system('true')]"]
    leaked: list[tuple[str, Any]] = []
    real_sympify, real_eval, real_exec = sp.sympify, builtins.eval, builtins.exec

    def watch(name: str, real: Any) -> Any:
        def wrapped(source: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(source, str) and (name == "sympify" or any(u in source
                                                                     for u in user)):
                leaked.append((name, source))
            return real(source, *args, **kwargs)

        return wrapped

    monkeypatch.setattr(sp, "sympify", watch("sympify", real_sympify))
    monkeypatch.setattr(builtins, "eval", watch("eval", real_eval))
    monkeypatch.setattr(builtins, "exec", watch("exec", real_exec))
    ok = main(["stationary", "--state", "x,y", "--drift", user[0], "--diffusion", user[1],
               "--param", user[2], "--json"])
    bad = main(["stationary", "--state", "x", f"--loss={user[3]}", "--diffusion", "1"])
    evil = main(["stationary", "--state", "x", "--drift", user[4], "--diffusion", "1"])
    capsys.readouterr()
    assert (ok, bad, evil) == (0, 1, 2)
    assert leaked == []
    # Negative control: the watch does record a string handed to sympify.
    sp.sympify("x + 1")
    assert leaked == [("sympify", "x + 1")]


# -- the real executable ----------
def _spawn(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SYMSDE), *argv], capture_output=True, text=True, timeout=120,
                          check=False)


@pytest.mark.skipif(not SYMSDE.exists(), reason="the symsde script is not installed")
def test_subprocess_success_and_math_failure() -> None:
    ok = _spawn("stationary", "--state", "x,y", "--drift", "[-x, -2*y]", "--diffusion", "1",
                "--json")
    assert ok.returncode == 0, ok.stderr
    assert ok.stderr == ""
    assert json.loads(ok.stdout)["method"] == "potential"
    fail = _spawn("stationary", "--state", "x", "--drift", "[x]", "--diffusion", "1")
    assert fail.returncode == 1
    assert_one_line_error(fail.stderr, fail.stdout)


@pytest.mark.skipif(not SYMSDE.exists(), reason="the symsde script is not installed")
def test_subprocess_bad_input_runs_no_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = f"[__import__('os').system('touch {marker}')]"
    bad = _spawn("stationary", "--state", "x", "--drift", payload, "--diffusion", "1")
    assert bad.returncode == 2
    assert_one_line_error(bad.stderr, bad.stdout)
    assert not marker.exists()
    caret = _spawn("stationary", "--state", "x", "--drift", "[-x^3]", "--diffusion", "1")
    assert caret.returncode == 2
    assert_one_line_error(caret.stderr, caret.stdout)
    assert "did you mean -x**3" in caret.stderr


# -- --domain ------------------------------------------------------------------------------------
def test_stationary_on_a_given_domain(capsys: pytest.CaptureFixture[str]) -> None:
    # CIR dx = (2 - x) dt + sqrt(2x) dW on (0, oo): zero flux gives p' / p = (2 - x)/x - 1/x
    # ... worked by hand: p(x) = x exp(-x), already normalised (Gamma(2) = 1).
    doc = run_json(capsys, "--state", "x", "--drift", "[2 - x]", "--diffusion", "sqrt(2*x)",
                   "--domain", "(0, oo)")
    x = read("x")
    assert is_zero(read(doc["density"]) - x * sp.exp(-x))
    # power: on the whole line the same SDE is refused (D = 2x < 0 for x < 0)
    code, _, err = run(capsys, "stationary", "--state", "x", "--drift", "[2 - x]",
                       "--diffusion", "sqrt(2*x)", "--domain", "R")
    assert code != 0 and err.count("\n") == 1


@pytest.mark.parametrize("bad", ["(0, __import__)", "[0, 1", "(1, 0)", "[0, 1] x [0, 1]", ""])
def test_a_bad_domain_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str],
                                             bad: str) -> None:
    code, _, err = run(capsys, "stationary", "--state", "x", "--drift", "[-x]",
                         "--diffusion", "1", "--domain", bad)
    assert code == 2, err
    assert err.count("\n") == 1 and "domain" in err and "Traceback" not in err
