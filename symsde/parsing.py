"""A whitelist parser for expressions typed by users.

:func:`sympy.sympify` evaluates Python code, so it must never see a user's string.
This module reads the string with :mod:`ast` (which only parses, never runs), walks
the tree, accepts a small grammar (numbers, the declared names, ``+ - * / **``,
calls of a fixed list of functions, and nested lists) and builds the SymPy
expression node by node. Anything else is a :class:`~symsde.errors.ParseError`
whose message says what was found and what to write instead.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import sympy as sp

from symsde.errors import ParseError

__all__ = [
    "ALLOWED_FUNCTIONS",
    "MAX_EXPRESSION_LENGTH",
    "MAX_TERMS",
    "parse_expression",
    "parse_matrix",
    "parse_name",
    "parse_number",
]

#: Functions a user may call, by the name they type.
ALLOWED_FUNCTIONS: dict[str, Any] = {
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "tanh": sp.tanh,
    "atan": sp.atan,
    "asin": sp.asin,
    "acos": sp.acos,
    "abs": sp.Abs,
    "Abs": sp.Abs,
    "erf": sp.erf,
    "sign": sp.sign,
}
#: Named constants.
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "E": sp.E}

MAX_EXPRESSION_LENGTH = 2000
MAX_NODES = 400
#: Nesting depth limit; a sum of n terms is n levels deep, so this also bounds long sums.
MAX_DEPTH = 120
MAX_INTEGER_DIGITS = 30
MAX_EXPONENT = 64
#: Largest power of ten a decimal literal may carry (1e-100 .. 1e100).
MAX_DECIMAL_EXPONENT = 100
#: Largest number of digits an exact numeric power may produce.
MAX_RESULT_DIGITS = 2000
#: The same limit in bits.
MAX_RESULT_BITS = int(MAX_RESULT_DIGITS / math.log10(2)) + 1
#: Largest argument of exp, sinh, cosh whose value SymPy may turn into an exact number.
MAX_EXP_ARGUMENT = MAX_RESULT_DIGITS * math.log(10)
_GROWING = frozenset({"exp", "sinh", "cosh"})
#: Largest number of terms an expression may have once multiplied out (``expand``).
MAX_TERMS = 20_000

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_RESERVED = set(ALLOWED_FUNCTIONS) | set(CONSTANTS) | {
    "lambda", "import", "eval", "exec", "True", "False", "None", "I", "oo", "nan", "zoo", "S",
}


def _fail(msg: str) -> ParseError:
    return ParseError(msg)


def parse_name(name: str, what: str = "name") -> str:
    """Validate a symbol name: ASCII letters, digits and ``_``, starting with a letter.

    Examples
    --------
    >>> parse_name("sigma_x")
    'sigma_x'
    """
    name = name.strip()
    if not name:
        raise _fail(f"empty {what}; give a name such as x or sigma")
    if not name.isascii():
        bad = next(c for c in name if not c.isascii())
        raise _fail(
            f"{what} {name!r} contains the non-ASCII character {bad!r} "
            f"({unicodedata.name(bad, 'unknown')}); use plain ASCII letters"
        )
    if not _NAME_RE.match(name):
        raise _fail(
            f"{what} {name!r} is not a valid name; use letters, digits and _, starting with a "
            "letter (e.g. x, sigma_1)"
        )
    if name.startswith("_") or "__" in name:
        raise _fail(f"{what} {name!r} may not contain double underscores")
    if name in _RESERVED:
        raise _fail(f"{what} {name!r} is reserved (a function or constant); choose another name")
    if keyword.iskeyword(name):
        raise _fail(f"{what} {name!r} is a Python keyword, which no expression can use; "
                    f"choose another name (e.g. {name}_1)")
    return name


#: Letters of other scripts that look like ASCII letters (pasted from PDFs, or typed by
#: a keyboard in another layout).
_LOOK_ALIKES = {
    **dict(zip("аеорсхуіјАВЕКМНОРСТХ", "aeopcxyijABEKMHOPCTX", strict=True)),  # Cyrillic
    **dict(zip("οΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "oABEZHIKMNOPTYX", strict=True)),  # Greek
}
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789", strict=True))


def _non_ascii_hint(c: str) -> str:
    """What an ASCII user probably meant by the non-ASCII character ``c``."""
    if c in "−–—‐‑":
        return " (a dash: type the ASCII minus '-')"
    if c in "×·⋅∗":
        return " (type '*' for multiplication)"
    if c == "÷":
        return " (type '/' for division)"
    if c in _SUPERSCRIPTS:
        return f" (a superscript: write the power as **{_SUPERSCRIPTS[c]})"
    if c in _LOOK_ALIKES:
        return f" (it looks like the ASCII letter {_LOOK_ALIKES[c]!r}; retype it)"
    name = unicodedata.name(c, "")
    letter = name.split(" LETTER ", 1)[-1]
    if name.startswith("GREEK ") and " LETTER " in name and " " not in letter:
        spelled = letter.lower() if "SMALL" in name else letter.capitalize()
        spelled = {"lamda": "lam", "Lamda": "Lam"}.get(spelled, spelled)  # lambda is reserved
        return f" (spell Greek letters out: {spelled} for {c})"
    if c in "√∑∫∂∇":
        return " (write functions by name, e.g. sqrt(x); symbols of calculus are not read)"
    folded = unicodedata.normalize("NFKC", c)
    if folded.isascii() and folded.strip():
        return f" (a typographic form of {folded!r}; type the plain ASCII character)"
    if c.isspace():
        return " (a non-breaking or typographic space; type an ordinary space)"
    return ""


def _check_text(text: str, what: str) -> str:
    if not isinstance(text, str):
        raise _fail(f"{what} must be a string, got {type(text).__name__}")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise _fail(
            f"{what} is {len(text)} characters long; the limit is {MAX_EXPRESSION_LENGTH}"
        )
    stripped = text.strip()
    if not stripped:
        raise _fail(f"{what} is empty; give an expression such as -x or 1")
    for i, c in enumerate(stripped):
        if not c.isascii():
            hint = _non_ascii_hint(c)
            raise _fail(
                f"{what} contains the non-ASCII character {c!r} "
                f"({unicodedata.name(c, 'unknown')}) at position {i}{hint}"
            )
        if not c.isprintable() and c not in " \t\n\r":
            raise _fail(
                f"{what} contains the control character {c!r} at position {i}; give plain "
                "text on one line"
            )
        if c in "\"'`\\;:@$&|!?#{}~":
            raise _fail(
                f"{what} contains the character {c!r} at position {i}, which no expression "
                "uses; write arithmetic with + - * / ** and function calls such as exp(-x)"
            )
    return stripped


class _Builder:
    def __init__(self, symbols: Mapping[str, sp.Symbol], what: str, text: str,
                 unknown_hint: str | None = None) -> None:
        self.symbols = symbols
        self.what = what
        self.text = text
        self.unknown_hint = unknown_hint
        self.nodes = 0
        self.element: ast.AST | None = None  # the list entry being built

    def err(self, msg: str) -> ParseError:
        return _fail(f"{self.what}: {msg}")

    def build(self, node: ast.AST, depth: int = 0) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.err(f"expression is too large (more than {MAX_NODES} parts)")
        if depth > MAX_DEPTH:
            raise self.err(f"expression is nested more than {MAX_DEPTH} levels deep")
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise self.err(self._describe(node))
        return self._bounded(method(node, depth + 1))

    def _describe(self, node: ast.AST) -> str:
        kind = type(node).__name__
        names = {
            "Attribute": "attribute access (a dot after a name) is not allowed",
            "Lambda": "lambda is not allowed; write the expression itself",
            "Subscript": "indexing with [] is not allowed",
            "Compare": "comparisons are not allowed; give an expression, not an equation",
            "BoolOp": "and/or are not allowed",
            "IfExp": "conditional expressions are not allowed",
            "Dict": "dictionaries are not allowed",
            "Set": "sets are not allowed",
            "ListComp": "comprehensions are not allowed",
            "GeneratorExp": "comprehensions are not allowed",
            "Starred": "* unpacking is not allowed",
            "JoinedStr": "strings are not allowed",
            "NamedExpr": ":= is not allowed",
            "Await": "await is not allowed",
        }
        return names.get(kind, f"{kind} is not part of the expression grammar")

    # -- leaves -----------------------------------------------------------------------------
    def _Constant(self, node: ast.Constant, depth: int) -> sp.Expr:
        v = node.value
        if isinstance(v, bool) or v is None or v is Ellipsis:
            raise self.err(f"{v!r} is not a number")
        if isinstance(v, int):
            if len(str(abs(v))) > MAX_INTEGER_DIGITS:
                raise self.err(f"integer literal has more than {MAX_INTEGER_DIGITS} digits")
            return sp.Integer(v)
        if isinstance(v, float):
            seg = ast.get_source_segment(self.text, node) or repr(v)
            if v != v or v in (float("inf"), float("-inf")):
                raise self.err(f"{seg} is not a finite number")
            try:
                exponent = Decimal(seg.replace("_", "")).adjusted()
            except InvalidOperation:
                raise self.err(f"{seg} is not a number") from None
            if abs(exponent) > MAX_DECIMAL_EXPONENT:
                raise self.err(
                    f"{seg} is out of range; decimal numbers must lie between "
                    f"1e-{MAX_DECIMAL_EXPONENT} and 1e{MAX_DECIMAL_EXPONENT} in size"
                )
            # Read decimals exactly (0.1 -> 1/10) so symbolic work stays exact.
            return sp.Rational(seg.replace("_", ""))
        if isinstance(v, complex):
            raise self.err(f"complex literal {v!r} is not allowed; state variables are real")
        raise self.err(f"{type(v).__name__} literals are not allowed (strings, bytes)")

    def _Name(self, node: ast.Name, depth: int) -> Any:
        n = node.id
        if n in self.symbols:
            return self.symbols[n]
        if n in CONSTANTS:
            return CONSTANTS[n]
        if n in ALLOWED_FUNCTIONS:
            raise self.err(f"{n} is a function; call it with an argument, e.g. {n}(x)")
        if n.startswith("__") or n in {"eval", "exec", "open", "import", "compile"}:
            raise self.err(f"the name {n!r} is not allowed in expressions")
        if n == "e":
            raise self.err("unknown name 'e'; for Euler's number write E or exp(1)")
        if n.lower() in {"nan", "inf", "infinity", "oo"}:
            raise self.err(f"{n} is not a finite number; give a finite value such as 1 or 0.5")
        if not self.symbols and self.unknown_hint is None:
            raise self.err(
                f"unknown name {n!r}; a number is expected here, e.g. 0.5, 1/3, sqrt(2) or pi/4"
            )
        known = ", ".join(sorted(self.symbols)) or "none declared"
        hint = self.unknown_hint or "declare it with --state or --param"
        raise self.err(f"unknown name {n!r}; {hint} (known names: {known})")

    # -- operators --------------------------------------------------------------------------
    def _BinOp(self, node: ast.BinOp, depth: int) -> sp.Expr:
        op = node.op
        if isinstance(op, ast.BitXor):
            # '^' binds more loosely than anything else, so the tree is no guide to what was
            # meant; the text (of the list entry) with every '^' read as a power is.
            whole = self.text if self.element is None else (
                ast.get_source_segment(self.text, self.element) or self.text)
            meant = whole.replace("^", "**")
            meant = meant if len(meant) <= 80 else meant[:77] + "..."
            raise self.err(f"'^' is not a power here; did you mean {meant}?")
        lhs = self._scalar(self.build(node.left, depth), "operand")
        rhs = self._scalar(self.build(node.right, depth), "operand")
        if isinstance(op, ast.Add):
            return lhs + rhs
        if isinstance(op, ast.Sub):
            return lhs - rhs
        if isinstance(op, ast.Mult):
            return lhs * rhs
        if isinstance(op, ast.Div):
            if rhs.is_zero:
                raise self.err("division by zero")
            return lhs / rhs
        if isinstance(op, ast.Pow):
            if rhs.is_number and self._magnitude(rhs, "the exponent") > MAX_EXPONENT + 1e-9:
                raise self.err(f"exponent {rhs} is too large (the limit is {MAX_EXPONENT})")
            if lhs.is_zero:
                if not rhs.is_number:
                    raise self.err(f"0**({rhs}) is undefined where {rhs} <= 0 and 0 "
                                   "elsewhere; write 0 or the case you mean")
                if not self._nonnegative(rhs):
                    raise self.err("0 to a negative power is undefined")
            if lhs.is_Rational and rhs.is_Integer:
                bits = max(lhs.p.bit_length(), lhs.q.bit_length())
                digits = int(abs(int(rhs)) * bits * math.log10(2)) + 1
                if digits > MAX_RESULT_DIGITS:
                    raise self.err(
                        f"the power {lhs}**{rhs} has about {digits} digits; the limit is "
                        f"{MAX_RESULT_DIGITS}"
                    )
            return self._real(self._bounded(lhs**rhs), node)
        sym = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.BitAnd: "&",
               ast.BitOr: "|", ast.LShift: "<<", ast.RShift: ">>"}.get(type(op), type(op).__name__)
        raise self.err(f"the operator {sym} is not allowed; use + - * / **")

    def _UnaryOp(self, node: ast.UnaryOp, depth: int) -> sp.Expr:
        val = self._scalar(self.build(node.operand, depth), "operand")
        if isinstance(node.op, ast.USub):
            return -val
        if isinstance(node.op, ast.UAdd):
            return val
        raise self.err("only unary + and - are allowed")

    def _Call(self, node: ast.Call, depth: int) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, ast.Attribute):
                raise self.err("only calls of named functions such as exp(x) are allowed")
            seg = ast.get_source_segment(self.text, node) or "(...)(...)"
            raise self.err(
                f"{seg}: a bracket after a value reads as a call; for a product write '*' "
                "between them (multiplication must be written with '*')"
            )
        name = node.func.id
        if name in self.symbols or name in CONSTANTS:
            seg = ast.get_source_segment(self.text, node) or f"{name}(...)"
            raise self.err(
                f"{seg}: {name} is not a function; for a product write {name}*(...) "
                "(multiplication must be written with '*')"
            )
        if name not in ALLOWED_FUNCTIONS:
            allowed = ", ".join(sorted(ALLOWED_FUNCTIONS))
            raise self.err(f"function {name!r} is not allowed; allowed functions: {allowed}")
        if node.keywords:
            raise self.err(f"{name}() takes no keyword arguments")
        if len(node.args) != 1:
            raise self.err(f"{name}() takes exactly one argument, got {len(node.args)}")
        arg = self._scalar(self.build(node.args[0], depth), f"argument of {name}")
        if name in _GROWING and arg.is_number:
            size = self._magnitude(arg, f"the argument of {name}")
            if size > MAX_EXP_ARGUMENT:
                raise self.err(
                    f"{name} of a number as large as {size:.3g} has about "
                    f"{size / math.log(10):.3g} digits; the limit is {MAX_RESULT_DIGITS}")
        return self._real(self._bounded(ALLOWED_FUNCTIONS[name](arg)), node)

    def _magnitude(self, value: sp.Expr, what: str) -> float:
        """|value| for a numeric expression, by evaluation (never by a symbolic comparison,
        whose answer can depend on the order of terms, and so on PYTHONHASHSEED)."""
        try:
            v = sp.Abs(value).evalf(30)
        except (ValueError, TypeError, ArithmeticError, RecursionError):
            v = sp.nan
        if not v.is_Number or not v.is_finite:
            raise self.err(f"{what} {value} is not a finite real number")
        return float(v) if v < 1e300 else math.inf

    def _nonnegative(self, value: sp.Expr) -> bool:
        try:
            v = value.evalf(30)
        except (ValueError, TypeError, ArithmeticError, RecursionError):
            return False
        return bool(v.is_Number and v.is_finite and v >= 0)

    def _bounded(self, value: sp.Expr) -> sp.Expr:
        """Refuse what SymPy built if its numbers or powers are too large.

        SymPy rewrites as it builds (``exp(64*log(x))`` is ``x**64``, ``exp(64*log(10))``
        is ``10**64``): the limits apply to the result, not only to what was typed.
        """
        if not isinstance(value, sp.Basic):
            return value
        for r in value.atoms(sp.Rational):
            if max(r.p.bit_length(), r.q.bit_length()) > MAX_RESULT_BITS:
                raise self.err(f"a number in the expression has more than {MAX_RESULT_DIGITS} "
                               "digits once SymPy evaluates it; give smaller numbers")
        for p in value.atoms(sp.Pow):
            e = p.exp
            if e.is_Number and abs(e) > MAX_EXPONENT:
                raise self.err(f"the expression becomes {p.base}**({e}) (SymPy rewrites it so); "
                               f"exponents are limited to {MAX_EXPONENT}")
        return value

    def _real(self, value: sp.Expr, node: ast.AST) -> sp.Expr:
        """Reject numbers that are not real, e.g. sqrt(-1) or log(-2)."""
        if value.is_number and value.is_extended_real is False:
            seg = ast.get_source_segment(self.text, node) or str(value)
            raise self.err(
                f"{seg} is not a real number (it equals {value}); symsde works with real "
                "quantities only"
            )
        return value

    def _List(self, node: ast.List | ast.Tuple, depth: int) -> list[Any]:
        out = []
        for e in node.elts:
            self.element = e
            out.append(self.build(e, depth))
        return out

    _Tuple = _List

    def _scalar(self, value: Any, what: str) -> sp.Expr:
        if isinstance(value, list):
            raise self.err(f"a list cannot be an {what}; lists are only allowed at the top level")
        return value


def _expanded_terms(e: sp.Basic) -> int:
    """An upper bound on the number of terms of ``expand(e)``, capped at ``MAX_TERMS + 1``.

    A product multiplies the counts; ``b**k`` of a ``t``-term base has at most
    ``C(k + t - 1, t - 1)`` terms; a function call counts as one term unless its argument
    is itself too large (``expand`` also works inside the call).
    """
    cap = MAX_TERMS + 1
    if e.is_Add:
        return min(cap, sum(_expanded_terms(a) for a in e.args))
    if e.is_Mul:
        n = 1
        for a in e.args:
            n = min(cap, n * _expanded_terms(a))
        return n
    if e.is_Pow:
        t = _expanded_terms(e.base)
        k = e.exp
        if t >= cap or not k.is_Rational or t == 1:
            return t if k.is_Rational else (cap if t >= cap else 1)
        power = math.ceil(abs(k))
        log_terms = math.lgamma(power + t) - math.lgamma(power + 1) - math.lgamma(t)
        return cap if log_terms > math.log(cap) else min(cap, math.comb(power + t - 1, t - 1))
    if e.args:
        return cap if max(_expanded_terms(a) for a in e.args) >= cap else 1
    return 1


def _check_size(value: Any, what: str) -> None:
    for v in value if isinstance(value, list) else [value]:
        if isinstance(v, list):
            _check_size(v, what)
        elif _expanded_terms(v) > MAX_TERMS:
            raise _fail(
                f"{what} would have more than {MAX_TERMS} terms once multiplied out (e.g. a "
                "sum raised to a high power, or nested powers); symbolic work on it would not "
                "finish, so give a smaller expression"
            )


def _parse_tree(text: str, what: str) -> ast.Expression:
    try:
        return ast.parse(text, mode="eval")
    except SyntaxError as exc:
        hint = ""
        if "\n" in text or "\r" in text:
            hint = "; give the expression on one line"
        elif "=" in text:
            hint = "; give the right-hand side alone, not an equation or assignment with '='"
        elif text.count("(") != text.count(")") or text.count("[") != text.count("]"):
            hint = "; the brackets are unbalanced"
        elif re.search(r"\d[A-Za-z(]|\)[A-Za-z0-9(]|[A-Za-z0-9_)]\s+[A-Za-z0-9_(]", text):
            hint = "; multiplication must be written with '*' (e.g. 2*x, not 2x or x y)"
        elif text.rstrip()[-1] in "+-*/,(":
            hint = f"; it ends with {text.rstrip()[-1]!r}, which needs something after it"
        col = f" at position {exc.offset - 1}" if exc.offset else ""
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise _fail(f"{what} {shown!r} is not a valid expression{col}{hint}") from None
    except (ValueError, RecursionError, MemoryError):
        raise _fail(f"{what} could not be read (too deeply nested or malformed)") from None


def _symbols_map(symbols: Mapping[str, sp.Symbol] | list[sp.Symbol]) -> dict[str, sp.Symbol]:
    if isinstance(symbols, Mapping):
        out = dict(symbols)
        bad = next((v for v in out.values() if not isinstance(v, sp.Expr)), None)
        if bad is not None or not all(isinstance(k, str) for k in out):
            raise _fail("symbols must map names (str) to SymPy symbols or numbers, got "
                        f"{bad!r}")
        return out
    if isinstance(symbols, (str, sp.Basic)):
        symbols = [symbols]
    try:
        items = list(symbols)
    except TypeError:
        raise _fail(f"symbols must be a list of SymPy symbols, got {symbols!r}") from None
    for s in items:
        if not isinstance(s, sp.Symbol):
            shown = f"the string {s!r}" if isinstance(s, str) else repr(s)
            raise _fail(f"symbols must be SymPy symbols, got {shown}; use e.g. "
                        "sympy.Symbol('x', real=True)")
    return {s.name: s for s in items}


def parse_expression(
    text: str,
    symbols: Mapping[str, sp.Symbol] | list[sp.Symbol],
    what: str = "expression",
    *,
    unknown_hint: str | None = None,
) -> sp.Expr:
    """Parse a scalar expression over the given symbols, without evaluating code.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> parse_expression("x - x**3 + 0.5*exp(-x)", [x])
    -x**3 + x + exp(-x)/2
    >>> parse_expression("x^2", [x])
    Traceback (most recent call last):
    ...
    symsde.errors.ParseError: expression: '^' is not a power here; did you mean x**2?
    """
    text = _check_text(text, what)
    tree = _parse_tree(text, what)
    value = _Builder(_symbols_map(symbols), what, text, unknown_hint).build(tree.body)
    if isinstance(value, list):
        raise _fail(f"{what} must be a single expression, not a list")
    _check_size(value, what)
    return value


def parse_matrix(
    text: str,
    symbols: Mapping[str, sp.Symbol] | list[sp.Symbol],
    what: str = "expression",
    *,
    unknown_hint: str | None = None,
) -> sp.Expr | list[Any]:
    """Parse a scalar, a list or a nested list of expressions.

    Examples
    --------
    >>> import sympy as sp
    >>> x, y = sp.symbols("x y", real=True)
    >>> parse_matrix("[-x, -2*y]", [x, y])
    [-x, -2*y]
    >>> parse_matrix("[[1, 0], [0, 2]]", [x, y])
    [[1, 0], [0, 2]]
    """
    text = _check_text(text, what)
    tree = _parse_tree(text, what)
    value = _Builder(_symbols_map(symbols), what, text, unknown_hint).build(tree.body)
    if isinstance(value, list):
        for row in value:
            if isinstance(row, list) and any(isinstance(e, list) for e in row):
                raise _fail(f"{what} is nested more than two levels; give a matrix at most")
    _check_size(value, what)
    return value


def parse_number(text: str, what: str = "number") -> sp.Expr:
    """Parse a finite real constant (``0.5``, ``1/3``, ``sqrt(2)``, ``pi/4``).

    Examples
    --------
    >>> parse_number("1/3")
    1/3
    """
    value = parse_expression(text, {}, what)
    if not value.is_number or not value.is_real or not value.is_finite:
        raise _fail(f"{what} {text!r} is not a finite real number")
    return value
