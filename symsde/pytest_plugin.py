"""A pytest plugin that makes every derivation step a test item.

Installed with symsde (entry point ``pytest11``). The parts of every lecture registered in
the entry-point group ``symsde.derivations`` are collected from their source files, so
``pytest derivations`` in this checkout (or ``pytest <your lecture>``) runs the proofs.
Items are named ``<derivation>::<step-id>``, e.g.
``langevin::stationary-density``; a failing step reports its claim in LaTeX, the
residual and the slide of the notes.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from symsde.proof import Derivation, StepResult


class StepFailedError(AssertionError):
    """A derivation step did not hold."""

    def __init__(self, result: StepResult) -> None:
        self.result = result
        super().__init__(result.step.id)


@functools.cache
def _part_files() -> dict[Path, str]:
    """Source file -> part name, for every part of every registered lecture."""
    from symsde import registry

    out: dict[Path, str] = {}
    for lec in registry.lectures():
        for p in lec.parts:
            spec = importlib.util.find_spec(lec.module_name(p))
            if spec is not None and spec.origin:
                out[Path(spec.origin).resolve()] = p.name
    return out


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    name = _part_files().get(file_path.resolve()) if file_path.suffix == ".py" else None
    if name is not None:
        return DerivationFile.from_parent(parent, path=file_path, part=name)
    return None


class DerivationFile(pytest.File):
    """Collects the steps of one registered part's module."""

    def __init__(self, *, part: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.part = part

    def collect(self) -> Iterator[pytest.Item]:
        from symsde import registry

        (deriv,) = registry.load([self.part])
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
