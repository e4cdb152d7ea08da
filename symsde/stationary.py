"""Stationary densities of Ito SDEs.

Three methods, tried in this order:

``zero-flux-1d``
    In one dimension the stationary current :math:`J = \\mu p - \\tfrac12 (D p)'` is a
    constant, and it is zero for a density that decays at both ends, so
    :math:`p \\propto D^{-1} \\exp\\int 2\\mu/D`. This is the notes' balance of the
    gradient flow and the diffusion flow (slide *The Langevin Stationary Distribution*),
    generalised to state-dependent noise.
``potential``
    In :math:`d` dimensions with invertible :math:`D`, a density with zero current
    exists exactly when :math:`F = D^{-1}(2\\mu - \\nabla\\cdot D)` is a gradient field
    (its curl vanishes); then :math:`p \\propto e^{-U}` with :math:`\\nabla U = -F`.
``gaussian-lyapunov``
    For affine drift :math:`\\mu = A x + c` and constant :math:`D` the stationary law is
    Gaussian with mean :math:`-A^{-1}c` and covariance :math:`S` solving the Lyapunov
    equation :math:`A S + S A^\\top + D = 0`, also when the drift is not a gradient.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from itertools import combinations, product
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from symsde._timeout import time_limit
from symsde.errors import (
    InputError,
    NoStationaryDensityError,
    NotNormalizableError,
    SymbolicTimeoutError,
)
from symsde.inputs import results_are_ours
from symsde.sde import SDE, gradient

__all__ = ["METHODS", "StationaryDensity", "stationary_density"]

METHODS = ("zero-flux-1d", "potential", "gaussian-lyapunov")

#: Digits of the numeric normalising constant when no closed form is found.
NUMERIC_DIGITS = 50


@dataclass(frozen=True, eq=False)
class StationaryDensity:
    """A stationary density :math:`p = e^{-U}/Z` of an SDE.

    Attributes
    ----------
    sde : SDE
        The SDE it is stationary for.
    potential : sympy.Expr
        :math:`U`, defined up to an additive constant. Constants are dropped, except by
        the Gaussian method, whose :math:`U` is the full quadratic form
        :math:`(x - m)^\\top S^{-1} (x - m)/2`.
    normalizer : sympy.Expr
        :math:`Z = \\int e^{-U}`: a closed form where SymPy finds one (for a separable
        :math:`U`, a product of one-dimensional factors); when :math:`U` has no free
        parameters, a :class:`sympy.Float` instead: 50 digits by mpmath quadrature in one
        dimension (and for each factor of a separable :math:`U`), 12 digits by the
        trapezoidal rule after :math:`x = \\sinh t` in two; otherwise the unevaluated
        :class:`sympy.Integral`.
    method : str
        One of ``"zero-flux-1d"``, ``"potential"``, ``"gaussian-lyapunov"``.
    mean, covariance : sympy.Matrix or None
        The stationary mean and covariance when the density is Gaussian (any method
        whose potential is a quadratic with invertible Hessian), else ``None``.
    """

    sde: SDE
    potential: sp.Expr
    normalizer: sp.Expr
    method: str
    mean: sp.Matrix | None = None
    covariance: sp.Matrix | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def state(self) -> tuple[sp.Symbol, ...]:
        return self.sde.state

    @cached_property
    def unnormalized(self) -> sp.Expr:
        """:math:`e^{-U}`."""
        return sp.exp(-self.potential)

    @cached_property
    def density(self) -> sp.Expr:
        """The normalised density :math:`e^{-U}/Z`."""
        return self.unnormalized / self.normalizer

    @cached_property
    def _gibbs(self) -> tuple[bool | None, sp.Expr | None]:
        return _gibbs_temperature(self.sde, self.potential)

    @property
    def is_gibbs(self) -> bool | None:
        """Whether :math:`p \\propto e^{-L/T}` for the SDE's loss and one scalar :math:`T`.

        ``None`` when the SDE was not built from a loss.
        """
        return self._gibbs[0]

    @property
    def temperature(self) -> sp.Expr | None:
        """The temperature :math:`T` of a Gibbs density, else ``None``."""
        return self._gibbs[1]

    def velocity(self) -> sp.Matrix:
        """:math:`J/p = \\mu - \\tfrac12 \\nabla\\cdot D + \\tfrac12 D\\nabla U`.

        The probability current divided by the density, computed from the potential
        without differentiating an exponential (zero for the first two methods).
        """
        X, D = self.state, self.sde.diffusion_matrix
        grad_U = gradient(self.potential, X)
        v = [
            self.sde.drift[i]
            - sp.Add(*[sp.diff(D[i, j], X[j]) for j in range(len(X))]) / 2
            + sp.Add(*[D[i, j] * grad_U[j] for j in range(len(X))]) / 2
            for i in range(len(X))
        ]
        return sp.Matrix([sp.factor(sp.cancel(e)) for e in v])

    def current(self) -> sp.Matrix:
        """The stationary probability current :math:`J = (J/p)\\,p` (see :meth:`velocity`)."""
        return self.velocity() * self.density

    def fokker_planck_residual(self) -> sp.Expr:
        """:math:`\\mathcal{L}^* p`, simplified; zero for a stationary density."""
        u = self.unnormalized
        return sp.simplify(sp.expand(self.sde.fokker_planck(u) / u))

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, expressions as SymPy strings (the CLI's JSON keys)."""
        return {
            "state": [str(s) for s in self.state],
            "density": str(self.density),
            "unnormalized": str(self.unnormalized),
            "potential": str(self.potential),
            "normalizer": str(self.normalizer),
            "method": self.method,
            "is_gibbs": self.is_gibbs,
            "temperature": None if self.temperature is None else str(self.temperature),
        }


def _drop_constants(expr: sp.Expr, state: tuple[sp.Symbol, ...]) -> sp.Expr:
    """Remove additive terms that do not depend on the state."""
    expr = sp.expand(sp.expand_log(expr, force=False))
    terms = sp.Add.make_args(expr)
    kept = [t for t in terms if t.has(*state)]
    return sp.Add(*kept)


def _tidy(expr: sp.Expr, state: tuple[sp.Symbol, ...]) -> sp.Expr:
    out = _drop_constants(sp.simplify(expr), state)
    # Prefer the factored form when it is no longer (e.g. 2*(x**4/4 - x**2/2)/sigma**2).
    fac = sp.factor_terms(out)
    return fac if sp.count_ops(fac) <= sp.count_ops(out) else out


def _has_unevaluated(expr: sp.Expr) -> bool:
    return bool(expr.has(sp.Integral)) or expr.has(sp.nan)


# -- normalisability -----------------------------------------------------------------------
def _ray_limit(U: sp.Expr, state: tuple[sp.Symbol, ...], direction: tuple[int, ...]) -> sp.Expr:
    r = sp.Dummy("r", positive=True)
    ray = U.subs({s: k * r for s, k in zip(state, direction, strict=True)}, simultaneous=True)
    return sp.limit(ray, r, sp.oo)


def _directions(d: int) -> list[tuple[int, ...]]:
    """Rays to probe: every non-zero vector of {-1, 0, 1}^d (axes and diagonals for d > 3)."""
    if d <= 3:
        return [v for v in product((-1, 0, 1), repeat=d) if any(v)]
    out: list[tuple[int, ...]] = []
    for i in range(d):
        for sgn in (1, -1):
            v = [0] * d
            v[i] = sgn
            out.append(tuple(v))
    return [*out, (1,) * d, (-1,) * d]


def _check_power_decay(ratio: sp.Expr, where: str, base: str, at_point: bool) -> None:
    """exp(-U) behaves like |base|^(-ratio); raise unless that is integrable."""
    if ratio is sp.oo:
        return
    # At infinity |t|^-k is integrable iff k > 1; at a finite point iff k < 1.
    margin = (ratio - 1) if not at_point else (1 - ratio)
    if margin.is_positive:
        return
    shape = f"|{base}|^(-{ratio})"
    if margin.is_nonpositive:
        if at_point:
            raise NotNormalizableError(
                f"the density blows up like {shape} at {where}, so its integral diverges; "
                "the noise vanishes or the drift is singular there (a diffusion that is "
                "positive everywhere, e.g. sqrt(1 + x**2), avoids this)"
            )
        raise NotNormalizableError(
            f"the density decays only like {shape} as {where}, so its integral diverges; "
            "a stationary density needs a confining drift (e.g. a loss that grows at least "
            "quadratically)"
        )
    cond = f"{ratio} > 1" if not at_point else f"{ratio} < 1"
    raise NotNormalizableError(
        f"the density behaves like {shape} near {where}: it is normalisable only if {cond}, "
        "which SymPy cannot decide; declare the parameters' signs (e.g. positive=True) or "
        "give them numeric values"
    )


def _check_quadratic(U: sp.Expr, state: tuple[sp.Symbol, ...]) -> bool:
    """Decide normalisability of a quadratic U by its Hessian; False when undecidable."""
    if not U.is_polynomial(*state) or sp.Poly(U, *state).total_degree() != 2:
        return False
    H = sp.hessian(U, state)
    minors = [sp.simplify(H[:k, :k].det()) for k in range(1, len(state) + 1)]
    if all(m.is_positive for m in minors):
        return True
    if any(m.is_nonpositive for m in minors):
        # Sylvester: leading minors all positive <=> positive definite.
        raise NotNormalizableError(
            f"U = {U} is quadratic with a Hessian {H.tolist()} that is not positive definite, "
            "so exp(-U) does not decay along some direction and cannot be normalised; the "
            "drift must pull the state back in every direction (e.g. a loss with a strict "
            "minimum)"
        )
    return False


def _check_normalizable(U: sp.Expr, state: tuple[sp.Symbol, ...]) -> None:
    """Reject potentials whose exp(-U) provably has infinite mass along a ray.

    In one dimension this is decisive up to logarithmic borderline cases: exp(-U) is
    integrable at an end when U grows faster than log|x|. A quadratic U is decided by its
    Hessian. Otherwise, in more dimensions, the check runs along the axes and diagonals,
    a necessary condition.
    """
    d = len(state)
    if d > 1 and _check_quadratic(U, state):
        return
    r = sp.Dummy("r", positive=True)
    for direction in _directions(d):
        lim = _ray_limit(U, state, direction)
        where = _direction_text(state, direction)
        if lim is sp.oo:
            if d == 1:
                ray = U.subs(state[0], direction[0] * r)
                ratio = sp.limit(ray / sp.log(r), r, sp.oo)
                if ratio.is_extended_real is not False:
                    _check_power_decay(ratio, where, str(state[0]), at_point=False)
            continue
        if lim.is_extended_real and (lim is -sp.oo or lim.is_finite):
            raise NotNormalizableError(
                f"exp(-U) does not decay as {where} (U -> {lim}), so the density cannot be "
                "normalised; U must grow to +infinity in every direction, i.e. the drift must "
                "push the state back from infinity (e.g. a drift -x, or a loss with a minimum "
                "such as x**2/2)"
            )
        raise NotNormalizableError(
            f"cannot decide whether U -> +oo as {where} (limit {lim}); declare parameters "
            "positive (e.g. Symbol('sigma', positive=True)) or give them numeric values"
        )


def _singular_points_1d(sde: SDE) -> list[sp.Expr]:
    """Real points where D vanishes or 2 mu / D is singular (finite sets only)."""
    (x,) = sde.state
    D = sde.diffusion_matrix[0, 0]
    points: set[sp.Expr] = set()
    for finder in (
        lambda: sp.solveset(D, x, sp.S.Reals),
        lambda: sp.singularities(2 * sde.drift[0] / D, x, sp.S.Reals),
    ):
        try:
            with time_limit(5, "looking for zeros of the diffusion"):
                found = finder()
        except (NotImplementedError, ValueError, TypeError, AttributeError,
                SymbolicTimeoutError):
            continue
        if isinstance(found, sp.FiniteSet):
            points |= {p for p in found if p.is_extended_real is not False}
    return sorted(points, key=sp.default_sort_key)


def _check_singular_points(U: sp.Expr, x: sp.Symbol, points: list[sp.Expr]) -> None:
    """Reject a 1-D density that is not integrable next to a finite singular point."""
    for x0 in points:
        for side in ("+", "-"):
            where = f"{x} = {x0} (from the {'right' if side == '+' else 'left'})"
            lim = sp.limit(U, x, x0, side)
            if lim is sp.oo or (lim.is_extended_real and lim.is_finite):
                continue
            if lim is -sp.oo:
                ratio = sp.limit(U / sp.log(sp.Abs(x - x0)), x, x0, side)
                _check_power_decay(ratio, where, str(x - x0), at_point=True)
                continue
            raise NotNormalizableError(
                f"cannot decide how the density behaves near {where} (U -> {lim}); "
                "give the parameters numeric values"
            )


def _direction_text(state: tuple[sp.Symbol, ...], direction: tuple[int, ...]) -> str:
    parts = [f"{s} -> {'+' if k > 0 else '-'}oo" for s, k in zip(state, direction, strict=True)
             if k != 0]
    return ", ".join(parts)


# -- normalising constant -------------------------------------------------------------------
def _gaussian_normalizer(U: sp.Expr, state: tuple[sp.Symbol, ...]) -> sp.Expr | None:
    """Closed form of the integral of exp(-U) for a quadratic U, else None."""
    poly = sp.Poly(U, *state) if U.is_polynomial(*state) else None
    if poly is None or poly.total_degree() != 2:
        return None
    H = sp.hessian(U, state)
    b = gradient(U, state).subs({s: 0 for s in state})
    c = U.subs({s: 0 for s in state})
    detH = sp.simplify(H.det())
    # Only a positive definite Hessian gives a finite Gaussian integral (Sylvester).
    if any(sp.simplify(H[:k, :k].det()).is_positive is False for k in range(1, len(state) + 1)):
        return None
    # int exp(-(x^T H x/2 + b^T x + c)) = sqrt((2 pi)^d / det H) exp(b^T H^-1 b / 2 - c)
    quad = (b.T * H.inv() * b)[0, 0]
    return sp.simplify(sp.sqrt((2 * sp.pi) ** len(state) / detH) * sp.exp(quad / 2 - c))


def _separable_parts(U: sp.Expr, state: tuple[sp.Symbol, ...]) -> list[sp.Expr] | None:
    parts: dict[sp.Symbol, list[sp.Expr]] = {s: [] for s in state}
    for term in sp.Add.make_args(sp.expand(U)):
        involved = [s for s in state if term.has(s)]
        if len(involved) != 1:
            return None
        parts[involved[0]].append(term)
    return [sp.Add(*parts[s]) for s in state]


def _closed_form_1d(U: sp.Expr, x: sp.Symbol, seconds: float) -> sp.Expr | None:
    g = _gaussian_normalizer(U, (x,))
    if g is not None:
        return g
    try:
        with time_limit(seconds, f"integrating exp(-({U})) over the real line"):
            val = sp.integrate(sp.exp(-U), (x, -sp.oo, sp.oo), conds="none")
    except SymbolicTimeoutError:
        return None
    if _has_unevaluated(val) or val.has(sp.I) or val.has(sp.Piecewise):
        return None
    if val is sp.oo or val.is_zero:
        return None
    return sp.simplify(val)


def _mpmath_normalizer_1d(U: sp.Expr, x: sp.Symbol) -> sp.Float | None:
    """50-digit tanh-sinh quadrature of exp(-U) over the real line."""
    with mpmath.workdps(NUMERIC_DIGITS + 10):
        f = sp.lambdify([x], sp.exp(-U), modules="mpmath")
        # Split the line at the origin and at +-1 so that tanh-sinh sees each bump.
        value = mpmath.quad(f, [-mpmath.inf, -1, 0, 1, mpmath.inf])
        if not mpmath.isfinite(value) or value <= 0:
            return None
        return sp.Float(value, NUMERIC_DIGITS)


def _trapezoid_normalizer_2d(U: sp.Expr, state: tuple[sp.Symbol, ...]) -> sp.Float | None:
    """Integral of exp(-U) over the plane by the trapezoidal rule after x = sinh(t).

    The substitution turns algebraic tails into exponential ones, and the trapezoidal rule
    converges exponentially fast for such smooth integrands. The result is accepted only
    when halving the step changes it by less than 1e-10 (relative) and the outermost band
    of the grid carries no visible mass; otherwise None.
    """
    T, h = 14.0, 0.025
    t = np.arange(-T, T + h / 2, h)
    nodes = np.sinh(t)
    weights = np.cosh(t) * h
    f = sp.lambdify(list(state), U, modules="numpy")
    X, Y = np.meshgrid(nodes, nodes, indexing="ij")
    with np.errstate(all="ignore"):
        vals = np.broadcast_to(np.asarray(f(X, Y), dtype=float), X.shape).copy()
        bad = ~np.isfinite(vals)
        far = np.maximum(np.abs(X), np.abs(Y)) > 1e4
        if np.any(bad & ~far) or np.any(np.isneginf(vals)):
            return None
        vals[bad] = np.inf
        m = float(np.min(vals))
        F = np.exp(-(vals - m)) * np.outer(weights, weights)
    fine = float(F.sum())
    coarse = 2 * 2 * float(F[::2, ::2].sum())
    band = np.abs(t) > T - 2
    tail = float(F[band, :].sum() + F[:, band].sum())
    if not (np.isfinite(fine) and fine > 0):
        return None
    if abs(fine - coarse) > 1e-10 * fine or tail > 1e-12 * fine:
        return None
    return sp.Float(mpmath.mpf(fine) * mpmath.exp(-m), 12)


def _numeric_normalizer(U: sp.Expr, state: tuple[sp.Symbol, ...]) -> sp.Float | None:
    """A numeric normalising constant for a parameter-free U, or None."""
    if len(state) == 1:
        return _mpmath_normalizer_1d(U, state[0])
    if len(state) == 2:
        return _trapezoid_normalizer_2d(U, state)
    return None


def _normalizer(U: sp.Expr, state: tuple[sp.Symbol, ...], seconds: float) -> sp.Expr:
    g = _gaussian_normalizer(U, state)
    if g is not None:
        return g
    numeric_ok = not (U.free_symbols - set(state))
    if len(state) == 1:
        z = _closed_form_1d(U, state[0], seconds)
        if z is not None:
            return z
    parts = _separable_parts(U, state)
    if parts is not None and len(state) > 1:
        factors: list[sp.Expr | None] = []
        for u, s in zip(parts, state, strict=True):
            z = _closed_form_1d(u, s, seconds)
            if z is None and numeric_ok:
                z = _mpmath_normalizer_1d(u, s)
            factors.append(z)
        if all(f is not None for f in factors):
            return sp.Mul(*factors)
    if numeric_ok:
        value = _numeric_normalizer(U, state)
        if value is not None:
            return value
    integral: sp.Expr = sp.exp(-U)
    return sp.Integral(integral, *[(s, -sp.oo, sp.oo) for s in state])


# -- the methods ----------------------------------------------------------------------------
def _require_noise(sde: SDE) -> None:
    D = sde.diffusion_matrix
    if all(sp.simplify(e) == 0 for e in D):
        raise NoStationaryDensityError(
            "the diffusion is zero, so the dynamics are deterministic and have no stationary "
            "density (only fixed points); give a non-zero diffusion"
        )


def _require_whole_line(sde: SDE) -> None:
    for s in sde.state:
        if s.is_nonnegative or s.is_nonpositive:
            sign = "non-negative" if s.is_nonnegative else "non-positive"
            raise NoStationaryDensityError(
                f"state variable {s} is declared {sign}, but stationary densities are derived "
                f"on the whole real line; declare it with Symbol({s.name!r}, real=True) (a "
                "half-line needs boundary conditions symsde does not handle)"
            )


def _require_time_homogeneous(sde: SDE) -> None:
    t = sde.time
    if t is not None and any(e.has(t) for e in [*sde.drift, *sde.diffusion]):
        raise NoStationaryDensityError(
            f"the coefficients depend on time {t}, so the SDE has no stationary density in "
            "general; fix the time (e.g. sde.subs(t, 0)) or remove the time dependence"
        )


def _zero_flux_1d(sde: SDE) -> sp.Expr:
    (x,) = sde.state
    D = sp.simplify(sde.diffusion_matrix[0, 0])
    b = sde.drift[0]
    integrand = sp.simplify(2 * b / D)
    primitive = sp.integrate(integrand, x)
    if _has_unevaluated(primitive):
        raise NoStationaryDensityError(
            f"SymPy finds no antiderivative of 2*drift/D = {integrand}; "
            "the zero-flux density exp(int 2 mu/D)/D has no closed form here"
        )
    U = sp.log(D) - _real_logs(primitive)
    return _tidy(U, sde.state)


def _real_logs(expr: sp.Expr) -> sp.Expr:
    """Replace log(u) by log|u| unless u > 0: the real antiderivative of 1/u is log|u|."""
    return expr.replace(
        lambda e: isinstance(e, sp.log) and e.args[0].is_positive is not True
        and not isinstance(e.args[0], sp.Abs),
        lambda e: sp.log(sp.Abs(e.args[0])),
    )


def _potential_nd(sde: SDE) -> sp.Expr | None:
    """U with D^-1 (2 mu - div D) = -grad U, or None when that field has a curl."""
    X = sde.state
    d = len(X)
    D = sde.diffusion_matrix
    if sp.simplify(D.det()) == 0:
        return None
    div_D = sp.Matrix([sp.Add(*[sp.diff(D[i, j], X[j]) for j in range(d)]) for i in range(d)])
    F = (D.inv() * (2 * sde.drift - div_D)).applyfunc(sp.simplify)
    for i in range(d):
        for j in range(i + 1, d):
            if sp.simplify(sp.diff(F[j], X[i]) - sp.diff(F[i], X[j])) != 0:
                return None
    # Reconstruct the scalar potential coordinate by coordinate.
    V: sp.Expr = sp.Integer(0)
    for k in range(d):
        rest = sp.simplify(F[k] - sp.diff(V, X[k]))
        piece = sp.integrate(rest, X[k])
        if _has_unevaluated(piece):
            return None
        V = V + _real_logs(piece)
    return _tidy(-V, X)


def _affine(sde: SDE) -> tuple[sp.Matrix, sp.Matrix] | None:
    X = sde.state
    A = sde.drift.jacobian(X)
    if any(e.has(*X) for e in A) or not sde.is_constant_diffusion:
        return None
    c = sde.drift.subs({s: 0 for s in X}, simultaneous=True)
    return A, c


def _lyapunov(sde: SDE) -> tuple[sp.Expr, sp.Matrix, sp.Matrix, sp.Expr]:
    X = sde.state
    d = len(X)
    affine = _affine(sde)
    if affine is None:
        if sp.simplify(sde.diffusion_matrix.det()) == 0:
            why = ("the diffusion matrix D is singular, so no density has zero current (the "
                   "'potential' method needs an invertible D)")
        else:
            why = ("the drift is not a gradient field for this noise (non-zero curl of "
                   "D^-1(2 mu - div D))")
        raise NoStationaryDensityError(
            f"no method applies: {why}, and the SDE is not linear (affine drift with constant "
            "diffusion), which the Gaussian (Lyapunov) method needs; symsde has no closed "
            "form for this stationary density"
        )
    A, c = affine
    D = sde.diffusion_matrix
    # Dummies, so that no parameter of the SDE can be mistaken for an unknown.
    entries = {(i, j): sp.Dummy(f"s{i}{j}") for i in range(d) for j in range(i, d)}
    S = sp.Matrix(d, d, lambda i, j: entries[(min(i, j), max(i, j))])
    unknowns = list(entries.values())
    eqs = [e for e in (A * S + S * A.T + D) if e != 0]
    sol = sp.solve(eqs, unknowns, dict=True)
    if len(sol) != 1 or set(sol[0]) != set(unknowns):
        raise NoStationaryDensityError(
            "the Lyapunov equation A S + S A^T + D = 0 has no unique solution (the drift "
            "matrix A has eigenvalues summing to zero); no Gaussian stationary law exists"
        )
    S = S.subs(sol[0]).applyfunc(sp.simplify)
    for k in range(1, d + 1):
        for idx in combinations(range(d), k):
            minor = sp.simplify(S.extract(list(idx), list(idx)).det())
            if minor.is_negative:
                raise NotNormalizableError(
                    f"the Lyapunov solution S = {S.tolist()} is not positive semi-definite, so "
                    "the linear drift does not confine the process (some eigenvalue of A has "
                    "positive real part); use a drift matrix whose eigenvalues have negative "
                    "real parts"
                )
    if sp.simplify(S.det()).is_zero:
        raise NoStationaryDensityError(
            f"the stationary covariance S = {S.tolist()} is singular: the noise does not reach "
            "every direction of the state, so the stationary law lives on a lower-dimensional "
            "set and has no density; add noise to the missing directions"
        )
    if sp.simplify(A.det()) == 0:
        raise NotNormalizableError(
            "the drift matrix A is singular, so there is no stationary mean -A^-1 c; "
            "the process is not confined in some direction"
        )
    mean = (-A.inv() * c).applyfunc(sp.simplify)
    dx = sp.Matrix(X) - mean
    # Factored, not expanded: later derivatives and cancellations stay cheap.
    U = sp.factor(sp.cancel((dx.T * S.inv().applyfunc(sp.cancel) * dx)[0, 0] / 2))
    Z = sp.simplify(sp.sqrt((2 * sp.pi) ** d * S.det()))
    return U, mean, S, Z


def _gaussian_moments(U: sp.Expr, X: tuple[sp.Symbol, ...]
                      ) -> tuple[sp.Matrix | None, sp.Matrix | None]:
    """Mean and covariance of exp(-U) when U is a quadratic with invertible Hessian."""
    if not U.is_polynomial(*X) or sp.Poly(U, *X).total_degree() != 2:
        return None, None
    H = sp.hessian(U, X)
    if H.det() == 0:
        return None, None
    cov = H.inv().applyfunc(sp.simplify)
    origin = {s: 0 for s in X}
    mean = (-cov * gradient(U, X).subs(origin, simultaneous=True)).applyfunc(sp.simplify)
    return mean, cov


def _gibbs_temperature(sde: SDE, U: sp.Expr) -> tuple[bool | None, sp.Expr | None]:
    if sde.loss is None:
        return None, None
    L = sde.loss
    temps: list[sp.Expr] = []
    for s in sde.state:
        dL, dU = sp.diff(L, s), sp.diff(U, s)
        if sp.simplify(dL) == 0 and sp.simplify(dU) == 0:
            continue
        if sp.simplify(dU) == 0:
            return False, None
        T = sp.simplify(dL / dU)
        if T.has(*sde.state) or T.is_zero:
            return False, None
        temps.append(T)
    if not temps:
        return False, None
    T0 = temps[0]
    if any(sp.simplify(T - T0) != 0 for T in temps[1:]):
        return False, None
    return True, T0


@results_are_ours("deriving the stationary density")
def stationary_density(
    sde: SDE,
    *,
    method: str | None = None,
    normalize: bool = True,
    integration_seconds: float = 10.0,
) -> StationaryDensity:
    """Derive the stationary density of an Ito SDE.

    Parameters
    ----------
    sde : SDE
        The SDE.
    method : str, optional
        Force one of :data:`METHODS`; by default the first that applies.
    normalize : bool
        If False, skip the normalisability check and leave :math:`Z` as an unevaluated
        integral: for potentials in undefined functions such as a generic loss
        :math:`L(x)`, whose growth SymPy cannot know.
    integration_seconds : float
        Time budget for SymPy's attempt at a closed-form normalising constant; after it
        the constant is computed numerically (or left as an integral with free parameters).

    Returns
    -------
    StationaryDensity

    Raises
    ------
    NoStationaryDensityError
        No method applies (or the diffusion is zero).
    NotNormalizableError
        The zero-current density has infinite mass.

    Examples
    --------
    The notes' Langevin result :math:`p = e^{-2L/\\sigma^2}/Z` for the double well:

    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True); s = sp.Symbol("sigma", positive=True)
    >>> st = stationary_density(SDE.langevin(x**4/4 - x**2/2, [x], s))
    >>> st.method, st.is_gibbs, st.temperature
    ('zero-flux-1d', True, sigma**2/2)
    >>> sp.simplify(st.potential - 2*(x**4/4 - x**2/2)/s**2)
    0
    """
    if method is not None and method not in METHODS:
        raise InputError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    _require_whole_line(sde)
    _require_time_homogeneous(sde)
    _require_noise(sde)
    X = sde.state
    mean = cov = None
    U: sp.Expr | None = None
    chosen = method
    if chosen in (None, "zero-flux-1d") and sde.dim == 1:
        U, chosen = _zero_flux_1d(sde), "zero-flux-1d"
    elif chosen == "zero-flux-1d":
        raise NoStationaryDensityError(
            f"method 'zero-flux-1d' needs a one-dimensional state, this SDE has {sde.dim}"
        )
    if U is None and chosen in (None, "potential"):
        U = _potential_nd(sde)
        if U is not None:
            chosen = "potential"
        elif chosen == "potential":
            raise NoStationaryDensityError(
                "method 'potential' does not apply: D is singular or D^-1(2 mu - div D) has a "
                "non-zero curl, so no density has zero current; try 'gaussian-lyapunov'"
            )
    Z: sp.Expr | None = None
    if U is None:
        U, mean, cov, Z = _lyapunov(sde)
        chosen = "gaussian-lyapunov"
    if not normalize:
        Z = Z if Z is not None else sp.Integral(sp.exp(-U), *[(s, -sp.oo, sp.oo) for s in X])
    else:
        _check_normalizable(U, X)
        if sde.dim == 1 and chosen != "gaussian-lyapunov":
            _check_singular_points(U, X[0], _singular_points_1d(sde))
    if Z is None:
        Z = _normalizer(U, X, integration_seconds)
    if mean is None:
        mean, cov = _gaussian_moments(U, X)
    assert chosen is not None
    return StationaryDensity(sde=sde, potential=U, normalizer=Z, method=chosen, mean=mean,
                             covariance=cov)
