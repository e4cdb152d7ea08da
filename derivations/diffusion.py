r"""Discrete diffusion, its one-shot sampling formula, and the diffusion SDE.

Slides *Diffusion* and *The Diffusion SDE*. The discrete process

.. math:: z(0) = y \sim \mathrm{pop}, \qquad z(n+1) = z(n) + \sigma\epsilon,
          \quad \epsilon \sim \mathcal{N}(0, I)

adds independent Gaussian increments, so variances add:
:math:`\operatorname{Var}(z(n) - z(0)) = n\sigma^2 = (\sigma\sqrt n)^2`, and since a sum of
independent Gaussians is Gaussian (moment generating functions multiply,
:math:`(e^{\sigma^2u^2/2})^n = e^{n\sigma^2u^2/2}`) one may sample
:math:`z(n) = z(0) + \sigma\epsilon\sqrt n` in one draw. With time step :math:`\Delta t`,

.. math:: z(t + \Delta t) = z(t) + \sigma\epsilon\sqrt{\Delta t},

the variance after time :math:`t` is :math:`\sigma^2 t` whatever the grid, and splitting
a step into :math:`m` sub-steps leaves its law unchanged. That consistency under
refinement is why the same formula holds for every :math:`t \ge 0` and
:math:`\Delta t \ge 0` in the limit (Brownian motion): increments over adjacent
intervals :math:`\Delta t_1, \Delta t_2` add to one increment over
:math:`\Delta t_1 + \Delta t_2`. All statements are per coordinate; the coordinates of
:math:`\epsilon \sim \mathcal{N}(0, I)` are independent.
"""

from __future__ import annotations

import time
from functools import cache

import numpy as np
import sympy as sp
from sympy import stats

from symsde import SDE, simulate
from symsde.confirm import ks_test, variance_test
from symsde.experiment import Experiment
from symsde.proof import Claim, Derivation, Value, Witness

__all__ = ["confirm", "derivation"]

SLIDE_DIFF = "Diffusion"
SLIDE_SDE = "The Diffusion SDE"


@cache
def _normal_mgf() -> sp.Lambda:
    """Moment generating function of a standard normal, from sympy.stats."""
    return stats.moment_generating_function(stats.Normal("epsilon", 0, 1))


@cache
def _normal_moment(k: int) -> sp.Expr:
    """E[eps^k] for a standard normal eps, from sympy.stats."""
    return stats.E(stats.Normal("epsilon", 0, 1) ** k)


def _step_variance(scale: sp.Expr) -> sp.Expr:
    """Var(scale * epsilon) for a standard normal epsilon, from sympy.stats."""
    return stats.variance(scale * stats.Normal("epsilon", 0, 1))


@cache
def derivation() -> Derivation:
    """Build the diffusion derivation (cached)."""
    sigma = sp.Symbol("sigma", positive=True)
    n = sp.Symbol("n", integer=True, positive=True)
    j = sp.Symbol("j", integer=True, positive=True)
    m = sp.Symbol("m", integer=True, positive=True)
    u = sp.Symbol("u", real=True)
    v0 = sp.Symbol("v_0", positive=True)
    t, dt, dt1, dt2 = sp.symbols("t Delta_t Delta_t1 Delta_t2", positive=True)

    d = Derivation(
        "diffusion",
        "Discrete diffusion and the diffusion SDE",
        witness=Witness(),
        summary="Independent Gaussian increments: variances add and laws compose, so "
                "z(n) = z(0) + sigma eps sqrt(n) and z(t + dt) = z(t) + sigma eps sqrt(dt) "
                "for every t, dt.",
    )
    Var = sp.Function("Var")
    M = sp.Function("M")
    z = sp.Function("z")

    # ---- Diffusion (integer steps) --------------------------------------------------------
    d.define("E10", SLIDE_DIFF,
             "the initial condition z(0) = y with y drawn from pop(y) sets up the process; "
             "it names a distribution and claims nothing")

    vfun = sp.Function("v")

    def variance_recursion() -> sp.Expr:
        # Var z(n+1) = Var z(n) + Var(sigma eps): the new increment is independent of z(n).
        return sp.rsolve(vfun(n + 1) - vfun(n) - _step_variance(sigma), vfun(n),
                         {vfun(0): v0})

    d.step(
        "variance-recursion",
        Claim(Var(z(n)), v0 + n * sigma**2),
        "Each update adds a fresh increment of variance sigma^2 (computed with "
        "sympy.stats), independent of the past; rsolve of Var z(n+1) = Var z(n) + sigma^2 "
        "from Var z(0) = v_0 gives a variance growing linearly in n.",
        slide=SLIDE_DIFF,
        check=Value(variance_recursion, label="rsolve of the variance recurrence"),
        equations=("E08",),
    )
    d.step(
        "increments-variance",
        Claim(Var(z(n) - z(0)), (sigma * sp.sqrt(n)) ** 2),
        "z(n) - z(0) is the sum of n independent increments sigma eps_j, so its variance "
        "is the sum of theirs, the variance of sigma sqrt(n) eps.",
        slide=SLIDE_DIFF,
        check=Value(lambda: sp.summation(_step_variance(sigma), (j, 1, n)),
                    label="summation of the per-step variances from sympy.stats"),
        equations=("E09",),
    )
    d.step(
        "increments-law",
        Claim(M(u), _normal_mgf()(u * sigma * sp.sqrt(n))),
        "Moment generating functions of independent summands multiply: the product of n "
        "factors M_eps(sigma u) is the generating function of sigma sqrt(n) eps, so the "
        "sum is exactly Gaussian and z(n) can be drawn in one step.",
        slide=SLIDE_DIFF,
        check=Value(lambda: sp.Product(_normal_mgf()(sigma * u), (j, 1, n)).doit(),
                    label="product of n normal MGFs"),
        equations=("E09",),
    )

    # ---- Diffusion (time step Delta t) ----------------------------------------------------
    k = sp.Symbol("k", integer=True, positive=True)
    d.step(
        "grid-time",
        Claim(Var(z(t) - z(0)), sigma**2 * t),
        "With increments sigma eps sqrt(Delta t), k = t/Delta t steps reach time t with "
        "variance k sigma^2 Delta t = sigma^2 t: the spread depends on the elapsed time, "
        "not on the grid.",
        slide=SLIDE_DIFF,
        check=Value(lambda: sp.summation(_step_variance(sigma * sp.sqrt(dt)), (j, 1, k))
                    .subs(k, t / dt),
                    label="summation of per-step variances, k = t/Delta t"),
        equations=("E11",),
    )
    d.step(
        "refinement",
        Claim(M(u), _normal_mgf()(u * sigma * sp.sqrt(dt))),
        "Cutting one step of length Delta t into m sub-steps of length Delta t/m gives a "
        "sum of m independent increments whose generating function is that of a single "
        "step: the scheme is consistent under refinement, so its Delta t -> 0 limit exists.",
        slide=SLIDE_DIFF,
        check=Value(lambda: sp.Product(_normal_mgf()(sigma * sp.sqrt(dt / m) * u),
                                       (j, 1, m)).doit(),
                    label="product of m normal MGFs at step Delta t/m"),
    )

    # ---- The Diffusion SDE ----------------------------------------------------------------
    def adjacent_variance() -> sp.Expr:
        # The two increments are independent and centred, so the variance of their sum is
        # E[(a e1 + b e2)^2] with moments E[e1^i e2^j] = E[e^i] E[e^j] from sympy.stats.
        e1, e2 = sp.symbols("epsilon_1 epsilon_2", real=True)
        total = sp.expand((sigma * sp.sqrt(dt1) * e1 + sigma * sp.sqrt(dt2) * e2) ** 2)
        poly = sp.Poly(total, e1, e2)
        return sp.Add(*[coeff * _normal_moment(i) * _normal_moment(j)
                        for (i, j), coeff in poly.terms()])

    d.step(
        "adjacent-variances-add",
        Claim(Var(z(t + dt1 + dt2) - z(t)), sigma**2 * (dt1 + dt2)),
        "Increments over adjacent intervals of lengths Delta t_1 and Delta t_2 are "
        "independent (their cross moment factorises, moments from sympy.stats), so the "
        "variance over the union is "
        "sigma^2 (Delta t_1 + Delta t_2), the one-step formula for Delta t_1 + Delta t_2.",
        slide=SLIDE_SDE,
        check=Value(adjacent_variance, label="sympy.stats variance of two independent "
                                             "increments"),
        equations=("E12",),
    )
    d.step(
        "adjacent-laws-compose",
        Claim(M(u), _normal_mgf()(u * sigma * sp.sqrt(dt1 + dt2))),
        "The same holds for the whole law: the product of the generating functions of the "
        "two adjacent increments is that of one increment over Delta t_1 + Delta t_2, so "
        "the update holds for any t >= 0 and Delta t >= 0, not only on a grid.",
        slide=SLIDE_SDE,
        check=Value(lambda: _normal_mgf()(sigma * sp.sqrt(dt1) * u)
                    * _normal_mgf()(sigma * sp.sqrt(dt2) * u),
                    label="product of two normal MGFs"),
        equations=("E12",),
    )
    return d


# -- confirmation by simulation -------------------------------------------------------------
def _sub_seed(seed: int, *tag: int) -> int:
    """A seed for one part of the experiment, derived from ``seed`` and the part's tag."""
    return int(np.random.SeedSequence([seed, *tag]).generate_state(1)[0])


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
    exp.confirm("Var(z(t) - z(0)) = sigma^2 t at t = 1/4, 1/2, ..., 2 (dt = 1/100, "
                "sigma = 3/2)",
                variance_test(incr, var_at(times, increment_var),
                              label="variance of z(t) - z(0)"))
    exp.confirm(f"Var z(t) = v_0 + sigma^2 t with the population's v_0 = {v0}",
                variance_test(zt, var_at(times, v0 + increment_var),
                              label="variance of z(t)"))
    exp.confirm("the same spread on the coarse grid dt = 1/2: Var(z(t) - z(0)) = sigma^2 t "
                "at t = 1/2, 1, 3/2, 2",
                variance_test(incr_coarse, var_at(times_coarse, increment_var),
                              label="variance of z(t) - z(0), dt = 1/2"))
    exp.confirm("z(2) - z(0) is N(0, 2 sigma^2): the sum of the increments is Gaussian "
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
