"""Deciding ``expr == 0``: cheap rewriting, a numeric disproof, then :func:`sympy.simplify`.

A value clearly away from zero at one point consistent with the symbols' assumptions proves
an expression is not the zero function, so no symbolic work is spent on claims that are
false (wrong premises, mutants); zero is only ever concluded symbolically.
"""

from __future__ import annotations

import cmath
import contextlib
import contextvars
from typing import Any

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef

from symsde.proof.witness import _SPECIAL as _OPERATIONS
from symsde.proof.witness import apply_instance, evaluate

__all__ = ["EXPECT_FAILURE", "is_zero", "nonzero_somewhere", "numeric_value"]


def is_zero(expr: Any, expect_nonzero: bool = False) -> tuple[bool, Any]:
    """Decide ``expr == 0`` by cheap means first, then :func:`sympy.simplify`.

    Operations (derivatives, integrals, sums, limits, substitutions) are first left as they
    are: equal ones cancel when products are multiplied out. An evaluation at one point
    that finds ``expr`` clearly nonzero (:func:`nonzero_somewhere`) ends the search with
    "not zero". With ``expect_nonzero`` (a wrong premise or a mutant, expected to fail)
    that evaluation comes first and may integrate numerically, before any symbolic
    integration.
    """
    if isinstance(expr, sp.MatrixBase):
        res = [is_zero(e, expect_nonzero) for e in expr]
        return all(r[0] for r in res), sp.ImmutableMatrix(expr.shape[0], expr.shape[1],
                                                           [r[1] for r in res])
    e = sp.sympify(expr)
    if e == 0:
        return True, sp.Integer(0)
    if e.has(*_OPERATIONS):
        # Equal operations on both sides (the same limit, integral or sum) cancel once the
        # products are multiplied out: no need to carry them out.
        with contextlib.suppress(sp.PolynomialError, TypeError, ValueError,
                                 NotImplementedError):
            e = sp.expand(e)
        if e == 0:
            return True, sp.Integer(0)
    if (expect_nonzero or EXPECT_FAILURE.get()) and nonzero_somewhere(e, integrals=True):
        return False, e
    e = e.doit() if e.has(*_OPERATIONS) else e
    for simplifier in (sp.expand, sp.cancel, sp.simplify):
        try:
            e = simplifier(e)
        except (sp.PolynomialError, TypeError, ValueError, NotImplementedError):
            continue
        if e == 0:
            return True, sp.Integer(0)
        if simplifier is sp.expand and nonzero_somewhere(e):
            # A proof that e is not identically zero: no simplification can make it 0.
            return False, e
    return False, e


#: |value| above which an evaluation at 30 digits is taken as a proof of "not zero".
_NONZERO_BOUND = 1e-10
#: Set while judging mutants and wrong premises: claims expected to fail, so the numeric
#: disproof (:func:`nonzero_somewhere`) is tried before any symbolic work.
EXPECT_FAILURE: contextvars.ContextVar[bool] = contextvars.ContextVar("expect_failure",
                                                                     default=False)


def _sample_value(s: sp.Symbol, k: int) -> sp.Rational | None:
    """A value of ``s`` consistent with its assumptions (None when unsure)."""
    if s.is_integer:
        v: sp.Rational = sp.Integer(2 + k % 3)
    else:
        v = sp.Rational(7 + 3 * k, 5 + 2 * k)  # 7/5, 10/7, 13/9, ...: positive, not 1
    if s.is_negative or s.is_nonpositive:
        v = -v
    for key, want in s.assumptions0.items():
        got = getattr(v, f"is_{key}", None)
        if want is not None and got is not want:
            return None
    return v


def _function_instance(arity: int, k: int) -> sp.Lambda:
    """A smooth positive instance of an undefined function of ``arity`` arguments (a
    Gaussian bump)."""
    args = sp.symbols(f"_a0:{arity}", real=True)
    c = [sp.Rational(k + 2 * i + 1, 7) for i in range(len(args))]
    return sp.Lambda(args, sp.exp(sp.Rational(1, 3) + sum(
        (ci * a - a**2 / (3 + i)) for i, (ci, a) in enumerate(zip(c, args, strict=True)))))


def numeric_value(e: Any, k: int = 0, integrals: bool = False) -> complex | None:
    """``e`` at the ``k``-th sample point, to 30 digits, or None when it cannot be had.

    Symbols take values that satisfy their assumptions, undefined functions a smooth
    positive instance. Sums with finite bounds are added up (at most 100,000 terms);
    infinite sums, limits and products give None (and integrals, unless ``integrals``:
    then they are integrated numerically).
    """
    e = sp.sympify(e)
    if e.has(sp.Limit, sp.Product) or (e.has(sp.Integral) and not integrals):
        return None
    try:
        arity: dict[Any, int] = {}
        for a in e.atoms(AppliedUndef):
            if arity.setdefault(a.func, len(a.args)) != len(a.args):
                return None  # one name applied to different numbers of arguments
        values = {}
        for i, s in enumerate(sorted(e.free_symbols, key=sp.default_sort_key)):
            v = _sample_value(s, i + k)
            if v is None:
                return None
            values[s] = v
        for sm in e.atoms(sp.Sum):
            for lim in sm.limits:
                if not all(sp.sympify(b).xreplace(values).is_integer for b in lim[1:]):
                    return None  # an infinite or non-integer bound: left to SymPy
        for i, f in enumerate(sorted(arity, key=str)):
            # inside integrals and sums too, where subs() of a function does nothing
            e = apply_instance(e, f, _function_instance(arity[f], i + k))
        if e.has(*_OPERATIONS):  # no Limit is left here (turned away above)
            # mpmath: quadrature of lambdified integrands and numeric derivatives (SymPy's
            # evalf of an integral evaluates the integrand symbolically at every node, and
            # carrying out derivatives of the instances symbolically is far slower).
            with mpmath.workdps(30):
                z = complex(evaluate(e, {s: mpmath.mpf(v.p) / v.q for s, v in values.items()}))
            return None if cmath.isnan(z) or cmath.isinf(z) else z
        val = e.xreplace(values).evalf(30)
        if not val.is_number or val.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
            return None
        return complex(val)
    except Exception:  # any trouble means "no value"
        return None


def nonzero_somewhere(e: Any, integrals: bool = False) -> bool:
    """True only when ``e`` is shown not identically zero by evaluating it at one point.

    A value of size above 1e-10 (:func:`numeric_value`) proves that ``e`` is not the zero
    function. False means "not shown" (never "zero"): what the evaluation cannot handle
    is left to :func:`is_zero`'s symbolic route.

    Examples
    --------
    >>> x = sp.Symbol("x", positive=True)
    >>> nonzero_somewhere(sp.sqrt(x**2) - x), nonzero_somewhere(sp.sin(x) - x)
    (False, True)
    """
    e = sp.sympify(e)
    if not e.free_symbols and not e.atoms(AppliedUndef):
        return False
    v = numeric_value(e, 0, integrals)
    return v is not None and abs(v) > _NONZERO_BOUND
