"""Old import path of :mod:`symsde.proof.mutation` (kept for users' scripts)."""

from symsde.proof.mutation import *  # noqa: F403
from symsde.proof.mutation import __all__  # noqa: F401
