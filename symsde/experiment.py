"""Experiments that confirm a derivation's results by simulation.

"Confirm" has one meaning in symsde: each derivation module defines
``confirm(seed: int = 0) -> Experiment``, the experiment that confirms the derivation. It
runs the simulator on models built from the derivation's own SymPy objects, compares the
samples with the derivation's results by the tests of :mod:`symsde.stattests`, and returns

- ``predictions``: the derivation's predictions with their tests, each of which must pass
  (recorded by :meth:`Experiment.predict`);
- ``wrong_predictions``: the same tests fed a *wrong* prediction (for instance the notes'
  erratum), each of which must be rejected, showing that the test can tell the
  difference: its power (recorded by :meth:`Experiment.reject`);
- ``data``: arrays for the book's figures (histograms, curves, slopes).

The old names (``Experiment.confirm``, ``confirmations``, ``power``) still work, with a
:class:`DeprecationWarning`.

Examples
--------
>>> import numpy as np
>>> from symsde.stattests import mean_test
>>> x = np.random.default_rng(0).standard_normal(4000)
>>> exp = Experiment("toy", "A standard normal", seed=0)
>>> r = exp.predict("E[X] = 0", mean_test(x, 0.0))
>>> r = exp.reject("E[X] = 1/2", mean_test(x, 0.5))
>>> exp.ok, len(exp.predictions), len(exp.wrong_predictions)
(True, 1, 1)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from symsde.stattests import StatTestResult

__all__ = ["Experiment", "Trial"]


@dataclass(frozen=True)
class Trial:
    """One comparison: what is claimed, and the statistical test's outcome.

    ``expect`` says whether the claim should pass (True: a prediction) or is a wrong
    prediction that the test must reject (False: a power check); pages show the two
    differently.
    """

    claim: str
    result: StatTestResult
    expect: bool = True

    @property
    def as_expected(self) -> bool:
        """The test passed a prediction, or rejected a wrong one."""
        return bool(self.result.verdict) == self.expect

    def to_dict(self) -> dict[str, Any]:
        return {"claim": self.claim, **self.result.to_dict()}


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"Experiment.{old} is deprecated: use Experiment.{new}", DeprecationWarning,
                  stacklevel=3)


@dataclass
class Experiment:
    """The outcome of a derivation's ``confirm(seed)``.

    Attributes
    ----------
    derivation : str
        The part's name (the derivation module's name).
    title : str
        What the experiment simulates, for people.
    seed : int
        The seed the experiment ran with; the outcome is a function of it.
    predictions : list of Trial
        The derivation's predictions and their tests (each must pass).
    wrong_predictions : list of Trial
        Wrong predictions fed to the same tests (each must be rejected).
    data : dict
        Arrays for the book's figures.
    seconds : float
        Wall time of the run (set by the caller that timed it).
    """

    derivation: str
    title: str
    seed: int
    predictions: list[Trial] = field(default_factory=list)
    wrong_predictions: list[Trial] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def predict(self, claim: str, result: StatTestResult) -> StatTestResult:
        """Record a prediction of the derivation and its test, which must pass."""
        self.predictions.append(Trial(claim, result, expect=True))
        return result

    def reject(self, claim: str, result: StatTestResult) -> StatTestResult:
        """Record a wrong prediction and its test, which must reject it (a power check)."""
        self.wrong_predictions.append(Trial(claim, result, expect=False))
        return result

    @property
    def trials(self) -> list[Trial]:
        """The predictions, then the wrong predictions, each with its ``expect``."""
        return [*self.predictions, *self.wrong_predictions]

    @property
    def ok(self) -> bool:
        """At least one prediction, all predictions pass, every wrong prediction rejected."""
        return bool(self.predictions) and all(t.as_expected for t in self.trials)

    # -- deprecated names (kept for users' scripts) ----------------------------------------
    def confirm(self, claim: str, result: StatTestResult) -> StatTestResult:
        """Deprecated name of :meth:`predict`."""
        _deprecated("confirm()", "predict()")
        return self.predict(claim, result)

    @property
    def confirmations(self) -> list[Trial]:
        """Deprecated name of :attr:`predictions`."""
        _deprecated("confirmations", "predictions")
        return self.predictions

    @property
    def power(self) -> list[Trial]:
        """Deprecated name of :attr:`wrong_predictions`."""
        _deprecated("power", "wrong_predictions")
        return self.wrong_predictions

    def to_dict(self) -> dict[str, Any]:
        return {
            "derivation": self.derivation,
            "title": self.title,
            "seed": self.seed,
            "ok": self.ok,
            "predictions": [t.to_dict() for t in self.predictions],
            "wrong_predictions": [t.to_dict() for t in self.wrong_predictions],
            "seconds": round(self.seconds, 3),
        }
