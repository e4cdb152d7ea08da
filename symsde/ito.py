"""Ito's lemma: the SDE satisfied by a function of the state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

from symsde.inputs import front_door
from symsde.sde import SDE, gradient

__all__ = ["ItoDifferential", "ito_lemma"]


@dataclass(frozen=True)
class ItoDifferential:
    """The Ito differential :math:`dY = a\\,dt + b\\,dB` of :math:`Y = f(X, t)`.

    Attributes
    ----------
    expression : sympy.Matrix
        :math:`f` as a column (one row per component of :math:`Y`).
    drift : sympy.Matrix
        :math:`a = \\partial_t f + \\mathcal{A} f` (a column, one entry per component).
    diffusion : sympy.Matrix
        :math:`b = (\\nabla f)^\\top G`, one row per component, one column per noise.
    """

    expression: sp.Matrix
    drift: sp.Matrix
    diffusion: sp.Matrix

    @property
    def diffusion_matrix(self) -> sp.Matrix:
        """:math:`b b^\\top`, the quadratic variation rate of :math:`Y`."""
        return (self.diffusion * self.diffusion.T).applyfunc(sp.expand)


@front_door("f", sde="sde")
def ito_lemma(sde: SDE, f: Any) -> ItoDifferential:
    """Ito's lemma for :math:`Y = f(X)` (or :math:`f(X, t)` if the SDE has a time symbol).

    .. math::

        df = \\Big(\\partial_t f + \\mu^\\top \\nabla f
             + \\tfrac12 \\operatorname{tr}\\big(G G^\\top \\nabla^2 f\\big)\\Big)\\,dt
             + (\\nabla f)^\\top G\\,dB .

    Parameters
    ----------
    sde : SDE
        The SDE of :math:`X`.
    f : expression or list of expressions
        A scalar function of the state, or a list for a vector function.

    Examples
    --------
    Geometric Brownian motion :math:`dX = a X dt + b X dB` and :math:`Y = \\log X`:

    >>> import sympy as sp
    >>> x = sp.Symbol("x", positive=True); a, b = sp.symbols("a b", real=True)
    >>> dY = ito_lemma(SDE([x], [a*x], [[b*x]]), sp.log(x))
    >>> dY.drift[0], dY.diffusion[0]
    (a - b**2/2, b)
    """
    comps = list(f) if isinstance(f, (list, tuple, sp.MatrixBase)) else [f]
    comps = [sp.sympify(c) for c in comps]
    drifts, rows = [], []
    for c in comps:
        a = sde.generator(c)
        if sde.time is not None:
            a = a + sp.diff(c, sde.time)
        drifts.append(sp.simplify(a))
        rows.append((gradient(c, sde.state).T * sde.diffusion).applyfunc(sp.simplify))
    return ItoDifferential(
        expression=sp.Matrix(comps),
        drift=sp.Matrix(drifts),
        diffusion=sp.Matrix.vstack(*rows),
    )
