"""The Dask backend on a 2-worker LocalCluster against the local backend.

Speed-up: ``simulate`` on dX = -X dt + dB, 10^6 paths x 10^3 steps (10^9 path-steps),
seed 0, with ``backend="local"`` (one process, one core) and with ``backend="dask"`` on a
LocalCluster of 2 single-threaded worker processes on 127.0.0.1 (the default chunks:
65536 paths a task, 16 tasks). Runs are interleaved (local, dask, local, dask, ...) so
that load from other processes hits both alike; the figure is best-of-n local over
best-of-n dask, with the paired ratios alongside. Each Dask result is checked to be bit
for bit the local one.

Overhead per task: 400 near-empty tasks (256 paths x 1 step each) on the same cluster;
the wall time per task minus the local compute per task. Also the round trip of a
one-task call (pickle the plan, the payload task, one block task, gather, combine).

Load: the 1-minute load average before each timed run, and the CPU time other processes
used during it (from /proc/stat minus this process tree), in cores.

Usage: python benchmarks/bench_dask.py [--quick]
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import sympy as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, quick

from symsde import SDE, simulate
from symsde.dask_backend import local_cluster_options


def _busy_seconds() -> float:
    """CPU seconds spent busy by the whole machine so far (all cores)."""
    with open("/proc/stat") as fh:
        fields = [float(v) for v in fh.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    """CPU seconds of this process and its children (the cluster's workers)."""
    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += sum(child.cpu_times()[:2])
    return total


class Timing:
    """Wall seconds, the load average before, our CPU seconds, others' mean cores."""

    def __init__(self, fn: Any) -> None:
        self.load = os.getloadavg()[0]
        b0, o0, t0 = _busy_seconds(), _own_seconds(), time.perf_counter()
        self.result = fn()
        self.wall = time.perf_counter() - t0
        self.cpu = _own_seconds() - o0
        self.others = max(0.0, (_busy_seconds() - b0) - self.cpu) / self.wall

    def __str__(self) -> str:
        return (f"{self.wall:7.3f} s  (cpu {self.cpu:6.2f} s; load {self.load:.2f}, "
                f"other processes {self.others:.2f} cores)")


def main() -> None:
    import distributed

    n_paths, n_steps = (100_000, 100) if quick() else (1_000_000, 1000)
    reps = 1 if quick() else 3
    x = sp.Symbol("x", real=True)
    sde = SDE([x], [-x], 1)
    kw: dict[str, Any] = {"x0": 0.0, "dt": 0.01, "n_steps": n_steps, "n_paths": n_paths,
                          "seed": 0, "workers": 1}  # one core locally, one thread a task
    print(f"machine: {machine()}; dask {distributed.__version__}")
    print(f"load average before start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"problem: dX = -X dt + dB, {n_paths} paths x {n_steps} steps "
          f"({n_paths * n_steps:.0e} path-steps), best of {reps}, interleaved")
    t0 = time.perf_counter()
    with distributed.LocalCluster(**local_cluster_options(2)) as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        client.wait_for_workers(2)
        print(f"cluster: 2 workers x 1 thread on 127.0.0.1, started in "
              f"{time.perf_counter() - t0:.2f} s")
        simulate(sde, **{**kw, "n_paths": 1000, "n_steps": 10}, backend="dask",
                 client=client)  # warm-up: imports and kernels on the workers

        loc: list[Timing] = []
        dsk: list[Timing] = []
        for r in range(reps):
            loc.append(Timing(lambda: simulate(sde, **kw)))
            print(f"  rep {r}: local {loc[-1]}")
            dsk.append(Timing(lambda: simulate(sde, **kw, backend="dask", client=client)))
            ref, res = loc[-1].result, dsk[-1].result
            same = (np.array_equal(res.final, ref.final) and np.array_equal(res.mean, ref.mean)
                    and np.array_equal(res.cov, ref.cov))
            print(f"  rep {r}: dask  {dsk[-1]}  bit-identical to local: {same}")
            loc[-1].result = dsk[-1].result = None
            if not same:
                raise SystemExit("the Dask result differs from the local one")
        tasks = -(-n_paths // 65536)
        lo, da = min(t.wall for t in loc), min(t.wall for t in dsk)
        paired = sorted(a.wall / b.wall for a, b in zip(loc, dsk, strict=True))
        work = min(t.cpu for t in loc) / min(t.cpu for t in dsk)
        print(f"local: {lo:7.3f} s ({lo / (n_paths * n_steps) * 1e9:.2f} ns per path-step)")
        print(f"dask:  {da:7.3f} s ({tasks} tasks)")
        print(f"speed-up (2 workers) {lo / da:.3f} x (target >= 1.6); paired "
              f"{', '.join(f'{p:.3f}' for p in paired)}")
        print(f"CPU seconds, local / dask (all processes of the run): {work:.3f} "
              "(1 = no CPU spent on distribution)")

        # -- overhead per task ----------------------------------------------------------
        n_tasks = 100 if quick() else 400
        small: dict[str, Any] = {"x0": 0.0, "dt": 0.01, "n_steps": 1,
                                 "n_paths": 256 * n_tasks, "seed": 0, "block_size": 256,
                                 "chunk_size": 256}
        w_loc = min(Timing(lambda: simulate(sde, **small)).wall for _ in range(3))
        runs = [Timing(lambda: simulate(sde, **small, backend="dask", client=client))
                for _ in range(3)]
        w_dask = min(r.wall for r in runs)
        per = (w_dask - w_loc) / n_tasks
        print(f"overhead: {n_tasks} near-empty tasks in {w_dask:.3f} s on the cluster "
              f"against {w_loc:.3f} s locally: {per * 1e3:.2f} ms per task "
              f"(load {runs[0].load:.2f}, other processes {runs[0].others:.2f} cores)")
        one = {**small, "n_paths": 256}
        trips = sorted(Timing(lambda: simulate(sde, **one, backend="dask", client=client)).wall
                       for _ in range(10))
        print(f"one-task call round trip: median {trips[5] * 1e3:.1f} ms, "
              f"best {trips[0] * 1e3:.1f} ms")
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"RESULT dask_speedup_2_workers {lo / da:.3f}")
    print(f"RESULT dask_overhead_ms_per_task {per * 1e3:.3f}")


if __name__ == "__main__":
    main()
