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

from functools import cache

import sympy as sp
from sympy import stats

from symsde.proof import Claim, Derivation, Value, Witness

__all__ = ["derivation"]

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
