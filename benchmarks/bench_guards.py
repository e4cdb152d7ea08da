"""The work guard's rates against this machine (issue 15, class 5): not a test.

Prints the measured cost of one step of a chunk of few paths and of one path-step of many
paths next to the constants of :mod:`symsde.guards`, and their ratio; the guard is meant
to be at or above the measured cost (ratio >= 1), so that it never accepts a run much
longer than the half hour it states.
"""

from __future__ import annotations

import time

import sympy as sp

from symsde import SDE, simulate
from symsde.guards import SECONDS_PER_CHUNK_STEP, SECONDS_PER_PATH_STEP


def main() -> None:
    x = sp.Symbol("x", real=True)
    sde = SDE([x], [-x], 1)
    simulate(sde, 0.0, dt=0.01, n_steps=10, n_paths=10)  # compile once
    for method in ("euler", "milstein"):
        t = time.perf_counter()
        simulate(sde, 0.0, dt=0.01, n_steps=20_000, n_paths=2, method=method)
        per_step = (time.perf_counter() - t) / 20_000
        t = time.perf_counter()
        simulate(sde, 0.0, dt=0.01, n_steps=50, n_paths=200_000, method=method)
        per_path_step = (time.perf_counter() - t) / (50 * 200_000)
        print(f"{method:8s} step of a chunk: measured {per_step * 1e6:6.2f} us, guard "
              f"{SECONDS_PER_CHUNK_STEP * 1e6:.2f} us (ratio "
              f"{SECONDS_PER_CHUNK_STEP / per_step:.2f})")
        print(f"{method:8s} path-step:       measured {per_path_step * 1e9:6.2f} ns, guard "
              f"{SECONDS_PER_PATH_STEP * 1e9:.2f} ns (ratio "
              f"{SECONDS_PER_PATH_STEP / per_path_step:.2f})")


if __name__ == "__main__":
    main()
