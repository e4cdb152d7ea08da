r"""Gradient flow, its Euler step, and SGD in the small-learning-rate limit.

Slides *Gradient Flow*, *Time as the Sum of the Learning Rates* and *Gradient Flow and
SGD* (and the restatement of gradient flow on *The Langevin SDE*). Gradient flow is the
ODE

.. math:: \frac{d\Phi}{dt} = -g(\Phi), \qquad
          g(\Phi) = \nabla_\Phi\, E_{(x,y)\sim\mathrm{Train}}\,\mathcal{L}(\Phi, x, y).

Its Euler step is :math:`\Delta\Phi = -g(\Phi)\Delta t`. By the fundamental theorem of
calculus and :math:`\Phi'(s) = -g(\Phi(s))` at every time of the step, the exact increment
is the update plus :math:`-\int_t^{t+\Delta t} (g(\Phi(s)) - g(\Phi(t)))\,ds`; for a
Lipschitz, bounded :math:`g` the integrand is at most proportional to :math:`s - t`, whose
integral is :math:`\Delta t^2/2`, so the error per step is :math:`O(\Delta t^2)`.
Reading :math:`\Delta t` as the learning rate :math:`\eta`, :math:`N` updates take time
:math:`N\eta`, and for a quadratic loss the iterate
:math:`c + (\Phi_{\mathrm{init}} - c)(1 - a\eta)^N` (shown to satisfy the update) tends to
the flow :math:`c + (\Phi_{\mathrm{init}} - c)e^{-at}` when :math:`N = t/\eta`,
:math:`\eta \to 0`.

For SGD, :math:`\Phi_{i+1} = \Phi_i - \eta\hat g_i`, the notes split the :math:`N` steps
into :math:`\sqrt N` blocks of :math:`m = \sqrt N` steps. With the gradient frozen over a
block and two examples of gradients :math:`g \pm s`, the block's endpoint is an explicit
function of the binomial number of :math:`g + s` draws; its mean is
:math:`\Phi_0 - \eta\sqrt N g` and its standard deviation :math:`\eta N^{1/4} s` (sums
over the binomial law), so noise/drift :math:`= N^{-1/4} s/g \to 0`, while a block lasts
:math:`\eta\sqrt N = \sqrt{\eta t}` in time. For a quadratic loss with additive gradient
noise the variance of the iterates (a geometric sum of damped independent kicks, shown
to satisfy SGD's variance recursion) is :math:`O(\eta)` at :math:`N = t/\eta`:
:math:`\Phi_N \to \Phi(t)` in mean square.

Erratum: the last block is written :math:`(\Phi_{T-\sqrt N+1}, \dots, \Phi_N)`; a block
of :math:`\sqrt N` indices ending at :math:`N` starts at :math:`N - \sqrt N + 1`.
"""

from __future__ import annotations

import time
from functools import cache

import numpy as np
import sympy as sp

from derivations._catalogue import CATALOGUE
from symsde import SDE, simulate_sgd
from symsde.experiment import Experiment
from symsde.linear import sub_seed
from symsde.proof import (
    AddBoth,
    Claim,
    Computed,
    Derivation,
    FollowsFrom,
    GivenThroughout,
    SolvesODE,
    Witness,
    confining_polynomial,
    polynomial,
)
from symsde.stattests import mean_test, slope_test

__all__ = ["confirm", "derivation"]

SLIDE_GF = "Gradient Flow"
SLIDE_TIME = "Time as the Sum of the Learning Rates"
SLIDE_SGD = "Gradient Flow and SGD"
SLIDE_LANGEVIN = "The Langevin SDE"


# -- stated computations for computed steps --------------------------------------------------
def _generic_branch(expr: sp.Expr) -> sp.Expr:
    """Drop the special cases ``Eq(...)`` of SymPy's piecewise sums (a geometric ratio of 1).

    Only branches whose condition is an equality are dropped, and only when the last branch
    is unconditional; anything else is refused, so a genuine case split cannot be hidden.
    """

    def pick(pw: sp.Piecewise) -> sp.Expr:
        *special, (default, cond) = pw.args
        if cond is not sp.true or not all(isinstance(c, sp.Equality) for _, c in special):
            raise ValueError(f"not a sum with special cases only: {pw}")
        return default

    return expr.replace(lambda e: isinstance(e, sp.Piecewise), pick)


def _geometric(lhs: sp.Expr) -> sp.Expr:
    """``doit`` on a geometric sum, for a ratio that is not 1 (hypothesis 0 < a eta < 1)."""
    return _generic_branch(lhs.doit())


@cache
def derivation() -> Derivation:
    """Build the gradient-flow derivation (cached)."""
    t, dt = sp.symbols("t Delta_t", positive=True)
    phi = sp.Symbol("Phi", real=True)
    s, u, v, w, eps = sp.symbols("s u v w epsilon", real=True)
    g, Phi, ell, L = (sp.Function(n) for n in ("g", "Phi", "ell", "L"))
    xs = sp.symbols("x1:4", real=True)
    ys = sp.symbols("y1:4", real=True)

    def cubic_gradient(rng, _inst):
        kappa = sp.Rational(rng.randint(15, 60), 60)
        return sp.Lambda(u, kappa * u**3)

    def cubic_flow(rng, inst):
        # Phi' = -kappa Phi^3 is solved by Phi_0 / sqrt(1 + 2 kappa Phi_0^2 t).
        kappa = inst[g](1)
        p0 = sp.Rational(rng.randint(-90, 90) or 45, 60)
        return sp.Lambda(t, p0 / sp.sqrt(1 + 2 * kappa * p0**2 * t))

    # Generic instances: any smooth Phi(t) (a random quintic) where nothing is assumed of
    # Phi; the flow of a random cubic gradient where Phi is assumed to solve dPhi/dt = -g.
    generic = Witness(functions={
        Phi: polynomial(t, 5),
        ell: sp.Lambda((u, v, w), (u * v - w) ** 2 / 2 + u**4 / 4),
        L: confining_polynomial(phi, 4),
    })
    on_a_flow = Witness(functions={g: cubic_gradient, Phi: cubic_flow})
    d = Derivation(
        "gradient_flow",
        "Gradient flow, its Euler step, and SGD as eta -> 0",
        witness=generic,
        summary="Gradient flow dPhi/dt = -g(Phi); Delta Phi = -g Delta t is its Euler step "
                "with an O(Delta t^2) remainder; with N = t/eta, SGD's blocks of sqrt(N) steps "
                "become deterministic and its variance vanishes.",
        # The notes' Phi is the parameter (the point where g and L are evaluated): the
        # displays compared with steps here (E03, E06, E07, E14) use it so; Delta Phi is
        # the update, defined in step euler-update.
        symbols={r"\Phi": phi, "g": g, r"\mathcal{L}": L, "t": t, r"\Delta t": dt,
                 r"\Delta\Phi": sp.Function("Delta_Phi")(phi)},
        catalogue=CATALOGUE,
    )

    # ---- Gradient Flow ----------------------------------------------------------------
    n_train = len(xs)
    Ltrain = sp.Function("L_Train")
    d.define("training-loss", Ltrain(phi),
             sp.Add(*[ell(phi, x, y) for x, y in zip(xs, ys, strict=True)]) / n_train,
             "The training loss E_{(x,y) ~ Train} ell(Phi, x, y), the average of the "
             "per-example losses (written out for a three-example training set).",
             slide=SLIDE_GF)
    d.step(
        "total-gradient",
        Claim(sp.Derivative(Ltrain(phi), phi),
              sp.Add(*[sp.Derivative(ell(phi, x, y), phi)
                       for x, y in zip(xs, ys, strict=True)]) / n_train),
        "The total gradient g of gradient flow is the gradient of the training average; "
        "differentiation is linear, so it is the average of the per-example gradients.",
        slide=SLIDE_GF, check=Computed(),
    )
    d.note("E01", SLIDE_GF,
           "defines gradient flow: Phi(t) is the solution of dPhi/dt = -g(Phi) from Phi_init, "
           "with g the gradient of the training loss; steps training-loss and total-gradient "
           "compute that g, flow-solution solves the ODE for a quadratic loss, and "
           "flow-increment uses it at every time of a step")
    d.note("E02", SLIDE_GF,
           "restates the gradient-flow ODE that defines Phi(t) (E01), before the slide's claim "
           "that Delta Phi = -g(Phi) Delta t approximates it (E03, step euler-error)")

    a = sp.Symbol("a", positive=True)
    c, phi_init = sp.symbols("c Phi_init", real=True)
    flow_solution = c + (phi_init - c) * sp.exp(-a * t)
    d.step(
        "flow-solution",
        Claim(Phi(t), flow_solution),
        "For the quadratic loss a (Phi - c)^2 / 2 (gradient a (Phi - c)) the solution of "
        "dPhi/dt = -g(Phi) with Phi(0) = Phi_init relaxes exponentially to the minimiser c.",
        slide=SLIDE_GF,
        check=SolvesODE(sp.Eq(sp.Derivative(Phi(t), t), -a * (Phi(t) - c)),
                        ics={Phi(0): phi_init}),
    )

    d.step(
        "fundamental-theorem",
        Claim(sp.Integral(sp.Derivative(Phi(s), s), (s, t, t + dt)), Phi(t + dt) - Phi(t)),
        "Over a step Delta t any differentiable path moves by the integral of its velocity "
        "(the fundamental theorem of calculus).",
        slide=SLIDE_GF, check=Computed(),
    )
    d.step(
        "flow-increment",
        Claim(sp.Integral(-g(Phi(s)), (s, t, t + dt)), Phi(t + dt) - Phi(t)),
        "Along gradient flow the velocity at every time s of the step is -g(Phi(s)).",
        slide=SLIDE_GF,
        check=FollowsFrom(GivenThroughout(sp.Derivative(Phi(s), s), -g(Phi(s)),
                                          "Phi is the gradient flow: dPhi/ds = -g(Phi(s)) at "
                                          "every time s")),
        witness=on_a_flow,
    )
    update = sp.Function("Delta_Phi")
    d.define("euler-update", update(phi), -g(phi) * dt,
             "The update Delta Phi of the notes: over a time step Delta t, move by the ODE's "
             "velocity -g at the current point times Delta t (the Euler step of the flow).",
             slide=SLIDE_GF, equations=("E03",))
    d.step(
        "euler-error",
        Claim(-sp.Integral(g(Phi(s)) - g(Phi(t)), (s, t, t + dt)),
              Phi(t + dt) - Phi(t) - update(Phi(t))),
        "So the exact increment Phi(t + Delta t) - Phi(t) is the update "
        "Delta Phi = -g(Phi) Delta t plus the error -int (g(Phi(s)) - g(Phi(t))) ds, which "
        "vanishes when g does not change along the step: the update approximates the flow "
        "with an error of order Delta t^2 (step error-weight).",
        slide=SLIDE_GF,
        check=FollowsFrom(AddBoth(g(Phi(t)) * dt), source="flow-increment"),
        witness=on_a_flow,
    )
    d.step(
        "error-weight",
        Claim(sp.Integral(s - t, (s, t, t + dt)), dt**2 / 2),
        "If g is Lipschitz with constant ell and |g| <= G near Phi(t), then "
        "|g(Phi(s)) - g(Phi(t))| <= ell |Phi(s) - Phi(t)| <= ell G (s - t), and these "
        "weights integrate to Delta t^2 / 2: the update's error per step is at most "
        "ell G Delta t^2 / 2 = O(Delta t^2), so it is a good approximation for small "
        "Delta t.",
        slide=SLIDE_GF, check=Computed(),
        hypotheses=("g is Lipschitz and bounded near Phi(t) (e.g. L twice continuously "
                    "differentiable)",),
    )

    # ---- Time as the Sum of the Learning Rates ------------------------------------------
    eta = sp.Symbol("eta", positive=True)
    N = sp.Symbol("N", positive=True, integer=True)
    i = sp.Symbol("i", integer=True, positive=True)
    d.step(
        "time-sum-of-rates",
        Claim(sp.Sum(eta, (i, 1, N)), N * eta),
        "Reading Delta t as the learning rate, each update advances the clock by eta: N "
        "updates reach time N eta, which is t when N = t/eta.",
        slide=SLIDE_TIME, check=Computed(),
    )
    k = sp.Symbol("k", integer=True, nonnegative=True)
    y = sp.Function("y")
    d.define("gd-iterate", y(k), c + (phi_init - c) * (1 - a * eta) ** k,
             "The candidate closed form of the iterates of Delta Phi = -g Delta t with "
             "Delta t = eta on the quadratic loss a (Phi - c)^2 / 2; at k = 0 it is Phi_init.",
             slide=SLIDE_TIME)
    d.step(
        "gd-recurrence",
        Claim(y(k + 1), y(k) - eta * sp.Subs(sp.Derivative(a * (w - c) ** 2 / 2, w), w, y(k))),
        "Each step moves it by -eta times the gradient of the loss at the current iterate: "
        "it is the sequence of updates Delta Phi = -g Delta t with Delta t = eta.",
        slide=SLIDE_TIME, check=Computed(),
    )
    d.note("E04", SLIDE_TIME,
           "'Consider the update': the gradient-descent update rule, which defines the "
           "iterates; with Delta t = eta their closed form is checked by gd-recurrence and "
           "its limit at N = t/eta by gd-converges-to-flow")
    # The limit witness evaluates (1 - a eta)^(t/eta) at eta = 1e-10 ... 1e-40; rounding
    # 1 - a eta to the working precision costs about t 1e-30 (relative) at eta = 1e-40,
    # while the true error at eta = 1e-30 is about a^2 t 1e-30 / 2: a >= 2 keeps the errors
    # shrinking, as the witness requires.
    flow_limit = Witness(ranges={a: (2, 4)})
    d.step(
        "gd-converges-to-flow",
        Claim(sp.Limit(y(t / eta), eta, 0, "+"), flow_solution),
        "After N = t/eta updates, (1 - a eta)^(t/eta) tends to exp(-a t) as eta -> 0: the "
        "iterate at time t = sum of the learning rates converges to the gradient flow.",
        slide=SLIDE_TIME, check=Computed(), witness=flow_limit,
    )

    # ---- Gradient Flow and SGD ----------------------------------------------------------
    # The notes cut Phi_1, ..., Phi_N into sqrt(N) blocks of sqrt(N) iterates; m = sqrt(N)
    # is the block length (N = m^2, a perfect square, for the blocks to exist).
    m = sp.Symbol("m", positive=True, integer=True)
    j = sp.Symbol("j", integer=True, positive=True)
    T = sp.Symbol("T", positive=True)
    first = sp.Function("first")
    square = Witness(values={N: lambda rng, _inst: sp.Integer(rng.randint(2, 12) ** 2)})
    d.define("block-start", first(k), 1 + sp.Sum(sp.sqrt(N), (j, 1, k - 1)),
             "Block k starts after k - 1 full blocks of sqrt(N) indices.", slide=SLIDE_SGD)
    d.step(
        "blocks-cover",
        Claim(sp.Sum(sp.sqrt(N), (j, 1, sp.sqrt(N))), N),
        "sqrt(N) blocks of sqrt(N) consecutive indices hold exactly the N iterates.",
        slide=SLIDE_SGD, check=Computed(), witness=square,
    )
    d.step(
        "last-block-start",
        Claim(first(sp.sqrt(N)), T - sp.sqrt(N) + 1),
        "The last block, number sqrt(N), starts after sqrt(N) - 1 full blocks.",
        slide=SLIDE_SGD, check=Computed(), witness=square,
        corrected=Claim(first(sp.sqrt(N)), N - sp.sqrt(N) + 1),
        erratum="The notes start the last block at T - sqrt(N) + 1, with an index T that is "
                "never defined (read as the time t = eta N it is wrong unless eta = 1). The "
                "last block ends at N, so it starts at N - sqrt(N) + 1.",
        equations=("E06",),
        reading=("The display lists the blocks and is not an equation; its last block "
                 "(Phi_(T - sqrt(N) + 1), ..., Phi_N) is read as the notes' claim that block "
                 "sqrt(N) starts at index T - sqrt(N) + 1, which this step refutes as an "
                 "erratum (it starts at N - sqrt(N) + 1)."),
    )

    # One block of m SGD steps Phi_{i+1} = Phi_i - eta g_hat_i with the gradient frozen at
    # g over the short block (the notes' "average (non-stochastic) gradient") and the
    # simplest zero-mean gradient noise: a two-example training set whose per-example
    # gradients are g + s and g - s, one drawn uniformly and independently per step. If K of
    # the m steps draw g + s, the block ends at end(K), and K is Binomial(m, 1/2).
    gb, sn = sp.symbols("g s", positive=True)
    phi0 = sp.Symbol("Phi_0", real=True)
    K = sp.Symbol("K", integer=True, nonnegative=True)
    end = sp.Function("Phi_end")
    prob = sp.Function("P_K")
    d.define("block-endpoint", end(K), phi0 - eta * (K * (gb + sn) + (m - K) * (gb - sn)),
             "The block's last iterate Phi_sqrt(N) when K of its m = sqrt(N) SGD steps "
             "Phi_(i+1) = Phi_i - eta g_hat_i drew the example with gradient g + s.",
             slide=SLIDE_SGD)
    d.note("E05", SLIDE_SGD,
           "the SGD update rule Phi_(i+1) = Phi_i - eta g_hat_i defines the iterates; "
           "block-endpoint applies it m = sqrt(N) times with the gradient frozen at g over "
           "a block and g_hat = g +- s")
    d.define("block-law", prob(K), sp.binomial(m, K) / 2**m,
             "The probability that K of the m independent uniform draws pick g + s.",
             slide=SLIDE_SGD)
    blocks = Witness(values={m: lambda rng, _inst: sp.Integer(rng.randint(2, 12))})
    block_sums = Computed(how=lambda e: _block_sums(e, m),
                          label="summation for blocks of m >= 2 steps")
    d.step(
        "block-mean",
        Claim(sp.Sum(prob(K) * end(K), (K, 0, m)), phi0 - eta * m * gb),
        "On average a block moves Phi_0 by -eta sqrt(N) g, m = sqrt(N) steps of the average "
        "gradient.",
        slide=SLIDE_SGD, check=block_sums,
        witness=blocks,
        reading=("'~' is read as: the block endpoint's mean is Phi_0 - eta sqrt(N) g and its "
                 "spread relative to the drift vanishes as N grows (step noise-to-drift), for a "
                 "two-example training set with per-example gradients g +- s."),
        equations=("E07",),
        hypotheses=("the examples are drawn independently and uniformly",),
    )
    d.step(
        "block-variance",
        Claim(sp.Sum(prob(K) * (end(K) - (phi0 - eta * m * gb)) ** 2, (K, 0, m)),
              eta**2 * m * sn**2),
        "Its variance is eta^2 sqrt(N) s^2, so its standard deviation is eta N^(1/4) s.",
        slide=SLIDE_SGD,
        check=block_sums,
        witness=blocks,
        hypotheses=("blocks have m = sqrt(N) >= 2 steps (SymPy's binomial sum has a "
                    "separate case m = 1)",),
    )
    d.step(
        "noise-to-drift",
        Claim(sp.sqrt(sp.Sum(prob(K) * (end(K) - (phi0 - eta * m * gb)) ** 2, (K, 0, m)))
              / (phi0 - sp.Sum(prob(K) * end(K), (K, 0, m))),
              sn / (gb * sp.sqrt(m))),
        "Noise over drift in a block is s / (g sqrt(m)) = s / (g N^(1/4)), which tends to 0 "
        "as N grows: within a block the gradient steps become non-stochastic.",
        slide=SLIDE_SGD,
        check=block_sums,
        witness=blocks,
    )
    d.step(
        "block-duration",
        Claim(sp.Sum(eta, (j, 1, sp.sqrt(N))), eta * sp.sqrt(N)),
        "A block of sqrt(N) steps lasts eta sqrt(N) in time, which is sqrt(eta t) -> 0 when "
        "N = t/eta and eta -> 0: each block is an ever shorter stretch of the flow while "
        "the number of blocks sqrt(N) grows.",
        slide=SLIDE_SGD, check=Computed(), witness=square,
    )

    # SGD on the quadratic loss with additive gradient noise of size s: Phi_k - E Phi_k is
    # -eta s sum_j (1 - a eta)^(k-1-j) b_j with independent signs b_j, so its variance is
    # v(k) below; the recursion shows that v is the variance of the SGD iterates.
    var = sp.Function("v")
    jj = sp.Symbol("j", integer=True, nonnegative=True)
    d.define("sgd-variance", var(k), eta**2 * sn**2 * sp.Sum((1 - a * eta) ** (2 * jj),
                                                              (jj, 0, k - 1)),
             "The variance of the k-th SGD iterate on the quadratic loss with gradient "
             "noise +-s: the k independent kicks eta s, each damped by (1 - a eta) per later "
             "step, add their variances.", slide=SLIDE_SGD)
    contraction = Witness(ranges={a: (sp.Rational(1, 10), 2), eta: (sp.Rational(1, 100),
                                                                     sp.Rational(1, 2))})
    d.step(
        "sgd-variance-recursion",
        Claim(var(k + 1) - (1 - a * eta) ** 2 * var(k), eta**2 * sn**2),
        "It obeys the variance recursion of SGD, Var Phi_(k+1) = (1 - a eta)^2 Var Phi_k + "
        "eta^2 s^2 (the new draw is independent of the iterate), from v(0) = 0.",
        slide=SLIDE_SGD,
        check=Computed(how=_geometric, label="geometric sums (ratio (1 - a eta)^2 != 1)"),
        witness=contraction,
        hypotheses=("0 < a eta < 1: the learning rate is small enough for gradient descent "
                    "on the quadratic to contract",),
    )
    vclosed = eta * sn**2 * (1 - (1 - a * eta) ** (2 * k)) / (a * (2 - a * eta))
    d.step(
        "sgd-variance-closed",
        Claim(var(k), vclosed),
        "Summing the geometric series.",
        slide=SLIDE_SGD,
        check=Computed(how=_geometric, label="geometric sum (ratio (1 - a eta)^2 != 1)"),
        witness=contraction,
        hypotheses=("0 < a eta < 1",),
    )
    d.step(
        "sgd-variance-vanishes",
        Claim(sp.Limit(vclosed.subs(k, t / eta) / eta, eta, 0, "+"),
              sn**2 * (1 - sp.exp(-2 * a * t)) / (2 * a)),
        "At N = t/eta steps the variance is eta times a finite limit, so it vanishes as "
        "eta -> 0: Phi_N converges to the gradient-flow Phi(t) in mean square.",
        slide=SLIDE_SGD, check=Computed(), witness=flow_limit,
    )

    # ---- The Langevin SDE (restating gradient flow) -------------------------------------
    nd = sp.Function("phi_N")
    d.define("gradient", g(phi), sp.Derivative(L(phi), phi),
             "On the Langevin slide g is the gradient of the population loss L.",
             slide=SLIDE_LANGEVIN, equations=("E14",))
    d.note("E13", SLIDE_LANGEVIN,
           "'Consider gradient flow': restates the ODE dPhi(t)/dt = -g(Phi) that defines "
           "gradient flow (E01), to which the Langevin SDE adds noise")
    d.note("E15", SLIDE_LANGEVIN,
           "defines the population loss as an expectation over the population: a "
           "definition, not a claim")
    d.define("normal-density", nd(eps), sp.exp(-eps**2 / 2) / sp.sqrt(2 * sp.pi),
             "The standard normal density of epsilon.", slide=SLIDE_LANGEVIN)
    sigma = sp.Symbol("sigma", positive=True)
    sde = SDE.langevin(L(phi), [phi], sigma)
    increment = -g(phi) * dt + sigma * eps * sp.sqrt(dt)
    d.step(
        "langevin-mean-increment",
        Claim(-g(phi) * dt + sigma * sp.sqrt(dt) * sp.Integral(eps * nd(eps),
                                                              (eps, -sp.oo, sp.oo)),
              sde.drift[0] * dt),
        "Averaged over the noise epsilon (the expectation is linear, and only epsilon is "
        "random), the notes' Langevin update Phi - g Delta t + sigma epsilon sqrt(Delta t) "
        "moves by -g Delta t, gradient flow's step; this is drift * Delta t of the SDE that "
        "symsde builds with SDE.langevin(L).",
        slide=SLIDE_LANGEVIN, check=Computed(),
    )
    d.step(
        "langevin-increment-variance",
        Claim(sp.Integral((increment - sde.drift[0] * dt) ** 2 * nd(eps),
                          (eps, -sp.oo, sp.oo)),
              sde.diffusion_matrix[0, 0] * dt),
        "Its variance is sigma^2 Delta t, the SDE's diffusion D = sigma^2 times Delta t: "
        "SDE.langevin encodes the notes' update, and with sigma = 0 it is gradient flow.",
        slide=SLIDE_LANGEVIN, check=Computed(),
    )
    return d


@cache
def _block_sum(total: sp.Sum, m: sp.Symbol) -> sp.Expr:
    """One binomial sum over a block of ``m >= 2`` steps, in closed form (each distinct sum
    is computed once: the noise-to-drift ratio is made of the mean's and variance's)."""
    return sp.refine(total.doit(), sp.Q.gt(m, 1))


def _block_sums(e: sp.Expr, m: sp.Symbol) -> sp.Expr:
    """``e`` with every sum over a block carried out (SymPy's binomial sums have a separate
    case ``m = 1``, excluded by ``m >= 2``)."""
    return e.replace(lambda t: isinstance(t, sp.Sum), lambda t: _block_sum(t, m))


# -- confirmation by simulation -------------------------------------------------------------
#: The experiment's training set: (x_i, y_i) pairs for the regression loss (theta x - y)^2/2.
_DATA = ((sp.Rational(1, 2), sp.Rational(1, 10)), (sp.Integer(1), sp.Rational(7, 10)),
         (sp.Rational(3, 2), sp.Rational(3, 5)), (sp.Integer(2), sp.Rational(11, 10)),
         (sp.Integer(1), sp.Rational(2, 5)), (sp.Rational(1, 2), sp.Rational(1, 2)))


def _sub_seed(seed: int, *tag: int) -> int:
    """A seed for one run of the experiment, derived from ``seed`` and the run's tag."""
    return sub_seed(seed, *tag)


def _sgd_moments(slopes: list[sp.Expr], offsets: list[sp.Expr], eta: sp.Expr,
                 theta0: sp.Expr, k: int) -> tuple[sp.Expr, sp.Expr]:
    """Exact E[theta_k] and E[theta_k^2] of SGD with per-example gradients s_i theta - o_i.

    One example drawn uniformly (with replacement) per step: theta' = (1 - eta s_i) theta
    + eta o_i with i independent of theta, so the first two moments obey a closed linear
    recurrence, iterated here in exact rational arithmetic.
    """
    n = len(slopes)
    m, q = sp.sympify(theta0), sp.sympify(theta0) ** 2
    for _ in range(k):
        m, q = (sp.Add(*[(1 - eta * s) * m + eta * o for s, o in zip(slopes, offsets,
                                                                      strict=True)]) / n,
                sp.Add(*[(1 - eta * s) ** 2 * q + 2 * (1 - eta * s) * eta * o * m
                         + eta**2 * o**2 for s, o in zip(slopes, offsets, strict=True)]) / n)
    return m, q


def confirm(seed: int = 0) -> Experiment:
    r"""Run real SGD on a finite data set: it approaches the gradient flow as eta -> 0.

    Parameters
    ----------
    seed : int
        Seed of the SGD runs; the outcome is a deterministic function of it.

    Returns
    -------
    Experiment

    Notes
    -----
    Model: least squares on the six examples ``_DATA``, per-example loss
    :math:`\ell(\theta; x, y) = (\theta x - y)^2/2`, one example drawn with replacement
    per step (``simulate_sgd``), all runs from :math:`\theta_0 = 3`. The training loss is
    the average of :math:`\ell`; its gradient flow is solved by ``dsolve`` (and checked to
    be the derivation's :math:`c + (\Phi_\text{init} - c)e^{-at}`, here
    :math:`a = 35/24`, :math:`c = 18/35`). The per-example gradients
    :math:`x_i^2\theta - x_iy_i` have different slopes, so the gradient noise depends on
    :math:`\theta` (it is not the additive noise of the derivation's last step).

    Runs: :math:`\eta = 1/10, 1/20, 1/40, 1/80` with :math:`N = t/\eta` steps to
    :math:`t = 1`, 100 000 independent runs each; the final iterates are the samples.

    Which error: SGD's iterate :math:`\Phi_N` is random, and the notes' claim is that it
    converges to :math:`\Phi(t)`; the natural measure is the mean-square error
    :math:`E|\Phi_N - \Phi(t)|^2 = \operatorname{Var}\Phi_N + (E\Phi_N - \Phi(t))^2`.
    The gradient is affine in :math:`\theta`, so :math:`E\Phi_N` is the gradient-descent
    (Euler) iterate, whose global error is :math:`O(\eta)`, while the variance is
    :math:`O(\eta)` (:math:`\eta^2` per step, :math:`t/\eta` steps, damped): the
    mean-square error is :math:`O(\eta)`, slope 1 in :math:`\eta`, dominated by the noise,
    and the bias alone also has slope 1. The root-mean-square error is only
    :math:`O(\sqrt\eta)`: SGD converges to the flow at half the order of gradient descent.

    Exact discrete predictions: the first two moments of SGD obey a closed linear
    recurrence (``_sgd_moments``, exact rationals), so :math:`E\Phi_N` (checked to equal
    the derivation's Euler iterate :math:`c + (\Phi_\text{init} - c)(1 - a\eta)^N`) and the
    mean-square error are known exactly; there is no approximation to account for.

    Tests (5 standard errors, false alarm :math:`5.7\times10^{-7}` each): per
    :math:`\eta`, the mean of :math:`\Phi_N` and the mean of
    :math:`(\Phi_N - \Phi(t))^2` against their exact values (8 tests); the log-log slopes
    of the measured mean-square error and of the measured bias
    :math:`|\overline{\Phi_N} - \Phi(t)|` against :math:`\eta`, with their Monte Carlo
    standard errors, must be 1 within 0.2 plus 5 standard errors of the slope (the exact
    slopes over this range are 1.10 and 1.02; recorded in ``data``). Power: slope 2 for
    the mean-square error (as if SGD converged like gradient descent, the error squared
    :math:`O(\eta^2)`) and, at :math:`\eta = 1/80`, the mean-square error of noiseless
    gradient descent, the squared bias alone, must be rejected.
    """
    t0 = time.perf_counter()
    theta, x, y = sp.symbols("theta x y", real=True)
    t = sp.Symbol("t", positive=True)
    Phi = sp.Function("Phi")
    ell = (theta * x - y) ** 2 / 2
    total = sp.Add(*[ell.subs({x: xi, y: yi}) for xi, yi in _DATA]) / len(_DATA)
    theta0, T = sp.Integer(3), sp.Integer(1)
    flow = sp.dsolve(sp.Eq(Phi(t).diff(t), -sp.diff(total, theta).subs(theta, Phi(t))),
                     Phi(t), ics={Phi(0): theta0}).rhs
    a = sp.diff(total, theta, 2)
    (c,) = sp.solve(sp.diff(total, theta), theta)
    if sp.simplify(flow - (c + (theta0 - c) * sp.exp(-a * t))) != 0:
        raise ArithmeticError(f"dsolve gave {flow}, not c + (Phi_init - c) exp(-a t)")
    grads = [sp.Poly(sp.diff(ell, theta).subs({x: xi, y: yi}), theta) for xi, yi in _DATA]
    slopes = [g.coeff_monomial(theta) for g in grads]
    offsets = [-g.coeff_monomial(1) for g in grads]
    phi_T = flow.subs(t, T)

    data = np.array([[float(xi), float(yi)] for xi, yi in _DATA])
    etas = [sp.Rational(1, 10), sp.Rational(1, 20), sp.Rational(1, 40), sp.Rational(1, 80)]
    figure = {etas[0], etas[-1]}
    n_paths = 100_000
    exp = Experiment("gradient_flow", "SGD on a finite data set approaches gradient flow "
                     "as eta -> 0", seed)
    mse, mse_se, bias, bias_se, mse_exact, bias_exact, paths = [], [], [], [], [], [], {}
    for i, eta in enumerate(etas):
        k = int(T / eta)
        m, q = _sgd_moments(slopes, offsets, eta, theta0, k)
        if sp.simplify(m - (c + (theta0 - c) * (1 - a * eta) ** k)) != 0:
            raise ArithmeticError("SGD's exact mean is not the gradient-descent iterate")
        exact_mse = q - 2 * m * phi_T + phi_T**2
        res = simulate_sgd(ell, [theta], [x, y], data, learning_rate=float(eta), n_steps=k,
                           n_paths=n_paths, seed=_sub_seed(seed, i), x0=float(theta0),
                           record_every=1 if eta in figure else None,
                           keep_paths=5 if eta in figure else 0)
        th = res.final[:, 0]
        r_mean = exp.predict(f"eta = {eta}: the mean of Phi_N (N = {k}) is the "
                             "gradient-descent iterate c + (Phi_init - c)(1 - a eta)^N",
                             mean_test(th, m, label=f"mean (eta = {eta})"))
        r_mse = exp.predict(f"eta = {eta}: E|Phi_N - Phi(t)|^2 is SGD's exact "
                            f"{float(exact_mse):.6g}",
                            mean_test((th - float(phi_T)) ** 2, exact_mse,
                                      label=f"mean-square error (eta = {eta})"))
        mse.append(float(r_mse.details["estimate"][0]))
        mse_se.append(float(r_mse.details["standard_error"][0]))
        bias.append(abs(float(r_mean.details["estimate"][0]) - float(phi_T)))
        bias_se.append(float(r_mean.details["standard_error"][0]))
        mse_exact.append(float(exact_mse))
        bias_exact.append(float(abs(m - phi_T)))
        if eta in figure and res.moments is not None and res.paths is not None:
            paths[float(eta)] = {"times": res.times, "paths": res.paths[:, :, 0],
                                 "mean": res.moments.mean[:, 0],
                                 "sd": np.sqrt(res.moments.cov[:, 0, 0])}
    eta_f = np.array([float(e) for e in etas])
    exp.predict("the mean-square error E|Phi_N - Phi(t)|^2 vanishes like eta (slope 1)",
                slope_test(eta_f, mse, 1.0, errors_se=mse_se,
                           label="mean-square error vs eta"))
    exp.predict("the bias |E Phi_N - Phi(t)| vanishes like eta (Euler's global error)",
                slope_test(eta_f, bias, 1.0, errors_se=bias_se, label="bias vs eta"))
    exp.reject("the mean-square error vanishes like eta^2, as gradient descent's squared "
               "error does",
               slope_test(eta_f, mse, 2.0, errors_se=mse_se, label="mean-square error vs eta"))
    th_small = res.final[:, 0]
    exp.reject(f"eta = {etas[-1]}: the noise does not matter, E|Phi_N - Phi(t)|^2 is the "
               "squared gradient-descent error",
               mean_test((th_small - float(phi_T)) ** 2, bias_exact[-1] ** 2,
                         label="mean-square error vs squared GD error"))

    grid = np.linspace(0.0, float(T), 201)
    flow_f = sp.lambdify(t, flow, modules="numpy")
    exp.data = {
        "eta": eta_f, "T": float(T), "theta0": float(theta0),
        "data": data, "a": float(a), "c": float(c), "flow_T": float(phi_T),
        "mse": np.array(mse), "mse_se": np.array(mse_se), "mse_exact": np.array(mse_exact),
        "bias": np.array(bias), "bias_se": np.array(bias_se),
        "bias_exact": np.array(bias_exact),
        "exact_slopes": {"mse": float(np.polyfit(np.log(eta_f), np.log(mse_exact), 1)[0]),
                         "bias": float(np.polyfit(np.log(eta_f), np.log(bias_exact), 1)[0])},
        "grid": grid, "flow": np.asarray(flow_f(grid), dtype=float),
        "runs": paths,
    }
    exp.seconds = time.perf_counter() - t0
    return exp
