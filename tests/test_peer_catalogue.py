"""A peer catalogue: textbook and peer-system cases, each with an independent expected value.

Sources (cited per case):

- [MMA-OU], [MMA-GBM], [MMA-CIR]: Wolfram Language documentation of
  ``OrnsteinUhlenbeckProcess``, ``GeometricBrownianMotionProcess``,
  ``CoxIngersollRossProcess`` (sections "Properties & Relations": Mean, Variance, PDF,
  StationaryDistribution) and of ``ItoProcess`` (Ito/Stratonovich conversion);
- [SDP]: R package Sim.DiffProc (Guidoum and Boukhetala), ``snssde1d``/``fptsde1d``
  vignettes; [RSDE]: R package sde (Iacus, *Simulation and Inference for Stochastic
  Differential Equations*, 2008), ``dcOU``, ``dcCIR``, ``dcBS`` transition densities;
- [G]: Gardiner, *Handbook of Stochastic Methods* (3rd ed.); [R]: Risken, *The
  Fokker-Planck Equation* (2nd ed.); [O]: Oksendal, *Stochastic Differential Equations*
  (6th ed.); [P]: Pavliotis, *Stochastic Processes and Applications* (2014); [KT]: Karlin
  and Taylor, *A Second Course in Stochastic Processes* (1981); [CIR]: Cox, Ingersoll and
  Ross, *Econometrica* 53 (1985); [FS]: Forman and Sorensen, *The Pearson diffusions*,
  Scand. J. Stat. 35 (2008).

Expected values are computed here by hand formulas, SciPy or mpmath, never by symsde.
A wrong answer fails the case; a declined case must raise a clear error (asserted phrase).
"""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy import integrate, linalg, stats

from symsde import SDE, moment_equations, stationary_density, transition_density
from symsde.errors import MathematicalError, NoStationaryDensityError, NotNormalizableError

x, y, x0, y0 = sp.symbols("x y x0 y0", real=True)
xp, x0p = sp.symbols("x x0", positive=True)
t = sp.Symbol("t", positive=True)
mu_r = sp.Symbol("mu", real=True)
th, s, k, mu, om = sp.symbols("theta sigma kappa mu omega", positive=True)


# -- comparison helpers (negative controls at the end) ----------
def close_fn(expr: sp.Expr, ref: Callable[[float], float], var: sp.Symbol,
             points: list[float], subs: dict | None = None, rel: float = 1e-9) -> bool:
    f = sp.lambdify([var], expr.subs(subs or {}), modules="mpmath")
    for p in points:
        a, b = float(sp.re(f(mpmath.mpf(p)))), float(ref(p))
        if not abs(a - b) <= rel * abs(b) + 1e-300:
            return False
    return True


def close(a: sp.Expr, b: float, rel: float = 1e-9) -> bool:
    v = float(sp.N(a, 30))
    return abs(v - b) <= rel * abs(b)


def same(a: sp.Expr, b: sp.Expr) -> bool:
    return sp.simplify(a - b) == 0


HALF = [0.07, 0.4, 1.0, 2.3, 5.0]
UNIT = [0.05, 0.2, 0.5, 0.8, 0.95]
LINE = [-2.2, -0.7, 0.0, 0.6, 1.9]


# ===== stationary laws on the line =====
def case_ou_stationary() -> None:
    # [MMA-OU] StationaryDistribution = NormalDistribution[mu, sigma/Sqrt[2 theta]]; [G] 4.4.4.
    st = stationary_density(SDE([x], [th * (mu - x)], s))
    vals = {th: 1.5, mu: 0.3, s: 0.8}
    ref = stats.norm(0.3, 0.8 / np.sqrt(3.0)).pdf
    assert close_fn(st.density, ref, x, LINE, vals)
    assert [b.kind for b in st.boundaries] == ["natural", "natural"]


def case_double_well_langevin() -> None:
    # [P] sec. 4.5: Langevin dX = -L'(X) dt + sigma dW has p ∝ exp(-2L/sigma^2).
    L = x**4 / 4 - x**2 / 2
    st = stationary_density(SDE.langevin(L, [x], 1))
    Z = integrate.quad(lambda u: np.exp(-2 * (u**4 / 4 - u**2 / 2)), -np.inf, np.inf,
                       epsabs=0, epsrel=1e-13)[0]
    assert close_fn(st.density, lambda u: np.exp(-2 * (u**4 / 4 - u**2 / 2)) / Z, x, LINE)
    assert st.is_gibbs is True and st.temperature == sp.Rational(1, 2)


def case_logistic_log_cosh() -> None:
    # L = 2 log cosh(x/2), sigma = sqrt(2): exp(-L) is the logistic density sech^2(x/2)/4
    # (scipy.stats.logistic); Gibbs with T = sigma^2/2 = 1 ([P] sec. 4.5).
    st = stationary_density(SDE.langevin(2 * sp.log(sp.cosh(x / 2)), [x], sp.sqrt(2)))
    assert close_fn(st.density, stats.logistic.pdf, x, LINE)
    assert st.is_gibbs is True and st.temperature == 1


def case_pearson_student() -> None:
    # [FS] Pearson diffusion dX = -a X dt + sqrt(2a(1 + X^2)/(nu - 1))... here a = 2, b = 1:
    # dX = -2X dt + sqrt(1 + X^2) dW, p ∝ (1 + x^2)^(-3): a scaled Student t with nu = 5.
    st = stationary_density(SDE([x], [-2 * x], [[sp.sqrt(1 + x**2)]]))
    ref = stats.t(df=5, scale=1 / np.sqrt(5)).pdf
    assert close_fn(st.density, ref, x, LINE)


def case_ou_2d_rotation() -> None:
    # [G] 4.4.6 multivariate OU: A S + S A^T + D = 0; rotation leaves S = sigma^2/2 I.
    st = stationary_density(SDE([x, y], [-x - om * y, om * x - y], s))
    assert st.method == "gaussian-lyapunov"
    assert st.covariance.applyfunc(sp.simplify) == s**2 / 2 * sp.eye(2)


def case_ou_2d_nonnormal() -> None:
    # [G] 4.4.6 with A non-normal: covariance by scipy.linalg.solve_continuous_lyapunov.
    A = np.array([[-1.0, 3.0], [0.0, -2.0]])
    G = np.array([[1.0, 0.0], [1.0, 1.0]])
    st = stationary_density(SDE([x, y], [-x + 3 * y, -2 * y], sp.Matrix(G.astype(int))))
    S = linalg.solve_continuous_lyapunov(A, -G @ G.T)
    assert np.allclose(np.array(st.covariance, dtype=float), S, rtol=1e-12, atol=0)


def case_gradient_2d_gaussian() -> None:
    # [R] sec. 6.1: potential drift, isotropic noise: covariance (sigma^2/2) hess(L)^-1.
    L = x**2 / 2 + x * y / 2 + y**2
    st = stationary_density(SDE.langevin(L, [x, y], s))
    H = np.array([[1.0, 0.5], [0.5, 2.0]])
    ref = 0.5 * np.linalg.inv(H)
    got = np.array(st.covariance.subs(s, 1), dtype=float)
    assert np.allclose(got, ref, rtol=1e-12, atol=0)


# ===== half-line =====
def case_cir_gamma_symbolic() -> None:
    # [MMA-CIR] StationaryDistribution = GammaDistribution[2 kappa theta/sigma^2,
    # sigma^2/(2 kappa)]; [CIR] eq. (20).
    st = stationary_density(SDE([x], [k * (th - x)], [[s * sp.sqrt(x)]]))
    vals = {k: 1.3, th: 0.9, s: 0.7}
    ref = stats.gamma(a=2 * 1.3 * 0.9 / 0.49, scale=0.49 / (2 * 1.3)).pdf
    assert close_fn(st.density, ref, x, HALF, vals)


def case_cir_feller_violated_regular() -> None:
    # [KT] 15.6 / Feller (1951): 2 kappa theta < sigma^2 makes 0 regular (reflecting).
    st = stationary_density(SDE([x], [sp.Rational(1, 4) - x], [[sp.sqrt(x)]]))
    assert close_fn(st.density, stats.gamma(a=0.5, scale=0.5).pdf, x, HALF)
    assert st.boundaries[0].kind == "regular" and "reflecting" in st.boundaries[0].condition


def case_cir_feller_holds_entrance() -> None:
    # [KT] 15.6, [CIR]: Feller condition 2 kappa theta >= sigma^2; law Gamma(3, 1).
    # Same, 2 kappa theta >= sigma^2: 0 is an entrance boundary, oo natural.
    st = stationary_density(SDE([x], [3 - x], [[sp.sqrt(2 * x)]]))
    assert close_fn(st.density, stats.gamma(a=3, scale=1).pdf, x, HALF)
    assert [b.kind for b in st.boundaries] == ["entrance", "natural"]


def case_reflected_bm_exponential() -> None:
    # Reflected Brownian motion with drift -c on [0, oo): Exponential(2c) ([KT] 15.6 ex.).
    st = stationary_density(SDE([xp], [-sp.Rational(3, 2)], 1))
    assert close_fn(st.density, stats.expon(scale=1 / 3).pdf, xp, HALF)
    assert st.boundaries[0].kind == "regular"


def case_radial_ou_rayleigh() -> None:
    # Radius of a 2-D OU dZ = -Z dt + dW: dR = (1/(2R) - R) dt + dB ([G] 4.4.5), Rayleigh
    # law p = 2 r exp(-r^2); 0 is entrance (a 2-D Bessel process never hits 0).
    st = stationary_density(SDE([xp], [1 / (2 * xp) - xp], 1))
    assert close_fn(st.density, stats.rayleigh(scale=1 / np.sqrt(2)).pdf, xp, HALF)
    assert st.boundaries[0].kind == "entrance"


def case_gbm_declined_positive() -> None:
    # [MMA-GBM]: GeometricBrownianMotionProcess has no StationaryDistribution.
    with pytest.raises(NotNormalizableError, match=r"geometric Brownian motion.*any value"):
        stationary_density(SDE([xp], [mu_r * xp], [[s * xp]]))


def case_gbm_declined_real_line() -> None:
    # [MMA-GBM]: no StationaryDistribution; D = sigma^2 x^2 splits the line at 0.
    with pytest.raises(NotNormalizableError, match="geometric Brownian motion: no stationary"):
        stationary_density(SDE([x], [mu_r * x], [[s * x]]))


def case_cir_whole_line_declined() -> None:
    # [MMA-CIR]: the CIR state space is (0, oo); D = sigma^2 x < 0 on the other half.
    with pytest.raises(NoStationaryDensityError, match=r"negative .* it lives on \(0, oo\)"):
        stationary_density(SDE([x], [k * (th - x)], [[s * sp.sqrt(x)]],
                               sp.Interval(-sp.oo, sp.oo)))


# ===== interval =====
def case_wright_fisher_u_shaped() -> None:
    # Wright's formula ([KT] 15.7, eq. (7.25)): mutation rates 1/8 give Beta(1/4, 1/4).
    r = sp.Rational(1, 8)
    st = stationary_density(SDE([x], [r * (1 - x) - r * x], [[sp.sqrt(x * (1 - x))]]))
    assert close_fn(st.density, stats.beta(0.25, 0.25).pdf, x, UNIT)
    assert [b.kind for b in st.boundaries] == ["regular", "regular"]


def case_wright_fisher_symmetric() -> None:
    # [KT] 15.7 Wright's formula: mutation rates 1 give Beta(2, 2).
    st = stationary_density(SDE([x], [1 - 2 * x], [[sp.sqrt(x * (1 - x))]]))
    assert close_fn(st.density, stats.beta(2, 2).pdf, x, UNIT)
    assert [b.kind for b in st.boundaries] == ["entrance", "entrance"]


def case_wright_fisher_symbolic() -> None:
    # [KT] 15.7 Wright's formula with symbolic rates: Beta(2 g2, 2 g1).
    g1, g2 = sp.symbols("g1 g2", positive=True)
    st = stationary_density(SDE([x], [g2 * (1 - x) - g1 * x], [[sp.sqrt(x * (1 - x))]]))
    assert close_fn(st.density, stats.beta(2 * 0.3, 2 * 1.7).pdf, x, UNIT, {g2: 0.3, g1: 1.7})


def case_jacobi_beta() -> None:
    # Jacobi diffusion dX = kappa(theta - X) dt + sigma sqrt(X(1 - X)) dW: Beta(2 kappa
    # theta/sigma^2, 2 kappa (1 - theta)/sigma^2) ([FS] sec. 2.5).
    st = stationary_density(SDE([x], [2 * (sp.Rational(1, 3) - x)],
                                [[sp.Rational(1, 2) * sp.sqrt(x * (1 - x))]]))
    assert close_fn(st.density, stats.beta(16 / 3, 32 / 3).pdf, x, UNIT)


def case_neutral_wright_fisher_declined() -> None:
    # No mutation: 0 and 1 are exit boundaries (fixation), no stationary density ([KT] 15.7).
    with pytest.raises(NotNormalizableError, match="blows up"):
        stationary_density(SDE([x], [0 * x], [[sp.sqrt(x * (1 - x))]]))


# ===== non-normalisable =====
def case_brownian_motion_declined() -> None:
    # [SDP] BM: no invariant law on the line.
    with pytest.raises(NotNormalizableError, match="does not decay"):
        stationary_density(SDE([x], [0], 1))


def case_unstable_ou_declined() -> None:
    # [G] 4.4.4: the OU process with theta < 0 has no stationary law.
    with pytest.raises(NotNormalizableError):
        stationary_density(SDE([x], [x], 1))


def case_cubic_drift_entrance_at_infinity() -> None:
    # [KT] 15.6: -x^3 "comes down from infinity": both infinite ends are entrance.
    st = stationary_density(SDE([x], [-(x**3)], 1))
    assert [b.kind for b in st.boundaries] == ["entrance", "entrance"]
    Z = integrate.quad(lambda u: np.exp(-(u**4) / 2), -np.inf, np.inf, epsrel=1e-13)[0]
    assert close_fn(st.density, lambda u: np.exp(-(u**4) / 2) / Z, x, LINE)


# ===== Ito and Stratonovich =====
def case_strat_gbm_to_ito() -> None:
    # [O] sec. 6.1 / [MMA] ItoProcess of a Stratonovich SDE: mu X + sigma^2 X / 2.
    sde = SDE.from_stratonovich([xp], [mu * xp], [[s * xp]])
    assert same(sde.drift[0], mu * xp + s**2 * xp / 2)


def case_ito_gbm_to_strat() -> None:
    # [O] sec. 6.1: the Stratonovich drift of Ito GBM is (mu - sigma^2/2) X.
    assert same(SDE([xp], [mu * xp], [[s * xp]]).stratonovich_drift[0],
                mu * xp - s**2 * xp / 2)


def case_strat_sine_noise() -> None:
    # dX = sin X o dW: Ito drift (1/2) sin X cos X (by hand, [G] 4.3.6).
    sde = SDE.from_stratonovich([x], [0], [[sp.sin(x)]])
    assert same(sde.drift[0], sp.sin(x) * sp.cos(x) / 2)


def case_strat_2d_noncommutative() -> None:
    # [G] 4.3.6 multivariate rule by hand: G = [[1, 0], [0, x]] has columns (1, 0), (0, x)
    # with bracket (0, 1): correction (1/2) sum_jk G_jk d_j G_ik = (0, 0) here, and for
    # G = [[y, 0], [0, x]]: (0, 0) too, but G = [[x, y], [0, x]] gives
    # ((x*1 + 0*0 + y*0 + x*1)/2, (0 + x*1... )) computed below term by term.
    G = sp.Matrix([[x, y], [0, x]])
    # i = 0: k=0: G00 d0 G00 + G10 d1 G00 = x*1 + 0 = x; k=1: G01 d0 G01 + G11 d1 G01
    #        = y*0 + x*1 = x  -> x.   i = 1: k=0: G00 d0 G10 + G10 d1 G10 = 0;
    #        k=1: G01 d0 G11 + G11 d1 G11 = y*1 + x*0 = y -> y/2.
    sde = SDE.from_stratonovich([x, y], [0, 0], G)
    assert sde.drift.applyfunc(sp.expand) == sp.Matrix([x, y / 2])


def case_strat_ou_multiplicative() -> None:
    # [G] 4.3.6: dX = -X dt + X o dW is Ito dX = -X/2 dt + X dW (by hand).
    sde = SDE.from_stratonovich([x], [-x], [[x]])
    assert same(sde.drift[0], -x / 2)


# ===== generators and Fokker-Planck =====
def case_generator_ou() -> None:
    # [P] sec. 2.3: L x^2 = 2x theta(mu - x) + sigma^2.
    assert same(SDE([x], [th * (mu - x)], s).generator(x**2),
                2 * x * th * (mu - x) + s**2)


def case_generator_gbm_power() -> None:
    # [O] ex. 7.3: A x^n = (n mu + n(n-1) sigma^2/2) x^n.
    n = 5
    assert same(SDE([xp], [mu * xp], [[s * xp]]).generator(xp**n),
                (n * mu + n * (n - 1) * s**2 / 2) * xp**n)


def case_fokker_planck_heat_kernel() -> None:
    # [G] 3.8.1: the heat kernel solves the FP equation of Brownian motion.
    p = sp.exp(-(x - x0) ** 2 / (2 * t)) / sp.sqrt(2 * sp.pi * t)
    assert same(sp.diff(p, t), SDE([x], [0], 1).fokker_planck(p))


# ===== moments in time =====
def case_moments_ou() -> None:
    # [MMA-OU]: Mean = mu + E^(-theta t)(x0 - mu), Variance = sigma^2 (1 - E^(-2 theta t))
    # /(2 theta).
    me = moment_equations(SDE([x], [th * (mu - x)], s), [x0], t)
    assert same(me.mean[0], mu + sp.exp(-th * t) * (x0 - mu))
    assert same(me.covariance[0, 0], s**2 * (1 - sp.exp(-2 * th * t)) / (2 * th))


def case_moments_gbm() -> None:
    # [MMA-GBM]: Mean = x0 E^(mu t), Variance = x0^2 E^(2 mu t)(E^(sigma^2 t) - 1).
    me = moment_equations(SDE([xp], [mu * xp], [[s * xp]]), [x0p], t)
    assert same(me.mean[0], x0p * sp.exp(mu * t))
    assert same(me.covariance[0, 0], x0p**2 * sp.exp(2 * mu * t) * (sp.exp(s**2 * t) - 1))


def case_moments_cir() -> None:
    # [MMA-CIR]: Mean = theta + (x0 - theta) E^(-kappa t); Variance = x0 sigma^2/kappa
    # (E^(-kappa t) - E^(-2 kappa t)) + theta sigma^2/(2 kappa) (1 - E^(-kappa t))^2.
    me = moment_equations(SDE([xp], [k * (th - xp)], [[s * sp.sqrt(xp)]]), [x0p], t)
    e = sp.exp(-k * t)
    assert same(me.mean[0], th + (x0p - th) * e)
    assert same(me.covariance[0, 0],
                x0p * s**2 / k * (e - e**2) + th * s**2 / (2 * k) * (1 - e) ** 2)


def case_moments_bm_drift() -> None:
    # [SDP] BM with drift: mean x0 + mu t, variance sigma^2 t.
    me = moment_equations(SDE([x], [mu], s), [x0], t)
    assert same(me.mean[0], x0 + mu * t) and same(me.covariance[0, 0], s**2 * t)


def case_moments_2d_ou_scipy() -> None:
    # [G] 4.4.6: mean e^(At) x0, covariance solves P' = AP + PA^T + D; checked at t = 0.7
    # against scipy.linalg.expm and solve_ivp.
    A = np.array([[-1.0, 3.0], [0.0, -2.0]])
    G = np.array([[1.0, 0.0], [1.0, 1.0]])
    me = moment_equations(SDE([x, y], [-x + 3 * y, -2 * y], sp.Matrix([[1, 0], [1, 1]])),
                          [1, 2], t)
    T = 0.7
    m_ref = linalg.expm(A * T) @ np.array([1.0, 2.0])
    Dm = G @ G.T
    sol = integrate.solve_ivp(lambda _, p: (A @ p.reshape(2, 2) + p.reshape(2, 2) @ A.T
                                            + Dm).ravel(), (0, T), np.zeros(4),
                              rtol=1e-12, atol=1e-14)
    P_ref = sol.y[:, -1].reshape(2, 2)
    assert np.allclose(np.array(me.mean.subs(t, T), dtype=float).ravel(), m_ref, rtol=1e-10)
    assert np.allclose(np.array(me.covariance.subs(t, T), dtype=float), P_ref, rtol=1e-9)


def case_moments_jacobi_mean() -> None:
    # Jacobi mean theta + (x0 - theta) e^(-kappa t) ([FS] sec. 2).
    me = moment_equations(SDE([x], [k * (th - x)], [[s * sp.sqrt(x * (1 - x))]]), [x0], t)
    assert same(me.mean[0], th + (x0 - th) * sp.exp(-k * t))


def case_moments_double_well_gaussian_closure() -> None:
    # [SDP] MEM.sde-style moment equations; closure as in [G] 5.x cumulant expansion.
    # dX = (X - X^3) dt + dW: with Gaussian closure E X^3 = 3 m1 m2 - 2 m1^3 and
    # E X^4 = 3 m2^2 - 2 m1^4 (cumulants 3, 4 zero; by hand).
    me = moment_equations(SDE([x], [x - x**3], 1), [x0], t)
    m1, m2 = me.moments[(1,)], me.moments[(2,)]
    assert "Gaussian closure" in me.closure
    rhs = {eq.lhs.args[0]: eq.rhs for eq in me.odes}
    assert same(rhs[m1], m1 - (3 * m1 * m2 - 2 * m1**3))
    assert same(rhs[m2], 2 * m2 - 2 * (3 * m2**2 - 2 * m1**4) + 1)


def case_moments_declined_non_polynomial() -> None:
    # [SDP]: moment equations need polynomial coefficients; a clear refusal.
    with pytest.raises(MathematicalError, match="not a polynomial"):
        moment_equations(SDE([x], [-sp.sin(x)], 1), [x0], t)


# ===== transition densities =====
def case_transition_ou_scipy() -> None:
    # [MMA-OU] PDF / [RSDE] dcOU: Normal(mu + (x0 - mu) e^(-theta t), sigma^2 (1 - e^(-2
    # theta t))/(2 theta)).
    td = transition_density(SDE([x], [th * (mu - x)], s), [x0], t)
    vals = {th: 0.8, mu: -0.4, s: 1.1, x0: 1.3, t: 0.6}
    m = -0.4 + (1.3 + 0.4) * np.exp(-0.8 * 0.6)
    v = 1.21 * (1 - np.exp(-2 * 0.8 * 0.6)) / 1.6
    assert close_fn(td.density, stats.norm(m, np.sqrt(v)).pdf, x, LINE, vals)
    assert td.checks["fokker_planck"].ok


def case_transition_gbm_lognormal_scipy() -> None:
    # [MMA-GBM] PDF / [RSDE] dcBS: log X_t ~ Normal(log x0 + (mu - sigma^2/2) t,
    # sigma^2 t).
    td = transition_density(SDE([xp], [mu * xp], [[s * xp]]), [x0p], t)
    vals = {mu: 0.3, s: 0.5, x0p: 1.7, t: 0.9}
    ref = stats.lognorm(s=0.5 * np.sqrt(0.9), scale=1.7 * np.exp((0.3 - 0.125) * 0.9)).pdf
    assert close_fn(td.density, ref, xp, HALF, vals)


def case_transition_cir_ncx2_scipy() -> None:
    # [CIR] eq. (18), [RSDE] dcCIR: 2 c X_t ~ noncentral chi^2(4 kappa theta/sigma^2,
    # 2 c x0 e^(-kappa t)), c = 2 kappa/(sigma^2 (1 - e^(-kappa t))).
    td = transition_density(SDE([xp], [k * (th - xp)], [[s * sp.sqrt(xp)]]), [x0p], t)
    kv, tv, sv, x0v, T = 1.2, 0.8, 0.6, 0.5, 0.7
    c = 2 * kv / (sv**2 * (1 - np.exp(-kv * T)))
    ref = stats.ncx2(df=4 * kv * tv / sv**2, nc=2 * c * x0v * np.exp(-kv * T))
    assert close_fn(td.density, lambda u: 2 * c * ref.pdf(2 * c * u), xp, HALF,
                    {k: kv, th: tv, s: sv, x0p: x0v, t: T}, rel=1e-8)
    assert td.checks["fokker_planck"].ok


def case_transition_bm_drift() -> None:
    # [SDP] / [G] 3.8: Brownian motion with drift: Normal(x0 + mu t, sigma^2 t).
    td = transition_density(SDE([x], [mu], s), [x0], t)
    vals = {mu: 0.5, s: 2.0, x0: -1.0, t: 1.5}
    assert close_fn(td.density, stats.norm(-1 + 0.75, 2 * np.sqrt(1.5)).pdf, x, LINE, vals)


def case_transition_declined_double_well() -> None:
    # [MMA] ItoProcess gives no closed PDF for a double well either; a clear refusal.
    with pytest.raises(MathematicalError, match="no closed-form transition density"):
        transition_density(SDE([x], [x - x**3], 1), [x0], t)


@pytest.mark.slow
def case_transition_2d_ou_scipy() -> None:
    # [G] 4.4.6: 2-D OU transition law N(e^(At) x0, P(t)) against scipy.
    A = np.array([[-1.0, 3.0], [0.0, -2.0]])
    G = np.array([[1.0, 0.0], [1.0, 1.0]])
    td = transition_density(SDE([x, y], [-x + 3 * y, -2 * y], sp.Matrix([[1, 0], [1, 1]])),
                            [1, 2], t)
    T = 0.7
    m = linalg.expm(A * T) @ np.array([1.0, 2.0])
    sol = integrate.solve_ivp(lambda _, p: (A @ p.reshape(2, 2) + p.reshape(2, 2) @ A.T
                                            + G @ G.T).ravel(), (0, T), np.zeros(4),
                              rtol=1e-12, atol=1e-14)
    ref = stats.multivariate_normal(m, sol.y[:, -1].reshape(2, 2))
    f = sp.lambdify([x, y], td.density.subs(t, T))
    for pt in ((0.0, 0.0), (1.2, 0.4), (-0.5, 1.0)):
        assert abs(f(*pt) - ref.pdf(pt)) <= 1e-8 * ref.pdf(pt)


CASES: dict[str, tuple[str, Callable[[], None]]] = {
    name.removeprefix("case_"): (fn.__doc__ or "", fn)
    for name, fn in sorted(globals().items()) if name.startswith("case_")
}
SLOW = {"transition_2d_ou_scipy"}


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.slow) if c in SLOW
                                  else c for c in CASES])
def test_peer_case(case: str) -> None:
    CASES[case][1]()


def test_catalogue_has_at_least_forty_cases() -> None:
    assert len(CASES) >= 40


# -- negative controls: the helpers reject wrong claims ----------
def test_close_fn_rejects_a_wrong_density() -> None:
    assert close_fn(sp.exp(-(x**2) / 2) / sp.sqrt(2 * sp.pi), stats.norm.pdf, x, LINE)
    assert not close_fn(sp.exp(-(x**2) / 2) / sp.sqrt(2 * sp.pi) * (1 + 1e-7),
                        stats.norm.pdf, x, LINE)
    assert not close_fn(sp.exp(-(x**2) / 2.0002) / sp.sqrt(2 * sp.pi), stats.norm.pdf, x,
                        LINE)


def test_same_rejects_a_wrong_identity() -> None:
    assert same(sp.exp(-th * t) * sp.exp(th * t), 1)
    assert not same(sp.exp(-th * t) * sp.exp(th * t), 1 + t / 10**9)


def test_a_wrong_stationary_law_fails_a_case(monkeypatch: pytest.MonkeyPatch) -> None:
    # Power: if symsde returned Beta(1/4, 1/2) for the U-shaped Wright-Fisher case, the case
    # fails.
    import symsde.stationary as stmod

    real = stmod.stationary_density

    def wrong(*a: object, **kw: object) -> object:
        st = real(*a, **kw)
        object.__setattr__(st, "potential", st.potential + sp.log(1 - x) / 4)
        st.__dict__.pop("density", None)
        st.__dict__.pop("unnormalized", None)
        return st

    monkeypatch.setitem(globals(), "stationary_density", wrong)
    with pytest.raises(AssertionError):
        case_wright_fisher_u_shaped()
