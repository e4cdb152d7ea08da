"""`symsde simulate`: JSON contract, stationary comparison, plots, exit codes."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

from symsde.cli import main

BASE = ["simulate", "--state", "x", "--drift", "-x", "--diffusion", "sigma", "--param",
        "sigma=1", "--x0", "1", "--dt", "0.01", "--steps", "1000", "--paths", "20000",
        "--seed", "0"]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, *BASE, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert {"paths", "steps", "dt", "seed", "mean", "cov", "diverged"} <= set(doc)
    assert (doc["paths"], doc["steps"], doc["dt"], doc["seed"]) == (20000, 1000, 0.01, 0)
    assert doc["diverged"] == 0
    assert abs(doc["mean"][0]) < 0.03 and abs(doc["cov"][0][0] - 0.5) < 0.03
    assert "stationary" not in doc


def test_same_seed_same_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    a = json.loads(_run(capsys, *BASE, "--json", "--steps", "50")[1])
    b = json.loads(_run(capsys, *BASE, "--json", "--steps", "50")[1])
    c = json.loads(_run(capsys, *BASE, "--json", "--steps", "50", "--seed", "1")[1])
    assert a["mean"] == b["mean"] and a["cov"] == b["cov"]
    assert a["mean"] != c["mean"]


def test_kernel_option_same_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    dw = ["simulate", "--state", "x", "--drift", "x - x**3", "--diffusion", "0.5",
          "--steps", "200", "--paths", "5000", "--json"]
    a = json.loads(_run(capsys, *dw, "--kernel", "numba")[1])
    b = json.loads(_run(capsys, *dw, "--kernel", "numpy")[1])
    assert (a["kernel"], b["kernel"]) == ("numba", "numpy")
    assert a["mean"] == b["mean"] and a["cov"] == b["cov"]
    # a step the compiler cannot take exactly is refused in one line, exit 2
    code, out, err = _run(capsys, "simulate", "--state", "x", "--drift", "-sin(x)",
                          "--diffusion", "1", "--steps", "5", "--paths", "100",
                          "--kernel", "numba")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "kernel='numba' cannot compile" in err


def test_compare_stationary_ks(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, *BASE, "--json", "--compare-stationary")
    assert code == 0, err
    st = json.loads(out)["stationary"]
    assert st["test"] == "ks"
    assert st["verdict"] is True
    assert st["statistic"] <= st["threshold"]
    assert st["false_alarm"] == 1e-6
    assert "exp(-x**2)" in st["density"]


def test_compare_stationary_rejects_a_transient(capsys: pytest.CaptureFixture[str]) -> None:
    """After 0.2 time units from x0 = 3 the law is far from stationary: exit 1."""
    argv = [*BASE, "--json", "--compare-stationary", "--x0", "3", "--steps", "20"]
    code, out, err = _run(capsys, *argv)
    assert code == 1
    assert json.loads(out)["stationary"]["verdict"] is False
    assert err.count("\n") == 1 and "stationary density" in err


def test_compare_stationary_gaussian_2d(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "simulate", "--state", "x,y", "--drift", "[-x + y, -2*y]",
                          "--diffusion", "[1, s]", "--param", "s=0.5", "--x0", "[1, -1]",
                          "--steps", "600", "--paths", "20000", "--json",
                          "--compare-stationary")
    assert code == 0, err
    st = json.loads(out)["stationary"]
    assert st["test"] == "gaussian-moments" and st["verdict"] is True
    assert {d["test"] for d in st["details"]} == {"mean", "covariance"}


def test_text_output_and_milstein(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "simulate", "--state", "x", "--drift", "-x",
                          "--diffusion", "sqrt(1 + x**2)/2", "--x0", "0", "--steps", "100",
                          "--paths", "1000", "--method", "milstein")
    assert code == 0, err
    assert "milstein" in out and "mean" in out and "diverged" in out


def test_plot_written_atomically(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / "hist.png"
    code, out, err = _run(capsys, *BASE, "--steps", "300", "--plot", str(target), "--json")
    assert code == 0, err
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert os.listdir(tmp_path) == ["hist.png"]  # no temporary file left behind
    assert json.loads(out)["plot"] == str(target)


def test_plot_without_stationary_density(capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / "h.svg"
    code, _, err = _run(capsys, "simulate", "--state", "x", "--drift", "0",
                        "--diffusion", "1", "--steps", "10", "--paths", "500",
                        "--plot", str(target))
    assert code == 0
    assert "no stationary density" in err
    assert target.read_text().lstrip().startswith("<?xml")


def test_plot_needs_matplotlib(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    code, _, err = _run(capsys, *BASE, "--steps", "5", "--plot", str(tmp_path / "h.png"))
    assert code == 2 and "pip install 'symsde[plot]'" in err
    assert os.listdir(tmp_path) == []


def test_divergence_is_a_mathematical_failure(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "simulate", "--state", "x", "--drift", "x**3",
                          "--diffusion", "1", "--x0", "3", "--dt", "0.1", "--steps", "100",
                          "--paths", "100", "--json")
    assert code == 1
    assert json.loads(out)["diverged"] == 100
    assert err.count("\n") == 1 and "diverged" in err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--dt", "0"], "dt must be a finite number > 0"),
        (["--dt", "-0.1"], "dt must be a finite number > 0"),
        (["--x0", "[1, 2]"], "2 entries but the state has 1"),
        (["--x0", "nan"], "nan is not a finite number"),
        (["--param", "sigma"], "needs a value"),
        (["--drift", "-y"], "unknown name 'y'"),
        (["--drift", "__import__('os')"], "--drift"),
        (["--drift", "x^2"], "did you mean x\\*\\*2"),
        (["--steps", "1.5"], "--steps must be a whole number"),
        (["--paths", "1"], "--paths must be a whole number >= 2"),
        (["--paths", "1e13"], "would need about 400 TB of memory \\(40 bytes per path\\)"),
        (["--method", "rk4"], "invalid choice"),
        (["--param", "x=1"], "is a state variable"),
    ],
)
def test_bad_input_exit_2(capsys: pytest.CaptureFixture[str], change: list[str],
                          message: str) -> None:
    argv = list(BASE)
    key = change[0]
    if key in argv and key != "--param":
        i = argv.index(key)
        argv[i:i + 2] = change
    elif key == "--param" and "=" not in change[1]:
        i = argv.index("--param")
        argv[i:i + 2] = change
    else:
        argv += change
    code, out, err = _run(capsys, *argv)
    assert code == 2, (out, err)
    assert err.startswith("symsde: error:") and err.count("\n") == 1
    assert re.search(message, err), err


@pytest.mark.parametrize(("target", "message"), [("/no/such/folder/h.png", "does not exist"),
                                               ("h.txt", "give a file ending in .png")])
def test_bad_plot_target(capsys: pytest.CaptureFixture[str], target: str, message: str) -> None:
    pytest.importorskip("matplotlib")
    code, _, err = _run(capsys, *BASE, "--steps", "5", "--plot", target)
    assert code == 2 and message in err


def test_milstein_non_commutative_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "simulate", "--state", "x", "--drift", "-x", "--diffusion",
                        "[[1, x]]", "--method", "milstein", "--paths", "10", "--steps", "2")
    assert code == 2 and "commutative" in err


def test_missing_required_option(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "simulate", "--state", "x", "--diffusion", "1")
    assert code == 2 and "--drift" in err


def test_compare_stationary_non_gaussian_2d_is_refused(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "simulate", "--state", "x,y", "--drift",
                        "[-x**3, -y**3]", "--diffusion", "1", "--steps", "5", "--paths",
                        "100", "--compare-stationary")
    assert code == 2 and "Gaussian" in err
