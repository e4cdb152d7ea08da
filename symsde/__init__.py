"""symsde: machine-checked symbolic derivations for continuous-time models of SGD.

The public surface:

- :class:`SDE`: an Ito SDE with its generator, Fokker-Planck operator and current;
- :func:`stationary_density`: zero-current and Gaussian stationary densities;
- :func:`ito_lemma`: the SDE of a function of the state;
- :func:`simulate`, :func:`simulate_sgd`: vectorised simulation on all cores, with schemes
  derived from the SDE (:mod:`symsde.schemes`; :mod:`symsde.confirm` compares the samples
  with symbolic predictions);
- :func:`first_passage_time`: first-passage times with the Brownian-bridge correction;
- :mod:`symsde.proof`: the proof kernel (steps, checks, numeric witnesses, verdicts).
"""

from __future__ import annotations

from symsde.ito import ItoDifferential as ItoDifferential
from symsde.ito import ito_lemma as ito_lemma
from symsde.passage import FirstPassageResult as FirstPassageResult
from symsde.passage import first_passage_time as first_passage_time
from symsde.sde import SDE as SDE
from symsde.simulation import SimulationResult as SimulationResult
from symsde.simulation import simulate as simulate
from symsde.simulation import simulate_sgd as simulate_sgd
from symsde.stationary import StationaryDensity as StationaryDensity
from symsde.stationary import stationary_density as stationary_density

__version__ = "0.1.0"

__all__ = ["SDE", "FirstPassageResult", "ItoDifferential", "SimulationResult",
           "StationaryDensity", "__version__", "first_passage_time", "ito_lemma", "simulate",
           "simulate_sgd", "stationary_density"]
