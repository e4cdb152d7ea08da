"""The simulator: exact schemes, exact discrete moments, seeds, chunking, memory, errors.

Statistical checks use :mod:`symsde.stattests` at 5 standard errors: each has a false-alarm
probability of about 5.7e-7 per compared number (with fixed seeds the outcome is
deterministic; the figure says how unlucky a seed would have to be). Each statistical
check is paired with a power check: a wrong prediction is rejected.
"""

from __future__ import annotations

import random
import time
import tracemalloc

import numpy as np
import pytest
import sympy as sp

from symsde import SDE, simulate, simulate_sgd
from symsde.errors import InputError
from symsde.kernels import lambdify_sde
from symsde.simulation import (
    InvalidSimulationError,
    block_generator,
    combine_blocks,
    plan_sgd,
    plan_simulation,
    run_blocks,
)
from symsde.stattests import covariance_test, ks_test, mean_test, variance_test

x, y = sp.symbols("x y", real=True)
t = sp.Symbol("t", real=True)
sigma = sp.Symbol("sigma", positive=True)
th, th2, u, v = sp.symbols("theta theta2 u v", real=True)

OU = SDE([x], [-x], sigma)


def _rel_close(a: np.ndarray, b: np.ndarray, tol: float = 1e-12) -> None:
    err = np.abs(a - b) / np.maximum(np.abs(b), 1.0)
    assert float(err.max()) <= tol, float(err.max())


# -- the schemes, step by step, against a hand-written reference ------------------------------
def _reference(sde: SDE, params: dict, x0: np.ndarray, dt: float, n_steps: int, seed: int,
               milstein: bool = False) -> np.ndarray:
    """Euler-Maruyama / Milstein written out with the (separately tested) kernels and the
    documented random stream of block 0."""
    mu, G = lambdify_sde(sde, params)
    n, d, m = x0.shape[0], sde.dim, sde.noise_dim
    gen = block_generator(seed, 0)
    X = x0.astype(float).copy()
    H = None
    if milstein:
        Gs = sde.diffusion.subs({sp.Symbol(k, positive=True): w for k, w in params.items()})
        H = [[[sp.lambdify(sde.state, sum((Gs[q, j] * sp.diff(Gs[i, k], sde.state[q])
                                           for q in range(d)), sp.Integer(0)))
               for k in range(m)] for j in range(m)] for i in range(d)]
    for s in range(n_steps):
        tt = s * dt
        z = np.empty((m, n))
        for k in range(m):
            gen.standard_normal(out=z[k])
        dW = z.T * np.sqrt(dt)
        new = X + mu(X, tt) * dt + np.einsum("ndm,nm->nd", G(X, tt), dW)
        if H is not None:
            cols = [X[:, i] for i in range(d)]
            for i in range(d):
                for j in range(m):
                    for k in range(m):
                        h = H[i][j][k](*cols)
                        new[:, i] += 0.5 * h * (dW[:, j] * dW[:, k] - (dt if j == k else 0))
        X = new
    return X


CASES = {
    "nonlinear-2d-time": (SDE([x, y], [x - x**3 + sp.cos(t), -y + x * y / 4],
                              [[sigma, 0.3 * x], [sp.tanh(y), 1 + 0 * x]], time=t),
                          {"sigma": 0.5}, False),
    "milstein-scalar": (SDE([x], [-x / 2], [[sigma * sp.sqrt(1 + x**2)]]), {"sigma": 0.8},
                        True),
    "milstein-diagonal": (SDE([x, y], [-x, 1 - y], [sigma * x, 0.5 + sp.sin(y) ** 2]),
                          {"sigma": 0.7}, True),
    "affine-full-noise": (SDE([x, y], [-x + 2 * y + 1, -x - y], [[sigma, 0, 1],
                                                                  [0.5, sigma, 0]]),
                          {"sigma": 0.4}, False),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_scheme_matches_reference(name: str) -> None:
    sde, params, milstein = CASES[name]
    rng = np.random.default_rng(11)
    x0 = rng.uniform(-1, 1, size=(300, sde.dim))
    res = simulate(sde, x0, dt=0.01, n_steps=50, n_paths=300, seed=7, params=params,
                   method="milstein" if milstein else "euler")
    ref = _reference(sde, params, x0, 0.01, 50, 7, milstein)
    _rel_close(res.final, ref)
    if milstein:  # the correction is really there: plain Euler is measurably different
        eul = _reference(sde, params, x0, 0.01, 50, 7, False)
        assert np.max(np.abs(eul - ref)) > 1e-4


def test_milstein_with_constant_noise_is_euler() -> None:
    sde = SDE([x], [x - x**3], 0.5)
    a = simulate(sde, 0.1, n_steps=20, n_paths=1000, method="milstein")
    b = simulate(sde, 0.1, n_steps=20, n_paths=1000, method="euler")
    np.testing.assert_array_equal(a.final, b.final)


# -- exact discrete moments ----------------------------------------------------------------------
def test_ou_euler_matches_exact_discrete_moments() -> None:
    """EM for dX = -a X dt + s dB is the AR(1) chain X' = (1 - a dt) X + s sqrt(dt) Z."""
    dt, n, s, a = 0.1, 30, 1.0, 1.0
    res = simulate(OU, 2.0, dt=dt, n_steps=n, n_paths=100_000, seed=3, params={"sigma": s})
    r = 1 - a * dt
    mean = 2.0 * r**n
    var = s**2 * dt * (1 - r ** (2 * n)) / (1 - r**2)
    assert mean_test(res.final, mean).verdict
    assert variance_test(res.final, var).verdict
    # Power: the continuous-time OU variance (s^2/2a)(1 - e^{-2aT}) is 5% off here; rejected.
    T = n * dt
    assert not variance_test(res.final, s**2 / (2 * a) * (1 - np.exp(-2 * a * T))).verdict
    assert not mean_test(res.final, 2.0 * np.exp(-a * T)).verdict


def test_affine_2d_exact_discrete_covariance() -> None:
    sde, params, _ = CASES["affine-full-noise"]
    dt, n = 0.05, 40
    res = simulate(sde, [1.0, -1.0], dt=dt, n_steps=n, n_paths=60_000, seed=5, params=params,
                   record_every=10)
    A = np.array([[-1.0, 2.0], [-1.0, -1.0]])
    c = np.array([1.0, 0.0])
    G = np.array([[0.4, 0, 1], [0.5, 0.4, 0]])
    B = np.eye(2) + A * dt
    m, S = np.array([1.0, -1.0]), np.zeros((2, 2))
    for _ in range(n):
        m, S = B @ m + c * dt, B @ S @ B.T + dt * G @ G.T
    assert mean_test(res.final, m).verdict
    assert covariance_test(res.final, S).verdict
    assert not covariance_test(res.final, S * 1.05).verdict
    # Recorded moments: time 0 is the initial state, the last record is the final state.
    np.testing.assert_allclose(res.times, [0.0, 0.5, 1.0, 1.5, 2.0])
    np.testing.assert_array_equal(res.moments.mean[0], [1.0, -1.0])
    np.testing.assert_array_equal(res.moments.cov[0], np.zeros((2, 2)))
    np.testing.assert_array_equal(res.moments.mean[-1], res.mean)
    np.testing.assert_array_equal(res.moments.cov[-1], res.cov)


def test_milstein_gbm_exact_discrete_moments() -> None:
    """Milstein for dX = m X dt + s X dB: X' = X (a + s dW + s^2/2 (dW^2 - dt)), a = 1 + m dt,
    so E X_n = a^n x0 and E X_n^2 = (a^2 + s^2 dt + s^4 dt^2 / 2)^n x0^2."""
    mm, s, dt, n = 0.2, 1.0, 0.25, 3
    sde = SDE([x], [mm * x], [[s * x]])
    res = simulate(sde, 1.0, dt=dt, n_steps=n, n_paths=200_000, seed=9, method="milstein")
    a = 1 + mm * dt
    m1 = a**n
    m2 = (a**2 + s**2 * dt + s**4 * dt**2 / 2) ** n
    assert mean_test(res.final, m1).verdict
    assert variance_test(res.final, m2 - m1**2).verdict
    # Power: Euler-Maruyama's second moment (no s^4 dt^2/2 term) is rejected.
    assert not variance_test(res.final, (a**2 + s**2 * dt) ** n - m1**2).verdict


def test_stationary_ks_against_symbolic_density() -> None:
    from symsde import stationary_density

    sde = SDE.langevin(x**4 / 4 - x**2 / 2, [x], sigma)
    res = simulate(sde, 0.0, dt=0.005, n_steps=2000, n_paths=20_000, seed=1,
                   params={"sigma": 1.0})
    st = stationary_density(sde.subs({sigma: 1}), integration_seconds=1)
    assert ks_test(res.final, st).verdict
    wrong = stationary_density(SDE.langevin(x**4 / 4 - x**2 / 2, [x], 1.3),
                               integration_seconds=1)
    assert not ks_test(res.final, wrong).verdict


# -- SGD ------------------------------------------------------------------------------------------
DATA = np.array([-1.5, -0.5, 0.0, 0.5, 2.5])  # population variance s^2 = 1.8, mean 0.2


def test_sgd_batch1_with_replacement_exact_variance() -> None:
    eta, s2 = 0.1, float(DATA.var())
    res = simulate_sgd((th - u) ** 2 / 2, [th], [u], DATA, learning_rate=eta, n_steps=300,
                       n_paths=40_000, seed=2, x0=0.2)
    pred = eta * s2 / (2 - eta)
    assert mean_test(res.final, DATA.mean()).verdict
    assert variance_test(res.final, pred).verdict
    assert not variance_test(res.final, pred * 1.1).verdict
    assert res.dt == eta


def test_sgd_without_replacement_finite_population_correction() -> None:
    eta, B, N = 0.2, 2, DATA.size
    s2 = float(DATA.var())
    res = simulate_sgd((th - u) ** 2 / 2, [th], [u], DATA, learning_rate=eta, n_steps=200,
                       n_paths=40_000, seed=4, batch_size=B, replace=False, x0=0.2)
    V = s2 / B * (N - B) / (N - 1)
    assert variance_test(res.final, eta * V / (2 - eta)).verdict
    # Power: the with-replacement variance s^2/B is 4/3 times larger; rejected.
    assert not variance_test(res.final, eta * (s2 / B) / (2 - eta)).verdict


def test_sgd_minibatches_without_replacement_are_distinct() -> None:
    plan = plan_sgd((th - u) ** 2 / 2, [th], [u], np.arange(6.0), batch_size=4, replace=False,
                    n_paths=5000, n_steps=1, block_size=1024)
    ws = plan.stepper.workspace(5000)
    gens = [(block_generator(0, j), *[p - 0 for p in plan.block_range(j)])
            for j in range(plan.n_blocks)]
    plan.stepper._draw(ws["idx"], gens)
    idx = np.sort(ws["idx"], axis=0)
    assert np.all(np.diff(idx, axis=0) > 0)
    counts = np.bincount(idx.ravel(), minlength=6) / idx.size
    np.testing.assert_allclose(counts, 1 / 6, atol=0.01)


def test_sgd_full_batch_is_deterministic_gradient_descent() -> None:
    res = simulate_sgd((th - u) ** 2 / 2, [th], [u], DATA, learning_rate=0.5, n_steps=3,
                       n_paths=10, batch_size=5, replace=False, x0=1.0)
    expected = 1.0
    for _ in range(3):
        expected -= 0.5 * (expected - DATA.mean())
    np.testing.assert_allclose(res.final[:, 0], expected, rtol=1e-15)


def test_sgd_two_parameters_linear_regression() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=200)
    Y = 2 * X - 1 + 0.1 * rng.normal(size=200)
    res = simulate_sgd((th * u + th2 - v) ** 2 / 2, [th, th2], [u, v], np.column_stack([X, Y]),
                       learning_rate=0.05, n_steps=400, n_paths=2000, seed=0, batch_size=8,
                       x0=[0.0, 0.0])
    coef = np.polyfit(X, Y, 1)
    np.testing.assert_allclose(res.mean, coef, atol=0.02)


# -- seeds, chunks, blocks ------------------------------------------------------------------------
def _same(a, b) -> None:
    np.testing.assert_array_equal(a.final, b.final)
    np.testing.assert_array_equal(a.mean, b.mean)
    np.testing.assert_array_equal(a.cov, b.cov)
    if a.moments is not None:
        np.testing.assert_array_equal(a.moments.mean, b.moments.mean)
        np.testing.assert_array_equal(a.moments.cov, b.moments.cov)
    if a.paths is not None:
        np.testing.assert_array_equal(a.paths, b.paths)


@pytest.mark.parametrize("name", ["ou", "affine-full-noise", "milstein-diagonal",
                                  "nonlinear-2d-time"])
def test_bit_identical_across_chunk_sizes(name: str) -> None:
    if name == "ou":
        sde, params, mil = OU, {"sigma": 1.0}, False
    else:
        sde, params, mil = CASES[name]
    kw = dict(dt=0.02, n_steps=25, n_paths=5000, seed=3, params=params, block_size=700,
              record_every=5, keep_paths=3, method="milstein" if mil else "euler")
    x0 = np.linspace(0.1, 0.9, sde.dim)
    ref = simulate(sde, x0, chunk_size=1, **kw)
    for cs in (700, 1500, 2800, 10**9):
        _same(simulate(sde, x0, chunk_size=cs, **kw), ref)
    again = simulate(sde, x0, **kw)
    _same(again, ref)
    other = simulate(sde, x0, **{**kw, "seed": 4})
    assert not np.array_equal(other.final, ref.final)


@pytest.mark.parametrize("replace", [True, False])
def test_sgd_bit_identical_across_chunk_sizes(replace: bool) -> None:
    kw = dict(learning_rate=0.1, n_steps=20, n_paths=3000, seed=5, batch_size=2,
              replace=replace, block_size=512, record_every=4)
    ref = simulate_sgd((th - u) ** 2 / 2, [th], [u], DATA, chunk_size=1, **kw)
    for cs in (1024, 2000, 10**6):
        _same(simulate_sgd((th - u) ** 2 / 2, [th], [u], DATA, chunk_size=cs, **kw), ref)


def test_blocks_as_tasks_in_any_order_combine_exactly() -> None:
    """The unit of a distributed run: one block per task, results combined in any order."""
    sde, params, _ = CASES["nonlinear-2d-time"]
    kw = dict(dt=0.02, n_steps=15, n_paths=3000, seed=8, params=params, record_every=5,
              block_size=400)
    ref = simulate(sde, [0.2, -0.3], **kw)
    plan = plan_simulation(sde, [0.2, -0.3], **kw)
    tasks = list(range(plan.n_blocks))
    random.Random(0).shuffle(tasks)
    stats = [s for j in tasks for s in run_blocks(plan, [j])]
    _same(combine_blocks(plan, stats), ref)


def test_plans_pickle_for_remote_workers() -> None:
    import pickle

    sde, params, _ = CASES["milstein-diagonal"]
    plan = plan_simulation(sde, [0.5, 0.5], dt=0.02, n_steps=10, n_paths=900, params=params,
                           method="milstein", block_size=300)
    clone = pickle.loads(pickle.dumps(plan))
    a, b = run_blocks(plan, [1]), run_blocks(clone, [1])
    np.testing.assert_array_equal(a[0].final, b[0].final)
    sgd = plan_sgd((th - u) ** 2 / 2, [th], [u], DATA, n_paths=100, n_steps=3)
    np.testing.assert_array_equal(run_blocks(pickle.loads(pickle.dumps(sgd)), [0])[0].final,
                                  run_blocks(sgd, [0])[0].final)


def test_moment_merge_is_exact_and_order_free() -> None:
    from symsde.simulation import _merge

    rng = np.random.default_rng(0)
    data = [rng.normal(5.0, 2.0, size=(n, 2)) for n in (7, 300, 1, 50)]
    counts = np.array([len(b) for b in data])
    means = np.array([b.mean(axis=0) for b in data])
    m2s = np.array([(b - b.mean(axis=0)).T @ (b - b.mean(axis=0)) for b in data])
    _, mean, cov = _merge(counts, means, m2s)
    allx = np.concatenate(data)
    np.testing.assert_allclose(mean, allx.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(cov, np.cov(allx.T), rtol=1e-13)
    perm = [2, 0, 3, 1]
    _, mean2, cov2 = _merge(counts[perm], means[perm], m2s[perm])
    np.testing.assert_array_equal(mean, mean2)
    np.testing.assert_array_equal(cov, cov2)


# -- memory does not grow with the number of steps ------------------------------------------------
def _peak(n_steps: int, n_paths: int, workers: int = 1) -> int:
    plan_simulation(OU, 1.0, n_steps=n_steps, n_paths=n_paths, params={"sigma": 1.0})  # warm
    tracemalloc.start()
    try:
        simulate(OU, 1.0, dt=0.01, n_steps=n_steps, n_paths=n_paths, params={"sigma": 1.0},
                 workers=workers)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("workers", [1, 2])
def test_memory_independent_of_steps(workers: int) -> None:
    n = 200_000
    state = n * 8
    short, long = _peak(5, n, workers), _peak(150, n, workers)
    # the final states plus, per thread, one chunk's buffers (65536 paths x 3 floats here)
    chunk = 65536 * 3 * 8
    assert max(short, long) <= 1.5 * state + workers * chunk
    # with threads the peak also depends on whether their chunks overlap in time (at most
    # one chunk's buffers per extra thread), never on the number of steps
    assert abs(long - short) <= 0.05 * state + (workers - 1) * chunk


def test_max_memory_counts_every_workers_buffers() -> None:
    from symsde.simulator.plan import simulate_overhead_bytes

    """A limit between the one-thread and the two-thread estimate: 1 passes, 2 refused."""
    kw = dict(n_steps=5, n_paths=200_000, params={"sigma": 1.0})
    state, chunk = 200_000 * 8, 65536 * 3 * 8
    # (plus the measured overhead the guard adds for one thread: symsde.guards)
    limit = state + 1.5 * chunk + simulate_overhead_bytes(200_000, 1, workers=1)
    simulate(OU, 1.0, max_memory=limit, workers=1, **kw)
    with pytest.raises(InvalidSimulationError, match="max_memory"):
        simulate(OU, 1.0, max_memory=limit, workers=2, **kw)


def test_max_memory_must_be_a_positive_number_of_bytes() -> None:
    kw = dict(n_steps=2, n_paths=10, params={"sigma": 1.0})
    for bad in ("1e9", -5, 0, float("nan"), float("inf"), True, [1e9]):
        with pytest.raises(InvalidSimulationError, match=r"max_memory \(bytes\) must be"):
            simulate(OU, 1.0, max_memory=bad, **kw)
    simulate(OU, 1.0, max_memory=1e9, **kw)  # a number is fine


# -- kept paths, divergence, progress -----------------------------------------------------------
def test_keep_paths_records_whole_paths() -> None:
    res = simulate(OU, 1.0, dt=0.1, n_steps=10, n_paths=500, params={"sigma": 1.0},
                   record_every=1, keep_paths=4, block_size=3)
    assert res.paths.shape == (11, 4, 1)
    np.testing.assert_array_equal(res.paths[0], np.ones((4, 1)))
    np.testing.assert_array_equal(res.paths[-1], res.final[:4])


def test_diverged_paths_are_counted_not_hidden() -> None:
    x0 = np.where(np.arange(1000) % 2 == 0, 0.0, 10.0)[:, None]
    with pytest.warns(RuntimeWarning, match="500 of 1000 paths diverged"):
        res = simulate(SDE([x], [-x**3], 0.3), x0, dt=0.1, n_steps=50, n_paths=1000)
    assert res.diverged == 500
    assert (~np.isfinite(res.final).all(axis=1)).sum() == 500
    assert np.all(np.isfinite(res.mean)) and np.all(np.isfinite(res.cov))
    assert abs(res.mean[0]) < 0.1


def test_progress_bar(capsys: pytest.CaptureFixture[str]) -> None:
    simulate(OU, 0.0, n_steps=50, n_paths=100, params={"sigma": 1.0}, progress=True)
    assert "step" in capsys.readouterr().err


def test_to_dict_keys() -> None:
    d = simulate(OU, 0.0, n_steps=5, n_paths=100, params={"sigma": 1.0}).to_dict()
    assert {"paths", "steps", "dt", "seed", "mean", "cov", "diverged"} <= set(d)


# -- bad input, refused before any work ---------------------------------------------------------
BAD = [
    (dict(x0=float("nan")), "non-finite"),
    (dict(x0=[1.0, 2.0]), "2 entries but the state has 1"),
    (dict(x0=np.zeros((3, 1)), n_paths=5), r"shape \(3, 1\)"),
    (dict(dt=0.0), "dt must be a finite number > 0"),
    (dict(dt=-0.1), "dt must be a finite number > 0"),
    (dict(dt=float("inf")), "dt must be a finite number > 0"),
    (dict(n_steps=0), "n_steps must be >= 1"),
    (dict(n_steps=2.5), "n_steps must be an integer"),
    (dict(n_paths=1), "n_paths must be >= 2"),
    (dict(seed=-1), "seed must be >= 0"),
    (dict(method="rk4"), "method must be one of euler, milstein"),
    (dict(params={}), "free symbol.*sigma.*without a value"),
    (dict(params={"sigma": float("inf")}), "not finite"),
    (dict(params={"sigma": 1.0, "eta": 2.0}), "'eta' does not occur"),
    (dict(record_every=11), "record_every must be between 1 and 10"),
    (dict(keep_paths=2), "also set record_every"),
    # 8 bytes x 1e13 final states = 80 TB, plus 2 kB for each of the 6.1e8 blocks of 16384
    # paths (1.25 TB) and one chunk per thread: about 81.3 TB
    (dict(n_paths=10**13), r"would need about 81.3 TB of memory \(the final states alone take "
                           r"80 TB\)"),
]


@pytest.mark.parametrize(("kw", "message"), BAD)
def test_bad_input_is_refused(kw: dict, message: str) -> None:
    args = dict(x0=0.0, dt=0.01, n_steps=10, n_paths=100, params={"sigma": 1.0})
    args.update(kw)
    t0 = time.perf_counter()
    with pytest.raises(InputError, match=message) as err:
        simulate(OU, **args)
    assert time.perf_counter() - t0 < 2.0
    assert isinstance(err.value, InvalidSimulationError) or "symbol" in message or (
        "occur" in message) or "finite" in message
    assert "\n" not in str(err.value)


def test_milstein_refuses_non_commutative_noise() -> None:
    sde = SDE([x], [-x], [[1, x]])  # L^0 G_1 = 1 but L^1 G_0 = 0
    with pytest.raises(InvalidSimulationError, match="commutative"):
        simulate(sde, 0.0, n_steps=5, n_paths=10, method="milstein")
    simulate(sde, 0.0, n_steps=5, n_paths=10, method="euler")  # Euler is fine


def test_milstein_accepts_commutative_non_diagonal_noise() -> None:
    sde = SDE([x], [-x], [[x, 2 * x]])  # both columns proportional to x: commutative
    simulate(sde, 1.0, n_steps=5, n_paths=10, method="milstein")


SGD_BAD = [
    (dict(batch_size=6, replace=False), "exceeds the 5 examples"),
    (dict(data=np.zeros((5, 2))), r"give an \(N, 1\) array"),
    (dict(data=np.array([1.0, np.nan])), "non-finite"),
    (dict(learning_rate=0.0), "learning_rate must be a finite number > 0"),
    (dict(x0=[1.0, 2.0]), "2 entries but the state has 1"),
    (dict(n_paths=1), "n_paths must be >= 2"),
]


@pytest.mark.parametrize(("kw", "message"), SGD_BAD)
def test_sgd_bad_input(kw: dict, message: str) -> None:
    args = dict(data=DATA, learning_rate=0.1, n_steps=5, n_paths=10)
    args.update(kw)
    with pytest.raises(InputError, match=message):
        simulate_sgd((th - u) ** 2 / 2, [th], [u], **args)


def test_sgd_loss_with_free_constant_needs_value() -> None:
    lam = sp.Symbol("lam", positive=True)
    with pytest.raises(InputError, match="lam"):
        simulate_sgd((th - u) ** 2 / 2 + lam * th**2, [th], [u], DATA, n_steps=2, n_paths=4)
    simulate_sgd((th - u) ** 2 / 2 + lam * th**2, [th], [u], DATA, n_steps=2, n_paths=4,
                 values={"lam": 0.1})


# -- the package split (issue 11): options object, old paths --------------------------------------
def test_options_object_gives_the_keywords_results_for_both_functions() -> None:
    from symsde.simulator import SimulationOptions

    opts = SimulationOptions(workers=2, chunk_size=2000, max_memory=1e9)
    a = simulate(OU, 0.3, n_steps=30, n_paths=5000, seed=4, params={sigma: 1}, options=opts)
    b = simulate(OU, 0.3, n_steps=30, n_paths=5000, seed=4, params={sigma: 1}, workers=2,
                 chunk_size=2000, max_memory=1e9)
    assert np.array_equal(a.final, b.final) and np.array_equal(a.cov, b.cov)
    data = np.array([-1.0, 0.5, 2.0])
    s1 = simulate_sgd((th - u) ** 2 / 2, [th], [u], data, n_steps=20, n_paths=3000, seed=2,
                      options=SimulationOptions(workers=1))
    s2 = simulate_sgd((th - u) ** 2 / 2, [th], [u], data, n_steps=20, n_paths=3000, seed=2,
                      workers=1)
    assert np.array_equal(s1.final, s2.final)


def test_options_refuse_a_keyword_given_twice_and_a_wrong_type() -> None:
    from symsde.simulator import SimulationOptions

    with pytest.raises(InvalidSimulationError, match="workers given both"):
        simulate(OU, 0.0, n_steps=2, n_paths=10, params={sigma: 1},
                 options=SimulationOptions(workers=1), workers=2)
    with pytest.raises(InvalidSimulationError, match="options must be"):
        simulate(OU, 0.0, n_steps=2, n_paths=10, params={sigma: 1}, options={"workers": 1})
    # a bad value inside the options is refused as it would be as a keyword
    with pytest.raises(InvalidSimulationError, match="backend must be one of"):
        simulate(OU, 0.0, n_steps=2, n_paths=10, params={sigma: 1},
                 options=SimulationOptions(backend="gpu"))


def test_old_import_paths_are_aliases_and_symsde_simulate_stays_the_function() -> None:
    import symsde
    import symsde.dask_backend as old_dask
    import symsde.simulation as old
    import symsde.simulator as new
    import symsde.simulator.dask_backend as new_dask

    for name in new.__all__:
        assert getattr(old, name) is getattr(new, name), name
    for name in new_dask.__all__:
        assert getattr(old_dask, name) is getattr(new_dask, name), name
    assert old_dask._LOCAL is new_dask._LOCAL
    assert callable(symsde.simulate) and symsde.simulate is new.simulate


# -- one name per idea (issue 11): n_paths and x0 in both functions --------------------------------
def test_sgd_old_names_n_runs_theta0_give_the_same_run_with_a_warning() -> None:
    loss, data = (th - u) ** 2 / 2, np.array([-1.0, 0.5, 2.0])
    new = simulate_sgd(loss, [th], [u], data, n_steps=20, n_paths=3000, seed=2, x0=0.7,
                       workers=1)
    with pytest.warns(DeprecationWarning) as caught:
        old = simulate_sgd(loss, [th], [u], data, n_steps=20, n_runs=3000, seed=2, theta0=0.7,
                           workers=1)
    said = [str(w.message) for w in caught]
    assert any("n_runs=...) is deprecated: use n_paths=" in m for m in said), said
    assert any("theta0=...) is deprecated: use x0=" in m for m in said), said
    assert np.array_equal(new.final, old.final) and old.n_paths == 3000
    # positionally, the seventh and eleventh arguments are n_paths and x0, as before
    pos = simulate_sgd(loss, [th], [u], data, 0.1, 20, 3000, 2, 1, True, 0.7, workers=1)
    assert np.array_equal(new.final, pos.final)
    # and a different start gives a different run (the names are not ignored)
    other = simulate_sgd(loss, [th], [u], data, n_steps=20, n_paths=3000, seed=2, x0=0.0,
                         workers=1)
    assert not np.array_equal(new.final, other.final)


@pytest.mark.parametrize(("kw", "message"), [
    (dict(n_paths=100, n_runs=100), "n_runs is the old name of n_paths and both were given"),
    (dict(x0=0.0, theta0=0.0), "theta0 is the old name of x0 and both were given"),
])
def test_sgd_refuses_a_value_under_both_names(kw: dict, message: str) -> None:
    with pytest.raises(InvalidSimulationError, match=message):
        simulate_sgd((th - u) ** 2 / 2, [th], [u], DATA, n_steps=2, **kw)
    with pytest.raises(InvalidSimulationError, match=message):
        plan_sgd((th - u) ** 2 / 2, [th], [u], DATA, n_steps=2, **kw)


def test_plan_sgd_takes_the_common_names() -> None:
    plan = plan_sgd((th - u) ** 2 / 2, [th], [u], DATA, n_steps=3, n_paths=100, x0=0.5)
    assert plan.n_paths == 100 and np.array_equal(plan.x0, [0.5])
    with pytest.warns(DeprecationWarning, match="plan_sgd"):
        old = plan_sgd((th - u) ** 2 / 2, [th], [u], DATA, n_steps=3, n_runs=100, theta0=0.5)
    assert old.n_paths == 100 and np.array_equal(old.x0, [0.5])


def test_moments_of_paths_beyond_floating_point_are_inf_or_nan_not_an_error() -> None:
    """Finite paths 1e300 apart overflow the sums of squares; the covariance says so (inf,
    nan) for any grouping of blocks, without a warning or an exception (math.fsum raised
    ValueError on -inf + inf)."""
    import math
    import warnings

    from symsde.simulator.blocks import _exact_sum

    xs, ys = sp.symbols("xs ys", real=True)
    n = 4000
    x0 = np.zeros((n, 2))
    x0[:, 0] = 1e300
    x0[:2000, 1], x0[2000:, 1] = 1e300, -1e300
    x0[::2] *= -1
    sde = SDE([xs, ys], [-xs, -ys], sp.eye(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        runs = [simulate(sde, x0, n_steps=2, n_paths=n, block_size=1000, workers=w,
                         chunk_size=c) for w, c in ((1, None), (3, 1000))]
    for r in runs:
        assert r.diverged == 0 and np.isinf(r.cov[0, 0]) and np.isnan(r.cov[0, 1])
    np.testing.assert_array_equal(runs[0].cov, runs[1].cov)
    # the sum itself: exact where fsum is, and order-free where fsum fails
    vals = np.array([1e308, 1e308, -1e308])  # fsum overflows on the way in this order
    with pytest.raises(OverflowError):
        math.fsum(vals)
    assert _exact_sum(vals) == _exact_sum(vals[::-1]) == 1e308
    assert _exact_sum(np.array([1e308, 1e308])) == math.inf
    assert math.isnan(_exact_sum(np.array([math.inf, 1.0, -math.inf])))
    assert _exact_sum(np.array([-math.inf, 5.0])) == -math.inf
    assert _exact_sum(np.array([0.1, 0.2, 0.3])) == math.fsum([0.1, 0.2, 0.3])
