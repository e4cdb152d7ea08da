"""Constants, results and validators of the simulator (:mod:`symsde.simulator`).

The pieces every other module of the package uses: the bit generator and block sizes, the
request error, the result types and the small validators.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, NamedTuple

import numpy as np
import sympy as sp

from symsde._format import fmt_bytes as _fmt_bytes  # noqa: F401 - the simulator's name for it
from symsde.errors import InputError

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
#: Where the blocks run: this process, or Dask tasks (:mod:`symsde.simulator.dask_backend`).
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
    kernel : str
        How the steps ran: ``"numba"`` (compiled) or ``"numpy"``; the numbers are the
        same either way.
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
    kernel: str = "numpy"

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
            "kernel": self.kernel,
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
