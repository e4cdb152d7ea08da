"""Euler-Maruyama for dX = -X dt + dB against the random-number floor.

Floor: the time the fastest NumPy bit generator takes just to draw the same standard
normals (n_paths x n_steps) in blocks of n_paths into a preallocated buffer, in this
process. The simulator uses SFC64 (``symsde.simulation.BIT_GENERATOR``); the benchmark
times every NumPy bit generator and checks that SFC64 is the fastest here.

The drift -x is affine, so ``simulate`` takes its linear fast path, which is generated
from the symbolic drift (``symsde.kernels.affine_drift`` reads A and c off the Jacobian).
At this size ``simulate`` compiles that step (``kernel="auto"``); for information the
same run is also timed on NumPy ufunc calls (``kernel="numpy"``) and through the general
fused stepper (ufunc calls).

Usage: python benchmarks/bench_euler.py [--quick]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import sympy as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, quick

from symsde import SDE, simulate
from symsde.simulation import (
    BIT_GENERATOR,
    _execute,
    _GeneralStepper,
    plan_simulation,
)

GENERATORS = ["PCG64", "PCG64DXSM", "SFC64", "Philox", "MT19937"]


def floor(name: str, n_paths: int, n_steps: int) -> float:
    gen = np.random.Generator(getattr(np.random, name)(12345))
    buf = np.empty(n_paths)
    t0 = time.perf_counter()
    for _ in range(n_steps):
        gen.standard_normal(out=buf, dtype=np.float64)
    return time.perf_counter() - t0


def main() -> None:
    n_paths, n_steps = (100_000, 200) if quick() else (100_000, 1000)
    reps = 2 if quick() else 7
    x = sp.Symbol("x", real=True)
    sde = SDE([x], [-x], 1)
    print(f"machine: {machine()}")
    print(f"problem: dX = -X dt + dB, {n_paths} paths x {n_steps} steps "
          f"({n_paths * n_steps:.0e} normals), best of {reps}")

    per_gen = {g: np.inf for g in GENERATORS}
    for _ in range(3):  # interleaved rounds, best of each
        for g in GENERATORS:
            per_gen[g] = min(per_gen[g], floor(g, n_paths, n_steps))
    fastest = min(per_gen, key=per_gen.get)
    for g, t in sorted(per_gen.items(), key=lambda kv: kv[1]):
        print(f"  floor {g:<10s} {t:7.3f} s")
    used = BIT_GENERATOR.__name__
    print(f"fastest bit generator here: {fastest}; the simulator uses {used}")

    # Interleave floor and simulation so that load from other processes hits both alike.
    t_floor, t_sim, t_np, t_gen = [], [], [], []
    general = plan_simulation(sde, 0.0, dt=0.01, n_steps=n_steps, n_paths=n_paths, seed=0,
                              workers=1)
    general.stepper = _GeneralStepper(sde, sde.drift, sde.diffusion, 0.01, milstein=False)
    for _ in range(reps):
        t_floor.append(floor(used, n_paths, n_steps))
        t0 = time.perf_counter()
        simulate(sde, 0.0, dt=0.01, n_steps=n_steps, n_paths=n_paths, seed=0, workers=1)
        t_sim.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        simulate(sde, 0.0, dt=0.01, n_steps=n_steps, n_paths=n_paths, seed=0, workers=1,
                 kernel="numpy")
        t_np.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        _execute(general, False, 0.0, "general")
        t_gen.append(time.perf_counter() - t0)
    f, s, n, g = min(t_floor), min(t_sim), min(t_np), min(t_gen)
    print(f"floor ({used}):                        {f:7.3f} s")
    print(f"simulate, linear fast path (compiled): {s:7.3f} s  ratio {s / f:.3f} "
          "(target <= 1.3)")
    print(f"the same, kernel='numpy':              {n:7.3f} s  ratio {n / f:.3f} (information)")
    print(f"general fused path, ufunc calls:       {g:7.3f} s  ratio {g / f:.3f} (information)")
    ratios = sorted(a / b for a, b in zip(t_sim, t_floor, strict=True))
    print(f"paired per-repetition ratios (fast path): {', '.join(f'{r:.3f}' for r in ratios)}"
          f"; median {float(np.median(ratios)):.3f}")
    if fastest != used:
        print(f"note: {fastest} was faster than {used} in this run; ratio against it: "
              f"{s / per_gen[fastest]:.3f}")
    print(f"RESULT euler_floor_ratio {s / f:.3f}")


if __name__ == "__main__":
    main()
