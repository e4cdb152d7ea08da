"""Property tests of the command line: random losses, random strings, random sizes.

- For random confining polynomial losses and random stable linear SDEs, ``symsde
  stationary --json`` succeeds and the potential it prints (read back with the safe parser)
  has zero Fokker-Planck residual; for random non-confining losses it fails with exit 1.
- For random strings (hostile characters, tokens of the grammar in random order, look-alike
  Unicode) in every expression option, and random values of the numeric options of
  ``simulate``, the CLI never prints a traceback, its exit code is 0, 1 or 2, an error is one
  line on stderr, and bad input (exit 2) prints nothing on stdout.

The examples run in-process through :func:`symsde.cli.main` (fast); a few run as real
processes. Runs are derandomised and use no example database, so the suite is reproducible.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sympy as sp
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from symsde import SDE, stationary
from symsde.cli import main
from symsde.parsing import parse_expression

x, y = sp.symbols("x y", real=True)
sigma = sp.Symbol("sigma", positive=True)
SCRIPT = Path(sys.executable).parent / "symsde"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "symsde.cli"]


def profile(n: int) -> settings:
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


@pytest.fixture
def quick_normaliser(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give SymPy 0.2 s (not 10 s) to find a closed-form normaliser before going numeric.

    The command looks ``stationary_density`` up when it runs, so it gets this version; the
    normaliser does not enter the Fokker-Planck check, only the run time.
    """
    monkeypatch.setattr(stationary, "stationary_density",
                        functools.partial(stationary.stationary_density,
                                          integration_seconds=0.2))


def run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def assert_well_behaved(code: int, out: str, err: str) -> None:
    """The contract of every run: exit 0/1/2, no traceback, errors as one line."""
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in out and "Traceback" not in err
    if code:
        lines = err.splitlines()
        assert err.endswith("\n") and len(lines) == 1, err
        assert lines[0].startswith("symsde: error: "), err  # never an internal error
    if code == 2:
        assert out == ""


def fokker_planck_residual(sde: SDE, potential: sp.Expr) -> sp.Expr:
    p = sp.exp(-potential)
    return sp.simplify(sp.expand(sde.fokker_planck(p) / p))


def test_the_residual_check_rejects_a_wrong_potential() -> None:
    sde = SDE.langevin(x**4 / 4 - x**2 / 2, [x], 1)
    assert fokker_planck_residual(sde, 2 * (x**4 / 4 - x**2 / 2)) == 0
    assert fokker_planck_residual(sde, x**4 / 4 - x**2 / 2) != 0


# -- random valid input: the printed density is stationary ------------------------------------
half = st.integers(-4, 4).map(lambda k: sp.Rational(k, 2))
lead = st.sampled_from([sp.Rational(1, 4), sp.Rational(1, 2), sp.Integer(1), sp.Integer(2)])


@st.composite
def polynomial(draw: st.DrawFn, confining: bool) -> sp.Expr:
    degree = draw(st.sampled_from([2, 4, 6]))
    top = draw(lead) * x**degree
    if not confining:
        top = -top if draw(st.booleans()) else top + x**(degree + 1)
    return top + sp.Add(*[draw(half) * x**k for k in range(1, degree)])


NOISES = [(["--diffusion", "1"], sp.Integer(1)),
          (["--diffusion", "sigma", "--param", "sigma"], sigma),
          (["--diffusion", "sigma", "--param", "sigma=1/2"], sp.Rational(1, 2)),
          (["--diffusion", "sqrt(1 + x**2)"], sp.sqrt(1 + x**2))]


@profile(8)
@given(L=polynomial(confining=True), k=st.integers(0, len(NOISES) - 1))
def test_random_polynomial_loss_density_is_stationary(
        L: sp.Expr, k: int, capsys: pytest.CaptureFixture[str], quick_normaliser: None) -> None:
    noise_argv, G = NOISES[k]
    code, out, err = run(capsys, ["stationary", "--state", "x", "--loss", sp.sstr(L),
                                  *noise_argv, "--json", "--timeout", "30"])
    assert_well_behaved(code, out, err)
    assert code == 0, err
    doc = json.loads(out)
    U = parse_expression(doc["potential"], {"x": x, "sigma": sigma}, "potential")
    assert fokker_planck_residual(SDE.langevin(L, [x], G), U) == 0
    if k != 3:  # constant noise: Gibbs at temperature G^2/2
        assert doc["is_gibbs"] is True


@profile(8)
@given(L=polynomial(confining=False))
def test_random_non_confining_loss_is_refused(
        L: sp.Expr, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, ["stationary", "--state", "x", "--loss", sp.sstr(L),
                                  "--diffusion", "1", "--timeout", "30"])
    assert_well_behaved(code, out, err)
    assert code == 1 and "normalised" in err


small = st.integers(-2, 2)


@profile(10)
@given(m=st.lists(small, min_size=4, max_size=4), k=small,
       n=st.lists(small, min_size=4, max_size=4))
def test_random_stable_linear_sde_density_is_stationary(
        m: list[int], k: int, n: list[int], capsys: pytest.CaptureFixture[str]) -> None:
    # A = -(M M^T + I) + K (K skew) is stable; D = N N^T + I is positive definite.
    M, N = sp.Matrix(2, 2, m), sp.Matrix(2, 2, n)
    A = -(M * M.T + sp.eye(2)) + sp.Matrix([[0, k], [-k, 0]])
    D = N * N.T + sp.eye(2)
    drift = A * sp.Matrix([x, y])
    code, out, err = run(capsys, ["stationary", "--state", "x,y",
                                  "--drift", sp.sstr(list(drift)),
                                  "--diffusion-matrix", sp.sstr(D.tolist()), "--json"])
    assert_well_behaved(code, out, err)
    assert code == 0, err
    U = parse_expression(json.loads(out)["potential"], {"x": x, "y": y}, "potential")
    assert fokker_planck_residual(SDE.from_diffusion_matrix([x, y], list(drift), D), U) == 0


# -- random strings: never a traceback, always 0/1/2 ------------------------------------------
TOKENS = ["x", "y", "s", "z", "1", "2", "0", "0.5", "1e400", "1e-400", "10**40", "(", ")",
          "[", "]", ",", "+", "-", "*", "/", "**", "^", " ", "exp", "log", "sqrt", "sin",
          "abs", "pi", "E", "e", "nan", "inf", "__import__", "__class__", ".", "'", '"',
          "lambda", ":", "=", "==", "<", ";", "\\", "\n", "\t", "#", "$", "{", "}", "@", "%",
          "os", "system", "eval", "open", "chr", "ｘ", "х", "−", "²", "σ", "×", "\u00a0",
          "\u200b", "𝑥", "0x1F", "1_000", "j", "1j", "True", "None", "..."]
hostile = st.one_of(
    st.lists(st.sampled_from(TOKENS), max_size=14).map("".join),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=25),
    st.text(alphabet="xys0123456789.+-*/^()[], e", max_size=30),
)


def _no_nul(s: str) -> str:
    return s.replace("\x00", "?")  # argv cannot hold NUL bytes


@profile(150)
@given(option=st.sampled_from(["--drift", "--loss", "--diffusion", "--diffusion-matrix",
                               "--param", "--state"]),
       text=hostile)
def test_random_strings_in_stationary(option: str, text: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    opts: dict[str, str] = {"--state": "x,y", "--drift": "[-x, -y]", "--diffusion": "s"}
    if option in ("--loss", "--diffusion-matrix"):
        del opts["--drift" if option == "--loss" else "--diffusion"]
    opts[option] = text
    argv = ["stationary", "--timeout", "2"]
    for key, value in opts.items():
        argv.append(f"{key}={value}" if key in ("--drift", "--loss") else key)
        if key not in ("--drift", "--loss"):
            argv.append(value)
    if option != "--param":
        argv += ["--param", "s=1/2"]
    code, out, err = run(capsys, argv)
    assert_well_behaved(code, out, err)
    event(f"exit {code}")


leaf = st.sampled_from(["x", "y", "s", "1", "2", "0.5", "pi", "0"])
grammar = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["exp", "log", "sqrt", "sin", "tanh", "abs", "-"]),
                  inner).map(lambda t: f"{t[0]}({t[1]})"),
    ),
    max_leaves=6,
)


@profile(40)
@given(first=grammar, second=grammar, noise=grammar)
def test_random_grammatical_sdes(first: str, second: str, noise: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    # Expressions the parser accepts: the engine must answer, refuse or give up cleanly.
    code, out, err = run(capsys, ["stationary", "--state", "x,y", f"--drift=[{first}, {second}]",
                                  "--diffusion", f"[{noise}, 1]", "--param", "s=1/2",
                                  "--timeout", "0.5"])
    assert_well_behaved(code, out, err)
    event(f"exit {code}")


NUMBERS = st.sampled_from(["1", "2", "10", "0", "-1", "2.5", "1e30", "1e13", "nan", "inf",
                           "-inf", "1/0", "abc", "", " ", "10**40", "1" * 40, "0.01",
                           "1e-300", "sqrt(2)", "pi", "(1", "1 000", "１", "__import__"])


@profile(80)
@given(option=st.sampled_from([None, "--dt", "--steps", "--paths", "--seed", "--x0"]),
       value=NUMBERS,
       drift=st.sampled_from(["-x", "-x**3", "x", "-x**5", "0", "-x/0", "log(x)", "x^2"]))
def test_random_simulation_sizes(option: str | None, value: str, drift: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    # One option at a time gets a random value; every accepted size is small (at most 10
    # steps x 10 paths), the large ones are refused before any work, for memory or time.
    opts = {"--dt": "0.5", "--steps": "10", "--paths": "10", "--seed": "0", "--x0": "1"}
    if option is not None:
        opts[option] = value
    argv = ["simulate", "--state", "x", f"--drift={drift}", "--diffusion", "1", "--json"]
    argv += [f"{k}={v}" for k, v in opts.items()]
    code, out, err = run(capsys, argv)
    assert_well_behaved(code, out, err)
    event(f"exit {code}")
    if code == 0 or "diverged" in err:
        doc = json.loads(out, parse_constant=_reject)  # strict JSON: NaN is written as null
        assert doc["provenance"]["arguments"]["dt"] == opts["--dt"]


def _reject(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


# -- a few as real processes ------------------------------------------------------------------
@profile(5)
@given(text=hostile)
def test_random_strings_as_a_process(text: str, tmp_path_factory: Any) -> None:
    cwd = tmp_path_factory.mktemp("random")
    proc = subprocess.run([*COMMAND, "stationary", "--state", "x", f"--loss={_no_nul(text)}",
                           "--diffusion", "1", "--timeout", "5"], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)
    assert_well_behaved(proc.returncode, proc.stdout, proc.stderr)
    assert list(cwd.iterdir()) == []
