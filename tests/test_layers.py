"""The layers of issue 11, enforced: symsde never imports a lecture; no import circle.

``make lint`` runs ``lint-imports`` with the contracts in ``pyproject.toml``. Here the
contracts are run on this checkout (they hold) and on a copy with one forbidden import
added (they must fail, naming it), so the check is shown to be able to fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    pytest.importorskip("importlinter")  # the dev extra (make lint installs it)
    env = dict(os.environ, PYTHONPATH=str(cwd))
    code = "import sys; from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run([sys.executable, "-c", code, "--no-cache"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def copy_project(tmp: Path) -> Path:
    dst = tmp / "project"
    dst.mkdir()
    shutil.copy(ROOT / "pyproject.toml", dst)
    ignore = shutil.ignore_patterns("__pycache__")
    for pkg in ("symsde", "derivations"):
        shutil.copytree(ROOT / pkg, dst / pkg, ignore=ignore)
    return dst


def test_the_contracts_hold_on_this_checkout(tmp_path: Path) -> None:
    run = lint_imports(copy_project(tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Contracts: 3 kept, 0 broken." in run.stdout


def test_symsde_importing_the_lecture_breaks_the_layers(tmp_path: Path) -> None:
    dst = copy_project(tmp_path)
    with (dst / "symsde" / "errors.py").open("a") as fh:
        fh.write("\nfrom derivations import LECTURE  # noqa: E402,F401\n")
    run = lint_imports(dst)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "symsde finds lectures through the registry, never by importing one BROKEN" \
        in run.stdout
    assert "symsde.errors -> derivations" in run.stdout


def test_a_new_import_circle_in_symsde_is_refused(tmp_path: Path) -> None:
    dst = copy_project(tmp_path)
    # symsde.sde is imported by the simulator; an import back makes a circle
    with (dst / "symsde" / "sde.py").open("a") as fh:
        fh.write("\nimport symsde.simulator  # noqa: E402,F401\n")
    run = lint_imports(dst)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "No import circle inside symsde (between siblings, at every depth) BROKEN" \
        in run.stdout
