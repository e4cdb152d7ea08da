"""Peak memory of simulate(dX = -X dt + dB) against the size of one state array.

Each configuration runs in a fresh subprocess. Two measurements:

- tracemalloc: the peak of memory allocated (NumPy reports its buffers to tracemalloc)
  during the ``simulate`` call;
- RSS: the kernel's resident-set high-water mark during the call, reset just before it
  through /proc/self/clear_refs, minus the resident size before the call.

One state array is n_paths x d x 8 bytes (d = 1: 8 MB for 10^6 paths). The figures for
10^2, 10^3 and 10^4 steps show that memory does not depend on the number of steps.

Usage: python benchmarks/bench_memory.py [--quick]   (--quick: 10^2 and 10^3 steps only)
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, quick

CHILD = r"""
import json, sys, time, tracemalloc
import sympy as sp
from symsde import SDE, simulate

def status(key):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return -1

n_paths, n_steps = int(sys.argv[1]), int(sys.argv[2])
x = sp.Symbol("x", real=True)
sde = SDE([x], [-x], 1)
# warm up imports and caches, and compile the step the measured run takes (the same SDE
# and dt; kernel="auto" compiles runs this large): compiling is a one-off cost, measured
# apart in "compile_rss"
rss_start = status("VmRSS")
simulate(sde, 0.0, n_steps=2, n_paths=1000, kernel="numba")
compile_rss = status("VmRSS") - rss_start
try:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset the RSS high-water mark
    hwm_reset = True
except OSError:
    hwm_reset = False
rss0 = status("VmRSS")
tracemalloc.start()
t0 = time.perf_counter()
res = simulate(sde, 0.0, dt=0.01, n_steps=n_steps, n_paths=n_paths, seed=0, workers=1)
seconds = time.perf_counter() - t0
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
print(json.dumps({"peak": peak, "rss_delta": status("VmHWM") - rss0, "hwm_reset": hwm_reset,
                  "seconds": seconds, "var": float(res.cov[0, 0]), "kernel": res.kernel,
                  "compile_rss": compile_rss}))
"""


def run(n_paths: int, n_steps: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(n_paths), str(n_steps)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    n_paths = 1_000_000
    steps = [100, 1000] if quick() else [100, 1000, 10_000]
    state = n_paths * 8
    print(f"machine: {machine()}")
    print(f"one state array: {n_paths} paths x 1 x 8 B = {state / 1e6:.1f} MB")
    worst = 0.0
    for n in steps:
        t0 = time.perf_counter()
        r = run(n_paths, n)
        ratio, rss_ratio = r["peak"] / state, r["rss_delta"] / state
        worst = max(worst, ratio, rss_ratio if r["hwm_reset"] else 0.0)
        rss = f"{r['rss_delta'] / 1e6:6.1f} MB ({rss_ratio:.2f}x)" if r["hwm_reset"] else "n/a"
        print(f"{n_paths} paths x {n:>6d} steps: tracemalloc peak {r['peak'] / 1e6:6.2f} MB "
              f"({ratio:.2f}x a state array), RSS high-water delta {rss}; "
              f"simulate {r['seconds']:.1f} s ({r['kernel']}), total "
              f"{time.perf_counter() - t0:.1f} s; compiling took {r['compile_rss'] / 1e6:.0f} "
              "MB of RSS once, before")
    print(f"worst ratio: {worst:.2f}x (target <= 3)")
    print(f"RESULT memory_ratio {worst:.2f}")


if __name__ == "__main__":
    main()
