"""``symsde scheme METHOD``: the printed rule is Kloeden-Platen's, in text, LaTeX and JSON;
bad input exits 2 with one line."""

from __future__ import annotations

import json

import pytest
import sympy as sp

from symsde.cli import main
from symsde.parsing import parse_expression

x = sp.Symbol("x", real=True)
mu, s, h = sp.symbols("mu s h", positive=True)


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["scheme", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_milstein_gbm_rule(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, "milstein", "--state", "x", "--drift", "mu*x", "--diffusion", "s*x",
                "--param", "mu", "--param", "s")
    dW = sp.Symbol("dW1", real=True)
    got = parse_expression(doc["update"][0], {"x": x, "mu": mu, "s": s, "h": h, "dW1": dW})
    # KP (10.3.1) for a = mu x, b = s x: x + a h + b dW + b b' (dW^2 - h)/2
    kp = x + mu * x * h + s * x * dW + s**2 * x * (dW**2 - h) / 2
    assert sp.expand(got - kp) == 0
    assert sp.expand(got - (kp + h)) != 0  # power
    assert doc["increments"] == {"dW1": "sqrt(h)*xi1"}
    assert doc["noises"] == [{"symbol": "xi1", "law": "normal"}]
    assert doc["strong_order"] == 1.0


def test_weak2_with_values_and_negative_drift(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, "weak2", "--state", "x", "--drift", "-x", "--diffusion", "s",
                "--param", "s=0.5")
    dW = sp.Symbol("dWhat1", real=True)
    got = parse_expression(doc["update"][0], {"x": x, "h": h, "dWhat1": dW})
    # KP 14.2.7 for a = -x, b = 1/2: a' b dW h / 2 + a a' h^2 / 2
    kp = x - x * h + dW / 2 - dW * h / 4 + x * h**2 / 2
    assert sp.expand(got - kp) == 0
    assert doc["noises"][0]["law"] == "three-point"


def test_text_and_latex(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["scheme", "strong1.5", "--state", "x", "--drift", "x - x**3", "--diffusion", "s",
            "--param", "s=0.5"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("strong1.5 scheme (strong order 1.5) for dX = (-x**3 + x) dt")
    assert "dZ1 = h**(3/2)*(sqrt(3)*eta1/3 + xi1)/2" in out
    assert main([*argv, "--latex"]) == 0
    tex = capsys.readouterr().out
    assert tex.startswith("\\begin{aligned}") and "\\Delta Z_{1}" in tex


def test_names_of_the_user_are_kept_apart(capsys: pytest.CaptureFixture[str]) -> None:
    """A parameter called h or xi1 is not the step or the noise."""
    doc = _json(capsys, "euler", "--state", "x", "--drift", "h*x", "--diffusion", "xi1",
                "--param", "h", "--param", "xi1")
    assert doc["increments"] == {"dW1": "sqrt(h_)*xi1_"}
    hp, xi1, dW, h_ = (sp.Symbol(n, positive=True) for n in ("h", "xi1", "dW1", "h_"))
    got = parse_expression(doc["update"][0], {"x": x, "h": hp, "xi1": xi1, "dW1": dW,
                                              "h_": h_})
    assert sp.expand(got - (x + h_ * hp * x + xi1 * dW)) == 0


@pytest.mark.parametrize(("argv", "needle"), [
    (["rk4", "--state", "x", "--drift", "x", "--diffusion", "1"], "invalid choice"),
    (["milstein", "--state", "x,y", "--drift", "[0, 0]", "--diffusion", "[[1, x], [0, 0]]"],
     "commutative"),
    (["strong1.5", "--state", "x,y", "--drift", "[0, 0]", "--diffusion", "[[y, 1], [1, x]]"],
     "scalar or diagonal"),
    (["euler", "--state", "x", "--drift", "__import__('os')", "--diffusion", "1"], "--drift"),
    (["euler", "--state", "x", "--drift", "[[x]]", "--diffusion", "1"], "flat list"),
])
def test_bad_input_exits_2(capsys: pytest.CaptureFixture[str], argv: list[str],
                           needle: str) -> None:
    assert main(["scheme", *argv]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("method", ["strong1.5", "weak2"])
def test_simulate_accepts_the_derived_schemes(capsys: pytest.CaptureFixture[str],
                                              method: str) -> None:
    assert main(["simulate", "--state", "x", "--drift", "x - x**3", "--diffusion",
                 "0.5*sqrt(1 + x**2)", "--x0", "0.1", "--steps", "20", "--paths", "200",
                 "--method", method, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["method"] == method and doc["diverged"] == 0
