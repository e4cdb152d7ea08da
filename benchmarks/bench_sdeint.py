"""symsde.simulate against sdeint.itoEuler (one path at a time) on dX = -X dt + dB.

sdeint integrates one path per call (its own Brownian increments, a Python loop over the
steps). It is timed on enough paths to extrapolate a per-path-step cost; ``simulate`` runs
the full 10^5 paths x 10^3 steps in the same process. The figure is the ratio of the
per-path-step times.

Usage: python benchmarks/bench_sdeint.py [--quick]   (needs the ``bench`` extra: sdeint)
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


def main() -> None:
    try:
        import sdeint
    except ImportError:
        sys.exit("bench_sdeint needs sdeint: pip install -e '.[bench]'")
    n_paths, n_steps, dt = 100_000, 1000, 0.01
    sde_paths = 10 if quick() else 100
    reps = 2 if quick() else 3
    print(f"machine: {machine()}")
    tspan = np.linspace(0.0, n_steps * dt, n_steps + 1)

    def f(x: np.ndarray, t: float) -> np.ndarray:
        return -x

    def G(x: np.ndarray, t: float) -> np.ndarray:
        return np.array([[1.0]])

    y0 = np.array([0.0])
    np.random.seed(0)
    sdeint.itoEuler(f, G, y0, tspan)  # warm up
    x = sp.Symbol("x", real=True)
    sde = SDE([x], [-x], 1)
    t_sdeint, t_ours = [], []
    for _ in range(reps):  # interleaved, so that load from other processes hits both alike
        t0 = time.perf_counter()
        finals = [sdeint.itoEuler(f, G, y0, tspan)[-1, 0] for _ in range(sde_paths)]
        t_sdeint.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        res = simulate(sde, 0.0, dt=dt, n_steps=n_steps, n_paths=n_paths, seed=0,
                       workers=1)
        t_ours.append(time.perf_counter() - t0)
    per_sdeint = min(t_sdeint) / (sde_paths * n_steps)
    per_ours = min(t_ours) / (n_paths * n_steps)
    print(f"sdeint.itoEuler: {sde_paths} paths x {n_steps} steps in {min(t_sdeint):.3f} s "
          f"= {per_sdeint * 1e9:.0f} ns per path-step (final var {np.var(finals):.2f})")
    print(f"symsde.simulate: {n_paths} paths x {n_steps} steps in {min(t_ours):.3f} s "
          f"= {per_ours * 1e9:.2f} ns per path-step (final var {res.cov[0, 0]:.3f})")
    print(f"speed-up per path-step: {per_sdeint / per_ours:.0f}x (target >= 300)")
    print(f"RESULT sdeint_speedup {per_sdeint / per_ours:.0f}")


if __name__ == "__main__":
    main()
