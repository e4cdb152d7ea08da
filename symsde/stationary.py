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
from typing import Any

import mpmath
import sympy as sp

from symsde._timeout import time_limit
from symsde.errors import (
    NoStationaryDensityError,
    NotNormalizableError,
    SymbolicTimeoutError,
)
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
        :math:`U`, defined up to an additive constant (constants are dropped).
    normalizer : sympy.Expr
        :math:`Z = \\int e^{-U}`: a closed form where SymPy finds one, a 50-digit
        :class:`sympy.Float` computed by mpmath quadrature when the SDE has no free
        parameters, otherwise the unevaluated :class:`sympy.Integral`.
    method : str
        One of ``"zero-flux-1d"``, ``"potential"``, ``"gaussian-lyapunov"``.
    mean, covariance : sympy.Matrix or None
        For the Gaussian method, the stationary mean and covariance.
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

    def current(self) -> sp.Matrix:
        """The stationary probability current :math:`J[p]` (zero for the first two methods)."""
        return self.sde.current(self.unnormalized).applyfunc(
            lambda e: sp.simplify(e / self.unnormalized) * self.unnormalized / self.normalizer
        )

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


def _check_normalizable(U: sp.Expr, state: tuple[sp.Symbol, ...]) -> None:
    """Reject potentials whose exp(-U) provably has infinite mass along a ray.

    In one dimension this is decisive up to logarithmic borderline cases: exp(-U) is
    integrable at an end when U grows faster than log|x|. In more dimensions the check
    runs along the coordinate axes and diagonals, a necessary condition.
    """
    d = len(state)
    if d == 1:
        directions = [(1,), (-1,)]
    else:
        directions = []
        for i in range(d):
            for sgn in (1, -1):
                v = [0] * d
                v[i] = sgn
                directions.append(tuple(v))
        directions += [(1,) * d, (-1,) * d]
    r = sp.Dummy("r", positive=True)
    for direction in directions:
        lim = _ray_limit(U, state, direction)
        where = _direction_text(state, direction)
        if lim is sp.oo:
            if d == 1:
                ray = U.subs(state[0], direction[0] * r)
                ratio = sp.limit(ray / sp.log(r), r, sp.oo)
                if ratio.is_number and ratio.is_finite and ratio <= 1:
                    raise NotNormalizableError(
                        f"the density decays only like |x|^(-{ratio}) as {where}, so its "
                        "integral diverges; a stationary density needs a confining drift "
                        "(e.g. a loss that grows at least quadratically)"
                    )
            continue
        if lim.is_extended_real and (lim is -sp.oo or lim.is_finite):
            raise NotNormalizableError(
                f"exp(-U) does not decay as {where} (U -> {lim}), so the density cannot be "
                "normalised; the loss must grow to +infinity in every direction (try a loss "
                "with a minimum, e.g. x**2/2)"
            )
        raise NotNormalizableError(
            f"cannot decide whether U -> +oo as {where} (limit {lim}); declare parameters "
            "positive (e.g. Symbol('sigma', positive=True)) or give them numeric values"
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
    if detH.is_positive is False or detH == 0:
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


def _numeric_normalizer(U: sp.Expr, state: tuple[sp.Symbol, ...]) -> sp.Float:
    d = len(state)
    digits = NUMERIC_DIGITS if d == 1 else 20
    with mpmath.workdps(digits + 10):
        f = sp.lambdify(state, sp.exp(-U), modules="mpmath")
        # Split the line at the origin and at +-1 so that tanh-sinh sees each bump.
        pts = [-mpmath.inf, -1, 0, 1, mpmath.inf]
        value = mpmath.quad(f, *([pts] * d))
        return sp.Float(value, digits)


def _normalizer(U: sp.Expr, state: tuple[sp.Symbol, ...], params: frozenset[sp.Symbol],
                seconds: float) -> sp.Expr:
    g = _gaussian_normalizer(U, state)
    if g is not None:
        return g
    parts = _separable_parts(U, state)
    if parts is not None:
        factors = [_closed_form_1d(u, s, seconds) for u, s in zip(parts, state, strict=True)]
        if all(f is not None for f in factors):
            return sp.Mul(*factors)
    if not (U.free_symbols - set(state)):
        return _numeric_normalizer(U, state)
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
    U = sp.log(D) - primitive
    return _tidy(U, sde.state)


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
        V = V + piece
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
        raise NoStationaryDensityError(
            "no method applies: the drift is not a gradient field for this noise (non-zero "
            "curl of D^-1(2 mu - div D)), and it is not affine with constant diffusion, "
            "which the Gaussian (Lyapunov) method needs"
        )
    A, c = affine
    D = sde.diffusion_matrix
    S = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"s_{min(i, j)}{max(i, j)}"))
    unknowns = sorted(S.free_symbols, key=str)
    eqs = [e for e in (A * S + S * A.T + D) if e != 0]
    sol = sp.solve(eqs, unknowns, dict=True)
    if len(sol) != 1 or set(sol[0]) != set(unknowns):
        raise NoStationaryDensityError(
            "the Lyapunov equation A S + S A^T + D = 0 has no unique solution (the drift "
            "matrix A has eigenvalues summing to zero); no Gaussian stationary law exists"
        )
    S = S.subs(sol[0]).applyfunc(sp.simplify)
    for k in range(1, d + 1):
        minor = sp.simplify(S[:k, :k].det())
        if minor.is_positive is False:
            raise NotNormalizableError(
                "the Lyapunov solution is not positive definite, so the linear drift does not "
                "confine the process (some eigenvalue of A has non-negative real part); "
                "use a drift matrix whose eigenvalues have negative real parts"
            )
    if sp.simplify(A.det()) == 0:
        raise NotNormalizableError(
            "the drift matrix A is singular, so there is no stationary mean -A^-1 c; "
            "the process is not confined in some direction"
        )
    mean = (-A.inv() * c).applyfunc(sp.simplify)
    dx = sp.Matrix(X) - mean
    U = sp.expand((dx.T * S.inv() * dx)[0, 0] / 2)
    Z = sp.simplify(sp.sqrt((2 * sp.pi) ** d * S.det()))
    return U, mean, S, Z


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
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
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
    if Z is None:
        Z = _normalizer(U, X, sde.parameters, integration_seconds)
    assert chosen is not None
    return StationaryDensity(sde=sde, potential=U, normalizer=Z, method=chosen, mean=mean,
                             covariance=cov)
