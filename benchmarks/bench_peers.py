"""symsde against its peers on one CPU, measured side by side in one process.

Problems (10^5 paths x 10^3 steps, dt = 0.01, X_0 = 0):

- OU: dX = -X dt + dB (symsde takes its linear fast path);
- double well: dX = (X - X^3) dt + dB/2 (symsde's general path: the fused kernel).

Rows: the RNG floor (drawing the same 10^8 normals with NumPy's SFC64 into a
preallocated buffer, one block of 16384 at a time, one thread); symsde compiled
(``kernel="numba"``) with ``workers=1`` and ``workers=None`` (all cores), and on NumPy
ufunc calls (``kernel="numpy"``, one worker), which must give the same bits; the double
well written by hand in NumPy, in place on preallocated arrays; a Numba fused loop
(normals drawn inside, one thread, and ``prange`` on all cores); diffrax (JAX on CPU,
``jit(vmap(...))`` over paths, Euler, fixed step, ``UnsafeBrownianPath``); sdeint
``itoEuler`` one path at a time (extrapolated from a few paths). Figures are ns per
path-step and the ratio to the floor; every row is the best of ``--reps`` repetitions
(default 3; peers slower than 10x the floor: 1), interleaved, so that load from other
processes hits all rows alike. The CPU columns give the CPU seconds of all the process's
threads in that repetition (``time.process_time``): on a loaded machine they show the
work each row needs, and CPU / wall above 1 shows threads running at once. Each row also
prints the variance of its final states (all rows simulate the same law, so these must
agree to a few percent).

Optional peers are skipped with the reason when their package is missing
(``pip install -e '.[bench]'`` installs numba, jax, diffrax and sdeint).

Usage: python benchmarks/bench_peers.py [--quick] [--reps N]
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np
import sympy as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, quick

from symsde import SDE, simulate
from symsde.simulation import BIT_GENERATOR, resolve_workers

N_PATHS, N_STEPS, DT = (20_000, 200, 0.01) if quick() else (100_000, 1000, 0.01)
BLOCK = 16384
OU1 = "symsde OU, workers=1 (compiled)"
DW1 = "symsde double well, workers=1 (compiled)"
DW1_NUMPY = "symsde double well, workers=1, kernel='numpy' (ufunc calls)"
SIG_DW = 0.5  # the double well's noise


def _reps() -> int:
    if "--reps" in sys.argv:
        return int(sys.argv[sys.argv.index("--reps") + 1])
    return 2 if quick() else 3


# -- rows ---------------------------------------------------------------------------------------
def rng_floor() -> np.ndarray:
    gens = [np.random.Generator(BIT_GENERATOR(np.random.SeedSequence(0, spawn_key=(j,))))
            for j in range(-(-N_PATHS // BLOCK))]
    Z = np.empty(BLOCK)
    for _ in range(N_STEPS):
        for j, g in enumerate(gens):
            n = min(BLOCK, N_PATHS - j * BLOCK)
            g.standard_normal(out=Z[:n])
    return Z


x = sp.Symbol("x", real=True)
OU = SDE([x], [-x], 1)
DW = SDE([x], [x - x**3], sp.Rational(1, 2))


FIRST: dict[str, float] = {}  # seconds of each symsde row's first call (compiling included)


def symsde_row(name: str, sde: SDE, workers: int | None, kernel: str
               ) -> tuple[str, Callable[[], np.ndarray], int]:
    def run() -> np.ndarray:
        t0 = time.perf_counter()
        res = simulate(sde, 0.0, dt=DT, n_steps=N_STEPS, n_paths=N_PATHS, seed=0,
                       workers=workers, kernel=kernel)
        FIRST.setdefault(name, time.perf_counter() - t0)
        assert res.kernel == kernel
        return res.final[:, 0]
    return name, run, N_PATHS


def numpy_by_hand() -> np.ndarray:
    """The double well as a careful user writes it: in place, no temporaries."""
    g = np.random.Generator(BIT_GENERATOR(0))
    X, Z, T = np.zeros(N_PATHS), np.empty(N_PATHS), np.empty(N_PATHS)
    s = SIG_DW * math.sqrt(DT)
    for _ in range(N_STEPS):
        g.standard_normal(out=Z)
        np.multiply(X, X, out=T)
        T *= X  # x^3
        np.subtract(X, T, out=T)  # x - x^3
        T *= DT
        Z *= s
        X += T
        X += Z
    return X


def numba_rows() -> tuple[Callable[[], np.ndarray], Callable[[], np.ndarray]] | str:
    try:
        import numba
    except ImportError:
        return "numba is not installed (pip install -e '.[bench]')"

    @numba.njit(cache=False, fastmath=False)
    def serial(n: int, steps: int, dt: float, s: float) -> np.ndarray:
        np.random.seed(0)
        out = np.zeros(n)
        sq = s * math.sqrt(dt)
        for i in range(n):
            v = 0.0
            for _ in range(steps):
                v += (v - v * v * v) * dt + sq * np.random.standard_normal()
            out[i] = v
        return out

    @numba.njit(parallel=True, cache=False)
    def parallel(n: int, steps: int, dt: float, s: float) -> np.ndarray:
        np.random.seed(0)
        out = np.zeros(n)
        sq = s * math.sqrt(dt)
        for i in numba.prange(n):
            v = 0.0
            for _ in range(steps):
                v += (v - v * v * v) * dt + sq * np.random.standard_normal()
            out[i] = v
        return out

    serial(10, 2, DT, SIG_DW)  # compile outside the timing
    parallel(10, 2, DT, SIG_DW)
    return (lambda: serial(N_PATHS, N_STEPS, DT, SIG_DW),
            lambda: parallel(N_PATHS, N_STEPS, DT, SIG_DW))


def diffrax_row() -> Callable[[], np.ndarray] | str:
    try:
        import diffrax
        import jax
        import jax.numpy as jnp
    except ImportError as exc:
        return f"diffrax/jax not installed ({exc.name}; pip install -e '.[bench]')"
    jax.config.update("jax_enable_x64", True)

    def one(key: jax.Array) -> jax.Array:
        drift = diffrax.ODETerm(lambda t, y, a: y - y**3)
        bm = diffrax.UnsafeBrownianPath(shape=(), key=key)
        diff = diffrax.ControlTerm(lambda t, y, a: SIG_DW, bm)
        sol = diffrax.diffeqsolve(diffrax.MultiTerm(drift, diff), diffrax.Euler(), t0=0.0,
                                  t1=N_STEPS * DT, dt0=DT, y0=jnp.array(0.0),
                                  saveat=diffrax.SaveAt(t1=True), max_steps=N_STEPS + 1,
                                  adjoint=diffrax.ForwardMode())
        return sol.ys[-1]

    run = jax.jit(jax.vmap(one))
    keys = jax.random.split(jax.random.PRNGKey(0), N_PATHS)
    run(keys).block_until_ready()  # compile outside the timing
    return lambda: np.asarray(run(keys).block_until_ready())


def sdeint_row() -> tuple[Callable[[], np.ndarray], int] | str:
    try:
        import sdeint
    except ImportError:
        return "sdeint is not installed (pip install -e '.[bench]')"
    k = 5 if quick() else 20
    tspan = np.linspace(0.0, N_STEPS * DT, N_STEPS + 1)

    def f(y: np.ndarray, t: float) -> np.ndarray:
        return y - y**3

    def G(y: np.ndarray, t: float) -> np.ndarray:
        return np.array([[SIG_DW]])

    def run() -> np.ndarray:
        np.random.seed(0)
        return np.array([sdeint.itoEuler(f, G, np.array([0.0]), tspan)[-1, 0]
                         for _ in range(k)])
    return run, k


# -- driver ---------------------------------------------------------------------------------------
def main() -> None:
    reps = _reps()
    cores = resolve_workers(None)
    print(f"machine: {machine()}")
    print(f"problem: {N_PATHS} paths x {N_STEPS} steps, dt = {DT}; best of {reps}, "
          f"interleaved; cores available to this process: {cores}")
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    # compile from scratch, as a first run on a new machine does (FIRST reports it)
    os.environ["SYMSDE_CACHE_DIR"] = tempfile.mkdtemp(prefix="symsde-bench-")
    rows: list[tuple[str, Callable[[], np.ndarray], int]] = [
        ("RNG floor (SFC64, 1 thread)", rng_floor, N_PATHS),
        symsde_row(OU1, OU, 1, "numba"),
        symsde_row(f"symsde OU, workers=None ({cores} threads, compiled)", OU, None, "numba"),
        symsde_row("symsde OU, workers=1, kernel='numpy' (ufunc calls)", OU, 1, "numpy"),
        symsde_row(DW1, DW, 1, "numba"),
        symsde_row(f"symsde double well, workers=None ({cores} threads, compiled)", DW, None,
                   "numba"),
        symsde_row(DW1_NUMPY, DW, 1, "numpy"),
        ("double well by hand, NumPy in place", numpy_by_hand, N_PATHS),
    ]
    skipped: list[str] = []
    nb = numba_rows()
    if isinstance(nb, str):
        skipped.append(f"numba: {nb}")
    else:
        import numba

        rows += [("Numba fused loop, 1 thread", nb[0], N_PATHS),
                 (f"Numba fused loop, prange ({numba.get_num_threads()} threads)", nb[1],
                  N_PATHS)]
    dx = diffrax_row()
    if isinstance(dx, str):
        skipped.append(f"diffrax: {dx}")
    else:
        rows.append(("diffrax Euler, jit(vmap), JAX CPU", dx, N_PATHS))
    sd = sdeint_row()
    if isinstance(sd, str):
        skipped.append(f"sdeint: {sd}")
    else:
        rows.append((f"sdeint itoEuler, one path at a time ({sd[1]} paths)", sd[0], sd[1]))
    for reason in skipped:
        print(f"skipped {reason}")

    best: dict[str, float] = {}
    cpu: dict[str, float] = {}  # CPU seconds of all threads, in the best wall-time repetition
    finals: dict[str, np.ndarray] = {}
    for r in range(reps):
        for name, fn, n in rows:
            if r and name in best and best[name] > 10 * best.get(rows[0][0], math.inf):
                continue  # slow peers: one repetition is enough
            c0, t0 = time.process_time(), time.perf_counter()
            out = fn()
            el = (time.perf_counter() - t0) / (n * N_STEPS) * 1e9
            cpu_el = (time.process_time() - c0) / (n * N_STEPS) * 1e9
            if el < best.get(name, math.inf):
                cpu[name] = cpu_el
            best[name] = min(best.get(name, math.inf), el)
            finals[name] = np.asarray(out)
        print(f"  repetition {r + 1}/{reps} done; load average "
              f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)
    floor = best[rows[0][0]]
    print()
    cfloor = cpu[rows[0][0]]
    print("| method | ns/path-step | x RNG floor | CPU ns/path-step | CPU x floor "
          "| CPU / wall | var of final states |")
    print("|---|---|---|---|---|---|---|")
    for name, _, _ in rows:
        v = "" if name == rows[0][0] else f"{float(np.var(finals[name])):.4f}"
        print(f"| {name} | {best[name]:.2f} | {best[name] / floor:.2f} | {cpu[name]:.2f} | "
              f"{cpu[name] / cfloor:.2f} | {cpu[name] / best[name]:.2f} | {v} |")
    dw1 = best[DW1]
    hand = best["double well by hand, NumPy in place"]
    ou1, oun = best[rows[1][0]], best[rows[2][0]]
    dwn = best[rows[5][0]]
    print()
    same = all(np.array_equal(finals[rows[i][0]], finals[rows[j][0]])
               for i, j in ((1, 2), (1, 3), (4, 5), (4, 6)))
    print(f"symsde's final states bit-identical across workers and kernels: {same}")
    print("first calls (compiling from an empty cache; the table gives the best call): "
          + "; ".join(f"{name} {sec:.2f} s" for name, sec in FIRST.items()))
    print(f"double well, symsde 1 worker / hand-written NumPy: {dw1 / hand:.3f}; "
          f"with kernel='numpy': {best[DW1_NUMPY] / hand:.3f}")
    print(f"speed-up of workers=None over workers=1: OU {ou1 / oun:.2f} x, double well "
          f"{dw1 / dwn:.2f} x")
    print(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"RESULT peers_double_well_floor_ratio {dw1 / floor:.3f}")


if __name__ == "__main__":
    main()
