"""Symbolic Ito stochastic differential equations.

An SDE here is the object of the notes' slide *A General SDE*,

.. math::

    dX = \\mu(X)\\,dt + G(X)\\,dB, \\qquad X \\in \\mathbb{R}^d,\\; B \\in \\mathbb{R}^m,

with drift :math:`\\mu` (a column of :math:`d` expressions), diffusion coefficient
:math:`G` (a :math:`d \\times m` matrix) and diffusion matrix :math:`D = G G^\\top`.
All calculus is Ito calculus: ``drift`` is always the Ito drift, and every function of
symsde (generator, Fokker-Planck operator, stationary densities, moments, transition
densities, simulation) reads the SDE in the Ito sense. A Stratonovich SDE
:math:`dX = a\\,dt + G \\circ dB` enters through :meth:`SDE.from_stratonovich`, which adds
the noise-induced drift; :attr:`SDE.stratonovich_drift` converts back.

The state space is :attr:`SDE.domain` (see :mod:`symsde.domains`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from symsde.errors import InputError, InvalidSDEError
from symsde.inputs import as_expression, front_door, register_class

__all__ = ["SDE", "divergence", "gradient"]


def gradient(f: sp.Expr, state: Sequence[sp.Symbol]) -> sp.Matrix:
    """Column vector of partial derivatives :math:`\\nabla f`.

    Examples
    --------
    >>> import sympy as sp
    >>> x, y = sp.symbols("x y", real=True)
    >>> gradient(x**2 * y, [x, y]).T
    Matrix([[2*x*y, x**2]])
    """
    return sp.Matrix([sp.diff(f, s) for s in state])


def divergence(v: sp.Matrix | Sequence[sp.Expr], state: Sequence[sp.Symbol]) -> sp.Expr:
    """Divergence :math:`\\sum_i \\partial_i v_i` of a vector field.

    Examples
    --------
    >>> import sympy as sp
    >>> x, y = sp.symbols("x y", real=True)
    >>> divergence([x * y, y**2], [x, y])
    3*y
    """
    v = sp.Matrix(v)
    return sp.Add(*[sp.diff(v[i], s) for i, s in enumerate(state)])


def _as_expr(value: Any, what: str, sde: SDE) -> sp.Expr:
    """A SymPy expression from an expression, a number or a string read by the whitelist
    parser over the SDE's symbols (:func:`symsde.inputs.as_expression`); strings are never
    evaluated."""
    time = [sde.time] if sde.time is not None else []
    return as_expression(value, what, [*sde.state, *sde.parameters, *time])


def _subs_args(args: tuple[Any, ...], sde: SDE) -> tuple[Any, ...]:
    """The arguments of :meth:`SDE.subs` through the front door: ``(old, new)``, a dict
    ``{old: new}`` or a list of ``(old, new)`` pairs, each side an expression (strings read
    by the whitelist parser: SymPy's own ``subs`` would sympify, i.e. evaluate, them)."""

    def one(v: Any) -> sp.Expr:
        return _as_expr(v, "subs argument", sde)

    if len(args) == 2:
        return one(args[0]), one(args[1])
    if len(args) == 1 and isinstance(args[0], dict):
        return ({one(k): one(v) for k, v in args[0].items()},)
    if (len(args) == 1 and isinstance(args[0], (list, tuple))
            and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in args[0])):
        return ([(one(a), one(b)) for a, b in args[0]],)
    raise InputError("subs takes (old, new), a dict {old: new} or a list of (old, new) pairs, "
                     "e.g. sde.subs(sigma, 1/2)")


def _as_state(state: Any) -> tuple[sp.Symbol, ...]:
    if isinstance(state, sp.Symbol):
        state = [state]
    try:
        items = tuple(state)
    except TypeError:
        raise InvalidSDEError(
            f"state must be a list of SymPy symbols, got {state!r}; "
            "write e.g. state=[x] with x = sympy.Symbol('x', real=True)"
        ) from None
    if not items:
        raise InvalidSDEError("state is empty; give at least one state symbol, e.g. state=[x]")
    for s in items:
        if not isinstance(s, sp.Symbol):
            raise InvalidSDEError(
                f"state entry {s!r} is not a SymPy Symbol; "
                "state variables must be plain symbols such as sympy.Symbol('x', real=True)"
            )
    names = [s.name for s in items]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InvalidSDEError(
            f"state symbol {dup[0]!r} appears more than once; each state variable must be distinct"
        )
    return items


def _as_column(drift: Any, d: int) -> sp.Matrix:
    if isinstance(drift, sp.MatrixBase):
        if drift.shape[1] != 1 and drift.shape[0] == 1:
            drift = drift.T
        if drift.shape[1] != 1:
            raise InvalidSDEError(
                f"drift must be a column of {d} expressions, got a {drift.shape[0]}x"
                f"{drift.shape[1]} matrix"
            )
        col = sp.Matrix(drift)
    elif isinstance(drift, (list, tuple)):
        col = sp.Matrix([sp.sympify(e) for e in drift])
    else:
        col = sp.Matrix([sp.sympify(drift)])
    if col.shape[0] != d:
        raise InvalidSDEError(
            f"drift has {col.shape[0]} component(s) but the state has {d}; "
            f"give one drift expression per state variable"
        )
    return col


def _as_diffusion(diffusion: Any, d: int) -> sp.Matrix:
    """Interpret a scalar (times identity), a list of d (diagonal) or a d x m matrix."""
    if isinstance(diffusion, sp.MatrixBase):
        G = sp.Matrix(diffusion)
    elif isinstance(diffusion, (list, tuple)):
        if len(diffusion) == 0:
            raise InvalidSDEError("diffusion is empty; give a scalar, a list or a matrix")
        if all(isinstance(r, (list, tuple)) for r in diffusion):
            widths = {len(r) for r in diffusion}
            if len(widths) != 1:
                raise InvalidSDEError(
                    "diffusion rows have different lengths; every row of the "
                    "d x m diffusion matrix needs the same number m of entries"
                )
            G = sp.Matrix([[sp.sympify(e) for e in r] for r in diffusion])
        elif any(isinstance(r, (list, tuple)) for r in diffusion):
            raise InvalidSDEError(
                "diffusion mixes scalars and rows; give a flat list (diagonal) or a list of rows"
            )
        else:
            if len(diffusion) != d:
                raise InvalidSDEError(
                    f"diagonal diffusion has {len(diffusion)} entries but the state has {d}; "
                    "give one noise amplitude per state variable"
                )
            G = sp.diag(*[sp.sympify(e) for e in diffusion])
    else:
        G = sp.sympify(diffusion) * sp.eye(d)
    if G.shape[0] != d:
        raise InvalidSDEError(
            f"diffusion has {G.shape[0]} row(s) but the state has {d}; "
            f"the diffusion coefficient must be a {d} x m matrix"
        )
    if G.shape[1] == 0:
        raise InvalidSDEError("diffusion has no columns; it must be a d x m matrix with m >= 1")
    return G


def _check_symmetric_psd(D: sp.Matrix, what: str = "diffusion matrix D") -> None:
    """Raise InvalidSDEError when D is provably not symmetric positive semi-definite."""
    n, m = D.shape
    if n != m:
        raise InvalidSDEError(f"{what} must be square, got {n}x{m}")
    for i in range(n):
        for j in range(i + 1, n):
            if sp.simplify(D[i, j] - D[j, i]) != 0:
                raise InvalidSDEError(
                    f"{what} is not symmetric: entry ({i},{j}) is {D[i, j]} but ({j},{i}) "
                    f"is {D[j, i]}; a diffusion matrix D = G G^T is always symmetric"
                )
    # Principal minors of a PSD matrix are non-negative; test those SymPy can decide.
    from itertools import combinations

    for k in range(1, n + 1):
        for idx in combinations(range(n), k):
            minor = sp.simplify(D.extract(list(idx), list(idx)).det())
            if minor.is_negative:
                raise InvalidSDEError(
                    f"{what} is not positive semi-definite (the principal minor on rows "
                    f"{list(idx)} is {minor} < 0); a covariance must have non-negative "
                    "eigenvalues"
                )


def _noise_induced_drift(G: sp.Matrix, state: Sequence[sp.Symbol]) -> sp.Matrix:
    """:math:`c_i = \\tfrac12 \\sum_{k,j} G_{jk}\\,\\partial_j G_{ik}`."""
    d, m = G.shape
    return sp.Matrix([
        sp.expand(sp.Add(*[G[j, k] * sp.diff(G[i, k], state[j])
                           for k in range(m) for j in range(d)]) / 2)
        for i in range(d)
    ])


@register_class
class SDE:
    """An Ito SDE :math:`dX = \\mu(X)\\,dt + G(X)\\,dB`.

    Parameters
    ----------
    state : list of sympy.Symbol
        The state variables :math:`X_1, \\dots, X_d` (distinct symbols).
    drift : list or column Matrix
        The drift :math:`\\mu`, one expression per state variable.
    diffusion : scalar, list or Matrix
        The diffusion coefficient :math:`G`: a scalar means :math:`g I_d`, a list of
        :math:`d` entries a diagonal matrix, a nested list or Matrix a :math:`d \\times m`
        matrix.
    domain : sympy.Interval or ProductSet, optional
        The state space: an interval in one dimension, a product of intervals (or a list
        of them) otherwise. Without it, :attr:`domain` is inferred (see there).
    time : sympy.Symbol, optional
        The time symbol if drift or diffusion depend on time.
    loss : sympy.Expr, optional
        The loss :math:`L` the SDE was built from (set by :meth:`langevin` and :meth:`sgd`).

    Symbols other than the state (and time) are parameters; their SymPy assumptions
    (``positive=True``, ``real=True``) are used by every simplification.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> sde = SDE(state=[x], drift=[x - x**3], diffusion=[[sp.sqrt(1 + x**2)]])
    >>> sde.dim, sde.noise_dim
    (1, 1)
    >>> sde.diffusion_matrix
    Matrix([[x**2 + 1]])
    >>> sde.generator(x**2)
    -2*x**4 + 3*x**2 + 1
    """

    @front_door("drift", "diffusion", "loss", "learning_rate", optional=("loss", "learning_rate"),
                state="state", symbols=("time",))
    def __init__(
        self,
        state: Sequence[sp.Symbol] | sp.Symbol,
        drift: Any,
        diffusion: Any,
        domain: Any = None,
        *,
        time: sp.Symbol | None = None,
        loss: sp.Expr | None = None,
        learning_rate: sp.Expr | None = None,
    ) -> None:
        self.state: tuple[sp.Symbol, ...] = _as_state(state)
        d = len(self.state)
        self.drift: sp.Matrix = _as_column(drift, d)
        self.diffusion: sp.Matrix = _as_diffusion(diffusion, d)
        if time is not None and time in self.state:
            raise InvalidSDEError(f"time symbol {time} is also a state variable; rename one")
        self.time = time
        self.loss = None if loss is None else sp.sympify(loss)
        self.learning_rate = None if learning_rate is None else sp.sympify(learning_rate)
        for e in [*self.drift, *self.diffusion]:
            if e.has(sp.nan, sp.zoo) or e.has(sp.oo, -sp.oo):
                raise InvalidSDEError(
                    f"coefficient {e} is not finite; drift and diffusion must be finite expressions"
                )
            if e.is_extended_real is False or (
                e.has(sp.I) and sp.simplify(sp.im(e)).is_zero is not True
            ):
                raise InvalidSDEError(
                    f"coefficient {e} is not real; the drift and the diffusion coefficient G "
                    "of a real SDE must be real expressions (then D = G G^T is automatically "
                    "positive semi-definite)"
                )
        self._D: sp.Matrix | None = None
        self._domain_arg = None
        if domain is not None:
            from symsde.domains import normalize_domain

            self._domain_arg = normalize_domain(domain, self.state)
        self._domain: tuple[sp.Interval, ...] | None = None

    # -- construction helpers -------------------------------------------------------------
    @classmethod
    @front_door("drift", "diffusion_matrix", "loss", "learning_rate",
                optional=("loss", "learning_rate"), state="state", symbols=("time",))
    def from_diffusion_matrix(
        cls, state: Sequence[sp.Symbol] | sp.Symbol, drift: Any, diffusion_matrix: Any, **kw: Any
    ) -> SDE:
        """Build an SDE from its diffusion matrix :math:`D` instead of :math:`G`.

        :math:`D` must be symmetric positive semi-definite; :math:`G` is its Cholesky
        factor (its square root in one dimension), so that :math:`G G^\\top = D`.
        As for ``diffusion``, a scalar :math:`s` means :math:`s I`, a flat list of :math:`d`
        entries a diagonal matrix, a nested list or Matrix the full :math:`d \\times d`
        matrix.

        Examples
        --------
        >>> import sympy as sp
        >>> x, y = sp.symbols("x y", real=True)
        >>> sde = SDE.from_diffusion_matrix([x, y], [-x, -y], [[2, 1], [1, 2]])
        >>> sde.diffusion_matrix
        Matrix([
        [2, 1],
        [1, 2]])
        """
        st = _as_state(state)
        if isinstance(diffusion_matrix, sp.MatrixBase):
            D = sp.Matrix(diffusion_matrix)
        elif isinstance(diffusion_matrix, (list, tuple)):
            if diffusion_matrix and not any(isinstance(r, (list, tuple))
                                            for r in diffusion_matrix):
                # A flat list is the diagonal, as for the diffusion coefficient.
                D = sp.diag(*[sp.sympify(e) for e in diffusion_matrix])
            else:
                try:
                    D = sp.Matrix(diffusion_matrix)
                except (ValueError, TypeError):
                    raise InvalidSDEError(
                        "diffusion matrix rows have different lengths or mix scalars and rows; "
                        f"give a {len(st)}x{len(st)} nested list"
                    ) from None
        else:
            D = sp.sympify(diffusion_matrix) * sp.eye(1)
        if D.shape == (1, 1) and len(st) > 1:
            D = D[0, 0] * sp.eye(len(st))
        if D.shape[0] != len(st) or D.shape[1] != len(st):
            raise InvalidSDEError(
                f"diffusion matrix must be {len(st)}x{len(st)} for a {len(st)}-dimensional "
                f"state, got {D.shape[0]}x{D.shape[1]}"
            )
        _check_symmetric_psd(D)
        if len(st) == 1:
            G = sp.Matrix([[sp.sqrt(D[0, 0])]])
        elif D.is_diagonal():
            G = sp.diag(*[sp.sqrt(D[i, i]) for i in range(len(st))])
        else:
            try:
                G = D.cholesky(hermitian=False)
            except ValueError as exc:
                raise InvalidSDEError(
                    f"diffusion matrix has no Cholesky factor ({exc}); "
                    "give the diffusion coefficient G instead"
                ) from None
            G = G.applyfunc(sp.simplify)
        sde = cls(st, drift, G, **kw)
        sde._D = D
        return sde

    @classmethod
    @front_door("loss", "sigma", state="state")
    def langevin(
        cls, loss: sp.Expr, state: Sequence[sp.Symbol] | sp.Symbol, sigma: Any,
        domain: Any = None,
    ) -> SDE:
        """The Langevin SDE :math:`d\\Phi = -\\nabla L\\,dt + \\sigma\\,dB`.

        From the slide *The Langevin SDE*.

        ``sigma`` is a scalar (isotropic noise) or a matrix/list as in :class:`SDE`.

        Examples
        --------
        >>> import sympy as sp
        >>> x = sp.Symbol("x", real=True); s = sp.Symbol("sigma", positive=True)
        >>> SDE.langevin(x**4/4 - x**2/2, [x], s).drift
        Matrix([[-x**3 + x]])
        """
        st = _as_state(state)
        loss = sp.sympify(loss)
        return cls(st, -gradient(loss, st), sigma, domain, loss=loss)

    @classmethod
    @front_door("loss", "learning_rate", "noise", state="state")
    def sgd(
        cls,
        loss: sp.Expr,
        state: Sequence[sp.Symbol] | sp.Symbol,
        learning_rate: Any,
        noise: Any,
        domain: Any = None,
    ) -> SDE:
        """The SGD SDE :math:`d\\Phi = -\\nabla L\\,dt + \\sqrt{\\eta}\\,\\sigma(\\Phi)\\,dB`.

        ``noise`` is :math:`\\sigma(\\Phi)`, a square root of the gradient-noise covariance
        :math:`\\Sigma` (slide *The SGD SDE*), given as for ``diffusion`` in :class:`SDE`.

        Examples
        --------
        >>> import sympy as sp
        >>> x = sp.Symbol("x", real=True); eta, s = sp.symbols("eta s", positive=True)
        >>> SDE.sgd(x**2/2, [x], eta, s).diffusion_matrix
        Matrix([[eta*s**2]])
        """
        st = _as_state(state)
        loss = sp.sympify(loss)
        eta = sp.sympify(learning_rate)
        noise_m = _as_diffusion(noise, len(st))
        return cls(st, -gradient(loss, st), sp.sqrt(eta) * noise_m, domain, loss=loss,
                   learning_rate=eta)

    @classmethod
    @front_door("drift", "diffusion", state="state", symbols=("time",))
    def from_stratonovich(
        cls, state: Sequence[sp.Symbol] | sp.Symbol, drift: Any, diffusion: Any,
        domain: Any = None, **kw: Any,
    ) -> SDE:
        """The Ito SDE equivalent to the Stratonovich SDE :math:`dX = a\\,dt + G \\circ dB`.

        .. math::

            \\mu_i = a_i + \\tfrac12 \\sum_{k=1}^{m} \\sum_{j=1}^{d}
                G_{jk}\\,\\partial_j G_{ik}

        (the noise-induced drift; Oksendal, *Stochastic Differential Equations*, eq. (6.1.3);
        Gardiner, *Handbook of Stochastic Methods*, sec. 4.3.6). The formula needs no
        commutativity of the noise columns. The returned SDE, like every :class:`SDE`, is
        in Ito form; :attr:`stratonovich_drift` gives :math:`a` back.

        Examples
        --------
        >>> import sympy as sp
        >>> x = sp.Symbol("x", positive=True); mu, s = sp.symbols("mu sigma", positive=True)
        >>> SDE.from_stratonovich([x], [mu * x], [[s * x]]).drift
        Matrix([[mu*x + sigma**2*x/2]])
        """
        st = _as_state(state)
        a = _as_column(drift, len(st))
        G = _as_diffusion(diffusion, len(st))
        return cls(st, a + _noise_induced_drift(G, st), G, domain, **kw)

    @property
    def stratonovich_drift(self) -> sp.Matrix:
        """The drift :math:`a = \\mu - \\tfrac12 \\sum_{j,k} G_{jk}\\partial_j G_{\\cdot k}`
        of the same process written as a Stratonovich SDE :math:`dX = a\\,dt + G\\circ dB`.

        Examples
        --------
        >>> import sympy as sp
        >>> x = sp.Symbol("x", positive=True); mu, s = sp.symbols("mu sigma", positive=True)
        >>> SDE([x], [mu * x], [[s * x]]).stratonovich_drift
        Matrix([[mu*x - sigma**2*x/2]])
        """
        return (self.drift - _noise_induced_drift(self.diffusion, self.state)).applyfunc(
            sp.expand)

    # -- basic attributes ------------------------------------------------------------------
    @property
    def dim(self) -> int:
        """Dimension :math:`d` of the state."""
        return len(self.state)

    @property
    def noise_dim(self) -> int:
        """Dimension :math:`m` of the Brownian motion."""
        return int(self.diffusion.shape[1])

    @property
    def diffusion_matrix(self) -> sp.Matrix:
        """:math:`D = G G^\\top` (a :math:`d \\times d` symmetric matrix)."""
        if self._D is None:
            self._D = (self.diffusion * self.diffusion.T).applyfunc(sp.expand)
        return self._D

    @property
    def parameters(self) -> frozenset[sp.Symbol]:
        """Free symbols other than the state and time."""
        free: set[sp.Symbol] = set()
        for e in [*self.drift, *self.diffusion]:
            free |= e.free_symbols
        if self.loss is not None:
            free |= self.loss.free_symbols
        return frozenset(free - set(self.state) - ({self.time} if self.time else set()))

    @property
    def domain(self) -> sp.Interval | sp.ProductSet:
        """The state space.

        The ``domain=`` argument if given; otherwise each coordinate's interval from its
        symbol's assumptions (``positive=True`` gives :math:`(0, \\infty)`) and, in one
        dimension, the interval between consecutive real zeros of :math:`D` on which
        :math:`D > 0` (an :class:`~symsde.errors.InvalidSDEError` asks for ``domain=``
        when there are several). See :mod:`symsde.domains`.

        Examples
        --------
        >>> import sympy as sp
        >>> x = sp.Symbol("x", real=True)
        >>> SDE([x], [(1 - 2 * x) / 8], [[sp.sqrt(x * (1 - x))]]).domain
        Interval.open(0, 1)
        >>> SDE([sp.Symbol("r", positive=True)], [1], 1).domain
        Interval.open(0, oo)
        """
        parts = self.domain_intervals
        return parts[0] if len(parts) == 1 else sp.ProductSet(*parts)

    @property
    def domain_intervals(self) -> tuple[sp.Interval, ...]:
        """:attr:`domain` as one interval per state variable."""
        if self._domain is None:
            from symsde.domains import assumption_interval, infer_domain_1d

            if self._domain_arg is not None:
                self._domain = self._domain_arg
            else:
                parts = tuple(assumption_interval(s) for s in self.state)
                if self.dim == 1:
                    parts = (infer_domain_1d(self.state[0], self.diffusion_matrix[0, 0],
                                             parts[0]),)
                self._domain = parts
        return self._domain

    @property
    def domain_given(self) -> bool:
        """True when the domain came from the ``domain=`` keyword."""
        return self._domain_arg is not None

    @property
    def is_constant_diffusion(self) -> bool:
        """True when :math:`G` does not depend on the state."""
        return not any(e.has(*self.state) for e in self.diffusion)

    # -- operators ---------------------------------------------------------------------------
    def generator(self, f: Any, *, evaluate: bool = True) -> sp.Expr:
        """Ito generator applied to ``f`` (``evaluate=False`` keeps the derivatives unevaluated).

        .. math::

            \\mathcal{A} f = \\mu\\cdot\\nabla f
                + \\tfrac12 \\operatorname{tr}(D\\,\\nabla^2 f)

        Examples
        --------
        >>> import sympy as sp
        >>> x = sp.Symbol("x", real=True)
        >>> SDE([x], [-x], 1).generator(x**2)
        1 - 2*x**2
        """
        f = _as_expr(f, "f", self)
        X, D = self.state, self.diffusion_matrix
        d = sp.diff if evaluate else sp.Derivative
        first = sp.Add(*[self.drift[i] * d(f, X[i]) for i in range(self.dim)])
        second = sp.Add(
            *[D[i, j] * d(f, X[i], X[j]) for i in range(self.dim) for j in range(self.dim)]
        )
        return sp.expand(first + second / 2) if evaluate else first + second / 2

    def current(self, p: Any, *, evaluate: bool = True) -> sp.Matrix:
        """Probability current :math:`J_i = \\mu_i p - \\tfrac12 \\sum_j \\partial_j (D_{ij} p)`.

        ``evaluate=False`` keeps the derivatives unevaluated (for numeric witnesses).

        With this current the Fokker-Planck equation reads :math:`\\partial_t p = -\\nabla\\cdot J`.
        In the notes' words :math:`\\mu p` is the *gradient flow* and the second term the
        *diffusion flow* (slide *The Langevin SDE*).

        Examples
        --------
        >>> import sympy as sp
        >>> x = sp.Symbol("x", real=True)
        >>> p = sp.Function("p")
        >>> SDE([x], [-x], 1).current(p(x))
        Matrix([[-x*p(x) - Derivative(p(x), x)/2]])
        """
        p = _as_expr(p, "p", self)
        X, D = self.state, self.diffusion_matrix
        return sp.Matrix(
            [
                self.drift[i] * p
                - sp.Add(*[(sp.diff if evaluate else sp.Derivative)(D[i, j] * p, X[j])
                           for j in range(self.dim)]) / 2
                for i in range(self.dim)
            ]
        )

    def fokker_planck(self, p: Any, *, evaluate: bool = True) -> sp.Expr:
        """Right-hand side of the Fokker-Planck equation (``evaluate=False``: unevaluated).

        .. math::

            \\partial_t p = -\\nabla\\cdot(\\mu p)
                + \\tfrac12 \\sum_{ij}\\partial_i\\partial_j(D_{ij} p)

        Examples
        --------
        >>> import sympy as sp
        >>> x = sp.Symbol("x", real=True)
        >>> sp.simplify(SDE([x], [-x], 1).fokker_planck(sp.exp(-x**2)))
        0
        """
        if not evaluate:
            J = self.current(p, evaluate=False)
            return -sp.Add(*[sp.Derivative(J[i], self.state[i]) for i in range(self.dim)])
        return -divergence(self.current(p), self.state)

    def subs(self, *args: Any, **kw: Any) -> SDE:
        """Substitute parameters (e.g. numeric values) and return a new SDE.

        Strings among the arguments are read by the whitelist parser over the SDE's symbols,
        never evaluated.

        Examples
        --------
        >>> import sympy as sp
        >>> x = sp.Symbol("x", real=True); a = sp.Symbol("a", positive=True)
        >>> SDE([x], [-a * x], 1).subs("a", "1/2").drift
        Matrix([[-x/2]])
        """
        args = _subs_args(args, self)
        out = SDE(
            self.state,
            self.drift.subs(*args, **kw),
            self.diffusion.subs(*args, **kw),
            None if self._domain_arg is None
            else [iv.subs(*args, **kw) for iv in self._domain_arg],
            time=self.time,
            loss=None if self.loss is None else self.loss.subs(*args, **kw),
            learning_rate=None
            if self.learning_rate is None
            else self.learning_rate.subs(*args, **kw),
        )
        if self._D is not None:
            out._D = self._D.subs(*args, **kw)
        return out

    def __repr__(self) -> str:
        return (
            f"SDE(state={list(self.state)}, drift={list(self.drift)}, "
            f"diffusion={self.diffusion.tolist()})"
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, SDE)
            and self.state == other.state
            and self.drift == other.drift
            and self.diffusion == other.diffusion
            and self.time == other.time
            and self._domain_arg == other._domain_arg
        )

    def __hash__(self) -> int:
        return hash((self.state, tuple(self.drift), tuple(self.diffusion), self.time))

