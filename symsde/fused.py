"""Fused in-place kernels generated from SymPy expressions.

:class:`FusedKernel` compiles a list of expressions (after common-subexpression
elimination) into one generated Python function that is a straight sequence of NumPy
ufunc calls, each writing with ``out=`` into a preallocated buffer or into the caller's
output arrays. Buffers are assigned by liveness (an intermediate's buffer is reused as
soon as its last reader has run, and an operand that dies at an operation is overwritten
in place), so one step of a simulation allocates nothing.

Parts of an expression that do not depend on the array arguments (parameters, the time)
are folded into scalars: numbers at generation time, time-dependent scalars once per call.

The generated source uses only its own names (``A0`` for the array arguments, ``S0`` for
the scalar ones, ``B0`` for buffers, ``O0`` for outputs, ``U_exp`` for ufuncs): a user's
symbol named ``e``, ``pi``, ``np``, ``out`` or ``lambda_`` never reaches the source.
Expressions with functions NumPy has no ufunc for fall back to :func:`sympy.lambdify` on
the subexpression alone (with its symbols renamed to internal ones); only that part
allocates.

Element-wise arithmetic only: each element of each output depends on the same elements
of the inputs, through the same operations in the same order, whatever the array length.
That is what makes simulation results independent of the chunk size.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from symsde.errors import InputError

__all__ = ["FusedKernel"]

#: SymPy functions with a NumPy ufunc of one argument.
UNARY = {
    sp.exp: "exp", sp.log: "log", sp.sin: "sin", sp.cos: "cos", sp.tan: "tan",
    sp.sinh: "sinh", sp.cosh: "cosh", sp.tanh: "tanh", sp.asin: "arcsin",
    sp.acos: "arccos", sp.atan: "arctan", sp.asinh: "arcsinh", sp.acosh: "arccosh",
    sp.atanh: "arctanh", sp.Abs: "absolute", sp.sign: "sign", sp.floor: "floor",
    sp.ceiling: "ceil",
}
#: Binary ufuncs used by the generator.
BINARY = ("add", "subtract", "multiply", "divide", "power", "arctan2", "maximum", "minimum")


class _Val:
    """A value of the generated program: an array (SSA id) or a scalar code string."""

    __slots__ = ("code", "id", "kind")

    def __init__(self, kind: str, code: str = "", id: int = -1) -> None:
        self.kind, self.code, self.id = kind, code, id

    @property
    def is_array(self) -> bool:
        return self.kind == "arr"


class _Builder:
    """Turns expressions into a list of SSA operations on arrays."""

    def __init__(self, arrays: dict[sp.Symbol, int], scalars: dict[sp.Symbol, str]) -> None:
        self.arrays = arrays  # symbol -> input index
        self.scalars = scalars  # symbol -> scalar name
        self.ops: list[tuple[int, str, list[_Val]]] = []  # (result id, ufunc, operands)
        self.n_ids = len(arrays)  # ids 0..n_in-1 are the inputs
        self.cache: dict[sp.Basic, _Val] = {}
        self.fallbacks: list[tuple[Any, list[sp.Symbol]]] = []
        self.pre: list[str] = []  # scalar locals computed once per call

    # -- scalars ---------------------------------------------------------------------------
    def scalar(self, e: sp.Expr) -> _Val:
        """A scalar code string for an expression free of array arguments."""
        if e.is_Number or (e.is_number and not e.has(*self.scalars)):
            try:
                v = complex(e.evalf(30))
            except TypeError:
                raise InputError(f"{e} is not a number; give finite real values") from None
            if v.imag != 0:
                raise InputError(f"{e} is not real; give values that keep it real")
            if not np.isfinite(v.real):
                raise InputError(
                    f"a coefficient of the generated step evaluates to {v.real} "
                    f"({sp.sstr(e)[:60]}); give values that keep drift, diffusion and the "
                    "scheme's terms within floating point")
            return _Val("scal", repr(float(v.real)))
        if e in self.scalars:
            return _Val("scal", self.scalars[e])
        # A time-dependent scalar: lambdified on the scalar names alone.
        syms = sorted(e.free_symbols, key=lambda s: self.scalars[s])
        dummies = [sp.Dummy() for _ in syms]
        fn = sp.lambdify(dummies, e.xreplace(dict(zip(syms, dummies, strict=True))),
                         modules=[{"erf": _erf_scalar}, "math"])
        self.fallbacks.append((fn, []))
        k = len(self.fallbacks) - 1
        return _Val("scal", f"F{k}({', '.join(self.scalars[s] for s in syms)})")

    # -- arrays ----------------------------------------------------------------------------
    def op(self, ufunc: str, *operands: _Val) -> _Val:
        if not any(o.is_array for o in operands):  # scalar arithmetic
            a = operands[0].code
            if ufunc in ("add", "subtract", "multiply", "divide", "power"):
                sym = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/",
                       "power": "**"}[ufunc]
                return _Val("scal", f"({a} {sym} {operands[1].code})")
            return _Val("scal", f"U_{ufunc}({', '.join(o.code for o in operands)})")
        rid = self.n_ids
        self.n_ids += 1
        self.ops.append((rid, ufunc, list(operands)))
        return _Val("arr", id=rid)

    def build(self, e: sp.Expr) -> _Val:
        if e in self.cache:
            return self.cache[e]
        v = self._build(e)
        self.cache[e] = v
        return v

    def _build(self, e: sp.Expr) -> _Val:
        if e in self.arrays:
            return _Val("arr", id=self.arrays[e])
        if not e.has(*self.arrays):
            return self.scalar(e)
        if e.is_Add:
            return self._add(e)
        if e.is_Mul:
            return self._mul(e)
        if e.is_Pow:
            return self._pow(*e.as_base_exp()) if e.exp.is_Number else self._powgen(e)
        f = type(e)
        if f in UNARY:
            return self.op(UNARY[f], self.build(e.args[0]))
        if f is sp.atan2:
            return self.op("arctan2", self.build(e.args[0]), self.build(e.args[1]))
        if f in (sp.Max, sp.Min):
            name = "maximum" if f is sp.Max else "minimum"
            acc = self.build(e.args[0])
            for a in e.args[1:]:
                acc = self.op(name, acc, self.build(a))
            return acc
        return self._fallback(e)

    def _fallback(self, e: sp.Expr) -> _Val:
        syms = sorted(e.free_symbols & set(self.arrays), key=lambda s: self.arrays[s])
        others = sorted(e.free_symbols - set(self.arrays), key=lambda s: self.scalars[s])
        dummies = [sp.Dummy() for _ in (*syms, *others)]
        body = e.xreplace(dict(zip((*syms, *others), dummies, strict=True)))
        from symsde.kernels import MODULES

        fn = sp.lambdify(dummies, body, modules=MODULES)
        self.fallbacks.append((fn, list(syms)))
        k = len(self.fallbacks) - 1
        args = [_Val("arr", id=self.arrays[s]) for s in syms]
        args += [_Val("scal", self.scalars[s]) for s in others]
        return self.op(f"F{k}", *args)

    def _split(self, terms: Sequence[sp.Expr]) -> tuple[list[sp.Expr], list[sp.Expr]]:
        arr = [a for a in terms if a.has(*self.arrays)]
        sca = [a for a in terms if not a.has(*self.arrays)]
        return arr, sca

    def _add(self, e: sp.Expr) -> _Val:
        arr, sca = self._split(sp.Add.make_args(e))
        pos = [a for a in arr if not _negated(a)]
        neg = [-a for a in arr if _negated(a)]
        if pos:
            acc = self.build(pos[0])
            rest = pos[1:]
        else:  # all negative: start from the scalar part or negate
            first = self.build(neg.pop(0))
            acc = (self.op("subtract", self.scalar(sp.Add(*sca)), first) if sca
                   else self.op("negative", first))
            sca, rest = [], []
        for a in rest:
            acc = self.op("add", acc, self.build(a))
        for a in neg:
            acc = self.op("subtract", acc, self.build(a))
        if sca:
            acc = self.op("add", acc, self.scalar(sp.Add(*sca)))
        return acc

    def _mul(self, e: sp.Expr) -> _Val:
        arr, sca = self._split(sp.Mul.make_args(e))
        num = [a for a in arr if not (a.is_Pow and a.exp.is_Number and a.exp < 0)]
        den = [a.base ** (-a.exp) for a in arr if a.is_Pow and a.exp.is_Number and a.exp < 0]
        coeff = sp.Mul(*sca)
        if num:
            acc = self.build(num[0])
            for a in num[1:]:
                acc = self.op("multiply", acc, self.build(a))
            for a in den:
                acc = self.op("divide", acc, self.build(a))
            if coeff == -1:
                return self.op("negative", acc)
            if coeff != 1:
                acc = self.op("multiply", acc, self.scalar(coeff))
            return acc
        d = self.build(den[0])
        for a in den[1:]:
            d = self.op("multiply", d, self.build(a))
        return self.op("divide", self.scalar(coeff), d)

    def _pow(self, base: sp.Expr, ex: sp.Number) -> _Val:
        b = self.build(base)
        if ex.is_Integer and 1 <= abs(int(ex)) <= 8:
            n = abs(int(ex))
            acc = b
            # square-and-multiply for n = 2, 4, 8 and plain products otherwise
            if n in (2, 4, 8):
                while n > 1:
                    acc = self.op("multiply", acc, acc)
                    n //= 2
            else:
                for _ in range(n - 1):
                    acc = self.op("multiply", acc, b)
            return acc if ex > 0 else self.op("divide", _Val("scal", "1.0"), acc)
        if ex == sp.Rational(1, 2):
            return self.op("sqrt", b)
        if ex == -sp.Rational(1, 2):
            return self.op("divide", _Val("scal", "1.0"), self.op("sqrt", b))
        return self.op("power", b, self.scalar(ex))

    def _powgen(self, e: sp.Pow) -> _Val:
        return self.op("power", self.build(e.base), self.build(e.exp))


class _ScalarCalls:
    """The scalar subexpressions only Python computes: called with the scalars, returns
    their values (``len`` of them)."""

    __slots__ = ("_fn", "_n")

    def __init__(self, fn: Any, n: int) -> None:
        self._fn, self._n = fn, n

    def __call__(self, scalars: Sequence[float]) -> tuple[float, ...]:
        return self._fn(scalars)

    def __len__(self) -> int:
        return self._n


def _negated(e: sp.Expr) -> bool:
    return e.is_Mul and e.args[0] == -1


def _erf_scalar(x: float) -> float:
    import math

    return math.erf(x)


class FusedKernel:
    """Expressions compiled into an in-place sequence of NumPy ufunc calls.

    Parameters
    ----------
    exprs : list of sympy.Expr
        The outputs.
    arrays : list of sympy.Symbol
        Arguments given as 1-d float arrays of one common length ``n``.
    scalars : list of sympy.Symbol
        Arguments given as Python floats (e.g. the time).
    cse : bool
        Common-subexpression elimination before compiling (default on).

    Every other symbol must have been replaced by a number. Call as
    ``kernel(arrays, scalars, outs, buffers)`` with ``buffers = kernel.buffers(n)``;
    ``outs`` are ``len(exprs)`` float arrays of length ``n``, distinct from the inputs.
    :attr:`source` is the generated Python.

    Examples
    --------
    >>> import numpy as np, sympy as sp
    >>> e, pi = sp.symbols("e pi")  # names that clash with constants
    >>> k = FusedKernel([e - e**3, sp.exp(pi) * e], [e, pi])
    >>> a = np.array([0.5, 2.0]); b = np.array([0.0, 1.0])
    >>> out = [np.empty(2), np.empty(2)]
    >>> k([a, b], [], out, k.buffers(2))
    >>> out[0], out[1]
    (array([ 0.375, -6.   ]), array([0.5       , 5.43656366]))
    >>> print(k.source)
    def kernel(A, S, O, B):
        A0, A1 = A
        O0, O1 = O
        B0, = B
        U_multiply(A0, A0, out=B0)
        U_multiply(B0, A0, out=B0)
        U_subtract(A0, B0, out=O0)
        U_exp(A1, out=B0)
        U_multiply(A0, B0, out=O1)
        return None
    <BLANKLINE>
    """

    def __init__(self, exprs: Sequence[sp.Expr], arrays: Sequence[sp.Symbol],
                 scalars: Sequence[sp.Symbol] = (), *, cse: bool = True) -> None:
        self.exprs = [sp.sympify(x) for x in exprs]
        self.arrays = tuple(arrays)
        self.scalars = tuple(scalars)
        known = set(self.arrays) | set(self.scalars)
        extra = set().union(*(x.free_symbols for x in self.exprs)) - known
        if extra:
            names = ", ".join(sorted(s.name for s in extra))
            raise InputError(f"free symbol(s) {names} have no value; give them numeric values")
        self.cse = cse
        # Internal symbols: the user's names go no further than this line.
        ia = [sp.Dummy(f"a{i}", real=True) for i in range(len(self.arrays))]
        isc = [sp.Dummy(f"s{i}", real=True) for i in range(len(self.scalars))]
        ren = dict(zip((*self.arrays, *self.scalars), (*ia, *isc), strict=True))
        exprs_i = [x.xreplace(ren) for x in self.exprs]
        if cse:
            repl, reduced = sp.cse(exprs_i, symbols=sp.numbered_symbols(cls=sp.Dummy))
        else:
            repl, reduced = [], exprs_i
        b = _Builder({s: i for i, s in enumerate(ia)}, {s: f"S{i}" for i, s in enumerate(isc)})
        for sym, sub in repl:
            v = b.build(sub)
            if v.is_array:
                b.arrays[sym] = v.id  # later references are this array
            else:  # a scalar (time-dependent) common subexpression: a local
                name = f"C{len(b.pre)}"
                b.pre.append(f"    {name} = {v.code}")
                b.scalars[sym] = name
                v = _Val("scal", name)
            b.cache[sym] = v
        outs = [b.build(r) for r in reduced]
        self._compile(b, outs)

    # -- code generation ---------------------------------------------------------------------
    def _compile(self, b: _Builder, outs: list[_Val]) -> None:
        n_in = len(self.arrays)
        last_use: dict[int, int] = {}
        for k, (_, _, operands) in enumerate(b.ops):
            for o in operands:
                if o.is_array:
                    last_use[o.id] = k
        out_of: dict[int, int] = {}  # SSA id -> output index it is written to
        for i, v in enumerate(outs):
            if v.is_array and v.id >= n_in and v.id not in out_of:
                out_of[v.id] = i
        for v in outs:  # outputs stay live to the end
            if v.is_array:
                last_use[v.id] = len(b.ops)
        where: dict[int, str] = {i: f"A{i}" for i in range(n_in)}
        free: list[str] = []
        n_buf = 0
        lines: list[str] = []
        for k, (rid, ufunc, operands) in enumerate(b.ops):
            args = [where[o.id] if o.is_array else o.code for o in operands]
            dying = [o.id for o in operands if o.is_array and o.id >= n_in
                     and last_use.get(o.id) == k and o.id not in out_of]
            if rid in out_of:
                target = f"O{out_of[rid]}"
            else:
                # overwrite an operand that dies here (exact aliasing is safe for ufuncs)
                reuse = next((where[i] for i in dying), None)
                if reuse is not None:
                    target = reuse
                    dying = [i for i in dying if where[i] != reuse]
                elif free:
                    target = free.pop()
                else:
                    target = f"B{n_buf}"
                    n_buf += 1
            for i in dying:
                if where[i] not in free:
                    free.append(where[i])
            where[rid] = target
            if ufunc.startswith("F"):  # fallback: lambdified subexpression
                lines.append(f"    NP_copyto({target}, {ufunc}({', '.join(args)}))")
            else:
                lines.append(f"    U_{ufunc}({', '.join(args)}, out={target})")
            if rid not in last_use and rid not in out_of and target not in free:
                free.append(target)  # computed but unused (cannot happen after CSE)
        for i, v in enumerate(outs):
            if v.is_array and out_of.get(v.id) == i:
                continue
            src = where[v.id] if v.is_array else v.code
            lines.append(f"    NP_copyto(O{i}, {src})")
        head = ["def kernel(A, S, O, B):"]
        if n_in:
            head.append(f"    {', '.join(f'A{i}' for i in range(n_in))}{',' if n_in == 1 else ''}"
                        " = A")
        if self.scalars:
            ns = len(self.scalars)
            head.append(f"    {', '.join(f'S{i}' for i in range(ns))}{',' if ns == 1 else ''}"
                        " = S")
        if outs:
            no = len(outs)
            head.append(f"    {', '.join(f'O{i}' for i in range(no))}{',' if no == 1 else ''}"
                        " = O")
        if n_buf:
            head.append(f"    {', '.join(f'B{i}' for i in range(n_buf))}"
                        f"{',' if n_buf == 1 else ''} = B")
        self.n_buffers = n_buf
        self.n_ops = len(b.ops)
        self._program = (list(b.ops), list(outs), list(b.pre), list(b.fallbacks))
        self._element: Any = False  # element_source(), once made
        self.source = "\n".join([*head, *b.pre, *lines, "    return None", ""])
        ns_: dict[str, Any] = {"NP_copyto": np.copyto}
        for name in {u for _, u, _ in b.ops} | {"negative", "sqrt", *BINARY, *UNARY.values()}:
            if hasattr(np, name):
                ns_[f"U_{name}"] = getattr(np, name)
        for k, (fn, _) in enumerate(b.fallbacks):
            ns_[f"F{k}"] = fn
        exec(compile(self.source, "<symsde fused kernel>", "exec"), ns_)
        self._fn = ns_["kernel"]

    def element_source(self) -> tuple[list[str], list[str], Any] | None:
        """The same program for one element, as scalar Python statements, or None.

        Returns ``(lines, outputs, extra)``: statements that read the inputs
        ``a0, a1, ...`` and the scalars ``S0, ...`` and assign locals, one expression per
        output, and ``extra``: None, or a function of the scalars returning the values of
        the scalar subexpressions that only Python computes (lambdified functions of the
        time), which the statements read as the scalars after the given ones; ``len(extra)``
        is how many. Made once per kernel. Every array
        operation is one of ``+ - * /``, negation and ``sqrt``, in the order of the
        ufunc program: IEEE 754 rounds each of them correctly, so any compiler that keeps
        that order (no fused multiply-add, no reassociation) gives the same bits as the
        ufunc calls. None when the program uses anything else (``exp``, ``power``, a
        lambdified function of the arrays), whose results may differ in the last bit.

        Examples
        --------
        >>> import sympy as sp
        >>> x, z, t = sp.symbols("x z t")
        >>> lines, outs, extra = FusedKernel([x - x**3 + z / 2], [x, z]).element_source()
        >>> print("\\n".join(lines)); print(outs, extra)
        v2 = a1 * 0.5
        v3 = v2 + a0
        v4 = a0 * a0
        v5 = v4 * a0
        v6 = v3 - v5
        ['v6'] None
        >>> lines, outs, extra = FusedKernel([sp.cos(t) * x], [x], [t]).element_source()
        >>> lines, extra((0.0,))
        (['v1 = a0 * S1'], (1.0,))
        >>> FusedKernel([sp.exp(x)], [x]).element_source() is None
        True
        """
        if self._element is False:
            self._element = self._element_source()
        return self._element

    def _element_source(self) -> tuple[list[str], list[str], Any] | None:
        ops, outs, pre, fallbacks = self._program
        infix = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/"}
        if any(syms for _, syms in fallbacks) or any(
                u not in infix and u not in ("negative", "sqrt") for _, u, _ in ops):
            return None
        calls: dict[str, str] = {}  # "F0(S0)" -> the scalar name it is passed as
        n_s = len(self.scalars)
        call = re.compile(r"F\d+\([^()]*\)")

        def scalar(text: str) -> str:
            def name(m: re.Match[str]) -> str:
                return calls.setdefault(m.group(0), f"S{n_s + len(calls)}")
            return call.sub(name, text)

        def code(v: _Val) -> str:
            if v.is_array:
                return f"a{v.id}" if v.id < len(self.arrays) else f"v{v.id}"
            return scalar(v.code)

        lines = [scalar(line.strip()) for line in pre]
        for rid, ufunc, operands in ops:
            args = [code(o) for o in operands]
            if ufunc in infix:
                rhs = f"{args[0]} {infix[ufunc]} {args[1]}"
            elif ufunc == "negative":
                rhs = f"-{args[0]}"
            else:
                rhs = f"math.sqrt({args[0]})"
            lines.append(f"v{rid} = {rhs}")
        out_codes = [code(v) for v in outs]
        if any("**" in c or "U_" in c for c in [*lines, *out_codes]):
            return None  # a power or function of scalars: Python and Numba may round apart
        extra = None
        if calls:
            args = ", ".join(f"S{i}" for i in range(n_s))
            unpack = f"    {args}{',' if n_s == 1 else ''} = S\n" if n_s else ""
            src = f"def extra(S):\n{unpack}    return ({', '.join(calls)},)\n"
            ns: dict[str, Any] = {f"F{k}": fn for k, (fn, _) in enumerate(fallbacks)}
            exec(compile(src, "<symsde fused scalars>", "exec"), ns)
            extra = _ScalarCalls(ns["extra"], len(calls))
        return lines, out_codes, extra

    def buffers(self, n: int) -> list[np.ndarray]:
        """The scratch arrays for calls on arrays of length ``n``."""
        return [np.empty(n) for _ in range(self.n_buffers)]

    def __call__(self, arrays: Sequence[np.ndarray], scalars: Sequence[float],
                 outs: Sequence[np.ndarray], buffers: Sequence[np.ndarray]) -> None:
        self._fn(arrays, scalars, outs, buffers)

    def __reduce__(self) -> tuple[Any, ...]:
        # Generated functions do not pickle; rebuild from the expressions.
        return (_rebuild, (self.exprs, self.arrays, self.scalars, self.cse))


def _rebuild(exprs: list, arrays: tuple, scalars: tuple, cse: bool) -> FusedKernel:
    return FusedKernel(exprs, arrays, scalars, cse=cse)
