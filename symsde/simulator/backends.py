"""Where the blocks run: this process (threads) or tasks on a Dask cluster.

The Dask backend (:mod:`symsde.simulator.dask_backend`) is imported only when asked for, and
only from here: it uses the block runner, never the public API, so there is no circle.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from symsde.simulator.base import BACKENDS, BlockStats, InvalidSimulationError, SimulationResult
from symsde.simulator.blocks import combine_blocks, run_chunks
from symsde.simulator.plan import SimulationPlan


def _check_backend(backend: Any, client: Any) -> None:
    """Validate ``backend`` and ``client`` before any work (and that Dask is installed)."""
    if backend not in BACKENDS:
        raise InvalidSimulationError(
            f"backend must be one of {', '.join(map(repr, BACKENDS))}, got {backend!r}")
    if backend == "local":
        if client is not None:
            raise InvalidSimulationError(
                "client is used by backend='dask' only; pass backend='dask' to run on it")
        return
    from symsde.simulator.dask_backend import check_client, require_distributed

    require_distributed()  # says how to install the extra
    check_client(client)


def _execute(plan: SimulationPlan, progress: bool, progress_delay: float,
             label: str, backend: str = "local", client: Any = None) -> SimulationResult:
    t0 = time.perf_counter()
    chunks = plan.chunks() if backend == "dask" else plan.thread_chunks()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=plan.n_steps * len(chunks), unit="step", desc=label,
                   delay=progress_delay, leave=False)
    try:
        stats: list[BlockStats] = []
        if backend == "dask":
            from symsde.simulator.dask_backend import run_plan

            final, stats = run_plan(plan, client, progress=bar)
        else:
            final = np.empty((plan.n_paths, plan.d))
            stats = run_chunks(plan, chunks, out=final, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    res = combine_blocks(plan, stats, final=final, seconds=time.perf_counter() - t0)
    if res.diverged:
        warnings.warn(
            f"{res.diverged} of {plan.n_paths} paths diverged (left the finite range; the "
            f"first after step {res.first_diverged_step}); mean and cov use the finite paths "
            "only; try a smaller step size",
            RuntimeWarning, stacklevel=3)
    return res
