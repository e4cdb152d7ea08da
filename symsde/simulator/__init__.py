"""Vectorised simulation of SDEs and of SGD on a finite data set.

Design
------
Paths are split into fixed **blocks** of ``block_size`` consecutive paths. Block ``j`` owns
the random stream ``Generator(SFC64(SeedSequence(seed, spawn_key=(j,))))``, and at every
step it draws its ``m`` normal vectors (one per noise dimension, in order) from that
stream alone. A **chunk** is a run of consecutive blocks advanced together in one set of
arrays; the chunk size only changes how wide the vectorised operations are, never which
numbers a path sees, and all arithmetic is element-wise, so results are bit-identical for
every ``chunk_size``.

Statistics are accumulated per block as the run goes (count of finite paths, mean,
centred second moments :math:`M_2`); :func:`combine_blocks` merges blocks with
:func:`math.fsum`, which is exactly rounded and so independent of the order and grouping
of the blocks. :func:`run_blocks` runs one block (or a chunk of consecutive blocks) and
returns its :class:`BlockStats`: that pair is the unit a distributed scheduler can run
as tasks. Memory does not grow with ``n_steps``: only the final states, the per-block
statistics at the recorded times and (when asked) a few whole paths are kept.

The bit generator is SFC64, the fastest of NumPy's generators on the machines measured
(see ``benchmarks/README.md``).

Two steppers are generated from the symbolic SDE:

- a **linear fast path**, when the drift is affine :math:`\\mu = A x + c` (read off
  symbolically by :func:`~symsde.kernels.affine_drift`) and :math:`G` is constant: the step
  is :math:`x \\leftarrow (I + A\\Delta t) x + c\\Delta t + G\\sqrt{\\Delta t}\\,Z`, done
  in place;
- the **general path**: the scheme's whole update, derived from the SDE's Ito-Taylor
  expansion (:mod:`symsde.schemes`: Euler-Maruyama, Milstein, strong order 1.5, weak
  order 2), compiled into one fused in-place kernel (:class:`~symsde.fused.FusedKernel`).

Either stepper runs in one of two ways with the same bits: in-place NumPy ufunc calls,
or (``kernel="numba"``, and ``"auto"`` for large runs) a Numba loop per block that draws
the noise and updates each path in registers, when the update needs only ``+ - * /`` and
``sqrt`` (:mod:`~symsde.simulator.compiled` says why the bits agree).

Threads
-------
``workers`` threads advance chunks at once (NumPy's generators and ufuncs release the
GIL); a chunk owns its buffers and its blocks' streams and writes a disjoint slice of the
output, so the thread count changes nothing in the results.

Layout
------
:mod:`~symsde.simulator.base` (constants, results, validators) <-
:mod:`~symsde.simulator.steppers` (which loads :mod:`~symsde.simulator.compiled`) <-
:mod:`~symsde.simulator.plan` <-
:mod:`~symsde.simulator.blocks` (block runner, combiner) <-
:mod:`~symsde.simulator.backends` (local threads; :mod:`~symsde.simulator.dask_backend`
loaded on demand) <- :mod:`~symsde.simulator.api` (the public functions). Arrows point to
what a module imports; there is no circle (``make lint`` checks it with import-linter).
:mod:`symsde.simulation` and :mod:`symsde.dask_backend` stay as aliases of the old paths.
The package is ``simulator``, not ``simulate``: a subpackage ``symsde.simulate`` would
replace the function :func:`symsde.simulate` as an attribute of :mod:`symsde` once imported.
"""

from symsde.simulator.api import (
    SimulationOptions,
    plan_sgd,
    plan_simulation,
    simulate,
    simulate_sgd,
)
from symsde.simulator.base import (
    BACKENDS,
    BIT_GENERATOR,
    METHODS,
    BlockStats,
    InvalidSimulationError,
    Moments,
    SimulationResult,
    block_generator,
    default_block_size,
)
from symsde.simulator.blocks import combine_blocks, resolve_workers, run_blocks, run_chunks
from symsde.simulator.plan import SimulationPlan

__all__ = [
    "BACKENDS",
    "BIT_GENERATOR",
    "METHODS",
    "BlockStats",
    "InvalidSimulationError",
    "Moments",
    "SimulationOptions",
    "SimulationPlan",
    "SimulationResult",
    "block_generator",
    "combine_blocks",
    "default_block_size",
    "plan_sgd",
    "plan_simulation",
    "resolve_workers",
    "run_blocks",
    "run_chunks",
    "simulate",
    "simulate_sgd",
]
