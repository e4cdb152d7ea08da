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

Threads
-------
``workers`` threads advance chunks at once (NumPy's generators and ufuncs release the
GIL); a chunk owns its buffers and its blocks' streams and writes a disjoint slice of the
output, so the thread count changes nothing in the results.
"""

from __future__ import annotations

import math
import os
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, NamedTuple

import numpy as np
import sympy as sp

from symsde.errors import InputError
from symsde.kernels import (
    ColumnKernel,
    affine_drift,
    lambdify_loss,
    numeric_values,
)
from symsde.sde import SDE

__all__ = [
    "BIT_GENERATOR",
    "BlockStats",
    "InvalidSimulationError",
    "Moments",
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

#: The bit generator of every stream (fastest of NumPy's on the benchmark machine).
BIT_GENERATOR = np.random.SFC64
#: Paths per block when every path is one float wide (d = m = 1).
DEFAULT_BLOCK_PATHS = 1 << 14
#: Target number of floats per chunk buffer (chunk width x state width).
CHUNK_ELEMENTS = 1 << 16
#: Bytes of arrays per chunk on the general path (the chunk is rounded to whole blocks).
SCHEME_CHUNK_BYTES = 1 << 20
#: Schemes (derived by :mod:`symsde.schemes`): strong orders 0.5, 1, 1.5; weak 1, 1, 2.
METHODS = ("euler", "milstein", "strong1.5", "weak2")
#: Where the blocks run: this process, or tasks on a Dask cluster (:mod:`symsde.dask_backend`).
BACKENDS = ("local", "dask")


class InvalidSimulationError(InputError):
    """A simulation request that cannot run as given (bad sizes, values or method)."""


# -- results ----------------------------------------------------------------------------------
class Moments(NamedTuple):
    """Recorded means ``(k, d)`` and covariances ``(k, d, d)`` at ``times``."""

    mean: np.ndarray
    cov: np.ndarray


@dataclass
class BlockStats:
    """Accumulated statistics of one block of paths.

    ``count`` finite paths out of ``n``, their ``mean`` and centred second moments
    ``m2`` (:math:`\\sum (x - \\bar x)(x - \\bar x)^\\top`); ``rec_*`` the same at each
    recorded time; ``final`` the block's final states when they were not written to a
    shared output array; ``paths`` the block's kept paths.
    """

    index: int
    n: int
    count: int
    mean: np.ndarray
    m2: np.ndarray
    rec_count: np.ndarray | None = None
    rec_mean: np.ndarray | None = None
    rec_m2: np.ndarray | None = None
    final: np.ndarray | None = None
    paths: np.ndarray | None = None
    #: the first step after which a path of the block was not finite (None: none diverged)
    first_diverged: int | None = None


@dataclass
class SimulationResult:
    """The outcome of :func:`simulate` or :func:`simulate_sgd`.

    Attributes
    ----------
    final : ndarray, shape (n_paths, d)
        States at the end; diverged paths hold their non-finite values.
    mean, cov : ndarray
        Mean ``(d,)`` and covariance ``(d, d)`` (``ddof=1``) of the finite final states.
    diverged : int
        Number of paths that left the finite range (excluded from ``mean`` and ``cov``).
    first_diverged_step : int or None
        The first step after which some path was no longer finite (``None`` when none was).
    times : ndarray or None
        Recorded times when ``record_every`` was set.
    moments : Moments or None
        Recorded means and covariances at ``times`` (finite paths only).
    paths : ndarray or None
        ``(len(times), keep_paths, d)`` whole paths when ``keep_paths`` was set.
    """

    final: np.ndarray
    mean: np.ndarray
    cov: np.ndarray
    diverged: int
    n_paths: int
    n_steps: int
    dt: float
    seed: int
    method: str
    block_size: int
    times: np.ndarray | None = None
    moments: Moments | None = None
    paths: np.ndarray | None = None
    seconds: float = 0.0
    first_diverged_step: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data (the CLI's JSON keys)."""
        return {
            "paths": self.n_paths,
            "steps": self.n_steps,
            "dt": self.dt,
            "seed": self.seed,
            "method": self.method,
            "mean": [float(v) for v in self.mean],
            "cov": [[float(v) for v in row] for row in self.cov],
            "diverged": int(self.diverged),
            "first_diverged_step": self.first_diverged_step,
            "block_size": self.block_size,
            "seconds": round(self.seconds, 3),
        }


# -- small validators ---------------------------------------------------------------------------
def _int(value: Any, name: str, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise InvalidSimulationError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if value < lo or (hi is not None and value > hi):
        rng = f">= {lo}" if hi is None else f"between {lo} and {hi}"
        raise InvalidSimulationError(f"{name} must be {rng}, got {value}")
    return value


def _positive(value: Any, name: str) -> float:
    if isinstance(value, sp.Basic):
        try:
            value = float(value)
        except TypeError:
            raise InvalidSimulationError(f"{name} must be a number, got {value}") from None
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise InvalidSimulationError(f"{name} must be a positive number, got {value!r}")
    f = float(value)
    if not math.isfinite(f) or f <= 0:
        raise InvalidSimulationError(f"{name} must be a finite number > 0, got {f}")
    return f


def _initial(x0: Any, d: int, n: int, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x0, dtype=float)
    except (TypeError, ValueError):
        raise InvalidSimulationError(
            f"{name} must be a number or an array of numbers, got {x0!r}") from None
    if arr.ndim == 0:
        arr = np.full(d, float(arr))
    if arr.ndim == 1 and arr.shape[0] != d:
        if d == 1 and arr.shape[0] == n:
            arr = arr[:, None]
        else:
            raise InvalidSimulationError(
                f"{name} has {arr.shape[0]} entries but the state has {d}; give one initial "
                f"value per state variable (or an ({n}, {d}) array, one row per path)")
    if arr.ndim == 2 and arr.shape != (n, d):
        raise InvalidSimulationError(
            f"{name} has shape {arr.shape}; give ({d},) or one row per path, ({n}, {d})")
    if arr.ndim > 2:
        raise InvalidSimulationError(f"{name} has shape {arr.shape}; give ({d},) or ({n}, {d})")
    if not np.all(np.isfinite(arr)):
        raise InvalidSimulationError(f"{name} contains non-finite values; give finite numbers")
    return arr


def _physical_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 << 30


def _fmt_bytes(b: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if b < 1000 or unit == "PB":
            return f"{b:.3g} {unit}"
        b /= 1000
    return f"{b:.3g} PB"  # pragma: no cover


def default_block_size(wide: int) -> int:
    """Paths per block: 16384 when every path is one float wide, halved per doubling.

    ``wide`` is ``max(d, m)`` for an SDE and ``max(p, batch_size * (k + 1))`` for SGD.

    Examples
    --------
    >>> default_block_size(1), default_block_size(3), default_block_size(10**6)
    (16384, 4096, 256)
    """
    return max(256, DEFAULT_BLOCK_PATHS >> max(0, (int(wide) - 1).bit_length()))


def block_generator(seed: int, index: int) -> np.random.Generator:
    """The random stream of block ``index`` for ``seed``.

    Examples
    --------
    >>> float(block_generator(0, 3).standard_normal()) == float(
    ...     block_generator(0, 3).standard_normal())
    True
    """
    return np.random.Generator(BIT_GENERATOR(np.random.SeedSequence(seed, spawn_key=(index,))))


# -- steppers -------------------------------------------------------------------------------------
class _Stepper:
    """One step of a scheme on a chunk; the state is a ``(d, n_chunk)`` array."""

    d: int
    name: str
    #: floats of workspace per path (for the memory estimate)
    width: int

    def workspace(self, nc: int) -> dict[str, Any]:  # pragma: no cover - interface
        raise NotImplementedError

    def advance(self, X: np.ndarray, ws: dict[str, Any], gens: list, t: float) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover


def _draw_normals(Z: np.ndarray, gens: list) -> None:
    for gen, s, e in gens:
        for k in range(Z.shape[0]):
            gen.standard_normal(out=Z[k, s:e])


class _AffineStepper(_Stepper):
    """Euler-Maruyama for affine drift and constant noise, generated from (A, c, G)."""

    def __init__(self, A: np.ndarray, c: np.ndarray, G: np.ndarray, dt: float,
                 name: str) -> None:
        self.d, self.m = G.shape
        self.B = np.eye(self.d) + A * dt
        self.cdt = c * dt
        self.S = G * math.sqrt(dt)
        self.name = name
        self.diag_B = bool(np.array_equal(self.B, np.diag(np.diag(self.B))))
        self.diag_S = self.d == self.m and bool(np.array_equal(self.S, np.diag(np.diag(self.S))))
        self.width = self.d + self.m + (0 if self.diag_B else self.d) + 1

    def workspace(self, nc: int) -> dict[str, Any]:
        ws: dict[str, Any] = {"Z": np.empty((self.m, nc)), "T": np.empty(nc)}
        if not self.diag_B:
            ws["Y"] = np.empty((self.d, nc))
        return ws

    def advance(self, X: np.ndarray, ws: dict[str, Any], gens: list, t: float) -> np.ndarray:
        Z, T, B, S = ws["Z"], ws["T"], self.B, self.S
        _draw_normals(Z, gens)
        if self.diag_B:
            Y = X
            for i in range(self.d):
                if B[i, i] != 1.0:
                    X[i] *= B[i, i]
        else:
            Y = ws["Y"]
            for i in range(self.d):
                np.multiply(X[0], B[i, 0], out=Y[i])
                for j in range(1, self.d):
                    if B[i, j] != 0.0:
                        np.multiply(X[j], B[i, j], out=T)
                        Y[i] += T
        if self.diag_S:
            for i in range(self.d):
                if S[i, i] != 0.0:
                    Z[i] *= S[i, i]
                    Y[i] += Z[i]
        else:
            for i in range(self.d):
                for k in range(self.m):
                    if S[i, k] != 0.0:
                        np.multiply(Z[k], S[i, k], out=T)
                        Y[i] += T
        for i in range(self.d):
            if self.cdt[i] != 0.0:
                Y[i] += self.cdt[i]
        if Y is not X:
            ws["Y"] = X
        return Y


def _draw_noise(N: np.ndarray, gens: list, laws: Sequence[str]) -> None:
    """Fill ``N`` (one row per noise variable) block by block from the blocks' streams.

    Each block draws its rows in order, from its own stream: normals with
    ``standard_normal``; three-point (-1, 0, 1 w.p. 1/6, 2/3, 1/6) as
    :math:`\\operatorname{trunc}((\\lfloor 6U \\rfloor - 5/2)/(5/2))` and two-point
    (-1, 1) as :math:`2\\lfloor 2U \\rfloor - 1` from uniforms :math:`U`, in place.
    """
    for gen, s, e in gens:
        for k, law in enumerate(laws):
            row = N[k, s:e]
            if law == "normal":
                gen.standard_normal(out=row)
                continue
            gen.random(out=row)
            if law == "three-point":
                row *= 6.0
                np.floor(row, out=row)
                row -= 2.5
                row /= 2.5
                np.trunc(row, out=row)
            else:  # two-point
                row *= 2.0
                np.floor(row, out=row)
                row *= 2.0
                row -= 1.0


def _fewest_ops(e: sp.Expr, state: Sequence[sp.Symbol], arrays: list, scalars: list
                ) -> sp.Expr:
    """``e`` expanded or in Horner form in the state, whichever compiles to fewer ufunc
    calls (for the double well, x (1.01 - 0.01 x^2) + 0.05 z: 6 calls instead of 7)."""
    from symsde.fused import FusedKernel

    try:
        alt = sp.horner(e, *state)
    except (sp.PolificationFailed, sp.PolynomialError, sp.GeneratorsNeeded):
        return e
    if alt == e:
        return e
    n = [FusedKernel([c], arrays, scalars).n_ops for c in (e, alt)]
    return alt if n[1] < n[0] else e


class _SchemeStepper(_Stepper):
    """A derived Ito-Taylor scheme (:mod:`symsde.schemes`) as one fused in-place kernel.

    Each step draws the scheme's noise variables into ``N`` and evaluates the whole
    update :math:`Y_{n+1} = \\sum_\\alpha f_\\alpha(t_n, Y_n) I_\\alpha` (drift,
    diffusion and correction terms after common-subexpression elimination, with ``dt``
    and the parameters folded in) by a :class:`~symsde.fused.FusedKernel` into a second
    state array; the two state arrays swap roles every step.
    """

    def __init__(self, sde: SDE, values: Mapping[sp.Symbol, sp.Expr], dt: float,
                 method: str) -> None:
        from symsde.fused import FusedKernel
        from symsde.schemes import derive_scheme

        scheme = derive_scheme(sde, method)
        self.scheme_method = method
        self.d = sde.dim
        self.has_time = sde.time is not None
        rule = scheme.sampled_update().xreplace({scheme.step: sp.Float(dt)})
        if values:
            rule = rule.xreplace(dict(values))
        rule = rule.applyfunc(sp.expand)
        self.laws = [nv.law for nv in scheme.noises]
        noise_syms = [nv.symbol for nv in scheme.noises]
        arrays = [*sde.state, *noise_syms]
        scalars = [sde.time] if self.has_time else []
        rule = [_fewest_ops(e, sde.state, arrays, scalars) for e in rule]
        self.kernel = FusedKernel(rule, arrays, scalars)
        self.name = method
        self.width = 2 * self.d + len(self.laws) + self.kernel.n_buffers

    def workspace(self, nc: int) -> dict[str, Any]:
        return {"N": np.empty((len(self.laws), nc)), "Y": np.empty((self.d, nc)),
                "B": self.kernel.buffers(nc), "rows": {}}

    def advance(self, X: np.ndarray, ws: dict[str, Any], gens: list, t: float) -> np.ndarray:
        N, Y, rows = ws["N"], ws["Y"], ws["rows"]
        _draw_noise(N, gens, self.laws)
        # the row views of both state arrays, made once (they swap roles every step)
        key = (id(X), id(Y))
        if key not in rows:
            rows[key] = ([*X, *N], list(Y))
        ins, outs = rows[key]
        self.kernel(ins, (t,) if self.has_time else (), outs, ws["B"])
        ws["Y"] = X
        return Y


class _GeneralStepper(_SchemeStepper):
    """Euler-Maruyama or Milstein on the general path (the derived scheme, fused)."""

    def __init__(self, sde: SDE, drift: sp.Matrix, G: sp.Matrix, dt: float,
                 milstein: bool) -> None:
        # drift and G carry the parameter values already: an SDE of them
        sub = SDE(sde.state, drift, G, time=sde.time) if sde.parameters else sde
        super().__init__(sub, {}, dt, "milstein" if milstein else "euler")


class _SGDStepper(_Stepper):
    """One SGD step per run: draw a minibatch, average per-example gradients, update."""

    def __init__(self, grad: ColumnKernel, data: np.ndarray, lr: float, batch: int,
                 replace: bool) -> None:
        self.grad = grad
        self.data = [np.ascontiguousarray(data[:, j]) for j in range(data.shape[1])]
        self.N = data.shape[0]
        self.d = len(grad.exprs)
        self.lr, self.batch, self.replace = lr, batch, replace
        self.full = (not replace) and batch == self.N
        self.name = "sgd"
        self.width = self.d + batch * (1 + len(self.data) + self.d) + 2

    def workspace(self, nc: int) -> dict[str, Any]:
        B = self.batch
        if self.full:  # the whole data set every step: nothing random, broadcast over runs
            idx = None
            ys = [col[:, None] for col in self.data]
        else:
            idx = np.empty((B, nc), dtype=np.int64)
            ys = [np.empty((B, nc)) for _ in self.data]
        return {"idx": idx, "ys": ys, "U": np.empty((self.d, nc))}

    def _draw(self, idx: np.ndarray, gens: list) -> None:
        B, N = self.batch, self.N
        for gen, s, e in gens:
            nb = e - s
            if self.replace:
                idx[:, s:e] = gen.integers(0, N, size=(B, nb))
                continue
            # Floyd's algorithm: a uniformly random B-subset of range(N) per run.
            for r, j in enumerate(range(N - B, N)):
                tj = gen.integers(0, j + 1, size=nb)
                if r:
                    dup = (idx[:r, s:e] == tj).any(axis=0)
                    tj = np.where(dup, j, tj)
                idx[r, s:e] = tj

    def advance(self, X: np.ndarray, ws: dict[str, Any], gens: list, t: float) -> np.ndarray:
        idx, ys, U = ws["idx"], ws["ys"], ws["U"]
        if not self.full:
            self._draw(idx, gens)
            for col, y in zip(self.data, ys, strict=True):
                np.take(col, idx, out=y)
        grads = self.grad(*[X[i][None, :] for i in range(self.d)], *ys)
        for i, g in enumerate(grads):
            g = np.asarray(g, dtype=float)
            if g.ndim == 2 and g.shape[0] > 1:
                g = np.add.reduce(g, axis=0) / g.shape[0]
            elif g.ndim == 2:
                g = g[0]
            np.multiply(g, self.lr, out=U[i])
        for i in range(self.d):
            X[i] -= U[i]
        return X


# -- plans, blocks and the combiner ----------------------------------------------------------------
@dataclass
class SimulationPlan:
    """Everything a worker needs to run blocks: sizes, seed, stepper, initial state."""

    stepper: _Stepper
    d: int
    n_paths: int
    n_steps: int
    dt: float
    seed: int
    block_size: int
    chunk_blocks: int
    x0: np.ndarray
    record_every: int | None = None
    keep_paths: int = 0
    time_scale: float = 1.0
    #: threads that run chunks at once (each with its own buffers)
    workers: int = 1
    #: whether ``workers`` was chosen by the caller (else: this machine's cores)
    workers_given: bool = True

    @property
    def n_blocks(self) -> int:
        return -(-self.n_paths // self.block_size)

    def block_range(self, j: int) -> tuple[int, int]:
        return j * self.block_size, min((j + 1) * self.block_size, self.n_paths)

    @property
    def n_records(self) -> int:
        return 0 if not self.record_every else self.n_steps // self.record_every + 1

    def times(self) -> np.ndarray | None:
        if not self.record_every:
            return None
        return np.arange(self.n_records) * (self.record_every * self.dt * self.time_scale)

    def chunks(self) -> list[list[int]]:
        idx = list(range(self.n_blocks))
        return [idx[i:i + self.chunk_blocks] for i in range(0, len(idx), self.chunk_blocks)]

    def thread_chunks(self, blocks: Sequence[int] | None = None) -> list[list[int]]:
        """``blocks`` (default: all) cut into runs for :attr:`workers` threads.

        Runs hold at most :attr:`chunk_blocks` blocks and, with several workers, at most
        ``ceil(len(blocks) / workers)``, so that every thread gets work. The cut never
        changes the numbers (see the module notes).
        """
        idx = list(range(self.n_blocks)) if blocks is None else list(blocks)
        size = self.chunk_blocks
        if self.workers > 1:
            size = max(1, min(size, -(-len(idx) // self.workers)))
        return [idx[i:i + size] for i in range(0, len(idx), size)]


def _block_moments(Xb: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    d = Xb.shape[0]
    finite = np.isfinite(Xb).all(axis=0)
    if not finite.all():
        Xb = Xb[:, finite]
    n = Xb.shape[1]
    if n == 0:
        return 0, np.zeros(d), np.zeros((d, d))
    mean = np.array([np.add.reduce(Xb[i]) for i in range(d)]) / n
    C = Xb - mean[:, None]
    m2 = np.empty((d, d))
    for i in range(d):
        for j in range(i, d):
            m2[i, j] = m2[j, i] = np.add.reduce(C[i] * C[j])
    return n, mean, m2


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
        Checked every step; once set the run ends (raising ``_StoppedError``).
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
    every = max(1, plan.n_steps // 200)
    dt, rec_every = plan.dt, plan.record_every
    first: list[int | None] = [None] * len(gens)
    pending = list(range(len(gens)))  # blocks with no non-finite path yet
    with np.errstate(all="ignore"):
        for step in range(plan.n_steps):
            if stop is not None and stop.is_set():
                raise _StoppedError
            X = st.advance(X, ws, gens, step * dt)
            # A sum is finite when every term is (a cheap test; confirmed when it fails).
            if pending and (len(pending) < len(gens)
                            or not math.isfinite(np.add.reduce(X, axis=None))):
                for q in list(pending):
                    Xq = X[:, gens[q][1]:gens[q][2]]
                    if (not math.isfinite(np.add.reduce(Xq, axis=None))
                            and not np.isfinite(Xq).all()):
                        first[q] = step + 1
                        pending.remove(q)
            if rec_every and (step + 1) % rec_every == 0:
                record((step + 1) // rec_every)
            if progress is not None and (step + 1) % every == 0:
                progress.update(every)
    if progress is not None and plan.n_steps % every:
        progress.update(plan.n_steps % every)
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


def _fsum0(a: np.ndarray) -> np.ndarray:
    """Exactly rounded sum over axis 0 (independent of the order of the rows)."""
    flat = a.reshape(a.shape[0], -1)
    return np.array([math.fsum(flat[:, i]) for i in range(flat.shape[1])]).reshape(a.shape[1:])


def _merge(counts: np.ndarray, means: np.ndarray, m2s: np.ndarray) -> tuple[int, np.ndarray,
                                                                           np.ndarray]:
    """Merge per-block (count, mean, M2) into (N, mean, cov) with exactly rounded sums."""
    N = int(counts.sum())
    d = means.shape[-1]
    if N == 0:
        return 0, np.full(d, np.nan), np.full((d, d), np.nan)
    w = counts.astype(float)
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
    from symsde.dask_backend import check_client, require_distributed

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
            from symsde.dask_backend import run_plan

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


def _sizes(d: int, wide: int, width: int, n_paths: int, block_size: int | None,
           chunk_size: int | None, n_steps: int, record_every: int | None, keep_paths: int,
           max_memory: float | None, per_path_x0: bool, what: str,
           workers: int = 1) -> tuple[int, int]:
    """Choose block and chunk sizes and refuse requests that would not fit in memory."""
    if block_size is None:
        block_size = default_block_size(wide)
    block_size = min(block_size, n_paths)
    if chunk_size is None:
        chunk_size = max(block_size, CHUNK_ELEMENTS // wide)
    chunk_blocks = max(1, min(chunk_size // block_size, -(-n_paths // block_size)))
    nc = chunk_blocks * block_size
    n_blocks = -(-n_paths // block_size)
    n_rec = n_steps // record_every + 1 if record_every else 0
    # every thread holds one chunk's buffers at a time
    floats = (n_paths * d + min(workers, n_blocks) * min(nc, n_paths) * width
              + n_blocks * n_rec * (1 + d + d * d)
              + n_rec * keep_paths * d + (n_paths * d if per_path_x0 else 0))
    need = 8.0 * floats
    limit = _physical_memory() / 2 if max_memory is None else float(max_memory)
    if need > limit:
        raise InvalidSimulationError(
            f"this {what} would need about {_fmt_bytes(need)} of memory (the final states "
            f"alone take {_fmt_bytes(8.0 * n_paths * d)}), more than the limit of "
            f"{_fmt_bytes(limit)}; reduce the number of paths, record less often, or pass "
            "max_memory=")
    return block_size, chunk_blocks


def _commutative(sde: SDE, G: sp.Matrix) -> bool:
    X, d, m = sde.state, G.shape[0], G.shape[1]

    def L(j: int, col: int) -> list[sp.Expr]:
        return [sum((G[q, j] * sp.diff(G[i, col], X[q]) for q in range(d)), sp.Integer(0))
                for i in range(d)]

    for j in range(m):
        for k in range(j + 1, m):
            if any(sp.simplify(a - b) != 0 for a, b in zip(L(j, k), L(k, j), strict=True)):
                return False
    return True


# -- the public functions -------------------------------------------------------------------
def plan_simulation(
    sde: SDE, x0: Any, dt: float = 0.01, n_steps: int = 1000, n_paths: int = 100_000,
    seed: int = 0, method: str = "euler", params: Mapping[Any, Any] | None = None,
    record_every: int | None = None, chunk_size: int | None = None, *,
    keep_paths: int = 0, block_size: int | None = None, max_memory: float | None = None,
    workers: int | None = None,
) -> SimulationPlan:
    """Validate a request and build its :class:`SimulationPlan` (no simulation yet).

    Takes the arguments of :func:`simulate`; every check happens here, before any
    array of the run is allocated.
    """
    if not isinstance(sde, SDE):
        raise InvalidSimulationError(f"sde must be a symsde.SDE, got {type(sde).__name__}")
    if method not in METHODS:
        raise InvalidSimulationError(
            f"method must be one of {', '.join(METHODS)}, got {method!r}")
    dt = _positive(dt, "dt")
    n_steps = _int(n_steps, "n_steps", 1)
    n_paths = _int(n_paths, "n_paths", 2)
    seed = _int(seed, "seed", 0)
    if record_every is not None:
        record_every = _int(record_every, "record_every", 1, n_steps)
    keep_paths = _int(keep_paths, "keep_paths", 0, n_paths)
    if keep_paths and not record_every:
        raise InvalidSimulationError(
            "keep_paths records paths at the recorded times; also set record_every "
            "(e.g. record_every=1)")
    if chunk_size is not None:
        chunk_size = _int(chunk_size, "chunk_size", 1)
    if block_size is not None:
        block_size = _int(block_size, "block_size", 1)
    given, workers = workers is not None, resolve_workers(workers)
    d, m = sde.dim, sde.noise_dim
    x0a = _initial(x0, d, n_paths, "x0")
    values = numeric_values(params, sde.parameters, what="the SDE")
    drift = sde.drift.subs(values) if values else sde.drift
    G = sde.diffusion.subs(values) if values else sde.diffusion
    for e in [*drift, *G]:
        if e.is_number and not e.is_finite:
            raise InvalidSimulationError(
                f"a coefficient evaluates to {e} with these parameter values; "
                "give values that keep drift and diffusion finite")
    args = (*sde.state, *([sde.time] if sde.time is not None else []))
    const_G = not any(e.has(*args) for e in G)
    if method == "milstein" and not const_G and m > 1 and not _commutative(sde, G):
        raise InvalidSimulationError(
            "Milstein without Levy areas needs commutative noise (L^j G_k = L^k G_j), "
            "and this diffusion is not commutative; use method='euler' or diagonal noise")
    affine = (affine_drift(sde, values) if const_G and method in ("euler", "milstein")
              else None)
    if affine is not None:
        G_num = np.array(G.tolist(), dtype=float)
        aff = _AffineStepper(affine[0], affine[1], G_num, dt, method)
        if not np.all(np.isfinite(aff.B)) or not np.all(np.isfinite(aff.S)):
            raise InvalidSimulationError(
                "drift or diffusion coefficients are not finite with these parameter values")
        stepper: _Stepper = aff
    else:
        try:
            stepper = _SchemeStepper(SDE(sde.state, drift, G, time=sde.time), {}, dt, method)
        except InvalidSimulationError:
            raise
        except InputError as exc:
            raise InvalidSimulationError(str(exc)) from None
    if chunk_size is None and isinstance(stepper, _SchemeStepper):
        # the fused kernel's arrays of one chunk should stay in a core's cache (~1 MB)
        chunk_size = max(1, SCHEME_CHUNK_BYTES // (8 * stepper.width))
    bs, cb = _sizes(d, max(d, m), stepper.width, n_paths, block_size, chunk_size, n_steps,
                    record_every, keep_paths, max_memory, x0a.ndim == 2, "simulation",
                    workers)
    return SimulationPlan(stepper=stepper, d=d, n_paths=n_paths, n_steps=n_steps, dt=dt,
                          seed=seed, block_size=bs, chunk_blocks=cb, x0=x0a,
                          record_every=record_every, keep_paths=keep_paths, workers=workers,
                          workers_given=given)


def simulate(
    sde: SDE,
    x0: Any,
    dt: float = 0.01,
    n_steps: int = 1000,
    n_paths: int = 100_000,
    seed: int = 0,
    method: str = "euler",
    params: Mapping[Any, Any] | None = None,
    record_every: int | None = None,
    chunk_size: int | None = None,
    progress: bool = False,
    *,
    keep_paths: int = 0,
    block_size: int | None = None,
    max_memory: float | None = None,
    progress_delay: float = 0.0,
    backend: str = "local",
    client: Any = None,
    workers: int | None = None,
) -> SimulationResult:
    """Simulate ``n_paths`` paths of an SDE with a scheme derived from it.

    Parameters
    ----------
    sde : SDE
        The SDE; its drift and diffusion are lambdified (after substituting ``params``).
    x0 : float, array (d,) or array (n_paths, d)
        Initial state, shared or one row per path.
    dt : float
        Time step (> 0).
    n_steps, n_paths : int
        Number of steps and of independent paths.
    seed : int
        The result is a deterministic function of the seed (and of ``block_size``).
    method : {"euler", "milstein", "strong1.5", "weak2"}
        The scheme, derived from the SDE (:func:`symsde.schemes.derive_scheme`): strong
        orders 0.5, 1 and 1.5, or weak order 2. Milstein needs commutative noise (scalar,
        diagonal, or constant noise, where it coincides with Euler-Maruyama); strong1.5
        scalar or diagonal noise; weak2 draws three-point increments.
    params : mapping, optional
        Numeric value of every free parameter, by symbol or name.
    record_every : int, optional
        Record means and covariances every this many steps (and at time 0).
    chunk_size : int, optional
        Paths advanced together; rounded to whole blocks. Does not change the results.
        With ``backend="dask"`` one chunk is one task.
    progress : bool
        Show a tqdm progress bar.
    keep_paths : int
        Keep the whole paths of the first ``keep_paths`` paths at the recorded times.
    block_size : int, optional
        Paths per random-stream block (default: 16384 for a scalar state, fewer for wide
        states). Results depend on it; keep it fixed to reproduce a run.
    max_memory : float, optional
        Refuse runs whose estimated memory exceeds this many bytes (default: half the
        machine's memory).
    progress_delay : float
        Show the progress bar only after this many seconds.
    backend : {"local", "dask"}
        ``"local"`` runs the chunks one after the other in this process; ``"dask"`` runs
        each chunk as a Dask task (:mod:`symsde.dask_backend`; needs the ``dask`` extra).
        For a given seed the Dask result equals the local one: ``final`` bit for bit, the
        moments up to the order of summation (exactly rounded sums, so in practice also
        bit for bit).
    client : distributed.Client or str, optional
        With ``backend="dask"``: the client (or a scheduler address like
        ``"tcp://host:8786"``) to run on. Default: the current client, or else a
        LocalCluster on 127.0.0.1 with one worker process per core, started once.
    workers : int or None
        Threads that advance chunks of blocks at once (``None``, the default: every core
        this process may use; ``1``: one chunk after the other). With ``backend="dask"``
        each task splits its blocks over this many threads (``None``: the Dask worker's
        thread count). Results are bit-identical for every value;
        ``max_memory`` counts every thread's buffers.

    Returns
    -------
    SimulationResult

    Raises
    ------
    InvalidSimulationError, InputError
        Before any work: non-finite ``x0`` or parameters, ``dt <= 0``, shapes that do not
        match the SDE, Milstein for non-commutative noise, free symbols without values,
        sizes that would not fit in memory, an unknown backend, ``backend="dask"``
        without dask.distributed installed.

    Examples
    --------
    >>> import sympy as sp
    >>> from symsde import SDE
    >>> x = sp.Symbol("x", real=True)
    >>> res = simulate(SDE([x], [-x], 1), x0=0.0, dt=0.01, n_steps=500, n_paths=4000)
    >>> res.final.shape, res.diverged
    ((4000, 1), 0)
    >>> bool(abs(res.cov[0, 0] - 0.5) < 0.05)
    True
    """
    _check_backend(backend, client)
    plan = plan_simulation(sde, x0, dt, n_steps, n_paths, seed, method, params, record_every,
                           chunk_size, keep_paths=keep_paths, block_size=block_size,
                           max_memory=max_memory, workers=workers)
    res = _execute(plan, progress, progress_delay, "simulate", backend, client)
    from symsde.guards import check_growth  # paths past what the SDE allows (issue 15)

    check_growth(sde, plan.x0, res, params)
    return res


def plan_sgd(
    per_example_loss: sp.Expr, params: Sequence[sp.Symbol] | sp.Symbol,
    data_symbols: Sequence[sp.Symbol] | sp.Symbol, data: Any, learning_rate: float = 0.1,
    n_steps: int = 1000, n_runs: int = 10_000, seed: int = 0, batch_size: int = 1,
    replace: bool = True, theta0: Any = 0.0, *, values: Mapping[Any, Any] | None = None,
    record_every: int | None = None, chunk_size: int | None = None, keep_paths: int = 0,
    block_size: int | None = None, max_memory: float | None = None,
    workers: int | None = None,
) -> SimulationPlan:
    """Validate an SGD request and build its plan (the arguments of :func:`simulate_sgd`)."""
    _, grad = lambdify_loss(per_example_loss, params, data_symbols, values)
    p, k = len(grad.params), len(grad.data)
    try:
        arr = np.asarray(data, dtype=float)
    except (TypeError, ValueError):
        raise InvalidSimulationError("data must be a numeric array") from None
    if arr.ndim == 1 and k == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] != k or arr.shape[0] == 0:
        raise InvalidSimulationError(
            f"data has shape {np.shape(data)}; give an (N, {k}) array, one row per example "
            f"with one column per data symbol ({', '.join(s.name for s in grad.data)})")
    if not np.all(np.isfinite(arr)):
        raise InvalidSimulationError("data contains non-finite values; clean the data set")
    lr = _positive(learning_rate, "learning_rate")
    n_steps = _int(n_steps, "n_steps", 1)
    n_runs = _int(n_runs, "n_runs", 2)
    seed = _int(seed, "seed", 0)
    N = arr.shape[0]
    if not isinstance(replace, bool):
        raise InvalidSimulationError(f"replace must be True or False, got {replace!r}")
    batch_size = _int(batch_size, "batch_size", 1)
    if not replace and batch_size > N:
        raise InvalidSimulationError(
            f"batch_size={batch_size} exceeds the {N} examples; without replacement a "
            "minibatch can hold each example at most once (use replace=True or a smaller "
            "batch)")
    if record_every is not None:
        record_every = _int(record_every, "record_every", 1, n_steps)
    keep_paths = _int(keep_paths, "keep_paths", 0, n_runs)
    if keep_paths and not record_every:
        raise InvalidSimulationError("keep_paths needs record_every (e.g. record_every=1)")
    if chunk_size is not None:
        chunk_size = _int(chunk_size, "chunk_size", 1)
    if block_size is not None:
        block_size = _int(block_size, "block_size", 1)
    given, workers = workers is not None, resolve_workers(workers)
    th0 = _initial(theta0, p, n_runs, "theta0")
    stepper = _SGDStepper(grad.columns, arr, lr, batch_size, replace)
    bs, cb = _sizes(p, max(p, batch_size * (k + 1)), stepper.width, n_runs, block_size,
                    chunk_size, n_steps, record_every, keep_paths, max_memory, th0.ndim == 2,
                    "SGD simulation", workers)
    return SimulationPlan(stepper=stepper, d=p, n_paths=n_runs, n_steps=n_steps, dt=1.0,
                          seed=seed, block_size=bs, chunk_blocks=cb, x0=th0,
                          record_every=record_every, keep_paths=keep_paths, time_scale=lr,
                          workers=workers, workers_given=given)


def simulate_sgd(
    per_example_loss: sp.Expr,
    params: Sequence[sp.Symbol] | sp.Symbol,
    data_symbols: Sequence[sp.Symbol] | sp.Symbol,
    data: Any,
    learning_rate: float = 0.1,
    n_steps: int = 1000,
    n_runs: int = 10_000,
    seed: int = 0,
    batch_size: int = 1,
    replace: bool = True,
    theta0: Any = 0.0,
    *,
    values: Mapping[Any, Any] | None = None,
    record_every: int | None = None,
    chunk_size: int | None = None,
    progress: bool = False,
    keep_paths: int = 0,
    block_size: int | None = None,
    max_memory: float | None = None,
    progress_delay: float = 0.0,
    backend: str = "local",
    client: Any = None,
    workers: int | None = None,
) -> SimulationResult:
    """Run real minibatch SGD on a finite data set, ``n_runs`` independent runs at once.

    Each step of each run draws a minibatch of ``batch_size`` example indices (with
    replacement, or a uniformly random subset without), averages the per-example
    gradients :math:`\\nabla_\\theta \\ell(\\theta; y_i)` (lambdified from the SymPy loss)
    and updates :math:`\\theta \\leftarrow \\theta - \\eta\\,\\bar g`.

    Parameters
    ----------
    per_example_loss : sympy.Expr
        :math:`\\ell(\\theta; y)` of one example.
    params : symbols
        The trained parameters :math:`\\theta` (``p`` of them).
    data_symbols : symbols
        The symbols of one example (``k`` of them).
    data : array (N, k) or (N,)
        The data set.
    learning_rate : float
        :math:`\\eta`. Recorded times are :math:`t = k\\eta` (the SDE's clock).
    n_steps, n_runs, seed, batch_size, replace, theta0
        As named; ``theta0`` is a scalar, ``(p,)`` or ``(n_runs, p)``.
    values : mapping, optional
        Values of other free symbols of the loss.

    Other keywords are as in :func:`simulate` (including ``backend="dask"``, ``client``
    and ``workers``).

    Examples
    --------
    For :math:`\\ell = (\\theta - y)^2/2` and batch 1 with replacement the stationary
    variance is :math:`\\eta s^2/(2 - \\eta)`:

    >>> import numpy as np, sympy as sp
    >>> th, y = sp.symbols("theta y", real=True)
    >>> data = np.array([-1.0, 1.0])
    >>> res = simulate_sgd((th - y)**2 / 2, [th], [y], data, learning_rate=0.5,
    ...                    n_steps=60, n_runs=20000, seed=1)
    >>> round(0.5 * 1.0 / (2 - 0.5), 4), bool(abs(res.cov[0, 0] - 1/3) < 0.02)
    (0.3333, True)
    """
    _check_backend(backend, client)
    plan = plan_sgd(per_example_loss, params, data_symbols, data, learning_rate, n_steps,
                    n_runs, seed, batch_size, replace, theta0, values=values,
                    record_every=record_every, chunk_size=chunk_size, keep_paths=keep_paths,
                    block_size=block_size, max_memory=max_memory, workers=workers)
    return _execute(plan, progress, progress_delay, "sgd", backend, client)
