"""Fresh attacks of the audit of issue 15 (not in the issue's examples), on the command line.

Each test shows the misbehaviour is gone and that the check would see it: a help text
into a full standard output, numbers in other scripts' digits, pathological paths and
option values echoed in full, reserved names explained once.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from symsde.cli import main
from symsde.errors import ParseError
from symsde.inputs import check_name

SCRIPT = Path(sys.executable).parent / "symsde"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "symsde.cli"]
STATIONARY = ["stationary", "--state", "x", "--drift=-x", "--diffusion", "1"]


def _run(argv: list[str], stdout: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SYMSDE_DEBUG"}
    return subprocess.run([*COMMAND, *argv], stdout=stdout, stderr=subprocess.PIPE,
                          text=True, timeout=120, check=False, env=env)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("argv", [["--help"], ["mutate", "--help"], ["scheme", "--help"]])
def test_help_into_a_full_stdout_says_so(argv: list[str]) -> None:
    # argparse swallows the OSError of its own print: exit 0 with no help was the bug.
    with open("/dev/full", "w") as full:
        proc = _run(argv, full)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ("symsde: error: cannot write the result to standard output (No "
                           "space left on device); redirect it to a file, or use --output\n")
    # control: the same help into a pipe that is read succeeds
    ok = _run(argv, subprocess.PIPE)
    assert ok.returncode == 0 and ok.stdout.startswith("usage: symsde")


@pytest.mark.parametrize(("option", "value", "fragment"), [
    ("--timeout", "\u0661\u0660", "is not a number of seconds; write it with ASCII digits"),
    ("--timeout", "9" * 5000, "'" + "9" * 37 + "...' is not a number of seconds"),
    ("--seed", "\u0663", "is not a whole number; write it with ASCII digits"),
    ("--workers", "\uff12", "is not a whole number; write it with ASCII digits"),
    ("--workers", "9" * 5000, "'" + "9" * 37 + "...' is not a whole number"),
])
def test_option_numbers_in_other_digits_or_too_long(option: str, value: str, fragment: str,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    # float('١٠') is 10.0 and int('３') is 3 in Python: accepted silently before.
    code = main(["verify", "langevin", option, value])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1, err
    assert fragment in err and len(err) < 300, err


def test_plain_numbers_still_pass(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["verify", "langevin", "--timeout", " 60 ", "--seed", "7", "--workers", "1",
                 "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and err == "" and '"langevin"' in out


def test_a_very_long_path_is_shown_shortened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    path = "a/" * 3000 + "x.json"
    code = main([*STATIONARY, "--output", path])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1, err
    assert "'a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/...a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/x.json'" in err
    assert len(err) < 300 and os.listdir(tmp_path) == []


@pytest.mark.parametrize(("name", "meaning"), [
    ("e", "Euler's number in generated code"),
    ("mpf", "a name the generated NumPy or mpmath code uses"),
    ("arctan", "a name the generated NumPy or mpmath code uses"),
])
def test_reserved_names_say_why_once(name: str, meaning: str) -> None:
    with pytest.raises(ParseError) as info:
        check_name(name, "state name")
    assert f"state name {name!r} is reserved ({meaning}); choose another name" in str(info.value)
    assert "generated code uses in generated code" not in str(info.value)


@pytest.mark.parametrize("name", ["np", "t", "dt", "h", "dW", "Z", "A0", "re", "mp", "print"])
def test_names_close_to_generated_code_give_the_same_numbers(
        name: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Accepted names must not change the numbers: the same run with x and with ``name``.
    def run(n: str, drift: str = "1 - {n} + sin({n})/10") -> tuple[object, object]:
        code = main(["simulate", "--state", n, "--drift", drift.format(n=n),
                     "--diffusion", f"1/2 + cos({n})/10", "--paths", "500", "--steps", "20",
                     "--seed", "3", "--method", "milstein", "--json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        doc = json.loads(out)
        return doc["mean"], doc["cov"]

    assert run(name) == run("x")
    # control: a different drift does change the numbers, so the comparison can fail
    assert run("x", "1 - {n}") != run("x")


# -- class 2 through the Python API: SymPy symbols with any name are renamed internally --
# (the audit found a state named "mpf" breaking the mpmath checks of stationary_density and
# transition_density: their lambdified code called the state instead of mpmath.mpf)
@functools.cache
def _api_numbers(name: str, shift: int = 0) -> tuple[float, ...]:
    """Mean and variance of a simulation, a stationary density value and a transition
    density value for dX = (e + shift - X) dt + dB with the state named ``name`` (made once
    per name and shift)."""
    import warnings

    import numpy as np
    import sympy as sp

    from symsde import SDE, simulate, stationary_density, transition_density
    from symsde.kernels import lambdify_density

    t = sp.Symbol("t", positive=True)
    s = sp.Symbol(name, real=True)
    sde = SDE([s], [sp.E + shift - s], 1)  # Euler's number next to a state maybe "e"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = simulate(sde, 0.0, dt=0.01, n_steps=50, n_paths=200, seed=4)
    dens = lambdify_density(stationary_density(sde))
    td = transition_density(sde, [0], t).density.subs({t: 1, s: 2})
    return (float(res.mean[0]), float(res.cov[0, 0]), float(dens(np.array([[1.0]]))[0]),
            float(td))


@pytest.mark.parametrize("name", ["e", "I", "mpf", "arctan", "lambda", "if", "numpy", ""])
def test_api_symbols_named_like_generated_code_give_the_numbers_of_x(name: str) -> None:
    assert _api_numbers(name) == _api_numbers("x")
    # control: the comparison can fail
    assert _api_numbers("x", 1) != _api_numbers("x")


# -- class 6 without root's privileges: an unwritable folder, simulated --------------------
@pytest.mark.parametrize("argv", [
    [*STATIONARY, "--output", "{tmp}/out.json"],
    ["simulate", "--state", "x", "--drift", "-x", "--diffusion", "1", "--steps", "10**9",
     "--output", "{tmp}/out.json"],
    ["verify", "langevin", "--output", "{tmp}/out.json"],
])
def test_an_unwritable_folder_is_refused_before_any_work(
        argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # Root may write anywhere, so the folder's refusal is simulated where symsde probes it
    # (the temporary file of the atomic write); --steps 10**9 would take minutes.
    import tempfile

    def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    code = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    out, err = capsys.readouterr()
    assert code == 2 and out == "", err
    assert err == f"symsde: error: --output: cannot write in {str(tmp_path)!r} (Permission " \
                  "denied)\n"
    assert os.listdir(tmp_path) == []


# -- class 10: a Ctrl-C in the last milliseconds, after the result is out ------------------
def test_a_late_ctrl_c_after_the_result_is_ignored(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    # It used to kill the console script during the interpreter's shutdown (exit -2 and no
    # message; seen as a flaky tests/test_cli_signals.py on a fast run).
    import signal

    before = signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(sys, "argv", ["symsde", "list"])
    try:
        assert main() == 0
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
    # a caller in-process (argv given) keeps its own handler
    assert main(["list"]) == 0 and signal.getsignal(signal.SIGINT) is before
    capsys.readouterr()
