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

from symsde._lambdify import lambdify_mpmath
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


def _sign_on(arg: sp.Expr, x: sp.Symbol, iv: sp.Interval) -> int:
    """+1 or -1 when ``arg`` keeps that sign inside ``iv`` (no zero in the open interval),
    else 0 (unknown, or it changes sign)."""
    from symsde.domains import _midpoint

    try:
        with time_limit(3, "locating sign changes"):
            zeros = sp.solveset(arg, x, sp.Interval.open(iv.start, iv.end))
    except (NotImplementedError, ValueError, TypeError, AttributeError,
            SymbolicTimeoutError):
        return 0
    if zeros != sp.S.EmptySet:
        return 0
    v = sp.simplify(arg.subs(x, _midpoint(iv.start, iv.end)))
    return 1 if v.is_positive else (-1 if v.is_negative else 0)


def _piece_on(pw: sp.Piecewise, x: sp.Symbol, iv: sp.Interval) -> sp.Expr | None:
    """The branch of a Piecewise in ``x`` that holds on all of the open interval ``iv``."""
    inside = sp.Interval.open(iv.start, iv.end)
    try:
        with time_limit(3, "choosing the branch of a piecewise coefficient"):
            for expr, where in pw.as_expr_set_pairs(sp.Interval(-sp.oo, sp.oo)):
                if inside.is_subset(where) is True:
                    return expr
    except (NotImplementedError, ValueError, TypeError, AttributeError,
            SymbolicTimeoutError):
        return None
    return None


def refine_on_interval(expr: sp.Expr, x: sp.Symbol, iv: sp.Interval) -> sp.Expr:
    r"""``expr`` with ``|u(x)|``, ``sign(u(x))``, ``Heaviside(u(x))``, ``Max``/``Min`` and
    ``Piecewise`` in ``x`` replaced by the form they take inside ``iv``.

    A kink outside the state space is no kink of the process: on
    :math:`(1, \infty)` the drift :math:`|1 - x|` is :math:`x - 1`. Nodes whose argument
    changes sign inside ``iv`` (or whose sign SymPy cannot decide) are left as they are.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> refine_on_interval(sp.Abs(1 - x) + sp.sign(x - 1), x, sp.Interval.open(1, sp.oo))
    x
    >>> refine_on_interval(sp.Max(x, 2), x, sp.Interval(0, 1))
    2
    >>> refine_on_interval(sp.Abs(x), x, sp.Interval(-1, 1))
    Abs(x)
    """
    if not expr.has(x):
        return expr
    expr = _max_min_as_piecewise(expr, x)
    reps: dict[sp.Expr, sp.Expr] = {}
    for node in expr.atoms(*_SWITCHES):
        arg = node.args[0]
        if not arg.has(x):
            continue
        sgn = _sign_on(arg, x, iv)
        if sgn == 0:
            continue
        if isinstance(node, sp.Abs):
            reps[node] = sgn * arg
        elif isinstance(node, sp.sign):
            reps[node] = sp.Integer(sgn)
        else:
            reps[node] = sp.Integer(1 if sgn > 0 else 0)
    out = expr.xreplace(reps) if reps else expr
    for _ in range(10):  # nested Piecewise, innermost first
        pieces = [p for p in out.atoms(sp.Piecewise) if p.has(x)]
        chosen = {p: b for p in pieces if (b := _piece_on(p, x, iv)) is not None}
        if not chosen:
            break
        out = out.xreplace(chosen)
    return out


#: Nodes at which a coefficient can change form (its kinks).
KINKED = (sp.Abs, sp.sign, sp.Heaviside, sp.Piecewise, sp.Max, sp.Min)
#: The kinked nodes of one argument (the others: Piecewise, and Max and Min rewritten so).
_SWITCHES = (sp.Abs, sp.sign, sp.Heaviside)


def _max_min_as_piecewise(expr: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """``expr`` with each Max and Min of ``x`` written as a Piecewise."""
    if not expr.has(sp.Max, sp.Min):
        return expr
    return expr.replace(lambda e: isinstance(e, (sp.Max, sp.Min)) and e.has(x),
                        lambda e: e.rewrite(sp.Piecewise))


def _resolve_abs(U: sp.Expr, x: sp.Symbol, iv: sp.Interval) -> sp.Expr:
    """Replace |u(x)|, sign(u(x)) (and Piecewise) by their form inside the interval."""
    out = refine_on_interval(U, x, iv)
    return U if out == U else _tidy(out, (x,))


def _kinks(exprs: list[sp.Expr], x: sp.Symbol, iv: sp.Interval) -> set[sp.Expr] | None:
    """Points inside ``iv`` where an expression changes form: zeros of the arguments of
    |.|, sign and Heaviside, and the points where a Piecewise (or a Max or Min) switches
    branch. None when SymPy cannot list them."""
    exprs = [_max_min_as_piecewise(e, x) for e in exprs]
    args = {n.args[0] for e in exprs for n in e.atoms(*_SWITCHES) if n.args[0].has(x)}
    pieces = {p for e in exprs for p in e.atoms(sp.Piecewise) if p.has(x)}
    inside = sp.Interval.open(iv.start, iv.end)
    kinks: set[sp.Expr] = set()
    try:
        with time_limit(3, "locating where the coefficients change form"):
            for arg in args:
                zeros = sp.solveset(arg, x, inside)
                if zeros is not sp.S.EmptySet and not isinstance(zeros, sp.FiniteSet):
                    return None
                kinks |= set(zeros)
            for pw in pieces:
                for _, where in pw.as_expr_set_pairs(sp.Interval(-sp.oo, sp.oo)):
                    edge = sp.Intersection(where.boundary, inside)
                    if edge is not sp.S.EmptySet and not isinstance(edge, sp.FiniteSet):
                        return None
                    kinks |= set(edge)
    except (NotImplementedError, ValueError, TypeError, AttributeError,
            SymbolicTimeoutError):
        return None
    return kinks


def _refine_near_end(expr: sp.Expr, x: sp.Symbol, iv: sp.Interval, end: sp.Expr,
                     kinks: set[sp.Expr] | None) -> sp.Expr:
    """``expr`` refined on the part of ``iv`` between ``end`` and the nearest of its
    ``kinks`` (:func:`_kinks` of ``expr`` on ``iv``): how a density behaves at an end
    depends on that part only."""
    if not kinks:
        return expr if kinks is None else refine_on_interval(expr, x, iv)
    try:
        near = (sp.Interval.open(end, min(kinks, key=float)) if end == iv.start
                else sp.Interval.open(max(kinks, key=float), end))
    except TypeError:  # a kink that depends on a parameter cannot be ordered
        return expr
    return refine_on_interval(expr, x, near)


def refined_sde(sde: SDE, iv: sp.Interval) -> SDE:
    """A copy of a one-dimensional ``sde`` whose coefficients are refined on ``iv`` (see
    :func:`refine_on_interval`); ``sde`` itself when nothing changes."""
    import copy

    (x,) = sde.state
    drift = sde.drift.applyfunc(lambda e: refine_on_interval(e, x, iv))
    G = sde.diffusion.applyfunc(lambda e: refine_on_interval(e, x, iv))
    D = sde.diffusion_matrix.applyfunc(lambda e: refine_on_interval(e, x, iv))
    if drift == sde.drift and sde.diffusion == G and sde.diffusion_matrix == D:
        return sde
    out = copy.copy(sde)
    out.drift, out.diffusion, out._D = drift, G, D
    return out


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
        kinks = _kinks([U], x, iv)  # located once for every end
        # Only the form U takes beyond the last kink matters at an infinite end.
        if b is sp.oo:
            _check_normalizable(_refine_near_end(U, x, iv, b, kinks), (x,), [(1,)])
        if a is -sp.oo:
            _check_normalizable(_refine_near_end(U, x, iv, a, kinks), (x,), [(-1,)])
        for end, side in ((a, "+"), (b, "-")):
            if end.is_finite:
                _check_endpoint(U, x, iv, end, side, kinks)
        inner = [p for p in _singular_points_1d(sde)
                 if sp.Interval.open(a, b).contains(p) is sp.true]
        _check_singular_points(U, x, inner)
    except NotNormalizableError as exc:
        if name and not str(exc).startswith(name):
            raise NotNormalizableError(f"{name}{exc}") from None
        raise


def _check_endpoint(U: sp.Expr, x: sp.Symbol, iv: sp.Interval, end: sp.Expr, side: str,
                    kinks: set[sp.Expr] | None) -> None:
    """exp(-U) ~ |x - end|^k near a finite end of ``iv``: integrable iff k > -1."""
    from symsde.boundaries import _decide, _exponent

    where = f"{x} = {end} (the {'left' if side == '+' else 'right'} end of the state space)"
    k = _exponent(-_refine_near_end(U, x, iv, end, kinks), x, end, side)
    if k is None:
        params = U.free_symbols - {x}
        raise NotNormalizableError(
            f"cannot decide how the density behaves near {where}; " + (
                "give the parameters numeric values" if params else
                f"SymPy finds no power law |{x - end}|^k for exp(-U), U = {U}, there; "
                "simplify the drift or the diffusion near that end")
        )
    ok = sp.true if k is sp.oo else sp.false if k is -sp.oo else _decide(sp.Gt(k, -1))
    if ok is sp.true:
        return
    shape = (f"faster than any power of |{x - end}|" if k is -sp.oo
             else f"like |{x - end}|^({k})")
    if ok is sp.false:
        raise NotNormalizableError(
            f"the density blows up {shape} at {where}, so its integral diverges; "
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
    if len(X) == 1:
        # The equation holds on either side of a kink of |.| or a Piecewise, not on it.
        kinks = _kinks([U, sde.drift[0], sde.diffusion_matrix[0, 0]], X[0], domain[0]) or set()
        step = sp.Rational(1, 97)
        points = [(p + (step if domain[0].contains(p + step) is sp.true else -step),)
                  if p in kinks else (p,) for (p,) in points]
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
    fn = lambdify_mpmath(list(X), exprs)
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
                shown = str(U) if len(str(U)) <= 200 else str(U)[:197] + "..."
                kinked = any(e.has(*KINKED) for e in [*sde.drift, *sde.diffusion])
                if kinked:  # SymPy's antiderivative through a kink: complex logarithms
                    from symsde.inputs import how_to_help_sympy

                    why = ("SymPy's antiderivative through the kink is complex there; "
                           + how_to_help_sympy(sde))
                else:
                    why = "the diffusion or the domain is wrong for this process"
                raise NoStationaryDensityError(
                    f"{name}the candidate density exp(-U), U = {shown}, is not a positive "
                    f"real number at {at} (U = {mpmath.nstr(u0, 8)}, parameters {params}), so "
                    f"it is not a density on {sde.domain}; {why}"
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
