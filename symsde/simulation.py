"""The simulator's old import path, kept for users and scripts: see :mod:`symsde.simulator`.

The simulator is the package :mod:`symsde.simulator` (plan, steppers, block runner,
backends, public API); this module re-exports its public names and the few private ones
that tests and benchmarks reach for.
"""

from symsde.simulator import *  # noqa: F403 (the public names, re-exported)
from symsde.simulator import __all__  # noqa: F401
from symsde.simulator.backends import _check_backend, _execute  # noqa: F401
from symsde.simulator.base import (  # noqa: F401
    CHUNK_ELEMENTS,
    DEFAULT_BLOCK_PATHS,
    SCHEME_CHUNK_BYTES,
    _fmt_bytes,
    _initial,
    _int,
    _physical_memory,
    _positive,
)
from symsde.simulator.blocks import _merge  # noqa: F401
from symsde.simulator.steppers import (  # noqa: F401
    _AffineStepper,
    _draw_noise,
    _GeneralStepper,
    _SchemeStepper,
    _SGDStepper,
    _Stepper,
)
