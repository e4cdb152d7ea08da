r"""Discrete diffusion, its one-shot sampling formula, and the diffusion SDE.

Slides *Diffusion* and *The Diffusion SDE*. The discrete process

.. math:: z(0) = y \sim \mathrm{pop}, \qquad z(n+1) = z(n) + \sigma\epsilon,
          \quad \epsilon \sim \mathcal{N}(0, I)

adds independent Gaussian increments. Every claim about a law is made through its moment
generating function, written as the integral it is,

.. math:: M(u, s) = \int_{-\infty}^{\infty} e^{u s \epsilon}\,
          \frac{e^{-\epsilon^2/2}}{\sqrt{2\pi}}\,d\epsilon
          \qquad (\text{the law of } s\epsilon),

so that SymPy computes each side and the numeric witness integrates it by quadrature.
Generating functions of independent summands multiply, :math:`M(u, s) = e^{s^2u^2/2}`,
and :math:`M(u,\sigma)^n = e^{(\sigma\sqrt n)^2u^2/2}`: the sum of :math:`n` increments
has the law of one draw :math:`\sigma\epsilon\sqrt n`, which is the notes' one-shot sampling formula
:math:`z(n) = z(0) + \sigma\epsilon\sqrt n`. With time step :math:`\Delta t`,
:math:`z(t + \Delta t) = z(t) + \sigma\epsilon\sqrt{\Delta t}`: :math:`t/\Delta t` steps have
the law of one draw :math:`\sigma\epsilon\sqrt t` whatever the grid, and splitting a step
into :math:`m` sub-steps leaves its law unchanged; that consistency under refinement is why
the formula holds for every :math:`t \ge 0` and :math:`\Delta t \ge 0` (Brownian motion).
The laws for other scales follow from the one for a general scale :math:`s` by rules
(``ApplyBoth`` for independent sums, ``Instantiate`` for the scales). All statements are per
coordinate; the coordinates of :math:`\epsilon \sim \mathcal{N}(0, I)` are independent.
"""

from __future__ import annotations

import time
from functools import cache

import numpy as np
import sympy as sp
from sympy import stats

from derivations._catalogue import CATALOGUE
from symsde import SDE, simulate
from symsde.experiment import Experiment
from symsde.linear import sub_seed
from symsde.proof import (
    ApplyBoth,
    Claim,
    Computed,
    Derivation,
    FollowsFrom,
    Instantiate,
    Witness,
)
from symsde.stattests import ks_test, variance_test

__all__ = ["confirm", "derivation"]

SLIDE_DIFF = "Diffusion"
SLIDE_SDE = "The Diffusion SDE"


def _step_variance(scale: sp.Expr) -> sp.Expr:
    """Var(scale * epsilon) for a standard normal epsilon, from sympy.stats (for confirm)."""
    return stats.variance(scale * stats.Normal("epsilon", 0, 1))


# -- the derivation ----------------------------------------------------------------------------
@cache
def derivation() -> Derivation:
    """Build the diffusion derivation (cached)."""
    sigma = sp.Symbol("sigma", positive=True)
    n = sp.Symbol("n", integer=True, positive=True)
    k = sp.Symbol("k", integer=True, positive=True)
    m = sp.Symbol("m", integer=True, positive=True)
    u = sp.Symbol("u", real=True)
    s = sp.Symbol("s", positive=True)
    w = sp.Symbol("w", positive=True)
    eps = sp.Symbol("epsilon", real=True)
    dt = sp.Symbol("Delta_t", positive=True)
    phi = sp.Function("phi")
    M = sp.Function("M")
    line = (-sp.oo, sp.oo)

    # The generating functions are integrals of exp(u s eps) against the normal density;
    # mpmath's quadrature is accurate while u s stays moderate (the integrand peaks at
    # eps = u s), so u is drawn from [-1, 1] and the scales from (0, 3].
    d = Derivation(
        "diffusion",
        "Discrete diffusion and the diffusion SDE",
        witness=Witness(ranges={u: (-1, 1), sigma: (sp.Rational(1, 10), 2),
                                s: (sp.Rational(1, 10), 3),
                                dt: (sp.Rational(1, 100), 2)}),
        summary="Independent Gaussian increments: generating functions multiply, so "
                "z(n) = z(0) + sigma eps sqrt(n) and z(t + dt) = z(t) + sigma eps sqrt(dt) "
                "for every t, dt.",
        symbols={r"\sigma": sigma, r"\epsilon": eps, r"\Delta t": dt},
        catalogue=CATALOGUE,
    )

    # ---- Diffusion (integer steps) --------------------------------------------------------
    d.define("normal-density", phi(eps), sp.exp(-eps**2 / 2) / sp.sqrt(2 * sp.pi),
             "The standard normal density: epsilon ~ N(0, I) has independent coordinates, "
             "each with this density.", slide=SLIDE_DIFF)
    d.define("mgf", M(u, s), sp.Integral(sp.exp(u * s * eps) * phi(eps), (eps, *line)),
             "M(u, s) = E exp(u s epsilon), the moment generating function of s epsilon; "
             "it determines the law of s epsilon (it is finite for every u).",
             slide=SLIDE_DIFF)
    d.note("E10", SLIDE_DIFF,
           "the initial condition z(0) = y with y drawn from pop(y) sets up the process; "
           "it names a distribution and claims nothing")
    d.note("E08", SLIDE_DIFF,
           "defines the discrete process: z(0) = y drawn from the population and the update "
           "z(n+1) = z(n) + sigma epsilon; steps increment-mean, increment-variance and "
           "scale-mgf give the law of its increment")
    d.step(
        "increment-mean",
        Claim(sp.Integral(sigma * eps * phi(eps), (eps, *line)), 0),
        "Each increment sigma epsilon of z(n+1) = z(n) + sigma epsilon is centred.",
        slide=SLIDE_DIFF, check=Computed(),
    )
    d.step(
        "increment-variance",
        Claim(sp.Integral((sigma * eps) ** 2 * phi(eps), (eps, *line)), sigma**2),
        "... and has variance sigma^2.",
        slide=SLIDE_DIFF, check=Computed(),
    )
    d.step(
        "scale-mgf",
        Claim(M(u, s), sp.exp(s**2 * u**2 / 2)),
        "For every scale s > 0 the generating function of s epsilon is exp(s^2 u^2 / 2); "
        "as it determines the law, a sum whose generating function is exp(s^2 u^2 / 2) has "
        "the law of the single draw s epsilon. For s = sigma it is the law of one increment.",
        slide=SLIDE_DIFF, check=Computed(),
    )
    d.step(
        "n-increments",
        Claim(M(u, s) ** n, sp.exp(n * s**2 * u**2 / 2)),
        "A sum of n independent copies of s epsilon has the generating function M(u, s)^n, "
        "the product of theirs; it is exp(n s^2 u^2 / 2) = exp((s sqrt(n))^2 u^2 / 2), that "
        "of the single draw s sqrt(n) epsilon (step scale-mgf).",
        slide=SLIDE_DIFF,
        check=FollowsFrom(ApplyBoth(sp.Lambda(w, w**n),
                                    "the generating function of a sum of independent terms "
                                    "is the product of theirs")),
        hypotheses=("the increments are independent: each fresh epsilon is independent of "
                    "z(n) and of the earlier epsilons",),
    )
    everywhere = "the premise is an identity in every s > 0 and every integer n >= 1"
    d.step(
        "one-shot-sampling",
        Claim(M(u, sigma) ** n, sp.exp(n * sigma**2 * u**2 / 2)),
        "For the increments sigma epsilon of z(n+1) = z(n) + sigma epsilon: z(n) - z(0) "
        "has the generating function of sigma epsilon sqrt(n), hence its law, and z(n) can "
        "be drawn in one step as z(0) + sigma epsilon sqrt(n).",
        slide=SLIDE_DIFF,
        check=FollowsFrom(Instantiate(((s, sigma),), everywhere)),
        reading=("'We can sample from z(n) using' is read as: z(n) - z(0) has the law of sigma "
                 "epsilon sqrt(n), shown by equal generating functions."),
        equations=("E09",),
    )

    # ---- Diffusion (time step Delta t) ----------------------------------------------------
    d.step(
        "grid-time",
        Claim(M(u, sigma * sp.sqrt(dt)) ** k, sp.exp(k * dt * sigma**2 * u**2 / 2)),
        "With increments sigma epsilon sqrt(Delta t), k steps reach time t = k Delta t, and "
        "their sum has the generating function exp((sigma sqrt(t))^2 u^2 / 2) of one draw "
        "sigma epsilon sqrt(t) (step scale-mgf): the spread depends on the elapsed time, not "
        "on the grid.",
        slide=SLIDE_DIFF,
        check=FollowsFrom(Instantiate(((s, sigma * sp.sqrt(dt)), (n, k)), everywhere),
                          source="n-increments"),
    )
    d.note("E11", SLIDE_DIFF,
           "'Fix a numerical time step Delta t and consider a discrete-time process': the "
           "update rule defines the process on the grid; step grid-time gives the law of "
           "k = t/Delta t of its steps")

    # ---- The Diffusion SDE ----------------------------------------------------------------
    d.step(
        "refinement",
        Claim(M(u, sigma * sp.sqrt(dt / m)) ** m, sp.exp(dt * sigma**2 * u**2 / 2)),
        "Cutting a step of length Delta t into m independent sub-steps of length Delta t/m "
        "leaves its law unchanged, for every m: the update is consistent under refinement of "
        "the grid. With grid-time, adjacent intervals of lengths Delta t_1, Delta t_2 (on a "
        "common grid) compose to one step of Delta t_1 + Delta t_2, so the update holds for "
        "any t >= 0 and Delta t >= 0 in the limit Delta t -> 0, not only on one grid.",
        slide=SLIDE_SDE,
        check=FollowsFrom(Instantiate(((s, sigma * sp.sqrt(dt / m)), (n, m)), everywhere),
                          source="n-increments"),
        reading=("'Holds for any continuous t >= 0 and Delta t >= 0' is read as: the update's "
                 "law is unchanged when a step is refined into m sub-steps (this step) and "
                 "when k steps are merged into one (step grid-time)."),
        equations=("E12",),
    )
    return d


# -- confirmation by simulation -------------------------------------------------------------
def _sub_seed(seed: int, *tag: int) -> int:
    """A seed for one run of the experiment, derived from ``seed`` and the run's tag."""
    return sub_seed(seed, *tag)


def confirm(seed: int = 0) -> Experiment:
    r"""Simulate the diffusion SDE from a population: the variance grows like sigma^2 t.

    Parameters
    ----------
    seed : int
        Seed of the starting points and of the simulations; the outcome is a deterministic
        function of it.

    Returns
    -------
    Experiment

    Notes
    -----
    Model: the diffusion SDE :math:`dz = \sigma\,dB`, ``SDE([z], [0], sigma)`` with
    :math:`\sigma = 3/2`, started at :math:`z(0) = y` drawn from a two-point population
    :math:`y = \pm 1` (probability 1/2 each; variance :math:`v_0 = 1` by ``sympy.stats``),
    far from Gaussian. Its Euler step :math:`z + \sigma\sqrt{\Delta t}\,\epsilon` is the
    notes' update itself, so the simulation is exact on its grid: there is no
    discretisation bias.

    Predictions, from the derivation's own SymPy pieces: the variance of an increment over
    :math:`k = t/\Delta t` steps is the sum of the per-step variances (``sympy.stats``),
    :math:`\sigma^2 t`; the variance of :math:`z(t)` adds the population's,
    :math:`v_0 + \sigma^2 t`; the increment :math:`z(t) - z(0)` is exactly
    :math:`\mathcal{N}(0, \sigma^2 t)` (its density from ``sympy.stats``) even though
    :math:`z(t)` itself is a two-component mixture.

    Samples: 20 000 independent paths (one population draw each), :math:`\Delta t = 1/100`
    for 200 steps (:math:`t \le 2`), all paths kept every 5 steps; the tests use the
    8 times :math:`t = 1/4, 1/2, \dots, 2` (the values at different times are from the
    same paths, so they are dependent; the false-alarm bound below is Bonferroni's and
    holds regardless). A second run on the coarse grid :math:`\Delta t = 1/2` (4 steps)
    checks that the spread depends on the elapsed time only.

    Tests (5 standard errors, fourth-moment standard errors): the increments' variances at
    the 8 times against :math:`\sigma^2 t` (false alarm :math:`8 \cdot 5.7\times10^{-7}`);
    the variances of :math:`z(t)` against :math:`v_0 + \sigma^2 t` (the same); the coarse
    run's increments at its 4 times (:math:`4 \cdot 5.7\times10^{-7}`); KS of
    :math:`z(2) - z(0)` against :math:`\mathcal{N}(0, 2\sigma^2)` (:math:`10^{-6}`).
    Power: the increments' variances against :math:`\sigma^2 t/2`, against
    :math:`\sigma^2 t^2` and against :math:`\sigma^2 t\,\Delta t` (kicks
    :math:`\sigma\epsilon\Delta t` instead of :math:`\sigma\epsilon\sqrt{\Delta t}`), each
    must be rejected.
    """
    t0 = time.perf_counter()
    z = sp.Symbol("z", real=True)
    sigma = sp.Symbol("sigma", positive=True)
    t, dt_s = sp.symbols("t Delta_t", positive=True)
    j = sp.Symbol("j", integer=True, positive=True)
    k = sp.Symbol("k", integer=True, positive=True)
    sigma_value = sp.Rational(3, 2)

    # Predictions from the derivation's pieces: per-step variances (sympy.stats) summed.
    increment_var = sp.summation(_step_variance(sigma * sp.sqrt(dt_s)), (j, 1, k)).subs(
        k, t / dt_s)
    if sp.simplify(increment_var - sigma**2 * t) != 0:
        raise ArithmeticError(f"unexpected increment variance {increment_var}")
    pop = stats.Bernoulli("y", sp.Rational(1, 2), succ=1, fail=-1)
    v0 = stats.variance(pop)
    increment_law = stats.density(stats.Normal("w", 0, sp.sqrt(increment_var)))(z)

    def var_at(times: np.ndarray, expr: sp.Expr) -> np.ndarray:
        f = sp.lambdify(t, expr.subs(sigma, sigma_value), modules="numpy")
        return np.broadcast_to(np.asarray(f(times), dtype=float), times.shape).copy()

    n_paths = 20_000
    rng = np.random.default_rng(_sub_seed(seed, 0))
    y0 = rng.choice([-1.0, 1.0], size=(n_paths, 1))
    sde = SDE([z], [0], sigma)
    dt, n_steps, every = sp.Rational(1, 100), 200, 5
    fine = simulate(sde, x0=y0, dt=float(dt), n_steps=n_steps, n_paths=n_paths,
                    seed=_sub_seed(seed, 1), params={sigma: sigma_value},
                    record_every=every, keep_paths=n_paths)
    coarse_dt = sp.Rational(1, 2)
    coarse = simulate(sde, x0=y0, dt=float(coarse_dt), n_steps=4, n_paths=n_paths,
                      seed=_sub_seed(seed, 2), params={sigma: sigma_value},
                      record_every=1, keep_paths=n_paths)
    assert fine.paths is not None and fine.times is not None
    assert coarse.paths is not None and coarse.times is not None
    tested = np.arange(5, fine.times.size, 5)  # t = 1/4, 1/2, ..., 2
    times = fine.times[tested]
    incr = fine.paths[tested, :, 0].T - y0
    zt = fine.paths[tested, :, 0].T
    incr_coarse = coarse.paths[1:, :, 0].T - y0
    times_coarse = coarse.times[1:]

    exp = Experiment("diffusion", "The diffusion SDE: variance sigma^2 t, Gaussian increments",
                     seed)
    exp.predict("Var(z(t) - z(0)) = sigma^2 t at t = 1/4, 1/2, ..., 2 (dt = 1/100, "
                "sigma = 3/2)",
                variance_test(incr, var_at(times, increment_var),
                              label="variance of z(t) - z(0)"))
    exp.predict(f"Var z(t) = v_0 + sigma^2 t with the population's v_0 = {v0}",
                variance_test(zt, var_at(times, v0 + increment_var),
                              label="variance of z(t)"))
    exp.predict("the same spread on the coarse grid dt = 1/2: Var(z(t) - z(0)) = sigma^2 t "
                "at t = 1/2, 1, 3/2, 2",
                variance_test(incr_coarse, var_at(times_coarse, increment_var),
                              label="variance of z(t) - z(0), dt = 1/2"))
    exp.predict("z(2) - z(0) is N(0, 2 sigma^2): the sum of the increments is Gaussian "
                "(z(2) itself is a two-point mixture)",
                ks_test(incr[:, -1], increment_law.subs({sigma: sigma_value, t: 2}), z,
                        label="ks of z(2) - z(0) vs N(0, sigma^2 t)"))
    exp.reject("Var(z(t) - z(0)) = sigma^2 t/2",
               variance_test(incr, var_at(times, increment_var / 2),
                             label="variance vs sigma^2 t/2"))
    exp.reject("Var(z(t) - z(0)) = sigma^2 t^2",
               variance_test(incr, var_at(times, increment_var * t),
                             label="variance vs sigma^2 t^2"))
    exp.reject("kicks sigma eps dt instead of sigma eps sqrt(dt): Var = sigma^2 t dt",
               variance_test(incr, var_at(times, increment_var * dt),
                             label="variance vs sigma^2 t dt"))

    all_incr = fine.paths[1:, :, 0].T - y0
    c = all_incr - all_incr.mean(axis=0)
    var_all = (c * c).sum(axis=0) / (n_paths - 1)
    se_all = np.sqrt(np.maximum((c**4).mean(axis=0) - var_all**2, 0.0) / n_paths)
    exp.data = {
        "sigma": float(sigma_value), "v0": float(v0), "dt": float(dt),
        "times": fine.times, "increment_variance": np.concatenate([[0.0], var_all]),
        "increment_variance_se": np.concatenate([[0.0], se_all]),
        "state_variance": fine.moments.cov[:, 0, 0] if fine.moments is not None else None,
        "predicted_increment_variance": var_at(fine.times, increment_var),
        "predicted_state_variance": var_at(fine.times, v0 + increment_var),
        "coarse": {"dt": float(coarse_dt), "times": coarse.times,
                   "increment_variance": np.concatenate(
                       [[0.0], incr_coarse.var(axis=0, ddof=1)])},
        "paths": fine.paths[:, :6, 0],
        "final_increments": incr[:, -1],
    }
    exp.seconds = time.perf_counter() - t0
    return exp
