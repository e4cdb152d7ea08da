"""State spaces of one-dimensional SDEs: the interval a density lives on, and the checks
before :func:`symsde.stationary.stationary_density` returns one.

The diffusion must be positive inside the interval, the density normalisable at both
endpoints (power laws at a finite end, Feller's boundary classification), its constant
found in closed form (Beta and Gamma integrals) or by quadrature, and the Fokker-Planck
equation must hold at sample points of the interval.
"""

from __future__ import annotations

from itertools import product

import mpmath
import sympy as sp

from symsde._timeout import time_limit
from symsde.domains import REALS, candidate_intervals_1d, domain_text, sample_parameters
from symsde.errors import (
    NoStationaryDensityError,
    NotNormalizableError,
    SymbolicTimeoutError,
)
from symsde.normalizing import (
    NUMERIC_DIGITS,
    _check_normalizable,
    _check_singular_points,
    _has_undefined,
    _has_unevaluated,
    _quad_interval,
    _singular_points_1d,
    _tidy,
)
from symsde.sde import SDE


def _process_name(sde: SDE) -> str:
    """'geometric Brownian motion: ' etc. for recognisable 1-D processes, else ''."""
    if sde.dim != 1 or sde.noise_dim != 1:
        return ""
    (x,) = sde.state
    b, g = sp.expand(sde.drift[0]), sp.expand(sde.diffusion[0, 0])
    D = sp.expand(sde.diffusion_matrix[0, 0])
    if not sp.simplify(b / x).has(x) and not sp.simplify(g / x).has(x) and g != 0:
        return "geometric Brownian motion: "
    if b.is_polynomial(x) and D.is_polynomial(x) and sp.degree(b, x) <= 1:
        if sp.degree(D, x) == 1 and D.subs(x, 0) == 0:
            return "Cox-Ingersoll-Ross (square-root) process: "
        if sp.degree(D, x) == 0:
            return "Ornstein-Uhlenbeck process: "
        if sp.degree(D, x) == 2 and D.subs(x, 0) == 0 and D.coeff(x, 2).is_negative:
            return "Jacobi (Wright-Fisher) diffusion: "
    return ""


def _require_positive_diffusion(sde: SDE, iv: sp.Interval) -> None:
    """Refuse a domain on which D is negative somewhere (the SDE is not defined there)."""
    from symsde.domains import sample_points

    (x,) = sde.state
    D = sde.diffusion_matrix[0, 0]
    if not D.has(x):
        return
    params = sample_parameters(D.free_symbols - {x})
    for pt in sample_points(iv):
        v = sp.N(D.subs(x, pt).subs(params), 20)
        if v.is_real and v < 0:
            cands, _ = candidate_intervals_1d(x, D, REALS)
            hint = (f"it lives on {', '.join(domain_text(c) for c in cands)}: "
                    f"declare {x} positive or give that interval as the domain (domain= in "
                    "Python, --domain on the command line)" if cands else
                    "check the sign of the diffusion")
            raise NoStationaryDensityError(
                f"{_process_name(sde)}the diffusion D = {D} is negative at {x} = {pt} inside "
                f"the state space {domain_text(iv)}, so the SDE is not defined there and the "
                f"half of the state space where D < 0 is missing from the model; {hint}"
            )


def _resolve_abs(U: sp.Expr, x: sp.Symbol, iv: sp.Interval) -> sp.Expr:
    """Replace |u(x)| and sign(u(x)) by +-u where u keeps one sign on the interval."""
    from symsde.domains import _midpoint

    reps: dict[sp.Expr, sp.Expr] = {}
    for node in U.atoms(sp.Abs, sp.sign):
        arg = node.args[0]
        if not arg.has(x):
            continue
        try:
            with time_limit(3, "locating sign changes"):
                zeros = sp.solveset(arg, x, sp.Interval.open(iv.start, iv.end))
        except (NotImplementedError, ValueError, TypeError, AttributeError,
                SymbolicTimeoutError):
            continue
        if zeros != sp.S.EmptySet:
            continue
        v = sp.simplify(arg.subs(x, _midpoint(iv.start, iv.end)))
        sgn = 1 if v.is_positive else (-1 if v.is_negative else 0)
        if sgn == 0:
            continue
        reps[node] = sgn * arg if isinstance(node, sp.Abs) else sp.Integer(sgn)
    if not reps:
        return U
    return _tidy(U.xreplace(reps), (x,))


def _check_normalizable_interval(sde: SDE, U: sp.Expr, x: sp.Symbol, iv: sp.Interval) -> None:
    """exp(-U) integrable at both ends of the interval and next to interior singularities."""
    a, b = iv.start, iv.end
    name = _process_name(sde)
    if (a.is_finite and b is sp.oo) or (a is -sp.oo and b.is_finite):
        end = a if a.is_finite else b
        k = sp.simplify(sp.diff(U, x) * (x - end))
        if not k.has(x):
            power = sp.simplify(-k)
            raise NotNormalizableError(
                f"{name}the density {x - end if end != 0 else x}^({power}) is a pure power, so "
                f"its integral diverges at {end} or at infinity, for any value of the "
                "parameters"
            )
    try:
        directions = [(1,)] * (b is sp.oo) + [(-1,)] * (a is -sp.oo)
        if directions:
            _check_normalizable(U, (x,), directions)
        for end, side in ((a, "+"), (b, "-")):
            if end.is_finite:
                _check_endpoint(U, x, end, side)
        inner = [p for p in _singular_points_1d(sde)
                 if sp.Interval.open(a, b).contains(p) is sp.true]
        _check_singular_points(U, x, inner)
    except NotNormalizableError as exc:
        if name and not str(exc).startswith(name):
            raise NotNormalizableError(f"{name}{exc}") from None
        raise


def _check_endpoint(U: sp.Expr, x: sp.Symbol, end: sp.Expr, side: str) -> None:
    """exp(-U) ~ |x - end|^k near a finite end: integrable iff k > -1."""
    from symsde.boundaries import _decide, _exponent

    where = f"{x} = {end} (the {'left' if side == '+' else 'right'} end of the state space)"
    k = _exponent(-U, x, end, side)
    if k is None:
        raise NotNormalizableError(
            f"cannot decide how the density behaves near {where}; give the parameters "
            "numeric values"
        )
    ok = sp.true if k is sp.oo else sp.false if k is -sp.oo else _decide(sp.Gt(k, -1))
    if ok is sp.true:
        return
    shape = f"|{x - end}|^({k})"
    if ok is sp.false:
        raise NotNormalizableError(
            f"the density blows up like {shape} at {where}, so its integral diverges; "
            "the end is an exit (absorbing) boundary or the drift pushes mass into it"
        )
    raise NotNormalizableError(
        f"the density behaves like {shape} near {where}: it is normalisable only if "
        f"{sp.Gt(k, -1)}, which SymPy cannot decide; declare the parameters' signs "
        "(e.g. positive=True) or give them numeric values"
    )


def _beta_gamma_normalizer(U: sp.Expr, x: sp.Symbol, iv: sp.Interval) -> sp.Expr | None:
    """Z for exp(-U) = C (x-a)^p (b-x)^q on (a, b) or C (x-a)^p e^(-lam x) on (a, oo)."""
    a, b = iv.start, iv.end
    dU = sp.diff(U, x)
    try:
        with time_limit(5, "recognising a Beta or Gamma density"):
            if a.is_finite and b.is_finite:
                p = sp.simplify(-sp.limit(dU * (x - a), x, a, "+"))
                q = sp.simplify(sp.limit(dU * (b - x), x, b, "-"))
                if p.has(x, sp.oo, -sp.oo, sp.nan) or q.has(x, sp.oo, -sp.oo, sp.nan):
                    return None
                if sp.simplify(dU + p / (x - a) - q / (b - x)) != 0:
                    return None
                rest = U + p * sp.log(x - a) + q * sp.log(b - x)
                C = sp.simplify(sp.exp(-rest.subs(x, (a + b) / 2)))
                Z = C * (b - a) ** (p + q + 1) * sp.gamma(p + 1) * sp.gamma(q + 1) / sp.gamma(
                    p + q + 2)
                return sp.simplify(Z)
            if a.is_finite and b is sp.oo:
                lam = sp.simplify(sp.limit(dU, x, sp.oo))
                if lam.has(x, sp.oo, -sp.oo, sp.nan) or lam.is_positive is not True:
                    return None
                p = sp.simplify(-sp.limit((dU - lam) * (x - a), x, a, "+"))
                if p.has(x, sp.oo, -sp.oo, sp.nan):
                    return None
                if sp.simplify(dU + p / (x - a) - lam) != 0:
                    return None
                rest = U + p * sp.log(x - a) - lam * x
                C = sp.simplify(sp.exp(-rest.subs(x, a + 1)))
                return sp.simplify(C * sp.exp(-lam * a) * sp.gamma(p + 1) / lam ** (p + 1))
    except (SymbolicTimeoutError, NotImplementedError, ValueError, TypeError):
        return None
    return None


def _normalizer_interval(U: sp.Expr, x: sp.Symbol, iv: sp.Interval, seconds: float
                         ) -> sp.Expr:
    a, b = iv.start, iv.end
    z = _beta_gamma_normalizer(U, x, iv)
    if z is not None:
        return z
    try:
        with time_limit(seconds, f"integrating exp(-({U})) over {domain_text(iv)}"):
            val = sp.integrate(sp.exp(-U), (x, a, b), conds="none")
        if not (_has_unevaluated(val) or val.has(sp.I, sp.Piecewise) or val is sp.oo
                or val.is_zero):
            return sp.simplify(val)
    except SymbolicTimeoutError:
        pass
    if not (U.free_symbols - {x}):
        v = _quad_interval(U, x, iv, {})
        if v is not None:
            return sp.Float(v, NUMERIC_DIGITS)
    return sp.Integral(sp.exp(-U), (x, a, b))




def _verify_points(domain: tuple[sp.Interval, ...]) -> list[tuple[sp.Expr, ...]]:
    from symsde.domains import sample_points

    per = [sample_points(iv, 6 if len(domain) == 1 else 3) for iv in domain]
    if len(domain) <= 2:
        return list(product(*per))
    return [tuple(p[k % len(p)] for p in per) for k in range(6)]


def _verify(sde: SDE, U: sp.Expr, Z: sp.Expr | None, domain: tuple[sp.Interval, ...]) -> None:
    """The checks every density passes before it is returned (at sampled points and
    admissible parameter values): exp(-U) real and positive, Z finite and positive (and
    equal to quadrature in one dimension), Fokker-Planck residual zero."""
    X = sde.state
    if _has_undefined(U, *sde.drift, *sde.diffusion_matrix):
        return  # a generic L(x) cannot be sampled: the symbolic derivation stands alone
    free = set(U.free_symbols) | {s for e in [*sde.drift, *sde.diffusion_matrix]
                                  for s in e.free_symbols}
    if Z is not None:
        free |= Z.free_symbols
    params = sample_parameters(free - set(X) - {sde.time} - {None})
    points = _verify_points(domain)
    name = _process_name(sde)
    u_num = U.subs(params)
    # Fokker-Planck: with p = exp(-U) and v = J/p, L* p / p = -(div v - grad U . v).
    D = sde.diffusion_matrix.subs(params)
    mu = sde.drift.subs(params)
    d = len(X)
    v = [mu[i] - sp.Add(*[sp.diff(D[i, j], X[j]) for j in range(d)]) / 2
         + sp.Add(*[D[i, j] * sp.diff(u_num, X[j]) for j in range(d)]) / 2 for i in range(d)]
    div = [sp.diff(v[i], X[i]) for i in range(d)]
    gU = [sp.diff(u_num, X[i]) for i in range(d)]
    # Sampled points avoid the kinks of |.|: the DiracDelta of sign' is zero there.
    exprs = [e.replace(sp.DiracDelta, lambda *a: sp.S.Zero) for e in [u_num, *v, *div, *gU]]
    fn = sp.lambdify(list(X), exprs, modules="mpmath")
    # Floats in the input carry about 15 digits; exact input is checked to 25.
    floats = any(e.atoms(sp.Float) for e in [U, *sde.drift, *sde.diffusion_matrix])
    tol = mpmath.mpf(10) ** (-11 if floats else -25)
    with mpmath.workdps(40):
        for pt in points:
            at = ", ".join(f"{s} = {p}" for s, p in zip(X, pt, strict=True))
            try:
                vals = fn(*[mpmath.mpf(sp.N(p, 45)) for p in pt])
            except (ValueError, ZeroDivisionError, TypeError, OverflowError) as exc:
                raise NoStationaryDensityError(
                    f"{name}the candidate density cannot be evaluated at {at} ({exc}); "
                    "no density is returned") from None
            u0, vv, dv, gu = vals[0], vals[1:1 + d], vals[1 + d:1 + 2 * d], vals[1 + 2 * d:]
            if mpmath.im(u0) != 0 or not mpmath.isfinite(u0):
                raise NoStationaryDensityError(
                    f"{name}the candidate density exp(-U), U = {U}, is not a positive real "
                    f"number at {at} (U = {mpmath.nstr(u0, 8)}, parameters {params}), so it is "
                    f"not a density on {sde.domain}; the diffusion or the domain is wrong for "
                    "this process"
                )
            res = -sum(dv[i] - gu[i] * vv[i] for i in range(d))
            scale = 1 + sum(abs(t) for t in [*vv, *dv]) + sum(abs(gu[i] * vv[i])
                                                               for i in range(d))
            if abs(res) > tol * scale:
                raise NoStationaryDensityError(
                    f"{name}the candidate density does not solve the stationary Fokker-Planck "
                    f"equation: the residual is {mpmath.nstr(res, 6)} at {at} (parameters "
                    f"{params}); no density is returned"
                )
    if Z is not None and not isinstance(Z, sp.Integral):
        z = sp.N(Z.subs(params), 30)
        if not (z.is_real and z.is_finite and z > 0):
            raise NotNormalizableError(
                f"{name}the normalising constant Z = {Z} is {z} for parameters {params}, not a "
                "finite positive number; no density is returned"
            )
        if d == 1:
            # A sanity check against wrong closed forms (which are off by factors): the
            # quadrature is not split at the density's peaks, hence 1e-6.
            q = _quad_interval(U, X[0], domain[0], params, dps=30)
            if q is None or abs(mpmath.mpf(str(z)) - q) > mpmath.mpf("1e-6") * q:
                raise NotNormalizableError(
                    f"{name}the normalising constant Z = {Z} gives {sp.N(z, 15)} for "
                    f"parameters {params}, but quadrature of exp(-U) over "
                    f"{domain_text(domain[0])} gives {q}; no density is returned"
                )
