"""First-passage times against the inverse-Gaussian (Wald) law of Brownian motion with
drift, by a Kolmogorov-Smirnov test.

For :math:`X = \\nu t + \\sigma W` from 0 and a level :math:`a > 0`, the passage time has
:math:`F(t) = \\Phi((\\nu t - a)/(\\sigma\\sqrt t)) + e^{2\\nu a/\\sigma^2}
\\Phi((-\\nu t - a)/(\\sigma\\sqrt t))`. Times beyond ``t_max`` are ``inf``; the KS distance
is taken over :math:`t \\le t_{max}` only, whose null law is stochastically smaller than
Kolmogorov's, so rejecting at the Kolmogorov p-value 1e-6 has a false-alarm probability
of at most 1e-6. Power: the same samples reject a 10% different drift, and the uncorrected
times (no Brownian bridge) are rejected at the same step.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

import symsde
from symsde import SDE, first_passage_time
from symsde.simulation import InvalidSimulationError
from symsde.stattests import KS_P_VALUE, _stephens, kolmogorov_sf

x, y = sp.symbols("x y", real=True)
nu, s = sp.symbols("nu s", positive=True)
BMD = SDE([x], [nu], s)


def _Phi(z: np.ndarray) -> np.ndarray:
    return 0.5 * np.vectorize(math.erfc)(-z / math.sqrt(2))


def wald_cdf(t: np.ndarray, a: float, v: float, sig: float) -> np.ndarray:
    rt = sig * np.sqrt(t)
    return _Phi((v * t - a) / rt) + math.exp(2 * v * a / sig**2) * _Phi((-v * t - a) / rt)


def ks_p(times: np.ndarray, cdf: callable, t_max: float) -> float:
    """Kolmogorov p-value (Stephens) of the distance over [0, t_max]."""
    n = times.size
    ts = np.sort(times[np.isfinite(times)])
    i = np.arange(1, ts.size + 1)
    F = cdf(ts)
    D = max(float(np.max(i / n - F)), float(np.max(F - (i - 1) / n)),
            float(abs(cdf(np.array([t_max]))[0] - ts.size / n)))
    return kolmogorov_sf(_stephens(n) * D)


def test_wald_law_with_bridge_correction() -> None:
    v, sig, a, t_max = 1.0, 0.8, 1.0, 6.0
    fpt = first_passage_time(BMD, 0.0, a, dt=0.01, n_paths=20_000, seed=3, t_max=t_max,
                             params={"nu": v, "s": sig})
    assert fpt.times.shape == (20_000,) and fpt.reached > 19_000
    assert np.all(np.isinf(fpt.times[fpt.times > t_max]))
    assert ks_p(fpt.times, lambda t: wald_cdf(t, a, v, sig), t_max) >= KS_P_VALUE
    # power 1: a drift 10% off is rejected by the same samples
    assert ks_p(fpt.times, lambda t: wald_cdf(t, a, 1.1 * v, sig), t_max) < KS_P_VALUE
    # power 2: without the correction the times are late by order sqrt(dt): rejected
    raw = first_passage_time(BMD, 0.0, a, dt=0.01, n_paths=20_000, seed=3, t_max=t_max,
                             params={"nu": v, "s": sig}, bridge=False)
    assert ks_p(raw.times, lambda t: wald_cdf(t, a, v, sig), t_max) < KS_P_VALUE
    assert np.median(raw.times) > np.median(fpt.times)


def test_level_below_and_never_reached() -> None:
    """A level below x0 with negative drift is the mirror image; with positive drift most
    paths never get there (P(reach) = exp(-2 nu a / s^2))."""
    v, sig, a = 1.0, 1.0, 0.5
    fpt = first_passage_time(BMD, 2.0, 2.0 - a, dt=0.01, n_paths=8000, seed=4, t_max=4.0,
                             params={"nu": -v, "s": sig})
    assert ks_p(fpt.times, lambda t: wald_cdf(t, a, v, sig), 4.0) >= KS_P_VALUE
    away = first_passage_time(BMD, 0.0, -a, dt=0.01, n_paths=8000, seed=5, t_max=4.0,
                              params={"nu": v, "s": sig})
    p_reach = wald_cdf(np.array([4.0]), a, -v, sig)[0]  # Wald with the drift pointing away
    frac = away.reached / 8000
    assert abs(frac - p_reach) < 5 * math.sqrt(p_reach * (1 - p_reach) / 8000)
    assert math.isclose(wald_cdf(np.array([1e4]), a, -v, sig)[0], math.exp(-2 * v * a),
                        rel_tol=1e-9)


def test_bit_identical_across_workers_and_exported() -> None:
    sde = SDE([x], [x - x**3], 0.7)
    kw = dict(dt=0.02, n_paths=3000, seed=9, t_max=3.0, block_size=500)
    ref = first_passage_time(sde, 0.0, (-0.8, 0.9), workers=1, **kw)
    for w in (2, None):
        np.testing.assert_array_equal(first_passage_time(sde, 0.0, (-0.8, 0.9), workers=w,
                                                         **kw).times, ref.times)
    assert symsde.first_passage_time is first_passage_time
    assert 0 < ref.reached <= 3000


@pytest.mark.parametrize(("kw", "needle"), [
    (dict(sde=SDE([x, y], [0, 0], 1), boundary=1.0), "one-dimensional"),
    (dict(boundary=0.0), "equals x0"),
    (dict(boundary=(0.5, -1.0)), "lower < x0"),
    (dict(boundary="up"), "boundary must be"),
    (dict(boundary=1.0, t_max=0.001), "shorter than one step"),
    (dict(boundary=1.0, dt=-1.0), "dt"),
])
def test_bad_requests(kw: dict, needle: str) -> None:
    args = {"sde": SDE([x], [1], 1), "x0": 0.0, "dt": 0.01, "n_paths": 10, **kw}
    with pytest.raises(InvalidSimulationError, match=needle):
        first_passage_time(**args)
