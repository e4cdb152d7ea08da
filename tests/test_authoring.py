"""docs/AUTHORING.md, followed once: a toy derivation added to a copy of the project.

The copy gets a module, one registration line, one table-of-contents line and a chapter;
then the consistency check, ``symsde verify`` and the pytest plugin must all pick it up,
and nothing else in the copy may have changed (three files plus a chapter).
"""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

MODULE = textwrap.dedent('''
    """A toy part: the derivative of a cube, and sample means of cubes of normals."""

    from __future__ import annotations

    from functools import cache

    import numpy as np
    import sympy as sp

    from symsde.stattests import mean_test
    from symsde.experiment import Experiment
    from symsde.linear import sub_seed
    from symsde.proof import Claim, Computed, Derivation, FollowsFrom, MultiplyBoth

    __all__ = ["confirm", "derivation"]

    SLIDE = "Beyond the notes: a toy"


    @cache
    def derivation() -> Derivation:
        x = sp.Symbol("x", real=True)
        c = sp.Symbol("c", positive=True)
        d = Derivation("toy_cube", "A toy: the derivative of a cube")
        d.step("derivative", Claim(sp.Derivative(x**3, x), 3 * x**2),
               "The power rule.", slide=SLIDE, check=Computed())
        d.step("scaled", Claim(c * sp.Derivative(x**3, x), 3 * c * x**2),
               "Multiply both sides by c.", slide=SLIDE, check=FollowsFrom(MultiplyBoth(c)))
        return d


    def confirm(seed: int = 0) -> Experiment:
        """E[Z^3] = 0 for a standard normal Z (and not 1)."""
        z = np.random.default_rng(sub_seed(seed, 1)).standard_normal(20_000) ** 3
        exp = Experiment("toy_cube", "Cubes of standard normals have mean 0", seed)
        exp.predict("E[Z^3] = 0", mean_test(z, 0.0))
        exp.reject("E[Z^3] = 1", mean_test(z, 1.0))
        return exp
''')

CHAPTER = textwrap.dedent('''
    ---
    jupytext:
      text_representation:
        extension: .md
        format_name: myst
    kernelspec:
      display_name: Python 3
      language: python
      name: python3
    ---

    # A toy: the derivative of a cube

    ```{code-cell} ipython3
    :tags: [remove-input]

    from symsde.book import show_experiment, show_steps

    show_steps("toy_cube")
    show_experiment("toy_cube")
    ```
''').lstrip()

REGISTRATION = '        Part("toy_cube", "A toy: the derivative of a cube", section=_BEYOND),\n'


def follow_the_checklist(dst: Path) -> None:
    """What docs/AUTHORING.md tells a newcomer to do, done by a script."""
    (dst / "derivations" / "toy_cube.py").write_text(MODULE.lstrip())
    init = dst / "derivations" / "__init__.py"
    text = init.read_text()
    end = "    ),\n    equations=EQUATIONS,"
    assert text.count(end) == 1, "the registration's closing lines moved; update this test"
    init.write_text(text.replace(end, REGISTRATION + end))
    toc = dst / "book" / "_toc.yml"
    last = "      - file: chapters/lyapunov\n"
    assert toc.read_text().count(last) == 1
    toc.write_text(toc.read_text().replace(last, last + "      - file: chapters/toy_cube\n"))
    (dst / "book" / "chapters" / "toy_cube.md").write_text(CHAPTER)


def changed_files(a: Path, b: Path, rel: Path = Path()) -> list[str]:
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__", "_build"])
    out = [str(rel / n) for n in cmp.diff_files + cmp.left_only + cmp.right_only]
    for sub in cmp.common_dirs:
        out += changed_files(a / sub, b / sub, rel / sub)
    return sorted(out)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("authoring") / "project"
    dst.mkdir()
    for folder in ("derivations", "book"):
        shutil.copytree(ROOT / folder, dst / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "_build"))
    follow_the_checklist(dst)
    return dst


def run(dst: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(dst))  # the copy's derivations, not this checkout's
    return subprocess.run([sys.executable, *args], cwd=dst, env=env, capture_output=True,
                          text=True, timeout=600)


def test_three_files_and_a_chapter(project: Path) -> None:
    assert sorted(changed_files(ROOT / "derivations", project / "derivations",
                                Path("derivations"))
                  + changed_files(ROOT / "book", project / "book", Path("book"))) == [
        "book/_toc.yml", "book/chapters/toy_cube.md", "derivations/__init__.py",
        "derivations/toy_cube.py"]


def test_the_copy_is_consistent(project: Path) -> None:
    code = ("import derivations, sys; from symsde.contents import problems; "
            "assert derivations.__file__.startswith(sys.argv[1]), derivations.__file__; "
            "print(problems(sys.argv[1] + '/book', [derivations.LECTURE], "
            "package_dir=sys.argv[1] + '/derivations'))")
    out = run(project, "-c", code, str(project))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_verify_finds_the_toy(project: Path) -> None:
    listed = run(project, "-m", "symsde.cli", "list")
    assert listed.returncode == 0, listed.stderr
    assert "toy_cube" in listed.stdout and "langevin" in listed.stdout
    out = run(project, "-m", "symsde.cli", "verify", "toy_cube")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "predicts: E[Z^3] = 0" in out.stdout and "rejects: E[Z^3] = 1" in out.stdout


def test_the_plugin_collects_the_toy(project: Path) -> None:
    out = run(project, "-m", "pytest", "-v", "-p", "no:cacheprovider", "--rootdir",
              str(project), "-o", "addopts=", str(project / "derivations" / "toy_cube.py"))
    assert "toy_cube::derivative PASSED" in out.stdout, out.stdout + out.stderr
    assert "toy_cube::scaled PASSED" in out.stdout
    assert out.returncode == 0


def test_a_half_registered_toy_is_reported(tmp_path: Path) -> None:
    """Without its table-of-contents line the copy names the file to fix."""
    dst = tmp_path / "project"
    dst.mkdir()
    for folder in ("derivations", "book"):
        shutil.copytree(ROOT / folder, dst / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "_build"))
    follow_the_checklist(dst)
    toc = dst / "book" / "_toc.yml"
    toc.write_text(toc.read_text().replace("      - file: chapters/toy_cube\n", ""))
    code = ("import derivations, sys; from symsde.contents import problems; "
            "print(*problems(sys.argv[1] + '/book', [derivations.LECTURE], "
            "package_dir=sys.argv[1] + '/derivations'), sep='\\n')")
    out = run(dst, "-c", code, str(dst))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == (f"{toc}: add '- file: chapters/toy_cube' under the caption "
                                  "'Beyond the notes'")
