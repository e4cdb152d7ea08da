"""The Dask backend's old import path, kept for users: see :mod:`symsde.simulator.dask_backend`."""

from symsde.simulator.dask_backend import *  # noqa: F403 (the public names, re-exported)
from symsde.simulator.dask_backend import _LOCAL, __all__, _address  # noqa: F401
