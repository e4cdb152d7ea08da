"""Run a simulation plan on a Dask cluster (``simulate(..., backend="dask")``).

How a run is split
------------------
A :class:`~symsde.simulation.SimulationPlan` fixes the seeding blocks: block ``j`` owns
the random stream ``SeedSequence(seed, spawn_key=(j,))``. Each Dask task runs one chunk
of consecutive blocks (``plan.chunks()``, set by ``chunk_size``; 65536 paths of a scalar
state by default) through :func:`~symsde.simulation.run_blocks`, the same function the
local backend calls, and returns the chunk's :class:`~symsde.simulation.BlockStats`
(count of finite paths, means, centred second moments, the same at every recorded time,
kept paths and the chunk's final states). The client copies the final states into place
and merges the statistics with :func:`~symsde.simulation.combine_blocks`.

Equality with the local backend
-------------------------------
For a given seed (and ``block_size``) the result is the local backend's:

- ``final`` (and ``paths``) are bit-identical: every path sees the same numbers and the
  same element-wise arithmetic, whichever worker runs it and however blocks are grouped;
- ``mean``, ``cov`` and the recorded moments are merged from per-block statistics with
  :func:`math.fsum`, which is exactly rounded, so they do not depend on the order in
  which tasks finish. The per-block statistics are computed by the same code on the same
  numbers, so on workers running the same NumPy the moments come out bit-identical too;
  the guarantee stated is "equal up to summation order": only a NumPy whose reductions
  group a block's sum differently could change the last bits.

Kernels
-------
The plan travels as one pickled payload: its steppers pickle as SymPy expressions
(the generated kernels rebuild themselves from their expressions), and each
worker process unpickles, and so lambdifies, a payload once and keeps it in a small
per-process cache keyed by the payload's SHA-256 (:func:`cache_info`). The payload is
itself a Dask task that the block tasks depend on, so it reaches each worker once and a
worker lost with it in memory is recovered by recomputing it.

Failures
--------
A worker lost mid-run (killed, out of memory) is handled by Dask: its tasks are
rescheduled on the remaining or restarted workers, and as each task is a pure function of
the plan and its block indices, the result is unchanged. Dask gives up on a task after
``distributed.scheduler.allowed-failures`` (default 3) worker deaths while running it.
"""

from __future__ import annotations

import atexit
import dataclasses
import hashlib
import logging
import os
import pickle
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from symsde.errors import InputError
from symsde.simulation import BlockStats, SimulationPlan, run_chunks

__all__ = [
    "INSTALL_HINT",
    "PlanPayload",
    "cache_info",
    "check_client",
    "close_local_cluster",
    "local_cluster_options",
    "require_distributed",
    "run_plan",
    "worker_plan",
]

#: What to run when ``dask.distributed`` is missing.
INSTALL_HINT = "pip install 'symsde[dask]' (or: pip install 'dask[distributed]')"
#: Plans kept per worker process (least recently used are dropped).
CACHE_SIZE = 8
#: Seconds to wait for a scheduler given by address.
CONNECT_TIMEOUT = 10


def require_distributed() -> Any:
    """Import and return :mod:`distributed`, or say how to install it.

    Raises
    ------
    InputError
        ``dask.distributed`` is not installed.
    """
    try:
        import distributed
    except ImportError:
        raise InputError(
            "backend='dask' needs dask.distributed, which is not installed; "
            f"install it with: {INSTALL_HINT}") from None
    return distributed


# -- the payload and the per-process cache ---------------------------------------------
@dataclass(frozen=True)
class PlanPayload:
    """A pickled :class:`~symsde.simulation.SimulationPlan` and its SHA-256 ``token``."""

    token: str
    data: bytes

    @classmethod
    def from_plan(cls, plan: SimulationPlan) -> PlanPayload:
        """Pickle ``plan`` (its kernels as SymPy expressions)."""
        data = pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL)
        return cls(hashlib.sha256(data).hexdigest(), data)


_PLANS: OrderedDict[str, SimulationPlan] = OrderedDict()
_LOCK = threading.Lock()
_COUNTS = {"builds": 0, "hits": 0}


def worker_plan(payload: PlanPayload) -> SimulationPlan:
    """The plan of ``payload``, unpickled (kernels lambdified) once per process.

    Examples
    --------
    >>> import sympy as sp
    >>> from symsde import SDE
    >>> from symsde.simulation import plan_simulation
    >>> x = sp.Symbol("x", real=True)
    >>> payload = PlanPayload.from_plan(plan_simulation(SDE([x], [x - x**3], 1), 0.0,
    ...                                                 n_paths=100))
    >>> worker_plan(payload) is worker_plan(payload)
    True
    """
    with _LOCK:
        plan = _PLANS.get(payload.token)
        if plan is not None:
            _PLANS.move_to_end(payload.token)
            _COUNTS["hits"] += 1
            return plan
    plan = pickle.loads(payload.data)  # lambdifies the kernels
    with _LOCK:
        if payload.token not in _PLANS:
            _COUNTS["builds"] += 1
            _PLANS[payload.token] = plan
            while len(_PLANS) > CACHE_SIZE:
                _PLANS.popitem(last=False)
        return _PLANS[payload.token]


def cache_info() -> dict[str, Any]:
    """This process's plan cache: ``builds``, ``hits``, ``pid`` and the cached ``tokens``."""
    with _LOCK:
        return {**_COUNTS, "pid": os.getpid(), "tokens": list(_PLANS)}


def _hold(payload: PlanPayload) -> PlanPayload:
    """The payload task: keeps the payload in worker memory for the block tasks."""
    return payload


def _run_task(payload: PlanPayload, blocks: tuple[int, ...]) -> list[BlockStats]:
    """One Dask task: run consecutive blocks of the plan, split over threads.

    The threads are ``plan.workers`` when the caller chose it, else the Dask worker's own
    thread count (so a cluster of single-threaded workers is not oversubscribed).
    """
    plan = worker_plan(payload)
    if not plan.workers_given:
        try:
            from distributed import get_worker

            threads = max(1, int(get_worker().state.nthreads))
        except (ImportError, ValueError, AttributeError):
            threads = 1
        plan = dataclasses.replace(plan, workers=threads)
    return run_chunks(plan, plan.thread_chunks(blocks))


# -- clients -----------------------------------------------------------------------------
_LOCAL: dict[str, Any] = {}


def local_cluster_options(n_workers: int) -> dict[str, Any]:
    """Keyword arguments of the LocalCluster that ``client=None`` starts.

    ``n_workers`` single-threaded worker processes; the scheduler, the workers and their
    nannies, and the scheduler's HTTP endpoint (health and metrics; the dashboard is off)
    listen on 127.0.0.1 only, on free ports.

    Examples
    --------
    >>> opts = local_cluster_options(2)
    >>> opts["host"], opts["n_workers"], opts["threads_per_worker"], opts["processes"]
    ('127.0.0.1', 2, 1, True)
    """
    return {"n_workers": n_workers, "threads_per_worker": 1, "processes": True,
            "host": "127.0.0.1", "dashboard_address": None,
            "scheduler_kwargs": {"dashboard_address": "127.0.0.1:0"},
            "silence_logs": logging.ERROR}


def _local_client() -> Any:
    """A client of a LocalCluster started on first use (loopback only), kept for reuse."""
    distributed = require_distributed()
    client = _LOCAL.get("client")
    if client is not None and client.status == "running":
        return client
    close_local_cluster()
    cluster = distributed.LocalCluster(**local_cluster_options(os.cpu_count() or 1))
    client = distributed.Client(cluster, set_as_default=False)
    _LOCAL.update(cluster=cluster, client=client)
    return client


def close_local_cluster() -> None:
    """Shut down the LocalCluster that ``client=None`` started, if any (also at exit)."""
    client, cluster = _LOCAL.pop("client", None), _LOCAL.pop("cluster", None)
    if client is not None:
        client.close()
    if cluster is not None:
        cluster.close()


atexit.register(close_local_cluster)


@contextmanager
def _client_for(client: Any) -> Iterator[Any]:
    distributed = require_distributed()
    if client is None:
        try:
            current = distributed.Client.current()
        except ValueError:
            current = _local_client()
        yield current
    elif isinstance(client, str):
        try:
            own = distributed.Client(client, set_as_default=False, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(
                f"could not connect to the Dask scheduler at {client!r} ({exc}); check that "
                "the scheduler runs and give its address as tcp://host:port") from None
        try:
            yield own
        finally:
            own.close()
    else:
        check_client(client)
        yield client


def check_client(client: Any) -> None:
    """Reject a ``client`` of the wrong type before any work (``None`` and str pass)."""
    if client is None or isinstance(client, str):
        return
    distributed = require_distributed()
    if not isinstance(client, distributed.Client):
        raise InputError(
            f"client must be a dask.distributed.Client or a scheduler address such as "
            f"'tcp://127.0.0.1:8786', got {type(client).__name__}")


# -- running a plan ----------------------------------------------------------------------
def run_plan(plan: SimulationPlan, client: Any = None,
             progress: Any = None) -> tuple[np.ndarray, list[BlockStats]]:
    """Run every block of ``plan`` as Dask tasks; return the final states and block stats.

    Parameters
    ----------
    plan : SimulationPlan
        From :func:`~symsde.simulation.plan_simulation` or
        :func:`~symsde.simulation.plan_sgd`. One task per chunk (``plan.chunks()``).
    client : distributed.Client, str or None
        A client, a scheduler address (a client is opened and closed for this run), or
        ``None``: the current client, or else a LocalCluster with one single-threaded
        worker process per core on 127.0.0.1, started once and reused.
    progress : tqdm-like, optional
        Receives ``update(plan.n_steps)`` as each task completes.

    Returns
    -------
    final : ndarray, shape (n_paths, d)
    stats : list of BlockStats
        One per block (their ``final`` is dropped once copied into ``final``); merge
        them with :func:`~symsde.simulation.combine_blocks`.
    """
    distributed = require_distributed()
    payload = PlanPayload.from_plan(plan)
    run = f"{payload.token[:12]}-{uuid.uuid4().hex[:8]}"
    final = np.empty((plan.n_paths, plan.d))
    stats: list[BlockStats] = []
    with _client_for(client) as cl:
        held = cl.submit(_hold, payload, key=f"symsde-plan-{run}", pure=False)
        futures = [cl.submit(_run_task, held, tuple(blocks), key=(f"symsde-blocks-{run}", i),
                             pure=False)
                   for i, blocks in enumerate(plan.chunks())]
        pending = set(futures)
        try:
            for fut, part in distributed.as_completed(futures, loop=cl.loop, with_results=True):
                for bs in part:
                    a, b = plan.block_range(bs.index)
                    final[a:b] = bs.final
                    bs.final = None
                    stats.append(bs)
                pending.discard(fut)
                fut.release()  # frees the task's result on its worker
                if progress is not None:
                    progress.update(plan.n_steps)
        finally:
            if pending:
                cl.cancel(list(pending))
            held.release()
    return final, stats
