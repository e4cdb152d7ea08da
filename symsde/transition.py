"""Transition densities :math:`p(x, t \\mid x_0)` in closed form.

Three families, each returned only after it is checked to solve the Fokker-Planck
equation :math:`\\partial_t p = \\mathcal{L}^* p` (by :func:`symsde.proof.check_equation`:
SymPy and an independent mpmath witness) and to start at :math:`\\delta(x - x_0)`:

``gaussian``
    Affine drift :math:`A x + c` and constant diffusion in any dimension (Ornstein-Uhlenbeck,
    Brownian motion with drift): Gaussian with the mean and covariance of
    :func:`symsde.moments.moment_equations` (Gardiner, *Handbook of Stochastic Methods*,
    sec. 4.4.6; Risken, *The Fokker-Planck Equation*, sec. 6.5).
``log-normal``
    Geometric Brownian motion :math:`dX = \\mu X\\,dt + \\sigma X\\,dB` on :math:`(0, \\infty)`
    (Oksendal, *Stochastic Differential Equations*, ex. 5.1.1).
``non-central chi-square``
    The square-root (CIR) process :math:`dX = (\\alpha - \\kappa X)\\,dt + \\sqrt{\\gamma X}\\,dB`,
    in its Bessel form (Cox, Ingersoll and Ross, *Econometrica* 53 (1985), eq. (18)):
    :math:`p = c\\,e^{-u - v} (v/u)^{q/2} I_q(2\\sqrt{u v})` with
    :math:`c = 2\\kappa / (\\gamma (1 - e^{-\\kappa t}))`, :math:`u = c x_0 e^{-\\kappa t}`,
    :math:`v = c x`, :math:`q = 2\\alpha/\\gamma - 1`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import mpmath
import sympy as sp

from symsde._lambdify import lambdify_mpmath
from symsde.errors import InputError, MathematicalError
from symsde.inputs import front_door
from symsde.sde import SDE

__all__ = ["TransitionDensity", "transition_density"]


@dataclass(frozen=True, eq=False)
class TransitionDensity:
    """A transition density and the checks it passed.

    Attributes
    ----------
    density : sympy.Expr
        :math:`p(x, t \\mid x_0)` in the state symbols, ``x0`` and ``time``.
    family : str
        ``"gaussian"``, ``"log-normal"`` or ``"non-central chi-square"``.
    mean, covariance : sympy.Matrix or None
        For the Gaussian family.
    domain : sympy.Set
        Where the density lives.
    checks : dict
        ``"fokker_planck"``: the :class:`~symsde.proof.EquationCheck`;
        ``"initial"``: how the start at :math:`\\delta(x - x_0)` was checked.
    """

    sde: SDE
    x0: sp.Matrix
    time: sp.Symbol
    density: sp.Expr
    family: str
    domain: Any
    mean: sp.Matrix | None = None
    covariance: sp.Matrix | None = None
    checks: dict[str, Any] = field(default_factory=dict)


def _start(x0: Any, d: int) -> sp.Matrix:
    start = sp.Matrix(x0 if isinstance(x0, (list, tuple, sp.MatrixBase)) else [x0])
    if len(start) != d:
        raise InputError(f"x0 has {len(start)} entries but the state has {d}; give one each")
    return start.reshape(d, 1)


def _affine_constant_noise(sde: SDE) -> bool:
    X = sde.state
    return (not any(e.has(*X) for e in sde.drift.jacobian(X))) and sde.is_constant_diffusion


def _gbm(sde: SDE) -> tuple[sp.Expr, sp.Expr] | None:
    if sde.dim != 1 or sde.noise_dim != 1:
        return None
    (x,) = sde.state
    a, b = sp.simplify(sde.drift[0] / x), sp.simplify(sde.diffusion[0, 0] / x)
    if a.has(x) or b.has(x) or b == 0:
        return None
    return a, b


def _cir(sde: SDE) -> tuple[sp.Expr, sp.Expr, sp.Expr] | None:
    if sde.dim != 1:
        return None
    (x,) = sde.state
    mu, D = sp.expand(sde.drift[0]), sp.expand(sde.diffusion_matrix[0, 0])
    if not (mu.is_polynomial(x) and D.is_polynomial(x)):
        return None
    if sp.degree(mu, x) > 1 or sp.degree(D, x) != 1 or D.subs(x, 0) != 0:
        return None
    alpha, kappa, gamma = mu.subs(x, 0), -mu.coeff(x, 1), D.coeff(x, 1)
    if kappa == 0:
        return None
    return alpha, kappa, gamma


@front_door("x0", sde="sde", vectors=("x0",))
def transition_density(sde: SDE, x0: Any, time: sp.Symbol, *, seed: int = 0
                       ) -> TransitionDensity:
    """The transition density of an SDE started at :math:`x_0`, checked before returning.

    Parameters
    ----------
    sde : SDE
        Affine drift with constant diffusion (any dimension), geometric Brownian motion, or
        a square-root (CIR) process.
    x0 : expression or list
        The start (symbols or numbers).
    time : sympy.Symbol
        The elapsed time.
    seed : int
        Seed of the numeric witness.

    Raises
    ------
    MathematicalError
        The SDE is in none of the three families, the covariance is singular, or a check
        failed.

    Examples
    --------
    Brownian motion: the heat kernel.

    >>> import sympy as sp
    >>> x, x0 = sp.symbols("x x0", real=True); t = sp.Symbol("t", positive=True)
    >>> td = transition_density(SDE([x], [0], 1), [x0], t)
    >>> sp.simplify(td.density - sp.exp(-(x - x0)**2 / (2*t)) / sp.sqrt(2*sp.pi*t))
    0
    >>> td.checks["fokker_planck"].ok
    True
    """
    if not isinstance(time, sp.Symbol):
        raise InputError(f"time must be a SymPy Symbol, got {time!r}")
    X = sde.state
    start = _start(x0, len(X))
    if sde.time is not None and any(e.has(sde.time) for e in [*sde.drift, *sde.diffusion]):
        raise MathematicalError("the coefficients depend on time; transition densities are "
                                "derived for time-homogeneous SDEs only")
    if _affine_constant_noise(sde):
        out = _gaussian(sde, start, time)
    elif (g := _gbm(sde)) is not None:
        out = _lognormal(sde, start, time, *g)
    elif (c := _cir(sde)) is not None:
        out = _noncentral_chi2(sde, start, time, *c)
    else:
        raise MathematicalError(
            "no closed-form transition density: symsde knows affine drift with constant "
            "diffusion (Gaussian), geometric Brownian motion (log-normal) and the square-root "
            "CIR process (non-central chi-square)")
    _check(out, seed)
    return out


def _gaussian(sde: SDE, start: sp.Matrix, t: sp.Symbol) -> TransitionDensity:
    from symsde.moments import moment_equations

    me = moment_equations(sde, start, t)
    assert me.mean is not None and me.covariance is not None
    m, P = me.mean, me.covariance
    d = len(sde.state)
    det = sp.simplify(P.det())
    if det == 0:
        raise MathematicalError(
            "the covariance of X_t is singular: the noise does not reach every direction, so "
            "the transition law has no density; add noise to the missing directions")
    dx = sp.Matrix(sde.state) - m
    quad = sp.simplify((dx.T * P.inv().applyfunc(sp.simplify) * dx)[0, 0])
    p = sp.exp(-quad / 2) / sp.sqrt((2 * sp.pi) ** d * det)
    dom = sp.Interval(-sp.oo, sp.oo) if d == 1 else sp.ProductSet(
        *[sp.Interval(-sp.oo, sp.oo)] * d)
    return TransitionDensity(sde, start, t, p, "gaussian", dom, m, P)


def _lognormal(sde: SDE, start: sp.Matrix, t: sp.Symbol, a: sp.Expr, b: sp.Expr
               ) -> TransitionDensity:
    (x,) = sde.state
    x0 = start[0]
    if x0.is_positive is False:
        raise MathematicalError(f"geometric Brownian motion started at {x0} <= 0 stays there "
                                "or below; start it at x0 > 0")
    drift = (a - b**2 / 2) * t
    p = sp.exp(-(sp.log(x / x0) - drift) ** 2 / (2 * b**2 * t)) / (
        x * sp.sqrt(2 * sp.pi * b**2 * t))
    return TransitionDensity(sde, start, t, p, "log-normal", sp.Interval.open(0, sp.oo))


def _noncentral_chi2(sde: SDE, start: sp.Matrix, t: sp.Symbol, alpha: sp.Expr,
                     kappa: sp.Expr, gamma: sp.Expr) -> TransitionDensity:
    (x,) = sde.state
    x0 = start[0]
    c = 2 * kappa / (gamma * (1 - sp.exp(-kappa * t)))
    u = c * x0 * sp.exp(-kappa * t)
    v = c * x
    q = 2 * alpha / gamma - 1
    p = c * sp.exp(-u - v) * (v / u) ** (q / 2) * sp.besseli(q, 2 * sp.sqrt(u * v))
    return TransitionDensity(sde, start, t, p, "non-central chi-square",
                             sp.Interval.open(0, sp.oo))


def _check(td: TransitionDensity, seed: int) -> None:
    """Fokker-Planck by the proof kernel; the start delta(x - x0) by mass 1, mean -> x0 and
    variance -> 0 (closed form limits for the Gaussian, quadrature at two small times
    otherwise)."""
    from symsde.proof import check_equation

    p, t = td.density, td.time
    if td.family == "non-central chi-square":
        td.checks["fokker_planck"] = bc = _check_bessel_fp(td, seed)
        if not bc.ok:
            raise MathematicalError(
                f"the CIR transition density does not pass the Fokker-Planck check (residual "
                f"coefficients {bc.residual}, witness {bc.witness_error}); not returned")
    else:
        # Divided by p: the Gaussian and log-normal quotients are polynomials in logs.
        lhs = sp.expand(sp.diff(p, t) / p)
        rhs = sp.expand(td.sde.fokker_planck(p) / p)
        fp = check_equation(lhs, rhs, seed=seed)
        td.checks["fokker_planck"] = fp
        if not fp.ok:
            raise MathematicalError(
                f"the {td.family} transition density does not pass the Fokker-Planck check "
                f"({fp.detail or 'residual ' + str(fp.residual)}); not returned")
    if td.family == "gaussian":
        assert td.mean is not None and td.covariance is not None
        m0 = td.mean.applyfunc(lambda e: sp.limit(e, t, 0, "+"))
        P0 = td.covariance.applyfunc(lambda e: sp.limit(e, t, 0, "+"))
        if m0 != td.x0 or sp.zeros(*P0.shape) != P0:
            raise MathematicalError(f"the Gaussian transition law does not start at x0: "
                                    f"mean -> {m0.T}, covariance -> {P0}")
        td.checks["initial"] = "closed form: mean -> x0 and covariance -> 0 as t -> 0+"
        return
    _check_initial_1d(td, seed)


@dataclass(frozen=True)
class BesselCheck:
    """The Fokker-Planck check of the CIR density (fields as in
    :class:`~symsde.proof.EquationCheck`)."""

    ok: bool
    residual: Any
    witness_error: float | None
    detail: str


def _generic(e: sp.Expr) -> sp.Expr:
    """The value of a Piecewise off its equality conditions (e.g. exp(kappa t) = 1, i.e.
    t = 0, where the density itself is not defined)."""
    def pick(*args: Any) -> sp.Expr:
        for val, cond in args:
            if cond is sp.true:
                return val
            if not isinstance(cond, sp.Eq):
                return sp.Piecewise(*args)
        return sp.Piecewise(*args)

    return sp.simplify(e.replace(sp.Piecewise, lambda *a: pick(*a)))


def _check_bessel_fp(td: TransitionDensity, seed: int) -> BesselCheck:
    """Write p = A(x, t) F(Z(x, t)) with F undetermined, reduce F'' by Bessel's modified
    equation Z^2 F'' + Z F' - (Z^2 + q^2) F = 0, and require the coefficients of F and F'
    in dp/dt - L* p to vanish (symbolic); then evaluate the true residual with mpmath's
    besseli at random points (numeric witness, 40 digits)."""
    from symsde.domains import sample_parameters

    (x,) = td.sde.state
    t = td.time
    p = td.density
    bess = next(iter(p.atoms(sp.besseli)))
    q, Z = bess.args
    A = sp.simplify(p / bess)
    mu, D = td.sde.drift[0], td.sde.diffusion_matrix[0, 0]
    F0, F1, F2 = sp.symbols("F0 F1 F2")
    Zt, Zx = sp.diff(Z, t), sp.diff(Z, x)
    Zxx = sp.diff(Z, x, 2)
    lhs = sp.diff(A, t) * F0 + A * F1 * Zt
    drift_term = sp.diff(mu * A, x) * F0 + mu * A * F1 * Zx
    hA = D * A
    diff_term = (sp.diff(hA, x, 2) * F0 + 2 * sp.diff(hA, x) * F1 * Zx
                 + hA * (F2 * Zx**2 + F1 * Zxx))
    R = lhs - (-drift_term + diff_term / 2)
    R = R.subs(F2, ((Z**2 + q**2) * F0 - Z * F1) / Z**2)
    R = sp.expand(R / A)
    c0, c1 = (_generic(sp.simplify(R.coeff(F))) for F in (F0, F1))
    sym_ok = c0 == 0 and c1 == 0
    params = sample_parameters(p.free_symbols - {x, t}, seed)
    resid = sp.diff(p, t) - td.sde.fokker_planck(p)
    f = lambdify_mpmath([x, t], [resid.subs(params), sp.diff(p, t).subs(params)])
    worst = mpmath.mpf(0)
    with mpmath.workdps(40):
        for xv, tv in ((0.3, 0.2), (1.1, 0.7), (2.5, 1.3), (0.8, 3.0)):
            r, scale = f(mpmath.mpf(xv), mpmath.mpf(tv))
            worst = max(worst, abs(r) / (1 + abs(scale)))
    num_ok = worst < mpmath.mpf(10) ** -30
    return BesselCheck(bool(sym_ok and num_ok), sp.Tuple(c0, c1), float(worst),
                       "coefficients of I_q and I_q' after Bessel's equation; mpmath witness")


def _check_initial_1d(td: TransitionDensity, seed: int) -> None:
    from symsde.domains import sample_parameters

    (x,) = td.sde.state
    t = td.time
    free = td.density.free_symbols - {x, t}
    params = sample_parameters(free, seed)
    x0v = td.x0[0].subs(params)
    ok = True
    found = []
    with mpmath.workdps(30):
        x0n = mpmath.mpf(sp.N(x0v, 35))
        for tv in (sp.Rational(1, 10**3), sp.Rational(1, 10**5)):
            f = lambdify_mpmath([x], td.density.subs(params).subs(t, tv))
            width = 60 * mpmath.sqrt(mpmath.mpf(sp.N(tv, 35))) * (1 + abs(x0n))
            lo, hi = max(mpmath.mpf(0), x0n - width), x0n + width
            pts = [lo, x0n - width / 6, x0n, x0n + width / 6, hi]
            pts = [q for q in pts if q >= lo]
            mass = mpmath.quad(f, pts)
            mean = mpmath.quad(lambda z, f=f: z * f(z), pts) / mass
            var = mpmath.quad(lambda z, f=f, m=mean: (z - m) ** 2 * f(z), pts) / mass
            found.append((mass, mean, var))
            if abs(mass - 1) > 1e-8:
                ok = False
    (m1, mu1, v1), (m2, mu2, v2) = found
    # Mean error and variance shrink like t: 100 times from t = 1e-3 to 1e-5.
    if not (ok and abs(mu2 - x0n) < 1e-3 * (1 + abs(x0n)) and v2 < v1 / 50
            and abs(mu2 - x0n) <= abs(mu1 - x0n) + 1e-20):
        raise MathematicalError(
            f"the {td.family} transition density does not start at delta(x - x0): at t = 1e-3 "
            f"and 1e-5 the mass is {mpmath.nstr(m1, 10)}, {mpmath.nstr(m2, 10)}, the mean "
            f"{mpmath.nstr(mu1, 10)}, {mpmath.nstr(mu2, 10)} (x0 = {mpmath.nstr(x0n, 10)}), "
            f"the variance {mpmath.nstr(v1, 5)}, {mpmath.nstr(v2, 5)}; not returned")
    td.checks["initial"] = (
        f"quadrature at parameters {params}: mass 1 to 1e-8 at t = 1e-3 and 1e-5, mean "
        f"{mpmath.nstr(mu2, 12)} -> x0 = {mpmath.nstr(x0n, 12)}, variance "
        f"{mpmath.nstr(v1, 5)} -> {mpmath.nstr(v2, 5)}")
