"""Lectures found by entry point: the pytest plugin and `symsde verify` pick up a second
lecture package the way they pick up this project's own."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

LECTURES = Path(__file__).parent / "lectures"


def register(tmp: Path, entry: str, package_dir: Path) -> dict[str, str]:
    """An environment in which ``entry`` (``name = module:LECTURE``) is an installed entry
    point of the group ``symsde.derivations`` (a distribution's metadata on the path)."""
    info = tmp / "fake_lecture-0.1.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-lecture\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[symsde.derivations]\n{entry}\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp), str(package_dir),
                                         env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def symsde(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symsde.cli", *args], env=env,
                          capture_output=True, text=True, timeout=600)


def test_verify_finds_a_second_lecture_by_its_entry_point(tmp_path: Path) -> None:
    env = register(tmp_path, "toy = toy_lecture:LECTURE", LECTURES)
    listed = symsde(env, "list")
    assert listed.returncode == 0, listed.stderr
    assert "toy_square" in listed.stdout and "langevin" in listed.stdout
    out = symsde(env, "verify", "toy_square", "--seed", "3")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "toy_square" in out.stdout and "langevin" not in out.stdout
    assert "predicts: E[X^2] = 1" in out.stdout and "rejects: E[X^2] = 2" in out.stdout
    # two lectures at once, in two worker processes: each worker finds the toy lecture too
    both = symsde(env, "verify", "toy_square", "langevin", "--symbolic-only", "--workers", "2")
    assert both.returncode == 0, both.stdout + both.stderr
    assert "toy_square" in both.stdout and "langevin" in both.stdout


def test_the_plugin_collects_the_second_lecture_steps(tmp_path: Path) -> None:
    env = register(tmp_path, "toy = toy_lecture:LECTURE", LECTURES)
    run = subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider",
                          "--rootdir", str(LECTURES), str(LECTURES / "toy_lecture")],
                         env=env, capture_output=True, text=True, timeout=600,
                         cwd=LECTURES)
    assert "toy_square::unit-variance PASSED" in run.stdout, run.stdout + run.stderr
    assert "toy_square::scaled PASSED" in run.stdout
    assert run.returncode == 0


FAKE = textwrap.dedent(
    '''
    from functools import cache
    import sympy as sp
    from symsde.proof import Claim, Computed, Derivation
    from symsde.registry import Lecture, Part

    LECTURE = Lecture("fake_lecture", "fake", (Part("fake", "A fake derivation"),))

    @cache
    def derivation():
        x = sp.Symbol("x", real=True)
        d = Derivation("fake", "A fake derivation")
        d.step("true-step", Claim(sp.Derivative(x**3, x), 3*x**2), "differentiate",
               slide="Slide A", check=Computed())
        d.step("false-step", Claim(sp.Derivative(x**3, x), x**2), "forgot the 3",
               slide="Slide B", check=Computed())
        return d
    '''
)


def test_failures_show_latex_residual_and_slide(pytester: pytest.Pytester,
                                                tmp_path: Path) -> None:
    pkg = pytester.mkpydir("fake_lecture")
    (pkg / "__init__.py").write_text("from fake_lecture.fake import LECTURE\n")
    (pkg / "fake.py").write_text(FAKE)
    env = register(tmp_path, "fake = fake_lecture:LECTURE", pytester.path)
    run = subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider",
                          "fake_lecture"], env=env, capture_output=True, text=True,
                         timeout=600, cwd=pytester.path)
    out = run.stdout
    assert "fake::true-step PASSED" in out, out + run.stderr
    assert "fake::false-step FAILED" in out
    assert "step fake::false-step FAILS (slide: Slide B)" in out
    assert "claim (LaTeX): \\frac{d}{d x} x^{3} = x^{2}" in out
    assert "residual:      2*x**2" in out


def test_a_lecture_entry_point_that_is_not_a_lecture_is_refused(tmp_path: Path) -> None:
    env = register(tmp_path, "bad = os:path", LECTURES)
    out = symsde(env, "list")
    assert out.returncode != 0
    assert "must name a symsde.registry.Lecture" in out.stderr
