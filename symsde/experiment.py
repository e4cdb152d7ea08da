"""Experiments that confirm a derivation's results by simulation.

Each derivation module defines ``confirm(seed: int = 0) -> Experiment``. An experiment
runs the simulator on models built from the derivation's own SymPy objects and returns

- ``confirmations``: statistical comparisons of the samples with the derivation's
  predictions, each of which must pass;
- ``power``: the same tests fed a *wrong* prediction (for instance the notes' erratum),
  each of which must be rejected, showing the test can tell the difference;
- ``data``: arrays for the book's figures (histograms, curves, slopes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from symsde.confirm import Confirmation

__all__ = ["Experiment", "Trial"]


@dataclass(frozen=True)
class Trial:
    """One comparison: what is claimed, and the statistical test's outcome.

    ``expect`` says whether the claim should pass (True) or is a wrong prediction that the
    test must reject (False: a power check); pages show the two differently.
    """

    claim: str
    result: Confirmation
    expect: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"claim": self.claim, **self.result.to_dict()}


@dataclass
class Experiment:
    """The outcome of a derivation's ``confirm(seed)``."""

    derivation: str
    title: str
    seed: int
    confirmations: list[Trial] = field(default_factory=list)
    power: list[Trial] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def confirm(self, claim: str, result: Confirmation) -> Confirmation:
        """Record a comparison with a prediction that must pass."""
        self.confirmations.append(Trial(claim, result))
        return result

    def reject(self, claim: str, result: Confirmation) -> Confirmation:
        """Record a comparison with a wrong prediction that must be rejected."""
        self.power.append(Trial(claim, result))
        return result

    @property
    def ok(self) -> bool:
        """All predictions confirmed and every wrong prediction rejected."""
        return (bool(self.confirmations)
                and all(t.result.verdict for t in self.confirmations)
                and all(not t.result.verdict for t in self.power))

    def to_dict(self) -> dict[str, Any]:
        return {
            "derivation": self.derivation,
            "title": self.title,
            "seed": self.seed,
            "ok": self.ok,
            "confirmations": [t.to_dict() for t in self.confirmations],
            "power": [t.to_dict() for t in self.power],
            "seconds": round(self.seconds, 3),
        }
