r"""Gradient flow, its Euler step, and SGD in the small-learning-rate limit.

Slides *Gradient Flow*, *Time as the Sum of the Learning Rates* and *Gradient Flow and
SGD* (and the restatement of gradient flow on *The Langevin SDE*). Gradient flow is the
ODE

.. math:: \frac{d\Phi}{dt} = -g(\Phi), \qquad
          g(\Phi) = \nabla_\Phi\, E_{(x,y)\sim\mathrm{Train}}\,\mathcal{L}(\Phi, x, y).

Its Euler step is :math:`\Delta\Phi = -g(\Phi)\Delta t`: the Taylor series of the flow
gives :math:`\Phi(t+\Delta t) - \Phi(t) = -g\,\Delta t + \tfrac12 g g'\,\Delta t^2 + O(\Delta t^3)`.
Reading :math:`\Delta t` as the learning rate :math:`\eta`, :math:`N = t/\eta` steps reach
time :math:`t = \sum_i \eta`, and for a linear gradient the Euler iterate
:math:`c + (\Phi_{\mathrm{init}} - c)(1 - a\eta)^N` tends to the flow
:math:`c + (\Phi_{\mathrm{init}} - c)e^{-at}` as :math:`\eta \to 0`.

For SGD, :math:`\Phi_{i+1} = \Phi_i - \eta\hat g_i`, the notes split the :math:`N` steps
into :math:`\sqrt N` blocks of :math:`\sqrt N` steps. Over a block the displacement has
mean :math:`-\eta\sqrt N g` and standard deviation :math:`\eta N^{1/4} s` (cumulants of
independent draws add), so noise/drift :math:`= N^{-1/4} s/g \to 0`, while the block
lasts :math:`\eta\sqrt N = \sqrt{\eta t} \to 0` in time. For a linear gradient the SGD
variance at time :math:`t` is :math:`O(\eta)`: :math:`\Phi_N \to \Phi(t)` in mean square.

Erratum: the last block is written :math:`(\Phi_{T-\sqrt N+1}, \dots, \Phi_N)`; a block
of :math:`\sqrt N` indices ending at :math:`N` starts at :math:`N - \sqrt N + 1`.
"""

from __future__ import annotations

import time
from functools import cache

import numpy as np
import sympy as sp
from sympy import stats

from symsde import SDE, simulate_sgd
from symsde.confirm import mean_test, slope_test
from symsde.experiment import Experiment
from symsde.proof import Claim, Derivation, Identity, Value, Witness

__all__ = ["confirm", "derivation"]

SLIDE_GF = "Gradient Flow"
SLIDE_TIME = "Time as the Sum of the Learning Rates"
SLIDE_SGD = "Gradient Flow and SGD"
SLIDE_LANGEVIN = "The Langevin SDE"


def _flow_increment(g: sp.FunctionClass, phi: sp.Symbol, dt: sp.Symbol) -> sp.Expr:
    """Phi(t + dt) - Phi(t) to second order in dt along the flow dPhi/dt = -g(Phi).

    SymPy's Taylor series of Phi(t + dt) in dt; the time derivatives are then replaced
    by the ODE (Phi' = -g(Phi), hence Phi'' = g'(Phi) g(Phi)), evaluated at Phi(t) = phi.
    """
    t = sp.Dummy("t")
    Phi = sp.Function("Phi")
    series = sp.series(Phi(t + dt), dt, 0, 3).removeO().doit()
    first = -g(Phi(t))
    second = sp.diff(first, t).subs(sp.Derivative(Phi(t), t), first)
    taylor = series.subs(sp.Derivative(Phi(t), (t, 2)), second)
    taylor = taylor.subs(sp.Derivative(Phi(t), t), first)
    return sp.expand(taylor - Phi(t)).subs(Phi(t), phi)


@cache
def derivation() -> Derivation:
    """Build the gradient-flow derivation (cached)."""
    t, dt = sp.symbols("t Delta_t", positive=True)
    phi = sp.Symbol("Phi", real=True)
    g = sp.Function("g")
    Phi = sp.Function("Phi")
    ell = sp.Function("ell")
    xs = sp.symbols("x1:4", real=True)
    ys = sp.symbols("y1:4", real=True)
    u, v, w = sp.symbols("u v w", real=True)

    witness = Witness(
        functions={
            g: sp.Lambda(u, u**3 - u + sp.Rational(1, 3)),
            sp.Function("L"): sp.Lambda(u, u**4 / 4 - u**2 / 2 + u / 5),
            ell: sp.Lambda((u, v, w), (u * v - w) ** 2 / 2 + u**4 / 4),
        },
    )
    d = Derivation(
        "gradient_flow",
        "Gradient flow, its Euler step, and SGD as eta -> 0",
        witness=witness,
        summary="Gradient flow dPhi/dt = -g(Phi); Delta Phi = -g Delta t is its Euler step; "
                "with N = t/eta, SGD's blocks of sqrt(N) steps become deterministic.",
    )

    # ---- Gradient Flow ----------------------------------------------------------------
    n_train = len(xs)
    total = sp.Add(*[ell(phi, x, y) for x, y in zip(xs, ys, strict=True)]) / n_train
    d.step(
        "total-gradient",
        Claim(sp.Derivative(total, phi),
              sp.Add(*[sp.Derivative(ell(phi, x, y), phi)
                       for x, y in zip(xs, ys, strict=True)]) / n_train),
        "Differentiation is linear, so the gradient of the training-average loss is the "
        "average of the per-example gradients (shown on a three-example training set).",
        slide=SLIDE_GF, check=Identity(), equations=("E01",),
    )

    a = sp.Symbol("a", positive=True)
    c, phi_init = sp.symbols("c Phi_init", real=True)
    grad_lin = sp.Lambda(u, a * (u - c))  # gradient of L = a (Phi - c)^2 / 2
    flow_solution = c + (phi_init - c) * sp.exp(-a * t)

    def solve_flow() -> sp.Expr:
        ode = sp.Eq(Phi(t).diff(t), -grad_lin(Phi(t)))
        return sp.dsolve(ode, Phi(t), ics={Phi(0): phi_init}).rhs

    d.step(
        "flow-solution",
        Claim(Phi(t), flow_solution),
        "For the quadratic loss a (Phi - c)^2 / 2 the gradient-flow ODE dPhi/dt = -g(Phi) "
        "with Phi(0) = Phi_init is solved by dsolve: the parameter relaxes exponentially "
        "to the minimiser c.",
        slide=SLIDE_GF,
        check=Value(solve_flow, label="dsolve(dPhi/dt = -a (Phi - c), Phi(0) = Phi_init)"),
        equations=("E02",),
    )
    d.step(
        "euler-first-order",
        Claim(sp.Limit((Phi(t + dt) - Phi(t)) / dt, dt, 0), -g(phi)),
        "To first order in Delta t the Taylor series of the flow started at Phi(t) = Phi "
        "moves by -g(Phi) Delta t, which is the update Delta Phi = -g(Phi) Delta t.",
        slide=SLIDE_GF,
        check=Value(lambda: sp.limit(_flow_increment(g, phi, dt) / dt, dt, 0),
                    label="series of Phi(t + Delta t) along the flow, first coefficient"),
        equations=("E03",),
    )
    d.step(
        "euler-local-error",
        Claim(sp.Limit((Phi(t + dt) - Phi(t) + g(phi) * dt) / dt**2, dt, 0),
              g(phi) * sp.Derivative(g(phi), phi) / 2),
        "What the Euler update leaves out is of second order: the Delta t^2 coefficient of "
        "the flow's Taylor series is g g' / 2, finite, so the approximation error per step "
        "is O(Delta t^2).",
        slide=SLIDE_GF,
        check=Value(lambda: sp.limit((_flow_increment(g, phi, dt) + g(phi) * dt) / dt**2, dt, 0),
                    label="series of Phi(t + Delta t) along the flow, second coefficient"),
    )

    # ---- Time as the Sum of the Learning Rates ------------------------------------------
    eta = sp.Symbol("eta", positive=True)
    N = sp.Symbol("N", positive=True)
    i = sp.Symbol("i", integer=True, positive=True)
    d.step(
        "time-sum-of-rates",
        Claim(sp.Sum(eta, (i, 1, N)), t),
        "Each update advances the clock by its learning rate, so N = t/eta updates of "
        "size eta add up to the time t.",
        slide=SLIDE_TIME,
        check=Value(lambda: sp.summation(eta, (i, 1, N)).subs(N, t / eta),
                    label="summation of the learning rates with N = t/eta"),
    )

    k = sp.Symbol("k", integer=True, nonnegative=True)
    y = sp.Function("y")
    iterate = c + (phi_init - c) * (1 - a * eta) ** k

    def solve_iterate() -> sp.Expr:
        return sp.rsolve(y(k + 1) - y(k) + eta * grad_lin(y(k)), y(k), {y(0): phi_init})

    d.step(
        "euler-iterate",
        Claim(y(k), iterate),
        "Taking Delta Phi = -g Delta t with Delta t = eta as a gradient step on the same "
        "quadratic loss gives a linear recurrence, solved by rsolve: after k steps the "
        "distance to c has shrunk by (1 - a eta)^k.",
        slide=SLIDE_TIME,
        check=Value(solve_iterate, label="rsolve(y(k+1) = y(k) - eta a (y(k) - c))"),
        equations=("E04",),
    )
    d.step(
        "euler-converges-to-flow",
        Claim(sp.Limit(iterate.subs(k, t / eta), eta, 0, "+"), flow_solution),
        "With N = t/eta steps, (1 - a eta)^(t/eta) tends to exp(-a t) as eta -> 0, so the "
        "iterates at time t = sum of learning rates converge to the gradient-flow solution.",
        slide=SLIDE_TIME,
        check=Value(lambda: sp.limit(solve_iterate().subs(k, t / eta), eta, 0, "+"),
                    label="limit eta -> 0 of the rsolve iterate at k = t/eta"),
    )

    # ---- Gradient Flow and SGD ----------------------------------------------------------
    B = sp.Symbol("B", positive=True)
    kb = sp.Symbol("k", positive=True, integer=True)
    T = sp.Symbol("T", positive=True)
    root = sp.sqrt(N)

    def last_block_start() -> sp.Expr:
        blocks = sp.solve(sp.Eq(B * root, N), B)[0]  # sqrt(N) blocks of sqrt(N) indices
        return ((kb - 1) * root + 1).subs(kb, blocks)

    d.step(
        "blocks-cover",
        Claim(sp.Sum(root, (kb, 1, root)), N),
        "sqrt(N) blocks of sqrt(N) consecutive indices hold exactly the N iterates.",
        slide=SLIDE_SGD,
        check=Value(lambda: sp.summation(root, (kb, 1, root)), label="summation of block sizes"),
    )
    d.step(
        "last-block-start",
        Claim(sp.Symbol("i_last_block"), T - root + 1),
        "Block k runs from index (k-1) sqrt(N) + 1 to k sqrt(N); there are B = sqrt(N) "
        "blocks (solve B sqrt(N) = N), so the last one starts at N - sqrt(N) + 1.",
        slide=SLIDE_SGD,
        check=Value(last_block_start, label="solve for the number of blocks, first index of "
                                            "the last block"),
        corrected=Claim(sp.Symbol("i_last_block"), N - root + 1),
        erratum="The notes start the last block at T - sqrt(N) + 1, an index T that is never "
                "defined; read as the time t = eta N it is wrong whenever eta != 1. The last "
                "block ends at N, so it starts at N - sqrt(N) + 1.",
        equations=("E06",),
        witness=Witness(values={T: eta * N}),
    )

    # One SGD step inside a block: the gradient is g (frozen, since the block is short)
    # plus zero-mean noise of size s; here the noise is +-s with probability 1/2 each,
    # a two-example training set whose per-example gradients are g + s and g - s.
    gb, s = sp.symbols("g s", positive=True)
    phi0 = sp.Symbol("Phi_0", real=True)

    @cache
    def block_cumulants() -> tuple[sp.Expr, sp.Expr]:
        sign = stats.Bernoulli("b", sp.Rational(1, 2), succ=1, fail=-1)
        step_mgf = stats.E(sp.exp(-u * eta * (gb + s * sign)))
        # Cumulants of independent draws add: K_block(u) = u Phi_0 + sqrt(N) K_step(u).
        K = u * phi0 + root * sp.log(step_mgf)
        mean = sp.diff(K, u).subs(u, 0)
        var = sp.diff(K, u, 2).subs(u, 0)
        return sp.expand(mean), sp.factor(var)

    E = sp.Function("E")
    SD = sp.Function("SD")
    phi_end = sp.Symbol("Phi_sqrtN")
    d.step(
        "block-mean",
        Claim(E(phi_end), phi0 - eta * root * gb),
        "Summing the SGD update over the sqrt(N) steps of a block and taking expectations "
        "(first derivative at 0 of the block's cumulant generating function, sqrt(N) times "
        "that of one step) moves Phi_0 by -eta sqrt(N) g.",
        slide=SLIDE_SGD,
        check=Value(lambda: block_cumulants()[0],
                    label="K'(0), K = u Phi_0 + sqrt(N) log E exp(-u eta g_hat)"),
        equations=("E05", "E07"),
    )
    d.step(
        "block-std",
        Claim(SD(phi_end), eta * N ** sp.Rational(1, 4) * s),
        "The block's variance is sqrt(N) eta^2 s^2 (second cumulant), so its standard "
        "deviation is eta N^(1/4) s.",
        slide=SLIDE_SGD,
        check=Value(lambda: sp.sqrt(block_cumulants()[1]), label="sqrt(K''(0))"),
    )

    def noise_to_drift() -> sp.Expr:
        mean, var = block_cumulants()
        return sp.powsimp(sp.sqrt(var) / (phi0 - mean))

    ratio = sp.Function("ratio")
    d.step(
        "noise-to-drift",
        Claim(ratio(N), s / (gb * N ** sp.Rational(1, 4))),
        "Dividing the block's noise (standard deviation) by its drift leaves s/(g N^(1/4)).",
        slide=SLIDE_SGD, check=Value(noise_to_drift, label="SD / |drift| from the cumulants"),
    )
    d.step(
        "noise-to-drift-decay",
        Claim(sp.Limit(sp.log(ratio(N)) / sp.log(N), N, sp.oo), -sp.Rational(1, 4)),
        "The ratio decays like N^(-1/4), a negative power, so within a block the gradient "
        "steps become non-stochastic as N grows.",
        slide=SLIDE_SGD,
        check=Value(lambda: sp.limit(sp.log(noise_to_drift()) / sp.log(N), N, sp.oo),
                    label="limit of log(ratio)/log(N)"),
    )
    d.step(
        "block-duration",
        Claim(eta * root, sp.sqrt(eta * t)),
        "A block of sqrt(N) steps lasts eta sqrt(N) in time, which is sqrt(eta t) when "
        "N = t/eta.",
        slide=SLIDE_SGD, check=Identity(givens={N: t / eta}),
    )
    d.step(
        "block-duration-decay",
        Claim(sp.Limit(sp.log(eta * root) / sp.log(eta), eta, 0, "+"), sp.Rational(1, 2)),
        "eta sqrt(N) with N = t/eta vanishes like eta^(1/2), a positive power, so each block "
        "is an ever shorter stretch of the flow while the number of blocks sqrt(N) grows.",
        slide=SLIDE_SGD,
        check=Value(lambda: sp.limit((sp.log(eta * root) / sp.log(eta)).subs(N, t / eta),
                                     eta, 0, "+"),
                    label="limit of log(eta sqrt(N))/log(eta), N = t/eta"),
    )

    # SGD on the quadratic loss with gradient noise of size s: the variance obeys
    # v(k+1) = (1 - a eta)^2 v(k) + eta^2 s^2 (the noise is independent of the iterate).
    vk = sp.Function("v")
    var_limit = s**2 * (1 - sp.exp(-2 * a * t)) / (2 * a)

    def sgd_variance_limit() -> sp.Expr:
        var = sp.rsolve(vk(k + 1) - (1 - a * eta) ** 2 * vk(k) - eta**2 * s**2, vk(k),
                        {vk(0): 0})
        # (a eta - 1)^(2k) = (1 - a eta)^(2k) for integer k; keep the positive base.
        var = var.replace(lambda e: e.is_Pow and sp.expand(e.base + 1 - a * eta) == 0,
                          lambda e: (1 - a * eta) ** e.exp)
        return sp.limit((var / eta).subs(k, t / eta), eta, 0, "+")

    d.step(
        "sgd-variance-vanishes",
        Claim(sp.Limit(sp.Function("Var")(Phi(N)) / eta, eta, 0, "+"), var_limit),
        "For SGD on the quadratic loss the variance recurrence (solved by rsolve) gives, at "
        "N = t/eta, a variance equal to eta times a finite limit: Phi_N converges to the "
        "gradient-flow Phi(t) in mean square as eta -> 0.",
        slide=SLIDE_SGD,
        check=Value(sgd_variance_limit, label="rsolve of the variance recurrence, limit"),
    )

    # ---- The Langevin SDE (restating gradient flow) -------------------------------------
    Lf = sp.Function("L")
    mu = sp.Function("mu")
    d.step(
        "langevin-drift-is-flow",
        Claim(mu(phi), -sp.Derivative(Lf(phi), phi)),
        "The deterministic part of the Langevin SDE built by symsde from a loss L is the "
        "gradient-flow velocity -g(Phi) with g = grad L.",
        slide=SLIDE_LANGEVIN,
        check=Value(lambda: SDE.langevin(Lf(phi), [phi], sp.Symbol("sigma", positive=True))
                    .drift[0], label="SDE.langevin(L, [Phi], sigma).drift"),
        equations=("E13", "E14"),
    )
    d.define("E15", SLIDE_LANGEVIN,
             "defines the loss as an expectation over the population, a definition")
    return d


# -- confirmation by simulation -------------------------------------------------------------
#: The experiment's training set: (x_i, y_i) pairs for the regression loss (theta x - y)^2/2.
_DATA = ((sp.Rational(1, 2), sp.Rational(1, 10)), (sp.Integer(1), sp.Rational(7, 10)),
         (sp.Rational(3, 2), sp.Rational(3, 5)), (sp.Integer(2), sp.Rational(11, 10)),
         (sp.Integer(1), sp.Rational(2, 5)), (sp.Rational(1, 2), sp.Rational(1, 2)))


def _sub_seed(seed: int, *tag: int) -> int:
    """A seed for one run of the experiment, derived from ``seed`` and the run's tag."""
    return int(np.random.SeedSequence([seed, *tag]).generate_state(1)[0])


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
    n_runs = 100_000
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
                           n_runs=n_runs, seed=_sub_seed(seed, i), theta0=float(theta0),
                           record_every=1 if eta in figure else None,
                           keep_paths=5 if eta in figure else 0)
        th = res.final[:, 0]
        r_mean = exp.confirm(f"eta = {eta}: the mean of Phi_N (N = {k}) is the "
                             "gradient-descent iterate c + (Phi_init - c)(1 - a eta)^N",
                             mean_test(th, m, label=f"mean (eta = {eta})"))
        r_mse = exp.confirm(f"eta = {eta}: E|Phi_N - Phi(t)|^2 is SGD's exact "
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
    exp.confirm("the mean-square error E|Phi_N - Phi(t)|^2 vanishes like eta (slope 1)",
                slope_test(eta_f, mse, 1.0, errors_se=mse_se,
                           label="mean-square error vs eta"))
    exp.confirm("the bias |E Phi_N - Phi(t)| vanishes like eta (Euler's global error)",
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
