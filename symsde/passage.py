"""First-passage times of one-dimensional SDEs, with the Brownian-bridge correction.

Paths are the simulator's (:func:`symsde.simulate` with the same seed, block size and
method sees the same paths). Between two grid points :math:`x_n, x_{n+1}` on the same
side of a level :math:`b`, the path may still have crossed; for a Brownian motion with
drift and diffusion frozen at :math:`\\sigma = \\sigma(t_n, x_n)`, conditioned on its two
end points (a Brownian bridge), that happened with probability

.. math::
    p = \\exp\\Big(-\\frac{2 (b - x_n)(b - x_{n+1})}{\\sigma^2 \\Delta t}\\Big)

(the reflection principle; e.g. Glasserman, *Monte Carlo Methods in Financial
Engineering*, 2004, section 6.4; Gobet 2000). A uniform draw decides, from a stream of
its own per block (``SeedSequence(seed, spawn_key=(block, 1))``), so the paths are not
disturbed. Without the correction, passage times are biased late by order
:math:`\\sqrt{\\Delta t}`; with it, for Brownian motion with drift the crossing events are
exact and the only error is where in the step the crossing is put (the step's midpoint).

For a pair of levels (an exit time from an interval) the two crossing probabilities are
combined as independent, :math:`1 - (1 - p_{lo})(1 - p_{hi})`, which neglects paths that
touch both levels within one step.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from symsde.sde import SDE
from symsde.simulator import (
    InvalidSimulationError,
    SimulationPlan,
    block_generator,
    plan_simulation,
)
from symsde.simulator.base import _positive

__all__ = ["FirstPassageResult", "first_passage_time"]


@dataclass
class FirstPassageResult:
    """First-passage times of ``n_paths`` paths.

    Attributes
    ----------
    times : ndarray, shape (n_paths,)
        The first time each path reached the boundary; ``inf`` when it did not by ``t_max``.
    boundary : tuple of float
        ``(lower, upper)``; ``-inf`` / ``inf`` for a missing side.
    dt, t_max : float
    bridge : bool
        Whether the Brownian-bridge correction was applied.
    """

    times: np.ndarray
    boundary: tuple[float, float]
    dt: float
    t_max: float
    n_paths: int
    seed: int
    bridge: bool

    @property
    def reached(self) -> int:
        """Number of paths that reached the boundary by ``t_max``."""
        return int(np.isfinite(self.times).sum())


def _levels(boundary: Any, x0: float) -> tuple[float, float]:
    if isinstance(boundary, (int, float, np.integer, np.floating, sp.Number)):
        b = float(boundary)
        if not math.isfinite(b):
            raise InvalidSimulationError(f"boundary must be finite, got {boundary!r}")
        if b == x0:
            raise InvalidSimulationError(
                f"boundary {b} equals x0; the passage time would be 0: start off the level")
        return (-math.inf, b) if b > x0 else (b, math.inf)
    try:
        lo, hi = (float(v) for v in boundary)
    except (TypeError, ValueError):
        raise InvalidSimulationError(
            f"boundary must be a level or a pair (lower, upper), got {boundary!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < x0 < hi):
        raise InvalidSimulationError(
            f"boundary ({lo}, {hi}) must be finite with lower < x0 = {x0} < upper")
    return lo, hi


def first_passage_time(
    sde: SDE,
    x0: float,
    boundary: float | Sequence[float],
    dt: float = 0.01,
    n_paths: int = 10_000,
    seed: int = 0,
    t_max: float = 10.0,
    *,
    params: Mapping[Any, Any] | None = None,
    method: str = "euler",
    bridge: bool = True,
    workers: int | None = None,
    block_size: int | None = None,
) -> FirstPassageResult:
    """First time each path of a one-dimensional SDE reaches a level (or leaves an interval).

    Parameters
    ----------
    sde : SDE
        A one-dimensional SDE (any number of noises).
    x0 : float
        The starting point.
    boundary : float or (float, float)
        A level (reached from below when above ``x0``, from above when below) or an
        interval ``(lower, upper)`` around ``x0`` (the exit time).
    dt, n_paths, seed
        As in :func:`symsde.simulate`.
    t_max : float
        Paths still inside at ``t_max`` get ``inf``.
    params, method, workers, block_size
        As in :func:`symsde.simulate`.
    bridge : bool
        Apply the Brownian-bridge crossing correction (default on).

    Returns
    -------
    FirstPassageResult

    Examples
    --------
    Brownian motion with drift 1 from 0 to the level 1: the mean passage time is 1 (Wald).

    >>> import sympy as sp
    >>> from symsde import SDE
    >>> x = sp.Symbol("x", real=True)
    >>> fpt = first_passage_time(SDE([x], [1], 1), 0.0, 1.0, dt=0.01, n_paths=4000,
    ...                          seed=1, t_max=20.0)
    >>> fpt.reached, bool(abs(fpt.times.mean() - 1.0) < 0.05)
    (4000, True)
    """
    if not isinstance(sde, SDE) or sde.dim != 1:
        raise InvalidSimulationError(
            "first_passage_time takes a one-dimensional SDE (one state variable)")
    try:
        x0f = float(x0)
    except (TypeError, ValueError):
        raise InvalidSimulationError(f"x0 must be a number, got {x0!r}") from None
    if not math.isfinite(x0f):
        raise InvalidSimulationError(f"x0 must be finite, got {x0!r}")
    lo, hi = _levels(boundary, x0f)
    dt = _positive(dt, "dt")
    t_max = _positive(t_max, "t_max")
    n_steps = math.floor(t_max / dt + 1e-9)  # the last step ends at or before t_max
    if n_steps < 1:
        raise InvalidSimulationError(f"t_max = {t_max} is shorter than one step dt = {dt}")
    plan = plan_simulation(sde, x0f, dt=dt, n_steps=n_steps, n_paths=n_paths, seed=seed,
                           method=method, params=params, workers=workers,
                           block_size=block_size)
    from symsde.fused import FusedKernel
    from symsde.kernels import numeric_values

    values = numeric_values(params, sde.parameters, what="the SDE")
    G = sde.diffusion.xreplace(values) if values else sde.diffusion
    var = FusedKernel([sum((g**2 for g in G), sp.Integer(0))], [sde.state[0]],
                      [sde.time] if sde.time is not None else [])
    times = np.full(plan.n_paths, np.inf)
    chunks = plan.thread_chunks()

    stop = threading.Event()

    def run(blocks: list[int]) -> None:
        _passage_chunk(plan, blocks, times, lo, hi, var, bridge, stop)

    if plan.workers > 1 and len(chunks) > 1:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=min(plan.workers, len(chunks)))
        try:
            for f in [pool.submit(run, c) for c in chunks]:
                f.result()
        except BaseException:
            stop.set()  # an interrupt: the other threads end at their next step
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        for c in chunks:
            run(c)
    return FirstPassageResult(times=times, boundary=(lo, hi), dt=dt, t_max=t_max,
                              n_paths=plan.n_paths, seed=plan.seed, bridge=bridge)


def _passage_chunk(plan: SimulationPlan, blocks: list[int], times: np.ndarray, lo: float,
                   hi: float, var: Any, bridge: bool, stop: threading.Event) -> None:
    a, _ = plan.block_range(blocks[0])
    _, b = plan.block_range(blocks[-1])
    nc, st, dt = b - a, plan.stepper, plan.dt
    X = np.empty((1, nc))
    X[:] = plan.x0[a:b].T if plan.x0.ndim == 2 else plan.x0[:, None]
    gens, ugens = [], []
    for j in blocks:
        s, e = plan.block_range(j)
        gens.append((block_generator(plan.seed, j), s - a, e - a))
        ugens.append((np.random.Generator(np.random.SFC64(
            np.random.SeedSequence(plan.seed, spawn_key=(j, 1)))), s - a, e - a))
    ws = st.workspace(nc)
    T = times[a:b]
    prev, s2, p, q, U = (np.empty(nc) for _ in range(5))
    hit = np.empty(nc, dtype=bool)
    vbuf = var.buffers(nc)
    has_time = bool(getattr(st, "has_time", False))
    with np.errstate(all="ignore"):
        for step in range(plan.n_steps):
            if stop.is_set():
                return
            t = step * dt
            np.copyto(prev, X[0])
            X = st.advance(X, ws, gens, t)
            x = X[0]
            np.greater_equal(x, hi, out=hit)
            hit |= x <= lo
            if bridge:
                var([prev], (t,) if has_time else (), [s2], vbuf)
                s2 *= dt
                p.fill(0.0)
                for level in (lo, hi):
                    if not math.isfinite(level):
                        continue
                    # p_level = exp(-2 (level - x_n)(level - x_{n+1}) / (sigma^2 dt))
                    np.subtract(level, prev, out=q)
                    np.subtract(level, x, out=U)
                    q *= U
                    q *= -2.0
                    q /= s2
                    np.exp(q, out=q)
                    # combine as independent: p = 1 - (1 - p)(1 - q)
                    np.subtract(1.0, p, out=p)
                    np.subtract(1.0, q, out=q)
                    p *= q
                    np.subtract(1.0, p, out=p)
                for gen, s, e in ugens:
                    gen.random(out=U[s:e])
                hit |= p > U
            # first crossings only, placed at the step's midpoint
            new = hit & np.isinf(T)
            if new.any():
                T[new] = t + 0.5 * dt
            if step % 64 == 63 and np.isfinite(T).all():
                break
