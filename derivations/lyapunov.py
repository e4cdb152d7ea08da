r"""SGD near a minimum: the Lyapunov equation, Bayesian learning rates, stationary currents.

Beyond the notes. Near a minimum the loss is quadratic, :math:`f(x) \approx \tfrac12
x^\top A x`, and the notes' SGD SDE becomes an Ornstein-Uhlenbeck process

.. math:: dX = -A X\,dt + \sqrt{\eta C}\,dB ,

with :math:`C` the covariance of the (minibatch) gradient noise. Its stationary law is
Gaussian with mean zero and a covariance :math:`S` that solves the Lyapunov equation

.. math:: A S + S A^\top = \eta C .

For :math:`2 \times 2` matrices the solution is :math:`S = \eta\,\big(\det A\,C + (A -
\operatorname{tr}A\,I)\,C\,(A - \operatorname{tr}A\,I)^\top\big) / (2\operatorname{tr}A
\det A)`; in the eigenbasis of a symmetric :math:`A = \operatorname{diag}(h_1, h_2)` it is
:math:`S_{ij} = \eta C_{ij}/(h_i + h_j)`.

*SGD as approximate Bayesian inference* (Mandt, Hoffman & Blei 2017, "Stochastic Gradient
Descent as Approximate Bayesian Inference", JMLR 18 (2017) 1-35, Section 4 and Theorem 1, the
optimal constant learning rate :math:`\epsilon^* = 2\,\tfrac{S}{N}\,\tfrac{D}{\operatorname{tr}
(BB^\top)}`). The posterior of :math:`n` data points with loss curvature :math:`h` is
:math:`\propto e^{-n h x^2/2}`, of variance :math:`1/(nh)`; the SGD SDE's stationary variance
is :math:`\eta s^2/(2h)`; equating them, or minimising
:math:`\mathrm{KL}(q_\eta\,\|\,p)`, gives :math:`\eta^* = 2/(n s^2)`, independent of
:math:`h`. In two dimensions the KL minimiser is :math:`\eta^* = 4/(n\operatorname{tr}C)`,
Mandt et al.'s :math:`2D/(N\operatorname{tr}C)` with :math:`D = 2`. With isotropic noise
:math:`C = cI` the stationary law is Gibbs, :math:`S = \tfrac{\eta c}{2}A^{-1}`, at the
temperature :math:`\eta c/2`.

*Non-equilibrium stationary states* (Chaudhari & Soatto 2018, "Stochastic gradient descent
performs variational inference, converges to limit cycles for deep networks", ICLR). When
the noise does not commute with the Hessian, :math:`HC \ne CH`, the stationary density is
still Gaussian but its potential :math:`U = \tfrac12 x^\top S^{-1} x` is not the loss over
a temperature, and the stationary probability current

.. math:: J = -H x\,p - \tfrac{\eta}{2} C\nabla p = \tfrac12 (S H - H S) S^{-1} x\,p

does not vanish: it is divergence-free (so :math:`p` is stationary) and circulates around
the minimum, :math:`x J_y - y J_x = -\kappa\,x^\top S^{-1}x\,p` with
:math:`\kappa = \eta C_{12}(h_2 - h_1)/(2(h_1 + h_2))`.

*How the steps are checked.* symsde's stationary density, its current and potential are
definitions; covariances are inverse Hessians of the potential and variances Gaussian
integrals, with derivatives and integrals left for the numeric witness to evaluate by
finite differences and quadrature; the learning rates are checked by the derivative of the
KL divergence at the claimed rate.
"""

from __future__ import annotations

import time
from functools import cache
from typing import Any

import numpy as np
import sympy as sp

from symsde import SDE, linear, simulate, stationary_density
from symsde.experiment import Experiment
from symsde.linear import even_density_variance, sub_seed
from symsde.proof import (
    Claim,
    Computed,
    Derivation,
    FollowsFrom,
    Given,
    MultiplyBoth,
    Substitute,
    Witness,
)
from symsde.stationary import StationaryDensity
from symsde.stattests import covariance_test, mean_test

__all__ = [
    "confirm",
    "derivation",
    "kl_optimal_learning_rate_2d",
    "lyapunov_covariance",
    "optimal_learning_rate",
    "posterior_variance",
    "probability_velocity",
    "sgd_sde_variance",
]

SLIDE_BAYES = "Beyond the notes: SGD as approximate Bayesian inference"
SLIDE_NEQ = "Beyond the notes: non-equilibrium stationary states"

# -- symbols shared by the derivation and the helpers ---------------------------------------
ETA = sp.Symbol("eta", positive=True)
N = sp.Symbol("n", positive=True)
H = sp.Symbol("h", positive=True)
S = sp.Symbol("s", positive=True)
X = sp.Symbol("x", real=True)
Y = sp.Symbol("y", real=True)
H1, H2 = sp.symbols("h_1 h_2", positive=True)
C11, C22 = sp.symbols("C_11 C_22", positive=True)
C12 = sp.Symbol("C_12", real=True)
A11, A22 = sp.symbols("a_11 a_22", positive=True)
A12 = sp.Symbol("a_12", real=True)
C_MAT = sp.Matrix([[C11, C12], [C12, C22]])
A_MAT = sp.Matrix([[A11, A12], [A12, A22]])
H_MAT = sp.diag(H1, H2)


# -- helpers (also used by the derivation's checks) -----------------------------------------
def lyapunov_covariance(A: Any, C: Any, eta: Any = ETA) -> sp.Matrix:
    r"""The symmetric solution :math:`S` of :math:`A S + S A^\top = \eta C` (any dimension)."""
    return linear.lyapunov_covariance(A, -sp.sympify(eta) * sp.Matrix(C))


@cache
def _lyapunov_2x2() -> sp.Matrix:
    return lyapunov_covariance(A_MAT, C_MAT)


@cache
def _posterior_variance() -> sp.Expr:
    weight = sp.exp(-N * H * X**2 / 2)  # the posterior exp(-n L) with L = h x^2/2
    return sp.simplify(sp.integrate(X**2 * weight, (X, -sp.oo, sp.oo))
                       / sp.integrate(weight, (X, -sp.oo, sp.oo)))


@cache
def _sgd_sde_density() -> StationaryDensity:
    return stationary_density(SDE.sgd(H * X**2 / 2, [X], ETA, S))


@cache
def _sgd_sde_variance() -> sp.Expr:
    return sp.factor(1 / sp.diff(_sgd_sde_density().potential, X, 2))


@cache
def _matching_rate() -> sp.Expr:
    (rate,) = sp.solve(sp.Eq(_sgd_sde_variance(), _posterior_variance()), ETA)
    return rate


def _gaussian_kl(cov_q: sp.Matrix, precision_p: sp.Matrix) -> sp.Expr:
    """KL(N(0, cov_q) || N(0, precision_p^-1)), the log-determinant expanded."""
    ratio = precision_p * cov_q
    logdet = sp.expand_log(sp.log(sp.factor(ratio.det())), force=True)
    return (ratio.trace() - cov_q.shape[0] - logdet) / 2


@cache
def _kl_rate_1d() -> sp.Expr:
    kl = _gaussian_kl(sp.Matrix([[_sgd_sde_variance()]]),
                      sp.Matrix([[1 / _posterior_variance()]]))
    (rate,) = sp.solve(sp.together(sp.diff(kl, ETA)), ETA)
    return rate


@cache
def _kl_rate_2d() -> sp.Expr:
    # In the Hessian's eigenbasis (KL is invariant under rotations): the posterior
    # exp(-n x^T H x / 2) has precision n H; q_eta is symsde's stationary covariance.
    kl = _gaussian_kl(_noncommuting_density().covariance, N * H_MAT)
    (rate,) = sp.solve(sp.together(sp.diff(kl, ETA)), ETA)
    return sp.factor(rate)


@cache
def _noncommuting_density() -> StationaryDensity:
    vec = sp.Matrix([X, Y])
    loss = (vec.T * H_MAT * vec)[0, 0] / 2
    # The notes' SGD SDE with noise factor sigma = chol(C), so that sigma sigma^T = C.
    sde = SDE.sgd(loss, [X, Y], ETA, C_MAT.cholesky(hermitian=False))
    # normalize=False: the Lyapunov method gives Z in closed form; symsde's ray test for
    # normalisability cannot decide signs of symbolic matrix entries (see the report).
    return stationary_density(sde, normalize=False)


@cache
def _current() -> sp.Matrix:
    """symsde's probability current ``SDE.current`` of the unnormalised stationary density."""
    st = _noncommuting_density()
    return st.sde.current(st.unnormalized)


@cache
def _velocity() -> sp.Matrix:
    """J/p, which does not depend on the normalisation."""
    return (_current() / _noncommuting_density().unnormalized).applyfunc(
        lambda e: sp.factor(sp.expand(e)))


def _at(expr: Any, values: dict[sp.Symbol, Any]) -> Any:
    return expr.subs({k: sp.sympify(v) for k, v in values.items()}, simultaneous=True)


def sgd_sde_variance(eta: Any, h: Any, s: Any) -> sp.Expr:
    """Stationary variance eta s^2/(2h) of the 1-D SGD SDE on h x^2/2 (symsde engine)."""
    return _at(_sgd_sde_variance(), {ETA: eta, H: h, S: s})


def posterior_variance(n: Any, h: Any) -> sp.Expr:
    """Variance 1/(n h) of the posterior exp(-n h x^2/2)."""
    return _at(_posterior_variance(), {N: n, H: h})


def optimal_learning_rate(n: Any, s: Any) -> sp.Expr:
    """Learning rate 2/(n s^2) whose SGD SDE samples the 1-D posterior (Mandt et al.)."""
    return _at(_matching_rate(), {N: n, S: s})


def kl_optimal_learning_rate_2d(n: Any, C: Any) -> sp.Expr:
    """KL-optimal constant learning rate 4/(n tr C) in two dimensions."""
    C = sp.Matrix(C)
    return _at(_kl_rate_2d(), {N: n, C11: C[0, 0], C12: C[0, 1], C22: C[1, 1]})


def probability_velocity(h1: Any, h2: Any, C: Any, eta: Any, x: Any = X,
                         y: Any = Y) -> sp.Matrix:
    """Stationary J/p of dX = -diag(h1, h2) X dt + sqrt(eta C) dB at the point (x, y)."""
    C = sp.Matrix(C)
    return _at(_velocity(), {H1: h1, H2: h2, C11: C[0, 0], C12: C[0, 1], C22: C[1, 1],
                             ETA: eta, X: x, Y: y})


# -- the derivation -------------------------------------------------------------------------
def _hessian(expr: sp.Expr, state: list[sp.Symbol]) -> sp.Matrix:
    """The Hessian with its derivatives unevaluated (for the numeric witness)."""
    return sp.Matrix(len(state), len(state),
                     lambda i, j: sp.Derivative(expr, state[i], state[j]))


def _inverse_2x2(m: sp.Matrix) -> sp.Matrix:
    """The inverse of a 2x2 matrix by its adjugate (no elimination, entries kept as given)."""
    a, b, c, e = m
    return sp.Matrix([[e, -b], [-c, a]]) / (a * e - b * c)


def _gaussian_kl_formula(cov_q: sp.Matrix, precision_p: sp.Matrix) -> sp.Expr:
    r"""KL(N(0, S) || N(0, P^-1)) = (tr(P S) - d - ln det(P S)) / 2, unsimplified."""
    ratio = precision_p * cov_q
    return (ratio.trace() - cov_q.shape[0] - sp.log(ratio.det())) / 2


@cache
def derivation() -> Derivation:
    """Build the Lyapunov / Bayesian-learning-rate / stationary-current derivation (cached)."""
    eta, n, h, s, x, y = ETA, N, H, S, X, Y
    A, C, Hm = A_MAT, C_MAT, H_MAT
    vec = sp.Matrix([x, y])
    state = [x, y]
    c_iso = sp.Symbol("c", positive=True)
    p, Jx, Jy = sp.Function("p"), sp.Function("J_x"), sp.Function("J_y")
    KL1, KL2 = sp.Function("KL_1"), sp.Function("KL_2")
    v_post, v_sde = sp.symbols("v_posterior v_SDE", positive=True)
    eta_star_1d = 2 / (n * s**2)
    d = Derivation(
        "lyapunov",
        "SGD near a minimum: Lyapunov covariance, Bayesian learning rate, stationary current",
        witness=Witness(ranges={C11: (1, 2), C22: (1, 2), C12: (-0.5, 0.5),
                                A11: (1, 2), A22: (1, 2), A12: (-0.5, 0.5)}),
        summary="Linearised SGD is an Ornstein-Uhlenbeck process; its Lyapunov covariance "
                "fixes the learning rate that samples the posterior (Mandt et al. 2017), and "
                "non-commuting noise leaves a circulating stationary current (Chaudhari & "
                "Soatto 2018).",
    )
    pd_hyp = ("A and C are symmetric positive definite (a minimum, a non-degenerate noise), "
              "so the Lyapunov equation has exactly one solution")

    # -- the Lyapunov equation --------------------------------------------------------------
    I2 = sp.eye(2)
    shifted = A - A.trace() * I2
    S_general = eta * (A.det() * C + shifted * C * shifted.T) / (2 * A.trace() * A.det())
    d.step(
        "lyapunov-2x2",
        Claim(A * S_general + S_general * A.T, eta * C),
        "A Gaussian is stationary for dX = -A X dt + sqrt(eta C) dB when the drift's "
        "contraction A S + S A^T balances the injected noise eta C; for a symmetric 2x2 "
        "Hessian the matrix S = eta (det A C + (A - tr A I) C (A - tr A I)^T) / (2 tr A "
        "det A) solves this linear system, and it is the only solution.",
        slide=SLIDE_BAYES, check=Computed(label="the matrix products"),
        hypotheses=(pd_hyp,),
    )
    st = _noncommuting_density()
    if st.method != "gaussian-lyapunov":
        raise ArithmeticError(f"expected the Lyapunov method, symsde used {st.method}")
    if st.is_gibbs is not False:
        raise ArithmeticError(f"symsde reports is_gibbs = {st.is_gibbs}")
    U = st.potential
    sde = st.sde
    d.define(
        "density", p(x, y), sp.exp(-U),
        "symsde's stationary density (unnormalised) of the SGD SDE near a minimum in the "
        "Hessian's eigenbasis, dX = -H X dt + sqrt(eta C) dB, H = diag(h1, h2), noise "
        "factor chol(C); symsde finds it with its gaussian-lyapunov method because "
        "correlated noise makes the drift a non-gradient field for D = eta C.",
        slide=SLIDE_BAYES,
    )
    current = sde.current(p(x, y), evaluate=False)
    d.define("current-x", Jx(x, y), current[0],
             "Its probability current J = mu p - (1/2) div(D p) (SDE.current), first ...",
             slide=SLIDE_BAYES)
    d.define("current-y", Jy(x, y), current[1], "... and second component.",
             slide=SLIDE_BAYES)
    d.step(
        "stationary",
        Claim(sde.fokker_planck(p(x, y), evaluate=False), 0),
        "The engine's density is stationary: the Fokker-Planck right-hand side vanishes.",
        slide=SLIDE_BAYES,
        check=Computed(how=lambda e: sp.factor(e.doit()), label="SDE.fokker_planck(p)"),
    )
    S_eig = sp.Matrix(2, 2, lambda i, j: eta * C[i, j] / (Hm[i, i] + Hm[j, j]))
    d.step(
        "engine-covariance",
        Claim(_inverse_2x2(_hessian(U, state)), S_eig),
        "It is the Gaussian exp(-x^T S^-1 x / 2) whose covariance, the inverse Hessian of "
        "the potential, is S_ij = eta C_ij / (h_i + h_j): the case A = diag(h1, h2) of the "
        "2x2 solution.",
        slide=SLIDE_BAYES,
        check=Computed(how=lambda e: e.doit().applyfunc(sp.factor),
                       label="inverse Hessian of the engine's potential"),
    )
    sde_iso = SDE.sgd((vec.T * A * vec)[0, 0] / 2, state, eta, sp.sqrt(c_iso))
    st_iso = stationary_density(sde_iso, normalize=False)
    if st_iso.method != "potential" or not st_iso.is_gibbs:
        raise ArithmeticError(f"expected a Gibbs density by the potential method, symsde "
                              f"used {st_iso.method}")
    U_iso = st_iso.potential
    a_inv = sp.Matrix([[A22, -A12], [-A12, A11]]) / (A11 * A22 - A12**2)
    d.step(
        "isotropic-covariance",
        Claim(_inverse_2x2(_hessian(U_iso, state)), eta * c_iso / 2 * a_inv),
        "With isotropic noise C = c I the drift is a gradient for D, so symsde uses its "
        "zero-current potential method rather than the Lyapunov one; inverting the "
        "potential's Hessian gives S = (eta c/2) A^-1.",
        slide=SLIDE_BAYES, check=Computed(label="inverse Hessian of the engine's potential"),
    )
    loss_iso = (vec.T * A * vec)[0, 0] / 2
    d.step(
        "isotropic-temperature",
        Claim(loss_iso / (U_iso - U_iso.subs({x: 0, y: 0})), eta * c_iso / 2),
        "That density is Gibbs, exp(-L/T): the potential is the loss over the temperature "
        "T = eta c / 2 (symsde reports is_gibbs): the learning rate acts as a temperature, "
        "as in the notes' one-dimensional SGD SDE.",
        slide=SLIDE_BAYES, check=Computed(label="the loss over the engine's potential"),
    )

    # -- Mandt, Hoffman & Blei: the learning rate that samples the posterior --------------
    d.define(
        "posterior-variance-def", v_post,
        even_density_variance(sp.exp(-n * h * x**2 / 2), X),
        "With the average loss L = h x^2/2 over n data points (flat prior) the posterior "
        "is exp(-n L)/Z; v_posterior is its variance (the density is even, so the integrals "
        "run over the half line).",
        slide=SLIDE_BAYES,
    )
    d.step(
        "posterior-variance",
        Claim(v_post, 1 / (n * h)),
        "A Gaussian of variance 1/(n h).",
        slide=SLIDE_BAYES, check=Computed(label="Gaussian integrals"),
    )
    p_sde = stationary_density(SDE.sgd(h * x**2 / 2, [x], eta, s), normalize=False).unnormalized
    d.define(
        "sgd-sde-variance-def", v_sde, even_density_variance(p_sde, X),
        "The variance of symsde's stationary density of the one-dimensional SGD SDE with "
        "gradient-noise variance s^2, stationary_density(SDE.sgd(h x^2/2, eta, s)) (an even "
        "density: the integrals run over the half line).",
        slide=SLIDE_BAYES,
    )
    d.step(
        "sgd-sde-variance",
        Claim(v_sde, eta * s**2 / (2 * h)),
        "A Gaussian of variance eta s^2/(2h).",
        slide=SLIDE_BAYES, check=Computed(label="Gaussian integrals"),
    )
    matched = Witness(values={eta: eta_star_1d})
    why_eta = ("eta is fixed by the matching condition: its instance is the value the "
               "chain derives")
    d.step(
        "matching-condition",
        Claim(v_post, eta * s**2 / (2 * h)),
        "Mandt et al. choose the learning rate so that the SDE's stationary variance is the "
        "posterior's.",
        slide=SLIDE_BAYES,
        check=FollowsFrom(Given(v_sde, v_post, "hypothesis: eta is chosen so that the "
                                               "stationary variance equals the posterior "
                                               "variance")),
        witness=matched,
    )
    d.step(
        "matching-equation",
        Claim(1 / (n * h), eta * s**2 / (2 * h)),
        "Both variances in closed form.",
        slide=SLIDE_BAYES,
        check=FollowsFrom(Substitute("posterior-variance")), witness=matched,
    )
    d.step(
        "matching-learning-rate",
        Claim(eta, eta_star_1d),
        "Multiplying by 2h/s^2 gives the learning rate 2/(n s^2): the curvature h cancels, "
        "so one learning rate fits the whole quadratic (Mandt et al. 2017, Theorem 1 with "
        "D = 1 and minibatch size 1).",
        slide=SLIDE_BAYES,
        check=FollowsFrom(MultiplyBoth(2 * h / s**2)), witness=matched,
        no_independent_witness=why_eta,
    )
    d.step(
        "matching-check",
        Claim(even_density_variance(p_sde, X).subs(eta, eta_star_1d), 1 / (n * h)),
        "Check: at eta = 2/(n s^2) the engine's stationary variance is the posterior "
        "variance, whatever the curvature h.",
        slide=SLIDE_BAYES, check=Computed(label="Gaussian integrals"),
    )
    r1 = (eta * s**2 / (2 * h)) / (1 / (n * h))
    d.define(
        "kl-1d", KL1(eta), (r1 - 1 - sp.log(r1)) / 2,
        "Mandt et al. choose eta by minimising KL(q_eta || posterior); for two centred "
        "Gaussians of variances v_SDE and v_posterior (the steps above) it is "
        "(r - 1 - ln r)/2 with r = v_SDE / v_posterior.",
        slide=SLIDE_BAYES,
    )
    d.step(
        "kl-learning-rate",
        Claim(sp.Subs(sp.Derivative(KL1(eta), eta), eta, eta_star_1d), 0),
        "The KL is stationary in eta at the same rate 2/(n s^2) ...",
        slide=SLIDE_BAYES, check=Computed(label="derivative of the KL at eta*"),
    )
    d.step(
        "kl-minimum",
        Claim(sp.Subs(sp.Derivative(KL1(eta), (eta, 2)), eta, eta_star_1d), n**2 * s**4 / 8),
        "... where its second derivative is positive: a minimum.",
        slide=SLIDE_BAYES, check=Computed(label="second derivative of the KL at eta*"),
    )
    eta_star_2d = 4 / (n * C.trace())
    d.define(
        "kl-2d", KL2(eta), _gaussian_kl_formula(S_eig, n * Hm),
        "In two dimensions: KL(N(0, S) || N(0, (n H)^-1)) = (tr(n H S) - 2 - ln det(n H S))/2 "
        "with the engine's stationary covariance S (step engine-covariance) and the "
        "posterior precision n H, in the Hessian's eigenbasis (which leaves the KL "
        "unchanged).",
        slide=SLIDE_BAYES,
    )
    d.step(
        "kl-learning-rate-2d",
        Claim(sp.Subs(sp.Derivative(KL2(eta), eta), eta, eta_star_2d), 0),
        "The KL is stationary at 4/(n tr C) whatever the curvatures and the noise "
        "correlation: Mandt et al.'s 2 D/(N tr C) with D = 2 ...",
        slide=SLIDE_BAYES, check=Computed(label="derivative of the KL at eta*"),
    )

    d.step(
        "kl-minimum-2d",
        Claim(sp.Subs(sp.Derivative(KL2(eta), (eta, 2)), eta, eta_star_2d),
              n**2 * (C11 + C22)**2 / 16),
        "... and it is a minimum there: the second derivative is 1/eta*^2 > 0.",
        slide=SLIDE_BAYES, check=Computed(label="second derivative of the KL at eta*"),
    )

    # -- Chaudhari & Soatto: a stationary state with a current -----------------------------
    d.step(
        "noise-does-not-commute",
        Claim(Hm * C - C * Hm, C12 * (H1 - H2) * sp.Matrix([[0, 1], [-1, 0]])),
        "For a diagonal Hessian with distinct curvatures and correlated noise (C_12 != 0) "
        "the noise does not commute with the Hessian.",
        slide=SLIDE_NEQ, check=Computed(label="H C - C H"),
        no_independent_witness="a product of two explicit 2x2 matrices: after expand both "
                               "sides are the same polynomials",
    )
    det_term = C11 * C22 * (H1 + H2)**2 - 4 * H1 * H2 * C12**2
    d.step(
        "potential-not-loss",
        Claim(sp.Derivative(U, x, y), -4 * H1 * H2 * (H1 + H2) * C12 / (eta * det_term)),
        "The stationary potential U = x^T S^-1 x / 2 has a cross term x y that the loss "
        "(h1 x^2 + h2 y^2)/2 lacks, so p is not exp(-L/T) for any temperature; symsde "
        "reports is_gibbs False.",
        slide=SLIDE_NEQ, check=Computed(label="mixed derivative of the engine's potential"),
    )
    S_inv = S_eig.inv()
    # (1/2)(S H - H S) S^-1 x, each entry brought over one denominator.
    velocity = ((S_eig * Hm - Hm * S_eig) / 2 * S_inv * vec).applyfunc(sp.factor)
    d.step(
        "probability-current",
        Claim(sp.Matrix([Jx(x, y), Jy(x, y)]) / p(x, y), velocity),
        "The stationary current J = -H x p - (eta/2) C grad p equals (1/2)(S H - H S) "
        "S^-1 x p by the Lyapunov equation; it is non-zero because S and H do not commute.",
        slide=SLIDE_NEQ, check=Computed(label="SDE.current(p) / p"),
    )
    d.step(
        "current-divergence-free",
        Claim(sp.Derivative(Jx(x, y), x) + sp.Derivative(Jy(x, y), y), 0),
        "Yet the current is divergence-free (the Fokker-Planck equation is the continuity "
        "equation dp/dt = -div J), so p is stationary although J != 0.",
        slide=SLIDE_NEQ,
        check=Computed(how=lambda e: sp.factor(e.doit()), label="div J from SDE.current(p)"),
    )
    quad_form = sp.factor((vec.T * S_inv * vec)[0, 0])  # x^T S^-1 x = 2 U
    kappa = eta * C12 * (H2 - H1) / (2 * (H1 + H2))
    d.step(
        "circulation",
        Claim(x * Jy(x, y) / p(x, y) - y * Jx(x, y) / p(x, y), sp.factor(-kappa * quad_form)),
        "The angular component x J_y - y J_x has one sign everywhere: probability circulates "
        "around the minimum in a fixed direction, the stationary cycles of Chaudhari and "
        "Soatto, even for a convex quadratic loss.",
        slide=SLIDE_NEQ, check=Computed(label="x J_y - y J_x from SDE.current(p)"),
    )
    return d


# -- confirmation by simulation -------------------------------------------------------------
#: The experiment's model: curvatures, noise covariance and learning rate.
_EXPERIMENT_VALUES: dict[sp.Symbol, sp.Expr] = {
    H1: sp.Integer(1), H2: sp.Integer(4), C11: sp.Integer(1), C12: sp.Rational(3, 5),
    C22: sp.Rational(1, 2), ETA: sp.Rational(1, 10)}


def _sub_seed(seed: int, *tag: int) -> int:
    """A seed for one run of the experiment, derived from ``seed`` and the run's tag."""
    return sub_seed(seed, *tag)


def _euler_stationary_covariance(sde: SDE, dt: Any) -> sp.Matrix:
    r"""Exact stationary covariance of the Euler chain of a linear SDE with constant noise.

    The chain :math:`X' = (I + A\Delta t)X + G\sqrt{\Delta t}\,Z` (``A`` the Jacobian of the
    drift, ``G`` the SDE's diffusion coefficient) has a Gaussian stationary law whose
    covariance solves the discrete Lyapunov equation :math:`S = B S B^\top + G G^\top
    \Delta t`, :math:`B = I + A\Delta t` (:func:`symsde.linear.euler_chain_moments`). As
    :math:`\Delta t \to 0` it tends to the solution of :math:`A S + S A^\top + G G^\top = 0`.
    """
    return linear.euler_chain_moments(sde, dt)[1]


def _quadratic_expectation(q: sp.Expr, state: list[sp.Symbol], cov: sp.Matrix) -> sp.Expr:
    """E[q(X)] for a quadratic form q and X ~ N(0, cov): tr(M cov), M = Hessian(q)/2."""
    return linear.quadratic_expectation(q, state, cov)


def confirm(seed: int = 0) -> Experiment:
    r"""Simulate the non-commuting OU process: Lyapunov covariance, not Gibbs, circulating.

    Parameters
    ----------
    seed : int
        Seed of the simulation; the outcome is a deterministic function of it.

    Returns
    -------
    Experiment

    Notes
    -----
    Model: the derivation's SGD SDE near a minimum, :math:`dX = -HX\,dt +
    \sqrt{\eta C}\,dB` with :math:`H = \operatorname{diag}(1, 4)`,
    :math:`C = \begin{pmatrix}1 & 3/5\\ 3/5 & 1/2\end{pmatrix}` and :math:`\eta = 1/10`
    (``_EXPERIMENT_VALUES``), i.e. the SDE of the engine's stationary density
    ``_noncommuting_density()`` with these values; :math:`HC \ne CH`. This is Chaudhari and
    Soatto's situation: a convex quadratic loss whose stationary law is not Gibbs.

    Samples: 100 000 independent paths from :math:`X = 0`, Euler-Maruyama with
    :math:`\Delta t = 1/50` for 600 steps, so the transient
    :math:`(1 - h_1\Delta t)^{1200} < 10^{-10}` is negligible; the final states are the
    samples. One more step of every path gives the increments for the circulation.

    Discretisation: the Euler chain of a linear SDE has an exactly known Gaussian
    stationary law, whose covariance :math:`S_{\Delta t}` solves the discrete Lyapunov
    equation (``_euler_stationary_covariance``); the tests use it, so there is no
    discretisation bias. Its limit :math:`\Delta t \to 0` is checked symbolically to be
    the engine's Lyapunov covariance :math:`S_{ij} = \eta C_{ij}/(h_i + h_j)`; at
    :math:`\Delta t = 1/50` they differ by up to 4% (entry (2, 2)), which this sample size
    resolves. To test the engine's :math:`S` itself, the first 10 000 paths continue with
    :math:`\Delta t = 1/1000` for 2000 steps (:math:`t = 2`): that chain's exact law at the
    end (its discrete Lyapunov covariance plus the decaying memory of the start,
    :math:`S' + B^k(S_{1/50} - S')B^{k\top}`) differs from :math:`S` by at most 0.2%
    (entry (2, 2)), under 0.2 standard errors at that sample size (the figure is computed
    and recorded in ``data``), so there the engine's :math:`S` is the prediction.

    Tests (5 standard errors): the mean against 0 and the covariance (3 entries) against
    :math:`S_{\Delta t}` (false alarm :math:`2 \cdot 5.7\times10^{-7}` and
    :math:`3 \cdot 5.7\times10^{-7}`); the small-step covariance against the engine's
    :math:`S` (:math:`3 \cdot 5.7\times10^{-7}`, slightly more for the 0.2-standard-error
    bias); the circulation estimator
    :math:`(x_k y_{k+1} - x_{k+1} y_k)/\Delta t`, whose mean is exactly
    :math:`\mathbb{E}[x\mu_y - y\mu_x]` under the chain's stationary law (the noise is
    independent of the state), against that expectation computed by SymPy from the drift
    and :math:`S_{\Delta t}`; in continuous time it equals the derivation's
    :math:`\mathbb{E}[xJ_y/p - yJ_x/p] = -2\kappa` (recorded in ``data``). Power: the
    covariance against the Gibbs covariance :math:`T H^{-1}` of :math:`e^{-L/T}` at the
    best temperature (the maximum-likelihood :math:`\hat T = \overline{L(X)}`; its (1, 2)
    entry is 0 for every :math:`T`, so the rejection holds for every :math:`T`), and the
    circulation against 0 (a Gibbs density has zero current), must both be rejected.
    """
    t0 = time.perf_counter()
    st = _noncommuting_density()
    vals = _EXPERIMENT_VALUES
    sde = st.sde.subs(vals)
    x, y = sde.state
    if st.covariance is None:
        raise ArithmeticError("the engine gave no covariance for the Gaussian density")
    S_engine = st.covariance.subs(vals)
    dt = sp.Rational(1, 50)
    S_dt = _euler_stationary_covariance(sde, dt)
    ds = sp.Symbol("Delta_t", positive=True)
    limit = _euler_stationary_covariance(sde, ds).applyfunc(lambda e: sp.limit(e, ds, 0))
    if (limit - S_engine).applyfunc(sp.simplify) != sp.zeros(2, 2):
        raise ArithmeticError("the Euler chain's covariance does not tend to the engine's")

    n_paths, n_steps = 100_000, 600
    res = simulate(sde, x0=[0.0, 0.0], dt=float(dt), n_steps=n_steps, n_paths=n_paths,
                   seed=_sub_seed(seed, 0))
    X = res.final
    nxt = simulate(sde, x0=X, dt=float(dt), n_steps=1, n_paths=n_paths,
                   seed=_sub_seed(seed, 1)).final
    circ = (X[:, 0] * nxt[:, 1] - nxt[:, 0] * X[:, 1]) / float(dt)
    # The engine's S itself: continue 10 000 paths with a 20 times smaller step.
    dt2, n2, k2 = sp.Rational(1, 1000), 10_000, 2000
    X2 = simulate(sde, x0=X[:n2], dt=float(dt2), n_steps=k2, n_paths=n2,
                  seed=_sub_seed(seed, 2)).final
    S_dt2 = _euler_stationary_covariance(sde, dt2)
    Bk = np.linalg.matrix_power(
        np.array((sp.eye(2) + sde.drift.jacobian([x, y]) * dt2).tolist(), float), k2)
    S2_exact = (np.array(S_dt2.tolist(), float)
                + Bk @ np.array((S_dt - S_dt2).tolist(), float) @ Bk.T)

    # Predictions: the circulation from the drift, and the Gibbs covariance of the loss.
    mu = sde.drift
    circ_euler = _quadratic_expectation(sp.expand(x * mu[1] - y * mu[0]), [x, y], S_dt)
    v = probability_velocity(vals[H1], vals[H2], C_MAT.subs(vals), vals[ETA], x, y)
    circ_continuous = _quadratic_expectation(sp.expand(x * v[1] - y * v[0]), [x, y],
                                             S_engine)
    loss = sde.loss
    hess = sp.hessian(loss, [x, y])
    T_hat = float(np.mean(sp.lambdify((x, y), loss, modules="numpy")(X[:, 0], X[:, 1])))
    gibbs = (sp.Float(T_hat) * hess.inv()).evalf()

    exp = Experiment("lyapunov", "Non-commuting noise: Lyapunov covariance, not Gibbs, "
                     "with a circulating current", seed)
    exp.predict("the stationary mean is 0", mean_test(X, [0, 0]))
    exp.predict("the stationary covariance solves the Lyapunov equation (Euler chain's "
                "exact law, tending to eta C_ij/(h_i + h_j))",
                covariance_test(X, S_dt, label="covariance vs Lyapunov"))
    r2 = exp.predict("dt = 1/1000: the stationary covariance is the engine's Lyapunov "
                     "solution eta C_ij/(h_i + h_j)",
                     covariance_test(X2, S_engine, label="covariance vs engine"))
    bias_se = np.abs(S2_exact - np.array(S_engine.tolist(), float)) / np.asarray(
        r2.details["standard_error"])
    exp.predict("the stationary current circulates: E[x mu_y - y mu_x] = "
                f"{sp.nsimplify(circ_euler)} (continuous time: -2 kappa = {circ_continuous})",
                mean_test(circ, circ_euler, label="circulation"))
    exp.reject(f"Gibbs exp(-L/T) at the best temperature T = {T_hat:.5g}: covariance T H^-1",
               covariance_test(X, gibbs, label="covariance vs Gibbs"))
    exp.reject("zero current (detailed balance, as for any Gibbs density)",
               mean_test(circ, 0.0, label="circulation"))

    exp.data = {"samples": X[:2000], "covariance_engine": np.array(S_engine.tolist(), float),
                "covariance_euler": np.array(S_dt.tolist(), float),
                "covariance_sample": res.cov, "gibbs_temperature": T_hat,
                "covariance_gibbs": np.array(gibbs.tolist(), float),
                "circulation": float(circ.mean()), "circulation_euler": float(circ_euler),
                "circulation_continuous": float(circ_continuous), "dt": float(dt),
                "small_step": {"dt": float(dt2), "n_paths": n2, "n_steps": k2,
                               "exact_covariance": S2_exact,
                               "bias_in_standard_errors": bias_se}}
    exp.seconds = time.perf_counter() - t0
    return exp
