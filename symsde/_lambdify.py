"""Lambdified code that cannot mistake a user's symbol for one of its own names.

:func:`sympy.lambdify` prints a symbol by its name, so a state named ``e``, ``pi``, ``mpf``
or ``arctan`` would shadow (or be shadowed by) a constant or function of the generated
code's name space. Renaming the arguments to dummies first avoids it.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Sequence
from typing import Any

import sympy as sp
from sympy.utilities.lambdify import MPMATH_TRANSLATIONS


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


#: Names the printed mpmath code uses besides the functions of the expression: numbers
#: (``mpf``), constants, and the builtins a printed sum or product calls.
_PRINTER_NAMES = frozenset({"mpf", "mpc", "mpmath", "inf", "nan", "pi", "e", "j", "sqrt",
                            "exp", "log", "fabs", "matrix", "builtins", "range", "sum",
                            "abs", "min", "max"})


def _needs_renaming(args: Sequence[Any], exprs: Sequence[Any]) -> bool:
    """Whether an argument's name could mean something else in the printed code: a name
    the code itself uses (a function of the expressions, a number or constant), a keyword,
    or not an identifier at all."""
    used = set(_PRINTER_NAMES)
    for e in exprs:
        for f in sp.sympify(e).atoms(sp.Function):
            name = type(f).__name__
            used |= {name, MPMATH_TRANSLATIONS.get(name, name)}
    for s in args:
        name = getattr(s, "name", None)
        if name is not None and not isinstance(s, sp.Dummy) and (
                not name.isidentifier() or keyword.iskeyword(name) or name in used):
            return True
    return False


def lambdify_mpmath(args: Sequence[sp.Symbol], expr: Any) -> Callable[..., Any]:
    """:func:`sympy.lambdify` to mpmath of ``expr`` (one expression or a list), with
    ``args`` renamed first (:func:`internal_names`) when one of their names could mean
    something else in the generated code: a symbol named ``mpf``, ``pi`` or ``e`` is then an
    argument like any other, not mpmath's function or constant. (Only then: lambdify makes
    a second copy of an expression with renamed arguments, which costs more than printing
    it; the proof witness lambdifies hundreds of leaves.)

    Examples
    --------
    >>> import mpmath, sympy as sp
    >>> mpf = sp.Symbol("mpf")
    >>> f = lambdify_mpmath([mpf], [mpf / 3, mpf**2])
    >>> [mpmath.nstr(v, 5) for v in f(mpmath.mpf(1))]
    ['0.33333', '1.0']
    """
    exprs = list(expr) if isinstance(expr, (list, tuple)) else [expr]
    if not _needs_renaming(args, exprs):
        return sp.lambdify(list(args), expr, modules="mpmath")
    if isinstance(expr, (list, tuple)):
        dummies, body = internal_names(args, expr)
        return sp.lambdify(dummies, body, modules="mpmath")
    dummies, (one,) = internal_names(args, [expr])
    return sp.lambdify(dummies, one, modules="mpmath")
