"""The lecture *Continuous Time Models of SGD*, re-derived: one module per part.

The parts are declared once, in :data:`LECTURE`, in the order of the notes; symsde finds
them through the entry point ``symsde.derivations`` of this project's ``pyproject.toml``.
Each part's module defines ``derivation() -> symsde.proof.Derivation`` and
``confirm(seed) -> symsde.experiment.Experiment``.
"""

from __future__ import annotations

from derivations._catalogue import EQUATIONS, SLIDES
from symsde.registry import Lecture, Part

__all__ = ["LECTURE", "REGISTRY"]

_BEYOND = "Beyond the notes"

#: The lecture's parts, in the order of the notes (the module names are a contract).
LECTURE = Lecture(
    package="derivations",
    title="Continuous Time Models of SGD",
    parts=(
        Part("gradient_flow", "Gradient flow, its Euler step, and SGD as eta -> 0"),
        Part("diffusion", "Discrete diffusion and the diffusion SDE"),
        Part("langevin", "The Langevin SDE and its stationary distribution"),
        Part("bayes_posterior", "A Bayesian interpretation of Langevin dynamics"),
        Part("general_sde", "A general SDE: Euler form and differential form"),
        Part("sgd_sde", "The SGD SDE and its (non-)Gibbs stationary densities"),
        Part("diffusion_flow", "Appendix: the diffusion flow and alpha = 1/2"),
        Part("modified_equation", "Stochastic modified equations of SGD (Li, Tai & E 2017)",
             section=_BEYOND),
        Part("lyapunov", "SGD near a minimum: Lyapunov covariance, Bayesian learning rate, "
                         "stationary current", section=_BEYOND),
    ),
    equations=EQUATIONS,
    slides=SLIDES,
)

#: The part names in order (kept for scripts that read it).
REGISTRY: tuple[str, ...] = tuple(p.name for p in LECTURE.parts)
