"""A simulation plan: everything a worker needs to run blocks, and its sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from symsde.simulator.base import (
    CHUNK_ELEMENTS,
    InvalidSimulationError,
    _fmt_bytes,
    _physical_memory,
    _positive,
    default_block_size,
)
from symsde.simulator.steppers import _Stepper


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
        ``len(blocks) // (4 workers)`` (at least one), so that the threads share the work
        evenly. The cut never changes the numbers (see the module notes).
        """
        idx = list(range(self.n_blocks)) if blocks is None else list(blocks)
        size = self.chunk_blocks
        if self.workers > 1:
            # at least 4 runs per thread where the blocks allow: threads take runs as they
            # finish, so the busiest thread ends at most one run after the others
            size = max(1, min(size, len(idx) // (4 * self.workers)))
        return [idx[i:i + size] for i in range(0, len(idx), size)]




#: What the 8 bytes per float of the final states and of one chunk's buffers per thread
#: (the arrays :func:`_sizes` counts) leave out: the statistics
#: and generator of every block, the result objects, and the temporaries of threads whose
#: chunks overlap in time. Measured with tracemalloc at the largest run a 64 MB limit
#: accepts (476 blocks): 0.55 MB over the limit with one thread in 1-d, 1.0 MB in 2-d,
#: 0.9-2.4 MB with four threads; the constants round up (``tests/test_guards.py`` measures
#: again in a subprocess).
API_BYTES_PER_BLOCK = 2048.0
API_BYTES_PER_WORKER = 1.0e6


def simulate_overhead_bytes(n_paths: int, d: int, workers: int = 1,
                            block_size: int | None = None) -> float:
    """Bytes :func:`symsde.simulate` needs beyond its arrays (counted by the memory guard).

    Examples
    --------
    >>> round(simulate_overhead_bytes(16384 * 100, 1, workers=2) / 1e6, 3)
    2.205
    """
    size = block_size if block_size else default_block_size(d)
    blocks = -(-int(n_paths) // max(1, min(size, int(n_paths))))
    return blocks * API_BYTES_PER_BLOCK + max(1, int(workers)) * API_BYTES_PER_WORKER


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
    # plus what the arrays above do not show: per-block statistics and each thread's
    # overlapping buffers, measured (simulate_overhead_bytes)
    need = 8.0 * floats + simulate_overhead_bytes(n_paths, d, workers, block_size)
    limit = _physical_memory() / 2 if max_memory is None else _positive(max_memory,
                                                                          "max_memory (bytes)")
    if need > limit:
        raise InvalidSimulationError(
            f"this {what} would need about {_fmt_bytes(need)} of memory (the final states "
            f"alone take {_fmt_bytes(8.0 * n_paths * d)}), more than the limit of "
            f"{_fmt_bytes(limit)}; reduce the number of paths, record less often, or pass "
            "max_memory=")
    return block_size, chunk_blocks
