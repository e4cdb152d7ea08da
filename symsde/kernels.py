"""NumPy kernels generated from symbolic expressions.

Every kernel here is built by :func:`sympy.lambdify` (NumPy printer, common-subexpression
elimination on), after the parameters have been replaced by their numeric values, so the
code that runs is the symbolic expression and nothing else:

- :func:`lambdify_sde`: the drift :math:`\\mu` and the diffusion coefficient :math:`G`;
- :func:`lambdify_density`: a (stationary) density;
- :func:`lambdify_loss`: a per-example loss and its gradient in the trained parameters.

Kernels work on batches: a state array of shape ``(n_paths, d)``. Internally (and for the
simulator) each kernel also has a *column* form that takes one contiguous array per
variable, which avoids strided access in the inner loop.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from numbers import Real
from typing import Any

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from symsde._lambdify import internal_names as _internal_names
from symsde.errors import InputError
from symsde.inputs import front_door, is_stationary_density
from symsde.sde import SDE

__all__ = [
    "ColumnKernel",
    "DensityFunction",
    "DiffusionFunction",
    "DriftFunction",
    "GradientFunction",
    "LossFunction",
    "affine_drift",
    "lambdify_density",
    "lambdify_loss",
    "lambdify_sde",
    "numeric_values",
]

ParamValues = Mapping[sp.Symbol | str, Any] | None


def _erf(x: Any) -> Any:
    """Vectorised error function (NumPy has none; SciPy is not a dependency)."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 0:
        return math.erf(float(arr))
    return np.vectorize(math.erf, otypes=[float])(arr)


def _ipow(base: Any, n: int) -> Any:
    """``base**n`` for a small integer ``n`` by repeated multiplication."""
    out = base
    for _ in range(abs(n) - 1):
        out = out * base
    return out if n > 0 else 1.0 / out


#: Name space for lambdify: NumPy plus the functions NumPy lacks.
MODULES: list[Any] = [{"erf": _erf, "_ipow": _ipow}, "numpy"]


class _Printer(NumPyPrinter):
    """NumPy printer that writes small integer powers as products.

    ``np.power`` of a negative base takes libm's slow path (about 50 ns an element
    against 0.5 ns for ``x*x*x``); products are within a few ulps of ``pow``.
    """

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        base, e = expr.as_base_exp()
        if e.is_Integer and 2 <= abs(int(e)) <= 8:
            if not base.is_Symbol:  # evaluate the base once
                return f"_ipow({self._print(base)}, {int(e)})"
            b = self._print(base)
            prod = "*".join([b] * abs(int(e)))
            return f"({prod})" if e > 0 else f"(1/({prod}))"
        return super()._print_Pow(expr, rational=rational)


def _printer() -> _Printer:
    return _Printer({"fully_qualified_modules": False, "inline": True,
                     "allow_unknown_functions": True,
                     "user_functions": {"erf": "erf", "_ipow": "_ipow"}})


# -- parameter values -------------------------------------------------------------------------
def numeric_values(
    params: ParamValues,
    free: Iterable[sp.Symbol],
    *,
    what: str = "the SDE",
    strict: bool = True,
) -> dict[sp.Symbol, sp.Expr]:
    """Match user-given parameter values to the free symbols and check them.

    Parameters
    ----------
    params : mapping, optional
        Values by symbol or by name. Values are real numbers (Python, NumPy or SymPy).
    free : iterable of sympy.Symbol
        The symbols that need values.
    what : str
        Used in messages ("the SDE", "the loss").
    strict : bool
        Reject names that do not occur in ``free`` (a guard against typos).

    Returns
    -------
    dict
        Symbol to SymPy number (floats are kept exactly, as binary floats).

    Raises
    ------
    InputError
        A missing, unknown, non-real or non-finite value.

    Examples
    --------
    >>> import sympy as sp
    >>> s = sp.Symbol("sigma", positive=True)
    >>> numeric_values({"sigma": 0.5}, [s])
    {sigma: 0.500000000000000}
    """
    free = sorted(set(free), key=lambda s: s.name)
    by_name: dict[str, sp.Symbol] = {}
    for s in free:
        if s.name in by_name:
            raise InputError(
                f"two different symbols are named {s.name!r} in {what} (with different "
                "assumptions); give them distinct names"
            )
        by_name[s.name] = s
    out: dict[sp.Symbol, sp.Expr] = {}
    for key, value in (params or {}).items():
        name = key.name if isinstance(key, sp.Symbol) else str(key)
        if name not in by_name:
            if not strict:
                continue
            known = ", ".join(sorted(by_name)) or "none"
            raise InputError(
                f"parameter {name!r} does not occur in {what} (its parameters: {known}); "
                "check the spelling"
            )
        out[by_name[name]] = _as_number(value, name)
    missing = [s.name for s in free if s not in out]
    if missing:
        example = ", ".join(f"{n!r}: 1.0" for n in missing)
        raise InputError(
            f"{what} has free symbol(s) {', '.join(missing)} without a value; "
            f"pass params={{{example}}}"
        )
    return out


def _as_number(value: Any, name: str) -> sp.Expr:
    if isinstance(value, sp.Basic):
        num = sp.sympify(value)
        if not num.is_number:
            raise InputError(f"value of {name!r} is {value}, not a number; give a real number")
        fval = complex(num.evalf())
        if fval.imag != 0:
            raise InputError(f"value of {name!r} is {value}, not real; give a real number")
        if not math.isfinite(fval.real):
            raise InputError(f"value of {name!r} is {value}, not finite; give a finite number")
        return num
    if isinstance(value, bool) or not isinstance(value, (Real, np.integer, np.floating)):
        raise InputError(
            f"value of {name!r} is {value!r} ({type(value).__name__}); give a real number"
        )
    f = float(value)
    if not math.isfinite(f):
        raise InputError(f"value of {name!r} is {f}, not finite; give a finite number")
    if isinstance(value, (int, np.integer)):
        return sp.Integer(int(value))
    return sp.Float(f)


# -- the column kernel ---------------------------------------------------------------------
class ColumnKernel:
    """A list of expressions evaluated on one array per argument.

    ``kernel(*arrays)`` returns a list with one entry per expression: a NumPy array, or a
    Python/NumPy scalar for an expression that does not depend on the arguments (callers
    broadcast). Built with ``sympy.lambdify(..., modules="numpy", cse=True)``.

    Examples
    --------
    >>> import numpy as np, sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> k = ColumnKernel([x * y, sp.Integer(2)], [x, y])
    >>> k(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    [array([3., 8.]), 2]
    """

    def __init__(self, exprs: Sequence[sp.Expr], args: Sequence[sp.Symbol], *,
                 cse: bool = True) -> None:
        self.exprs = [sp.sympify(e) for e in exprs]
        self.args = tuple(args)
        extra = set().union(*(e.free_symbols for e in self.exprs)) - set(self.args)
        if extra:
            names = ", ".join(sorted(s.name for s in extra))
            raise InputError(f"free symbol(s) {names} have no value; give them numeric values")
        self.constant = [not e.has(*self.args) for e in self.exprs] if self.args else [
            True for _ in self.exprs]
        dummies, exprs = _internal_names(self.args, self.exprs)
        self._fn = sp.lambdify(dummies, exprs, modules=MODULES, printer=_printer(), cse=cse)

    def __call__(self, *arrays: Any) -> list[Any]:
        return list(self._fn(*arrays))

    def __reduce__(self) -> tuple[Any, ...]:
        # Generated functions do not pickle; rebuild from the expressions.
        return (ColumnKernel, (self.exprs, self.args))


def _broadcast_columns(values: list[Any], n: int) -> np.ndarray:
    """Stack kernel outputs into an (n, k) float array."""
    out = np.empty((n, len(values)), dtype=float)
    for j, v in enumerate(values):
        out[:, j] = v
    return out


def _as_batch(X: Any, d: int, what: str) -> tuple[np.ndarray, bool]:
    arr = np.asarray(X, dtype=float)
    single = arr.ndim == 1 and arr.shape[0] == d
    if single:
        arr = arr[None, :]
    elif d == 1 and arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] != d:
        raise InputError(
            f"{what} must have shape (n, {d}), got {np.shape(X)}; "
            f"give one row of {d} value(s) per point"
        )
    return arr, single


# -- SDE kernels ---------------------------------------------------------------------------
def _substituted(sde: SDE, params: ParamValues) -> tuple[sp.Matrix, sp.Matrix, dict]:
    values = numeric_values(params, sde.parameters, what="the SDE")
    drift = sde.drift.subs(values) if values else sde.drift
    G = sde.diffusion.subs(values) if values else sde.diffusion
    return drift, G, values


class DriftFunction:
    """The drift :math:`\\mu` as a batch kernel: ``(n, d) -> (n, d)``.

    Call as ``drift_fn(X)`` or ``drift_fn(X, t)`` for a time-dependent SDE. A single
    point of shape ``(d,)`` gives shape ``(d,)``. :attr:`columns` is the column kernel
    (one array per state variable, then ``t`` if the SDE has a time symbol).
    """

    def __init__(self, sde: SDE, drift: sp.Matrix, *, cse: bool = True) -> None:
        self.dim = sde.dim
        self.has_time = sde.time is not None
        self.args = (*sde.state, *([sde.time] if self.has_time else []))
        self.expressions = list(drift)
        self.columns = ColumnKernel(self.expressions, self.args, cse=cse)

    def __call__(self, X: Any, t: float = 0.0) -> np.ndarray:
        arr, single = _as_batch(X, self.dim, "the state X")
        cols = [arr[:, i] for i in range(self.dim)]
        vals = self.columns(*cols, *([t] if self.has_time else []))
        out = _broadcast_columns(vals, arr.shape[0])
        return out[0] if single else out


class DiffusionFunction:
    """The diffusion coefficient :math:`G` as a batch kernel: ``(n, d) -> (n, d, m)``.

    When :math:`G` does not depend on the state (or time), :attr:`constant` holds the
    ``(d, m)`` array, evaluated once; calls then return a read-only broadcast view of it
    and nothing is re-evaluated.
    """

    def __init__(self, sde: SDE, G: sp.Matrix, *, cse: bool = True) -> None:
        self.dim, self.noise_dim = sde.dim, sde.noise_dim
        self.has_time = sde.time is not None
        self.args = (*sde.state, *([sde.time] if self.has_time else []))
        self.expressions = list(G)  # row-major: entry (i, k) at i * m + k
        self.constant: np.ndarray | None = None
        if not any(e.has(*self.args) for e in self.expressions):
            self.constant = np.array(
                [[float(G[i, k]) for k in range(G.shape[1])] for i in range(G.shape[0])]
            )
            self.constant.flags.writeable = False
        self.columns = ColumnKernel(self.expressions, self.args, cse=cse)

    def __call__(self, X: Any, t: float = 0.0) -> np.ndarray:
        arr, single = _as_batch(X, self.dim, "the state X")
        n = arr.shape[0]
        if self.constant is not None:
            out = np.broadcast_to(self.constant, (n, self.dim, self.noise_dim))
        else:
            cols = [arr[:, i] for i in range(self.dim)]
            vals = self.columns(*cols, *([t] if self.has_time else []))
            out = _broadcast_columns(vals, n).reshape(n, self.dim, self.noise_dim)
        return out[0] if single else out


def lambdify_sde(
    sde: SDE, params: ParamValues = None, *, cse: bool = True
) -> tuple[DriftFunction, DiffusionFunction]:
    """NumPy kernels for the drift and the diffusion coefficient of an SDE.

    Parameters
    ----------
    sde : SDE
        The SDE.
    params : mapping, optional
        Numeric values of every free parameter, by symbol or name.
    cse : bool
        Common-subexpression elimination in the generated code (default on).

    Returns
    -------
    drift_fn : DriftFunction
        ``drift_fn(X)`` maps an ``(n_paths, d)`` array to ``(n_paths, d)``.
    diffusion_fn : DiffusionFunction
        ``diffusion_fn(X)`` maps an ``(n_paths, d)`` array to ``(n_paths, d, m)``;
        ``diffusion_fn.constant`` is the ``(d, m)`` matrix when it is state-independent.

    Examples
    --------
    >>> import numpy as np, sympy as sp
    >>> from symsde import SDE
    >>> x = sp.Symbol("x", real=True); s = sp.Symbol("sigma", positive=True)
    >>> mu, G = lambdify_sde(SDE([x], [x - x**3], s), params={"sigma": 0.5})
    >>> mu(np.array([[0.0], [2.0]]))
    array([[ 0.],
           [-6.]])
    >>> G.constant
    array([[0.5]])
    """
    drift, G, _ = _substituted(sde, params)
    return DriftFunction(sde, drift, cse=cse), DiffusionFunction(sde, G, cse=cse)


def affine_drift(sde: SDE, params: ParamValues = None) -> tuple[np.ndarray, np.ndarray] | None:
    """``(A, c)`` with :math:`\\mu(x) = A x + c` exactly, or ``None``.

    Read off the symbolic drift (Jacobian and value at 0) after substituting the
    parameters; ``None`` when the drift is not affine in the state or depends on time.
    The simulator uses this for its linear fast path, so that path is generated from the
    symbolic drift as well.

    Examples
    --------
    >>> import sympy as sp
    >>> from symsde import SDE
    >>> x, y = sp.symbols("x y", real=True)
    >>> A, c = affine_drift(SDE([x, y], [-x + y, 1 - 2*y], 1))
    >>> A.tolist(), c.tolist()
    ([[-1.0, 1.0], [0.0, -2.0]], [0.0, 1.0])
    """
    drift, _, _ = _substituted(sde, params)
    X = sde.state
    if sde.time is not None and drift.has(sde.time):
        return None
    J = drift.jacobian(X)
    if any(e.has(*X) for e in J):
        return None
    c = drift.subs({s: 0 for s in X}, simultaneous=True)
    try:
        A = np.array([[float(J[i, j]) for j in range(len(X))] for i in range(len(X))])
        cv = np.array([float(e) for e in c])
    except TypeError:
        return None
    # Guard against SymPy simplification gaps: the affine form must reproduce the drift.
    if any(sp.expand(drift[i] - (J[i, :] * sp.Matrix(X))[0] - c[i]) != 0
           for i in range(len(X))):
        return None
    return A, cv


# -- densities --------------------------------------------------------------------------------
class DensityFunction:
    """A density as a batch kernel: ``(n, d) -> (n,)`` (``(n,)`` also accepted in 1-d)."""

    def __init__(self, expr: sp.Expr, state: Sequence[sp.Symbol]) -> None:
        self.expression = expr
        self.state = tuple(state)
        self.columns = ColumnKernel([expr], self.state)

    def __call__(self, X: Any) -> np.ndarray:
        arr = np.asarray(X, dtype=float)
        flat = len(self.state) == 1 and arr.ndim <= 1
        arr, single = _as_batch(arr.reshape(-1) if flat else arr, len(self.state), "X")
        (val,) = self.columns(*[arr[:, i] for i in range(len(self.state))])
        out = np.broadcast_to(np.asarray(val, dtype=float), (arr.shape[0],)).copy()
        if flat and np.ndim(X) == 0:
            return out[0]
        return out[0] if single and not flat else out


@front_door("density", keep=is_stationary_density, symbols=("state",))
def lambdify_density(
    density: Any,
    state: Sequence[sp.Symbol] | sp.Symbol | None = None,
    params: ParamValues = None,
) -> DensityFunction:
    """A NumPy kernel for a density.

    Parameters
    ----------
    density : sympy.Expr or StationaryDensity
        The density. For a :class:`~symsde.stationary.StationaryDensity` the normalised
        density is used; a normaliser left as an integral is computed by mpmath
        quadrature (one-dimensional states only).
    state : symbols, optional
        The variables (taken from the StationaryDensity when omitted).
    params : mapping, optional
        Values of the free parameters.

    Examples
    --------
    >>> import numpy as np, sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> p = lambdify_density(sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi), x)
    >>> round(float(p(0.0)), 12)
    0.398942280401
    """
    from symsde.stationary import StationaryDensity

    if isinstance(density, StationaryDensity):
        st = density
        state = st.state if state is None else state
        free = st.unnormalized.free_symbols | st.normalizer.free_symbols
        values = numeric_values(params, free - set(st.state), what="the density")
        unnorm = st.unnormalized.subs(values)
        Z = st.normalizer.subs(values)
        if not Z.is_number or Z.has(sp.Integral):
            Z = _numeric_integral(unnorm, st.state)
        expr = unnorm / Z
    else:
        if state is None:
            raise InputError("give the state variables of the density, e.g. state=[x]")
        expr = sp.sympify(density)
    if isinstance(state, sp.Symbol):
        state = [state]
    state = tuple(state)
    if not isinstance(density, StationaryDensity):
        values = numeric_values(params, expr.free_symbols - set(state), what="the density")
        expr = expr.subs(values)
    return DensityFunction(expr, state)


def _numeric_integral(expr: sp.Expr, state: Sequence[sp.Symbol]) -> sp.Float:
    import mpmath

    if len(state) != 1:
        raise InputError(
            "the density's normaliser is an unevaluated multi-dimensional integral; "
            "give numeric parameter values so that it can be computed symbolically"
        )
    dummies, (body,) = _internal_names(state, [expr])
    f = sp.lambdify(dummies, body, modules="mpmath")
    with mpmath.workdps(30):
        val = mpmath.quad(f, [-mpmath.inf, -1, 0, 1, mpmath.inf])
    return sp.Float(val, 25)


# -- losses ---------------------------------------------------------------------------------
class LossFunction:
    """A per-example loss as a batch kernel: ``(theta (n, p), y (n, k)) -> (n,)``."""

    def __init__(self, expr: sp.Expr, params: Sequence[sp.Symbol],
                 data: Sequence[sp.Symbol]) -> None:
        self.expression = expr
        self.params, self.data = tuple(params), tuple(data)
        self.columns = ColumnKernel([expr], (*self.params, *self.data))

    def __call__(self, theta: Any, y: Any) -> np.ndarray:
        th, yv, n = _loss_args(theta, y, len(self.params), len(self.data))
        (val,) = self.columns(*th, *yv)
        return np.broadcast_to(np.asarray(val, dtype=float), (n,)).copy()


class GradientFunction:
    """The gradient of a per-example loss in the parameters: ``(n, p), (n, k) -> (n, p)``."""

    def __init__(self, expr: sp.Expr, params: Sequence[sp.Symbol],
                 data: Sequence[sp.Symbol]) -> None:
        self.params, self.data = tuple(params), tuple(data)
        self.expressions = [sp.diff(expr, s) for s in self.params]
        self.columns = ColumnKernel(self.expressions, (*self.params, *self.data))

    def __call__(self, theta: Any, y: Any) -> np.ndarray:
        th, yv, n = _loss_args(theta, y, len(self.params), len(self.data))
        return _broadcast_columns(self.columns(*th, *yv), n)


def _loss_args(theta: Any, y: Any, p: int, k: int) -> tuple[list, list, int]:
    th, _ = _as_batch(theta, p, "theta")
    yv, _ = _as_batch(y, k, "the data y")
    n = max(th.shape[0], yv.shape[0])
    if th.shape[0] not in (1, n) or yv.shape[0] not in (1, n):
        raise InputError(
            f"theta has {th.shape[0]} rows and y has {yv.shape[0]}; give the same number "
            "of rows (or one row to broadcast)"
        )
    return ([th[:, i] for i in range(p)], [yv[:, j] for j in range(k)], n)


def _as_symbols(items: Any, what: str) -> tuple[sp.Symbol, ...]:
    if isinstance(items, sp.Symbol):
        items = [items]
    out = tuple(items)
    if not out or not all(isinstance(s, sp.Symbol) for s in out):
        raise InputError(f"{what} must be a non-empty list of SymPy symbols, got {items!r}")
    if len(set(out)) != len(out):
        raise InputError(f"{what} lists a symbol twice; list each once")
    return out


@front_door("loss", symbols=("params", "data_symbols"))
def lambdify_loss(
    loss: sp.Expr,
    params: Sequence[sp.Symbol] | sp.Symbol,
    data_symbols: Sequence[sp.Symbol] | sp.Symbol,
    values: ParamValues = None,
) -> tuple[LossFunction, GradientFunction]:
    """Kernels for a per-example loss :math:`\\ell(\\theta; y)` and :math:`\\nabla_\\theta\\ell`.

    Parameters
    ----------
    loss : sympy.Expr
        The loss of one example.
    params : symbols
        The trained parameters :math:`\\theta` (the gradient is taken in these).
    data_symbols : symbols
        The symbols standing for one example's data :math:`y`.
    values : mapping, optional
        Values of any other free symbol (constants of the model).

    Returns
    -------
    loss_fn, grad_fn
        ``loss_fn(theta, y)`` with ``theta`` of shape ``(n, p)`` and ``y`` of shape
        ``(n, k)`` gives ``(n,)``; ``grad_fn(theta, y)`` gives ``(n, p)``.

    Examples
    --------
    >>> import numpy as np, sympy as sp
    >>> th, y = sp.symbols("theta y", real=True)
    >>> loss_fn, grad_fn = lambdify_loss((th - y)**2 / 2, [th], [y])
    >>> grad_fn(np.array([[1.0], [2.0]]), np.array([[0.5], [0.5]]))
    array([[0.5],
           [1.5]])
    """
    ps = _as_symbols(params, "params")
    ds = _as_symbols(data_symbols, "data_symbols")
    both = set(ps) & set(ds)
    if both:
        raise InputError(f"{sorted(s.name for s in both)[0]} is both a parameter and data; "
                         "give each symbol one role")
    expr = sp.sympify(loss)
    consts = numeric_values(values, expr.free_symbols - set(ps) - set(ds), what="the loss")
    expr = expr.subs(consts) if consts else expr
    return LossFunction(expr, ps, ds), GradientFunction(expr, ps, ds)

