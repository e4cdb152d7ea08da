"""Statistical tests that compare samples with symbolic predictions.

Each test returns a :class:`StatTestResult`: the test's name, its statistic, the threshold,
the verdict (``True`` when the samples are consistent with the prediction) and a one-line
text. Every test states its false-alarm probability, the chance that it rejects a correct
prediction:

``mean`` / ``variance`` / ``covariance``
    The estimate minus the prediction, in units of its CLT standard error, must be at most
    5 in absolute value. The standard error of the mean is :math:`s/\\sqrt n`; of the
    variance :math:`\\sqrt{(m_4 - s^4)/n}` (from the fourth central moment, so it is right
    for non-Gaussian samples too); of a covariance entry the standard deviation of the
    centred products over :math:`\\sqrt n`. False-alarm probability
    :math:`P(|N(0,1)| > 5) = 5.7\\times10^{-7}` per compared number (asymptotically), and
    at most that times the number of entries for a vector or matrix (Bonferroni).
``ks``
    Kolmogorov-Smirnov distance between the empirical CDF and the CDF of a symbolic
    density, computed by mpmath quadrature; reject when the asymptotic p-value (with
    Stephens' small-sample correction) is below :data:`KS_P_VALUE` = :math:`10^{-6}`,
    which is the false-alarm probability.
``slope``
    Least-squares slope of :math:`\\log(\\text{error})` against :math:`\\log h` for a
    convergence rate; consistent when within a stated tolerance of the expected order
    (plus 5 standard errors of the slope when the errors' standard errors are given).

The module was called ``symsde.confirm`` and its result type ``Confirmation``; those names
still work, with a :class:`DeprecationWarning`, so that "confirm" means one thing: a
derivation's ``confirm(seed)``, the experiment that confirms it by simulation.

Examples
--------
>>> import numpy as np
>>> x = np.random.default_rng(0).standard_normal(10_000)
>>> mean_test(x, 0.0).verdict, mean_test(x, 0.2).verdict
(True, False)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from symsde.errors import InputError
from symsde.inputs import _describe, front_door, is_stationary_density

__all__ = [
    "FALSE_ALARM_5_SIGMA",
    "KS_P_VALUE",
    "SIGMAS",
    "StatTestResult",
    "covariance_test",
    "density_cdf",
    "kolmogorov_sf",
    "ks_critical_value",
    "ks_test",
    "mean_test",
    "moment_tests",
    "slope_test",
    "stationary_test",
    "variance_test",
]

#: Threshold of the moment tests, in standard errors.
SIGMAS = 5.0
#: Two-sided tail probability of a standard normal beyond 5: the per-number false alarm.
FALSE_ALARM_5_SIGMA = math.erfc(SIGMAS / math.sqrt(2.0))
#: Reject a KS test when its p-value is below this (its false-alarm probability).
KS_P_VALUE = 1e-6


@dataclass(frozen=True)
class StatTestResult:
    """The outcome of one statistical comparison.

    Attributes
    ----------
    test : str
        Name of the test (``"mean"``, ``"variance"``, ``"covariance"``, ``"ks"``,
        ``"slope"``).
    statistic : float
        The test statistic (``|z|`` in standard errors, the KS distance, the slope).
    threshold : float
        The verdict is ``statistic <= threshold`` (for ``slope``: ``|slope - expected|``).
    verdict : bool
        ``True`` when the samples are consistent with the prediction.
    text : str
        One line for people.
    false_alarm : float or None
        Probability of rejecting a correct prediction (``None`` when not statistical).
    details : dict
        Estimates, predictions, standard errors, p-values.
    """

    test: str
    statistic: float
    threshold: float
    verdict: bool
    text: str
    false_alarm: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"test": self.test, "statistic": self.statistic, "threshold": self.threshold,
                "verdict": self.verdict, "text": self.text, "false_alarm": self.false_alarm,
                "details": _plain(dict(self.details))}


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, np.ndarray):
        return _plain(v.tolist())
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, np.bool_):
        return bool(v)
    return v


# -- helpers ------------------------------------------------------------------------------------
def _samples(samples: Any, what: str = "samples", dims: int | None = None) -> np.ndarray:
    arr = np.asarray(samples, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InputError(f"{what} must have shape (n,) or (n, d), got {arr.shape}")
    if dims is not None and arr.shape[1] != dims:
        raise InputError(f"{what} have {arr.shape[1]} column(s) but the prediction has {dims}")
    if arr.shape[0] < 2:
        raise InputError(f"{what}: need at least 2 samples, got {arr.shape[0]}")
    if not np.all(np.isfinite(arr)):
        bad = int((~np.isfinite(arr).all(axis=1)).sum())
        raise InputError(
            f"{what} contain {bad} non-finite row(s) (diverged paths?); drop them first, "
            "e.g. x[np.isfinite(x).all(axis=1)]")
    return arr


def _numbers(value: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    if isinstance(value, sp.MatrixBase):
        value = value.tolist()
    try:
        arr = np.array(_to_floats(value), dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be numbers (give numeric parameter values), "
                         f"got {value!r}") from None
    if arr.size == 1 and int(np.prod(shape)) == 1:
        arr = arr.reshape(shape)
    if arr.shape != shape:
        raise InputError(f"{what} has shape {arr.shape}; expected {shape}")
    return arr


def _to_floats(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return [_to_floats(x) for x in v]
    if isinstance(v, sp.Basic):
        return float(v)
    return v


def _fmt(v: float) -> str:
    return f"{v:.6g}"


# -- moment tests ---------------------------------------------------------------------------------
def mean_test(samples: Any, predicted: Any, *, sigmas: float = SIGMAS,
              label: str = "mean") -> StatTestResult:
    """Compare the sample mean with a predicted mean (per component, CLT at ``sigmas``).

    Parameters
    ----------
    samples : array (n,) or (n, d)
    predicted : number, sequence of d numbers, or SymPy numbers
    sigmas : float
        Threshold in standard errors (default 5).
    label : str
        Name used in the text.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(1).normal(2.0, 1.0, 5000)
    >>> r = mean_test(x, 2.0)
    >>> r.test, r.threshold, r.verdict
    ('mean', 5.0, True)
    """
    x = _samples(samples)
    n, d = x.shape
    mu = _numbers(predicted, (d,), "predicted mean")
    est = x.mean(axis=0)
    se = x.std(axis=0, ddof=1) / math.sqrt(n)
    z = _z(est - mu, se)
    stat = float(np.max(np.abs(z)))
    ok = stat <= sigmas
    fa = d * math.erfc(sigmas / math.sqrt(2.0))
    worst = int(np.argmax(np.abs(z)))
    text = (f"{label}: estimate {_fmt(est[worst])} vs predicted {_fmt(mu[worst])}, "
            f"{_fmt(stat)} standard errors ({'<=' if ok else '>'} {sigmas:g}): "
            f"{'consistent' if ok else 'REJECTED'}")
    return StatTestResult("mean", stat, float(sigmas), bool(ok), text, fa,
                        {"estimate": est, "predicted": mu, "standard_error": se, "z": z,
                         "n": n})


def _z(diff: np.ndarray, se: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, diff / np.where(se > 0, se, 1.0),
                     np.where(diff == 0, 0.0, np.inf))
    return z


def variance_test(samples: Any, predicted: Any, *, sigmas: float = SIGMAS,
                  label: str = "variance") -> StatTestResult:
    """Compare the sample variance with a prediction; standard error from the 4th moment.

    :math:`\\operatorname{se}(s^2) = \\sqrt{(m_4 - s^4)/n}` with :math:`m_4` the sample
    fourth central moment. Samples ``(n, d)`` are tested per component against ``d``
    predicted variances.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(2).normal(0.0, 2.0, 20000)
    >>> variance_test(x, 4.0).verdict, variance_test(x, 4.5).verdict
    (True, False)
    """
    x = _samples(samples)
    n, d = x.shape
    var = _numbers(predicted, (d,), "predicted variance")
    c = x - x.mean(axis=0)
    s2 = (c * c).sum(axis=0) / (n - 1)
    m4 = (c**4).mean(axis=0)
    se = np.sqrt(np.maximum(m4 - s2**2, 0.0) / n)
    z = _z(s2 - var, se)
    stat = float(np.max(np.abs(z)))
    ok = stat <= sigmas
    worst = int(np.argmax(np.abs(z)))
    text = (f"{label}: estimate {_fmt(s2[worst])} vs predicted {_fmt(var[worst])}, "
            f"{_fmt(stat)} standard errors (4th-moment s.e.; {'<=' if ok else '>'} "
            f"{sigmas:g}): {'consistent' if ok else 'REJECTED'}")
    return StatTestResult("variance", stat, float(sigmas), bool(ok), text,
                        d * math.erfc(sigmas / math.sqrt(2.0)),
                        {"estimate": s2, "predicted": var, "standard_error": se, "z": z,
                         "n": n})


def covariance_test(samples: Any, predicted: Any, *, sigmas: float = SIGMAS,
                    label: str = "covariance") -> StatTestResult:
    """Compare the sample covariance matrix with a prediction, entry by entry.

    The standard error of entry :math:`(i, j)` is the standard deviation of the centred
    products :math:`(x_i - \\bar x_i)(x_j - \\bar x_j)` over :math:`\\sqrt n` (on the
    diagonal this is the fourth-moment standard error of the variance).

    Examples
    --------
    >>> import numpy as np
    >>> S = np.array([[1.0, 0.5], [0.5, 2.0]])
    >>> x = np.random.default_rng(3).multivariate_normal([0, 0], S, 20000)
    >>> covariance_test(x, S).verdict, covariance_test(x, np.eye(2)).verdict
    (True, False)
    """
    x = _samples(samples)
    n, d = x.shape
    S = _numbers(predicted, (d, d), "predicted covariance")
    c = x - x.mean(axis=0)
    est = np.empty((d, d))
    se = np.empty((d, d))
    for i in range(d):
        for j in range(i, d):
            p = c[:, i] * c[:, j]
            est[i, j] = est[j, i] = p.sum() / (n - 1)
            se[i, j] = se[j, i] = p.std(ddof=1) / math.sqrt(n)
    z = _z(est - S, se)
    iu = np.triu_indices(d)
    stat = float(np.max(np.abs(z[iu])))
    ok = stat <= sigmas
    k = int(np.argmax(np.abs(z[iu])))
    i, j = iu[0][k], iu[1][k]
    text = (f"{label}[{i},{j}]: estimate {_fmt(est[i, j])} vs predicted {_fmt(S[i, j])}, "
            f"{_fmt(stat)} standard errors ({'<=' if ok else '>'} {sigmas:g}, worst of "
            f"{len(iu[0])} entries): {'consistent' if ok else 'REJECTED'}")
    return StatTestResult("covariance", stat, float(sigmas), bool(ok), text,
                        len(iu[0]) * math.erfc(sigmas / math.sqrt(2.0)),
                        {"estimate": est, "predicted": S, "standard_error": se, "z": z,
                         "n": n})


def moment_tests(samples: Any, mean: Any = None, cov: Any = None, *,
                 sigmas: float = SIGMAS) -> list[StatTestResult]:
    """The mean test and the covariance test (each only when its prediction is given).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(4).standard_normal((5000, 2))
    >>> [r.verdict for r in moment_tests(x, mean=[0, 0], cov=np.eye(2))]
    [True, True]
    """
    out = []
    if mean is not None:
        out.append(mean_test(samples, mean, sigmas=sigmas))
    if cov is not None:
        out.append(covariance_test(samples, cov, sigmas=sigmas))
    return out


# -- Kolmogorov-Smirnov ----------------------------------------------------------------------------
def kolmogorov_sf(lam: float) -> float:
    """:math:`P(K > \\lambda)` for the Kolmogorov distribution.

    Examples
    --------
    >>> round(kolmogorov_sf(1.3581), 4)
    0.05
    """
    if lam <= 0:
        return 1.0
    if lam < 1.0:
        # Jacobi-theta form, fast for small lambda: P(K <= lam).
        s = sum(math.exp(-((2 * k - 1) ** 2) * math.pi**2 / (8 * lam * lam))
                for k in range(1, 8))
        return 1.0 - math.sqrt(2 * math.pi) / lam * s
    s = sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))
    return min(1.0, max(0.0, 2.0 * s))


def _stephens(n: int) -> float:
    rn = math.sqrt(n)
    return rn + 0.12 + 0.11 / rn


def ks_critical_value(n: int, p: float = KS_P_VALUE) -> float:
    """The KS distance above which the p-value is below ``p`` for ``n`` samples.

    Examples
    --------
    >>> round(ks_critical_value(10_000, 1e-6), 5)
    0.0269
    """
    lo, hi = 0.0, 10.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if kolmogorov_sf(mid) > p:
            lo = mid
        else:
            hi = mid
    return hi / _stephens(n)


@front_door("density", symbols=("variable",), keep=is_stationary_density)
def density_cdf(density: Any, variable: sp.Symbol | None = None, *,
                params: Mapping[Any, Any] | None = None, grid: Any = None,
                dps: int = 20) -> Callable[[np.ndarray], np.ndarray]:
    """The CDF of a one-dimensional symbolic density, by mpmath quadrature.

    The density (normalised or not; it is normalised numerically) is integrated with
    ``mpmath.quad`` over the tails and between consecutive points of ``grid``; between
    grid points the CDF is a cubic Hermite interpolant whose slopes are the exact density
    values, an :math:`O(h^4)` error far below any KS resolution.

    Parameters
    ----------
    density : sympy.Expr or StationaryDensity
    variable : sympy.Symbol, optional
        The variable (taken from a StationaryDensity or the only free symbol).
    params : mapping, optional
        Values of the density's other free symbols.
    grid : array-like of float, optional
        Points where the CDF is computed by quadrature (default: 201 points on [-10, 10]).

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> F = density_cdf(sp.exp(-x**2 / 2), x)
    >>> [round(float(v), 6) for v in F([0.0, 1.0])]
    [0.5, 0.841345]
    """
    import mpmath

    from symsde.kernels import numeric_values
    from symsde.stationary import StationaryDensity

    if isinstance(density, StationaryDensity):
        if density.sde.dim != 1:
            raise InputError("the KS test needs a one-dimensional density")
        variable = density.state[0]
        expr = density.unnormalized
    else:
        expr = sp.sympify(density)
    if variable is None:
        syms = sorted(expr.free_symbols, key=lambda s: s.name)
        if len(syms) != 1:
            raise InputError("give the density's variable (it has several free symbols)")
        variable = syms[0]
    values = numeric_values(params, expr.free_symbols - {variable}, what="the density")
    expr = expr.subs(values) if values else expr
    g = np.unique(np.asarray(grid if grid is not None else np.linspace(-10, 10, 201),
                             dtype=float))
    if g.size < 2 or not np.all(np.isfinite(g)):
        raise InputError("the CDF grid needs at least two finite points")
    f_mp = sp.lambdify(variable, expr, modules="mpmath")
    f_np = sp.lambdify(variable, expr, modules="numpy")
    with mpmath.workdps(dps):
        pieces = [mpmath.quad(f_mp, [-mpmath.inf, g[0]])]
        pieces += [mpmath.quad(f_mp, [a, b]) for a, b in itertools.pairwise(g)]
        pieces.append(mpmath.quad(f_mp, [g[-1], mpmath.inf]))
        total = mpmath.fsum(pieces)
        if not (mpmath.isfinite(total) and total > 0):
            raise InputError(f"the density integrates to {total}; it must be normalisable")
        cum = [mpmath.fsum(pieces[: i + 1]) / total for i in range(len(g))]
    F = np.array([float(c) for c in cum])
    with np.errstate(all="ignore"):
        dens = np.broadcast_to(np.asarray(f_np(g), dtype=float), g.shape) / float(total)
    tail_left, tail_right = float(pieces[0] / total), float(pieces[-1] / total)

    def cdf(x: Any) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        out = np.empty_like(x)
        inside = (x >= g[0]) & (x <= g[-1])
        xi = x[inside]
        k = np.clip(np.searchsorted(g, xi, side="right") - 1, 0, g.size - 2)
        h = g[k + 1] - g[k]
        s = (xi - g[k]) / h
        h00, h10 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s
        h01, h11 = -2 * s**3 + 3 * s**2, s**3 - s**2
        out[inside] = h00 * F[k] + h10 * h * dens[k] + h01 * F[k + 1] + h11 * h * dens[k + 1]
        outside = ~inside
        if np.any(outside):
            xo = x[outside]
            with mpmath.workdps(dps):
                out[outside] = [
                    float(mpmath.quad(f_mp, [-mpmath.inf, v]) / total) if v < g[0]
                    else 1.0 - float(mpmath.quad(f_mp, [v, mpmath.inf]) / total)
                    for v in xo]
        return np.clip(out, 0.0, 1.0)

    cdf.tails = (tail_left, tail_right)  # type: ignore[attr-defined]
    return cdf


def ks_test(samples: Any, density: Any, variable: sp.Symbol | None = None, *,
            params: Mapping[Any, Any] | None = None, p_value: float = KS_P_VALUE,
            label: str = "ks") -> StatTestResult:
    """Kolmogorov-Smirnov test of 1-d samples against a symbolic density.

    The CDF is computed by mpmath quadrature (:func:`density_cdf`) on a grid of sample
    quantiles and a uniform grid over the sample range. Reject when the asymptotic
    p-value (Stephens' correction) is below ``p_value``: that is the false-alarm
    probability.

    Examples
    --------
    >>> import numpy as np, sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> s = np.random.default_rng(5).standard_normal(4000)
    >>> ks_test(s, sp.exp(-x**2 / 2), x).verdict, ks_test(s, sp.exp(-x**2), x).verdict
    (True, False)
    """
    x = _samples(samples)
    if x.shape[1] != 1:
        raise InputError("the KS test takes one-dimensional samples; test each marginal")
    xs = np.sort(x[:, 0])
    n = xs.size
    lo, hi = xs[0], xs[-1]
    span = hi - lo if hi > lo else 1.0
    grid = np.concatenate([np.quantile(xs, np.linspace(0, 1, 161)),
                           np.linspace(lo - 0.01 * span, hi + 0.01 * span, 81)])
    F = density_cdf(density, variable, params=params, grid=grid)
    cdf = F(xs)
    i = np.arange(1, n + 1)
    D = float(max(np.max(i / n - cdf), np.max(cdf - (i - 1) / n)))
    p = kolmogorov_sf(_stephens(n) * D)
    crit = ks_critical_value(n, p_value)
    ok = p >= p_value
    text = (f"{label}: KS distance {_fmt(D)} over {n} samples, p = {p:.3g} "
            f"({'>=' if ok else '<'} {p_value:g}; critical distance {_fmt(crit)}): "
            f"{'consistent' if ok else 'REJECTED'}")
    return StatTestResult("ks", D, crit, bool(ok), text, p_value,
                        {"p_value": p, "n": n, "p_threshold": p_value})


# -- samples against a stationary law ---------------------------------------------------------
def stationary_test(samples: Any, stationary: Any, *, sigmas: float = SIGMAS,
                    p_value: float = KS_P_VALUE) -> StatTestResult:
    """Test samples (e.g. a simulation's final states) against a stationary density.

    One-dimensional states: the KS test of :func:`ks_test` against the density itself
    (false alarm ``p_value``). Several dimensions: the law must be Gaussian
    (:meth:`~symsde.stationary.StationaryDensity.gaussian_law`), and the mean and the
    covariance tests run together (false alarm at most the sum of theirs, Bonferroni);
    any other law is an input error. ``details["tests"]`` holds the parts in the
    several-dimensional case.

    Examples
    --------
    >>> import numpy as np, sympy as sp
    >>> from symsde import SDE, stationary_density
    >>> x, y = sp.symbols("x y", real=True)
    >>> st = stationary_density(SDE([x, y], [-x, -y], [[1, 0], [0, 1]]))
    >>> z = np.random.default_rng(2).standard_normal((4000, 2))
    >>> stationary_test(z * np.sqrt(0.5), st).verdict, stationary_test(z, st).verdict
    (True, False)
    """
    if not is_stationary_density(stationary):
        raise InputError(f"stationary must be the result of symsde.stationary_density, got "
                         f"{_describe(stationary)} ({type(stationary).__name__})")
    x = _samples(samples)
    if stationary.sde.dim == 1:
        return ks_test(x[:, 0], stationary, p_value=p_value)
    law = stationary.gaussian_law()
    if law is None:
        raise InputError(
            "the comparison with a stationary law handles one-dimensional states and Gaussian "
            f"laws; this {stationary.sde.dim}-dimensional law is not Gaussian (method "
            f"{stationary.method})")
    tests = moment_tests(x, mean=law[0], cov=law[1], sigmas=sigmas)
    verdict = all(t.verdict for t in tests)
    return StatTestResult("gaussian-moments", max(t.statistic for t in tests),
                        tests[0].threshold, verdict, "; ".join(t.text for t in tests),
                        sum(t.false_alarm or 0.0 for t in tests),
                        {"tests": [t.to_dict() for t in tests]})


# -- convergence rates -----------------------------------------------------------------------------
def slope_test(h: Any, errors: Any, expected: float, *, tol: float = 0.2,
               errors_se: Any = None, sigmas: float = SIGMAS,
               label: str = "convergence order") -> StatTestResult:
    """Fit the log-log slope of errors against step sizes and compare with an order.

    The verdict is :math:`|\\hat b - b| \\le \\text{tol}` (deterministic tolerance for the
    pre-asymptotic deviation), widened by ``sigmas`` standard errors of the slope when
    ``errors_se`` (Monte Carlo standard errors of the errors) are given; the slope's
    standard error then comes from the weighted fit and the false-alarm probability from
    noise is at most :math:`5.7\\times10^{-7}`.

    Examples
    --------
    >>> import numpy as np
    >>> h = np.array([0.1, 0.05, 0.025, 0.0125])
    >>> slope_test(h, 3 * h, expected=1.0).verdict, slope_test(h, 3 * h, 0.5).verdict
    (True, False)
    """
    hv = np.asarray(h, dtype=float).ravel()
    ev = np.asarray(errors, dtype=float).ravel()
    if hv.shape != ev.shape or hv.size < 3:
        raise InputError("give at least 3 step sizes and as many errors")
    if np.any(hv <= 0) or np.any(ev <= 0) or not np.all(np.isfinite(ev)):
        raise InputError("step sizes and errors must be positive and finite for a log-log fit")
    lx, ly = np.log(hv), np.log(ev)
    if errors_se is not None:
        se = np.asarray(errors_se, dtype=float).ravel()
        if se.shape != ev.shape or np.any(se <= 0):
            raise InputError("errors_se must be positive, one per error")
        w = (ev / se) ** 2  # 1 / var(log e) to first order
    else:
        w = np.ones_like(lx)
    W = w.sum()
    mx, my = (w * lx).sum() / W, (w * ly).sum() / W
    sxx = (w * (lx - mx) ** 2).sum()
    slope = float((w * (lx - mx) * (ly - my)).sum() / sxx)
    if errors_se is not None:
        slope_se = float(math.sqrt(1.0 / sxx))
        allowed = tol + sigmas * slope_se
        fa: float | None = math.erfc(sigmas / math.sqrt(2.0))
    else:
        resid = ly - (my + slope * (lx - mx))
        slope_se = float(math.sqrt((resid**2).sum() / max(hv.size - 2, 1) / sxx))
        allowed = tol
        fa = None
    dev = abs(slope - float(expected))
    ok = dev <= allowed
    text = (f"{label}: log-log slope {slope:.3f} (s.e. {slope_se:.2g}) vs expected "
            f"{float(expected):g}, |difference| {dev:.3f} {'<=' if ok else '>'} {allowed:.3g}: "
            f"{'consistent' if ok else 'REJECTED'}")
    return StatTestResult("slope", dev, float(allowed), bool(ok), text, fa,
                        {"slope": slope, "slope_se": slope_se, "expected": float(expected),
                         "tolerance": tol})
