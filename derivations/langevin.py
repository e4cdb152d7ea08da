"""The Langevin SDE and its stationary distribution.

Slides *The Langevin SDE* and *The Langevin Stationary Distribution*: the Langevin SDE
adds isotropic noise to gradient flow,

.. math:: \\Phi(t + \\Delta t) = \\Phi(t) - g(\\Phi)\\Delta t + \\sigma\\epsilon\\sqrt{\\Delta t},

a density :math:`p` is carried by two flows (gradient flow :math:`-p g` and diffusion flow
:math:`-\\tfrac12\\sigma^2\\nabla p`), and where they cancel the density is
:math:`p = e^{-2\\mathcal{L}/\\sigma^2}/Z`. The steps below derive that density twice:
by the notes' chain (divide by :math:`p`, integrate, exponentiate) and by ``dsolve``.
"""

from __future__ import annotations

import time
from functools import cache

import numpy as np
import sympy as sp

from derivations._catalogue import CATALOGUE
from symsde import SDE, simulate, stationary_density
from symsde.experiment import Experiment
from symsde.proof import (
    ApplyBoth,
    Claim,
    Computed,
    Derivation,
    DivideBoth,
    FollowsFrom,
    Given,
    IntegrateBoth,
    LimitBoth,
    MultiplyBoth,
    Rearrange,
    Rewrite,
    SolvesODE,
    Substitute,
    Witness,
    confining_polynomial,
    polynomial,
)
from symsde.stattests import ks_test, mean_test

__all__ = ["confirm", "derivation"]

SLIDE_SDE = "The Langevin SDE"
SLIDE_STAT = "The Langevin Stationary Distribution"


@cache
def derivation() -> Derivation:
    """Build the Langevin derivation (cached)."""
    x = sp.Symbol("Phi", real=True)
    sigma, k = sp.symbols("sigma k", positive=True)
    C, c0 = sp.symbols("C c_0", real=True)
    Z = sp.Symbol("Z", positive=True)
    L, p, g, J = (sp.Function(n) for n in ("L", "p", "g", "J"))
    Fgrad, Fdiff = sp.Function("F_grad"), sp.Function("F_diff")
    dp = sp.Derivative(p(x), x)

    # Witness instances: a random confining quartic loss; p is the density the chain
    # arrives at (times a random constant k), with C and Z tied to k as the chain says.
    loss = confining_polynomial(x, 4)
    stationary_instance = Witness(
        functions={L: loss,
                   p: lambda rng, inst: sp.Lambda(x, k * sp.exp(-2 * inst[L](x) / sigma**2))},
        values={k: sp.Rational(3, 2), C: sigma**2 / 2 * sp.log(sp.Rational(3, 2)), c0: 0},
    )
    # Before stationarity is assumed, any density will do: a random Gaussian-like bump.
    any_density = Witness(functions={
        L: loss,
        p: lambda rng, inst: sp.Lambda(x, sp.exp(-polynomial(x, 2)(rng, inst)(x)**2 / 4)),
    })
    d = Derivation(
        "langevin",
        "The Langevin SDE and its stationary distribution",
        witness=stationary_instance,
        summary="Gradient flow plus isotropic noise; the zero-flux density is "
                "exp(-2L/sigma^2)/Z.",
        symbols={r"\Phi": x, r"\sigma": sigma, r"\mathcal{L}": L(x), "p": p(x), "g": g(x),
                 "Z": Z,
                 "C": C, r"\text{gradient flow}": Fgrad(x),
                 r"\text{diffusion flow}": Fdiff(x)},
        catalogue=CATALOGUE,
    )
    sde = SDE.langevin(L(x), [x], sigma)

    d.define("gradient", g(x), sp.Derivative(L(x), x),
             "The gradient of the loss.", slide=SLIDE_SDE, equations=("E14",))
    d.define("gradient-flow", Fgrad(x), -p(x) * g(x),
             "The notes name the flow of probability carried by the drift the gradient flow.",
             slide=SLIDE_SDE, equations=("E18", "E20"))
    d.define("diffusion-flow", Fdiff(x), -sigma**2 / 2 * dp,
             "... and the flow carried by the noise the diffusion flow.",
             slide=SLIDE_SDE, equations=("E19", "E21"))
    d.define("current", J(x), sde.current(p(x), evaluate=False)[0],
             "The probability current of the Langevin SDE dPhi = -g dt + sigma dB, "
             "J = mu p - (1/2) d(sigma^2 p)/dPhi, from the SDE's Fokker-Planck operator.",
             slide=SLIDE_SDE)
    d.step(
        "two-flows",
        Claim(J(x), Fgrad(x) + Fdiff(x)),
        "The current is the sum of the gradient flow and the diffusion flow.",
        slide=SLIDE_SDE, check=Computed(), witness=any_density,
    )
    for eq in ("E16", "E17"):
        d.note(eq, SLIDE_SDE, "the Langevin update rule defines the process (built here by "
                              "SDE.langevin), whose current the steps compute")
    d.step(
        "continuity",
        Claim(sde.fokker_planck(p(x)), -sp.Derivative(J(x), x)),
        "The Fokker-Planck equation is a conservation law: dp/dt = -dJ/dPhi.",
        slide=SLIDE_SDE, check=Computed(label="SDE.fokker_planck(p)"), witness=any_density,
    )
    d.step(
        "stationary",
        Claim(sp.Derivative(J(x), x), 0),
        "A stationary density does not change in time, so the current has no divergence.",
        slide=SLIDE_SDE,
        check=FollowsFrom(Given(sde.fokker_planck(p(x)), 0,
                                "p is stationary: dp/dt = 0")),
    )
    d.step(
        "current-constant",
        Claim(J(x), c0),
        "In one dimension, a current with zero derivative is a constant.",
        slide=SLIDE_SDE,
        check=FollowsFrom(IntegrateBoth(x, c0)),
    )
    d.step(
        "current-vanishes",
        Claim(c0, 0),
        "p and J vanish as Phi -> oo (p is a normalisable density), so the constant is 0.",
        slide=SLIDE_SDE,
        check=FollowsFrom(LimitBoth(x, sp.oo, {J(x): 0},
                                    "p is normalisable and J vanishes at infinity")),
        no_independent_witness="c_0 is a constant of integration: the instance gives it "
                               "the value the step derives",
    )
    d.step(
        "zero-current",
        Claim(J(x), 0),
        "So the current is zero everywhere.",
        slide=SLIDE_SDE,
        check=FollowsFrom(Substitute("current-vanishes"), source="current-constant"),
    )
    d.step(
        "zero-flux",
        Claim(sigma**2 / 2 * dp, -p(x) * g(x)),
        "With zero current the two flows cancel: the diffusion flow balances the gradient "
        "flow.",
        slide=SLIDE_SDE,
        check=FollowsFrom(Rearrange()),
        equations=("E22", "E23"),
    )
    d.step(
        "divide-by-p",
        Claim(sigma**2 / 2 * dp / p(x), -g(x)),
        "Divide both sides by p.",
        slide=SLIDE_STAT,
        check=FollowsFrom(DivideBoth(p(x), "p > 0 (hypothesis: the stationary density is "
                                           "positive everywhere)")),
        equations=("E24",),
    )
    d.step(
        "log-derivative",
        Claim(sp.Derivative(sigma**2 / 2 * sp.log(p(x)), x), sp.Derivative(-L(x), x)),
        "p'/p is the derivative of ln p, and -g is the derivative of -L.",
        slide=SLIDE_STAT,
        check=FollowsFrom(Rewrite(dp / p(x), sp.Derivative(sp.log(p(x)), x))),
        equations=("E25",),
        transcription=Claim(sp.Derivative(sigma**2 / 2 * sp.log(p(x)), x),
                            sp.Derivative(-L(x), x)),
    )
    d.step(
        "integrate",
        Claim(sigma**2 / 2 * sp.log(p(x)), -L(x) + C),
        "Integrate both sides in Phi; the constant of integration is C.",
        slide=SLIDE_STAT,
        check=FollowsFrom(IntegrateBoth(x, C)),
        equations=("E26",),
    )
    d.step(
        "solve-for-log",
        Claim(sp.log(p(x)), 2 * (C - L(x)) / sigma**2),
        "Multiply by 2/sigma^2.",
        slide=SLIDE_STAT,
        check=FollowsFrom(MultiplyBoth(2 / sigma**2)),
    )
    d.step(
        "exponentiate",
        Claim(p(x), sp.exp(2 * (C - L(x)) / sigma**2)),
        "Exponentiate both sides.",
        slide=SLIDE_STAT,
        check=FollowsFrom(ApplyBoth(sp.exp)),
    )
    d.define("normaliser", Z, sp.exp(-2 * C / sigma**2),
             "Name the constant factor: Z = exp(-2C/sigma^2).", slide=SLIDE_STAT)
    stationary = sp.exp(-2 * L(x) / sigma**2) / Z
    d.step(
        "gibbs-density",
        Claim(p(x), stationary),
        "So p = exp(-2L/sigma^2)/Z, with Z the normaliser.",
        slide=SLIDE_STAT,
        check=FollowsFrom(Rearrange()),
        equations=("E27",),
    )
    ode = sp.Eq(sigma**2 / 2 * dp, -p(x) * g(x))
    d.step(
        "solves-zero-flux",
        Claim(p(x), stationary),
        "Substituted back, the density solves the zero-flux equation, and it takes the "
        "value exp(-2L(0)/sigma^2)/Z at Phi = 0 (which fixes the multiple of the solution).",
        slide=SLIDE_STAT,
        check=SolvesODE(ode, ics={p(0): sp.exp(-2 * L(0) / sigma**2) / Z}),
    )
    d.step(
        "fokker-planck-residual",
        Claim(sde.fokker_planck(stationary, evaluate=False), 0),
        "The Fokker-Planck right-hand side vanishes on the result: it is stationary.",
        slide=SLIDE_STAT, check=Computed(label="SDE.fokker_planck(p)"),
    )
    engine = stationary_density(sde, normalize=False).unnormalized
    d.step(
        "engine-density",
        Claim(sp.Derivative(sp.log(engine) + 2 * L(x) / sigma**2, x), 0),
        "symsde's general zero-flux method (any 1-D diffusion), applied to the Langevin "
        "SDE, returns a density proportional to exp(-2L/sigma^2).",
        slide=SLIDE_STAT,
        check=Computed(label="stationary_density(SDE.langevin(L, sigma))"),
    )
    return d


# -- confirmation by simulation -------------------------------------------------------------
def confirm(seed: int = 0) -> Experiment:
    """Sample the double-well Langevin SDE and compare with the derived stationary density.

    Parameters
    ----------
    seed : int
        Seed of the simulation; the outcome is a deterministic function of it.

    Returns
    -------
    Experiment

    Notes
    -----
    Model: :math:`d\\Phi = -\\mathcal{L}'(\\Phi)\\,dt + \\sigma\\,dB` with the double well
    :math:`\\mathcal{L} = \\Phi^4/4 - \\Phi^2/2` and :math:`\\sigma = 4/5`, built with
    ``SDE.langevin``; the prediction is ``stationary_density`` of that SDE,
    :math:`e^{-2\\mathcal{L}/\\sigma^2}/Z` (normalised by quadrature inside the KS test).

    Samples: 25 000 independent paths started at :math:`\\Phi = 0`, Euler-Maruyama with
    :math:`\\Delta t = 1/250` for 2000 steps (:math:`t = 8`); the final states are the
    samples. The start is symmetric and the drift odd, so the law stays symmetric and the
    slow well-to-well mode (odd, rate 0.26) is never excited; the slowest even mode decays
    at rate 1.75 (eigenvalues of the generator by finite differences), so at :math:`t = 8`
    the distance to stationarity is about :math:`e^{-14} \\approx 10^{-6}`.

    Discretisation bias: the Euler chain's own stationary law (computed offline by
    iterating its Gaussian transition kernel on a grid) differs from the SDE's by a
    sup-CDF distance of :math:`0.13\\,\\Delta t = 5.2\\times10^{-4}`, 3% of the KS critical
    distance 0.017 at this sample size; that moves :math:`\\sqrt n D` by at most 0.08, so
    the false-alarm probability stays below about :math:`3\\times10^{-6}` instead of
    :math:`10^{-6}`.

    Tests: KS of the samples against the derived density (reject when
    :math:`p < 10^{-6}`); the mean against 0 (5 standard errors, false alarm
    :math:`5.7\\times10^{-7}`). Power: the same samples against
    :math:`e^{-\\mathcal{L}/\\sigma^2}`, the density if :math:`\\sigma^2` itself were the
    temperature (the notes call :math:`\\sigma` "a temperature parameter"; the derived
    temperature is :math:`\\sigma^2/2`), i.e. :math:`\\sigma \\to \\sigma\\sqrt2`, must be
    rejected.
    """
    t0 = time.perf_counter()
    x = sp.Symbol("Phi", real=True)
    sigma = sp.Symbol("sigma", positive=True)
    loss = x**4 / 4 - x**2 / 2
    sigma_value = sp.Rational(4, 5)
    sde = SDE.langevin(loss, [x], sigma)
    st = stationary_density(sde, normalize=False)
    if sp.simplify(st.potential - 2 * loss / sigma**2) != 0:
        raise ArithmeticError(f"unexpected potential {st.potential}")
    density = st.unnormalized.subs(sigma, sigma_value)
    # sigma -> sigma sqrt(2): temperature sigma^2 instead of the derived sigma^2/2.
    wrong = st.unnormalized.subs(sigma, sigma_value * sp.sqrt(2))

    dt, n_steps, n_paths = 1 / 250, 2000, 25_000
    res = simulate(sde, x0=0.0, dt=dt, n_steps=n_steps, n_paths=n_paths, seed=seed,
                   params={sigma: sigma_value})
    samples = res.final[:, 0]

    exp = Experiment("langevin", "Double-well Langevin samples follow exp(-2L/sigma^2)/Z",
                     seed)
    exp.predict("stationary samples of the double well follow exp(-2L/sigma^2)/Z "
                "(stationary_density), sigma = 4/5",
                ks_test(samples, density, x, label="ks vs exp(-2L/sigma^2)/Z"))
    exp.predict("the stationary mean is 0 (symmetric double well)",
                mean_test(samples, 0.0))
    exp.reject("temperature sigma^2 instead of sigma^2/2: exp(-L/sigma^2)/Z",
               ks_test(samples, wrong, x, label="ks vs exp(-L/sigma^2)/Z"))

    grid = np.linspace(-2.5, 2.5, 201)
    f = sp.lambdify(x, density, modules="numpy")
    vals = np.asarray(f(grid), dtype=float)
    counts, edges = np.histogram(samples, bins=100, range=(-2.5, 2.5))
    exp.data = {"samples": samples, "histogram": (counts, edges), "grid": grid,
                "density": vals / (vals.sum() * (grid[1] - grid[0])),
                "sigma": float(sigma_value),
                "dt": dt, "n_steps": n_steps}
    exp.seconds = time.perf_counter() - t0
    return exp
