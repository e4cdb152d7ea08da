"""One module per derivation of the lecture notes.

Each module listed in :data:`REGISTRY` defines ``derivation() -> symsde.proof.Derivation``
(and, once the simulator exists, ``confirm(seed)``). The order is the order of the notes.
"""

from __future__ import annotations

#: Module names of the registered derivations, in the order of the notes.
REGISTRY: tuple[str, ...] = (
    "gradient_flow",
    "diffusion",
    "langevin",
    "bayes_posterior",
    "general_sde",
    "sgd_sde",
    "diffusion_flow",
    "modified_equation",
    "lyapunov",
)
