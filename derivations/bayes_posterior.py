"""A Bayesian reading of Langevin dynamics, and the noise level that makes it exact.

Slides *A Bayesian Interpretation of Langevin Dynamics*. With training data
:math:`(x_i, y_i)_{i \\le n}`, Bayes' rule and the independence of the examples give

.. math::

    p(\\Phi \\mid \\mathrm{Train}) \\propto p(\\Phi) \\prod_i P_\\Phi(y_i \\mid x_i)
    = \\frac{1}{Z} e^{-n \\mathcal{L}(\\Phi)}, \\qquad
    \\mathcal{L} = \\frac1n \\sum_i -\\ln P_\\Phi(y_i\\mid x_i) - \\frac1n \\ln p(\\Phi).

The Langevin stationary density is :math:`e^{-2\\mathcal{L}/\\sigma^2}/Z`, so the two agree
when :math:`2/\\sigma^2 = n`, that is :math:`\\sigma^2 = 2/n`. The notes set
:math:`\\sigma^2 = 1/(2n)`, which gives :math:`e^{-4n\\mathcal{L}}`: a posterior four times
too sharp (its variance four times too small near a minimum). That is recorded as an
erratum.
"""

from __future__ import annotations

import time
from functools import cache

import numpy as np
import sympy as sp

from symsde import SDE, simulate, stationary_density
from symsde.confirm import mean_test, variance_test
from symsde.experiment import Experiment
from symsde.proof import Claim, Derivation, FollowsFrom, Identity, Value, Witness

__all__ = ["confirm", "derivation", "langevin_noise_for_posterior"]

SLIDE = "A Bayesian Interpretation of Langevin Dynamics"


def langevin_noise_for_posterior(n: sp.Expr) -> sp.Expr:
    """The :math:`\\sigma^2` at which the Langevin density equals the posterior of ``n`` examples.

    Solved from matching the exponents :math:`2\\mathcal{L}/\\sigma^2 = n\\mathcal{L}`.

    Examples
    --------
    >>> import sympy as sp
    >>> langevin_noise_for_posterior(sp.Symbol("n", positive=True))
    2/n
    """
    s2 = sp.Symbol("sigma2", positive=True)
    (sol,) = sp.solve(sp.Eq(2 / s2, n), s2)
    return sol


@cache
def derivation() -> Derivation:
    """Build the Bayesian-posterior derivation (cached)."""
    Phi = sp.Symbol("Phi", real=True)
    n = sp.Symbol("n", integer=True, positive=True)
    i = sp.Symbol("i", integer=True, positive=True)
    sigma, Z = sp.symbols("sigma Z", positive=True)
    C = sp.Symbol("C", real=True)
    prior, lik, L = sp.Function("p"), sp.Function("P"), sp.Function("L")
    posterior = sp.Function("p_post")
    # Whole-data-set quantities of the first slide, as positive numbers.
    p_x, P_y_model, P_y = sp.symbols("p_x P_Phi_y P_y", positive=True)
    p_train_given, p_train = sp.symbols("p_Train_given_Phi p_Train", positive=True)

    # Witness: a Gaussian likelihood around data y_i = i/3 and a Gaussian prior; L is then
    # the loss the slides define from them, so every step can be evaluated exactly.
    lik_inst = sp.Lambda((i, Phi), sp.exp(-(Phi - i / 3) ** 2 / 2) / sp.sqrt(2 * sp.pi))
    prior_inst = sp.Lambda(Phi, sp.exp(-(Phi**2) / 8) / sp.sqrt(8 * sp.pi))
    log_lik_sum = sp.Sum(sp.log(lik(i, Phi)), (i, 1, n))
    loss_def = (-log_lik_sum - sp.log(prior(Phi))) / n
    loss_inst = sp.Lambda(Phi, loss_def.replace(lik, lik_inst).replace(prior, prior_inst))
    C_inst = -sp.log(Z)
    witness = Witness(
        functions={lik: lik_inst, prior: prior_inst, L: loss_inst,
                   posterior: sp.Lambda(Phi, sp.exp(-n * loss_inst(Phi)) / Z)},
        values={C: C_inst},
        ranges={n: (1, 6)},
    )
    d = Derivation(
        "bayes_posterior",
        "A Bayesian interpretation of Langevin dynamics",
        witness=witness,
        summary="The posterior is exp(-n L)/Z; Langevin samples it when sigma^2 = 2/n "
                "(the notes' 1/(2n) is an erratum).",
    )
    d.define("E28", SLIDE, "Train = (x_1, y_1), ..., (x_n, y_n) names the data set.")
    d.define("E30", SLIDE, "Restates the data set notation of E28.")

    d.step(
        "bayes-rule",
        Claim(prior(Phi) * p_train_given / p_train, prior(Phi) * P_y_model / P_y),
        "Bayes' rule; the inputs do not depend on Phi, so p(Train|Phi) = p(x) P_Phi(y|x) and "
        "p(Train) = p(x) P(y|x), and the factor p(x) cancels.",
        slide=SLIDE,
        check=Identity(givens={p_train_given: p_x * P_y_model, p_train: p_x * P_y}),
        equations=("E29", "E31"),
    )
    log_post = sp.log(posterior(Phi))
    d.step(
        "log-posterior",
        Claim(log_post, log_lik_sum + sp.log(prior(Phi)) + C),
        "The denominator P(y|x) does not depend on Phi; with independent examples the "
        "likelihood is a product over i, and its logarithm is a sum. C collects the "
        "Phi-free terms.",
        slide=SLIDE,
        check=FollowsFrom(
            lambda c: Claim(
                log_post,
                sp.expand_log(sp.log(prior(Phi) * sp.Product(lik(i, Phi), (i, 1, n))),
                              force=True) + C,
            ),
            "taking logarithms of p(Phi) prod_i P_Phi(y_i|x_i) (the proportionality of E32)",
        ),
        equations=("E32", "E33", "E34"),
    )
    d.step(
        "loss-definition",
        Claim(L(Phi), loss_def),
        "Define the loss as the average negative log-likelihood plus the prior term "
        "-(1/n) ln p(Phi); the empirical expectation over Train is that average.",
        slide=SLIDE,
        check=Value(lambda: sp.Sum(-sp.log(lik(i, Phi)), (i, 1, n)) / n
                    - sp.log(prior(Phi)) / n,
                    label="(1/n) sum_i -ln P_Phi(y_i|x_i) - (1/n) ln p(Phi)"),
        equations=("E35",),
    )
    gibbs_post = sp.exp(-n * L(Phi)) / Z
    d.step(
        "posterior-gibbs",
        Claim(posterior(Phi), gibbs_post),
        "Substitute the sum of log-likelihoods from the loss definition and exponentiate; "
        "Z = exp(-C) normalises.",
        slide=SLIDE,
        check=FollowsFrom(
            lambda c: Claim(posterior(Phi),
                            sp.exp(d.steps[1].claim.rhs.subs(
                                log_lik_sum, sp.solve(sp.Eq(L(Phi), loss_def), log_lik_sum)[0]
                            ).subs(C, C_inst))),
            "solving the loss definition for the log-likelihood sum, substituting it into "
            "the log-posterior and exponentiating",
            source="log-posterior",
        ),
        equations=("E36", "E37"),
    )
    sde = SDE.langevin(L(Phi), [Phi], sigma)
    langevin_density = sp.exp(-2 * L(Phi) / sigma**2) / Z
    p_langevin = sp.Function("p_Langevin")
    d.step(
        "langevin-density",
        Claim(p_langevin(Phi), langevin_density),
        "The Langevin SDE's zero-flux stationary density, derived by symsde.",
        slide=SLIDE,
        check=Value(lambda: sp.exp(-stationary_density(sde, normalize=False).potential) / Z,
                    label="exp(-U)/Z from stationary_density(SDE.langevin(L, sigma))"),
        equations=("E38",),
    )
    s2 = sp.Symbol("sigma^2", positive=True)
    d.step(
        "matching-noise",
        Claim(s2, 1 / (2 * n)),
        "Equal densities need equal exponents, 2 L/sigma^2 = n L for every L: solve for "
        "sigma^2.",
        slide=SLIDE,
        check=Value(lambda: langevin_noise_for_posterior(n),
                    label="solve(2/sigma^2 = n, sigma^2)"),
        corrected=Claim(s2, 2 / n),
        erratum="The notes set sigma^2 = 1/(2n); matching exp(-2L/sigma^2) with exp(-nL) "
                "needs 2/sigma^2 = n, i.e. sigma^2 = 2/n.",
    )
    at = sp.Subs(sp.exp(-2 * L(Phi) / s2) / Z, s2, 1 / (2 * n))
    at_fixed = sp.Subs(sp.exp(-2 * L(Phi) / s2) / Z, s2, 2 / n)
    d.step(
        "langevin-equals-posterior",
        Claim(at, gibbs_post),
        "With the matched noise level the Langevin stationary density is the posterior.",
        slide=SLIDE, check=Identity(),
        corrected=Claim(at_fixed, gibbs_post),
        erratum="At the notes' sigma^2 = 1/(2n) the Langevin density is exp(-4nL)/Z, not "
                "the posterior exp(-nL)/Z; at sigma^2 = 2/n the two agree.",
        equations=("E39",),
    )
    d.step(
        "notes-value-too-sharp",
        Claim(sp.Symbol("exponent ratio"), 4),
        "At the notes' value the Langevin exponent is 4 times the posterior's: the sampled "
        "density exp(-4nL) is four times too sharp (variance 4 times too small near a "
        "minimum).",
        slide=SLIDE,
        check=Value(lambda: (-2 * L(Phi) / s2).subs(s2, 1 / (2 * n)) / (-n * L(Phi)),
                    label="(2L/sigma^2 at sigma^2 = 1/(2n)) / (nL)"),
    )
    return d


# -- confirmation by simulation -------------------------------------------------------------
#: The experiment's data set y_1..y_10 (fixed, independent of the seed).
_DATA = tuple(sp.Rational(v) for v in
             ("1.2", "0.4", "2.1", "1.7", "0.9", "1.5", "2.6", "0.3", "1.1", "1.8"))


def _euler_stationary_moments(sde: SDE, dt: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """Exact stationary mean and variance of the Euler chain of a 1-D SDE with affine drift.

    The chain :math:`\\Phi' = (1 + A\\Delta t)\\Phi + c\\Delta t + G\\sqrt{\\Delta t}\\,Z`
    (drift :math:`A\\Phi + c` read off the SDE, constant :math:`G`) has a Gaussian
    stationary law whose mean solves :math:`m = (1 + A\\Delta t) m + c\\Delta t` and whose
    variance solves :math:`v = (1 + A\\Delta t)^2 v + G^2\\Delta t`, solved here by SymPy.
    """
    (x,) = sde.state
    drift = sp.expand(sde.drift[0])
    A, c = sp.diff(drift, x), drift.subs(x, 0)
    if A.has(x):
        raise ArithmeticError(f"the drift {drift} is not affine")
    m, v = sp.symbols("m v", real=True)
    (mean,) = sp.solve(sp.Eq(m, (1 + A * dt) * m + c * dt), m)
    (var,) = sp.solve(sp.Eq(v, (1 + A * dt) ** 2 * v + sde.diffusion_matrix[0, 0] * dt), v)
    return sp.simplify(mean), sp.simplify(var)


def confirm(seed: int = 0) -> Experiment:
    """Langevin dynamics at sigma^2 = 2/n samples a conjugate Gaussian posterior.

    Parameters
    ----------
    seed : int
        Seed of the simulations; the outcome is a deterministic function of it.

    Returns
    -------
    Experiment

    Notes
    -----
    Model: ten fixed observations ``_DATA``, a Gaussian likelihood
    :math:`P_\\Phi(y) = \\mathcal{N}(y; \\Phi, 1)` and the Gaussian prior
    :math:`\\mathcal{N}(0, 4)` of the derivation's witness. The loss is built as the slides
    define it, :math:`\\mathcal{L} = \\frac1n\\sum_i -\\ln P_\\Phi(y_i) - \\frac1n\\ln
    p(\\Phi)`, and the Langevin SDE is ``SDE.langevin(L, [Phi], sigma)`` with
    :math:`\\sigma^2` from :func:`langevin_noise_for_posterior` (:math:`2/n`). The posterior
    :math:`p(\\Phi)\\prod_i P_\\Phi(y_i)` is Gaussian (conjugacy); its mean and variance are
    computed by SymPy by completing the square in its logarithm, and checked against the
    Gaussian moments of ``stationary_density`` of the SDE (they must agree exactly).

    Samples: two runs of 100 000 independent paths, started at the prior mean 0,
    Euler-Maruyama with :math:`\\Delta t = 1/20` for 400 steps; final states. The drift
    :math:`-\\mathcal{L}'` is affine with slope :math:`-a`, :math:`a = 41/40`, so the
    transient decays as :math:`(1 - a\\Delta t)^{400} \\approx 10^{-9}`.

    Discretisation: for an affine drift the Euler chain's stationary law is known exactly:
    Gaussian with the posterior mean and with variance :math:`\\sigma^2\\Delta t/(1 - (1 -
    a\\Delta t)^2) = v_\\text{post}\\cdot 2/(2 - a\\Delta t)` (2.6% above the posterior
    variance at this step; it tends to :math:`v_\\text{post}` as :math:`\\Delta t \\to 0`,
    checked by ``sp.limit``). The variance tests use that exact law, so there is no
    discretisation bias.

    Tests (5 standard errors, false alarm :math:`5.7\\times10^{-7}` each): mean and variance
    of the run at :math:`\\sigma^2 = 2/n` against the posterior; the run at the notes'
    :math:`\\sigma^2 = 1/(2n)` against the density :math:`e^{-4n\\mathcal{L}}` it actually
    samples (variance a quarter of the posterior's). Power: the notes' run against the
    posterior variance must be rejected.
    """
    t0 = time.perf_counter()
    Phi = sp.Symbol("Phi", real=True)
    sigma = sp.Symbol("sigma", positive=True)
    n = len(_DATA)

    def likelihood(y: sp.Expr) -> sp.Expr:
        return sp.exp(-(Phi - y) ** 2 / 2) / sp.sqrt(2 * sp.pi)

    prior = sp.exp(-(Phi**2) / 8) / sp.sqrt(8 * sp.pi)
    loss = (sp.Add(*[-sp.log(likelihood(y)) for y in _DATA]) - sp.log(prior)) / n
    loss = sp.expand(sp.expand_log(loss, force=True))

    # Conjugate posterior: log(prior * prod likelihood) is a quadratic a2 Phi^2 + a1 Phi + a0.
    log_post = sp.expand(sp.expand_log(sp.log(prior * sp.Mul(*[likelihood(y) for y in _DATA])),
                                       force=True))
    a2, a1 = log_post.coeff(Phi, 2), log_post.coeff(Phi, 1)
    post_var = sp.simplify(-1 / (2 * a2))
    post_mean = sp.simplify(-a1 / (2 * a2))

    sigma2 = langevin_noise_for_posterior(sp.Integer(n))
    sde = SDE.langevin(loss, [Phi], sigma)
    st = stationary_density(sde.subs(sigma, sp.sqrt(sigma2)))
    if st.mean is None or st.covariance is None or sp.simplify(
            st.mean[0] - post_mean) != 0 or sp.simplify(st.covariance[0, 0] - post_var) != 0:
        raise ArithmeticError("the Langevin stationary density at sigma^2 = 2/n is not the "
                              "conjugate posterior")

    dt = sp.Rational(1, 20)
    n_steps, n_paths = 400, 100_000
    euler_mean, euler_var = _euler_stationary_moments(sde.subs(sigma, sp.sqrt(sigma2)), dt)
    ds = sp.Symbol("Delta_t", positive=True)
    if sp.limit(_euler_stationary_moments(sde.subs(sigma, sp.sqrt(sigma2)), ds)[1], ds,
                0) != post_var:
        raise ArithmeticError("the Euler chain's variance does not tend to the posterior's")
    notes_sigma2 = sp.Rational(1, 2 * n)
    _, notes_var = _euler_stationary_moments(sde.subs(sigma, sp.sqrt(notes_sigma2)), dt)

    # Independent streams for the two runs, derived from the seed.
    seeds = [int(v) for v in np.random.SeedSequence(seed).generate_state(2)]
    run = simulate(sde, x0=0.0, dt=float(dt), n_steps=n_steps, n_paths=n_paths,
                   seed=seeds[0], params={sigma: sp.sqrt(sigma2)})
    notes = simulate(sde, x0=0.0, dt=float(dt), n_steps=n_steps, n_paths=n_paths,
                     seed=seeds[1], params={sigma: sp.sqrt(notes_sigma2)})
    good, bad = run.final[:, 0], notes.final[:, 0]

    exp = Experiment("bayes_posterior",
                     "Langevin at sigma^2 = 2/n samples the posterior; the notes' 1/(2n) does "
                     "not", seed)
    exp.confirm(f"sigma^2 = 2/n: the stationary mean is the posterior mean {post_mean}",
                mean_test(good, euler_mean, label="mean (sigma^2 = 2/n)"))
    exp.confirm(f"sigma^2 = 2/n: the stationary variance is the posterior variance "
                f"{post_var} (times the Euler factor 2/(2 - a dt))",
                variance_test(good, euler_var, label="variance (sigma^2 = 2/n)"))
    exp.confirm("sigma^2 = 1/(2n): the samples follow exp(-4nL), variance a quarter of the "
                "posterior's",
                variance_test(bad, notes_var, label="variance (sigma^2 = 1/(2n)) vs exp(-4nL)"))
    exp.reject("the notes' sigma^2 = 1/(2n) samples the posterior",
               variance_test(bad, euler_var, label="variance (sigma^2 = 1/(2n)) vs posterior"))

    grid = np.linspace(float(post_mean) - 5 * float(sp.sqrt(post_var)),
                       float(post_mean) + 5 * float(sp.sqrt(post_var)), 201)
    dens = sp.lambdify(Phi, sp.exp(-(Phi - post_mean) ** 2 / (2 * post_var))
                       / sp.sqrt(2 * sp.pi * post_var), modules="numpy")
    exp.data = {"samples": good, "samples_notes": bad, "grid": grid,
                "posterior_density": np.asarray(dens(grid), dtype=float),
                "posterior_mean": float(post_mean), "posterior_variance": float(post_var),
                "euler_variance": float(euler_var), "notes_variance": float(notes_var),
                "data": [float(y) for y in _DATA], "dt": float(dt)}
    exp.seconds = time.perf_counter() - t0
    return exp
