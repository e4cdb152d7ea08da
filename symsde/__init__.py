"""symsde: machine-checked symbolic derivations for continuous-time models of SGD.

The public surface:

- :class:`SDE`: an Ito SDE with its generator, Fokker-Planck operator and current;
- :func:`stationary_density`: zero-current and Gaussian stationary densities;
- :func:`moment_equations`: means, covariances and moment ODEs as functions of time;
- :func:`transition_density`: Gaussian, log-normal and CIR transition densities, checked;
- :func:`ito_lemma`: the SDE of a function of the state;
- :func:`simulate`, :func:`simulate_sgd`: vectorised simulation on all cores (one name per
  idea in both: ``n_paths``, ``x0``, ``n_steps``, ``seed``; run options in one
  :class:`SimulationOptions`), with schemes derived from the SDE (:mod:`symsde.schemes`;
  :mod:`symsde.stattests` compares the samples with symbolic predictions);
- :func:`first_passage_time`: first-passage times with the Brownian-bridge correction;
- :mod:`symsde.proof`: the proof kernel (steps, checks, numeric witnesses, verdicts).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from symsde.boundaries import Boundary as Boundary
    from symsde.ito import ItoDifferential as ItoDifferential
    from symsde.ito import ito_lemma as ito_lemma
    from symsde.moments import MomentEquations as MomentEquations
    from symsde.moments import moment_equations as moment_equations
    from symsde.passage import FirstPassageResult as FirstPassageResult
    from symsde.passage import first_passage_time as first_passage_time
    from symsde.sde import SDE as SDE
    from symsde.simulator import SimulationOptions as SimulationOptions
    from symsde.simulator import SimulationResult as SimulationResult
    from symsde.simulator import simulate as simulate
    from symsde.simulator import simulate_sgd as simulate_sgd
    from symsde.stationary import StationaryDensity as StationaryDensity
    from symsde.stationary import stationary_density as stationary_density
    from symsde.transition import TransitionDensity as TransitionDensity
    from symsde.transition import transition_density as transition_density

# The public names are imported on first use, so that ``import symsde.cli`` (the console
# script) is quick and a Ctrl-C while SymPy loads reaches the command line's handler.
_EXPORTS = {
    "ItoDifferential": "symsde.ito", "ito_lemma": "symsde.ito", "SDE": "symsde.sde",
    "SimulationOptions": "symsde.simulator", "SimulationResult": "symsde.simulator",
    "simulate": "symsde.simulator",
    "simulate_sgd": "symsde.simulator", "StationaryDensity": "symsde.stationary",
    "stationary_density": "symsde.stationary",
    "FirstPassageResult": "symsde.passage", "first_passage_time": "symsde.passage",
    "Boundary": "symsde.boundaries", "MomentEquations": "symsde.moments",
    "moment_equations": "symsde.moments", "TransitionDensity": "symsde.transition",
    "transition_density": "symsde.transition",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'symsde' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__version__ = "0.1.0"

__all__ = ["SDE", "Boundary", "FirstPassageResult", "ItoDifferential", "MomentEquations",
           "SimulationOptions", "SimulationResult", "StationaryDensity", "TransitionDensity",
           "__version__", "first_passage_time", "ito_lemma", "moment_equations", "simulate",
           "simulate_sgd", "stationary_density", "transition_density"]
