"""Threads (``workers=``): bit-identical results for every thread count, chunk size and
backend, and the thread split itself.

Each comparison is exact (``assert_array_equal`` on final states, means, covariances,
recorded moments and kept paths). A power check shows the comparison is not vacuous: a
different seed, or a different block size, changes the numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import sympy as sp

from symsde import SDE, simulate, simulate_sgd
from symsde.simulation import (
    InvalidSimulationError,
    SimulationResult,
    plan_simulation,
    resolve_workers,
)

x, y = sp.symbols("x y", real=True)
t = sp.Symbol("t", real=True)
sigma = sp.Symbol("sigma", positive=True)
th, th2, u = sp.symbols("theta theta2 u", real=True)


def _assert_same(a: SimulationResult, b: SimulationResult) -> None:
    np.testing.assert_array_equal(a.final, b.final)
    np.testing.assert_array_equal(a.mean, b.mean)
    np.testing.assert_array_equal(a.cov, b.cov)
    assert a.diverged == b.diverged
    if a.moments is not None or b.moments is not None:
        assert a.moments is not None and b.moments is not None
        np.testing.assert_array_equal(a.moments.mean, b.moments.mean)
        np.testing.assert_array_equal(a.moments.cov, b.moments.cov)
    if a.paths is not None or b.paths is not None:
        np.testing.assert_array_equal(a.paths, b.paths)


CASES: dict[str, tuple[SDE, dict[str, Any]]] = {
    "ou-affine": (SDE([x], [-x], sigma), {"x0": 1.0, "params": {"sigma": 0.5}}),
    "double-well": (SDE([x], [x - x**3], sp.Rational(1, 2)), {"x0": 0.1}),
    "milstein-2d-time": (
        SDE([x, y], [x - x**3 + sp.cos(t), -y], [sigma * x, 0.5 + sp.sin(y) ** 2], time=t),
        {"x0": [0.2, -0.1], "params": {"sigma": 0.7}, "method": "milstein"}),
}
COMMON: dict[str, Any] = {"dt": 0.01, "n_steps": 30, "n_paths": 5000, "seed": 5,
                          "block_size": 512, "record_every": 10, "keep_paths": 3}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bit_identical_across_workers_and_chunk_sizes(name: str) -> None:
    sde, kw = CASES[name]
    ref = simulate(sde, **kw, **COMMON, workers=1)
    for workers in (1, 2, 3, None):
        for chunk in (None, 512, 1000, 2048, 10**6):
            res = simulate(sde, **kw, **COMMON, workers=workers, chunk_size=chunk)
            _assert_same(res, ref)
    # power: the comparison sees a change of seed or of block size
    other = simulate(sde, **kw, **{**COMMON, "seed": 6}, workers=2)
    assert not np.array_equal(other.final, ref.final)
    other = simulate(sde, **kw, **{**COMMON, "block_size": 500}, workers=2)
    assert not np.array_equal(other.final, ref.final)


def test_sgd_bit_identical_across_workers() -> None:
    data = np.random.default_rng(0).normal(size=(40, 1))
    loss = (th * u - th2 - u) ** 2 / 2 + th2**2 / 10
    kw: dict[str, Any] = {"learning_rate": 0.2, "n_steps": 30, "n_paths": 3000, "seed": 3,
                          "batch_size": 4, "replace": False, "x0": [1.0, -1.0],
                          "record_every": 10, "block_size": 256}
    ref = simulate_sgd(loss, [th, th2], [u], data, **kw, workers=1)
    for workers, chunk in ((2, None), (None, 256), (3, 700)):
        _assert_same(simulate_sgd(loss, [th, th2], [u], data, **kw, workers=workers,
                                  chunk_size=chunk), ref)


def test_thread_chunks_cover_every_block_once() -> None:
    sde = SDE([x], [-x], 1)
    for workers in (1, 2, 3, 8):
        plan = plan_simulation(sde, 0.0, n_paths=10_000, block_size=700, chunk_size=2800,
                               workers=workers)
        runs = plan.thread_chunks()
        assert [b for r in runs for b in r] == list(range(plan.n_blocks))
        assert max(len(r) for r in runs) <= plan.chunk_blocks
        if workers > 1:  # every thread gets work
            assert len(runs) >= min(workers, plan.n_blocks)


def test_workers_validation() -> None:
    assert resolve_workers(None) >= 1
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(InvalidSimulationError, match="workers"):
            simulate(SDE([x], [-x], 1), 0.0, n_steps=2, n_paths=10, workers=bad)


# -- the Dask backend: the same numbers with threads inside each task ------------------------
@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    distributed = pytest.importorskip("distributed")
    from symsde.dask_backend import local_cluster_options

    with distributed.LocalCluster(**local_cluster_options(2)) as lc, \
            distributed.Client(lc, set_as_default=False) as cl:
        cl.wait_for_workers(2, timeout=60)
        yield cl


@pytest.mark.parametrize("name", ["double-well", "milstein-2d-time"])
def test_dask_with_threads_equals_local(client: Any, name: str) -> None:
    sde, kw = CASES[name]
    ref = simulate(sde, **kw, **COMMON, workers=1)
    for workers, chunk in ((2, 2048), (None, 1024), (1, None)):
        res = simulate(sde, **kw, **COMMON, workers=workers, chunk_size=chunk,
                       backend="dask", client=client)
        _assert_same(res, ref)
    if name == "double-well":  # compiled in the worker processes (the plan is pickled)
        res = simulate(sde, **kw, **COMMON, workers=2, chunk_size=1024, backend="dask",
                       client=client, kernel="numba")
        assert res.kernel == "numba"
        _assert_same(res, ref)
