"""The one front door for everything a user hands to symsde's Python API.

Rule (the same as the command line's): **SymPy objects pass; strings are parsed by the
whitelist parser** (:mod:`symsde.parsing`, which never runs code) over the symbols the call
already knows (the state, the time symbol, the symbols of the other SymPy arguments, the
SDE's symbols); **nothing reaches** :func:`sympy.sympify` **or** :func:`eval`. Numbers
(``int``, ``float``, :class:`fractions.Fraction`, NumPy scalars) become exact SymPy
numbers; anything else (``None``, a relation, a function not called, a dictionary) is an
:class:`~symsde.errors.InputError` that says what was given and what to give instead.

The public entry points wear :func:`front_door` (``SDE``, ``SDE.langevin``, ``SDE.sgd``,
``SDE.from_diffusion_matrix``, ``ito_lemma``, ``density_cdf``/``ks_test``) or
:func:`results_are_ours` (``stationary_density``, whose SymPy failures become
:class:`~symsde.errors.NoStationaryDensityError`).

Names are validated once, here: a state variable must be a SymPy ``Symbol`` whose name is
a Python identifier and not a keyword, nor a name that the code printers emit
(:data:`RESERVED_NAMES`: ``e``, ``pi``, ``arctan``, ``mpf``, ``select``, ...), since
generated code could confuse the two.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import keyword
import math
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeVar

import sympy as sp

from symsde.errors import InputError, NoStationaryDensityError, ParseError, SymsdeError

__all__ = [
    "RESERVED_NAMES",
    "as_entries",
    "as_expression",
    "check_name",
    "front_door",
    "how_to_help_sympy",
    "is_stationary_density",
    "parse_domain",
    "results_are_ours",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Largest integer the API accepts, in decimal digits (Python refuses to print more than
#: 4300 by default, and no coefficient of an SDE needs so many).
MAX_INTEGER_DIGITS = 1000


def _printed_names() -> frozenset[str]:
    """Identifiers the NumPy, mpmath and Python code printers write for SymPy objects."""
    from sympy.printing.numpy import NumPyPrinter
    from sympy.printing.pycode import MpmathPrinter, PythonCodePrinter

    from symsde.parsing import ALLOWED_FUNCTIONS

    x = sp.Dummy("x", real=True)
    exprs = [f(x) for f in ALLOWED_FUNCTIONS.values()] + [
        sp.pi, sp.E, sp.Rational(1, 3) * x, sp.Float(0.5) * x, x**sp.Rational(1, 2),
        sp.Piecewise((x, x > 0), (0, True)), sp.atan2(x, 1), sp.Min(x, 1), sp.Max(x, 1),
        sp.oo, sp.nan, sp.gamma(x), sp.Heaviside(x)]
    names: set[str] = set()
    for printer in (NumPyPrinter, MpmathPrinter, PythonCodePrinter):
        for e in exprs:
            try:
                text = printer().doprint(e)
            except Exception:
                continue
            names |= set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
    names.discard(str(x))
    return frozenset(n for n in names if not n.startswith("_"))


#: Names no state variable may have: Python keywords, SymPy's one-letter singletons and
#: constants, and every identifier the code printers emit (computed from the printers).
RESERVED_NAMES: frozenset[str] = frozenset(
    set(keyword.kwlist) | set(keyword.softkwlist)
    | {"I", "E", "S", "N", "O", "Q", "oo", "zoo", "nan", "pi", "e", "inf", "numpy", "mpmath",
       "math", "scipy", "builtins", "mpf", "mpc", "lambda"}
    | _printed_names())


def check_name(name: str, what: str = "name", *, builtins_too: bool = False) -> str:
    """Refuse a name generated code could confuse with something else.

    Examples
    --------
    >>> check_name("sigma_1")
    'sigma_1'
    >>> check_name("e", "state name")
    Traceback (most recent call last):
    ...
    symsde.errors.ParseError: state name 'e' is reserved (Euler's number in generated code); ...
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ParseError(f"{what} {name!r} is not a valid name; use letters, digits and _, "
                         "starting with a letter (e.g. x, sigma_1)")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise ParseError(f"{what} {name!r} is a Python keyword; choose another name "
                         f"(e.g. {name}_ or {name}1)")
    if name in RESERVED_NAMES or (builtins_too and hasattr(builtins, name)):
        meaning = {"e": "Euler's number", "E": "Euler's number", "pi": "the number pi",
                   "I": "the imaginary unit"}.get(name)
        meaning = (f"{meaning} in generated code" if meaning else
                   "a name the generated NumPy or mpmath code uses")
        raise ParseError(f"{what} {name!r} is reserved ({meaning}); "
                         f"choose another name (e.g. {name}_1)")
    return name


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _known_map(known: Iterable[sp.Symbol] | Mapping[str, sp.Basic]) -> dict[str, sp.Basic]:
    if isinstance(known, Mapping):
        return dict(known)
    return {s.name: s for s in known}


def as_expression(value: Any, what: str = "expression",
                  known: Iterable[sp.Symbol] | Mapping[str, sp.Basic] = ()) -> sp.Expr:
    """One scalar through the front door: a SymPy expression, a number or a string.

    Strings are read by :func:`symsde.parsing.parse_expression` over ``known``; they are
    never evaluated.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> as_expression("-x + exp(-x)", "drift", [x])
    -x + exp(-x)
    >>> as_expression(0.5), as_expression(3)
    (0.500000000000000, 3)
    >>> as_expression("__import__('os').system('touch M')", "drift", [x])
    Traceback (most recent call last):
    ...
    symsde.errors.ParseError: drift contains the character "'" at position 11, ...
    """
    if isinstance(value, str):
        from symsde.parsing import parse_expression

        return parse_expression(value, _known_map(known), what,
                                unknown_hint="create it with sympy.Symbol and pass SymPy "
                                             "expressions, or use only the names known here")
    if isinstance(value, bool) or value is None:
        raise InputError(f"{what} is {value!r}; give a SymPy expression or a number")
    if isinstance(value, sp.Basic):
        if isinstance(value, (sp.core.relational.Relational, sp.logic.boolalg.BooleanFunction,
                              sp.logic.boolalg.BooleanAtom)):
            raise InputError(f"{what} is the condition {_describe(value)}; give an expression, "
                             "not an equation or a comparison")
        if isinstance(value, sp.MatrixBase) or not isinstance(value, sp.Expr):
            raise InputError(f"{what} is a {type(value).__name__}, not a scalar expression")
        return value
    if isinstance(value, type) or callable(value):
        name = getattr(value, "__name__", type(value).__name__)
        raise InputError(f"{what} is the function {name}, not an expression; call it on a "
                         f"symbol, e.g. {name}(x)")
    import numpy as np

    if isinstance(value, (int, np.integer)):
        if len(str(abs(int(value)))) > MAX_INTEGER_DIGITS:  # str() works below 4300 digits
            raise InputError(f"{what} has more than {MAX_INTEGER_DIGITS} digits")
        return sp.Integer(int(value))
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            raise InputError(f"{what} is {float(value)}, not a finite number")
        return sp.Float(float(value))
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InputError(f"{what} is {value}, not a finite number")
        return sp.Rational(str(value))
    if isinstance(value, (complex, np.complexfloating)):
        raise InputError(f"{what} is the complex number {value}; symsde works with real "
                         "quantities only")
    raise InputError(f"{what} is {_describe(value)} ({type(value).__name__}); give a SymPy "
                     "expression, a number, or a string such as '-x'")


def as_entries(value: Any, what: str = "expression",
               known: Iterable[sp.Symbol] | Mapping[str, sp.Basic] = ()) -> Any:
    """A scalar, a (nested) list or a Matrix, with every entry through :func:`as_expression`.

    The shape is kept (a Matrix stays a Matrix, a list a list); a string may itself be a
    list, e.g. ``"[-x, -2*y]"``.

    Examples
    --------
    >>> import sympy as sp
    >>> x, y = sp.symbols("x y", real=True)
    >>> as_entries(["-x", -2*y], "drift", [x, y])
    [-x, -2*y]
    >>> as_entries("[[1, 0], [0, 2]]", "diffusion", [x, y])
    [[1, 0], [0, 2]]
    """
    known = _known_map(known)
    return _entries(value, what, known, 0)


def _entries(value: Any, what: str, known: dict[str, sp.Basic], depth: int) -> Any:
    import numpy as np

    if isinstance(value, str):
        from symsde.parsing import parse_matrix

        return parse_matrix(value, known, what,
                            unknown_hint="create it with sympy.Symbol and pass SymPy "
                                         "expressions, or use only the names known here")
    if isinstance(value, sp.MatrixBase):
        for e in value:
            as_expression(e, f"an entry of {what}")
        return value
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        if depth >= 2:
            raise InputError(f"{what} is nested more than two levels; give a matrix at most")
        return [_entries(v, what, known, depth + 1) for v in value]
    return as_expression(value, what, known)


def _vector(value: Any, what: str, known: dict[str, sp.Basic]) -> Any:
    out = as_entries(value, what, known)
    if isinstance(out, sp.MatrixBase):
        out = list(out)
    if isinstance(out, list) and (not out or any(isinstance(e, list) for e in out)):
        raise InputError(f"{what} must be an expression or a non-empty flat list of "
                         "expressions")
    return out


def _symbols_in(value: Any, out: dict[str, sp.Basic]) -> None:
    """Collect the free symbols of every SymPy object in ``value`` (lists searched too)."""
    if isinstance(value, sp.Basic):
        for s in value.free_symbols:
            if isinstance(s, sp.Symbol):
                out.setdefault(s.name, s)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _symbols_in(v, out)
    elif isinstance(value, Mapping):
        for k in value:
            _symbols_in(k, out)


def _check_state(state: Any, what: str = "state") -> None:
    items = [state] if isinstance(state, sp.Basic) else state
    if isinstance(items, str):
        raise InputError(f"{what} is the string {items!r}; give SymPy symbols, e.g. "
                         "state=[x] with x = sympy.Symbol('x', real=True)")
    if not isinstance(items, Iterable):
        return  # the constructor says what is wrong with it
    for s in items:
        if isinstance(s, str):
            raise InputError(f"{what} entry {s!r} is a string; give SymPy symbols, e.g. "
                             f"sympy.Symbol({s!r}, real=True)")
        # A SymPy symbol is never confused with e or pi: generated code renames every
        # symbol to an internal name (symsde.kernels, symsde.fused). Names typed as text
        # are checked where they are read (check_name, used by the command line).
        del s


#: The library's own classes that arguments are checked against, registered by the modules
#: that define them (:func:`register_class`), so that this module imports none of them.
_CLASSES: dict[str, type] = {}


def register_class(cls: type) -> type:
    """Make ``cls`` known to the front door by its name (a class decorator)."""
    _CLASSES[cls.__name__] = cls
    return cls


def _bind(fn: Callable[..., Any], sig: inspect.Signature, args: tuple[Any, ...],
          kwargs: dict[str, Any]) -> inspect.BoundArguments:
    """``sig.bind``, with a wrong call refused as an InputError naming ``fn``."""
    try:
        return sig.bind(*args, **kwargs)
    except TypeError as exc:
        raise InputError(f"{fn.__qualname__}(): {exc}") from None


def _is(value: Any, name: str) -> bool:
    cls = _CLASSES.get(name)
    return cls is not None and isinstance(value, cls)


def is_stationary_density(value: Any) -> bool:
    """Whether ``value`` is a :class:`~symsde.stationary.StationaryDensity` (it passes as is)."""
    return _is(value, "StationaryDensity")


def front_door(*expressions: str, optional: tuple[str, ...] = (), state: str | None = None,
               sde: str | None = None, symbols: tuple[str, ...] = (),
               keep: Callable[[Any], bool] | None = None,
               scalars: tuple[str, ...] = ("loss", "learning_rate", "density"),
               vectors: tuple[str, ...] = ("f",)) -> Callable[[F], F]:
    """Decorate a public function so that its arguments go through the front door.

    Parameters
    ----------
    expressions : str
        Names of the parameters that hold expressions (scalars, lists or matrices); names of
        keys of a ``**kwargs`` parameter count too.
    optional : tuple of str
        Those of them that may be ``None``.
    state : str, optional
        The parameter holding the state symbols (checked by :func:`check_name`).
    sde : str, optional
        The parameter holding an :class:`~symsde.sde.SDE` (its symbols are known names).
    symbols : tuple of str
        Parameters holding further symbols whose names strings may use (e.g. ``time``).
    keep : callable, optional
        Values for which it returns True pass unchanged (e.g. a StationaryDensity).
    scalars : tuple of str
        Those of them that must be one expression, not a list or matrix.
    vectors : tuple of str
        Those of them that must be one expression or a flat, non-empty list.
    """

    def decorate(fn: F) -> F:
        sig = inspect.signature(fn)
        var_kw = next((p.name for p in sig.parameters.values()
                       if p.kind is inspect.Parameter.VAR_KEYWORD), None)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = _bind(fn, sig, args, kwargs)
            arguments = bound.arguments
            extra = arguments.get(var_kw, {}) if var_kw else {}

            def get(name: str) -> Any:
                return arguments[name] if name in arguments else extra.get(name)

            def put(name: str, value: Any) -> None:
                if name in arguments:
                    arguments[name] = value
                else:
                    extra[name] = value

            known: dict[str, sp.Basic] = {}
            for name in expressions:
                _symbols_in(get(name), known)
            if sde is not None:
                obj = get(sde)
                if not _is(obj, "SDE"):
                    raise InputError(f"{sde} must be an SDE (symsde.SDE), got "
                                     f"{_describe(obj)} ({type(obj).__name__})")
                _symbols_in([*obj.drift, *obj.diffusion], known)
                if obj.time is not None:
                    known[obj.time.name] = obj.time
                for s in obj.state:
                    known[s.name] = s
            for name in symbols:
                _symbols_in(get(name), known)
                value = get(name)
                if isinstance(value, sp.Symbol):
                    known[value.name] = value
            if state is not None:
                st = get(state)
                _check_state(st, state)
                for s in ([st] if isinstance(st, sp.Basic) else
                          st if isinstance(st, (list, tuple)) else []):
                    if isinstance(s, sp.Symbol):
                        known[s.name] = s
            for name in expressions:
                present = name in arguments or name in extra
                value = get(name)
                if value is None and (name in optional or not present):
                    continue
                if keep is not None and keep(value):
                    continue
                if name in scalars:
                    put(name, as_expression(value, name, known))
                elif name in vectors:
                    put(name, _vector(value, name, known))
                else:
                    put(name, as_entries(value, name, known))
            return fn(*bound.args, **bound.kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def results_are_ours(what: str, sde: str = "sde") -> Callable[[F], F]:
    """Decorate a derivation so that only :class:`~symsde.errors.SymsdeError` leaves it.

    SymPy raises many kinds of exceptions on inputs it cannot handle (``TypeError`` from a
    relational's truth value, ``PolynomialError``, ``ValueError``, ``NotImplementedError``);
    they become :class:`~symsde.errors.NoStationaryDensityError` (exit code 1) saying which
    step of SymPy gave up, and a wrong type for ``sde`` is an
    :class:`~symsde.errors.InputError`.
    """

    def decorate(fn: F) -> F:
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            obj = _bind(fn, sig, args, kwargs).arguments.get(sde)
            if not _is(obj, "SDE"):
                raise InputError(f"{sde} must be an SDE (symsde.SDE), got {_describe(obj)} "
                                 f"({type(obj).__name__}); build one with SDE(state, drift, "
                                 "diffusion)")
            try:
                return fn(*args, **kwargs)
            except SymsdeError:
                raise
            except NotImplementedError:
                raise NoStationaryDensityError(
                    "SymPy cannot compute a limit or integral this SDE needs (it raised "
                    "NotImplementedError), so symsde cannot decide whether a stationary "
                    "density exists; simplify the drift or the diffusion (e.g. a diffusion "
                    "that never vanishes, such as sqrt(1 + x**2))") from None
            except RecursionError:
                raise NoStationaryDensityError(
                    f"the expressions are too deeply nested for SymPy while {what}; simplify "
                    "the drift or the diffusion") from None
            except MemoryError:
                raise NoStationaryDensityError(
                    f"SymPy ran out of memory while {what}; simplify the drift or the "
                    "diffusion") from None
            except Exception as exc:
                detail = " ".join(str(exc).split())[:160]
                raise NoStationaryDensityError(
                    f"SymPy could not complete a step while {what} ({type(exc).__name__}: "
                    f"{detail}); {how_to_help_sympy(obj)}") from exc

        return wrapper  # type: ignore[return-value]

    return decorate


_GENERIC_HELP = ("symsde cannot decide this case: simplify the drift or the diffusion (e.g. "
                 "avoid abs, sign and piecewise terms)")


def _cli_interval(iv: sp.Interval) -> str:
    left = "[" if not iv.left_open and iv.start.is_finite else "("
    right = "]" if not iv.right_open and iv.end.is_finite else ")"
    return f"{left}{iv.start}, {iv.end}{right}"


def how_to_help_sympy(sde: Any, seconds: float = 3.0) -> str:
    """What the user can change when SymPy fails on an SDE, in one clause.

    Looks for the two shapes behind most such failures: a coefficient that is real only on
    part of the line (``acos(sqrt(x))``, ``asin(2*x)``: give that interval as the domain),
    and a kink (``abs``, ``sign``, ``Heaviside``: write each side without it, with that side
    as the domain). Falls back to a general hint; never raises.

    Examples
    --------
    >>> import sympy as sp
    >>> from symsde import SDE
    >>> x = sp.Symbol("x", real=True)
    >>> print(how_to_help_sympy(SDE([x], [-sp.asin(2 * x)], 1)))
    the coefficients are real only for x in [-1/2, 1/2]: give that state space, e.g. SDE(..., domain=sympy.Interval.open(-1/2, 1/2)) (command line: --domain '(-1/2, 1/2)')
    >>> print(how_to_help_sympy(SDE([x], [-abs(x - 1)], 1)))
    Abs(x - 1) changes form at x = 1: write it without abs on each side (it is x - 1 for x > 1) and give that side as the domain, e.g. domain=sympy.Interval.open(1, oo) (command line: --domain '(1, oo)')
    """  # noqa: E501
    from symsde import _timeout

    try:
        with _timeout.time_limit(seconds, "looking for a hint"):
            return _hint(sde) or _GENERIC_HELP
    except Exception:  # a hint is a courtesy: never a second failure ...
        left = _timeout.remaining()
        if left is not None and left <= 0:
            raise  # ... but an enclosing limit that has expired still ends the work
        return _GENERIC_HELP


def _hint(sde: Any) -> str | None:
    exprs = [*sde.drift, *sde.diffusion]
    if getattr(sde, "loss", None) is not None:
        exprs.append(sde.loss)
    state = list(sde.state)
    for e in exprs:
        for kink in sorted(e.atoms(sp.Abs, sp.sign, sp.Heaviside), key=sp.default_sort_key):
            arg = kink.args[0]
            for z in state:
                if not arg.has(z):
                    continue
                zeros = sp.solveset(arg, z, sp.S.Reals)
                if not isinstance(zeros, sp.FiniteSet) or not 1 <= len(zeros) <= 3:
                    continue
                c = max(zeros)
                right = sp.Interval.open(c, sp.oo)
                lin = sp.expand(arg.subs(z, c + 1))
                side = arg if lin.is_positive else -arg if lin.is_negative else None
                word = type(kink).__name__.lower()
                inside = "" if side is None or word != "abs" else (
                    f" (it is {sp.expand(side)} for {z} > {c})")
                return (f"{kink} changes form at {z} = {c}: write it without {word} on each "
                        f"side{inside} and give that side as the domain, e.g. "
                        f"domain=sympy.Interval.open({c}, oo) (command line: --domain "
                        f"'{_cli_interval(right)}')")
        if e.has(sp.Piecewise, sp.Min, sp.Max):
            return ("a piecewise, Min or Max coefficient: derive one piece at a time, giving "
                    "each piece's interval as domain= (command line: --domain)")
    dom = real_interval(sde)
    if dom is not None:
        return real_interval_hint(state[0], dom)
    return None


def real_interval(sde: Any) -> sp.Interval | None:
    """For a one-dimensional SDE whose coefficients are real (and continuous) only on a
    proper interval of the line, that interval (``acos(sqrt(x))``: :math:`[0, 1]`); else
    None. SymPy's ``continuous_domain`` decides; a union of intervals (a pole such as
    ``1/x``) gives None.

    Examples
    --------
    >>> import sympy as sp
    >>> from symsde import SDE
    >>> x = sp.Symbol("x", real=True)
    >>> real_interval(SDE([x], [-sp.asin(2 * x)], 1))
    Interval(-1/2, 1/2)
    >>> real_interval(SDE([x], [-x], 1)) is None
    True
    """
    from sympy.calculus.util import continuous_domain

    state = list(sde.state)
    if len(state) != 1:
        return None
    exprs = [*sde.drift, *sde.diffusion]
    if getattr(sde, "loss", None) is not None:
        exprs.append(sde.loss)
    dom: sp.Set = sp.S.Reals
    for e in exprs:
        if e.has(state[0]):
            dom = dom & continuous_domain(e, state[0], sp.S.Reals)
    if isinstance(dom, sp.Interval) and dom != sp.Interval(-sp.oo, sp.oo):
        return dom
    return None


def real_interval_hint(x: sp.Symbol, dom: sp.Interval) -> str:
    """The clause that tells the user to give ``dom`` as the state space."""
    inner = sp.Interval.open(dom.start, dom.end)
    return (f"the coefficients are real only for {x} in {_cli_interval(dom)}: "
            "give that state space, e.g. SDE(..., domain=sympy.Interval.open("
            f"{dom.start}, {dom.end})) (command line: --domain "
            f"'{_cli_interval(inner)}')")


#: Longest domain text :func:`parse_domain` reads (a product of a few intervals with
#: short endpoint expressions is far shorter).
MAX_DOMAIN_CHARS = 400

_INFINITIES = {"oo": sp.oo, "+oo": sp.oo, "-oo": -sp.oo, "inf": sp.oo, "+inf": sp.oo,
               "-inf": -sp.oo, "infinity": sp.oo, "-infinity": -sp.oo}
_REALS_WORDS = {"R", "reals", "Reals"}

_SEPARATORS = ("*", "x", "\N{MULTIPLICATION SIGN}")
_DOMAIN_HELP = ("write intervals such as (0, oo), [0, 1], (-oo, 0] or R, one per state "
                "variable, joined by x for a product: [0, 1] x (0, oo)")


def _domain_error(text: str, problem: str) -> InputError:
    shown = text if len(text) <= 60 else text[:57] + "..."
    return InputError(f"domain {shown!r}: {problem}; {_DOMAIN_HELP}")


def _endpoint(raw: str, text: str, params: Mapping[str, sp.Symbol],
              state_names: frozenset[str]) -> sp.Expr:
    from symsde.parsing import parse_expression

    token = raw.strip()
    if re.fullmatch(r"[A-Za-z_]\w*", token) and token in state_names:
        raise _domain_error(text, f"end {token!r} is a state variable; an end must be a "
                                  "number or a parameter expression")
    if token.lower() in _INFINITIES:
        return _INFINITIES[token.lower()]
    if not token:
        raise _domain_error(text, "an interval has an empty end")
    try:
        value = parse_expression(token, params, "domain end")
    except ParseError as exc:
        raise _domain_error(text, f"end {token!r} is not a number or parameter expression "
                                  f"({' '.join(str(exc).split())[:100]})") from None
    if value.is_real is False or value.has(sp.I):
        raise _domain_error(text, f"end {token!r} is not real")
    if value.is_number and not value.is_finite:
        raise _domain_error(text, f"end {token!r} is not finite (write oo for infinity)")
    return value


def _split_factors(text: str) -> list[tuple[str, str, str, str]]:
    """``[(open, left, right, close), ...]``; ``("R", "", "", "")`` for the whole line."""
    out: list[tuple[str, str, str, str]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        word = re.match(r"[A-Za-z]+", text[i:])
        if word and word.group() in _REALS_WORDS:
            out.append(("R", "", "", ""))
            i += word.end()
        elif i < n and text[i] in "([":
            depth, j, comma = 0, i, -1
            while j < n:
                c = text[j]
                if c in "([":
                    depth += 1
                elif c in ")]":
                    depth -= 1
                    if depth == 0:
                        break
                elif c == "," and depth == 1:
                    if comma >= 0:
                        raise _domain_error(text, "an interval has more than two ends")
                    comma = j
                j += 1
            if j >= n:
                raise _domain_error(text, "a bracket is not closed")
            if comma < 0:
                raise _domain_error(text, "an interval needs two ends separated by a comma")
            out.append((text[i], text[i + 1:comma], text[comma + 1:j], text[j]))
            i = j + 1
        else:
            found = text[i:i + 10] if i < n else "the end of the text"
            raise _domain_error(text, f"expected an interval at {found!r}")
        while i < n and text[i].isspace():
            i += 1
        if i == n:
            return out
        if text[i] not in _SEPARATORS:
            raise _domain_error(text, f"unexpected {text[i:i + 10]!r} after an interval")
        i += 1


def parse_domain(text: str, state: Iterable[sp.Symbol],
                 params: Iterable[sp.Symbol] | Mapping[str, sp.Symbol] = ()
                 ) -> sp.Interval | sp.ProductSet:
    """Read a state space written as text, without evaluating it.

    The whitelist: an interval is ``(a, b)``, ``[a, b]``, ``(a, b]`` or ``[a, b)``, or
    ``R`` / ``reals`` for :math:`(-\\infty, \\infty)`; several are joined by ``x``, ``*`` or
    ``×`` into a product :math:`I_1 \\times \\dots \\times I_d`, one per state variable
    (a single interval in several dimensions applies to every variable, as in
    :class:`~symsde.sde.SDE`). An end is ``oo``/``-oo`` (also ``inf``) or a real constant or
    parameter expression read by :func:`symsde.parsing.parse_expression` over ``params``
    (never over the state). An infinite end is always open.

    Parameters
    ----------
    text : str
        The domain, e.g. ``"(0, oo)"`` or ``"[0, 1] x (0, oo)"``.
    state : sequence of sympy.Symbol
        The state variables (their number fixes the number of factors).
    params : sequence of sympy.Symbol or mapping of names to symbols
        Parameters an end may use, e.g. ``L`` in ``"[0, L]"``.

    Returns
    -------
    sympy.Interval or sympy.ProductSet
        An Interval in one dimension, a ProductSet of intervals otherwise.

    Raises
    ------
    InputError
        One line saying what is wrong and how to write a domain.

    Examples
    --------
    >>> import sympy as sp
    >>> x, y = sp.symbols("x y", real=True)
    >>> parse_domain("(0, oo)", [x])
    Interval.open(0, oo)
    >>> parse_domain("[0, 1] x (-oo, 0]", [x, y])
    ProductSet(Interval(0, 1), Interval(-oo, 0))
    >>> parse_domain("__import__('os')", [x])
    Traceback (most recent call last):
    ...
    symsde.errors.InputError: domain "__import__('os')": expected an interval at '__import__'; write intervals such as (0, oo), [0, 1], (-oo, 0] or R, one per state variable, joined by x for a product: [0, 1] x (0, oo)
    """  # noqa: E501
    from symsde.domains import normalize_domain

    if not isinstance(text, str):
        raise InputError(f"domain must be text such as '(0, oo)', got {_describe(text)}")
    states = list(state)
    if not states or not all(isinstance(s, sp.Symbol) for s in states):
        raise InputError("state must be a non-empty list of SymPy symbols")
    if len(text) > MAX_DOMAIN_CHARS:
        raise _domain_error(text, f"longer than {MAX_DOMAIN_CHARS} characters")
    if not text.strip():
        raise _domain_error(text, "empty")
    known = ({s.name: s for s in params} if not isinstance(params, Mapping)
             else dict(params))
    for s in states:
        known.pop(s.name, None)
    parts: list[sp.Interval] = []
    names = frozenset(s.name for s in states)
    factors = _split_factors(text)
    ends = [(_endpoint(left, text, known, names), _endpoint(right, text, known, names))
            if opening != "R" else (-sp.oo, sp.oo)
            for opening, left, right, _closing in factors]
    for (opening, _left, _right, closing), (a, b) in zip(factors, ends, strict=True):
        if opening == "R":
            parts.append(sp.Interval(-sp.oo, sp.oo))
            continue
        if (a == -sp.oo and opening == "[") or (b == sp.oo and closing == "]"):
            raise _domain_error(text, "an infinite end cannot be closed; use ( or ) there")
        if a == sp.oo or b == -sp.oo:
            raise _domain_error(text, f"the interval from {a} to {b} is empty")
        order = sp.simplify(b - a)
        if order.is_extended_positive is False:
            raise _domain_error(text, f"the left end {a} is not below the right end {b}")
        parts.append(sp.Interval(a, b, left_open=opening == "(", right_open=closing == ")"))
    if len(parts) not in (1, len(states)):
        names = ", ".join(s.name for s in states)
        plural = "s" if len(states) > 1 else ""
        raise _domain_error(text, f"{len(parts)} intervals for {len(states)} state "
                                  f"variable{plural} ({names}): give {len(states)}, one per "
                                  "state variable in that order, or one for all of them")
    try:
        normalize_domain(parts, states)
    except InputError as exc:
        raise _domain_error(text, str(exc).split(";")[0]) from None
    if len(parts) == 1 and len(states) == 1:
        return parts[0]
    return sp.ProductSet(*(parts * len(states) if len(parts) == 1 else parts))
