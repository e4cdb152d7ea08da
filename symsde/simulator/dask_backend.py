"""Run a simulation plan on a Dask cluster (``simulate(..., backend="dask")``).

How a run is split
------------------
A :class:`~symsde.simulator.SimulationPlan` fixes the seeding blocks: block ``j`` owns
the random stream ``SeedSequence(seed, spawn_key=(j,))``. Each Dask task runs one chunk
of consecutive blocks (``plan.chunks()``, set by ``chunk_size``; 65536 paths of a scalar
state by default) through :func:`~symsde.simulator.run_blocks`, the same function the
local backend calls, and returns the chunk's :class:`~symsde.simulator.BlockStats`
(count of finite paths, means, centred second moments, the same at every recorded time,
kept paths and the chunk's final states). The client copies the final states into place
and merges the statistics with :func:`~symsde.simulator.combine_blocks`.

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

from symsde.errors import BackendError, InputError
from symsde.simulator.base import BlockStats
from symsde.simulator.blocks import run_chunks
from symsde.simulator.plan import SimulationPlan

__all__ = [
    "INSTALL_HINT",
    "PlanPayload",
    "cache_info",
    "check_client",
    "close_local_cluster",
    "connect",
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
    """A pickled :class:`~symsde.simulator.SimulationPlan` and its SHA-256 ``token``."""

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
    >>> from symsde.simulator import plan_simulation
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


def _address(address: str) -> str:
    """A scheduler address that symsde can reach: tcp://host:port, checked before any wait.

    Examples
    --------
    >>> _address("127.0.0.1:8786")
    'tcp://127.0.0.1:8786'
    >>> _address("tls://h:1")
    Traceback (most recent call last):
    ...
    symsde.errors.InputError: scheduler address 'tls://h:1': tls:// needs certificates, ...
    """
    if not isinstance(address, str) or not address.strip():
        raise InputError(f"the scheduler address {address!r} is empty; give tcp://host:port")
    address = address.strip()
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    scheme = scheme.lower()
    if scheme == "tls":
        raise InputError(
            f"scheduler address {address!r}: tls:// needs certificates, which symsde does not "
            "configure; give a tcp:// address, or from Python pass a connected "
            "distributed.Client (with its Security) as client=")
    if scheme != "tcp":
        raise InputError(f"scheduler address {address!r}: the protocol {scheme}:// is not "
                         "supported; give tcp://host:port")
    host, _, port = rest.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536 or "/" in rest:
        raise InputError(f"scheduler address {address!r} is not of the form tcp://host:port "
                         "(e.g. tcp://127.0.0.1:8786)")
    return f"tcp://{rest}"


def _reachable(address: str, timeout: float) -> None:
    """Refuse at once an address whose host is unknown or whose port nobody listens on.

    (Dask's own connect retries a refused connection until its timeout.)
    """
    import socket

    host, _, port = address[len("tcp://"):].rpartition(":")
    host = host.strip("[]")
    try:
        with socket.create_connection((host, int(port)), timeout=min(timeout, 5.0)):
            pass
    except ConnectionRefusedError:
        raise InputError(f"could not connect to the Dask scheduler at {address} (connection "
                         "refused: nothing listens on that port); check that the scheduler "
                         "runs and give its address as tcp://host:port") from None
    except socket.gaierror as exc:
        raise InputError(f"could not connect to the Dask scheduler at {address} (unknown "
                         f"host {host!r}: {exc.strerror}); check the address") from None
    except OSError:
        pass  # a time-out or another failure: the probe reports it within the budget


def _probe(address: str, timeout: float, shown: float | None = None) -> dict[str, Any]:
    """Connect, handshake and ask the scheduler who it is, all within ``timeout`` seconds.

    Runs its own event loop in a helper thread (the caller may already run one, as
    Jupyter does), so a peer that accepts and never speaks costs ``timeout`` at most.
    """
    import asyncio

    from distributed.comm import connect as comm_connect

    async def ask() -> dict[str, Any]:
        comm = await comm_connect(address, timeout=timeout)
        try:
            await comm.write({"op": "identity", "n_workers": 0, "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["reply"] = asyncio.run(asyncio.wait_for(ask(), timeout))
        except BaseException as exc:
            out["error"] = exc

    t = threading.Thread(target=run, name="symsde-dask-probe", daemon=True)
    t.start()
    t.join(timeout + 0.2)
    if t.is_alive() or isinstance(out.get("error"), (TimeoutError, asyncio.TimeoutError)):
        raise BackendError(
            f"no Dask scheduler answered at {address} within {shown or timeout:g} s (the "
            "connection or its handshake did not complete); check the address and that the "
            "scheduler runs, or raise --timeout")
    exc = out.get("error")
    if exc is not None:
        why = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise InputError(f"could not connect to the Dask scheduler at {address} ({why}); "
                         "check that the scheduler runs and give its address as "
                         "tcp://host:port") from None
    reply = out.get("reply")
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise InputError(f"the server at {address} is not a Dask scheduler (it answered "
                         f"{type(reply).__name__}); give the scheduler's address")
    return reply


def connect(address: str, timeout: float = CONNECT_TIMEOUT) -> Any:
    """A client of the scheduler at ``address``, with at least one worker, within ``timeout``.

    Every wait (connect, handshake, the client's start, waiting for a worker) shares the one
    budget of ``timeout`` seconds; on any failure the client is closed and one
    :class:`~symsde.errors.SymsdeError` says what went wrong: an
    :class:`~symsde.errors.InputError` for an address that is malformed, of an unsupported
    protocol, refused or not a scheduler; a :class:`~symsde.errors.BackendError` (exit
    code 1) for a peer that does not answer in time or a scheduler without workers.
    """
    import time

    distributed = require_distributed()
    address = _address(address)
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise InputError(f"timeout must be a positive number of seconds, got {timeout!r}")
    end = time.monotonic() + float(timeout)
    _reachable(address, float(timeout))
    info = _probe(address, max(end - time.monotonic(), 0.1), shown=float(timeout))

    def left() -> float:
        return max(end - time.monotonic(), 0.05)

    client = None
    try:
        client = distributed.Client(address, timeout=left(), set_as_default=False)
        if not info.get("n_workers"):
            client.wait_for_workers(1, timeout=left())
    except BaseException as exc:
        if client is not None:
            client.close(timeout=2)
        if isinstance(exc, (TimeoutError, OSError)) or type(exc).__name__ == "TimeoutError":
            if not info.get("n_workers"):
                raise BackendError(
                    f"the Dask scheduler at {address} has no workers (waited {timeout:g} s); "
                    f"start one with: dask worker {address}") from None
            raise BackendError(f"the Dask scheduler at {address} did not accept a client "
                               f"within {timeout:g} s; raise --timeout") from None
        raise
    return client


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
        own = connect(client, CONNECT_TIMEOUT)
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
        From :func:`~symsde.simulator.plan_simulation` or
        :func:`~symsde.simulator.plan_sgd`. One task per chunk (``plan.chunks()``).
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
        them with :func:`~symsde.simulator.combine_blocks`.
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
