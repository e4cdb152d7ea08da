r"""The SGD SDE: gradient noise, its continuous-time limit, and its stationary densities.

Slides *The SGD SDE*, *Gradient Noise*, *The SGD SDE in One Dimension*, *The SGD SDE in
Higher Dimension* and *The SGD SDE, A Counter Example*.

The stochastic gradient is the total gradient plus zero-mean noise,
:math:`\hat g = g(\Phi) + (\hat g - g(\Phi))`, :math:`E\hat g = g`. Over :math:`N` SGD
steps with :math:`\Phi` nearly frozen,

.. math:: \Phi_{i+N} \approx \Phi_i - \eta N g - \eta\sum_{j=1}^N(\hat g_j - g),

and the noise sum has covariance :math:`N\Sigma` (cumulants of independent draws add)
and is asymptotically Gaussian (its standardised cumulant generating function tends to
:math:`u^2/2`), so it is :math:`\sqrt N\epsilon`, :math:`\epsilon \sim \mathcal{N}(0,\Sigma)`.
With :math:`\Delta t = N\eta`, :math:`\eta\sqrt N = \sqrt\eta\sqrt{\Delta t}`:

.. math:: \Phi(t+\Delta t) = \Phi(t) - g\,\Delta t + \sqrt\eta\,\sigma(\Phi)\epsilon\sqrt{\Delta t},
          \qquad \sigma\sigma^\top = \Sigma,

the SDE :math:`d\Phi = -g\,dt + \sqrt\eta\,\sigma\,dB` with diffusion matrix
:math:`\eta\Sigma` (``SDE.sgd``). In one dimension with constant :math:`\sigma` it is the
Langevin SDE with noise :math:`\sqrt\eta\sigma`, whose stationary density is
:math:`e^{-2\mathcal{L}/(\eta\sigma^2)}/Z`: Gibbs at temperature :math:`\eta\sigma^2/2`.
In two dimensions with :math:`\mathcal{L}(x) + \mathcal{L}(y)` and diagonal noise
:math:`(\sigma_x, \sigma_y)` the density
:math:`\exp(-2\mathcal{L}(x)/(\eta\sigma_x^2) - 2\mathcal{L}(y)/(\eta\sigma_y^2))/Z` needs
the temperature :math:`\eta\sigma_x^2/2` along :math:`x` and :math:`\eta\sigma_y^2/2`
along :math:`y`; one temperature fits only if :math:`\sigma_x = \sigma_y`, so it is not
Gibbs. With coupled loss and anisotropic noise there is not even a zero-current density.
"""

from __future__ import annotations

from functools import cache

import sympy as sp
from sympy import stats
from sympy.stats.rv import RandomSymbol

from symsde import SDE, StationaryDensity, stationary_density
from symsde.proof import Claim, Derivation, Value, Witness

__all__ = ["derivation"]

SLIDE_SGD = "The SGD SDE"
SLIDE_NOISE = "Gradient Noise"
SLIDE_1D = "The SGD SDE in One Dimension"
SLIDE_HD = "The SGD SDE in Higher Dimension"
SLIDE_CE = "The SGD SDE, A Counter Example"


@cache
def _rademacher() -> RandomSymbol:
    """A +-1 sign with probability 1/2 each (sympy.stats)."""
    return stats.Bernoulli("b", sp.Rational(1, 2), succ=1, fail=-1)


@cache
def _normal_moment(k: int) -> sp.Expr:
    """E[eps^k] for a standard normal eps, from sympy.stats."""
    return stats.E(stats.Normal("epsilon", 0, 1) ** k)


def _expect(expr: sp.Expr, noises: tuple[sp.Symbol, ...]) -> sp.Expr:
    """Expectation of a polynomial in independent standard normals (moments multiply)."""
    poly = sp.Poly(sp.expand(expr), *noises)
    return sp.Add(*[coeff * sp.Mul(*[_normal_moment(k) for k in powers])
                    for powers, coeff in poly.terms()])


@cache
def derivation() -> Derivation:
    """Build the SGD-SDE derivation (cached)."""
    phi = sp.Symbol("Phi", real=True)
    eta, N, Sigma, u = sp.symbols("eta N Sigma u", positive=True)
    g = sp.Symbol("g", real=True)
    dt = sp.Symbol("Delta_t", positive=True)
    x, y = sp.symbols("x y", real=True)
    sigma, sx, sy, Z = sp.symbols("sigma sigma_x sigma_y Z", positive=True)
    S11, S22 = sp.symbols("Sigma11 Sigma22", positive=True)
    S12 = sp.Symbol("Sigma12", real=True)
    L = sp.Function("L")
    L2 = sp.Function("L2")
    ell = sp.Function("ell")
    a, b, c = sp.symbols("a b c", real=True)

    loss_instance = sp.Lambda(a, a**4 / 4 + a**2 / 2 - a / 3)
    witness = Witness(
        functions={
            L: loss_instance,
            L2: sp.Lambda((a, b), a**4 / 4 + a * b + b**2 + sp.sin(a) * b / 3),
            ell: sp.Lambda((a, b, c), (a * b - c) ** 2 / 2 + a**4 / 8),
        },
        # keep the sampled Sigma positive definite
        ranges={S11: (1, 2), S22: (1, 2), S12: (-sp.Rational(1, 2), sp.Rational(1, 2))},
    )
    d = Derivation(
        "sgd_sde",
        "The SGD SDE and its (non-)Gibbs stationary densities",
        witness=witness,
        summary="Gradient noise summed over N = Delta t/eta steps gives "
                "dPhi = -g dt + sqrt(eta) sigma dB; in 1-D it is Gibbs at temperature "
                "eta sigma^2/2, in 2-D with unequal noise it is not Gibbs.",
    )
    E = sp.Function("E")
    Var = sp.Function("Var")
    ghat = sp.Symbol("ghat")

    # ---- Gradient Noise -------------------------------------------------------------------
    xs = sp.symbols("x1:4", real=True)
    ys = sp.symbols("y1:4", real=True)
    per_example = [sp.Derivative(ell(phi, xi, yi), phi) for xi, yi in zip(xs, ys, strict=True)]
    train_loss = sp.Add(*[ell(phi, xi, yi) for xi, yi in zip(xs, ys, strict=True)]) / len(xs)
    d.step(
        "unbiased-gradient",
        Claim(E(ghat), sp.Derivative(train_loss, phi)),
        "The gradient of a uniformly drawn training example (sympy.stats, three examples) "
        "has mean equal to the gradient of the training loss, so g_hat - g(Phi) is "
        "zero-mean noise.",
        slide=SLIDE_NOISE,
        check=Value(lambda: stats.E(stats.DiscreteUniform("ghat", per_example)),
                    label="E of the per-example gradient under a uniform draw"),
        equations=("E44",),
    )

    # Gradient noise of covariance Sigma: a training set whose per-example gradients are
    # g + sqrt(Sigma) and g - sqrt(Sigma). The noise is not Gaussian; only its cumulants
    # are used, and cumulants of independent draws add.
    def step_cgf(v: sp.Expr) -> sp.Expr:
        """log E exp(v (g_hat - g)) for one draw."""
        mgf = stats.E(sp.exp(v * sp.sqrt(Sigma) * _rademacher()))
        return sp.log(sp.exptrigsimp(mgf))  # (e^x + e^-x)/2 written as cosh x

    def noise_sum_variance() -> sp.Expr:
        K = N * step_cgf(u)
        return sp.diff(K, u, 2).subs(u, 0)

    noise_sum = sp.Sum(sp.Function("ghat")(sp.Symbol("j")) - g, (sp.Symbol("j"), 1, N))
    d.step(
        "noise-sum-covariance",
        Claim(Var(noise_sum), N * Sigma),
        "The cumulant generating function of a sum of N independent noises is N times "
        "that of one; its second derivative at 0 shows the sum has covariance N Sigma.",
        slide=SLIDE_NOISE,
        check=Value(noise_sum_variance, label="K''(0) with K = N log E exp(u (g_hat - g))"),
        equations=("E45",),
    )
    d.step(
        "noise-sum-gaussian",
        Claim(sp.Limit(sp.Function("K_sum")(u / sp.sqrt(N * Sigma)), N, sp.oo), u**2 / 2),
        "Standardised by sqrt(N Sigma), the noise sum has a cumulant generating function "
        "that tends to u^2/2, that of a standard normal: for large N it is approximately "
        "sqrt(N) eps with eps ~ N(0, Sigma).",
        slide=SLIDE_NOISE,
        check=Value(lambda: sp.limit(N * step_cgf(u / sp.sqrt(N * Sigma)), N, sp.oo),
                    label="limit N -> oo of N K_step(u / sqrt(N Sigma))"),
        equations=("E46",),
    )

    def n_step_moments(n_steps: sp.Expr) -> sp.Matrix:
        # Phi_{i+N} - Phi_i = -eta N g - eta (noise sum): cumulants of the displacement.
        K = -u * eta * n_steps * g + n_steps * step_cgf(-eta * u)
        mean = sp.diff(K, u).subs(u, 0)
        var = sp.diff(K, u, 2).subs(u, 0)
        return sp.Matrix([sp.expand(mean), sp.expand(var)])

    disp = sp.Symbol("Phi_iN") - sp.Symbol("Phi_i")
    d.step(
        "n-step-moments",
        Claim(sp.Matrix([E(disp), Var(disp)]), sp.Matrix([-eta * N * g,
                                                          (eta * sp.sqrt(N)) ** 2 * Sigma])),
        "With Phi frozen over the N steps, the displacement -eta N g - eta (noise sum) "
        "has mean -eta N g and the variance of eta sqrt(N) eps, eps ~ N(0, Sigma).",
        slide=SLIDE_NOISE,
        check=Value(lambda: n_step_moments(N), label="cumulants of the N-step displacement"),
        equations=("E45", "E46"),
    )

    @cache
    def n_of_dt() -> sp.Expr:
        (solution,) = sp.linsolve([sp.Eq(dt, N * eta)], [N])  # Delta t = N eta is linear in N
        return solution[0]

    d.step(
        "eta-sqrt-n",
        Claim(eta * sp.sqrt(N), sp.sqrt(eta) * sp.sqrt(dt)),
        "Solving Delta t = N eta for N gives N = Delta t/eta, and then "
        "eta sqrt(Delta t/eta) = sqrt(eta) sqrt(Delta t).",
        slide=SLIDE_NOISE,
        check=Value(lambda: eta * sp.sqrt(n_of_dt()), label="solve Delta t = N eta, substitute"),
        equations=("E47",),
    )
    d.step(
        "time-step-moments",
        Claim(sp.Matrix([E(disp), Var(disp)]), sp.Matrix([-g * dt,
                                                          (sp.sqrt(eta) * sp.sqrt(dt)) ** 2
                                                          * Sigma])),
        "Measured in time Delta t = N eta, the displacement has mean -g Delta t and the "
        "variance of sqrt(eta) eps sqrt(Delta t): the noise scale is set by the learning "
        "rate.",
        slide=SLIDE_NOISE,
        check=Value(lambda: n_step_moments(n_of_dt()),
                    label="cumulants of the displacement at N = Delta t/eta"),
        equations=("E47",),
    )

    # ---- The SGD SDE ----------------------------------------------------------------------
    phi_i = sp.Symbol("Phi_i", real=True)
    n_fixed = sp.Symbol("n", integer=True, positive=True)
    d.define("E42", SLIDE_SGD,
             "the SGD update rule defines the algorithm being modelled; it is not a claim")
    d.step(
        "few-steps-barely-move",
        Claim(sp.Limit(E(sp.Symbol("Phi_in")), eta, 0), phi_i),
        "For a fixed number n of steps the expected parameter Phi_i - eta n g tends to "
        "Phi_i as eta -> 0 (and its variance eta^2 n Sigma vanishes): N can be chosen so "
        "that Phi_{i+N} is close to Phi_i.",
        slide=SLIDE_SGD,
        check=Value(lambda: sp.limit(phi_i + n_step_moments(n_fixed)[0], eta, 0),
                    label="limit eta -> 0 of the n-step mean"),
        equations=("E43",),
    )

    Sig = sp.Matrix([[S11, S12], [S12, S22]])
    root = Sig.cholesky(hermitian=False)  # a square root sigma(Phi): root * root^T = Sigma
    e1, e2 = sp.symbols("epsilon1 epsilon2", real=True)
    Cov = sp.Function("Cov")

    def root_noise_covariance() -> sp.Matrix:
        noise = root * sp.Matrix([e1, e2])
        return (noise * noise.T).applyfunc(lambda e: _expect(e, (e1, e2)))

    d.step(
        "noise-square-root",
        Claim(Cov(sp.Symbol("sigma_eps")), Sig),
        "With sigma(Phi) a square root of Sigma (here its Cholesky factor) and eps ~ N(0, I), "
        "sigma eps has covariance sigma sigma^T = Sigma, so N(0, Sigma) noise may be written "
        "sigma(Phi) eps.",
        slide=SLIDE_SGD,
        check=Value(root_noise_covariance, label="E[(sigma eps)(sigma eps)^T]"),
        equations=("E48", "E49"),
    )
    x1, x2 = sp.symbols("x1 x2", real=True)
    sde_2d = SDE.sgd(L2(x1, x2), [x1, x2], eta, root)
    d.step(
        "sgd-sde-diffusion",
        Claim(sp.Function("D")(sp.Symbol("SGD")), eta * Sig),
        "SDE.sgd builds dPhi = -grad L dt + sqrt(eta) sigma dB; its diffusion matrix is "
        "eta Sigma, the variance per unit time of the update above.",
        slide=SLIDE_SGD,
        check=Value(lambda: sde_2d.diffusion_matrix, label="SDE.sgd(L, eta, sigma).D"),
        equations=("E48", "E49"),
    )

    # ---- One dimension --------------------------------------------------------------------
    sde_1d = SDE.sgd(L(x), [x], eta, sigma)
    coeffs = sp.Matrix([-sp.Derivative(L(x), x), eta * sigma**2])
    drift_name, diff_name = sp.Function("mu"), sp.Function("D")
    d.step(
        "sgd-1d-sde",
        Claim(sp.Matrix([drift_name(x), diff_name(x)]), coeffs),
        "In one dimension with constant gradient noise sigma the SGD SDE has drift -L'(x) "
        "and diffusion eta sigma^2.",
        slide=SLIDE_1D,
        check=Value(lambda: sp.Matrix([sde_1d.drift[0], sde_1d.diffusion_matrix[0, 0]]),
                    label="SDE.sgd(L, [x], eta, sigma) drift and D"),
        equations=("E50",),
    )
    sde_lv = SDE.langevin(L(x), [x], sp.sqrt(eta) * sigma)
    d.step(
        "sgd-1d-is-langevin",
        Claim(sp.Matrix([drift_name(x), diff_name(x)]), coeffs),
        "The Langevin SDE with noise level sqrt(eta) sigma has the same drift and diffusion: "
        "the one-dimensional SGD SDE is a Langevin SDE.",
        slide=SLIDE_1D,
        check=Value(lambda: sp.Matrix([sde_lv.drift[0], sde_lv.diffusion_matrix[0, 0]]),
                    label="SDE.langevin(L, [x], sqrt(eta) sigma) drift and D"),
    )

    @cache
    def density_1d() -> StationaryDensity:
        return stationary_density(sde_1d, normalize=False)

    p = sp.Function("p")
    d.step(
        "sgd-1d-density",
        Claim(p(x), sp.exp(-2 * L(x) / (eta * sigma**2)) / Z),
        "The zero-current stationary density of the SGD SDE, from stationary_density, is "
        "exp(-2 L/(eta sigma^2)) up to the normaliser Z.",
        slide=SLIDE_1D,
        check=Value(lambda: density_1d().unnormalized / Z,
                    label="stationary_density(SDE.sgd(L, eta, sigma))"),
        equations=("E51",),
    )
    T = sp.Symbol("T")
    d.step(
        "sgd-1d-temperature",
        Claim(T, eta * sigma**2 / 2),
        "That density is Gibbs, exp(-L/T), with temperature eta sigma^2/2: the learning "
        "rate acts as a temperature.",
        slide=SLIDE_1D,
        check=Value(lambda: density_1d().temperature, label="StationaryDensity.temperature"),
        equations=("E51",),
    )

    # ---- Higher dimension -----------------------------------------------------------------
    hess = sp.Matrix([[sp.Derivative(L2(x1, x2), x1, x1), sp.Derivative(L2(x1, x2), x1, x2)],
                      [sp.Derivative(L2(x1, x2), x1, x2), sp.Derivative(L2(x1, x2), x2, x2)]])
    d.step(
        "sgd-drift-is-gradient",
        Claim(sp.Function("J")(sp.Symbol("mu")), -hess),
        "The Jacobian of the SGD drift is minus the Hessian of the loss, a symmetric "
        "matrix: the drift is a gradient field, unlike the drift of a general SDE, while "
        "the noise factor sigma(Phi) is arbitrary.",
        slide=SLIDE_HD,
        check=Value(lambda: sde_2d.drift.jacobian([x1, x2]), label="Jacobian of SDE.sgd drift"),
        equations=("E52",),
    )
    ka, kc = sp.symbols("k_a k_c", positive=True)
    kb = sp.Symbol("k_b", real=True)
    coupled = (ka * x1**2 + 2 * kb * x1 * x2 + kc * x2**2) / 2

    def zero_current_curl() -> sp.Expr:
        sde = SDE.sgd(coupled, [x1, x2], eta, [sx, sy])
        F = sde.diffusion_matrix.inv() * 2 * sde.drift  # = -grad U if p = exp(-U) has J = 0
        return sp.factor(sp.diff(F[1], x1) - sp.diff(F[0], x2))

    d.step(
        "anisotropic-noise-curl",
        Claim(sp.Function("curl")(sp.Symbol("F")),
              2 * kb * (sy**2 - sx**2) / (eta * sx**2 * sy**2)),
        "For a coupled quadratic loss with noise levels sigma_x != sigma_y, the field "
        "D^-1 (2 mu) that a zero-current density exp(-U) would have as -grad U has a "
        "non-zero curl: no such density exists, let alone a Gibbs one.",
        slide=SLIDE_HD,
        check=Value(zero_current_curl, label="curl of D^-1 (2 mu) for SDE.sgd"),
        equations=("E52",),
    )

    # ---- A Counter Example ----------------------------------------------------------------
    total = L(x) + L(y)
    sde_ce = SDE.sgd(total, [x, y], eta, [sx, sy])

    @cache
    def density_ce() -> StationaryDensity:
        return stationary_density(sde_ce, normalize=False)

    d.step(
        "counterexample-density",
        Claim(p(x, y), sp.exp(-2 * L(x) / (eta * sx**2) - 2 * L(y) / (eta * sy**2)) / Z),
        "For the separable loss L(x) + L(y) with constant diagonal noise (sigma_x, "
        "sigma_y), stationary_density finds the zero-current density: each coordinate "
        "behaves as a one-dimensional SGD.",
        slide=SLIDE_CE,
        check=Value(lambda: density_ce().unnormalized / Z,
                    label="stationary_density(SDE.sgd(L(x) + L(y), eta, [sigma_x, sigma_y]))"),
        equations=("E53",),
    )

    def temperatures() -> sp.Matrix:
        # A Gibbs form exp(-(L(x) + L(y))/T) needs grad U = grad(L(x) + L(y))/T: solve for
        # T from each coordinate of the engine's potential U.
        U = density_ce().potential
        Tv = sp.Symbol("T", positive=True)
        out = [sp.solve(sp.Eq(sp.diff(U, s), sp.diff(total, s) / Tv), Tv)[0] for s in (x, y)]
        return sp.Matrix(out)

    d.step(
        "counterexample-temperatures",
        Claim(sp.Matrix([sp.Symbol("T_x"), sp.Symbol("T_y")]),
              sp.Matrix([eta * sx**2 / 2, eta * sy**2 / 2])),
        "Matching the density to exp(-(L(x) + L(y))/T) coordinate by coordinate requires "
        "T = eta sigma_x^2/2 along x but T = eta sigma_y^2/2 along y.",
        slide=SLIDE_CE,
        check=Value(temperatures, label="solve dU/ds = dL/ds / T for each coordinate s"),
    )
    d.step(
        "single-temperature-condition",
        Claim(sp.Symbol("sigma_y_Gibbs"), sx),
        "The two temperatures agree only for sigma_y = sigma_x (solve T_x = T_y), so for "
        "unequal noise levels no single temperature exists.",
        slide=SLIDE_CE,
        check=Value(lambda: sp.solve(sp.Eq(*temperatures()), sy)[0],
                    label="solve T_x = T_y for sigma_y"),
    )

    def temperature_ratio_if_not_gibbs() -> sp.Expr:
        st = density_ce()
        if st.is_gibbs is not False:
            raise AssertionError(f"stationary_density reports is_gibbs = {st.is_gibbs}")
        Tx, Ty = temperatures()
        return sp.cancel(Tx / Ty)

    d.step(
        "counterexample-not-gibbs",
        Claim(sp.Symbol("T_x") / sp.Symbol("T_y"), sx**2 / sy**2),
        "The engine's is_gibbs test agrees that the density is not Gibbs; the two "
        "temperatures differ by the factor sigma_x^2/sigma_y^2.",
        slide=SLIDE_CE,
        check=Value(temperature_ratio_if_not_gibbs,
                    label="is_gibbs is False; ratio of the coordinate temperatures"),
    )

    def equal_noise_temperature() -> sp.Expr:
        st = stationary_density(SDE.sgd(total, [x, y], eta, [sx, sx]), normalize=False)
        return st.temperature

    d.step(
        "equal-noise-is-gibbs",
        Claim(T, eta * sx**2 / 2),
        "Control: with equal noise levels sigma_y = sigma_x the engine does find a Gibbs "
        "density, at temperature eta sigma_x^2/2.",
        slide=SLIDE_CE,
        check=Value(equal_noise_temperature, label="stationary_density(...).temperature"),
    )
    return d
