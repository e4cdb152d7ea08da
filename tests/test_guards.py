"""Measured memory and work guards, the stability check and the precision warning
(issue 15, classes 5 and 9)."""

from __future__ import annotations

import contextlib
import io
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from symsde import SDE
from symsde.cli import main
from symsde.errors import ResourceLimitError, UnstableRunError
from symsde.guards import (
    FIXED_BYTES,
    check_resources,
    check_scheme_stability,
    memory_budget,
    per_path_bytes,
    precision_warning,
    simulation_bytes,
    simulation_seconds,
)

x, y = sp.symbols("x y", real=True)


def peak_bytes(argv: list[str]) -> int:
    """Peak traced memory of one in-process ``symsde`` command (NumPy buffers included)."""
    tracemalloc.start()
    try:
        with contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()) as err:
            code = main(argv)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code in (0, 1), err.getvalue()  # 1: a short run fails the KS test; fine here
    return peak


CONFIGS = {
    "1d euler": (["--state", "x", "--drift", "-x", "--diffusion", "1"], 1, False),
    "1d milstein": (["--state", "x", "--drift", "-x", "--diffusion", "sqrt(1 + x**2)",
                     "--method", "milstein"], 1, False),
    "1d compare": (["--state", "x", "--drift", "-x", "--diffusion", "1",
                    "--compare-stationary"], 1, True),
    "2d euler": (["--state", "x,y", "--drift", "[-x, -y]", "--diffusion", "1", "--x0",
                  "[0, 0]"], 2, False),
    "2d compare": (["--state", "x,y", "--drift", "[-x, -y]", "--diffusion", "1", "--x0",
                    "[0, 0]", "--compare-stationary"], 2, True),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_measured_bytes_per_path_stay_within_the_model(name: str, tmp_path: Path) -> None:
    options, d, compare = CONFIGS[name]
    base = ["simulate", *options, "--steps", "3", "--json"]
    peak_bytes([*base, "--paths", "1000"])  # compile and import once
    small, large = 60_000, 180_000
    p1 = peak_bytes([*base, "--paths", str(small)])
    p2 = peak_bytes([*base, "--paths", str(large)])
    slope = (p2 - p1) / (large - small)
    model = per_path_bytes(d, compare)
    assert slope <= model, f"{name}: measured {slope:.1f} B/path > model {model} B/path"
    # the model is not wildly pessimistic either (it would refuse runs that fit)
    assert slope >= model / 8, f"{name}: measured {slope:.1f} B/path, model {model}"
    assert p2 <= simulation_bytes(large, d, compare=compare)


def test_the_old_eight_bytes_per_path_would_fail_the_measurement() -> None:
    # the check above can fail: the old guard's 8 B/path is below what is measured
    options, d, _ = CONFIGS["1d compare"]
    base = ["simulate", *options, "--steps", "3", "--json"]
    peak_bytes([*base, "--paths", "1000"])
    slope = (peak_bytes([*base, "--paths", "150000"])
             - peak_bytes([*base, "--paths", "50000"])) / 100_000
    assert slope > 8 * d


def test_the_largest_accepted_run_is_under_the_budget() -> None:
    budget = memory_budget()
    for d, compare in ((1, False), (1, True), (2, False), (2, True)):
        per = per_path_bytes(d, compare)
        most = int((budget - FIXED_BYTES) / per)
        check_resources(most, 1, d, compare=compare)  # accepted
        assert simulation_bytes(most, d, compare=compare) <= budget
        with pytest.raises(ResourceLimitError, match="of memory"):
            check_resources(int(most * 1.01) + 1, 1, d, compare=compare)


def test_the_work_limit_counts_steps_for_few_paths() -> None:
    # 2 paths x 5e10 steps: the per-step overhead (about 1e-5 s) makes it days, not minutes
    assert simulation_seconds(2, 5 * 10**10, 1) > 100 * 3600
    with pytest.raises(ResourceLimitError, match="days on one core"):
        check_resources(2, 5 * 10**10, 1, compare=False)
    check_resources(100_000, 1000, 1, compare=False)  # a default run is fine
    # many paths: the per-path-step cost dominates
    assert simulation_seconds(10**7, 10, 1) == pytest.approx(10 * (153 * 1e-5 + 10**7 * 1.5e-8))


@pytest.mark.parametrize(("drift", "state", "dt", "bound"), [
    ([-x], [x], 2.5, 2.0),                        # |1 - dt| <= 1  <=>  dt <= 2
    ([-3 * x + 1], [x], 0.7, 2 / 3),
    ([-x, -10 * y], [x, y], 0.25, 0.2),           # the fast eigenvalue sets the bound
    ([-x + 2 * y, -2 * x - y], [x, y], 0.5, 0.4),  # eigenvalues -1 +- 2i: dt <= 2/5
])
def test_an_unstable_step_is_refused(drift: list[sp.Expr], state: list[sp.Symbol],
                                     dt: float, bound: float) -> None:
    sde = SDE(state, drift, 1)
    with pytest.raises(UnstableRunError, match=f"below {bound:.3g}"):
        check_scheme_stability(sde, dt)
    check_scheme_stability(sde, bound * 0.99)  # just inside the bound: accepted
    # the bound is the scheme's own: iterate the mean recursion m <- (I + J dt) m
    J = np.array(sde.drift.jacobian(state).evalf(), dtype=float)
    for step, grows in ((bound * 1.05, True), (bound * 0.95, False)):
        A = np.eye(len(state)) + J * step
        assert (np.max(np.abs(np.linalg.eigvals(A))) > 1) == grows


def test_growth_of_an_unstable_sde_or_a_nonlinear_drift_is_not_refused() -> None:
    check_scheme_stability(SDE([x], [x], 1), 5.0)  # the SDE itself grows
    check_scheme_stability(SDE([x], [-x**3], 1), 5.0)  # not affine: no claim


def test_the_cli_reports_the_unstable_scheme(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["simulate", "--state", "x", "--drift", "-x", "--diffusion", "1", "--dt",
                 "2.5", "--steps", "100", "--paths", "100"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "--dt 2.5 is unstable" in err and "below 2" in err


def test_precision_loss_is_warned(capsys: pytest.CaptureFixture[str]) -> None:
    sde = SDE([x], [-x], 1)
    assert precision_warning(sde, [1e3], 0.01) is None
    note = precision_warning(sde, [1e20], 0.01)
    assert note is not None and "rounding" in note
    # the warning is right: at 1e20 a step of the noise (0.1) is lost entirely
    assert np.float64(1e20) + 0.1 == np.float64(1e20)
    code = main(["simulate", "--state", "x", "--drift", "-x", "--diffusion", "1", "--x0",
                 "1e20", "--steps", "5", "--paths", "100"])
    _, err = capsys.readouterr()
    assert code == 0 and "symsde: warning: --x0 1e+20 is so large" in err


# -- growth of a non-affine drift (issue 15, "Honest numerics") ----------------------------
@pytest.mark.parametrize(("drift", "noise", "state", "r_true"), [
    # A|x|^2 = 2 x mu + tr D, zero at the radius below (by hand):
    ([-x], 10, [x], 10 / np.sqrt(2)),                      # 100 - 2x^2
    ([-(x**3)], 1, [x], 2 ** -0.25),                        # 1 - 2x^4
    ([-x + y, -x - y], 1, [x, y], 1.0),                     # 2 - 2|x|^2
    ([-x / (1 + x**2)], sp.Rational(7, 5), [x], 7.0),       # 1.96 - 2x^2/(1+x^2): x^2 = 49
])
def test_the_confinement_radius_brackets_the_drift_condition(drift: list, noise: object,
                                                              state: list,
                                                              r_true: float) -> None:
    from symsde.guards import confinement_radius

    r = confinement_radius(SDE(state, drift, noise))
    assert r is not None
    # r is the first grid radius (four per decade) past the true one
    assert r_true < r <= r_true * 10**0.25 * (1 + 1e-12)


@pytest.mark.parametrize("drift", [[x], [x**3 - x], [sp.Integer(0)]])
def test_no_confinement_radius_when_the_sde_need_not_come_back(drift: list) -> None:
    from symsde.guards import confinement_radius

    assert confinement_radius(SDE([x], drift, 1)) is None


def test_growth_of_a_cubic_drift_is_reported_unstable() -> None:
    from symsde import simulate

    sde = SDE([x], [-(x**3)], 1)
    # Euler from 3 with dt = 0.5, by hand without noise: x - x^3/2 gives -10.5, 568, -9.2e7
    xs = [3.0]
    for _ in range(4):
        xs.append(xs[-1] - xs[-1] ** 3 / 2)
    assert abs(xs[-1]) > 1e23
    with pytest.raises(UnstableRunError, match="smaller --dt / dt=") as info:
        simulate(sde, 3.0, dt=0.5, n_steps=4, n_paths=200, seed=1)
    res = info.value.result  # the numbers are still there, labelled as unstable
    assert res.diverged == 0 and np.median(np.abs(res.final)) > 1e20
    # power: the same SDE with a stable step is not reported (median |X| is about 0.6)
    ok = simulate(sde, 3.0, dt=0.01, n_steps=400, n_paths=200, seed=1)
    assert np.median(np.abs(ok.final)) < 3


def test_growth_check_catches_the_affine_case_in_the_api() -> None:
    from symsde import simulate

    # |1 - 2.5| = 1.5 per step: 1.5^100 = 4e17, the example (CLI refuses it earlier)
    with pytest.raises(UnstableRunError, match="median distance"):
        simulate(SDE([x], [-x], 1), 1.0, dt=2.5, n_steps=100, n_paths=100)


def test_no_false_alarm_for_a_heavy_tailed_slow_drift() -> None:
    from symsde import simulate
    from symsde.guards import GROWTH_FACTOR

    # dX = -X/(1+X^2) dt + 1.4 dB: the stationary law ~ (1+x^2)^(-1/1.96) is not even
    # normalisable, paths spread like free diffusion; a long run must not be flagged.
    sde = SDE([x], [-x / (1 + x**2)], sp.Rational(7, 5))
    res = simulate(sde, 0.0, dt=0.5, n_steps=4000, n_paths=2000, seed=3)
    spread = np.sqrt(1.96 * 2000)
    a = np.abs(res.final)
    assert np.median(a) < GROWTH_FACTOR * spread
    # the tail is heavy (the largest path is over 10 times the median), which is why the
    # check looks at the median and not at the largest path
    assert a.max() > 10 * np.median(a)


def test_growth_check_skips_an_sde_that_grows_by_itself() -> None:
    from symsde import simulate

    res = simulate(SDE([x], [x], 1), 1.0, dt=0.1, n_steps=300, n_paths=50)
    assert np.median(np.abs(res.final)) > 1e12  # e^30: genuine growth, not reported


# -- simulate()'s memory guard with workers, measured in a fresh process ------------------
_LARGEST_RUN = r"""
import json, sys, tracemalloc
import sympy as sp
from symsde import SDE, simulate
from symsde.errors import SymsdeError
from symsde.simulation import plan_simulation

budget, workers, d, counted = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
x, y = sp.symbols("x y", real=True)
sde = (SDE([x], [-x**3], sp.sqrt(1 + x**2)) if d == 1
       else SDE([x, y], [-x + y, -y - x**3], [[1, 0], [x, 1]]))
x0 = [0.0] * d

if counted == "no":  # the guard as it was: max_memory counts the arrays only
    import symsde.simulator.plan as plan
    plan.simulate_overhead_bytes = lambda *args: 0.0

def limit(n):
    return budget

def accepted(n):
    try:
        plan_simulation(sde, x0, 0.01, 3, n, 0, max_memory=limit(n), workers=workers)
        return True
    except SymsdeError:
        return False

lo, hi = 2, 4
while accepted(hi):
    lo, hi = hi, hi * 2
while hi - lo > max(1, lo // 2000):
    mid = (lo + hi) // 2
    lo, hi = (mid, hi) if accepted(mid) else (lo, mid)
simulate(sde, x0, dt=0.01, n_steps=3, n_paths=1000, workers=workers)  # imports, kernels
tracemalloc.start()
simulate(sde, x0, dt=0.01, n_steps=3, n_paths=lo, workers=workers, max_memory=limit(lo))
print(json.dumps({"paths": lo, "peak": tracemalloc.get_traced_memory()[1]}))
"""


def _largest_run(budget: float, workers: int, d: int, counted: bool) -> dict:
    import json
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", _LARGEST_RUN, str(budget), str(workers),
                           str(d), "yes" if counted else "no"],
                          capture_output=True, text=True, timeout=600, check=True)
    return json.loads(proc.stdout)


@pytest.mark.parametrize(("workers", "d"), [(1, 1), (4, 1), (4, 2)])
def test_the_largest_run_simulate_accepts_stays_under_the_budget(workers: int, d: int) -> None:
    budget = 64e6
    got = _largest_run(budget, workers, d, counted=True)
    # not wildly pessimistic: the final states take at least 80% of the budget (the rest:
    # four threads' chunk buffers, 6 MB at 64 MB, and the measured overhead)
    assert got["paths"] * 8 * d > 0.8 * budget
    assert got["peak"] <= budget, f"{got['peak'] / 1e6:.2f} MB > {budget / 1e6:.0f} MB"


def test_max_memory_alone_undercounts_the_largest_run() -> None:
    # power: a guard without the measured overhead accepts a run over the budget
    # (one thread, 2-d: the per-block statistics alone are about 1 MB at 64 MB)
    budget = 64e6
    got = _largest_run(budget, 1, 2, counted=False)
    assert got["peak"] > budget
