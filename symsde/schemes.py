"""Ito-Taylor schemes derived symbolically from an SDE's generator.

For :math:`dX = a(t, X)\\,dt + b(t, X)\\,dW` with :math:`m` noises, the operators

.. math::
    L^0 f = \\partial_t f + \\sum_k a^k \\partial_k f
            + \\tfrac12 \\sum_{k,l} (b b^\\top)^{kl} \\partial_k \\partial_l f, \\qquad
    L^j f = \\sum_k b^{kj} \\partial_k f \\quad (j = 1, \\dots, m)

give the Ito-Taylor coefficient of a multi-index :math:`\\alpha = (j_1, \\dots, j_l)` as
:math:`f_\\alpha = L^{j_1} \\cdots L^{j_{l-1}} b^{j_l}` (with :math:`b^0 = a`), and a
scheme is the truncated expansion :math:`Y_{n+1} = Y_n + \\sum_{\\alpha \\in \\mathcal A}
f_\\alpha(t_n, Y_n)\\, I_\\alpha` over a hierarchical set :math:`\\mathcal A` (Kloeden and
Platen, *Numerical Solution of Stochastic Differential Equations*, 1992, sections 5.3,
10.2-10.4 and 14.2):

- ``euler`` (strong 0.5, weak 1): :math:`l(\\alpha) + n(\\alpha) \\le 1` or
  :math:`\\alpha = (0)`;
- ``milstein`` (strong 1.0): :math:`l(\\alpha) + n(\\alpha) \\le 2`; double integrals of
  distinct noises only in commuting pairs (:math:`L^{j_1} b^{j_2} = L^{j_2} b^{j_1}`),
  where :math:`I_{(j_1,j_2)} + I_{(j_2,j_1)} = \\Delta W^{j_1} \\Delta W^{j_2}`;
- ``strong1.5``: :math:`l + n \\le 3` or :math:`l = n = 2`; scalar or diagonal noise
  (every coefficient of a multiple integral of distinct noises must vanish), with
  :math:`I_{(j,0)} = \\Delta Z^j`, :math:`\\Delta Z = \\tfrac12 h^{3/2}(\\xi + \\eta/\\sqrt3)`
  correlated with :math:`\\Delta W = \\sqrt h\\,\\xi` (KP 10.4.3);
- ``weak2``: :math:`l(\\alpha) \\le 2`, simplified (KP 14.2.7): :math:`\\Delta W` replaced by
  :math:`\\Delta\\hat W` taking :math:`\\pm\\sqrt{3h}` with probability 1/6 each and 0
  with probability 2/3, :math:`I_{(0,j)}, I_{(j,0)} \\to \\tfrac12 h \\Delta\\hat W^j`,
  :math:`I_{(j_1,j_2)} \\to \\tfrac12(\\Delta\\hat W^{j_1}\\Delta\\hat W^{j_2} + V_{j_1j_2})`
  with :math:`V_{jj} = -h`, :math:`V_{j_1j_2} = \\pm h` (two-point, probability 1/2) for
  :math:`j_1 < j_2` and :math:`V_{j_2j_1} = -V_{j_1j_2}`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from symsde.errors import InputError
from symsde.sde import SDE

__all__ = ["METHODS", "NoiseVariable", "Scheme", "derive_scheme", "generator_operators"]

#: The schemes :func:`derive_scheme` knows, with the (strong, weak) orders the tests measure
#: (None: not claimed here).
METHODS: dict[str, tuple[float | None, float | None]] = {
    "euler": (0.5, 1.0), "milstein": (1.0, None), "strong1.5": (1.5, None), "weak2": (None, 2.0),
}


@dataclass(frozen=True)
class NoiseVariable:
    """A random input of a scheme: its symbol, its law and how it is drawn.

    ``law`` is ``"normal"`` (standard normal), ``"three-point"`` (-1, 0, 1 with
    probabilities 1/6, 2/3, 1/6) or ``"two-point"`` (-1, 1 with probability 1/2 each).
    """

    symbol: sp.Symbol
    law: str


@dataclass
class Scheme:
    """A derived one-step scheme.

    Attributes
    ----------
    method : str
    state : tuple of sympy.Symbol
    step : sympy.Symbol
        The step size :math:`h`.
    increments : dict
        The symbols of the rule (:math:`\\Delta W^j`, :math:`\\Delta Z^j`,
        :math:`\\Delta\\hat W^j`, :math:`V_{j_1 j_2}`) to their expressions in the drawn
        :attr:`noises` and :math:`h`.
    terms : list of (tuple, sympy.Matrix, sympy.Expr)
        ``(alpha, f_alpha, I_alpha)`` for every non-zero term (``alpha`` uses 0 for time
        and 1..m for the noises, as in Kloeden-Platen).
    update : sympy.Matrix
        :math:`Y_{n+1}` in terms of the state, the time, :math:`h` and the increments.
    noises : list of NoiseVariable
        What is drawn each step, in drawing order.
    """

    method: str
    state: tuple[sp.Symbol, ...]
    time: sp.Symbol | None
    step: sp.Symbol
    increments: dict[sp.Symbol, sp.Expr]
    terms: list[tuple[tuple[int, ...], sp.Matrix, sp.Expr]]
    update: sp.Matrix
    noises: list[NoiseVariable] = field(default_factory=list)

    def sampled_update(self) -> sp.Matrix:
        """:attr:`update` with the increments written in the drawn noises."""
        return self.update.xreplace(self.increments)

    def text(self) -> str:
        """The rule as text: one line per state component, then the increments."""
        lines = []
        for i, s in enumerate(self.state):
            lines.append(f"{s}_next = {sp.sstr(self.update[i])}")
        for sym, e in self.increments.items():
            lines.append(f"  {sym} = {sp.sstr(e)}")
        for nv in self.noises:
            lines.append(f"  {nv.symbol} ~ {_LAW_TEXT[nv.law]}, independent")
        return "\n".join(lines)

    def latex(self) -> str:
        """The rule in LaTeX (an ``aligned`` block)."""
        names = {self.step: "h" + "'" * (len(self.step.name) - 1)}
        for sym in [*self.increments, *(nv.symbol for nv in self.noises)]:
            n = sym.name.rstrip("_")
            stem = n.rstrip("0123456789")
            idx = n[len(stem):] + "'" * (len(sym.name) - len(n))
            names[sym] = {"dW": "\\Delta W", "dWhat": "\\Delta \\hat{W}", "dZ": "\\Delta Z",
                          "V": "V", "xi": "\\xi", "eta": "\\eta",
                          "zeta": "\\zeta"}[stem] + f"_{{{idx}}}"

        def tex(e: sp.Expr) -> str:
            return sp.latex(e, symbol_names=names)

        rows = [f"{sp.latex(s)}_{{n+1}} &= {tex(self.update[i])}"
                for i, s in enumerate(self.state)]
        rows += [f"{names[sym]} &= {tex(e)}" for sym, e in self.increments.items()]
        rows += [f"{names[nv.symbol]} &\\sim \\text{{{_LAW_TEXT[nv.law]}}}"
                 for nv in self.noises]
        return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"


_LAW_TEXT = {"normal": "N(0, 1)", "three-point": "-1, 0, 1 w.p. 1/6, 2/3, 1/6",
             "two-point": "-1, 1 w.p. 1/2 each"}


def generator_operators(sde: SDE) -> tuple[Any, list[Any]]:
    """The operators :math:`L^0` and :math:`L^1, \\dots, L^m` of ``sde``.

    Each maps a SymPy expression (or Matrix, entrywise) to its image.

    Examples
    --------
    >>> import sympy as sp
    >>> from symsde import SDE
    >>> x = sp.Symbol("x", real=True); mu, s = sp.symbols("mu sigma", positive=True)
    >>> L0, (L1,) = generator_operators(SDE([x], [mu * x], s * x))
    >>> sp.factor(L0(x**2)), L1(x**2)
    (x**2*(2*mu + sigma**2), 2*sigma*x**2)
    """
    X, a, b, t = sde.state, sde.drift, sde.diffusion, sde.time
    d, m = b.shape

    def _map(f: Any, op: Any) -> Any:
        if isinstance(f, sp.MatrixBase):
            return f.applyfunc(op)
        return op(f)

    def L0(f: Any) -> Any:
        def op(g: sp.Expr) -> sp.Expr:
            out = sp.diff(g, t) if t is not None else sp.Integer(0)
            out += sum((a[k] * sp.diff(g, X[k]) for k in range(d)), sp.Integer(0))
            for k in range(d):
                for l_ in range(d):
                    bb = sum((b[k, j] * b[l_, j] for j in range(m)), sp.Integer(0))
                    if bb != 0:
                        out += bb * sp.diff(g, X[k], X[l_]) / 2
            return out
        return _map(f, op)

    def Lj(j: int) -> Any:
        def apply(f: Any) -> Any:
            return _map(f, lambda g: sum((b[k, j] * sp.diff(g, X[k]) for k in range(d)),
                                         sp.Integer(0)))
        return apply

    return L0, [Lj(j) for j in range(m)]


def _is_zero(e: sp.Expr, thorough: bool = False) -> bool:
    """Whether ``e`` vanishes: by expansion, and with ``thorough`` also by simplification
    (used where a refusal depends on it; a missed zero elsewhere only costs a term that
    evaluates to 0)."""
    if e == 0:
        return True
    e2 = sp.expand(e)
    return e2 == 0 or (thorough and sp.simplify(e2) == 0)


def _hierarchical_set(method: str, m: int) -> list[tuple[int, ...]]:
    """The multi-indices of ``method`` (0: time, 1..m: noises), shortest first."""
    out: list[tuple[int, ...]] = []
    for length in range(0, 4):
        for alpha in itertools.product(range(m + 1), repeat=length):
            n0 = alpha.count(0)
            if method == "euler":
                keep = length + n0 <= 1 or alpha == (0,)
            elif method == "milstein":
                keep = length + n0 <= 2
            elif method == "strong1.5":
                keep = length + n0 <= 3 or length == n0 == 2
            else:  # weak2
                keep = length <= 2
            if keep:
                out.append(alpha)
    return out


def derive_scheme(sde: SDE, method: str) -> Scheme:
    """Derive the update rule of ``method`` for ``sde`` from its Ito-Taylor expansion.

    Parameters
    ----------
    sde : SDE
    method : {"euler", "milstein", "strong1.5", "weak2"}

    Returns
    -------
    Scheme

    Raises
    ------
    InputError
        An unknown method; ``milstein`` with non-commutative noise; ``strong1.5`` with
        noise that is neither scalar nor diagonal (a multiple integral of distinct noises
        with a non-zero coefficient would need Levy areas).

    Examples
    --------
    Milstein for geometric Brownian motion, derived:

    >>> import sympy as sp
    >>> from symsde import SDE
    >>> x = sp.Symbol("x", real=True); mu, s = sp.symbols("mu sigma", positive=True)
    >>> sch = derive_scheme(SDE([x], [mu * x], s * x), "milstein")
    >>> print(sch.text())
    x_next = dW1**2*sigma**2*x/2 + dW1*sigma*x + h*(mu*x - sigma**2*x/2) + x
      dW1 = sqrt(h)*xi1
      xi1 ~ N(0, 1), independent
    """
    if not isinstance(method, str) or method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}, got {method!r}"[:200])
    if not isinstance(sde, SDE):
        raise InputError(f"sde must be an SDE (symsde.SDE), got {type(sde).__name__}; build "
                         "one with SDE(state, drift, diffusion)")
    X, m = sde.state, sde.noise_dim
    a, b = sde.drift, sde.diffusion
    # the scheme's own names must not be any of the SDE's (a parameter called h, xi1...)
    taken = {s.name for s in (*X, *sde.parameters, *([sde.time] if sde.time else []))}

    def fresh(name: str, **kw: Any) -> sp.Symbol:
        while name in taken:
            name += "_"
        taken.add(name)
        return sp.Symbol(name, **kw)

    h = fresh("h", positive=True)
    L0, Ls = generator_operators(sde)
    ops = [L0, *Ls]
    base = [a, *[b[:, j] for j in range(m)]]  # b^0 = a, b^j = column j

    coeff_cache: dict[tuple[int, ...], sp.Matrix] = {}

    def f(alpha: tuple[int, ...]) -> sp.Matrix:
        if alpha not in coeff_cache:
            if len(alpha) == 1:
                coeff_cache[alpha] = sp.Matrix(base[alpha[0]])
            else:
                coeff_cache[alpha] = ops[alpha[0]](f(alpha[1:])).applyfunc(sp.expand)
        return coeff_cache[alpha]

    weak = method == "weak2"
    xi = [fresh(f"xi{j + 1}", real=True) for j in range(m)]
    eta = [fresh(f"eta{j + 1}", real=True) for j in range(m)]
    dW = [fresh(("dWhat" if weak else "dW") + str(j + 1), real=True) for j in range(m)]
    dZ = [fresh(f"dZ{j + 1}", real=True) for j in range(m)]
    increments: dict[sp.Symbol, sp.Expr] = {}
    noises: list[NoiseVariable] = []
    if weak:
        for j in range(m):
            increments[dW[j]] = sp.sqrt(3 * h) * xi[j]
            noises.append(NoiseVariable(xi[j], "three-point"))
    else:
        for j in range(m):
            increments[dW[j]] = sp.sqrt(h) * xi[j]
            noises.append(NoiseVariable(xi[j], "normal"))

    V: dict[tuple[int, int], sp.Expr] = {}

    def V_of(j1: int, j2: int) -> sp.Expr:
        if j1 == j2:
            return -h
        lo, hi = min(j1, j2), max(j1, j2)
        if (lo, hi) not in V:
            sym = fresh(f"V{lo + 1}{hi + 1}", real=True)
            zeta = fresh(f"zeta{lo + 1}{hi + 1}", real=True)
            V[(lo, hi)] = sym
            increments[sym] = h * zeta
            noises.append(NoiseVariable(zeta, "two-point"))
        return V[(lo, hi)] if j1 < j2 else -V[(lo, hi)]

    need_dZ: set[int] = set()
    terms: list[tuple[tuple[int, ...], sp.Matrix, sp.Expr]] = []
    done: set[tuple[int, ...]] = set()
    for alpha in _hierarchical_set(method, m):
        if alpha in done:
            continue
        if alpha == ():
            continue
        fa = f(alpha)
        # terms that would need an integral we cannot draw are checked thoroughly
        special = len(set(alpha) - {0}) > 1 or (len(alpha) == 3 and len(set(alpha)) > 1)
        if all(_is_zero(e, thorough=special) for e in fa):
            continue
        js = [j - 1 for j in alpha]  # noise indices (time: -1)
        if len(alpha) == 1:
            integral = h if alpha == (0,) else dW[js[0]]
        elif len(alpha) == 2 and alpha == (0, 0):
            integral = h**2 / 2
        elif len(alpha) == 2 and 0 in alpha:
            j = js[0] if alpha[1] == 0 else js[1]
            if weak:
                integral = h * dW[j] / 2
            elif alpha[1] == 0:  # I_(j,0) = int W ds = dZ
                integral = dZ[j]
                need_dZ.add(j)
            else:  # I_(0,j) = h dW - dZ
                integral = h * dW[j] - dZ[j]
                need_dZ.add(j)
        elif len(alpha) == 2:
            j1, j2 = js
            if weak:
                integral = (dW[j1] * dW[j2] + V_of(j1, j2)) / 2
            elif j1 == j2:
                integral = (dW[j1] ** 2 - h) / 2
            else:
                other = f((alpha[1], alpha[0]))
                commuting = all(_is_zero(p - q, thorough=True)
                                for p, q in zip(fa, other, strict=True))
                if method == "strong1.5" or not commuting:
                    kind = "scalar or diagonal" if method == "strong1.5" else "commutative"
                    raise InputError(
                        f"{method} needs {kind} noise: L^{alpha[0]} b^{alpha[1]} = "
                        f"{list(fa)} is not zero"
                        + ("" if commuting else f" and differs from L^{alpha[1]} b^{alpha[0]}")
                        + "; use method='euler' (or 'weak2' for weak accuracy)")
                # I_(j1,j2) + I_(j2,j1) = dW1 dW2: one term for the pair
                integral = dW[j1] * dW[j2]
                done.add((alpha[1], alpha[0]))
        else:  # length 3 (strong1.5): all noises equal, else it must vanish
            if len(set(alpha)) == 1 and alpha[0] != 0:
                j = js[0]
                integral = (dW[j] ** 2 / 3 - h) * dW[j] / 2
            else:
                raise InputError(
                    f"strong1.5 needs scalar or diagonal noise: the coefficient of "
                    f"I_{alpha} is {list(fa)}, not zero; use method='euler' or 'milstein'")
        done.add(alpha)
        terms.append((alpha, fa, integral))
    update = sp.Matrix(X)
    for _, fa, integral in terms:
        update += fa * integral
    update = update.applyfunc(lambda e: sp.collect(sp.expand(e), [*dW, *dZ, h]))
    # dZ only where a term survived the cancellations (for GBM, L^1 a = L^0 b: none)
    need_dZ = {j for j in need_dZ if update.has(dZ[j])}
    if need_dZ:
        for j in range(m):
            noises.append(NoiseVariable(eta[j], "normal"))
        for j in sorted(need_dZ):
            increments[dZ[j]] = h ** sp.Rational(3, 2) * (xi[j] + eta[j] / sp.sqrt(3)) / 2
    return Scheme(method=method, state=tuple(X), time=sde.time, step=h,
                  increments=increments, terms=terms, update=update, noises=noises)
