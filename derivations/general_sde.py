r"""A general SDE: the Euler form (1) and the differential form (2) are one object.

Slide *A General SDE*. The notes write the same process twice,

.. math::

    x(t + \Delta t) = x(t) + \mu(x, t)\Delta t + \sigma(x, t)\epsilon\sqrt{\Delta t},
    \quad \epsilon \sim \mathcal{N}(0, I) \qquad (1)

    dx = \mu(x, t)\,dt + \sigma(x, t)\,dB \qquad (2)

with :math:`\sigma` a matrix. Form (1) determines the conditional moments of an
increment, :math:`E[\Delta x] = \mu\Delta t` and
:math:`\operatorname{Cov}[\Delta x] = \sigma\sigma^\top\Delta t`; these are the drift and
the diffusion matrix :math:`D = \sigma\sigma^\top` of the object (2) (``symsde.SDE``).
The calculus of (2) follows from (1) by Taylor expansion with
:math:`dB^2 \to dt`: Ito's lemma

.. math:: df(X) = \Big(\mu f' + \tfrac12\sigma^2 f''\Big)dt + \sigma f'\,dB,

e.g. :math:`d\log X = (a - b^2/2)dt + b\,dB` for :math:`dX = aX\,dt + bX\,dB`, consistent
with :math:`E[X_t] = X_0 e^{at}`; and the generator
:math:`\mathcal{A}f = \mu\cdot\nabla f + \tfrac12\operatorname{tr}(\sigma\sigma^\top\nabla^2 f)`
is the rate :math:`\frac{d}{dt}E f(X_t)\big|_{t=0}` of the Euler scheme (1).
"""

from __future__ import annotations

import time
from functools import cache
from typing import Any

import mpmath
import numpy as np
import sympy as sp
from sympy import stats

from symsde import SDE, ito_lemma, simulate
from symsde.confirm import ks_test, mean_test, variance_test
from symsde.experiment import Experiment
from symsde.proof import Claim, Derivation, Value, Witness

__all__ = ["confirm", "derivation"]

SLIDE = "A General SDE"


@cache
def _normal_moment(k: int) -> sp.Expr:
    """E[eps^k] for a standard normal eps, from sympy.stats."""
    return stats.E(stats.Normal("epsilon", 0, 1) ** k)


def _expect(expr: sp.Expr, noises: tuple[sp.Symbol, ...]) -> sp.Expr:
    """Expectation over independent standard normals ``noises`` of a polynomial in them.

    Each monomial e_1^k_1 ... e_m^k_m is replaced by the product of the moments
    E[e^k_i] (independence), the moments coming from sympy.stats.
    """
    poly = sp.Poly(sp.expand(expr), *noises)
    return sp.Add(*[coeff * sp.Mul(*[_normal_moment(k) for k in powers])
                    for powers, coeff in poly.terms()])


def _taylor(f: sp.Expr, state: tuple[sp.Symbol, ...], shift: sp.Matrix, order: int) -> sp.Expr:
    """f(x + shift) to the given order: sum_k (shift . grad)^k f / k!.

    The shift is frozen (held by dummies) while the directional derivatives are taken.
    """
    frozen = [sp.Dummy(f"d{i}") for i in range(len(state))]
    term, total = f, f
    for k in range(1, order + 1):
        term = sp.Add(*[frozen[i] * sp.diff(term, s) for i, s in enumerate(state)])
        total += term / sp.factorial(k)
    return total.subs(dict(zip(frozen, shift, strict=True)), simultaneous=True)


@cache
def derivation() -> Derivation:
    """Build the general-SDE derivation (cached)."""
    x1, x2 = sp.symbols("x1 x2", real=True)
    t = sp.Symbol("t", real=True)
    dt = sp.Symbol("Delta_t", positive=True)
    e1, e2 = sp.symbols("epsilon1 epsilon2", real=True)
    state = (x1, x2)
    noises = (e1, e2)

    mu_f = [sp.Function(f"mu{i}") for i in (1, 2)]
    sig_f = [[sp.Function(f"sigma{i}{j}") for j in (1, 2)] for i in (1, 2)]
    mu = sp.Matrix([m(x1, x2, t) for m in mu_f])
    sig = sp.Matrix(2, 2, lambda i, j: sig_f[i][j](x1, x2, t))
    f2 = sp.Function("f")

    x = sp.Symbol("x", real=True)
    m1, s1, f1 = sp.Function("mu"), sp.Function("sigma"), sp.Function("phi")

    a, b, c = sp.symbols("a b c", real=True)
    witness = Witness(functions={
        mu_f[0]: sp.Lambda((a, b, c), a - b**3 + c / 2),
        mu_f[1]: sp.Lambda((a, b, c), sp.sin(a) * b - c),
        sig_f[0][0]: sp.Lambda((a, b, c), 1 + a**2 / 3 + c**2),
        sig_f[0][1]: sp.Lambda((a, b, c), a * b - c / 3),
        sig_f[1][0]: sp.Lambda((a, b, c), sp.cos(b) + c),
        sig_f[1][1]: sp.Lambda((a, b, c), 2 + sp.exp(a / 4) * b),
        f2: sp.Lambda((a, b), sp.sin(a) * sp.exp(b / 3) + a**2 * b),
        m1: sp.Lambda(a, a - a**3),
        s1: sp.Lambda(a, sp.sqrt(1 + a**2)),
        f1: sp.Lambda(a, sp.exp(a / 2) + a**4),
    })
    d = Derivation(
        "general_sde",
        "A general SDE: Euler form and differential form",
        witness=witness,
        summary="The Euler scheme (1) has conditional mean mu dt and covariance sigma "
                "sigma^T dt, the drift and diffusion matrix of dx = mu dt + sigma dB (2); "
                "Ito's lemma and the generator follow from (1) by Taylor expansion.",
    )

    sde = SDE(list(state), list(mu), sig, time=t)
    increment = mu * dt + sig * sp.Matrix(noises) * sp.sqrt(dt)  # x(t + dt) - x(t) by (1)

    def euler_mean() -> sp.Matrix:
        return increment.applyfunc(lambda e: _expect(e, noises)) / dt

    def euler_covariance() -> sp.Matrix:
        mean = increment.applyfunc(lambda e: _expect(e, noises))
        dev = increment - mean
        return (dev * dev.T).applyfunc(lambda e: _expect(e, noises)) / dt

    E = sp.Function("E")
    Cov = sp.Function("Cov")
    dx = [sp.Symbol("Delta_x1"), sp.Symbol("Delta_x2")]
    d.step(
        "euler-mean-is-drift",
        Claim(sp.Matrix([E(dx[0]), E(dx[1])]) / dt, sde.drift),
        "Averaging the Euler update (1) over the zero-mean noise leaves mu(x, t) Delta t, "
        "so its rate is the drift of the SDE object (2).",
        slide=SLIDE,
        check=Value(euler_mean, label="E[increment of (1)]/Delta t with sympy.stats moments"),
        equations=("E40", "E41"),
    )
    d.step(
        "euler-covariance-is-diffusion",
        Claim(sp.Matrix(2, 2, lambda i, j: Cov(dx[i], dx[j])) / dt, sde.diffusion_matrix),
        "The noise of (1) is sigma eps sqrt(Delta t) with independent unit normals, so its "
        "covariance is sigma sigma^T Delta t: per unit time it is the diffusion matrix "
        "D = sigma sigma^T of (2), entry by entry.",
        slide=SLIDE,
        check=Value(euler_covariance, label="Cov[increment of (1)]/Delta t"),
        equations=("E40", "E41"),
    )

    # ---- Ito's lemma in one dimension ---------------------------------------------------
    sde1 = SDE([x], [m1(x)], [[s1(x)]])
    ito_rule = sp.Matrix([
        m1(x) * sp.Derivative(f1(x), x) + s1(x) ** 2 * sp.Derivative(f1(x), (x, 2)) / 2,
        s1(x) * sp.Derivative(f1(x), x),
    ])
    dB, hh = sp.symbols("dB h", real=True)
    dtt = sp.Symbol("dt", positive=True)

    def ito_by_taylor() -> sp.Matrix:
        # Scale dt = h^2 and dB = h * beta, expand f(x + mu dt + sigma dB) to O(h^2),
        # then apply dB^2 -> dt (beta^2 -> 1) and read off the dt and dB coefficients.
        beta = sp.Symbol("beta", real=True)
        series = sp.series(f1(x + m1(x) * hh**2 + s1(x) * beta * hh), hh, 0, 3).removeO()
        df = sp.expand(series.doit() - f1(x))
        df = df.subs(beta**2 * hh**2, dtt).subs(hh**2, dtt).subs(beta * hh, dB)
        df = sp.expand(df)
        return sp.Matrix([df.coeff(dtt, 1).coeff(dB, 0), df.coeff(dB, 1)])

    Dft = sp.Function("drift")
    Dfb = sp.Function("noise")
    d.step(
        "ito-by-taylor",
        Claim(sp.Matrix([Dft(f1(x)), Dfb(f1(x))]), ito_rule),
        "Expanding f(X + mu dt + sigma dB) by series to second order and keeping dB^2 = dt "
        "(but dropping dt^2 and dt dB) gives the dt coefficient mu f' + sigma^2 f''/2 and "
        "the dB coefficient sigma f'.",
        slide=SLIDE,
        check=Value(ito_by_taylor, label="series of f(x + mu dt + sigma dB), dB^2 -> dt"),
    )
    d.step(
        "ito-engine",
        Claim(sp.Matrix([Dft(f1(x)), Dfb(f1(x))]), ito_rule),
        "symsde.ito_lemma, applied to the SDE object (2), returns the same drift and noise "
        "coefficients for f(X).",
        slide=SLIDE,
        check=Value(lambda: sp.Matrix([ito_lemma(sde1, f1(x)).drift[0],
                                       ito_lemma(sde1, f1(x)).diffusion[0]]),
                    label="ito_lemma(SDE(mu, sigma), f)"),
    )

    xp = sp.Symbol("X", positive=True)
    ga, gb = sp.symbols("a b", positive=True)
    gbm = SDE([xp], [ga * xp], [[gb * xp]])
    d.step(
        "gbm-log",
        Claim(sp.Matrix([Dft(sp.log(xp)), Dfb(sp.log(xp))]), sp.Matrix([ga - gb**2 / 2, gb])),
        "For geometric Brownian motion dX = a X dt + b X dB, Ito's lemma gives "
        "d log X = (a - b^2/2) dt + b dB: the second-order term lowers the drift by b^2/2.",
        slide=SLIDE,
        check=Value(lambda: sp.Matrix([ito_lemma(gbm, sp.log(xp)).drift[0],
                                       ito_lemma(gbm, sp.log(xp)).diffusion[0]]),
                    label="ito_lemma(GBM, log X)"),
    )
    x0 = sp.Symbol("X_0", positive=True)
    tp = sp.Symbol("t", positive=True)

    def gbm_mean() -> sp.Expr:
        # X_t = X_0 exp(drift_log t + b B_t), B_t ~ N(0, t); E exp(b B_t) is the MGF at b.
        drift_log = ito_lemma(gbm, sp.log(xp)).drift[0]
        mgf = stats.moment_generating_function(stats.Normal("B_t", 0, sp.sqrt(tp)))
        return sp.simplify(x0 * sp.exp(drift_log * tp) * mgf(gb))

    d.step(
        "gbm-mean",
        Claim(E(sp.Function("X")(tp)), x0 * sp.exp(ga * tp)),
        "Integrating d log X gives X_t = X_0 exp((a - b^2/2) t + b B_t); the Gaussian "
        "moment generating function of B_t ~ N(0, t) restores exp(b^2 t/2), so "
        "E[X_t] = X_0 e^(a t), as the drift a X of (2) requires.",
        slide=SLIDE,
        check=Value(gbm_mean, label="X_0 exp(Ito drift * t) * MGF of B_t at b"),
    )

    # ---- The generator as a rate -------------------------------------------------------
    def generator_by_euler() -> sp.Expr:
        h = sp.Symbol("h", positive=True)  # h = sqrt(Delta t)
        shift = mu * h**2 + sig * sp.Matrix(noises) * h
        expected = _expect(_taylor(f2(x1, x2), state, shift, 2), noises)
        rate = sp.expand((expected - f2(x1, x2)) / h**2)
        # rate is a polynomial in h (no negative powers: the O(h) term has mean zero), so
        # its limit as h -> 0 is its value at h = 0.
        if not rate.is_polynomial(h):
            raise ValueError(f"E f(X_dt) - f(x) is not O(dt): {rate}")
        return rate.subs(h, 0)

    d.step(
        "generator-is-rate",
        Claim(sp.Limit((E(f2(sp.Symbol("X_Delta_t1"), sp.Symbol("X_Delta_t2"))) - f2(x1, x2))
                       / dt, dt, 0),
              sde.generator(f2(x1, x2))),
        "Expanding f(x + mu Delta t + sigma eps sqrt(Delta t)) in sqrt(Delta t), averaging "
        "over eps and letting Delta t -> 0 gives the rate of change of E f(X_t) at t = 0; "
        "it is the generator mu . grad f + tr(sigma sigma^T Hess f)/2 of the SDE object.",
        slide=SLIDE,
        check=Value(generator_by_euler, label="Taylor expansion of the Euler step, "
                                              "expectation, limit Delta t -> 0"),
    )
    return d


# -- confirmation by simulation -------------------------------------------------------------
def _sub_seed(seed: int, *tag: int) -> int:
    """A seed for one part of the experiment, derived from ``seed`` and the part's tag."""
    return int(np.random.SeedSequence([seed, *tag]).generate_state(1)[0])


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
    r_X = exp.confirm("E[X_t] = X_0 e^(a t) (the Euler chain's exact X_0 (1 + a dt)^k) at "
                      "t = 1/4, 1/2, 3/4, 1; a = 1/4, b = 1",
                      mean_test(Xt, chain_mean_X, label="mean of X_t"))
    r_m = exp.confirm(f"E[log X_t] = log X_0 + (a - b^2/2) t, the drift {drift_log} of "
                      "ito_lemma(gbm, log X)",
                      mean_test(logX, ito_mean_log, label="mean of log X_t"))
    r_v = exp.confirm(f"Var[log X_t] = b^2 t, the noise coefficient {noise_log} of "
                      "ito_lemma(gbm, log X), squared",
                      variance_test(logX, ito_var_log, label="variance of log X_t"))
    density = sp.exp(-(X - (sp.log(X0) + drift_log)) ** 2 / (2 * noise_log**2)).subs(vals)
    exp.confirm("log X_1 is Gaussian N(log X_0 + a - b^2/2, b^2)",
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
