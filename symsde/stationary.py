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

Whether :math:`e^{-U}` is normalisable and its normalising constant are in
:mod:`symsde.normalizing`; the checks on a one-dimensional state space (an interval, its
endpoints, the Fokker-Planck equation at sample points) in :mod:`symsde.state_space`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from functools import cached_property
from itertools import combinations
from typing import Any

import mpmath
import sympy as sp

from symsde._lambdify import lambdify_mpmath
from symsde.boundaries import Boundary, classify_boundaries
from symsde.domains import REALS, candidate_intervals_1d, domain_text, sample_parameters
from symsde.errors import (
    InputError,
    InvalidSDEError,
    NoStationaryDensityError,
    NotNormalizableError,
)
from symsde.inputs import (
    real_interval,
    real_interval_hint,
    register_class,
    results_are_ours,
)
from symsde.normalizing import (
    _check_normalizable,
    _exp_neg,
    _has_undefined,
    _has_unevaluated,
    _normalizer,
    _tidy,
)
from symsde.sde import SDE, gradient
from symsde.state_space import (
    KINKED,
    _check_normalizable_interval,
    _normalizer_interval,
    _process_name,
    _require_positive_diffusion,
    _resolve_abs,
    _verify,
    _verify_points,
    refined_sde,
)

__all__ = ["METHODS", "StationaryDensity", "stationary_density"]

METHODS = ("zero-flux-1d", "potential", "gaussian-lyapunov")


@register_class
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
    domain : sympy.Interval or ProductSet
        The state space the density lives on (:attr:`SDE.domain <symsde.sde.SDE.domain>`);
        :math:`Z` integrates over it.
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
    domain: Any = None

    @cached_property
    def boundaries(self) -> tuple[Boundary, ...] | None:
        """Feller's classification of the ends of a one-dimensional state space.

        A tuple of two :class:`~symsde.boundaries.Boundary` (left end, right end), each
        ``"regular"``, ``"exit"``, ``"entrance"`` or ``"natural"`` with the boundary
        condition the density assumes there (zero flux at a regular end); ``None`` in more
        than one dimension.
        """
        if len(self.state) != 1:
            return None
        iv = self.domain if isinstance(self.domain, sp.Interval) else REALS
        return classify_boundaries(self.potential, self.sde.diffusion_matrix[0, 0],
                                   self.state[0], iv)

    @property
    def state(self) -> tuple[sp.Symbol, ...]:
        return self.sde.state

    @cached_property
    def unnormalized(self) -> sp.Expr:
        """:math:`e^{-U}`, with :math:`e^{c \\log f}` written as :math:`f^c`."""
        return _exp_neg(self.potential)

    @cached_property
    def density(self) -> sp.Expr:
        """The normalised density :math:`e^{-U}/Z`."""
        return self.unnormalized / self.normalizer

    @cached_property
    def _gibbs(self) -> tuple[bool | None, sp.Expr | None, dict[str, Any] | None]:
        doms = ((self.domain,) if isinstance(self.domain, sp.Interval) else
                tuple(self.domain.sets) if isinstance(self.domain, sp.ProductSet) else
                (REALS,) * len(self.state))
        return _gibbs_temperature(self.sde, self.potential, doms)

    @property
    def gibbs_witness(self) -> dict[str, Any] | None:
        """The numeric evidence for :attr:`is_gibbs`.

        For a Gibbs density: the points (and parameter values) where
        :math:`\\partial_i L - T\\,\\partial_i U` was evaluated at 40 digits and the largest
        value found. For a non-Gibbs one: two points where :math:`\\partial_i L /
        \\partial_i U` differs, or where :math:`\\nabla U = 0` but :math:`\\nabla L \\ne 0`.
        """
        return self._gibbs[2]

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

    def gaussian_law(self) -> tuple[list[float], list[list[float]]] | None:
        """The numeric mean and covariance when the law is Gaussian, else ``None``.

        The stationary law is Gaussian when its potential :math:`U` is a quadratic with an
        invertible Hessian :math:`H`: then :math:`\\Sigma = H^{-1}` and
        :math:`m = -H^{-1}\\nabla U(0)`. Uses :attr:`mean` and :attr:`covariance` when
        the derivation found them (a Lyapunov solve); ``None`` also when they still hold
        free symbols.

        Examples
        --------
        >>> import sympy as sp
        >>> from symsde import SDE
        >>> x, y = sp.symbols("x y", real=True)
        >>> st = stationary_density(SDE([x, y], [-(x - 1), -2 * y], [[1, 0], [0, 1]]))
        >>> st.gaussian_law()
        ([1.0, 0.0], [[0.5, 0.0], [0.0, 0.25]])
        >>> x4 = stationary_density(SDE([x], [-x**3], 1))
        >>> x4.gaussian_law() is None
        True
        """
        mean, cov = self.mean, self.covariance
        if mean is None or cov is None:
            mean, cov = _gaussian_moments(self.potential, self.state)
            if mean is None or cov is None:
                return None
        try:
            return ([float(v) for v in mean], [[float(v) for v in row] for row in cov.tolist()])
        except TypeError:  # free symbols left
            return None

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


# -- the methods ----------------------------------------------------------------------------
def _require_noise(sde: SDE) -> None:
    D = sde.diffusion_matrix
    if all(sp.simplify(e) == 0 for e in D):
        raise NoStationaryDensityError(
            "the diffusion is zero, so the dynamics are deterministic and have no stationary "
            "density (only fixed points); give a non-zero diffusion"
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
    if _has_unevaluated(primitive) and (integrand.has(*KINKED) or b.has(*KINKED)):
        # A kink SymPy cannot integrate through (Abs(x/(x - 1)), sign times abs) often
        # integrates once every piece is written out: one antiderivative per piece, joined
        # continuously by SymPy's piecewise integration.
        with contextlib.suppress(ValueError, TypeError):
            primitive = sp.integrate(sp.piecewise_fold((2 * b / D).rewrite(sp.Piecewise)), x)
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




def _gibbs_symbolic(sde: SDE, U: sp.Expr) -> tuple[bool | None, sp.Expr | None]:
    """Gibbs test for losses given as undefined functions: T = dL/dU symbolically."""
    assert sde.loss is not None
    temps: list[sp.Expr] = []
    for s in sde.state:
        dL, dU = sp.diff(sde.loss, s), sp.diff(U, s)
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
    if any(sp.simplify(T - temps[0]) != 0 for T in temps[1:]):
        return False, None
    return True, temps[0]


def _gibbs_temperature(sde: SDE, U: sp.Expr, domain: tuple[sp.Interval, ...]
                       ) -> tuple[bool | None, sp.Expr | None, dict[str, Any] | None]:
    """Decide whether U = L/T + const on the domain, whatever form SymPy gave U.

    Candidates for T: the simplified ratio dL/dU; its value at a point, simplified; for a
    parameter-free problem, the closed form nsimplify recognises from 60 digits. A
    candidate is accepted when dL - T dU vanishes (to 1e-30 relative, 40 digits) at every
    sampled point of the domain for two sets of parameter values. The verdict False comes
    with two points where the ratio differs (or where dU = 0 but dL != 0).
    """
    if sde.loss is None:
        return None, None, None
    L = sde.loss
    X = sde.state
    if _has_undefined(L, U):
        return (*_gibbs_symbolic(sde, U), None)
    dL = [sp.diff(L, s) for s in X]
    dU = [sp.diff(U, s) for s in X]
    free = (L.free_symbols | U.free_symbols) - set(X)
    param_sets = [sample_parameters(free, seed) for seed in (1, 2)]
    points = _verify_points(domain)
    exprs = [e.replace(sp.DiracDelta, lambda *a: sp.S.Zero) for e in [*dL, *dU]]
    d = len(X)

    def evaluate(params: dict[Any, Any]) -> list[list[Any]]:
        fn = lambdify_mpmath(list(X), [e.subs(params) for e in exprs])
        with mpmath.workdps(40):
            return [fn(*[mpmath.mpf(sp.N(p, 45)) for p in pt]) for pt in points]

    table = {i: evaluate(ps) for i, ps in enumerate(param_sets)}
    # Not Gibbs, with a witness: dU = 0 where dL != 0, or the ratio dL/dU differs.
    with mpmath.workdps(40):
        tol = mpmath.mpf(10) ** -30
        for i, rows in table.items():
            ratios = []
            for pt, vals in zip(points, rows, strict=True):
                for k in range(d):
                    a, b = vals[k], vals[d + k]
                    if abs(b) <= tol * (1 + abs(a)):
                        if abs(a) > tol:
                            return False, None, {"reason": "grad U = 0 but grad L != 0",
                                                 "point": pt, "parameters": param_sets[i]}
                        continue
                    ratios.append((pt, a / b))
            for pt, r in ratios[1:]:
                if abs(r - ratios[0][1]) > mpmath.mpf(10) ** -25 * (1 + abs(r)):
                    return False, None, {
                        "reason": "dL/dU differs between two points",
                        "points": (ratios[0][0], pt),
                        "ratios": (mpmath.nstr(ratios[0][1], 12), mpmath.nstr(r, 12)),
                        "parameters": param_sets[i]}
            if not ratios:
                return False, None, {"reason": "L and U are both flat at the sampled points",
                                     "parameters": param_sets[i]}
    # Candidates for T.
    k0 = next(k for k in range(d) if sp.simplify(dU[k]) != 0)
    ratio = dL[k0] / dU[k0]
    candidates: list[sp.Expr] = []
    T = sp.simplify(ratio)
    if not T.has(*X):
        candidates.append(T)
    pt0 = dict(zip(X, points[0], strict=True))
    candidates.append(sp.simplify(ratio.subs(pt0)))
    if not free:
        with mpmath.workdps(60):
            val = sp.N(ratio.subs(pt0), 60)
        with contextlib.suppress(AssertionError, ValueError, TypeError):
            candidates.append(sp.nsimplify(sp.N(val, 30), [sp.pi, sp.E]))
    for T in candidates:
        if T.has(*X) or T.has(sp.nan, sp.zoo) or T.is_zero:
            continue
        worst = mpmath.mpf(0)
        ok = True
        for i, ps in enumerate(param_sets):
            t_val = sp.N(T.subs(ps), 45)
            if not t_val.is_real:
                ok = False
                break
            with mpmath.workdps(40):
                tv = mpmath.mpf(str(t_val))
                for vals in table[i]:
                    for k in range(d):
                        err = abs(vals[k] - tv * vals[d + k]) / (1 + abs(vals[k]))
                        worst = max(worst, err)
        if ok and worst <= mpmath.mpf(10) ** -30:
            return True, T, {"points": points, "parameters": param_sets,
                             "max_error": float(worst), "checked": "dL - T dU"}
    return False, None, {"reason": "no closed-form temperature passed the check",
                         "candidates": candidates}


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
    _require_time_homogeneous(sde)
    _require_noise(sde)
    domain = _resolve_domain(sde, method, normalize, integration_seconds)
    X = sde.state
    whole = all(iv == REALS for iv in domain)
    given = sde
    if sde.dim == 1 and not whole:
        # |1 - x| is x - 1 on (1, oo): derive with the form the coefficients take inside
        # the state space, check the result against the SDE as given.
        sde = refined_sde(sde, domain[0])
    mean = cov = None
    U: sp.Expr | None = None
    chosen = method
    if chosen in (None, "zero-flux-1d") and sde.dim == 1:
        U, chosen = _zero_flux_1d(sde), "zero-flux-1d"
        if not whole:
            U = _resolve_abs(U, X[0], domain[0])
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
        Z = Z if Z is not None else sp.Integral(
            sp.exp(-U), *[(s, iv.start, iv.end) for s, iv in zip(X, domain, strict=True)])
    elif sde.dim == 1:
        _check_normalizable_interval(sde, U, X[0], domain[0])
    else:
        _check_normalizable(U, X)
    if Z is None:
        if whole:
            Z = _normalizer(U, X, integration_seconds)
        else:
            Z = _normalizer_interval(U, X[0], domain[0], integration_seconds)
    if mean is None and whole:
        mean, cov = _gaussian_moments(U, X)
    assert chosen is not None
    _verify(given, U, Z if normalize else None, domain)
    dom = domain[0] if len(domain) == 1 else sp.ProductSet(*domain)
    notes: tuple[str, ...] = ()
    if not whole:
        notes = (f"state space {dom}; the normaliser integrates over it",)
    return StationaryDensity(sde=given, potential=U, normalizer=Z, method=chosen, mean=mean,
                             covariance=cov, notes=notes, domain=dom)


# -- state spaces (the checks themselves are in symsde.state_space) ------------------------
def _resolve_domain(sde: SDE, method: str | None, normalize: bool, seconds: float
                    ) -> tuple[sp.Interval, ...]:
    """The SDE's domain; when the diffusion's zeros leave several intervals, try them all."""
    try:
        domain = sde.domain_intervals
    except InvalidSDEError as exc:
        if sde.dim != 1 or "vanishes at" not in str(exc):
            raise
        (x,) = sde.state
        from symsde.domains import assumption_interval

        cands, _ = candidate_intervals_1d(x, sde.diffusion_matrix[0, 0],
                                          assumption_interval(x))
        reasons = []
        for iv in cands:
            try:
                stationary_density(SDE(sde.state, sde.drift, sde.diffusion, iv, time=sde.time,
                                       loss=sde.loss), method=method, normalize=normalize,
                                   integration_seconds=seconds)
            except NotNormalizableError as inner:
                msg = str(inner)
                name = _process_name(sde)
                reasons.append(f"on {domain_text(iv)}: {msg.removeprefix(name)}")
                continue
            except Exception:
                pass
            raise
        raise NotNormalizableError(
            f"{_process_name(sde)}no stationary density on any side of the zeros of the "
            "diffusion: " + "; ".join(reasons)) from None
    if sde.dim > 1 and any(iv != REALS for iv in domain):
        bad = [str(s) for s, iv in zip(sde.state, domain, strict=True) if iv != REALS]
        raise NoStationaryDensityError(
            f"in more than one dimension stationary densities are derived on the whole space "
            f"only, but {', '.join(bad)} is restricted (domain {sde.domain}); declare the state "
            "with Symbol(name, real=True) and no domain= (bounded state spaces are handled in "
            "one dimension)"
        )
    if sde.dim == 1:
        _require_positive_diffusion(sde, domain[0])  # the more specific message first
        _require_real_coefficients(sde, domain[0])
    return domain


def _require_real_coefficients(sde: SDE, iv: sp.Interval) -> None:
    """Refuse a state space on which a coefficient is not real (acos(sqrt(x)) on the line):
    SymPy's limits and integrals would fail on it with errors of their own."""
    from symsde import _timeout

    try:
        with _timeout.time_limit(3, "finding where the coefficients are real"):
            dom = real_interval(sde)
    except Exception:  # a courtesy check: SymPy's own limits decide if it cannot
        left = _timeout.remaining()
        if left is not None and left <= 0:
            raise
        return
    if dom is not None and sp.Interval.open(iv.start, iv.end).is_subset(dom) is False:
        raise NoStationaryDensityError(
            f"{_process_name(sde)}the state space {domain_text(iv)} is not where the SDE is "
            f"defined: {real_interval_hint(sde.state[0], dom)}")
