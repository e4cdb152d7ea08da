"""The block runner and the combiner: blocks of paths run, their statistics merged.

See the notes of :mod:`symsde.simulator` for why results do not depend on how blocks are
grouped into chunks or threads.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from symsde.simulator.base import (
    BlockStats,
    InvalidSimulationError,
    Moments,
    SimulationResult,
    _int,
    block_generator,
)
from symsde.simulator.plan import SimulationPlan


def _block_moments(Xb: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    d = Xb.shape[0]
    finite = np.isfinite(Xb).all(axis=0)
    if not finite.all():
        Xb = Xb[:, finite]
    n = Xb.shape[1]
    if n == 0:
        return 0, np.zeros(d), np.zeros((d, d))
    # finite paths far apart (beyond 1e154) overflow the sums of squares: inf or nan, which
    # the result then shows
    with np.errstate(over="ignore", invalid="ignore"):
        mean = np.array([np.add.reduce(Xb[i]) for i in range(d)]) / n
        C = Xb - mean[:, None]
        m2 = np.empty((d, d))
        for i in range(d):
            for j in range(i, d):
                m2[i, j] = m2[j, i] = np.add.reduce(C[i] * C[j])
    return n, mean, m2


#: Steps a compiled step runs per call (between two checks for an interrupt).
SEGMENT_STEPS = 64


class _StoppedError(Exception):
    """Raised in a worker thread when the run was abandoned (an interrupt in the caller)."""


def run_blocks(plan: SimulationPlan, blocks: Sequence[int], out: np.ndarray | None = None,
               progress: Any = None, stop: threading.Event | None = None) -> list[BlockStats]:
    """Run consecutive blocks together and return their statistics.

    Parameters
    ----------
    plan : SimulationPlan
    blocks : sequence of int
        Consecutive block indices (one block is the unit of a distributed task).
    out : ndarray, optional
        The ``(n_paths, d)`` array of final states to write into; without it each
        :class:`BlockStats` carries its own ``final``.
    progress : tqdm-like, optional
        Receives ``update(k)`` as steps complete.
    stop : threading.Event, optional
        Checked between steps (every :data:`SEGMENT_STEPS` steps when a compiled step
        runs them in one call); once set the run ends (raising ``_StoppedError``).
    """
    blocks = list(blocks)
    if any(b != blocks[0] + i for i, b in enumerate(blocks)):
        raise InvalidSimulationError("blocks must be consecutive indices")
    a, _ = plan.block_range(blocks[0])
    _, b = plan.block_range(blocks[-1])
    nc, d, st = b - a, plan.d, plan.stepper
    X = np.empty((d, nc))
    X[:] = (plan.x0[a:b].T if plan.x0.ndim == 2 else plan.x0[:, None])
    gens = []
    for j in blocks:
        s, e = plan.block_range(j)
        gens.append((block_generator(plan.seed, j), s - a, e - a))
    ws = st.workspace(nc)
    k_rec = plan.n_records
    rec = [(np.zeros(k_rec, dtype=np.int64), np.zeros((k_rec, d)), np.zeros((k_rec, d, d)))
           for _ in blocks] if k_rec else []
    keep = [(max(0, min(plan.keep_paths, e_) - s_) if plan.keep_paths else 0)
            for s_, e_ in (plan.block_range(j) for j in blocks)]
    kept = [np.empty((k_rec, kb, d)) if kb else None for kb in keep]

    def record(r: int) -> None:
        for q, (_, s, e) in enumerate(gens):
            cnt, mu, m2 = _block_moments(X[:, s:e])
            rec[q][0][r], rec[q][1][r], rec[q][2][r] = cnt, mu, m2
            kq = kept[q]
            if kq is not None:
                kq[r] = X[:, s:s + keep[q]].T

    if k_rec:
        record(0)
    every = max(1, plan.n_steps // 200)  # progress is reported every this many steps
    dt, rec_every = plan.dt, plan.record_every
    first: list[int | None] = [None] * len(gens)
    pending = list(range(len(gens)))  # blocks with no non-finite path yet
    # a compiled step without the time runs whole segments of steps in one call
    compiled = st.compiled_source is not None
    segment = SEGMENT_STEPS if compiled and not st.has_time else 1
    step, unreported = 0, 0
    with np.errstate(all="ignore"):
        while step < plan.n_steps:
            if stop is not None and stop.is_set():
                raise _StoppedError
            k = min(segment, plan.n_steps - step)
            if rec_every:
                k = min(k, rec_every - step % rec_every)
            if compiled:
                X, bad = st.advance_steps(X, ws, gens, k, step * dt)
                for q in list(pending):
                    if bad[q]:  # the first step of the segment after which q was not finite
                        first[q] = step + bad[q]
                        pending.remove(q)
            else:
                X = st.advance(X, ws, gens, step * dt)
                # A sum is finite when every term is (a cheap test; each entry checked if
                # it fails).
                if pending and (len(pending) < len(gens)
                                or not math.isfinite(np.add.reduce(X, axis=None))):
                    for q in list(pending):
                        Xq = X[:, gens[q][1]:gens[q][2]]
                        if (not math.isfinite(np.add.reduce(Xq, axis=None))
                                and not np.isfinite(Xq).all()):
                            first[q] = step + 1
                            pending.remove(q)
            step += k
            if rec_every and step % rec_every == 0:
                record(step // rec_every)
            if progress is not None:
                unreported += k
                if unreported >= every:
                    progress.update(unreported)
                    unreported = 0
    if progress is not None and unreported:
        progress.update(unreported)
    stats = []
    for q, (j, (_, s, e)) in enumerate(zip(blocks, gens, strict=True)):
        cnt, mu, m2 = _block_moments(X[:, s:e])
        bs = BlockStats(index=j, n=e - s, count=cnt, mean=mu, m2=m2, paths=kept[q],
                        first_diverged=first[q])
        if k_rec:
            bs.rec_count, bs.rec_mean, bs.rec_m2 = rec[q]
        if out is not None:
            out[a + s:a + e] = X[:, s:e].T
        else:
            bs.final = X[:, s:e].T.copy()
        stats.append(bs)
    return stats


def run_chunks(plan: SimulationPlan, chunks: Sequence[Sequence[int]],
               out: np.ndarray | None = None, progress: Any = None) -> list[BlockStats]:
    """Run ``chunks`` (lists of consecutive blocks) on ``plan.workers`` threads.

    NumPy's generators and ufuncs release the GIL, so threads use several cores. Each
    chunk has its own buffers and random streams and writes a disjoint slice of ``out``;
    the result is the same for any number of threads. Statistics come back in block order.

    Examples
    --------
    >>> import sympy as sp, numpy as np
    >>> from symsde import SDE
    >>> from symsde.simulator import plan_simulation
    >>> x = sp.Symbol("x", real=True)
    >>> plan = plan_simulation(SDE([x], [x - x**3], 1), 0.5, n_steps=5, n_paths=4000,
    ...                        block_size=1000, workers=2)
    >>> stats = run_chunks(plan, plan.thread_chunks())
    >>> [s.index for s in stats]
    [0, 1, 2, 3]
    """
    chunks = [list(c) for c in chunks]
    if plan.workers <= 1 or len(chunks) <= 1:
        return [s for c in chunks for s in run_blocks(plan, c, out=out, progress=progress)]
    from concurrent.futures import ThreadPoolExecutor

    stop = threading.Event()
    pool = ThreadPoolExecutor(max_workers=min(plan.workers, len(chunks)),
                              thread_name_prefix="symsde")
    try:
        futures = [pool.submit(run_blocks, plan, c, out, progress, stop) for c in chunks]
        parts = [f.result() for f in futures]
    except BaseException:
        stop.set()  # an interrupt (or a failure): the other threads end at their next step
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [s for part in parts for s in part]


def resolve_workers(workers: Any) -> int:
    """``workers`` as a thread count: ``None`` is the cores this process may use.

    Examples
    --------
    >>> resolve_workers(1), resolve_workers(None) >= 1
    (1, True)
    """
    if workers is None:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - not Linux
            return os.cpu_count() or 1
    return _int(workers, "workers", 1, 1024)


def _exact_sum(values: np.ndarray) -> float:
    """The exactly rounded sum (:func:`math.fsum`), also where fsum overflows on the way
    or meets infinities (then inf, -inf or nan), whatever the order of the values."""
    try:
        return math.fsum(values)
    except (OverflowError, ValueError):
        vals = [float(v) for v in values]
        if any(math.isnan(v) for v in vals) or (math.inf in vals and -math.inf in vals):
            return math.nan
        if math.inf in vals or -math.inf in vals:
            return math.inf if math.inf in vals else -math.inf
        # finite values: fsum overflows on an intermediate sum, the exact one may not
        total = sum(Fraction(v) for v in vals)
        try:
            return float(total)
        except OverflowError:
            return math.inf if total > 0 else -math.inf


def _fsum0(a: np.ndarray) -> np.ndarray:
    """Exactly rounded sum over axis 0 (independent of the order of the rows)."""
    flat = a.reshape(a.shape[0], -1)
    return np.array([_exact_sum(flat[:, i]) for i in range(flat.shape[1])]
                    ).reshape(a.shape[1:])


def _merge(counts: np.ndarray, means: np.ndarray, m2s: np.ndarray) -> tuple[int, np.ndarray,
                                                                           np.ndarray]:
    """Merge per-block (count, mean, M2) into (N, mean, cov) with exactly rounded sums."""
    N = int(counts.sum())
    d = means.shape[-1]
    if N == 0:
        return 0, np.full(d, np.nan), np.full((d, d), np.nan)
    w = counts.astype(float)
    with np.errstate(over="ignore", invalid="ignore"):
        mean = _fsum0(w[:, None] * means) / N
        dev = means - mean
        between = w[:, None, None] * dev[:, :, None] * dev[:, None, :]
    between[counts == 0] = 0.0
    total = _fsum0(np.concatenate([m2s, between], axis=0))
    cov = total / (N - 1) if N > 1 else np.full((d, d), np.nan)
    return N, mean, cov


def combine_blocks(plan: SimulationPlan, stats: Sequence[BlockStats],
                   final: np.ndarray | None = None, seconds: float = 0.0) -> SimulationResult:
    """Combine the statistics of all blocks into a :class:`SimulationResult`.

    The sums are exactly rounded (:func:`math.fsum`), so the result does not depend on
    the order in which blocks arrive or on how they were grouped into chunks or tasks.

    Examples
    --------
    One task per block, run in any order (as a distributed scheduler would), gives the
    same result as :func:`simulate`:

    >>> import numpy as np, sympy as sp
    >>> from symsde import SDE
    >>> from symsde.simulator import plan_simulation, simulate
    >>> x = sp.Symbol("x", real=True)
    >>> plan = plan_simulation(SDE([x], [-x], 1), 1.0, n_steps=10, n_paths=3000,
    ...                        block_size=1000)
    >>> stats = [s for j in (2, 0, 1) for s in run_blocks(plan, [j])]
    >>> res = combine_blocks(plan, stats)
    >>> ref = simulate(SDE([x], [-x], 1), 1.0, n_steps=10, n_paths=3000, block_size=1000)
    >>> bool(np.array_equal(res.final, ref.final) and np.array_equal(res.cov, ref.cov))
    True
    """
    stats = sorted(stats, key=lambda s: s.index)
    if [s.index for s in stats] != list(range(plan.n_blocks)):
        raise InvalidSimulationError(
            f"combine_blocks needs every block 0..{plan.n_blocks - 1} exactly once")
    if final is None:
        final = np.concatenate([s.final for s in stats], axis=0)
    counts = np.array([s.count for s in stats])
    N, mean, cov = _merge(counts, np.array([s.mean for s in stats]),
                          np.array([s.m2 for s in stats]))
    res = SimulationResult(
        final=final, mean=mean, cov=cov, diverged=plan.n_paths - N, n_paths=plan.n_paths,
        n_steps=plan.n_steps, dt=plan.dt * plan.time_scale, seed=plan.seed,
        method=plan.stepper.name, block_size=plan.block_size, seconds=seconds,
        kernel="numba" if plan.stepper.compiled_source is not None else "numpy",
        first_diverged_step=min((s.first_diverged for s in stats
                                 if s.first_diverged is not None), default=None))
    if plan.record_every:
        k = plan.n_records
        rc = np.array([s.rec_count for s in stats])
        rm = np.array([s.rec_mean for s in stats])
        r2 = np.array([s.rec_m2 for s in stats])
        means = np.empty((k, plan.d))
        covs = np.empty((k, plan.d, plan.d))
        for r in range(k):
            _, means[r], covs[r] = _merge(rc[:, r], rm[:, r], r2[:, r])
        res.times = plan.times()
        res.moments = Moments(means, covs)
        if plan.keep_paths:
            res.paths = np.concatenate([s.paths for s in stats if s.paths is not None], axis=1)
    return res
