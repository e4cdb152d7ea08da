"""Claims: ``lhs = rhs`` of SymPy expressions or matrices (the kernel's unit of truth)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy as sp

__all__ = ["Claim"]


def _sym(value: Any) -> Any:
    if isinstance(value, sp.MatrixBase):
        return sp.ImmutableMatrix(value)
    if isinstance(value, (list, tuple)):
        return sp.ImmutableMatrix(value)
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, (int, float)):
        return sp.sympify(value)
    raise TypeError(f"a claim side must be a SymPy expression or matrix, got {value!r}")


def print_order(e: Any) -> str | None:
    """The printers' term order for ``e``: SymPy's default, or ``"none"`` (the expression's
    own order) when ``e`` holds an integral, sum or limit without free symbols.

    SymPy orders the terms of a sum it prints by their numeric value when they are numbers,
    and finds the value of a constant integral by symbolic quadrature: seconds per term.
    """
    if isinstance(e, sp.MatrixBase):
        return "none" if any(print_order(x) for x in e) else None
    if isinstance(e, sp.Basic) and any(
            isinstance(t, (sp.Integral, sp.Sum, sp.Limit, sp.Product)) and not t.free_symbols
            for t in sp.preorder_traversal(e)):
        return "none"
    return None


@dataclass(frozen=True)
class Claim:
    """A claimed equality ``lhs = rhs`` of expressions or matrices.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> Claim(sp.sin(x)**2 + sp.cos(x)**2, 1).latex()
    '\\\\sin^{2}{\\\\left(x \\\\right)} + \\\\cos^{2}{\\\\left(x \\\\right)} = 1'
    """

    lhs: Any
    rhs: Any

    def __post_init__(self) -> None:
        object.__setattr__(self, "lhs", _sym(self.lhs))
        object.__setattr__(self, "rhs", _sym(self.rhs))

    @classmethod
    def of(cls, value: Claim | sp.Equality | tuple[Any, Any]) -> Claim:
        """Coerce a Claim, a SymPy ``Eq`` or a pair into a Claim."""
        if isinstance(value, Claim):
            return value
        if isinstance(value, sp.Equality):
            return cls(value.lhs, value.rhs)
        if isinstance(value, tuple) and len(value) == 2:
            return cls(*value)
        raise TypeError(f"a claim must be a Claim, an Eq or a (lhs, rhs) pair, got {value!r}")

    @property
    def difference(self) -> Any:
        """``lhs - rhs``."""
        return self.lhs - self.rhs

    def map(self, fn: Callable[[Any], Any]) -> Claim:
        """Apply the same operation to both sides."""
        return Claim(fn(self.lhs), fn(self.rhs))

    def subs(self, *args: Any, **kw: Any) -> Claim:
        return Claim(self.lhs.subs(*args, **kw), self.rhs.subs(*args, **kw))

    def latex(self) -> str:
        return (f"{sp.latex(self.lhs, order=print_order(self.lhs))} = "
                f"{sp.latex(self.rhs, order=print_order(self.rhs))}")

    def text(self) -> str:
        """One line of SymPy syntax (matrices as nested lists)."""
        def one(e: Any) -> str:
            order = print_order(e)
            return sp.sstr(e.tolist(), order=order) if isinstance(e, sp.MatrixBase) \
                else sp.sstr(e, order=order)

        return f"{one(self.lhs)} = {one(self.rhs)}"

    def __str__(self) -> str:
        return self.text()
