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
        Part("gradient_flow", "Gradient flow, its Euler step, and SGD as eta -> 0",
             summary=r"the ODE $d\Phi/dt = -g(\Phi)$, its Euler step, and why SGD with a "
                     "vanishing learning rate follows it;"),
        Part("diffusion", "Discrete diffusion and the diffusion SDE",
             summary="Gaussian kicks whose variance grows linearly in time, and the "
                     "diffusion SDE;"),
        Part("langevin", "The Langevin SDE and its stationary distribution",
             summary=r"gradient flow plus noise, and its stationary density "
                     r"$e^{-2\mathcal{L}/\sigma^2}/Z$;"),
        Part("bayes_posterior", "A Bayesian interpretation of Langevin dynamics",
             summary=r"that density as a Bayesian posterior, at $\sigma^2 = 2/n$;"),
        Part("general_sde", "A general SDE: Euler form and differential form",
             summary="the Euler form and the differential form of an SDE, and Ito's lemma;"),
        Part("sgd_sde", "The SGD SDE and its (non-)Gibbs stationary densities",
             summary="the SDE of SGD itself, the learning rate as a temperature, and a "
                     "stationary density that is not Gibbs;"),
        Part("diffusion_flow", "Appendix: the diffusion flow and alpha = 1/2",
             summary=r"the appendix, deriving the diffusion flow $-\tfrac12\sigma^2p'$ by "
                     "counting mass."),
        Part("modified_equation", "Stochastic modified equations of SGD (Li, Tai & E 2017)",
             section=_BEYOND,
             summary="how accurate the SGD SDE is, and the second-order equation that "
                     "improves on it;"),
        Part("lyapunov", "SGD near a minimum: Lyapunov covariance, Bayesian learning rate, "
                         "stationary current", section=_BEYOND,
             summary="SGD near a minimum: the Lyapunov covariance, the learning rate that "
                     "samples the posterior, and stationary currents that circulate."),
    ),
    equations=EQUATIONS,
    slides=SLIDES,
)

#: The part names in order (kept for scripts that read it).
REGISTRY: tuple[str, ...] = tuple(p.name for p in LECTURE.parts)
