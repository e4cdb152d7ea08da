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

from symsde import SDE, simulate, stationary_density
from symsde.confirm import ks_test, mean_test
from symsde.experiment import Experiment
from symsde.proof import Claim, Derivation, FollowsFrom, SolvesODE, Value, Witness

__all__ = ["confirm", "derivation"]

SLIDE_SDE = "The Langevin SDE"
SLIDE_STAT = "The Langevin Stationary Distribution"


@cache
def derivation() -> Derivation:
    """Build the Langevin derivation (cached)."""
    x = sp.Symbol("Phi", real=True)
    sigma, Z = sp.symbols("sigma Z", positive=True)
    C = sp.Symbol("C", real=True)
    L, p = sp.Function("L"), sp.Function("p")
    g = sp.Derivative(L(x), x)
    dp = sp.Derivative(p(x), x)

    # Model instance for the numeric witness: an asymmetric double well and the density
    # the derivation arrives at, with C tied to the normaliser Z as in the last step.
    loss_instance = sp.Lambda(x, x**4 / 4 - x**2 / 2 + x / 3)
    witness = Witness(
        functions={L: loss_instance,
                   p: sp.Lambda(x, sp.exp(-2 * loss_instance(x) / sigma**2) / Z)},
        values={C: -sigma**2 / 2 * sp.log(Z)},
    )
    d = Derivation(
        "langevin",
        "The Langevin SDE and its stationary distribution",
        witness=witness,
        summary="Gradient flow plus isotropic noise; the zero-flux density is "
                "exp(-2L/sigma^2)/Z.",
    )
    sde = SDE.langevin(L(x), [x], sigma)

    J = sp.Function("J")
    d.step(
        "two-flows",
        Claim(J(x), -p(x) * g - sigma**2 / 2 * dp),
        "The probability current of the Langevin SDE, computed from its Fokker-Planck "
        "operator, is the sum of the gradient flow -p g and the diffusion flow "
        "-(1/2) sigma^2 grad p.",
        slide=SLIDE_SDE, check=Value(lambda: sde.current(p(x))[0], label="SDE.current(p)"),
        # A density that is not stationary, so that the current is not zero at the points.
        witness=Witness(functions={L: loss_instance, p: sp.Lambda(x, sp.exp(-x**2) / Z)}),
        equations=("E16", "E17", "E18", "E19", "E20", "E21"),
    )
    d.step(
        "zero-flux",
        Claim(sigma**2 / 2 * dp, -p(x) * g),
        "In one dimension a stationary density that vanishes at infinity has zero current, "
        "so the two flows cancel.",
        slide=SLIDE_SDE,
        check=FollowsFrom(lambda c: Claim(sigma**2 / 2 * dp, c.rhs + sigma**2 / 2 * dp),
                          "setting the current to zero and moving the diffusion flow across"),
        equations=("E22", "E23"),
    )
    d.step(
        "divide-by-p",
        Claim(sigma**2 / 2 * dp / p(x), -g),
        "Divide both sides by p > 0.",
        slide=SLIDE_STAT,
        check=FollowsFrom(lambda c: c.map(lambda e: e / p(x)), "dividing both sides by p"),
        equations=("E24",),
    )
    d.step(
        "log-derivative",
        Claim(sp.Derivative(sigma**2 / 2 * sp.log(p(x)), x), sp.Derivative(-L(x), x)),
        "p'/p is the derivative of ln p, and -g is the derivative of -L.",
        slide=SLIDE_STAT,
        check=FollowsFrom(lambda c: c, "recognising p'/p = (ln p)'"),
        equations=("E25",),
    )
    d.step(
        "integrate",
        Claim(sigma**2 / 2 * sp.log(p(x)), -L(x) + C),
        "Integrate both sides in Phi; the constant of integration is C.",
        slide=SLIDE_STAT,
        check=FollowsFrom(lambda c: Claim(sp.integrate(c.lhs, x), sp.integrate(c.rhs, x) + C),
                          "integrating both sides in Phi"),
        equations=("E26",),
    )
    stationary = sp.exp(-2 * L(x) / sigma**2) / Z
    d.step(
        "exponentiate",
        Claim(p(x), stationary),
        "Multiply by 2/sigma^2 and exponentiate; Z = exp(-2C/sigma^2) normalises p.",
        slide=SLIDE_STAT,
        check=FollowsFrom(
            lambda c: Claim(p(x), sp.exp(2 * c.rhs / sigma**2)).subs(C, -sigma**2 / 2 * sp.log(Z)),
            "exponentiating and naming Z = exp(-2C/sigma^2)"),
        equations=("E27",),
    )
    ode = sp.Eq(sigma**2 / 2 * dp, -p(x) * g)
    C1 = sp.Symbol("C1")
    d.step(
        "dsolve",
        Claim(p(x), stationary),
        "The same density from SymPy's dsolve on the zero-flux equation, with the "
        "integration constant C1 = 1/Z.",
        slide=SLIDE_STAT,
        check=Value(lambda: sp.dsolve(ode, p(x)).rhs.subs(C1, 1 / Z),
                    label="dsolve(sigma^2/2 p' = -p L')"),
    )
    d.step(
        "solves-zero-flux",
        Claim(p(x), stationary),
        "Substituted back, the density satisfies the zero-flux equation, and it takes the "
        "value exp(-2L(0)/sigma^2)/Z at Phi = 0 (which fixes the multiple of the solution).",
        slide=SLIDE_STAT,
        check=SolvesODE(ode, ics={p(0): sp.exp(-2 * L(0) / sigma**2) / Z}),
    )
    d.step(
        "fokker-planck-residual",
        Claim(sp.Derivative(p(x), sp.Symbol("t")), 0),
        "The Fokker-Planck right-hand side vanishes on the result: it is stationary.",
        slide=SLIDE_STAT,
        check=Value(lambda: sde.fokker_planck(stationary), label="SDE.fokker_planck(p)"),
    )
    U = sp.Function("U")
    d.step(
        "engine-potential",
        Claim(U(x), 2 * L(x) / sigma**2),
        "symsde's general zero-flux method (any 1-D diffusion) gives the potential "
        "U = 2L/sigma^2 for the Langevin SDE.",
        slide=SLIDE_STAT,
        check=Value(lambda: stationary_density(sde, normalize=False).potential,
                    label="stationary_density(SDE.langevin(L, sigma)).potential"),
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
    exp.confirm("stationary samples of the double well follow exp(-2L/sigma^2)/Z "
                "(stationary_density), sigma = 4/5",
                ks_test(samples, density, x, label="ks vs exp(-2L/sigma^2)/Z"))
    exp.confirm("the stationary mean is 0 (symmetric double well)",
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
