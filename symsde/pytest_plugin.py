"""A pytest plugin that makes every derivation step a test item.

Installed with symsde (entry point ``pytest11``), so ``pytest derivations`` in any
checkout runs the proofs. Items are named ``<derivation>::<step-id>``, e.g.
``langevin::stationary-density``; a failing step reports its claim in LaTeX, the
residual and the slide of the notes.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from symsde.proof import Derivation, StepResult


class StepFailedError(AssertionError):
    """A derivation step did not hold."""

    def __init__(self, result: StepResult) -> None:
        self.result = result
        super().__init__(result.step.id)


def _is_derivation_file(path: Path) -> bool:
    return (
        path.suffix == ".py"
        and path.parent.name == "derivations"
        and not path.name.startswith("_")
        and (path.parent / "__init__.py").exists()
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if _is_derivation_file(file_path):
        return DerivationFile.from_parent(parent, path=file_path)
    return None


def _import(path: Path, config: pytest.Config) -> ModuleType:
    """Import ``derivations/<name>.py`` the way pytest imports test modules.

    With the default ``prepend`` import mode this is ``derivations.<name>`` from the
    checkout being tested, so ``pytest derivations`` checks the proofs of that checkout.
    """
    try:
        from _pytest.pathlib import import_path

        return import_path(path, mode=config.getoption("importmode"), root=config.rootpath,
                           consider_namespace_packages=False)
    except TypeError:  # pragma: no cover - older pytest signatures
        return importlib.import_module(f"derivations.{path.stem}")


class DerivationFile(pytest.File):
    """Collects the steps of ``derivations/<name>.py``."""

    def collect(self) -> Iterator[pytest.Item]:
        module = _import(self.path, self.config)
        build = getattr(module, "derivation", None)
        if build is None:
            return
        deriv = build()
        for step in deriv.steps:
            yield DerivationStep.from_parent(self, name=f"{deriv.name}::{step.id}",
                                             derivation=deriv, step_id=step.id)


class DerivationStep(pytest.Item):
    """One step: passes when its verdict is ``holds`` or ``erratum``."""

    def __init__(self, *, derivation: Derivation, step_id: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.derivation = derivation
        self.step_id = step_id

    def runtest(self) -> None:
        result = self.derivation.verify_step(self.step_id)
        if result.verdict == "fails":
            raise StepFailedError(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, StepFailedError):
            r = excinfo.value.result
            s = r.step
            lines = [
                f"step {self.derivation.name}::{s.id} FAILS (slide: {s.slide})",
                f"  claim (LaTeX): {s.claim.latex()}",
                f"  residual:      {r.residual}",
                f"  check:         {s.check.describe()}",
            ]
            if s.corrected is not None:
                lines.append(f"  corrected:     {s.corrected.latex()}")
                lines.append(f"  corrected residual: {r.corrected_residual}")
            if r.detail:
                lines.append(f"  detail:        {r.detail}")
            return "\n".join(lines)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.derivation.name}::{self.step_id}"
