"""Lambdified code that cannot mistake a user's symbol for one of its own names.

:func:`sympy.lambdify` prints a symbol by its name, so a state named ``e``, ``pi``, ``mpf``
or ``arctan`` would shadow (or be shadowed by) a constant or function of the generated
code's name space. Renaming the arguments to dummies first avoids it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sympy as sp


def internal_names(args: Sequence[sp.Symbol], exprs: Sequence[sp.Expr]
                    ) -> tuple[list[sp.Dummy], list[sp.Expr]]:
    """Rename ``args`` to internal dummies before printing code.

    lambdify prints a symbol by its name, so a state named ``e``, ``pi``, ``exp`` or
    ``arctan`` would otherwise shadow (or be shadowed by) Euler's number, pi or a NumPy
    function in the generated source. Dummies print as ``_Dummy_<n>``, a name no
    constant or function of the name space has.
    """
    dummies = [sp.Dummy(f"arg{i}") for i in range(len(args))]
    ren = dict(zip(args, dummies, strict=True))
    return dummies, [sp.sympify(e).xreplace(ren) for e in exprs]


def lambdify_mpmath(args: Sequence[sp.Symbol], expr: Any) -> Callable[..., Any]:
    """:func:`sympy.lambdify` to mpmath of ``expr`` (one expression or a list), with
    ``args`` renamed first (:func:`internal_names`): a symbol named ``mpf``, ``pi`` or
    ``e`` is then an argument like any other, not mpmath's function or constant.

    Examples
    --------
    >>> import mpmath, sympy as sp
    >>> mpf = sp.Symbol("mpf")
    >>> f = lambdify_mpmath([mpf], [mpf / 3, mpf**2])
    >>> [mpmath.nstr(v, 5) for v in f(mpmath.mpf(1))]
    ['0.33333', '1.0']
    """
    if isinstance(expr, (list, tuple)):
        dummies, body = internal_names(args, expr)
        return sp.lambdify(dummies, body, modules="mpmath")
    dummies, (one,) = internal_names(args, [expr])
    return sp.lambdify(dummies, one, modules="mpmath")
