"""Schemes derived from the generator: the rules against Kloeden-Platen's formulas, the
noise laws, and measured convergence orders.

Orders are fitted slopes of log error against log step (ordinary least squares; the
standard error of the slope from the residuals). Errors are measured without a
statistical reference where possible:

- strong errors on the *same Brownian path* as an exact solution (geometric Brownian
  motion; Ornstein-Uhlenbeck with the exact joint law of the increment, its time integral
  and the exact solution's stochastic integral), coarse increments summed from fine ones;
- weak errors of Euler by pairing each Euler path with the exact solution
  :math:`X_T = \\sinh(c + W_T)` of :math:`dX = \\tfrac12 X dt + \\sqrt{1+X^2}\\,dW` on the
  same path, so that the Monte-Carlo error is of the size of the strong error;
- weak errors of ``weak2`` exactly: its noise is three-point, so the expectation after
  ``n`` steps is a weighted sum over all :math:`3^n` noise sequences (no sampling).

Tolerances: the fitted slope must be within 0.15 of the order (0.2 for strong 1.5 on
the light grid), with a standard error below 0.06; each power check shows that a
neighbouring order (or a broken increment) falls outside that band.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
import sympy as sp

from symsde import SDE, simulate
from symsde.errors import InputError
from symsde.schemes import derive_scheme, generator_operators
from symsde.simulation import InvalidSimulationError, _draw_noise, plan_simulation
from symsde.stattests import mean_test

x = sp.Symbol("x", real=True)
y = sp.Symbol("y", real=True)
t = sp.Symbol("t", real=True)


def _slope(hs: list[float], errs: list[float]) -> tuple[float, float]:
    """OLS slope of log(err) on log(h) and its standard error."""
    X, Y = np.log(hs), np.log(errs)
    A = np.vstack([X, np.ones_like(X)]).T
    coef, _res, *_ = np.linalg.lstsq(A, Y, rcond=None)
    n = len(X)
    resid = Y - A @ coef
    s2 = float(resid @ resid) / (n - 2)
    se = math.sqrt(s2 / float(((X - X.mean()) ** 2).sum()))
    return float(coef[0]), se


# -- the derived rules are Kloeden-Platen's -----------------------------------------------------
a, b = sp.Function("a")(x), sp.Function("b")(x)
h = sp.Symbol("h", positive=True)


def _d(f: sp.Expr, n: int = 1) -> sp.Expr:
    return sp.diff(f, x, n)


def _rule(method: str, sde: SDE) -> tuple[sp.Expr, dict[str, sp.Symbol]]:
    sch = derive_scheme(sde, method)
    names = {str(s): s for s in sch.increments}
    return sch.update[0], names


def test_milstein_rule_is_kp_10_3_1() -> None:
    up, n = _rule("milstein", SDE([x], [a], b))
    dW = n["dW1"]
    kp = x + a * h + b * dW + b * _d(b) * (dW**2 - h) / 2
    assert sp.expand(up - kp) == 0
    assert sp.expand(up - (kp + b * _d(b) * h)) != 0  # power: a wrong rule differs


def test_strong15_rule_is_kp_10_4_1() -> None:
    up, n = _rule("strong1.5", SDE([x], [a], b))
    dW, dZ = n["dW1"], n["dZ1"]
    kp = (x + a * h + b * dW + b * _d(b) * (dW**2 - h) / 2 + _d(a) * b * dZ
          + (a * _d(a) + b**2 * _d(a, 2) / 2) * h**2 / 2
          + (a * _d(b) + b**2 * _d(b, 2) / 2) * (dW * h - dZ)
          + b * (b * _d(b, 2) + _d(b) ** 2) * (dW**2 / 3 - h) * dW / 2)
    assert sp.expand(up - kp) == 0
    assert sp.expand(up - kp.subs(dZ, dW * h / 2)) != 0


def test_weak2_rule_is_kp_14_2_7() -> None:
    up, n = _rule("weak2", SDE([x], [a], b))
    dW = n["dWhat1"]
    kp = (x + a * h + b * dW + b * _d(b) * (dW**2 - h) / 2
          + (_d(a) * b + a * _d(b) + _d(b, 2) * b**2 / 2) * dW * h / 2
          + (a * _d(a) + _d(a, 2) * b**2 / 2) * h**2 / 2)
    assert sp.expand(up - kp) == 0


def test_time_enters_through_L0() -> None:
    """For a(t) x the time derivative appears in L^0 a, as in KP's non-autonomous form."""
    sde = SDE([x], [sp.cos(t) * x], sp.Rational(1, 2), time=t)
    L0, (_L1,) = generator_operators(sde)
    assert sp.simplify(L0(sp.cos(t) * x) - (-sp.sin(t) * x + sp.cos(t) ** 2 * x)) == 0
    up, _n = _rule("weak2", sde)
    assert up.has(sp.sin(t))


def test_refusals() -> None:
    noncomm = SDE([x, y], [0, 0], [[1, x], [0, 0]])
    with pytest.raises(InputError, match="commutative"):
        derive_scheme(noncomm, "milstein")
    with pytest.raises(InputError, match="scalar or diagonal"):
        derive_scheme(SDE([x, y], [0, 0], [[y, 1], [1, x]]), "strong1.5")
    with pytest.raises(InvalidSimulationError, match="scalar or diagonal"):
        simulate(SDE([x, y], [0, 0], [[y, 1], [1, x]]), 0.0, n_steps=1, n_paths=10,
                 method="strong1.5")
    with pytest.raises(InputError, match="method must be one of"):
        derive_scheme(SDE([x], [x], 1), "rk4")
    # weak2 is fine without commutativity: the two-point V carries the Levy area's law
    sch = derive_scheme(noncomm, "weak2")
    assert [nv.law for nv in sch.noises] == ["three-point", "three-point", "two-point"]


# -- the noise laws -------------------------------------------------------------------------
def test_discrete_noise_laws() -> None:
    """Counts of each value against their binomial laws at 5 standard deviations (false
    alarm about 6e-7 per count); power: a wrong probability is rejected."""
    from symsde.simulation import block_generator

    n = 300_000
    N = np.empty((2, n))
    _draw_noise(N, [(block_generator(1, 0), 0, n)], ["three-point", "two-point"])
    assert set(np.unique(N[0])) == {-1.0, 0.0, 1.0} and set(np.unique(N[1])) == {-1.0, 1.0}

    def ok(count: int, p: float) -> bool:
        return abs(count - n * p) <= 5 * math.sqrt(n * p * (1 - p))

    assert ok(int((N[0] == -1).sum()), 1 / 6) and ok(int((N[0] == 1).sum()), 1 / 6)
    assert ok(int((N[0] == 0).sum()), 2 / 3) and ok(int((N[1] == 1).sum()), 1 / 2)
    assert not ok(int((N[0] == 1).sum()), 1 / 6 + 0.005)


# -- running a scheme on given increments ----------------------------------------------------
def _stepper(sde: SDE, method: str, dt: float, params: dict | None = None) -> Any:
    plan = plan_simulation(sde, 0.0, dt=dt, n_steps=1, n_paths=2, method=method,
                           params=params)
    return plan.stepper


def _run(st: Any, x0: np.ndarray, dWs: np.ndarray, dZs: np.ndarray | None,
         dt: float) -> np.ndarray:
    """Run the simulator's own fused kernel with the increments given (one row a step)."""
    X = x0.copy()
    n = X.shape[0]
    out, bufs = [np.empty(n)], st.kernel.buffers(n)
    for k in range(dWs.shape[0]):
        xi = dWs[k] / math.sqrt(dt)
        noise = {"normal": [xi]}
        if dZs is not None and len(st.laws) > 1:
            noise["normal"].append(math.sqrt(3) * (2 * dZs[k] / dt**1.5 - xi))
        st.kernel([X, *noise["normal"]][: 1 + len(st.laws)], (k * dt,), out, bufs)
        X = out[0].copy()
    return X


def _coarse(fine: np.ndarray, r: int) -> np.ndarray:
    return fine.reshape(fine.shape[0] // r, r, -1).sum(axis=1)


GBM_MU, GBM_SIG = 0.5, 0.8


def _gbm_strong(method: str, levels: list[int], n_paths: int, seed: int) -> tuple:
    T, kmax = 1.0, max(levels)
    rng = np.random.default_rng(seed)
    nf = 2**kmax
    dWf = rng.standard_normal((nf, n_paths)) * math.sqrt(T / nf)
    exact = np.exp((GBM_MU - GBM_SIG**2 / 2) * T + GBM_SIG * dWf.sum(axis=0))
    mu, s = sp.symbols("mu sigma", positive=True)
    sde = SDE([x], [mu * x], s * x)
    hs, errs, ses = [], [], []
    for k in levels:
        dt = T / 2**k
        st = _stepper(sde, method, dt, {"mu": GBM_MU, "sigma": GBM_SIG})
        dW = _coarse(dWf, 2 ** (kmax - k))
        e = np.abs(_run(st, np.ones(n_paths), dW, None, dt) - exact)
        hs.append(dt)
        errs.append(float(e.mean()))
        ses.append(float(e.std() / math.sqrt(n_paths)))
    return hs, errs, ses


@pytest.mark.parametrize(("method", "order"), [("euler", 0.5), ("milstein", 1.0),
                                               ("strong1.5", 1.5)])
def test_strong_order_gbm_light(method: str, order: float) -> None:
    hs, errs, _ses = _gbm_strong(method, [3, 4, 5, 6, 7], 4000, seed=1)
    slope, se = _slope(hs, errs)
    assert se < 0.06, (slope, se)
    assert abs(slope - order) < 0.2, (slope, se, errs)
    for other in {0.5, 1.0, 1.5, 2.0} - {order}:  # power: the neighbouring orders fail
        assert abs(slope - other) >= 0.2


@pytest.mark.slow
@pytest.mark.parametrize(("method", "order"), [("euler", 0.5), ("milstein", 1.0),
                                               ("strong1.5", 1.5)])
def test_strong_order_gbm_heavy(method: str, order: float) -> None:
    hs, errs, _ses = _gbm_strong(method, [4, 5, 6, 7, 8, 9], 40_000, seed=2)
    slope, se = _slope(hs, errs)
    print(f"GBM {method}: slope {slope:.3f} +- {se:.3f}")
    assert se < 0.04 and abs(slope - order) < 0.15, (slope, se)


# -- strong 1.5 uses the right dZ: OU with the exact joint law -------------------------------
def _ou_joint(delta: float, lam: float) -> np.ndarray:
    """Covariance of (dW, dZ = int (delta-s) dW, J = int e^{-lam(delta-s)} dW) on a step."""
    e1, e2 = math.exp(-lam * delta), math.exp(-2 * lam * delta)
    return np.array([
        [delta, delta**2 / 2, (1 - e1) / lam],
        [delta**2 / 2, delta**3 / 3, (1 - e1 * (1 + lam * delta)) / lam**2],
        [(1 - e1) / lam, (1 - e1 * (1 + lam * delta)) / lam**2, (1 - e2) / (2 * lam)],
    ])


def _ou_strong(broken: bool, levels: list[int], n_paths: int, seed: int) -> tuple:
    lam, sig, T, kmax = 2.0, 1.0, 1.0, max(levels)
    nf = 2**kmax
    delta = T / nf
    L = np.linalg.cholesky(_ou_joint(delta, lam))
    rng = np.random.default_rng(seed)
    inc = np.einsum("ij,kjn->kin", L, rng.standard_normal((nf, 3, n_paths)))
    dWf, dZf, Jf = inc[:, 0], inc[:, 1], inc[:, 2]
    X = np.ones(n_paths)
    for k in range(nf):
        X = math.exp(-lam * delta) * X + sig * Jf[k]
    exact = X
    W = np.vstack([np.zeros(n_paths), np.cumsum(dWf, axis=0)])  # W at the fine times
    sde = SDE([x], [-lam * x], sig)
    hs, errs = [], []
    for k in levels:
        r, dt = 2 ** (kmax - k), T / 2**k
        dW = _coarse(dWf, r)
        # int over a coarse step of (W_s - W_start) ds, from the fine pieces
        Wrel = W[:-1] - np.repeat(W[:-1:r], r, axis=0)
        dZ = _coarse(Wrel * delta + dZf, r)
        if broken:  # its conditional mean given dW: loses the correlated part
            dZ = dW * dt / 2
        st = _stepper(sde, "strong1.5", dt)
        e = np.abs(_run(st, np.ones(n_paths), dW, dZ, dt) - exact)
        hs.append(dt)
        errs.append(float(e.mean()))
    return hs, errs


def test_strong15_ou_needs_the_correlated_dZ() -> None:
    """With the correlated dZ the slope is at least 1.5 (measured 2.09 +- 0.02: for
    additive noise and linear drift the first omitted terms have mean zero, so the scheme
    does better than its order); with dZ replaced by its conditional mean h dW / 2 the
    slope drops to 1 (measured 1.01 +- 0.01)."""
    hs, errs = _ou_strong(False, [2, 3, 4, 5, 6], 4000, seed=3)
    slope, se = _slope(hs, errs)
    assert se < 0.06 and slope > 1.35, (slope, se, errs)
    hs, errs = _ou_strong(True, [2, 3, 4, 5, 6], 4000, seed=3)
    slope_b, se_b = _slope(hs, errs)
    assert abs(slope_b - 1.0) < 0.15, (slope_b, se_b)  # power: a wrong dZ gives order 1


# -- weak orders on dX = X/2 dt + sqrt(1+X^2) dW, X_T = sinh(c + W_T) ------------------------
C0, TW = 0.3, 1.0
SINH = SDE([x], [x / 2], sp.sqrt(1 + x**2))
#: E[X_T] = sinh(c) E[cosh W_T] = sinh(c) e^{T/2} (cosh(c) E[sinh W_T] = 0)
EXACT_MEAN = math.sinh(C0) * math.exp(TW / 2)


def test_sinh_solves_the_sde() -> None:
    """Ito's formula for sinh(c + W) gives back the drift and the diffusion."""
    w = sp.Symbol("w", real=True)
    X = sp.sinh(C0 + w)
    assert sp.simplify(sp.diff(X, w, 2) / 2 - X / 2) == 0
    assert sp.simplify(sp.diff(X, w) ** 2 - (1 + X**2)) == 0


def _weak2_tree(n: int, law: dict[float, float] | None = None) -> float:
    """E[X_T] for weak2 with n steps: all 3^n noise sequences with their probabilities
    (``law``: another law of the noise, for power checks)."""
    law = law or {-1.0: 1 / 6, 0.0: 2 / 3, 1.0: 1 / 6}
    dt = TW / n
    st = _stepper(SINH, "weak2", dt)
    seqs = np.array(list(itertools.product(list(law), repeat=n))).T  # (n, 3^n)
    w = np.prod(np.vectorize(law.get)(seqs), axis=0)
    X = np.full(seqs.shape[1], math.sinh(C0))
    out, bufs = [np.empty_like(X)], st.kernel.buffers(X.shape[0])
    for k in range(n):
        st.kernel([X, seqs[k]], (), out, bufs)
        X = out[0].copy()
    return math.fsum(w * X)


def test_weak_order_2_exact_expectations() -> None:
    ns = [3, 4, 5, 6, 8, 10, 12]
    hs = [TW / n for n in ns]
    errs = [abs(_weak2_tree(n) - EXACT_MEAN) for n in ns]
    slope, se = _slope(hs, errs)
    assert se < 0.06 and abs(slope - 2.0) < 0.15, (slope, se, errs)
    assert abs(slope - 1.0) >= 0.15 and abs(slope - 3.0) >= 0.15  # power


def _euler_weak(ns: list[int], n_paths: int, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    nf = math.lcm(*ns)
    hs, errs, ses = [], [], []
    dWf = rng.standard_normal((nf, n_paths)) * math.sqrt(TW / nf)
    exact = np.sinh(C0 + dWf.sum(axis=0))
    for n in ns:
        dt = TW / n
        st = _stepper(SINH, "euler", dt)
        X = _run(st, np.full(n_paths, math.sinh(C0)), _coarse(dWf, nf // n), None, dt)
        diff = X - exact  # paired: E[diff] is the weak error, its spread the strong error
        hs.append(dt)
        errs.append(abs(float(diff.mean())))
        ses.append(float(diff.std() / math.sqrt(n_paths)))
    return hs, errs, ses


def test_weak_order_1_euler_paired() -> None:
    hs, errs, ses = _euler_weak([2, 3, 4, 6, 8, 12], 200_000, seed=5)
    assert all(s < e / 5 for s, e in zip(ses, errs, strict=True)), (errs, ses)
    slope, se = _slope(hs, errs)
    assert se < 0.06 and abs(slope - 1.0) < 0.15, (slope, se, errs)
    assert abs(slope - 2.0) >= 0.15  # power


def test_simulate_weak2_end_to_end() -> None:
    """simulate(method='weak2') draws the three-point noise right: its sample mean agrees
    with the exact expectation of the scheme (the tree) at 5 standard errors, and not with
    that of the same rule driven by two-point noise (power)."""
    res = simulate(SINH, math.sinh(C0), dt=TW / 4, n_steps=4, n_paths=400_000, seed=8,
                   method="weak2")
    assert mean_test(res.final, _weak2_tree(4)).verdict
    assert not mean_test(res.final, _weak2_tree(4, {-1.0: 0.5, 1.0: 0.5})).verdict


def test_weak2_levy_area_substitute_end_to_end() -> None:
    """Non-commutative noise: weak2 draws the two-point V. The sample mean of X^2 agrees
    with the scheme's exact E[X^2] (all 18^3 noise outcomes of 3 steps) at 5 standard
    errors, and not with the same rule with V left out (power)."""
    sde = SDE([x, y], [-x, -y], [[1, x], [0, 1]])
    dt, n = 0.25, 3
    st = _stepper(sde, "weak2", dt)
    assert st.laws == ["three-point", "three-point", "two-point"]

    def tree(with_v: bool) -> float:
        tp = {-1.0: 1 / 6, 0.0: 2 / 3, 1.0: 1 / 6}
        outcomes = [(a, b, c, tp[a] * tp[b] * 0.5) for a in tp for b in tp
                    for c in (-1.0, 1.0)]
        seq = list(itertools.product(outcomes, repeat=n))
        X, Y = np.full(len(seq), 0.5), np.full(len(seq), -0.5)
        w = np.array([math.prod(o[3] for o in s_) for s_ in seq])
        out, bufs = [np.empty_like(X), np.empty_like(X)], st.kernel.buffers(X.shape[0])
        for k in range(n):
            xi1, xi2, zeta = (np.array([s_[k][i] for s_ in seq]) for i in range(3))
            st.kernel([X, Y, xi1, xi2, zeta if with_v else 0 * zeta], (), out, bufs)
            X, Y = out[0].copy(), out[1].copy()
        return math.fsum(w * X**2)

    res = simulate(sde, [0.5, -0.5], dt=dt, n_steps=n, n_paths=400_000, seed=2,
                   method="weak2")
    sq = res.final[:, :1] ** 2
    assert mean_test(sq, tree(True)).verdict
    assert not mean_test(sq, tree(False)).verdict
