"""The compiled step (``kernel="numba"``, :mod:`symsde.simulator.compiled`) gives the
NumPy path's results bit for bit, on every scheme, noise law and stepper.

Each comparison is exact (final states, moments, recorded moments, kept paths, the first
non-finite step). Power checks show that the comparison would see a difference: a program
whose additions are regrouped, or one that rounds ``a*b + c`` once (a fused multiply-add),
gives other bits.
"""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp

from symsde import SDE, simulate, simulate_sgd
from symsde.fused import FusedKernel
from symsde.simulation import InvalidSimulationError, SimulationResult, plan_simulation
from symsde.simulator import compiled

pytest.importorskip("numba")

x, y = sp.symbols("x y", real=True)
t = sp.Symbol("t", real=True)
sigma = sp.Symbol("sigma", positive=True)


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Compiled steps go to a folder of this test session, not the user's cache."""
    monkeypatch.setenv("SYMSDE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def _assert_same(a: SimulationResult, b: SimulationResult) -> None:
    np.testing.assert_array_equal(a.final, b.final)
    np.testing.assert_array_equal(a.mean, b.mean)
    np.testing.assert_array_equal(a.cov, b.cov)
    assert (a.diverged, a.first_diverged_step) == (b.diverged, b.first_diverged_step)
    assert (a.moments is None) == (b.moments is None)
    if a.moments is not None and b.moments is not None:
        np.testing.assert_array_equal(a.moments.mean, b.moments.mean)
        np.testing.assert_array_equal(a.moments.cov, b.moments.cov)
    if a.paths is not None or b.paths is not None:
        np.testing.assert_array_equal(a.paths, b.paths)


#: (SDE, keywords): every stepper, scheme and noise law the compiled path takes.
CASES: dict[str, tuple[SDE, dict[str, Any]]] = {
    "double-well euler": (SDE([x], [x - x**3], sp.Rational(1, 2)), {"x0": 0.1}),
    "ou affine, diagonal": (SDE([x], [-x], sigma), {"x0": 1.0, "params": {"sigma": 0.5}}),
    "affine 2-d, full": (SDE([x, y], [-x + y / 3 + 1, x / 2 - 2 * y - 0.5],
                             sp.Matrix([[1, 0.5], [0.25, 1]])), {"x0": [0.5, -1.0]}),
    "affine 2-d, 3 noises": (SDE([x, y], [-x, -2 * y], sp.Matrix([[1, 0, 0.3], [0, 1, 0.2]])),
                             {"x0": [0.0, 0.0]}),
    "gbm milstein": (SDE([x], [x / 2], x / 3), {"x0": 1.0, "method": "milstein"}),
    "gbm strong1.5": (SDE([x], [x / 2], x / 3), {"x0": 1.0, "method": "strong1.5"}),
    "gbm weak2 (three-point)": (SDE([x], [x / 2], x / 3), {"x0": 1.0, "method": "weak2"}),
    "2-noise weak2 (two-point)": (
        SDE([x, y], [-x + y, -y], sp.Matrix([[x / 4 + 1, 0.5], [0.1, y / 5 + 1]])),
        {"x0": [0.3, 0.2], "method": "weak2"}),
    "time-dependent, sqrt": (SDE([x], [-t * x], sp.sqrt(1 + x**2) / 2, time=t),
                             {"x0": 0.2, "method": "milstein"}),
    "diverging": (SDE([x], [x**3], 1), {"x0": 0.5}),
}
COMMON: dict[str, Any] = {"dt": 0.01, "n_steps": 60, "n_paths": 3000, "seed": 11,
                          "block_size": 512, "record_every": 20, "keep_paths": 2}


@pytest.mark.filterwarnings("ignore:.*paths diverged:RuntimeWarning",
                            "ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("name", sorted(CASES))
def test_compiled_equals_numpy_bit_for_bit(name: str) -> None:
    sde, kw = CASES[name]
    ref = simulate(sde, **kw, **COMMON, workers=1, kernel="numpy")
    assert ref.kernel == "numpy"
    for workers, chunk in ((1, None), (2, 1024), (3, 700)):
        res = simulate(sde, **kw, **COMMON, workers=workers, chunk_size=chunk,
                       kernel="numba")
        assert res.kernel == "numba"
        _assert_same(res, ref)
    if name == "diverging":
        assert ref.diverged > 0 and ref.first_diverged_step is not None
    # power: the comparison sees another seed
    other = simulate(sde, **kw, **{**COMMON, "seed": 12}, workers=1, kernel="numba")
    assert not np.array_equal(other.final, ref.final, equal_nan=True)


def _run_program(lines: list[str], outs: list[str], inputs: list[np.ndarray]) -> np.ndarray:
    """One compiled step of a program of the state ``a0`` and two given rows ``a1, a2``
    (read from ``N``; no noise is drawn)."""
    src = compiled.source(1, [], ["a1 = N[0, i]", "a2 = N[1, i]", *lines], outs, 0)
    fn = compiled.compile_step(src)
    X = inputs[0][None, :].copy()
    fn(X, np.stack(inputs[1:]), np.random.default_rng(0), 0, X.shape[1], (), 1)
    return X[0]


def test_program_order_is_kept_and_no_multiply_add_is_fused() -> None:
    rng = np.random.default_rng(3)
    a, b, c = (rng.normal(size=20_000) * 10.0 ** rng.integers(-3, 4, 20_000) for _ in range(3))
    # (a + b) + c compiled, against the ufunc calls in that order
    got = _run_program(["v3 = a0 + a1", "v4 = v3 + a2"], ["v4"], [a, b, c])
    np.testing.assert_array_equal(got, (a + b) + c)
    # power: regrouped, the bits differ somewhere
    assert not np.array_equal(got, a + (b + c))
    # a*b + c with two roundings, as np.multiply then np.add give it
    got = _run_program(["v3 = a0 * a1", "v4 = v3 + a2"], ["v4"], [a, b, c])
    np.testing.assert_array_equal(got, a * b + c)
    # power: a fused multiply-add (one rounding) would differ on some of these inputs
    fma = np.array([float(Fraction(p) * Fraction(q) + Fraction(r))
                    for p, q, r in zip(a[:3000], b[:3000], c[:3000], strict=True)])
    assert not np.array_equal(fma, got[:3000])


def test_element_source_only_for_exact_arithmetic() -> None:
    assert FusedKernel([x - x**3 + sp.sqrt(1 + x**2)], [x]).element_source() is not None
    for e in (sp.exp(x), x**sp.Rational(1, 3), sp.sin(x) + x, sp.erf(x)):
        assert FusedKernel([e], [x]).element_source() is None, e


def test_kernel_option_is_checked() -> None:
    ou = SDE([x], [-x], 1)
    for bad in ("jit", 1, None, "NUMBA"):
        with pytest.raises(InvalidSimulationError, match="kernel must be one of"):
            simulate(ou, 0.0, n_steps=2, n_paths=10, kernel=bad)
    with pytest.raises(InvalidSimulationError, match="kernel='numba' cannot compile"):
        simulate(SDE([x], [-sp.sin(x)], 1), 0.0, n_steps=2, n_paths=10, kernel="numba")
    th, u = sp.symbols("theta u", real=True)
    with pytest.raises(InvalidSimulationError, match="SGD steps are not compiled"):
        simulate_sgd((th - u) ** 2 / 2, [th], [u], np.array([0.0, 1.0]), n_steps=2,
                     n_paths=10, kernel="numba")
    # an uncompilable step with kernel="auto" simply runs on NumPy
    res = simulate(SDE([x], [-sp.sin(x)], 1), 0.0, n_steps=2, n_paths=10)
    assert res.kernel == "numpy"


def test_auto_compiles_large_runs_only(monkeypatch: pytest.MonkeyPatch) -> None:
    dw = SDE([x], [x - x**3], 1)
    assert plan_simulation(dw, 0.0, n_steps=10, n_paths=100).stepper.compiled_source is None
    monkeypatch.setattr(compiled, "AUTO_MIN_PATH_STEPS", 1000)
    plan = plan_simulation(dw, 0.0, n_steps=10, n_paths=100)
    assert plan.stepper.compiled_source is not None
    assert plan_simulation(dw, 0.0, n_steps=10, n_paths=100,
                           kernel="numpy").stepper.compiled_source is None
    # a memory limit below what compiling takes keeps "auto" on NumPy; "numba" still compiles
    small = compiled.COMPILE_BYTES / 2
    assert plan_simulation(dw, 0.0, n_steps=10, n_paths=100,
                           max_memory=small).stepper.compiled_source is None
    assert plan_simulation(dw, 0.0, n_steps=10, n_paths=100, max_memory=small,
                           kernel="numba").stepper.compiled_source is not None


_CHILD = """
import sys
import numpy as np
import sympy as sp
from symsde import SDE
from symsde.simulator import plan_simulation, compiled
x = sp.Symbol("x", real=True)
plan = plan_simulation(SDE([x], [x - x**3 / 7], 1), 0.0, n_steps=3, n_paths=50,
                       kernel="numba")
res = __import__("symsde").simulate(SDE([x], [x - x**3 / 7], 1), 0.0, n_steps=3,
                                    n_paths=50, kernel="numba")
fn = plan.stepper._compiled_fn
print(len(fn.stats.cache_hits), len(fn.stats.cache_misses), res.final[0, 0].hex())
"""


def test_compiled_steps_are_cached_on_disk(tmp_path: Path) -> None:
    env = {**os.environ, "SYMSDE_CACHE_DIR": str(tmp_path)}
    first, second = (subprocess.run([sys.executable, "-c", _CHILD], env=env, text=True,
                                    capture_output=True, check=True).stdout.split()
                     for _ in range(2))
    assert first[:2] == ["0", "1"]  # compiled, and written
    assert second[:2] == ["1", "0"]  # loaded from the folder, not compiled again
    assert first[2] == second[2]
    assert len(list((tmp_path / "kernels").glob("symsde_step_*.py"))) == 1


def test_unwritable_cache_compiles_in_memory(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("SYMSDE_CACHE_DIR", str(blocker))  # kernels/ cannot be made in it
    assert compiled.cache_dir() is None
    dw = SDE([x], [x - x**3 / 3], 1)
    a = simulate(dw, 0.0, n_steps=5, n_paths=100, kernel="numba")
    b = simulate(dw, 0.0, n_steps=5, n_paths=100, kernel="numpy")
    assert a.kernel == "numba"
    _assert_same(a, b)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_segments_of_steps_find_the_first_non_finite_step() -> None:
    """Without records a compiled step runs 64 steps a call; the first non-finite step of
    each block is still the exact one (150 steps: segments of 64, 64 and 22)."""
    sde = SDE([x], [x**3], 1)
    kw: dict[str, Any] = {"x0": 0.5, "dt": 0.01, "n_steps": 150, "n_paths": 4000,
                          "block_size": 256, "seed": 2}
    with pytest.warns(RuntimeWarning, match="diverged"):
        ref = simulate(sde, **kw, kernel="numpy", workers=1)
    with pytest.warns(RuntimeWarning, match="diverged"):
        res = simulate(sde, **kw, kernel="numba", workers=2)
    assert ref.first_diverged_step is not None and ref.first_diverged_step % 64 != 0
    _assert_same(res, ref)
