"""Measured resource guards and the stability check of ``symsde simulate``.

Memory
    :func:`simulation_bytes` estimates the peak memory of a ``simulate`` command from
    bytes per path *measured* (with :mod:`tracemalloc`, which sees NumPy's buffers) for
    each method and option; ``tests/test_guards.py`` measures them again and fails if the
    command needs more than the model says, so the largest run the guard accepts stays
    under :func:`memory_budget`.

Work
    :func:`simulation_seconds` estimates the run time from a cost per step of every chunk
    of paths (the Python overhead that dominates for few paths) plus a cost per path-step
    (the vectorised arithmetic that dominates for many); ``benchmarks/bench_guards.py``
    prints the measured rates next to these constants.

Stability
    For an affine drift :math:`\\mu(x) = J x + c` the Euler-Maruyama (and Milstein) mean
    obeys :math:`m_{k+1} = (I + J\\,\\Delta t) m_k + c\\,\\Delta t`: when every eigenvalue of
    :math:`J` has a negative real part (the SDE is stable) but the spectral radius of
    :math:`I + J\\Delta t` exceeds one, the scheme grows geometrically while the SDE does
    not (Kloeden & Platen, *Numerical Solution of SDEs*, sec. 9.8 on A-stability).
    :func:`check_scheme_stability` refuses such a run before it starts.

Growth
    For any other drift, :func:`check_growth` judges a finished run. With
    :math:`V(x) = |x|^2` the generator gives :math:`\\mathcal{A}V = 2 x\\cdot\\mu(x) +
    \\operatorname{tr} D(x)`; where :math:`\\mathcal{A}V < 0` outside a ball of radius
    :math:`r^*` the SDE pulls its paths back into that ball (a Lyapunov drift condition:
    Khasminskii, *Stochastic Stability of Differential Equations*, 2nd ed., sec. 3.7; Meyn &
    Tweedie, "Stability of Markovian processes III", *Adv. Appl. Probab.* 25 (1993)). The
    scale the SDE allows up to time :math:`T` is then
    :math:`R = \\max(|x_0|_\\infty,\\ r^*,\\ \\sqrt{T \\max_{|x| \\le R_0}
    \\operatorname{tr} D})` with :math:`R_0 = \\max(|x_0|_\\infty, r^*)` (the last term
    is the spread of free diffusion over the run). When the *median* distance of the final
    states from the origin exceeds :data:`GROWTH_FACTOR` times :math:`R`, the run is
    reported as unstable (:class:`~symsde.errors.UnstableRunError`, exit code 1): the
    typical path, not a heavy tail, has left what the SDE allows. Without such an
    :math:`r^*` (the SDE may grow by itself) nothing is judged.
"""

from __future__ import annotations

import math
import os
from typing import Any

import sympy as sp

from symsde._format import fmt_bytes as _bytes
from symsde.errors import ResourceLimitError, UnstableRunError

__all__ = [
    "BYTES_PER_PATH",
    "GROWTH_FACTOR",
    "GROWTH_SAMPLE",
    "MAX_SECONDS",
    "check_growth",
    "check_scheme_stability",
    "confinement_radius",
    "memory_budget",
    "precision_warning",
    "simulation_bytes",
    "simulation_seconds",
]

#: Peak bytes per path and per state dimension of ``symsde simulate`` (final states, their
#: finite copy, the mask, the JSON summary), by option. Measured (tracemalloc, 100k vs
#: 300k paths): 24.2 B/path in 1-d and 40.9 in 2-d for euler, 9.5 for milstein, 16.2
#: with --plot; --compare-stationary 128.8 in 1-d (KS test: sorted copy, CDF on every
#: sample) and 64.1 in 2-d (moment tests). The constants round up with a margin.
BYTES_PER_PATH = {
    "base": 16.0, "per_dim": 24.0,
    "compare_1d": 170.0, "compare_per_dim": 48.0,
}
#: Bytes that do not grow with the paths: the chunk workspace (65536 paths of a few
#: arrays), compiled kernels, matplotlib's figure.
FIXED_BYTES = 256e6
#: Seconds per step of each chunk of paths (Python overhead; 5-15 us measured) and per
#: path-step per state dimension (vectorised NumPy; 10-35 ns measured, the upper ends on a
#: loaded machine).
SECONDS_PER_CHUNK_STEP = 1.0e-5
SECONDS_PER_PATH_STEP = 1.5e-8
#: Paths per chunk (the simulator's default vectorised width for a scalar state).
CHUNK_PATHS = 65536
#: The longest run ``simulate`` accepts: about half an hour.
MAX_SECONDS = 1800.0


def memory_budget() -> float:
    """Half the machine's physical memory (the simulator's own default limit).

    Examples
    --------
    >>> memory_budget() > 0
    True
    """
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")) / 2
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return float(4 << 30)


def per_path_bytes(d: int, compare: bool) -> float:
    """Peak bytes per path of a ``d``-dimensional run (with ``--compare-stationary``).

    Examples
    --------
    >>> per_path_bytes(1, False), per_path_bytes(1, True)
    (40.0, 210.0)
    """
    b = BYTES_PER_PATH["base"] + BYTES_PER_PATH["per_dim"] * d
    if compare:
        b += BYTES_PER_PATH["compare_1d"] if d == 1 else BYTES_PER_PATH["compare_per_dim"] * d
    return b


def simulation_bytes(paths: int, d: int, *, compare: bool = False) -> float:
    """Estimated peak memory (bytes) of ``simulate`` with ``paths`` paths.

    Examples
    --------
    >>> round(simulation_bytes(10**6, 1) / 1e6)
    296
    """
    return FIXED_BYTES + paths * per_path_bytes(d, compare)


def simulation_seconds(paths: int, steps: int, d: int) -> float:
    """Estimated seconds of one core for ``steps`` steps of ``paths`` paths.

    Examples
    --------
    >>> simulation_seconds(2, 5 * 10**10, 1) / 3600 > 100   # few paths: overhead per step
    True
    >>> round(simulation_seconds(10**5, 1000, 1), 1)
    1.5
    """
    chunks = -(-paths // CHUNK_PATHS)
    return steps * (chunks * SECONDS_PER_CHUNK_STEP + paths * d * SECONDS_PER_PATH_STEP)


def check_resources(paths: int, steps: int, d: int, *, compare: bool) -> None:
    """Refuse a run that would need more memory or time than allowed (before it starts)."""
    need = simulation_bytes(paths, d, compare=compare)
    budget = memory_budget()
    if need > budget:
        per = per_path_bytes(d, compare)
        most = int((budget - FIXED_BYTES) / per)
        raise ResourceLimitError(
            f"--paths {paths} would need about {_bytes(need)} of memory ({per:g} bytes "
            f"per path{' with --compare-stationary' if compare else ''}), more than the "
            f"limit of {_bytes(budget)} (half this machine's memory); use at most "
            f"{max(most, 0)} paths")
    secs = simulation_seconds(paths, steps, d)
    if secs > MAX_SECONDS:
        raise ResourceLimitError(
            f"--steps {steps} x --paths {paths} would take about {_duration(secs)} on one "
            f"core, more than the limit of {_duration(MAX_SECONDS)}; reduce --steps or "
            "--paths")


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} hours"
    return f"{seconds / 86400:.3g} days"


def _affine(drift: sp.Matrix, state: tuple[sp.Symbol, ...]) -> Any:
    """The matrix J of an affine drift J x + c, or None."""
    J = drift.jacobian(sp.Matrix(state))
    if any(e.free_symbols & set(state) for e in J):
        return None
    if not all(e.is_number for e in J):
        return None
    return J


def check_scheme_stability(sde: Any, dt: float) -> None:
    """Refuse an explicit step that is unstable for a stable affine drift.

    Raises :class:`~symsde.errors.UnstableRunError` (exit code 1) when every eigenvalue
    :math:`\\lambda` of the drift's matrix has :math:`\\Re\\lambda < 0` but some
    :math:`|1 + \\lambda\\,\\Delta t| > 1`; the message gives the largest stable step.

    Examples
    --------
    >>> import sympy as sp
    >>> from symsde import SDE
    >>> x = sp.Symbol("x", real=True)
    >>> check_scheme_stability(SDE([x], [-x], 1), 0.5)
    >>> check_scheme_stability(SDE([x], [-x], 1), 2.5)
    Traceback (most recent call last):
    ...
    symsde.errors.UnstableRunError: --dt 2.5 is unstable for this drift: ...
    """
    import numpy as np

    J = _affine(sde.drift, sde.state)
    if J is None:
        return
    try:
        lam = np.linalg.eigvals(np.array(J.evalf(), dtype=float))
    except (TypeError, ValueError, np.linalg.LinAlgError):
        return
    if not np.all(np.isfinite(lam)) or np.any(lam.real >= 0):
        return  # the SDE itself grows (or is only marginally stable): growth is genuine
    radius = float(np.max(np.abs(1 + lam * dt)))
    if radius <= 1 + 1e-12:
        return
    # |1 + lam dt| <= 1  <=>  dt <= -2 Re(lam) / |lam|^2, for every eigenvalue
    bound = float(np.min(-2 * lam.real / np.abs(lam) ** 2))
    raise UnstableRunError(
        f"--dt {dt:g} is unstable for this drift: the explicit scheme multiplies the mean by "
        f"{radius:.3g} per step while the SDE itself decays, so the paths would grow "
        f"without bound; use --dt below {bound:.3g} (a tenth of it for accuracy)")


def precision_warning(sde: Any, x0: list[float], dt: float) -> str | None:
    """A note when ``x0`` is so large that the noise increments are lost in rounding.

    Examples
    --------
    >>> import sympy as sp
    >>> from symsde import SDE
    >>> x = sp.Symbol("x", real=True)
    >>> precision_warning(SDE([x], [-x], 1), [0.0], 0.01) is None
    True
    >>> print(precision_warning(SDE([x], [-x], 1), [1e20], 0.01))
    --x0 ... is so large that ... rounding ...
    """
    import numpy as np

    big = max((abs(v) for v in x0), default=0.0)
    if big == 0 or not math.isfinite(big):
        return None
    try:
        subs = dict(zip(sde.state, x0, strict=True))
        G = np.array(sde.diffusion.subs(subs).evalf(), dtype=float)
    except (TypeError, ValueError):
        return None
    scale = float(np.sqrt(np.max(np.sum(G * G, axis=1)) * dt)) if G.size else 0.0
    ulp = float(np.spacing(big))
    if scale == 0 or ulp < 1e-3 * scale:
        return None
    return (f"--x0 {big:g} is so large that floating point resolves only steps of {ulp:.3g} "
            f"there, against noise increments of about {scale:.3g}: the spread of the paths "
            "(and the covariance) is mostly rounding error; shift the state so that it "
            "starts near 0")


#: A finished run is unstable when the median distance of its final states from the origin
#: is more than this multiple of the scale the SDE allows (see the module's "Growth").
GROWTH_FACTOR = 1e3
#: Paths whose final states the growth check looks at (an evenly strided sample).
GROWTH_SAMPLE = 8192
#: Radii at which :func:`confinement_radius` evaluates the drift condition: 10^-6 to 10^12,
#: four per decade.
_RADII_EXPONENTS = (-24, 49)


def _radii() -> Any:
    import numpy as np

    return 10.0 ** (np.arange(*_RADII_EXPONENTS) / 4)


def _rays(d: int) -> Any:
    """Unit vectors: the coordinate directions both ways and 32 fixed random ones."""
    import numpy as np

    axes = np.concatenate([np.eye(d), -np.eye(d)])
    if d == 1:
        return axes
    rnd = np.random.default_rng(0).standard_normal((32, d))
    return np.concatenate([axes, rnd / np.linalg.norm(rnd, axis=1, keepdims=True)])


def _numeric_fields(sde: Any, params: Any) -> Any:
    """Callables (A V, tr D) at an array of points, or None if they are not numeric."""
    import numpy as np

    from symsde.kernels import numeric_values

    if sde.time is not None and any(e.has(sde.time) for e in [*sde.drift, *sde.diffusion]):
        return None
    try:
        values = numeric_values(params, sde.parameters, what="the SDE")
    except Exception:
        return None
    X = list(sde.state)
    mu = sde.drift.subs(values)
    trD = sp.Add(*[sde.diffusion_matrix[i, i] for i in range(len(X))]).subs(values)
    AV = 2 * sp.Add(*[X[i] * mu[i] for i in range(len(X))]) + trD
    if (AV.free_symbols | trD.free_symbols) - set(X):
        return None
    try:
        f = sp.lambdify(X, [AV, trD], modules="numpy")
    except Exception:
        return None

    def fields(points: Any) -> tuple[Any, Any]:
        with np.errstate(all="ignore"):
            a, t = f(*points.T)
        shape = points.shape[:1]
        return (np.broadcast_to(np.asarray(a, dtype=float), shape),
                np.broadcast_to(np.asarray(t, dtype=float), shape))

    return fields


def confinement_radius(sde: Any, params: Any = None) -> float | None:
    """The radius :math:`r^*` beyond which :math:`\\mathcal{A}|x|^2 < 0`, or ``None``.

    Checked on rays (both ways along each axis and 32 fixed random directions) at radii
    :math:`10^{-6}, \\dots, 10^{12}` (four per decade): :math:`r^*` is the smallest grid
    radius from which :math:`2x\\cdot\\mu + \\operatorname{tr} D < 0` at every larger
    grid point. ``None`` when that fails at the largest radius (the SDE need not come
    back), or the coefficients are not numeric.

    Examples
    --------
    :math:`dX = -X\\,dt + dB`: :math:`\\mathcal{A}x^2 = 1 - 2x^2 < 0` for
    :math:`|x| > 1/\\sqrt{2} \\approx 0.71`; the next grid radius is 1 (after 0.56).

    >>> import sympy as sp
    >>> from symsde import SDE
    >>> x = sp.Symbol("x", real=True)
    >>> round(confinement_radius(SDE([x], [-x], 1)), 3)
    1.0
    >>> confinement_radius(SDE([x], [x], 1)) is None
    True
    """

    fields = _numeric_fields(sde, params)
    if fields is None:
        return None
    rays, radii = _rays(sde.dim), _radii()
    pts = (radii[:, None, None] * rays[None, :, :]).reshape(-1, sde.dim)
    try:
        av, _ = fields(pts)
    except Exception:
        return None
    inward = (av < 0).reshape(len(radii), len(rays)).all(axis=1)
    if not inward[-1]:
        return None
    k = len(inward)
    while k > 0 and inward[k - 1]:
        k -= 1
    return float(radii[k])


def check_growth(sde: Any, x0: Any, res: Any, params: Any = None) -> None:
    """Report a finished run whose typical path left the scale the SDE allows.

    Raises :class:`~symsde.errors.UnstableRunError` (exit code 1, with the result as its
    ``result`` attribute) when the median distance of the finite final states from the
    origin exceeds :data:`GROWTH_FACTOR` times the scale :math:`R` of the module's
    "Growth" section; does nothing when the SDE has no confinement radius.

    Examples
    --------
    :math:`dX = -X^3 dt + dB` from 3 with :math:`\\Delta t = 0.5`: Euler maps 3 to
    :math:`-10.5`, then about 568, :math:`-9 \\cdot 10^7`, :math:`4 \\cdot 10^{23}`:

    >>> import sympy as sp
    >>> from symsde import SDE, simulate
    >>> x = sp.Symbol("x", real=True)
    >>> simulate(SDE([x], [-x**3], 1), 3.0, dt=0.5, n_steps=4, n_paths=100)
    Traceback (most recent call last):
    ...
    symsde.errors.UnstableRunError: the paths grew to a median distance of ...
    """
    import numpy as np

    final = np.asarray(res.final, dtype=float)
    # An evenly strided sample of at most GROWTH_SAMPLE paths (a view: no memory grows with
    # the paths); its median is within a few per cent of the whole run's.
    final = final[::max(1, -(-len(final) // GROWTH_SAMPLE))]
    finite = final[np.isfinite(final).all(axis=1)]
    if finite.size == 0:
        return  # every path left the finite range: reported as diverged already
    radius = confinement_radius(sde, params)
    if radius is None:
        return
    start = np.asarray(x0, dtype=float)
    start_scale = float(np.max(np.abs(start))) if start.size else 0.0
    inner = max(start_scale, radius)
    fields = _numeric_fields(sde, params)
    rays = _rays(sde.dim)
    ball = _radii()[_radii() <= inner]
    pts = np.concatenate([np.zeros((1, sde.dim)),
                          (ball[:, None, None] * rays[None, :, :]).reshape(-1, sde.dim)])
    _, trd = fields(pts)
    trd = trd[np.isfinite(trd)]
    horizon = res.n_steps * res.dt
    spread = math.sqrt(horizon * float(np.max(trd))) if trd.size and np.max(trd) > 0 else 0.0
    scale = max(inner, spread)
    typical = float(np.median(np.max(np.abs(finite), axis=1)))
    if typical <= GROWTH_FACTOR * scale:
        return
    err = UnstableRunError(
        f"the paths grew to a median distance of {typical:.3g} from 0, more than "
        f"{GROWTH_FACTOR:g} times the scale this SDE allows ({scale:.3g}: the start, the "
        f"radius {radius:.3g} beyond which the drift pulls paths back, and the noise over "
        f"t = {horizon:g}); the explicit scheme is unstable at dt = {res.dt:g} for this "
        f"drift: use a smaller --dt / dt= (try {res.dt / 10:g})")
    err.result = res  # type: ignore[attr-defined]
    raise err
