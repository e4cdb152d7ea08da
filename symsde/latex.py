r"""Read LaTeX as an author means it: SymPy's LaTeX parser, a pre-pass, a symbol table, a check.

SymPy's ``sympy.parsing.latex.parse_latex`` has two backends. Measured with SymPy 1.14:
the ``lark`` backend rejects Greek letters (``\sigma``, ``\Phi``); the ``antlr`` backend
(package ``antlr4-python3-runtime`` 4.11.x) reads them but has quirks that change the
mathematics without an error:

- ``e^{x}`` is a symbol ``e`` to the power ``x``, not the exponential function;
- ``\pi`` is a symbol ``pi``, not the constant;
- ``\mathcal{L}(\Phi)`` is the product ``mathcal * L * Phi``; ``\hat{g}`` and ``\text{...}``
  likewise fall apart into products of letters;
- ``\frac{dp(x)}{dx}`` is refused (only ``\frac{d}{dx}`` and ``\frac{dX}{dx}`` for a letter X),
  and so is the conditional bar of ``p(a | b)``;
- in ``\Phi_i - \eta N g(\Phi) - \eta \sum_{j=1}^N (\hat{g}_j - g(\Phi))`` the sum is dropped
  (error recovery) and ``\eta (a + b)`` is read as a function ``eta`` applied to ``a + b``.

This module reads a formula in four stages, each of which can refuse it with a
:class:`LatexReadError` that says what is wrong:

1. **pre-pass** (:func:`prepass`): spacing and sizing commands (``\left``, ``\right``, ``\,``,
   ``\!``, ``\displaystyle``) go; ``\mathrm{d}`` is ``d``; ``e^{...}`` becomes ``\exp{...}``;
   ``\frac{dF}{dx}`` becomes ``\frac{d}{dx}(F)``; ``\nabla_{x}`` becomes ``\frac{d}{dx}``; a
   ``\cdot`` is put before a ``\sum``, ``\prod`` or ``\int`` that follows an operand;
2. **names**: every notation of the symbol table (``"\\Phi"``, ``"\\hat{g}_j"``, ``"L"``) and
   every decorated name (``\mathcal{L}``, ``\hat{g}``, ``\text{Train}``), and every
   conditional ``p(a | b)`` (a function ``p(|)`` of ``a`` and ``b``), is replaced by a
   placeholder command that the parser reads as one symbol, or as one function when it is
   followed by an argument list;
3. **parse** with the antlr backend in strict mode (a syntax error is an error, not a
   silently shortened formula);
4. **validation** (:func:`validate`): the parse is rendered back with ``sympy.latex``, put
   through the same pre-pass, and its tokens compared with the source's: the same names,
   the same numbers, as many sums, products, integrals and equals signs, the same elementary
   functions. A dropped term, a lost operator or a name read as a product fails here.

Then the placeholders are replaced by the symbol table's objects (with their assumptions):
a symbol applied to an argument, ``\eta (a + b)``, is a product; a function is applied; an
expression such as ``p(\Phi)`` stands for itself and for ``p(\Phi)`` written out. The
letter ``e`` is Euler's number and ``\pi`` the constant unless the table says otherwise.

Examples
--------
>>> import sympy as sp
>>> Phi, sigma = sp.symbols("Phi sigma", positive=True)
>>> L = sp.Function("L")
>>> parse_latex_expr(r"\frac{1}{Z} \exp\left(\frac{-2\mathcal{L}(\Phi)}{\sigma^2}\right)",
...                  symbols={r"\Phi": Phi, r"\sigma": sigma, r"\mathcal{L}": L})
exp(-2*L(Phi)/sigma**2)/Z
>>> parse_latex_expr(r"e^{-x^2} + \pi")
pi + exp(-x**2)
>>> parse_latex_equation(r"\frac{d}{dx} x^2 = 2x")
Eq(Derivative(x**2, x), 2*x)
>>> parse_latex_expr(r"(a, b) (c, d)")
Traceback (most recent call last):
...
symsde.latex.LatexReadError: cannot parse '(a, b) (c, d)': ...
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef, UndefinedFunction

from symsde.errors import InputError

__all__ = [
    "DisplayPart",
    "LatexReadError",
    "Reading",
    "parse_latex_equation",
    "parse_latex_expr",
    "prepass",
    "read_latex",
    "split_display",
    "symbol_table",
    "tokens",
    "transcription_differences",
    "validate",
]

#: What a notation can stand for: a symbol or expression, or a function (class or callable).
Target = sp.Expr | UndefinedFunction | Callable[..., sp.Expr]


class LatexReadError(InputError):
    """A formula that cannot be read, or whose reading cannot be validated.

    An :class:`~symsde.errors.InputError` (so a :class:`~symsde.errors.SymsdeError`, exit
    code 2) and still a :class:`ValueError`, as it always was.
    """


# -- the pre-pass ---------------------------------------------------------------------------------
_DROP = re.compile(r"\\(?:left|right)(?=[\s(\[|.)\]]|\\[{}|])\.?|\\[,;:! ]|\\displaystyle|"
                   r"\\limits|\\(?:big|Big|bigg|Bigg)[lr]?(?![A-Za-z])")
_MATHRM_D = re.compile(r"\\(?:mathrm|operatorname|text)\{d\}")
_BIG_OPS = ("sum", "prod", "int")
# A decorated name: one symbol for the author, a product of letters for the parser.
_DECORATED = re.compile(
    r"\\(?:mathcal|mathbb|mathbf|mathsf|mathscr|mathfrak|hat|tilde|bar|widehat|widetilde|"
    r"overline|vec|dot|ddot|text|mathrm|mathit|operatorname)\{[^{}]*\}"
    r"(?:_\{[^{}]*\}|_[A-Za-z0-9])?")
_PLACEHOLDER = "symsdeq"


def _group(text: str, start: int) -> tuple[str, int]:
    """The brace group or single token starting at ``start``: (content, end index)."""
    while start < len(text) and text[start] == " ":
        start += 1
    if start >= len(text):
        raise LatexReadError(f"cannot parse {text!r}: a group is missing at its end")
    if text[start] == "{":
        depth = 0
        for i in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                return text[start + 1:i], i + 1
        raise LatexReadError(f"cannot parse {text!r}: unbalanced braces")
    m = re.match(r"\\[A-Za-z]+|.", text[start:])
    assert m is not None
    return m.group(0), start + m.end()


def closing_paren(text: str, start: int) -> int | None:
    """Index of the ``)`` that closes the ``(`` at ``text[start]`` (None if unbalanced).

    Examples
    --------
    >>> closing_paren("f(a(b), c) + d", 1), closing_paren("f(a", 1)
    (9, None)
    """
    depth = 0
    for k in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[k], 0)
        if depth == 0:
            return k
    return None


def _rewrite_exp(text: str) -> str:
    # e^{...} and e^x, where e stands alone (not the end of a name such as \beta or x_e)
    out, i = [], 0
    pat = re.compile(r"(?<![A-Za-z\\_])e\s*\^")
    while True:
        m = pat.search(text, i)
        if m is None:
            out.append(text[i:])
            return "".join(out)
        body, end = _group(text, m.end())
        out.append(text[i:m.start()] + r"\exp{" + body + "}")
        i = end


def _rewrite_frac_d(text: str) -> str:
    # \frac{d F}{d x} -> \frac{d}{d x}(F), and the same for \partial
    out, i = [], 0
    pat = re.compile(r"\\frac\s*\{\s*(d|\\partial)")
    while True:
        m = pat.search(text, i)
        if m is None:
            out.append(text[i:])
            return "".join(out)
        num, end1 = _group(text, m.start() + len(r"\frac"))
        den, end2 = _group(text, end1)
        op = m.group(1)
        rest = num.strip()[len(op):].strip()
        if rest and re.fullmatch(rf"{re.escape(op)}\s*\S.*", den.strip()):
            out.append(text[i:m.start()] + rf"\frac{{{op}}}{{{den}}}\left({rest}\right)")
        else:
            out.append(text[i:end2])
        i = end2


def _rewrite_nabla(text: str) -> str:
    out, i = [], 0
    pat = re.compile(r"\\nabla\s*_")
    while True:
        m = pat.search(text, i)
        if m is None:
            out.append(text[i:])
            return "".join(out)
        var, end = _group(text, m.end())
        out.append(text[i:m.start()] + rf"\frac{{d}}{{d{var}}}")
        i = end


def _bare_limits(text: str) -> str:
    # \int_{u=0}^{b} -> \int_{0}^{b}: the parser names the variable by the differential
    return re.sub(r"\\int\s*_\{\s*[A-Za-z]\s*=", r"\\int_{", text)


def _cdot_before_big_ops(text: str) -> str:
    # "\eta \sum" -> "\eta \cdot \sum": an operand followed by a big operator
    return re.sub(r"(?<!\\cdo)(?<!\\time)([A-Za-z0-9)}\]])(\s*)\\(sum|prod|int)(?![A-Za-z])",
                  r"\1\2\\cdot \\\3", text)


def prepass(text: str) -> str:
    r"""The formula with the antlr backend's quirks rewritten (see the module docstring).

    Examples
    --------
    >>> prepass(r"\left( e^{-x} \right) \, \frac{dp(x)}{dx} - \eta \sum_{j=1}^N a_j")
    ' ( \\exp{-x}  )   \\frac{d}{dx} (p(x) ) - \\eta \\cdot \\sum_{j=1}^N a_j'
    """
    text = _MATHRM_D.sub("d", text)
    text = _rewrite_frac_d(text)
    text = _DROP.sub(" ", text)
    text = _rewrite_exp(text)
    text = _rewrite_nabla(text)
    text = _bare_limits(text)
    text = _cdot_before_big_ops(text)
    return text


# -- names and placeholders -----------------------------------------------------------------------
def _placeholder(i: int) -> str:
    letters = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        letters = chr(ord("a") + r) + letters
    return _PLACEHOLDER + letters


def _key_pattern(key: str) -> str:
    pat = re.escape(key)
    if re.search(r"[A-Za-z]$", key):
        pat += r"(?![A-Za-z])"          # \sigma is not the start of \sigmax
    if re.match(r"[A-Za-z]", key):
        pat = r"(?<![A-Za-z\\])" + pat  # L is not the end of \mathcal{L} or of \Lambda
    return pat


def _conditional_bars(text: str, sub: Callable[[str], str]) -> str:
    r"""``p(\Phi | x)`` -> a placeholder for ``p(\cdot \mid \cdot)`` applied to ``(\Phi, x)``.

    The bar is not an operator SymPy reads. A density of ``a`` given ``b`` is read as a
    function of both with its own name, the table key ``"p(|)"`` (default: a function
    ``p_{\mid}``), distinct from the joint ``p(a, b)`` and the marginal ``p(a)``.
    """
    out, i = [], 0
    pat = re.compile(r"(\\[A-Za-z]+|[A-Za-z])(_\{[^{}]*\}|_\\?[A-Za-z0-9]+)?\s*\(")
    while True:
        m = pat.search(text, i)
        if m is None:
            out.append(text[i:])
            return "".join(out)
        end = closing_paren(text, m.end() - 1)
        inner = text[m.end():end] if end is not None else ""
        bar = re.search(r"\\mid|(?<!\\)\|", inner)
        if end is None or bar is None or "(" in inner[:bar.start()]:
            out.append(text[i:m.end()])
            i = m.end()
            continue
        key = m.group(1) + (m.group(2) or "") + "(|)"
        out.append(text[i:m.start()] + sub(key).rstrip() + "(" + inner[:bar.start()].strip()
                   + ", " + inner[bar.end():].strip() + ")")
        i = end + 1


def _name_places(text: str, keys: list[str]) -> tuple[str, dict[str, str]]:
    """Replace table keys and decorated names by placeholders: (text, placeholder -> key).

    Longer names first, so that ``\\hat{g}_j`` is one name although ``g`` is one too.
    """
    names: dict[str, str] = {}
    by_key: dict[str, str] = {}

    def sub(key: str) -> str:
        if key not in by_key:
            by_key[key] = _placeholder(len(by_key))
            names[by_key[key]] = key
        return "\\" + by_key[key] + " "

    text = _conditional_bars(text, sub)
    found = {m.group(0) for m in _DECORATED.finditer(text)}
    for key in sorted(set(keys) | found, key=len, reverse=True):
        text = re.sub(_key_pattern(key), lambda m, k=key: sub(k), text)
    # "\\symsdeqa _x" would not be a subscript, nor "\\symsdeqa (x)" always an application
    text = re.sub(rf"(\\{_PLACEHOLDER}[a-z]+) (?=[_^(])", r"\1", text)
    return text, names


# -- validation -----------------------------------------------------------------------------------
_STRUCTURAL = {"frac", "cdot", "times", "left", "right", "sqrt", "exp", "ln", "log", "sin",
               "cos", "tan", "sinh", "cosh", "tanh", "infty", "sum", "prod", "int",
               "limits", "operatorname", "mathrm", "quad", "qquad", "pi"}
_FUNCS = ("exp", "log", "sin", "cos", "tan", "sinh", "cosh", "tanh", "sqrt")


@dataclass(frozen=True)
class Tokens:
    """What validation compares between a formula and its parse rendered back."""

    names: frozenset[str]
    numbers: frozenset[str]
    operators: tuple[tuple[str, int], ...]
    functions: frozenset[str]
    relations: int

    def differences(self, other: Tokens) -> list[str]:
        """What differs from ``other``, in words (empty when they agree)."""
        out = []
        for attr in ("names", "numbers", "functions"):
            a, b = getattr(self, attr), getattr(other, attr)
            if a != b:
                out.append(f"{attr}: source has {sorted(a - b)} that the parse lacks, "
                           f"parse has {sorted(b - a)} that the source lacks")
        if self.operators != other.operators:
            out.append(f"operators: source {dict(self.operators)}, parse {dict(other.operators)}")
        if self.relations != other.relations:
            out.append(f"equals signs: source {self.relations}, parse {other.relations}")
        return out


def _top_level_equals(text: str) -> int:
    """The number of ``=`` outside braces (``\\sum_{j=1}`` has none at the top level)."""
    depth, count = 0, 0
    for i, c in enumerate(text):
        depth += {"{": 1, "}": -1}.get(c, 0)
        if c == "=" and depth == 0 and (i == 0 or text[i - 1] not in "<>!\\"):
            count += 1
    return count


def tokens(text: str) -> Tokens:
    r"""The names, numbers, big operators, functions and equals signs of (pre-passed) LaTeX.

    Names are single letters and commands that are not structure (``\frac``, ``\exp`` ...);
    ``\ln`` counts as ``\log`` and ``\pi`` as a number, as SymPy renders them. The number 1 is
    not compared: SymPy writes ``x/2`` without it and ``1/Z`` with it.

    Examples
    --------
    >>> t = tokens(r"\frac{1}{2}\sigma^2 \sum_{j=1}^{N} x_j = \exp{y}")
    >>> sorted(t.names), sorted(t.numbers), t.operators, sorted(t.functions), t.relations
    (['N', 'j', 'sigma', 'x', 'y'], ['2'], (('sum', 1),), ['exp'], 1)
    """
    text = re.sub(r"\\operatorname\{([A-Za-z]+)\}", r"\\\1", text)
    names: set[str] = set()
    numbers: set[str] = set()
    ops: Counter[str] = Counter()
    funcs: set[str] = set()
    for m in re.finditer(r"\\([A-Za-z]+)|([A-Za-z])|(\d+(?:\.\d+)?)|(=)", text):
        cmd, letter, num, _eq = m.groups()
        if cmd:
            cmd = "log" if cmd == "ln" else cmd
            if cmd in _BIG_OPS:
                ops[cmd] += 1
            elif cmd in _FUNCS:
                funcs.add(cmd)
            elif cmd == "pi":
                numbers.add("pi")
            elif cmd == "partial":      # SymPy writes d/dt of a function of several
                names.add("d")          # symbols as a partial derivative
            elif cmd not in _STRUCTURAL:
                names.add(cmd)
        elif letter:
            names.add(letter)
        elif num and num != "1":
            numbers.add(num)
    relations = _top_level_equals(text)
    return Tokens(frozenset(names), frozenset(numbers), tuple(sorted(ops.items())),
                  frozenset(funcs), relations)


def _render(expr: Any) -> str:
    """``sympy.latex`` of a parse, placeholders written back as commands, pre-passed."""
    text = sp.latex(expr)
    text = re.sub(rf"\\operatorname\{{({_PLACEHOLDER}[a-z]+)\}}", r"\\\1 ", text)
    text = re.sub(rf"(?<![\\A-Za-z])({_PLACEHOLDER}[a-z]+)", r"\\\1 ", text)
    return prepass(text)


def validate(source: str, parsed: Any) -> list[str]:
    """Differences between pre-passed ``source`` and ``parsed`` rendered back (empty: valid).

    ``parsed`` is the parser's result before the symbol table is applied (placeholders in
    place). Integer factors that SymPy folds (``2 \\cdot 3``) are not expected in notes.
    """
    return tokens(source).differences(tokens(_render(parsed)))


def transcription_differences(source: str, expr: Any) -> list[str]:
    r"""Differences between a display's LaTeX and a hand transcription of it (empty: same).

    For a display the parser cannot read: the transcription (a SymPy expression or
    equation) is rendered with ``sympy.latex`` and both texts, through the same pre-pass,
    are compared token by token (names, numbers, big operators, functions, equals signs).

    Examples
    --------
    >>> import sympy as sp
    >>> x, s = sp.Symbol("x"), sp.Symbol("sigma")
    >>> transcription_differences(r"e^{-x^2/\sigma^2}", sp.exp(-x**2 / s**2))
    []
    >>> transcription_differences(r"e^{-x^2/\sigma^2}", sp.exp(-x**3 / s**2))
    ["numbers: source has [] that the parse lacks, parse has ['3'] that the source lacks"]
    """
    rendered = sp.latex(expr)
    if isinstance(expr, sp.Equality):
        rendered = f"{sp.latex(expr.lhs)} = {sp.latex(expr.rhs)}"
    return tokens(prepass(source)).differences(tokens(prepass(rendered)))


# -- reading --------------------------------------------------------------------------------------
def _antlr(text: str, source: str) -> Any:
    try:
        from sympy.parsing.latex import parse_latex
        from sympy.parsing.latex.errors import LaTeXParsingError
    except ImportError as e:  # pragma: no cover - a dependency of symsde
        raise LatexReadError(f"cannot parse {source!r}: SymPy's LaTeX parser is missing "
                             f"({e}); install antlr4-python3-runtime 4.11") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return parse_latex(text, strict=True, backend="antlr")
    except (LaTeXParsingError, ValueError, TypeError, AttributeError) as e:
        msg = " ".join(str(e).split())[:160]
        raise LatexReadError(f"cannot parse {source!r}: {msg}") from None


def _default(key: str, applied: bool) -> Any:
    if key.endswith("(|)"):                      # a conditional density p(a | b)
        base, _, sub = key[:-3].partition("_")
        sub = sub[1:-1] if sub.startswith("{") and sub.endswith("}") else sub
        return sp.Function(f"{base}_{{{sub}" + r"\mid}")
    return sp.Function(key) if applied else sp.Symbol(key)


def _apply(key: str, target: Any, args: tuple[Any, ...], source: str) -> Any:
    if isinstance(target, sp.Symbol):
        if len(args) != 1:
            raise LatexReadError(f"cannot read {source!r}: {key} is a symbol but is applied "
                                 f"to {len(args)} arguments; declare it as a function")
        return sp.Mul(target, args[0])
    if isinstance(target, sp.Expr):
        if getattr(target, "args", None) == args:
            return target
        raise LatexReadError(f"cannot read {source!r}: {key} stands for {target} but is "
                             f"written applied to {args}")
    if callable(target):
        return target(*args)
    raise LatexReadError(f"cannot read {source!r}: {key} maps to {target!r}, which is "
                         "neither a SymPy expression nor a function")


def _split_name(name: str, names: Mapping[str, str]) -> tuple[str, str | None]:
    """``symsdeqa_{i + 1}`` -> (``symsdeqa``, ``i + 1`` with placeholders written back)."""
    base, sep, sub = name.partition("_")
    if not sep or base not in names:
        return name, None
    sub = sub[1:-1] if sub.startswith("{") and sub.endswith("}") else sub
    sub = re.sub(rf"\\?({_PLACEHOLDER}[a-z]+)\s*", lambda m: names.get(m.group(1), ""), sub)
    return base, sub


def _subscripted(target: Any, sub: str, applied: bool) -> Any:
    """``\\Phi_{i+1}`` for a table entry ``\\Phi``: a new symbol of the same kind."""
    if isinstance(target, sp.Symbol):
        return sp.Symbol(f"{target.name}_{{{sub}}}", **target.assumptions0)
    if isinstance(target, UndefinedFunction):
        return sp.Function(f"{target.__name__}_{{{sub}}}")
    name = getattr(target, "__name__", None) or sp.sstr(target)
    return sp.Function(f"{name}_{{{sub}}}") if applied else sp.Symbol(f"{name}_{{{sub}}}")


def _resolve(expr: Any, names: Mapping[str, str], table: Mapping[str, Any], source: str,
             greek_pi: bool, euler_e: bool) -> Any:
    """Replace placeholders (and pi, e) by the table's objects."""
    def target(name: str, applied: bool) -> Any:
        base, sub = _split_name(name, names)
        key = names.get(base)
        if key is not None:
            t = table[key] if key in table else _default(key, applied)
            return t if sub is None else _subscripted(t, sub, applied)
        if name in table:
            return table[name]
        return _default(name, applied)

    def display(name: str) -> str:
        base, sub = _split_name(name, names)
        return names.get(base, base) + ("" if sub is None else f"_{{{sub}}}")

    def walk(e: Any) -> Any:
        if isinstance(e, AppliedUndef):
            args = tuple(walk(a) for a in e.args)
            return _apply(display(e.func.__name__), target(e.func.__name__, True), args,
                          source)
        if isinstance(e, sp.Symbol):
            if e.name == "pi" and greek_pi:
                return sp.pi
            if e.name == "e" and euler_e:
                return sp.E
            t = target(e.name, False)
            if not isinstance(t, sp.Basic):
                raise LatexReadError(f"cannot read {source!r}: {display(e.name)} is a "
                                     "function in the symbol table but is written without "
                                     "arguments")
            return t
        if not e.args:
            return e
        return e.func(*(walk(a) for a in e.args))

    return walk(expr)


_RELATIONS = {"=": "=", r"\approx": r"\approx", r"\propto": r"\propto", r"\simeq": r"\approx"}


def _top_level_relation(text: str) -> tuple[str, str, str] | None:
    r"""(left, relation, right) at the first ``=``, ``\approx`` or ``\propto`` outside braces."""
    depth = 0
    i = 0
    while i < len(text):
        c = text[i]
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth == 0:
            if c == "=" and (i == 0 or text[i - 1] not in "<>!\\"):
                return text[:i], "=", text[i + 1:]
            m = re.match(r"\\(approx|propto|simeq)(?![A-Za-z])", text[i:])
            if m:
                return text[:i], _RELATIONS["\\" + m.group(1)], text[i + m.end():]
        i += 1
    return None


@dataclass(frozen=True)
class Reading:
    """A formula read and validated: the SymPy object and how it was obtained.

    ``relation`` is ``None`` for an expression, else ``"="``, ``"\\approx"`` or
    ``"\\propto"``; ``value`` is then an unevaluated :class:`sympy.Eq` of the two sides.
    """

    source: str
    prepassed: str
    value: Any
    relation: str | None = None
    names: dict[str, str] = field(default_factory=dict)


def _read_side(placed: str, source: str) -> Any:
    parsed = _antlr(placed, source)
    diffs = validate(placed, parsed)
    if diffs:
        raise LatexReadError(f"cannot validate the parse of {source!r} (read {placed.strip()!r}"
                             f" as {sp.sstr(parsed)}): " + "; ".join(diffs))
    return parsed


def read_latex(text: str, symbols: Mapping[str, Target] | None = None) -> Reading:
    r"""Read one formula (an expression or a relation ``A = B``): see the module docstring.

    Parameters
    ----------
    text : str
        LaTeX of one formula, without ``$`` delimiters. A relation is ``=``, ``\approx``
        or ``\propto`` (at most one, outside braces); each side is read and validated
        separately, so that SymPy cannot evaluate ``x = x`` to ``True`` while reading.
    symbols : mapping, optional
        The notation's names (``"\\Phi"``, ``"\\hat{g}_j"``, ``"L"``) to SymPy symbols,
        expressions or functions. A name not in the table is a plain :class:`sympy.Symbol`
        (a :class:`sympy.Function` when applied) named as written; a table name with a
        subscript (``\Phi_{i+1}`` for ``\Phi``) is a new symbol with the same assumptions.

    Raises
    ------
    LatexReadError
        When the parser refuses the formula or the validation finds a difference.
    """
    table = dict(symbols or {})
    if not isinstance(text, str) or not text.strip():
        raise LatexReadError("cannot parse an empty formula: give one LaTeX formula")
    if re.search(r"\\q?quad(?![A-Za-z])|\\\\|&", text):
        raise LatexReadError(f"cannot parse {text!r}: it has several parts (\\quad, \\\\ or &);"
                             " split it first (symsde.latex.split_display)")
    if re.search(r"\\int.*(?<![A-Za-z\\])d[A-Za-z]\s*\^", text):
        raise LatexReadError(f"cannot parse {text!r}: a differential of a power (du^2) is "
                             "read as a power of the integral; write 2u\\,du")
    pre = prepass(text)
    placed, names = _name_places(pre, list(table))
    rel = _top_level_relation(placed)
    if rel is not None and _top_level_relation(rel[2]) is not None:
        raise LatexReadError(f"cannot parse {text!r}: it has more than one relation; "
                             "split it into equations with one '=' each")
    if rel is not None and (not rel[0].strip() or not rel[2].strip()):
        raise LatexReadError(f"cannot parse {text!r}: a side of its relation is empty")
    g_pi, g_e = r"\pi" not in table, "e" not in table
    if rel is None:
        value = _resolve(_read_side(placed, text), names, table, text, g_pi, g_e)
        return Reading(text, pre, value, None, names)
    lhs, op, rhs = rel
    left = _resolve(_read_side(lhs, text), names, table, text, g_pi, g_e)
    right = _resolve(_read_side(rhs, text), names, table, text, g_pi, g_e)
    return Reading(text, pre, sp.Eq(left, right, evaluate=False), op, names)


def parse_latex_expr(text: str, symbols: Mapping[str, Target] | None = None) -> sp.Expr:
    """One LaTeX expression as SymPy (see :func:`read_latex`); a relation is refused."""
    r = read_latex(text, symbols)
    if r.relation is not None:
        raise LatexReadError(f"{text!r} is a relation ({r.relation}); use "
                             "parse_latex_equation")
    return r.value


def parse_latex_equation(text: str, symbols: Mapping[str, Target] | None = None, *,
                         relations: tuple[str, ...] = ("=",)) -> sp.Equality:
    r"""One LaTeX equation ``A = B`` as an unevaluated :class:`sympy.Eq` (see :func:`read_latex`).

    ``relations`` may add ``"\\approx"`` (read as an equation to be checked to the stated
    order by the caller).

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> eq = parse_latex_equation(r"\sin^2 x + \cos^2 x = 1", symbols={"x": x})
    >>> eq.lhs.free_symbols == {x}
    True
    >>> parse_latex_equation(r"x = x")
    Eq(x, x)
    >>> parse_latex_equation(r"x + 1")
    Traceback (most recent call last):
    ...
    symsde.latex.LatexReadError: 'x + 1' is not an equation A = B: write exactly one '='
    """
    r = read_latex(text, symbols)
    if r.relation is None:
        raise LatexReadError(f"{text!r} is not an equation A = B: write exactly one '='")
    if r.relation not in relations:
        raise LatexReadError(f"{text!r} states {r.relation}, not an equation A = B")
    return r.value


# -- symbol declarations and displays -------------------------------------------------------------
_ASSUMPTIONS = {"real", "positive", "negative", "nonnegative", "nonpositive", "integer",
                "nonzero", "complex", "function"}


def symbol_table(spec: str) -> dict[str, Target]:
    r"""A symbol table from a declaration ``"x real, sigma positive, L function"``.

    Each comma-separated item is a name and assumptions. A name is a letter or a Greek
    letter's command name (``sigma`` and ``\sigma`` both mean :math:`\sigma`); ``function``
    declares an undefined function (applied in the formula as ``L(x)``).

    Examples
    --------
    >>> t = symbol_table("x real, sigma positive, L function")
    >>> t["x"].is_real, t["\\sigma"].is_positive, t["L"](t["x"])
    (True, True, L(x))
    >>> symbol_table("x reel")
    Traceback (most recent call last):
    ...
    symsde.latex.LatexReadError: unknown assumption 'reel' for x in 'x reel'; use ...
    """
    table: dict[str, Target] = {}
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        name, *assumptions = item.split()
        if not re.fullmatch(r"\\?[A-Za-z]+(_\{?[A-Za-z0-9]+\}?)?", name):
            raise LatexReadError(f"bad symbol name {name!r} in {spec!r}: use a letter or a "
                                 "Greek letter's name, e.g. 'x real, sigma positive'")
        bad = [a for a in assumptions if a not in _ASSUMPTIONS]
        if bad:
            raise LatexReadError(f"unknown assumption {bad[0]!r} for {name} in {spec!r}; use "
                                 f"one of {', '.join(sorted(_ASSUMPTIONS))}")
        bare = name.lstrip("\\")
        base = bare.split("_")[0]
        key = "\\" + bare if len(base) > 1 else bare
        flags = {a: True for a in assumptions if a not in ("function", "complex")}
        obj: Target = (sp.Function(bare, **flags) if "function" in assumptions
                       else sp.Symbol(bare, **flags))
        table[key] = obj
    return table


@dataclass(frozen=True)
class DisplayPart:
    """One formula of a display: its LaTeX and the side conditions that were set apart."""

    latex: str
    conditions: tuple[str, ...] = ()


def _outside_braces(text: str) -> str:
    """``text`` without its braced groups (``E_{x \\sim p}``: a subscript, not a condition)."""
    prev = None
    while prev != text:
        prev, text = text, re.sub(r"\{[^{}]*\}", "", text)
    return text


def split_display(text: str) -> list[DisplayPart]:
    r"""The formulas of a displayed equation: rows of ``aligned``, parts separated by ``\quad``.

    A row that starts with ``=`` continues the previous row's left side; a part with
    ``\sim`` (``\epsilon \sim N(0, I)``) or a hand-typed number ``(1)`` is a side condition
    of the formula before it.

    Examples
    --------
    >>> [p.latex for p in split_display(r"\begin{aligned} a &= b \\ &= c \end{aligned}")]
    ['a = b', 'a = c']
    >>> split_display(r"x = y \sigma, \quad \epsilon \sim N(0, 1)")
    [DisplayPart(latex='x = y \\sigma', conditions=('\\epsilon \\sim N(0, 1)',))]
    >>> [p.latex for p in split_display(r"a = b \quad g = E_{x \sim p} f")]  # a subscript
    ['a = b', 'g = E_{x \\sim p} f']
    """
    body = re.sub(r"\\(?:begin|end)\{(?:aligned|align\*?|split|gathered)\}", "", text)
    rows = [r.replace("&", " ").strip() for r in re.split(r"\\\\", body)]
    parts: list[DisplayPart] = []
    lhs: str | None = None
    for row in rows:
        if not row:
            continue
        for k, chunk in enumerate(re.split(r"\\q?quad(?![A-Za-z])", row)):
            chunk = chunk.strip().rstrip(",").strip()
            prose = re.match(r"\\text\{[^{}]* \}\s*", chunk)   # "\text{Define } L = ..."
            conditions: tuple[str, ...] = ()
            if prose:
                conditions, chunk = (prose.group(0).strip(),), chunk[prose.end():]
            if not chunk:
                continue
            if ("\\sim" in _outside_braces(chunk) or re.fullmatch(r"\(\d+\)", chunk)
                    or chunk.startswith("\\text{where")) and parts:
                last = parts[-1]
                parts[-1] = DisplayPart(last.latex, (*last.conditions, chunk))
                continue
            if k == 0 and re.match(r"=|\\approx", chunk) and lhs is not None:
                chunk = f"{lhs} {chunk}"
            parts.append(DisplayPart(" ".join(chunk.split()), conditions))
            rel = _top_level_relation(parts[-1].latex)
            if rel is not None and k == 0:
                lhs = rel[0].strip()
            elif k == 0 and lhs is None:
                lhs = parts[-1].latex          # "& a \\ &= b": the first row is the left side
    return parts
