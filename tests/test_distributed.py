"""The Dask backend: same numbers as the local backend, kernels cached per worker process,
a killed worker, the CLI, and the message when dask.distributed is missing.

Every cluster here is a LocalCluster of two single-threaded worker processes bound to
127.0.0.1, shared by the module and shut down at its end.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import sympy as sp

from symsde import SDE, simulate, simulate_sgd
from symsde.cli import main
from symsde.errors import InputError
from symsde.simulation import InvalidSimulationError, SimulationResult

x, y = sp.symbols("x y", real=True)
t = sp.Symbol("t", real=True)
sigma = sp.Symbol("sigma", positive=True)
th, th2, u = sp.symbols("theta theta2 u", real=True)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    distributed = pytest.importorskip("distributed")
    from symsde.dask_backend import local_cluster_options

    with distributed.LocalCluster(**local_cluster_options(2)) as lc:
        yield lc


@pytest.fixture(scope="module")
def client(cluster: Any) -> Iterator[Any]:
    import distributed

    with distributed.Client(cluster, set_as_default=False) as cl:
        cl.wait_for_workers(2, timeout=60)
        yield cl


def _assert_same(a: SimulationResult, b: SimulationResult) -> None:
    """``final`` and ``paths`` bit for bit; the moments equal (exactly rounded merges)."""
    np.testing.assert_array_equal(a.final, b.final)  # NaN == NaN here
    np.testing.assert_array_equal(a.mean, b.mean)
    np.testing.assert_array_equal(a.cov, b.cov)
    assert a.diverged == b.diverged and a.n_paths == b.n_paths and a.method == b.method
    assert getattr(a, "first_diverged_step", None) == getattr(b, "first_diverged_step", None)
    assert (a.times is None) == (b.times is None)
    if a.times is not None:
        assert a.moments is not None and b.moments is not None
        np.testing.assert_array_equal(a.times, b.times)
        np.testing.assert_array_equal(a.moments.mean, b.moments.mean)
        np.testing.assert_array_equal(a.moments.cov, b.moments.cov)
    if a.paths is not None or b.paths is not None:
        np.testing.assert_array_equal(a.paths, b.paths)


CASES: dict[str, tuple[SDE, dict[str, Any]]] = {
    # linear fast path, non-diagonal drift matrix and correlated noise
    "affine-2d": (SDE([x, y], [-x + y, -2 * y + 1], sp.Matrix([[1, 0.5], [0, 0.7]])),
                  {"x0": [1.0, -1.0], "dt": 0.01, "n_steps": 60, "n_paths": 5000}),
    # general stepper, Milstein, state-dependent noise, recorded moments and kept paths
    "double-well-milstein": (
        SDE([x], [x - x**3], sigma * sp.sqrt(1 + x**2)),
        {"x0": 0.1, "dt": 0.01, "n_steps": 80, "n_paths": 6000, "params": {"sigma": 0.6},
         "method": "milstein", "record_every": 20, "keep_paths": 3}),
    # time-dependent drift, one initial value per path
    "time-dependent": (SDE([x], [sp.cos(t) - x], 1, time=t),
                       {"x0": np.linspace(-1.0, 1.0, 3000), "dt": 0.02, "n_steps": 40,
                        "n_paths": 3000}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_result_as_local(client: Any, name: str) -> None:
    sde, kw = CASES[name]
    kw = {**kw, "seed": 7, "block_size": 512}
    _assert_same(simulate(sde, **kw, backend="dask", client=client), simulate(sde, **kw))


def test_sgd_same_result_as_local(client: Any) -> None:
    data = np.random.default_rng(0).normal(size=(40, 1))
    kw: dict[str, Any] = {"learning_rate": 0.2, "n_steps": 50, "n_paths": 4000, "seed": 3,
                          "batch_size": 4, "replace": False, "x0": [1.0, -1.0],
                          "record_every": 10, "block_size": 256}
    loss = (th * u - th2 - u) ** 2 / 2 + th2**2 / 10
    args = (loss, [th, th2], [u], data)
    _assert_same(simulate_sgd(*args, **kw, backend="dask", client=client),
                 simulate_sgd(*args, **kw))


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_task_grouping_and_diverged_paths(client: Any) -> None:
    """One block per task (many tasks finishing in any order) against the local run with
    its default chunks; some paths blow up, and both backends count and warn alike."""
    sde = SDE([x], [x**3], 1)
    kw: dict[str, Any] = {"x0": 0.0, "dt": 0.05, "n_steps": 60, "n_paths": 4000, "seed": 1,
                          "block_size": 250}
    with pytest.warns(RuntimeWarning, match="diverged"):
        ref = simulate(sde, **kw)
    with pytest.warns(RuntimeWarning, match="diverged"):
        res = simulate(sde, **kw, backend="dask", client=client, chunk_size=250)
    assert 0 < ref.diverged < ref.n_paths
    _assert_same(res, ref)


def test_kernels_lambdified_once_per_worker_process(client: Any) -> None:
    from symsde.dask_backend import PlanPayload, cache_info
    from symsde.simulation import plan_simulation

    sde = SDE([x], [sp.sin(x) - x], 0.3)
    kw: dict[str, Any] = {"x0": 0.5, "dt": 0.01, "n_steps": 10, "n_paths": 4096, "seed": 11,
                          "block_size": 256}
    token = PlanPayload.from_plan(plan_simulation(sde, **kw, chunk_size=256)).token
    for _ in range(2):  # 16 tasks a run, two runs
        simulate(sde, **kw, chunk_size=256, backend="dask", client=client)
    info = client.run(cache_info)
    assert len(info) == 2
    pids = {i["pid"] for i in info.values()}
    assert os.getpid() not in pids and len(pids) == 2  # two worker processes
    workers_with_plan = [i for i in info.values() if token in i["tokens"]]
    assert workers_with_plan  # the kernels were built on the workers...
    total_hits = sum(i["hits"] for i in info.values())
    total_builds = sum(i["builds"] for i in info.values())
    assert total_hits > total_builds  # ...and reused: far fewer builds than tasks


def test_client_none_uses_the_current_client(client: Any) -> None:
    from symsde import dask_backend

    sde, kw = CASES["affine-2d"]
    with client.as_current():
        res = simulate(sde, **kw, backend="dask")
    assert "client" not in dask_backend._LOCAL  # no LocalCluster of our own was started
    _assert_same(res, simulate(sde, **kw))


def test_scheduler_address(client: Any, cluster: Any) -> None:
    sde, kw = CASES["affine-2d"]
    res = simulate(sde, **kw, backend="dask", client=cluster.scheduler_address)
    _assert_same(res, simulate(sde, **kw))


def test_cli_backend_dask(capsys: pytest.CaptureFixture[str], cluster: Any) -> None:
    argv = ["simulate", "--state", "x", "--drift", "-x", "--diffusion", "sigma", "--param",
            "sigma=1", "--x0", "1", "--steps", "100", "--paths", "3000", "--seed", "4",
            "--json"]
    assert main(argv) == 0
    local = json.loads(capsys.readouterr().out)
    assert main([*argv, "--backend", "dask", "--scheduler", cluster.scheduler_address]) == 0
    dask = json.loads(capsys.readouterr().out)
    for key in ("mean", "cov", "diverged", "paths", "steps", "seed", "block_size"):
        assert dask[key] == local[key], key


def test_cli_scheduler_needs_backend_dask(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["simulate", "--state", "x", "--drift", "-x", "--diffusion", "1",
                 "--scheduler", "tcp://127.0.0.1:8786"])
    assert code == 2
    assert "--backend dask" in capsys.readouterr().err


def test_bad_backend_and_client() -> None:
    sde = SDE([x], [-x], 1)
    with pytest.raises(InvalidSimulationError, match="backend must be one of"):
        simulate(sde, 0.0, n_paths=10, backend="threads")
    with pytest.raises(InvalidSimulationError, match="backend='dask'"):
        simulate(sde, 0.0, n_paths=10, client="tcp://127.0.0.1:8786")
    pytest.importorskip("distributed")
    with pytest.raises(InputError, match=r"dask\.distributed\.Client or a scheduler address"):
        simulate(sde, 0.0, n_paths=10, backend="dask", client=42)


def test_missing_extra_says_how_to_install(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails
    sde = SDE([x], [-x], 1)
    with pytest.raises(InputError, match=r"pip install 'symsde\[dask\]'"):
        simulate(sde, 0.0, n_paths=10, backend="dask")
    th_ = sp.Symbol("theta")
    with pytest.raises(InputError, match=r"dask\.distributed, which is not installed"):
        simulate_sgd(th_**2, [th_], [u], [0.0, 1.0], backend="dask")
    code = main(["simulate", "--state", "x", "--drift", "-x", "--diffusion", "1",
                 "--backend", "dask"])
    err = capsys.readouterr().err
    assert code == 2
    assert "pip install 'symsde[dask]'" in err and len(err.strip().splitlines()) == 1


def test_killed_worker_same_result(client: Any) -> None:
    """SIGKILL one worker process while it runs a block task: the nanny restarts it, Dask
    reschedules the lost tasks (and the plan payload, if it lived there) and the result
    is the local one."""
    sde = SDE([x], [-x], 1)
    kw: dict[str, Any] = {"x0": 1.0, "dt": 0.001, "n_steps": 2500, "n_paths": 6 * 8192,
                          "seed": 5, "block_size": 8192,
                          "chunk_size": 8192}  # 6 tasks of about 0.2 s each
    before = client.run(os.getpid)
    killed: list[str] = []
    killed_at: list[float] = []

    def killer() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for addr, keys in client.processing().items():
                if addr in before and any("symsde-blocks" in str(k) for k in keys):
                    time.sleep(0.05)  # inside the task
                    os.kill(before[addr], signal.SIGKILL)
                    killed.append(addr)
                    killed_at.append(time.monotonic())
                    return
            time.sleep(0.01)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    res = simulate(sde, **kw, backend="dask", client=client)
    done_at = time.monotonic()
    thread.join(timeout=5)
    assert killed and killed_at[0] < done_at, "no worker was killed during the run"
    client.wait_for_workers(2, timeout=60)
    after = client.run(os.getpid)
    assert before[killed[0]] not in after.values()  # the killed process is gone...
    assert len(after) == 2  # ...and the nanny started a new one
    _assert_same(res, simulate(sde, **{k: v for k, v in kw.items() if k != "chunk_size"}))


def test_client_none_starts_a_local_cluster() -> None:
    distributed = pytest.importorskip("distributed")
    from symsde import dask_backend

    try:
        distributed.Client.current()
    except ValueError:
        pass
    else:  # pragma: no cover - only when some other code left a default client
        pytest.skip("a default Dask client exists")
    sde, kw = CASES["affine-2d"]
    try:
        res = simulate(sde, **kw, backend="dask")
        cl = dask_backend._LOCAL["client"]
        assert cl.scheduler.address.startswith("tcp://127.0.0.1:")
        assert len(cl.scheduler_info()["workers"]) == (os.cpu_count() or 1)
        again = simulate(sde, **kw, backend="dask")
        assert dask_backend._LOCAL["client"] is cl  # started once, reused
    finally:
        dask_backend.close_local_cluster()
    assert "client" not in dask_backend._LOCAL
    _assert_same(res, simulate(sde, **kw))
    _assert_same(again, res)
