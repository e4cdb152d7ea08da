"""The public functions: :func:`simulate`, :func:`simulate_sgd` and their plans."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from symsde.errors import InputError
from symsde.kernels import (
    affine_drift,
    lambdify_loss,
    numeric_values,
)
from symsde.sde import SDE
from symsde.simulator.backends import _check_backend, _execute
from symsde.simulator.base import (
    METHODS,
    SCHEME_CHUNK_BYTES,
    InvalidSimulationError,
    SimulationResult,
    _initial,
    _int,
    _positive,
)
from symsde.simulator.blocks import resolve_workers
from symsde.simulator.plan import SimulationPlan, _sizes
from symsde.simulator.steppers import _AffineStepper, _SchemeStepper, _SGDStepper, _Stepper


@dataclass(frozen=True)
class SimulationOptions:
    """How a simulation runs, not what it computes; shared by :func:`simulate` and
    :func:`simulate_sgd`.

    None of these changes a number of the result (``block_size``, which fixes the random
    streams, is therefore not here). Each field is still accepted as a keyword of both
    functions; giving one both ways is refused.

    Attributes
    ----------
    progress : bool
        Show a tqdm progress bar.
    progress_delay : float
        Show it only after this many seconds.
    max_memory : float or None
        Refuse runs whose estimated memory exceeds this many bytes (default: half the
        machine's memory).
    chunk_size : int or None
        Paths advanced together (one Dask task per chunk with ``backend="dask"``).
    backend : {"local", "dask"}
        Where the blocks run.
    client : distributed.Client, str or None
        The Dask client or scheduler address (``backend="dask"`` only).
    workers : int or None
        Threads that advance chunks at once (``None``: every core this process may use).
    kernel : {"auto", "numba", "numpy"}
        How a step runs: ``"numpy"``, as a sequence of in-place ufunc calls;
        ``"numba"``, as one compiled loop over each block's paths
        (:mod:`symsde.simulator.compiled`); ``"auto"`` (default), compiled for runs of at
        least :data:`~symsde.simulator.compiled.AUTO_MIN_PATH_STEPS` path-steps whose step
        can be compiled, unless ``max_memory`` is below what compiling takes
        (:data:`~symsde.simulator.compiled.COMPILE_BYTES`). The results are the same bits
        either way.

    Examples
    --------
    >>> import sympy as sp
    >>> from symsde import SDE
    >>> x = sp.Symbol("x", real=True)
    >>> opts = SimulationOptions(workers=1, chunk_size=1000)
    >>> a = simulate(SDE([x], [-x], 1), 0.0, n_steps=20, n_paths=3000, options=opts)
    >>> b = simulate(SDE([x], [-x], 1), 0.0, n_steps=20, n_paths=3000, workers=2,
    ...              chunk_size=500)
    >>> bool((a.final == b.final).all())
    True
    """

    progress: bool = False
    progress_delay: float = 0.0
    max_memory: float | None = None
    chunk_size: int | None = None
    backend: str = "local"
    client: Any = None
    workers: int | None = None
    kernel: str = "auto"


def _same(value: Any, default: Any) -> bool:
    """Whether a keyword was left at its default (safe for arrays and odd objects)."""
    if value is default:
        return True
    try:
        return type(value) is type(default) and bool(value == default)
    except Exception:  # an object whose == is not a truth value
        return False


def _options(options: Any, **given: Any) -> SimulationOptions:
    """The run options: ``options`` when given (no keyword may repeat one), else the
    keywords themselves."""
    if options is None:
        return SimulationOptions(**given)
    if not isinstance(options, SimulationOptions):
        raise InvalidSimulationError(
            f"options must be a symsde.simulator.SimulationOptions, got {type(options).__name__}")
    defaults = SimulationOptions()
    twice = [k for k, v in given.items() if not _same(v, getattr(defaults, k))]
    if twice:
        raise InvalidSimulationError(
            f"{', '.join(twice)} given both as keyword and in options; give each once")
    return options


#: Independent runs of :func:`simulate_sgd` when ``n_paths`` is not given.
SGD_PATHS = 10_000


def _renamed(func: str, new: str, new_value: Any, old: str, old_value: Any,
             default: Any) -> Any:
    """The value of a keyword that has a deprecated old name (``None``: not given)."""
    if old_value is None:
        return default if new_value is None else new_value
    if new_value is not None:
        raise InvalidSimulationError(
            f"{func}: {old} is the old name of {new} and both were given; give only {new}")
    warnings.warn(f"{func}({old}=...) is deprecated: use {new}=", DeprecationWarning,
                  stacklevel=3)
    return old_value


def _choose_kernel(stepper: _Stepper, kernel: Any, path_steps: int,
                   max_memory: float | None) -> None:
    """Compile ``stepper`` if ``kernel`` asks for it (see :class:`SimulationOptions`)."""
    from symsde.simulator import compiled

    if not isinstance(kernel, str) or kernel not in compiled.KERNELS:
        raise InvalidSimulationError(
            f"kernel must be one of {', '.join(map(repr, compiled.KERNELS))}, got {kernel!r}")
    if kernel == "numpy" or (kernel == "auto" and (
            path_steps < compiled.AUTO_MIN_PATH_STEPS
            or (max_memory is not None and float(max_memory) < compiled.COMPILE_BYTES))):
        return
    if not stepper.compile() and kernel == "numba":
        why = ("Numba is not importable here" if not compiled.available() else
               "SGD steps are not compiled" if isinstance(stepper, _SGDStepper) else
               "it uses more than + - * / and sqrt (functions whose NumPy and compiled "
               "versions may round differently)")
        raise InvalidSimulationError(
            f"kernel='numba' cannot compile this step: {why}; use kernel='auto' or 'numpy'")


def _commutative(sde: SDE, G: sp.Matrix) -> bool:
    X, d, m = sde.state, G.shape[0], G.shape[1]

    def L(j: int, col: int) -> list[sp.Expr]:
        return [sum((G[q, j] * sp.diff(G[i, col], X[q]) for q in range(d)), sp.Integer(0))
                for i in range(d)]

    for j in range(m):
        for k in range(j + 1, m):
            if any(sp.simplify(a - b) != 0 for a, b in zip(L(j, k), L(k, j), strict=True)):
                return False
    return True



# -- the public functions -------------------------------------------------------------------
def plan_simulation(
    sde: SDE, x0: Any, dt: float = 0.01, n_steps: int = 1000, n_paths: int = 100_000,
    seed: int = 0, method: str = "euler", params: Mapping[Any, Any] | None = None,
    record_every: int | None = None, chunk_size: int | None = None, *,
    keep_paths: int = 0, block_size: int | None = None, max_memory: float | None = None,
    workers: int | None = None, kernel: str = "auto",
) -> SimulationPlan:
    """Validate a request and build its :class:`SimulationPlan` (no simulation yet).

    Takes the arguments of :func:`simulate`; every check happens here, before any
    array of the run is allocated.
    """
    if not isinstance(sde, SDE):
        raise InvalidSimulationError(f"sde must be a symsde.SDE, got {type(sde).__name__}")
    if method not in METHODS:
        raise InvalidSimulationError(
            f"method must be one of {', '.join(METHODS)}, got {method!r}")
    dt = _positive(dt, "dt")
    n_steps = _int(n_steps, "n_steps", 1)
    n_paths = _int(n_paths, "n_paths", 2)
    seed = _int(seed, "seed", 0)
    if record_every is not None:
        record_every = _int(record_every, "record_every", 1, n_steps)
    keep_paths = _int(keep_paths, "keep_paths", 0, n_paths)
    if keep_paths and not record_every:
        raise InvalidSimulationError(
            "keep_paths records paths at the recorded times; also set record_every "
            "(e.g. record_every=1)")
    if chunk_size is not None:
        chunk_size = _int(chunk_size, "chunk_size", 1)
    if block_size is not None:
        block_size = _int(block_size, "block_size", 1)
    given, workers = workers is not None, resolve_workers(workers)
    d, m = sde.dim, sde.noise_dim
    x0a = _initial(x0, d, n_paths, "x0")
    values = numeric_values(params, sde.parameters, what="the SDE")
    drift = sde.drift.subs(values) if values else sde.drift
    G = sde.diffusion.subs(values) if values else sde.diffusion
    for e in [*drift, *G]:
        if e.is_number and not e.is_finite:
            raise InvalidSimulationError(
                f"a coefficient evaluates to {e} with these parameter values; "
                "give values that keep drift and diffusion finite")
    args = (*sde.state, *([sde.time] if sde.time is not None else []))
    const_G = not any(e.has(*args) for e in G)
    if method == "milstein" and not const_G and m > 1 and not _commutative(sde, G):
        raise InvalidSimulationError(
            "Milstein without Levy areas needs commutative noise (L^j G_k = L^k G_j), "
            "and this diffusion is not commutative; use method='euler' or diagonal noise")
    affine = (affine_drift(sde, values) if const_G and method in ("euler", "milstein")
              else None)
    if affine is not None:
        G_num = np.array(G.tolist(), dtype=float)
        aff = _AffineStepper(affine[0], affine[1], G_num, dt, method)
        if not np.all(np.isfinite(aff.B)) or not np.all(np.isfinite(aff.S)):
            raise InvalidSimulationError(
                "drift or diffusion coefficients are not finite with these parameter values")
        stepper: _Stepper = aff
    else:
        try:
            stepper = _SchemeStepper(SDE(sde.state, drift, G, time=sde.time), {}, dt, method)
        except InvalidSimulationError:
            raise
        except InputError as exc:
            raise InvalidSimulationError(str(exc)) from None
    if chunk_size is None and isinstance(stepper, _SchemeStepper):
        # the fused kernel's arrays of one chunk should stay in a core's cache (~1 MB)
        chunk_size = max(1, SCHEME_CHUNK_BYTES // (8 * stepper.width))
    bs, cb = _sizes(d, max(d, m), stepper.width, n_paths, block_size, chunk_size, n_steps,
                    record_every, keep_paths, max_memory, x0a.ndim == 2, "simulation",
                    workers)
    _choose_kernel(stepper, kernel, n_paths * n_steps, max_memory)
    return SimulationPlan(stepper=stepper, d=d, n_paths=n_paths, n_steps=n_steps, dt=dt,
                          seed=seed, block_size=bs, chunk_blocks=cb, x0=x0a,
                          record_every=record_every, keep_paths=keep_paths, workers=workers,
                          workers_given=given)


def simulate(
    sde: SDE,
    x0: Any,
    dt: float = 0.01,
    n_steps: int = 1000,
    n_paths: int = 100_000,
    seed: int = 0,
    method: str = "euler",
    params: Mapping[Any, Any] | None = None,
    record_every: int | None = None,
    chunk_size: int | None = None,
    progress: bool = False,
    *,
    keep_paths: int = 0,
    block_size: int | None = None,
    max_memory: float | None = None,
    progress_delay: float = 0.0,
    backend: str = "local",
    client: Any = None,
    workers: int | None = None,
    kernel: str = "auto",
    options: SimulationOptions | None = None,
) -> SimulationResult:
    """Simulate ``n_paths`` paths of an SDE with a scheme derived from it.

    Parameters
    ----------
    sde : SDE
        The SDE; its drift and diffusion are lambdified (after substituting ``params``).
    x0 : float, array (d,) or array (n_paths, d)
        Initial state, shared or one row per path.
    dt : float
        Time step (> 0).
    n_steps, n_paths : int
        Number of steps and of independent paths.
    seed : int
        The result is a deterministic function of the seed (and of ``block_size``).
    method : {"euler", "milstein", "strong1.5", "weak2"}
        The scheme, derived from the SDE (:func:`symsde.schemes.derive_scheme`): strong
        orders 0.5, 1 and 1.5, or weak order 2. Milstein needs commutative noise (scalar,
        diagonal, or constant noise, where it coincides with Euler-Maruyama); strong1.5
        scalar or diagonal noise; weak2 draws three-point increments.
    params : mapping, optional
        Numeric value of every free parameter, by symbol or name.
    record_every : int, optional
        Record means and covariances every this many steps (and at time 0).
    chunk_size : int, optional
        Paths advanced together; rounded to whole blocks. Does not change the results.
        With ``backend="dask"`` one chunk is one task.
    progress : bool
        Show a tqdm progress bar.
    keep_paths : int
        Keep the whole paths of the first ``keep_paths`` paths at the recorded times.
    block_size : int, optional
        Paths per random-stream block (default: 16384 for a scalar state, fewer for wide
        states). Results depend on it; keep it fixed to reproduce a run.
    max_memory : float, optional
        Refuse runs whose estimated memory exceeds this many bytes (default: half the
        machine's memory).
    progress_delay : float
        Show the progress bar only after this many seconds.
    backend : {"local", "dask"}
        ``"local"`` runs the chunks one after the other in this process; ``"dask"`` runs
        each chunk as a Dask task (:mod:`symsde.simulator.dask_backend`; needs the ``dask`` extra).
        For a given seed the Dask result equals the local one: ``final`` bit for bit, the
        moments up to the order of summation (exactly rounded sums, so in practice also
        bit for bit).
    client : distributed.Client or str, optional
        With ``backend="dask"``: the client (or a scheduler address like
        ``"tcp://host:8786"``) to run on. Default: the current client, or else a
        LocalCluster on 127.0.0.1 with one worker process per core, started once.
    workers : int or None
        Threads that advance chunks of blocks at once (``None``, the default: every core
        this process may use; ``1``: one chunk after the other). With ``backend="dask"``
        each task splits its blocks over this many threads (``None``: the Dask worker's
        thread count). Results are bit-identical for every value;
        ``max_memory`` counts every thread's buffers.
    kernel : {"auto", "numba", "numpy"}
        How each step runs: one compiled loop per block (``"numba"``), in-place ufunc
        calls (``"numpy"``), or compiled for large runs (``"auto"``; see
        :class:`SimulationOptions`). The results are bit-identical for every value.
    options : SimulationOptions, optional
        ``progress``, ``progress_delay``, ``max_memory``, ``chunk_size``, ``backend``,
        ``client``, ``workers`` and ``kernel`` in one object (then not also as keywords).

    Returns
    -------
    SimulationResult

    Raises
    ------
    InvalidSimulationError, InputError
        Before any work: non-finite ``x0`` or parameters, ``dt <= 0``, shapes that do not
        match the SDE, Milstein for non-commutative noise, free symbols without values,
        sizes that would not fit in memory, an unknown backend, ``backend="dask"``
        without dask.distributed installed.

    Examples
    --------
    >>> import sympy as sp
    >>> from symsde import SDE
    >>> x = sp.Symbol("x", real=True)
    >>> res = simulate(SDE([x], [-x], 1), x0=0.0, dt=0.01, n_steps=500, n_paths=4000)
    >>> res.final.shape, res.diverged
    ((4000, 1), 0)
    >>> bool(abs(res.cov[0, 0] - 0.5) < 0.05)
    True
    """
    o = _options(options, progress=progress, progress_delay=progress_delay,
                 max_memory=max_memory, chunk_size=chunk_size, backend=backend, client=client,
                 workers=workers, kernel=kernel)
    _check_backend(o.backend, o.client)
    plan = plan_simulation(sde, x0, dt, n_steps, n_paths, seed, method, params, record_every,
                           o.chunk_size, keep_paths=keep_paths, block_size=block_size,
                           max_memory=o.max_memory, workers=o.workers, kernel=o.kernel)
    res = _execute(plan, o.progress, o.progress_delay, "simulate", o.backend, o.client)
    from symsde.guards import check_growth  # paths past what the SDE allows (issue 15)

    check_growth(sde, plan.x0, res, params)
    return res


def plan_sgd(
    per_example_loss: sp.Expr, params: Sequence[sp.Symbol] | sp.Symbol,
    data_symbols: Sequence[sp.Symbol] | sp.Symbol, data: Any, learning_rate: float = 0.1,
    n_steps: int = 1000, n_paths: int | None = None, seed: int = 0, batch_size: int = 1,
    replace: bool = True, x0: Any = None, *, values: Mapping[Any, Any] | None = None,
    record_every: int | None = None, chunk_size: int | None = None, keep_paths: int = 0,
    block_size: int | None = None, max_memory: float | None = None,
    workers: int | None = None, n_runs: int | None = None, theta0: Any = None,
    kernel: str = "auto",
) -> SimulationPlan:
    """Validate an SGD request and build its plan (the arguments of :func:`simulate_sgd`)."""
    n_paths = _renamed("plan_sgd", "n_paths", n_paths, "n_runs", n_runs, SGD_PATHS)
    x0 = _renamed("plan_sgd", "x0", x0, "theta0", theta0, 0.0)
    _, grad = lambdify_loss(per_example_loss, params, data_symbols, values)
    p, k = len(grad.params), len(grad.data)
    try:
        arr = np.asarray(data, dtype=float)
    except (TypeError, ValueError):
        raise InvalidSimulationError("data must be a numeric array") from None
    if arr.ndim == 1 and k == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] != k or arr.shape[0] == 0:
        raise InvalidSimulationError(
            f"data has shape {np.shape(data)}; give an (N, {k}) array, one row per example "
            f"with one column per data symbol ({', '.join(s.name for s in grad.data)})")
    if not np.all(np.isfinite(arr)):
        raise InvalidSimulationError("data contains non-finite values; clean the data set")
    lr = _positive(learning_rate, "learning_rate")
    n_steps = _int(n_steps, "n_steps", 1)
    n_paths = _int(n_paths, "n_paths", 2)
    seed = _int(seed, "seed", 0)
    N = arr.shape[0]
    if not isinstance(replace, bool):
        raise InvalidSimulationError(f"replace must be True or False, got {replace!r}")
    batch_size = _int(batch_size, "batch_size", 1)
    if not replace and batch_size > N:
        raise InvalidSimulationError(
            f"batch_size={batch_size} exceeds the {N} examples; without replacement a "
            "minibatch can hold each example at most once (use replace=True or a smaller "
            "batch)")
    if record_every is not None:
        record_every = _int(record_every, "record_every", 1, n_steps)
    keep_paths = _int(keep_paths, "keep_paths", 0, n_paths)
    if keep_paths and not record_every:
        raise InvalidSimulationError("keep_paths needs record_every (e.g. record_every=1)")
    if chunk_size is not None:
        chunk_size = _int(chunk_size, "chunk_size", 1)
    if block_size is not None:
        block_size = _int(block_size, "block_size", 1)
    given, workers = workers is not None, resolve_workers(workers)
    th0 = _initial(x0, p, n_paths, "x0")
    stepper = _SGDStepper(grad.columns, arr, lr, batch_size, replace)
    bs, cb = _sizes(p, max(p, batch_size * (k + 1)), stepper.width, n_paths, block_size,
                    chunk_size, n_steps, record_every, keep_paths, max_memory, th0.ndim == 2,
                    "SGD simulation", workers)
    plan = SimulationPlan(stepper=stepper, d=p, n_paths=n_paths, n_steps=n_steps, dt=1.0,
                          seed=seed, block_size=bs, chunk_blocks=cb, x0=th0,
                          record_every=record_every, keep_paths=keep_paths, time_scale=lr,
                          workers=workers, workers_given=given)
    _choose_kernel(plan.stepper, kernel, n_paths * n_steps, max_memory)
    return plan


def simulate_sgd(
    per_example_loss: sp.Expr,
    params: Sequence[sp.Symbol] | sp.Symbol,
    data_symbols: Sequence[sp.Symbol] | sp.Symbol,
    data: Any,
    learning_rate: float = 0.1,
    n_steps: int = 1000,
    n_paths: int | None = None,
    seed: int = 0,
    batch_size: int = 1,
    replace: bool = True,
    x0: Any = None,
    *,
    values: Mapping[Any, Any] | None = None,
    record_every: int | None = None,
    chunk_size: int | None = None,
    progress: bool = False,
    keep_paths: int = 0,
    block_size: int | None = None,
    max_memory: float | None = None,
    progress_delay: float = 0.0,
    backend: str = "local",
    client: Any = None,
    workers: int | None = None,
    kernel: str = "auto",
    options: SimulationOptions | None = None,
    n_runs: int | None = None,
    theta0: Any = None,
) -> SimulationResult:
    """Run real minibatch SGD on a finite data set, ``n_paths`` independent runs at once.

    Each step of each run draws a minibatch of ``batch_size`` example indices (with
    replacement, or a uniformly random subset without), averages the per-example
    gradients :math:`\\nabla_\\theta \\ell(\\theta; y_i)` (lambdified from the SymPy loss)
    and updates :math:`\\theta \\leftarrow \\theta - \\eta\\,\\bar g`.

    Parameters
    ----------
    per_example_loss : sympy.Expr
        :math:`\\ell(\\theta; y)` of one example.
    params : symbols
        The trained parameters :math:`\\theta` (``p`` of them).
    data_symbols : symbols
        The symbols of one example (``k`` of them).
    data : array (N, k) or (N,)
        The data set.
    learning_rate : float
        :math:`\\eta`. Recorded times are :math:`t = k\\eta` (the SDE's clock).
    n_steps : int
        Number of SGD steps.
    n_paths : int
        Number of independent runs (default 10 000), each one path of the SGD chain: the
        name :func:`simulate` gives its paths.
    seed, batch_size, replace
        As named.
    x0 : float, array (p,) or array (n_paths, p)
        The starting parameters :math:`\theta_0` (default 0), shared or one row per run,
        as ``x0`` of :func:`simulate`.
    values : mapping, optional
        Values of other free symbols of the loss.
    n_runs, theta0
        Deprecated names of ``n_paths`` and ``x0`` (a :class:`DeprecationWarning`; giving
        a value under both names is an error).

    Other keywords are as in :func:`simulate` (including ``backend="dask"``, ``client``,
    ``workers`` and ``options``, a :class:`SimulationOptions`).

    Examples
    --------
    For :math:`\\ell = (\\theta - y)^2/2` and batch 1 with replacement the stationary
    variance is :math:`\\eta s^2/(2 - \\eta)`:

    >>> import numpy as np, sympy as sp
    >>> th, y = sp.symbols("theta y", real=True)
    >>> data = np.array([-1.0, 1.0])
    >>> res = simulate_sgd((th - y)**2 / 2, [th], [y], data, learning_rate=0.5,
    ...                    n_steps=60, n_paths=20000, seed=1)
    >>> round(0.5 * 1.0 / (2 - 0.5), 4), bool(abs(res.cov[0, 0] - 1/3) < 0.02)
    (0.3333, True)
    """
    o = _options(options, progress=progress, progress_delay=progress_delay,
                 max_memory=max_memory, chunk_size=chunk_size, backend=backend, client=client,
                 workers=workers, kernel=kernel)
    _check_backend(o.backend, o.client)
    n_paths = _renamed("simulate_sgd", "n_paths", n_paths, "n_runs", n_runs, SGD_PATHS)
    x0 = _renamed("simulate_sgd", "x0", x0, "theta0", theta0, 0.0)
    plan = plan_sgd(per_example_loss, params, data_symbols, data, learning_rate, n_steps,
                    n_paths, seed, batch_size, replace, x0, values=values,
                    record_every=record_every, chunk_size=o.chunk_size, keep_paths=keep_paths,
                    block_size=block_size, max_memory=o.max_memory, workers=o.workers,
                    kernel=o.kernel)
    return _execute(plan, o.progress, o.progress_delay, "sgd", o.backend, o.client)
