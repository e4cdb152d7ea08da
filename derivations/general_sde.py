r"""A general SDE: the Euler form (1) and the differential form (2) are one object.

Slide *A General SDE*. The notes write the same process twice,

.. math::

    x(t + \Delta t) = x(t) + \mu(x, t)\Delta t + \sigma(x, t)\epsilon\sqrt{\Delta t},
    \quad \epsilon \sim \mathcal{N}(0, I) \qquad (1)

    dx = \mu(x, t)\,dt + \sigma(x, t)\,dB \qquad (2)

with :math:`\sigma` a matrix. The increment of (1) is Gaussian: along any direction
:math:`w` its cumulant generating function, computed from the standard normal density of
each (independent) component of :math:`\epsilon`, is
:math:`\Delta t\,w\cdot\mu + \tfrac12\Delta t\,w^\top\sigma\sigma^\top w`, so its mean is
:math:`\mu\,\Delta t` and its covariance :math:`D\,\Delta t` with :math:`D = \sigma\sigma^\top`:
the drift and the diffusion matrix of the object (2) (``symsde.SDE``). The calculus of (2)
is Ito's: for geometric Brownian motion :math:`dX = aX\,dt + bX\,dB` the generator gives
:math:`d\log X = (a - b^2/2)dt + b\,dB`, and averaging the solution this implies over
:math:`B_t \sim \mathcal{N}(0, t)` returns :math:`E[X_t] = X_0 e^{at}`, the mean that the
drift :math:`aX` of (2) prescribes.
"""

from __future__ import annotations

import random
import time
from functools import cache
from typing import Any

import mpmath
import numpy as np
import sympy as sp
from sympy import stats

from derivations._catalogue import CATALOGUE
from symsde import SDE, ito_lemma, simulate
from symsde.experiment import Experiment
from symsde.linear import normal_expectation, sub_seed
from symsde.proof import Claim, Computed, Derivation, SolvesODE, Witness
from symsde.stattests import ks_test, mean_test, variance_test

__all__ = ["confirm", "derivation"]

SLIDE = "A General SDE"
INDEPENDENT = ("eps ~ N(0, I): its components are independent standard normals, so the "
               "expectation of a product of functions of different components factorises")


@cache
def _expect(expr: sp.Expr, noises: tuple[sp.Symbol, ...]) -> sp.Expr:
    """Expectation over independent standard normals ``noises`` of a polynomial in them
    (:func:`symsde.linear.normal_expectation`; checked against sympy.stats in its tests).
    Used by ``confirm``."""
    return normal_expectation(expr, noises)


def _coef(rng: random.Random) -> sp.Rational:
    """A random coefficient in [1/10, 1] for the witness's instances."""
    return sp.Rational(rng.randint(6, 60), 60)


def _integrate_all(expr: Any) -> Any:
    """Evaluate every integral in ``expr`` by :func:`sympy.integrate`, then the rest (``doit``)."""
    done = expr.replace(lambda e: isinstance(e, sp.Integral),
                        lambda e: sp.expand(sp.integrate(e.function, *e.limits, conds="none")))
    return done.doit()


@cache
def derivation() -> Derivation:
    """Build the general-SDE derivation (cached)."""
    x1, x2, t, e, w1, w2 = sp.symbols("x1 x2 t epsilon w1 w2", real=True)
    dt = sp.Symbol("Delta_t", positive=True)
    X, X0, a, b = sp.symbols("X X_0 a b", positive=True)
    tp = sp.Symbol("t", positive=True)
    phi, m = sp.Function("phi"), sp.Function("m")
    mu_f = [sp.Function(f"mu{i}", real=True) for i in (1, 2)]
    sig_f = [[sp.Function(f"sigma{i}{j}", real=True) for j in (1, 2)] for i in (1, 2)]
    p, q, r = sp.symbols("p q r", real=True)

    d = Derivation(
        "general_sde",
        "A general SDE: Euler form and differential form",
        witness=Witness(
            functions={
                mu_f[0]: lambda rng, inst: sp.Lambda((p, q, r), p - q**3 * _coef(rng)
                                                     + r * _coef(rng)),
                mu_f[1]: lambda rng, inst: sp.Lambda((p, q, r), sp.sin(p) * q - r * _coef(rng)),
                # bounded noise coefficients keep the Gaussian integrals' peaks near 0
                sig_f[0][0]: sp.Lambda((p, q, r), 1 + sp.sin(p + r) / 3),
                sig_f[0][1]: sp.Lambda((p, q, r), sp.cos(p * q) / 2 - r / (4 + r**2)),
                sig_f[1][0]: sp.Lambda((p, q, r), sp.tanh(q) + r / (3 + r**2)),
                sig_f[1][1]: sp.Lambda((p, q, r), 2 + sp.sin(p) * sp.cos(q)),
            },
            ranges={dt: (0, 1), w1: (-1, 1), w2: (-1, 1), b: (0, 1), tp: (0, 2)},
        ),
        summary="The Euler form (1) has Gaussian increments with mean mu dt and covariance "
                "sigma sigma^T dt, the drift and diffusion matrix of dx = mu dt + sigma dB "
                "(2); Ito's lemma for geometric Brownian motion returns the mean (2) "
                "prescribes.",
        symbols={"t": t, r"\Delta t": dt, r"\epsilon": e},
        catalogue=CATALOGUE,
    )
    # (1) is an update rule that defines a process and (2) the conventional notation for
    # it; neither is a claim. The notes' claim about them is the sentence "they are the
    # same thing", which the step increment-cgf checks.
    d.note("E40", SLIDE, "the Euler update rule (1) defines the process; that its increment "
                         "has the law of the SDE object (2) is checked by increment-cgf")
    d.note("E41", SLIDE, "(2) is the conventional notation for the process (the SDE object "
                         "with drift mu and diffusion matrix sigma sigma^T); that (1) and (2) "
                         "are the same thing is checked by increment-cgf")

    # ---- (1) and (2): the increment's law ------------------------------------------------
    mu = sp.Matrix([f(x1, x2, t) for f in mu_f])
    sig = sp.Matrix(2, 2, lambda i, j: sig_f[i][j](x1, x2, t))
    sde = SDE([x1, x2], list(mu), sig, time=t)
    w = sp.Matrix([w1, w2])
    d.define("unit-normal", phi(e), sp.exp(-e**2 / 2) / sp.sqrt(2 * sp.pi),
             "The density of each component of eps ~ N(0, I) in (1).", slide=SLIDE)
    c = sp.sqrt(dt) * sig.T * w  # w . sigma eps sqrt(dt) = c . eps
    k = sp.Symbol("k", real=True)
    unit_mgf = sp.Integral(sp.exp(k * e) * phi(e), (e, -sp.oo, sp.oo))  # E exp(k eps)
    component_cgf = [sp.Subs(sp.log(unit_mgf), k, ck) for ck in c]
    d.step(
        "increment-cgf",
        Claim(dt * (w.T * mu)[0] + sp.Add(*component_cgf),
              dt * (w.T * sde.drift)[0] + dt * (w.T * sde.diffusion_matrix * w)[0] / 2),
        "The increment of (1) along a direction w is w . mu Delta t + sum_k c_k eps_k with "
        "c = sqrt(Delta t) sigma^T w. Its cumulant generating function log E exp(w . "
        "(x(t + Delta t) - x(t))) is w . mu Delta t plus the sum over the independent "
        "components of log of the integral of exp(c_k eps) against the unit normal "
        "density. It equals w . mu Delta t + w^T D w Delta t/2 with mu the drift and "
        "D = sigma sigma^T the diffusion matrix of the SDE object (2): the cumulant "
        "generating function of a Gaussian with mean mu Delta t and covariance D Delta t, "
        "for every w. So (1) and (2) are the same process.",
        slide=SLIDE, check=Computed(how=_integrate_all, label="the Gaussian integrals"),
        hypotheses=(INDEPENDENT,),
    )

    # ---- The calculus of (2): Ito's lemma for geometric Brownian motion ----------------
    gbm = SDE([X], [a * X], [[b * X]])
    d.step(
        "gbm-log-ito",
        Claim(sp.Matrix([gbm.generator(sp.log(X), evaluate=False),
                         gbm.diffusion[0, 0] * sp.Derivative(sp.log(X), X)]),
              sp.Matrix([a - b**2 / 2, b])),
        "Ito's lemma for (2): f(X) has drift A f = mu f' + sigma^2 f''/2 (the generator; "
        "the second-order term comes from dB^2 = dt in the Taylor expansion of (1)) and "
        "noise sigma f'. For geometric Brownian motion dX = a X dt + b X dB and f = log X: "
        "d log X = (a - b^2/2) dt + b dB.",
        slide=SLIDE, check=Computed(label="SDE.generator(log X)"),
    )
    d.step(
        "gbm-mean-ode",
        Claim(m(tp), X0 * sp.exp(a * tp)),
        "Averaging (2) (the dB term has mean 0), the mean m(t) = E X_t of geometric "
        "Brownian motion solves m' = a m with m(0) = X_0.",
        slide=SLIDE, check=SolvesODE(sp.Eq(sp.Derivative(m(tp), tp), a * m(tp)),
                                     ics={m(0): X0}),
    )
    log_drift = ito_lemma(gbm, sp.log(X)).drift[0]
    d.step(
        "gbm-mean",
        Claim(X0 * sp.exp(log_drift * tp) * sp.Subs(unit_mgf, k, b * sp.sqrt(tp)),
              X0 * sp.exp(a * tp)),
        "Integrating Ito's d log X (symsde.ito_lemma) gives X_t = X_0 exp((a - b^2/2) t "
        "+ b B_t) with B_t = sqrt(t) eps; averaged over eps (E exp(k eps) at k = b sqrt(t)) "
        "it has the mean X_0 e^(a t) that the drift of (2) prescribes (step "
        "gbm-mean-ode). The naive chain rule (no -b^2/2) would give X_0 e^((a + b^2/2) t).",
        slide=SLIDE, check=Computed(how=_integrate_all, label="the Gaussian integral"),
    )
    return d


# -- confirmation by simulation -------------------------------------------------------------
def _sub_seed(seed: int, *tag: int) -> int:
    """A seed for one run of the experiment, derived from ``seed`` and the run's tag."""
    return sub_seed(seed, *tag)


def _euler_log_moments(a: float, b: float, dt: float) -> tuple[float, float]:
    """Mean and variance of log(1 + a dt + b sqrt(dt) eps), eps ~ N(0, 1), by quadrature.

    The Euler chain of geometric Brownian motion multiplies X by these i.i.d. factors, so
    log X_k - log X_0 is a sum of k independent copies. The factor is negative only for
    eps < -(1 + a dt)/(b sqrt(dt)) (below -22 for the experiment's values, probability
    under 1e-100); the integrals start at -20 and the neglected mass is below 1e-88.
    """
    with mpmath.workdps(30):
        f = lambda e: mpmath.log(1 + a * dt + b * mpmath.sqrt(dt) * e)  # noqa: E731
        pts = [-20, -5, 0, 5, mpmath.inf]
        m1 = mpmath.quad(lambda e: f(e) * mpmath.npdf(e), pts)
        m2 = mpmath.quad(lambda e: f(e) ** 2 * mpmath.npdf(e), pts)
        return float(m1), float(m2 - m1**2)


def confirm(seed: int = 0) -> Experiment:
    r"""Ito's lemma by experiment: geometric Brownian motion and the drift of log X.

    Parameters
    ----------
    seed : int
        Seed of the simulation; the outcome is a deterministic function of it.

    Returns
    -------
    Experiment

    Notes
    -----
    Model: :math:`dX = aX\,dt + bX\,dB` with :math:`a = 1/4`, :math:`b = 1`,
    :math:`X_0 = 1` (the derivation's GBM, ``SDE([X], [a X], [[b X]])``). Predictions:
    ``ito_lemma(gbm, log X)`` gives :math:`d\log X = (a - b^2/2)\,dt + b\,dB`, so
    :math:`E\log X_t = \log X_0 + (a - b^2/2)t = -t/4` and
    :math:`\operatorname{Var}\log X_t = b^2 t`, and :math:`\log X_t` is Gaussian; the mean
    :math:`E X_t = X_0 e^{at}` comes from the same route as the derivation's ``gbm-mean``
    step (the Gaussian moment generating function). With these values the mean grows while
    the typical path decays: the :math:`-b^2/2` is what the naive chain rule
    :math:`d\log X = dX/X` misses.

    Samples: 50 000 independent paths, Euler-Maruyama with :math:`\Delta t = 1/2000` for
    2000 steps, all paths kept at :math:`t = 1/4, 1/2, 3/4, 1`.

    Discretisation: the Euler chain multiplies :math:`X` by i.i.d. factors
    :math:`1 + a\Delta t + b\sqrt{\Delta t}\,\epsilon`, so :math:`E X_k = X_0(1 +
    a\Delta t)^k` exactly (the factor's mean by the module's ``_expect``); the mean test
    uses that exact value (its gap to :math:`X_0e^{at}`, :math:`1.6\times10^{-5}`
    relative, is 0.003 of a standard error; recorded in ``data``). For the logarithm the
    chain's exact mean and variance, :math:`k` times those of :math:`\log` of one factor,
    are computed by quadrature (``_euler_log_moments``); their gaps to Ito's continuous
    predictions at
    :math:`t = 1`, :math:`-2.7\times10^{-4}` in the mean and :math:`+1.0\times10^{-3}` in
    the variance, are 0.06 and 0.16 of a standard error (recorded in ``data``), so the
    logarithm is tested against Ito's predictions themselves; such a shift raises a test's
    false-alarm probability from :math:`5.7\times10^{-7}` to at most about
    :math:`1\times10^{-6}`. That the factor's log-moments per unit time tend to
    :math:`a - b^2/2` and :math:`b^2` as :math:`\Delta t \to 0` is checked symbolically
    (the Taylor series of :math:`\log(1 + u)` averaged with ``_expect``).

    Tests (5 standard errors): :math:`E X_t` at the 4 times against the chain's exact mean
    (false alarm :math:`4 \cdot 5.7\times10^{-7}`); :math:`E\log X_t` against
    :math:`\log X_0 + (a - b^2/2)t` and :math:`\operatorname{Var}\log X_t` against
    :math:`b^2 t` (the same); KS of :math:`\log X_1` against
    :math:`\mathcal{N}(\log X_0 + a - b^2/2, b^2)` (:math:`10^{-6}`; the chain's law of
    :math:`\log X_1` differs from it through the gaps above and a skewness of
    :math:`-3b\Delta t/\sqrt t = -0.0015`, together a sup-CDF distance of at most about
    :math:`3\times10^{-4}`, 3% of the critical distance 0.012). Power:
    :math:`E\log X_t = \log X_0 + at` (no Ito correction) and
    :math:`E X_t = X_0 e^{(a - b^2/2)t}` (exponentiating the log's drift) must be
    rejected.
    """
    t0 = time.perf_counter()
    X = sp.Symbol("X", positive=True)
    a, b = sp.symbols("a b", positive=True)
    X0 = sp.Symbol("X_0", positive=True)
    t = sp.Symbol("t", positive=True)
    h, e = sp.symbols("h epsilon", real=True)
    gbm = SDE([X], [a * X], [[b * X]])
    dlog = ito_lemma(gbm, sp.log(X))
    drift_log, noise_log = dlog.drift[0], dlog.diffusion[0]
    mgf = stats.moment_generating_function(stats.Normal("B_t", 0, sp.sqrt(t)))
    mean_X = sp.simplify(X0 * sp.exp(drift_log * t) * mgf(noise_log))
    if sp.simplify(mean_X - X0 * sp.exp(a * t)) != 0:
        raise ArithmeticError(f"unexpected E[X_t] = {mean_X}")
    # One Euler factor 1 + a dt + b sqrt(dt) eps, with h = sqrt(dt): its mean, and the
    # dt -> 0 rates of the mean and variance of its logarithm (Taylor series of log(1 + u)).
    u = a * h**2 + b * h * e
    factor_mean = _expect(1 + u, (e,))
    log_series = sp.series(sp.log(1 + u), h, 0, 5).removeO()
    log_m1 = _expect(log_series, (e,))
    log_m2 = _expect(sp.expand(log_series**2), (e,))
    rate_mean = sp.limit(log_m1 / h**2, h, 0)
    rate_var = sp.limit((log_m2 - log_m1**2) / h**2, h, 0)
    if sp.simplify(rate_mean - drift_log) != 0 or sp.simplify(rate_var - noise_log**2) != 0:
        raise ArithmeticError("the Euler factor's log-moments do not tend to Ito's")

    vals = {a: sp.Rational(1, 4), b: sp.Integer(1), X0: sp.Integer(1)}
    dt, n_steps, every, n_paths = sp.Rational(1, 2000), 2000, 500, 50_000
    res = simulate(gbm, x0=float(vals[X0]), dt=float(dt), n_steps=n_steps, n_paths=n_paths,
                   seed=_sub_seed(seed, 0), params={a: vals[a], b: vals[b]},
                   record_every=every, keep_paths=n_paths)
    assert res.paths is not None and res.times is not None
    times = res.times[1:]
    steps = np.arange(1, times.size + 1) * every
    Xt = res.paths[1:, :, 0].T
    logX = np.log(Xt)

    def at(expr: sp.Expr) -> np.ndarray:
        f = sp.lambdify(t, expr.subs(vals), modules="numpy")
        return np.broadcast_to(np.asarray(f(times), dtype=float), times.shape).copy()

    factor_value = factor_mean.subs(vals).subs(h, sp.sqrt(dt))  # 1 + a dt
    chain_mean_X = np.array([float(vals[X0] * factor_value ** int(k)) for k in steps])
    ito_mean_log = at(sp.log(X0) + drift_log * t)
    ito_var_log = at(noise_log**2 * t)
    m1, v1 = _euler_log_moments(float(vals[a]), float(vals[b]), float(dt))
    chain_mean_log = float(sp.log(vals[X0])) + steps * m1
    chain_var_log = steps * v1

    exp = Experiment("general_sde", "Ito's lemma by experiment: geometric Brownian motion",
                     seed)
    r_X = exp.predict("E[X_t] = X_0 e^(a t) (the Euler chain's exact X_0 (1 + a dt)^k) at "
                      "t = 1/4, 1/2, 3/4, 1; a = 1/4, b = 1",
                      mean_test(Xt, chain_mean_X, label="mean of X_t"))
    r_m = exp.predict(f"E[log X_t] = log X_0 + (a - b^2/2) t, the drift {drift_log} of "
                      "ito_lemma(gbm, log X)",
                      mean_test(logX, ito_mean_log, label="mean of log X_t"))
    r_v = exp.predict(f"Var[log X_t] = b^2 t, the noise coefficient {noise_log} of "
                      "ito_lemma(gbm, log X), squared",
                      variance_test(logX, ito_var_log, label="variance of log X_t"))
    density = sp.exp(-(X - (sp.log(X0) + drift_log)) ** 2 / (2 * noise_log**2)).subs(vals)
    exp.predict("log X_1 is Gaussian N(log X_0 + a - b^2/2, b^2)",
                ks_test(logX[:, -1], density, X, label="ks of log X_1"))
    exp.reject("the naive chain rule d log X = dX/X: E[log X_t] = log X_0 + a t",
               mean_test(logX, at(sp.log(X0) + a * t), label="mean of log X_t vs a t"))
    exp.reject("E[X_t] = X_0 exp((a - b^2/2) t) (the log's drift exponentiated)",
               mean_test(Xt, at(X0 * sp.exp(drift_log * t)), label="mean of X_t"))

    def in_se(r: Any, gap: np.ndarray) -> np.ndarray:
        return np.abs(gap) / np.asarray(r.details["standard_error"])

    exp.data = {
        "a": float(vals[a]), "b": float(vals[b]), "X0": float(vals[X0]), "dt": float(dt),
        "times": times, "mean_X": np.asarray(r_X.details["estimate"]),
        "mean_X_se": np.asarray(r_X.details["standard_error"]),
        "mean_X_exact": at(mean_X), "mean_X_euler": chain_mean_X,
        "mean_log": np.asarray(r_m.details["estimate"]),
        "mean_log_se": np.asarray(r_m.details["standard_error"]),
        "mean_log_ito": ito_mean_log, "mean_log_naive": at(sp.log(X0) + a * t),
        "var_log": np.asarray(r_v.details["estimate"]), "var_log_ito": ito_var_log,
        "bias_in_standard_errors": {
            "mean_X_exact_vs_euler": in_se(r_X, at(mean_X) - chain_mean_X),
            "mean_log": in_se(r_m, ito_mean_log - chain_mean_log),
            "var_log": in_se(r_v, ito_var_log - chain_var_log)},
        "log_samples": logX[:5000, -1],
    }
    exp.seconds = time.perf_counter() - t0
    return exp
