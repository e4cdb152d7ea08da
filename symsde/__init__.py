"""symsde: machine-checked symbolic derivations for continuous-time models of SGD.

The public surface:

- :class:`SDE`: an Ito SDE with its generator, Fokker-Planck operator and current;
- :func:`stationary_density`: zero-current and Gaussian stationary densities;
- :func:`moment_equations`: means, covariances and moment ODEs as functions of time;
- :func:`transition_density`: Gaussian, log-normal and CIR transition densities, checked;
- :func:`ito_lemma`: the SDE of a function of the state;
- :func:`simulate`, :func:`simulate_sgd`: vectorised simulation (:mod:`symsde.confirm`
  compares the samples with symbolic predictions);
- :mod:`symsde.proof`: the proof kernel (steps, checks, numeric witnesses, verdicts).
"""

from __future__ import annotations

from symsde.boundaries import Boundary as Boundary
from symsde.ito import ItoDifferential as ItoDifferential
from symsde.ito import ito_lemma as ito_lemma
from symsde.moments import MomentEquations as MomentEquations
from symsde.moments import moment_equations as moment_equations
from symsde.sde import SDE as SDE
from symsde.simulation import SimulationResult as SimulationResult
from symsde.simulation import simulate as simulate
from symsde.simulation import simulate_sgd as simulate_sgd
from symsde.stationary import StationaryDensity as StationaryDensity
from symsde.stationary import stationary_density as stationary_density
from symsde.transition import TransitionDensity as TransitionDensity
from symsde.transition import transition_density as transition_density

__version__ = "0.1.0"

__all__ = ["SDE", "Boundary", "ItoDifferential", "MomentEquations", "SimulationResult",
           "StationaryDensity", "TransitionDensity", "__version__", "ito_lemma",
           "moment_equations", "simulate", "simulate_sgd", "stationary_density",
           "transition_density"]
