r"""A general SDE: the Euler form (1) and the differential form (2) are one object.

Slide *A General SDE*. The notes write the same process twice,

.. math::

    x(t + \Delta t) = x(t) + \mu(x, t)\Delta t + \sigma(x, t)\epsilon\sqrt{\Delta t},
    \quad \epsilon \sim \mathcal{N}(0, I) \qquad (1)

    dx = \mu(x, t)\,dt + \sigma(x, t)\,dB \qquad (2)

with :math:`\sigma` a matrix. Form (1) determines the conditional moments of an
increment, :math:`E[\Delta x] = \mu\Delta t` and
:math:`\operatorname{Cov}[\Delta x] = \sigma\sigma^\top\Delta t`; these are the drift and
the diffusion matrix :math:`D = \sigma\sigma^\top` of the object (2) (``symsde.SDE``).
The calculus of (2) follows from (1) by Taylor expansion with
:math:`dB^2 \to dt`: Ito's lemma

.. math:: df(X) = \Big(\mu f' + \tfrac12\sigma^2 f''\Big)dt + \sigma f'\,dB,

e.g. :math:`d\log X = (a - b^2/2)dt + b\,dB` for :math:`dX = aX\,dt + bX\,dB`, consistent
with :math:`E[X_t] = X_0 e^{at}`; and the generator
:math:`\mathcal{A}f = \mu\cdot\nabla f + \tfrac12\operatorname{tr}(\sigma\sigma^\top\nabla^2 f)`
is the rate :math:`\frac{d}{dt}E f(X_t)\big|_{t=0}` of the Euler scheme (1).
"""

from __future__ import annotations

from functools import cache

import sympy as sp
from sympy import stats

from symsde import SDE, ito_lemma
from symsde.proof import Claim, Derivation, Value, Witness

__all__ = ["derivation"]

SLIDE = "A General SDE"


@cache
def _normal_moment(k: int) -> sp.Expr:
    """E[eps^k] for a standard normal eps, from sympy.stats."""
    return stats.E(stats.Normal("epsilon", 0, 1) ** k)


def _expect(expr: sp.Expr, noises: tuple[sp.Symbol, ...]) -> sp.Expr:
    """Expectation over independent standard normals ``noises`` of a polynomial in them.

    Each monomial e_1^k_1 ... e_m^k_m is replaced by the product of the moments
    E[e^k_i] (independence), the moments coming from sympy.stats.
    """
    poly = sp.Poly(sp.expand(expr), *noises)
    return sp.Add(*[coeff * sp.Mul(*[_normal_moment(k) for k in powers])
                    for powers, coeff in poly.terms()])


def _taylor(f: sp.Expr, state: tuple[sp.Symbol, ...], shift: sp.Matrix, order: int) -> sp.Expr:
    """f(x + shift) to the given order: sum_k (shift . grad)^k f / k!.

    The shift is frozen (held by dummies) while the directional derivatives are taken.
    """
    frozen = [sp.Dummy(f"d{i}") for i in range(len(state))]
    term, total = f, f
    for k in range(1, order + 1):
        term = sp.Add(*[frozen[i] * sp.diff(term, s) for i, s in enumerate(state)])
        total += term / sp.factorial(k)
    return total.subs(dict(zip(frozen, shift, strict=True)), simultaneous=True)


@cache
def derivation() -> Derivation:
    """Build the general-SDE derivation (cached)."""
    x1, x2 = sp.symbols("x1 x2", real=True)
    t = sp.Symbol("t", real=True)
    dt = sp.Symbol("Delta_t", positive=True)
    e1, e2 = sp.symbols("epsilon1 epsilon2", real=True)
    state = (x1, x2)
    noises = (e1, e2)

    mu_f = [sp.Function(f"mu{i}") for i in (1, 2)]
    sig_f = [[sp.Function(f"sigma{i}{j}") for j in (1, 2)] for i in (1, 2)]
    mu = sp.Matrix([m(x1, x2, t) for m in mu_f])
    sig = sp.Matrix(2, 2, lambda i, j: sig_f[i][j](x1, x2, t))
    f2 = sp.Function("f")

    x = sp.Symbol("x", real=True)
    m1, s1, f1 = sp.Function("mu"), sp.Function("sigma"), sp.Function("phi")

    a, b, c = sp.symbols("a b c", real=True)
    witness = Witness(functions={
        mu_f[0]: sp.Lambda((a, b, c), a - b**3 + c / 2),
        mu_f[1]: sp.Lambda((a, b, c), sp.sin(a) * b - c),
        sig_f[0][0]: sp.Lambda((a, b, c), 1 + a**2 / 3 + c**2),
        sig_f[0][1]: sp.Lambda((a, b, c), a * b - c / 3),
        sig_f[1][0]: sp.Lambda((a, b, c), sp.cos(b) + c),
        sig_f[1][1]: sp.Lambda((a, b, c), 2 + sp.exp(a / 4) * b),
        f2: sp.Lambda((a, b), sp.sin(a) * sp.exp(b / 3) + a**2 * b),
        m1: sp.Lambda(a, a - a**3),
        s1: sp.Lambda(a, sp.sqrt(1 + a**2)),
        f1: sp.Lambda(a, sp.exp(a / 2) + a**4),
    })
    d = Derivation(
        "general_sde",
        "A general SDE: Euler form and differential form",
        witness=witness,
        summary="The Euler scheme (1) has conditional mean mu dt and covariance sigma "
                "sigma^T dt, the drift and diffusion matrix of dx = mu dt + sigma dB (2); "
                "Ito's lemma and the generator follow from (1) by Taylor expansion.",
    )

    sde = SDE(list(state), list(mu), sig, time=t)
    increment = mu * dt + sig * sp.Matrix(noises) * sp.sqrt(dt)  # x(t + dt) - x(t) by (1)

    def euler_mean() -> sp.Matrix:
        return increment.applyfunc(lambda e: _expect(e, noises)) / dt

    def euler_covariance() -> sp.Matrix:
        mean = increment.applyfunc(lambda e: _expect(e, noises))
        dev = increment - mean
        return (dev * dev.T).applyfunc(lambda e: _expect(e, noises)) / dt

    E = sp.Function("E")
    Cov = sp.Function("Cov")
    dx = [sp.Symbol("Delta_x1"), sp.Symbol("Delta_x2")]
    d.step(
        "euler-mean-is-drift",
        Claim(sp.Matrix([E(dx[0]), E(dx[1])]) / dt, sde.drift),
        "Averaging the Euler update (1) over the zero-mean noise leaves mu(x, t) Delta t, "
        "so its rate is the drift of the SDE object (2).",
        slide=SLIDE,
        check=Value(euler_mean, label="E[increment of (1)]/Delta t with sympy.stats moments"),
        equations=("E40", "E41"),
    )
    d.step(
        "euler-covariance-is-diffusion",
        Claim(sp.Matrix(2, 2, lambda i, j: Cov(dx[i], dx[j])) / dt, sde.diffusion_matrix),
        "The noise of (1) is sigma eps sqrt(Delta t) with independent unit normals, so its "
        "covariance is sigma sigma^T Delta t: per unit time it is the diffusion matrix "
        "D = sigma sigma^T of (2), entry by entry.",
        slide=SLIDE,
        check=Value(euler_covariance, label="Cov[increment of (1)]/Delta t"),
        equations=("E40", "E41"),
    )

    # ---- Ito's lemma in one dimension ---------------------------------------------------
    sde1 = SDE([x], [m1(x)], [[s1(x)]])
    ito_rule = sp.Matrix([
        m1(x) * sp.Derivative(f1(x), x) + s1(x) ** 2 * sp.Derivative(f1(x), (x, 2)) / 2,
        s1(x) * sp.Derivative(f1(x), x),
    ])
    dB, hh = sp.symbols("dB h", real=True)
    dtt = sp.Symbol("dt", positive=True)

    def ito_by_taylor() -> sp.Matrix:
        # Scale dt = h^2 and dB = h * beta, expand f(x + mu dt + sigma dB) to O(h^2),
        # then apply dB^2 -> dt (beta^2 -> 1) and read off the dt and dB coefficients.
        beta = sp.Symbol("beta", real=True)
        series = sp.series(f1(x + m1(x) * hh**2 + s1(x) * beta * hh), hh, 0, 3).removeO()
        df = sp.expand(series.doit() - f1(x))
        df = df.subs(beta**2 * hh**2, dtt).subs(hh**2, dtt).subs(beta * hh, dB)
        df = sp.expand(df)
        return sp.Matrix([df.coeff(dtt, 1).coeff(dB, 0), df.coeff(dB, 1)])

    Dft = sp.Function("drift")
    Dfb = sp.Function("noise")
    d.step(
        "ito-by-taylor",
        Claim(sp.Matrix([Dft(f1(x)), Dfb(f1(x))]), ito_rule),
        "Expanding f(X + mu dt + sigma dB) by series to second order and keeping dB^2 = dt "
        "(but dropping dt^2 and dt dB) gives the dt coefficient mu f' + sigma^2 f''/2 and "
        "the dB coefficient sigma f'.",
        slide=SLIDE,
        check=Value(ito_by_taylor, label="series of f(x + mu dt + sigma dB), dB^2 -> dt"),
    )
    d.step(
        "ito-engine",
        Claim(sp.Matrix([Dft(f1(x)), Dfb(f1(x))]), ito_rule),
        "symsde.ito_lemma, applied to the SDE object (2), returns the same drift and noise "
        "coefficients for f(X).",
        slide=SLIDE,
        check=Value(lambda: sp.Matrix([ito_lemma(sde1, f1(x)).drift[0],
                                       ito_lemma(sde1, f1(x)).diffusion[0]]),
                    label="ito_lemma(SDE(mu, sigma), f)"),
    )

    xp = sp.Symbol("X", positive=True)
    ga, gb = sp.symbols("a b", positive=True)
    gbm = SDE([xp], [ga * xp], [[gb * xp]])
    d.step(
        "gbm-log",
        Claim(sp.Matrix([Dft(sp.log(xp)), Dfb(sp.log(xp))]), sp.Matrix([ga - gb**2 / 2, gb])),
        "For geometric Brownian motion dX = a X dt + b X dB, Ito's lemma gives "
        "d log X = (a - b^2/2) dt + b dB: the second-order term lowers the drift by b^2/2.",
        slide=SLIDE,
        check=Value(lambda: sp.Matrix([ito_lemma(gbm, sp.log(xp)).drift[0],
                                       ito_lemma(gbm, sp.log(xp)).diffusion[0]]),
                    label="ito_lemma(GBM, log X)"),
    )
    x0 = sp.Symbol("X_0", positive=True)
    tp = sp.Symbol("t", positive=True)

    def gbm_mean() -> sp.Expr:
        # X_t = X_0 exp(drift_log t + b B_t), B_t ~ N(0, t); E exp(b B_t) is the MGF at b.
        drift_log = ito_lemma(gbm, sp.log(xp)).drift[0]
        mgf = stats.moment_generating_function(stats.Normal("B_t", 0, sp.sqrt(tp)))
        return sp.simplify(x0 * sp.exp(drift_log * tp) * mgf(gb))

    d.step(
        "gbm-mean",
        Claim(E(sp.Function("X")(tp)), x0 * sp.exp(ga * tp)),
        "Integrating d log X gives X_t = X_0 exp((a - b^2/2) t + b B_t); the Gaussian "
        "moment generating function of B_t ~ N(0, t) restores exp(b^2 t/2), so "
        "E[X_t] = X_0 e^(a t), as the drift a X of (2) requires.",
        slide=SLIDE,
        check=Value(gbm_mean, label="X_0 exp(Ito drift * t) * MGF of B_t at b"),
    )

    # ---- The generator as a rate -------------------------------------------------------
    def generator_by_euler() -> sp.Expr:
        h = sp.Symbol("h", positive=True)  # h = sqrt(Delta t)
        shift = mu * h**2 + sig * sp.Matrix(noises) * h
        expected = _expect(_taylor(f2(x1, x2), state, shift, 2), noises)
        rate = sp.expand((expected - f2(x1, x2)) / h**2)
        # rate is a polynomial in h (no negative powers: the O(h) term has mean zero), so
        # its limit as h -> 0 is its value at h = 0.
        if not rate.is_polynomial(h):
            raise ValueError(f"E f(X_dt) - f(x) is not O(dt): {rate}")
        return rate.subs(h, 0)

    d.step(
        "generator-is-rate",
        Claim(sp.Limit((E(f2(sp.Symbol("X_Delta_t1"), sp.Symbol("X_Delta_t2"))) - f2(x1, x2))
                       / dt, dt, 0),
              sde.generator(f2(x1, x2))),
        "Expanding f(x + mu Delta t + sigma eps sqrt(Delta t)) in sqrt(Delta t), averaging "
        "over eps and letting Delta t -> 0 gives the rate of change of E f(X_t) at t = 0; "
        "it is the generator mu . grad f + tr(sigma sigma^T Hess f)/2 of the SDE object.",
        slide=SLIDE,
        check=Value(generator_by_euler, label="Taylor expansion of the Euler step, "
                                              "expectation, limit Delta t -> 0"),
    )
    return d
