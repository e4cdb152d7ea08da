"""Reading the command line: parsers, option types and the names an SDE is written in.

Shared by the commands (:mod:`symsde.cli`); expressions are read by :mod:`symsde.parsing`,
never evaluated as Python.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import TYPE_CHECKING, Any, NoReturn

from symsde.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import sympy as sp


DEFAULT_TIMEOUT = 60.0


MAX_TIMEOUT = 1e6


def _shown(text: str, limit: int = 40) -> str:
    """``text`` quoted for a one-line message, cut to ``limit`` characters."""
    return repr(text if len(text) <= limit else text[:limit - 3] + "...")


def _ascii_number(text: str, kind: str) -> str:
    """Refuse what ``float``/``int`` would read but no one types: other scripts' digits
    (Arabic-Indic, full-width) and numbers too long to be meant."""
    if not text.isascii() or len(text.strip()) > 30:
        raise argparse.ArgumentTypeError(
            f"{_shown(text)} is not {kind}; write it with ASCII digits, at most 30 of them")
    return text


def _timeout_arg(text: str) -> float:
    """``--timeout``: a finite number of seconds in (0, MAX_TIMEOUT]."""
    try:
        value = float(_ascii_number(text, "a number of seconds"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{_shown(text)} is not a number of seconds") from None
    if not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(
            f"give a number of seconds > 0 and at most {MAX_TIMEOUT:g}, got {_shown(text)}")
    return value


def _whole_number(text: str, low: int, high: int | None, what: str) -> int:
    try:
        value = int(_ascii_number(text, "a whole number"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{_shown(text)} is not a whole number") from None
    if value < low or (high is not None and value > high):
        limits = f">= {low}" if high is None else f"from {low} to {high}"
        raise argparse.ArgumentTypeError(f"{what} is a whole number {limits}, got "
                                         f"{_shown(text)}")
    return value


def _seed_arg(text: str) -> int:
    """``--seed``: a whole number >= 0."""
    return _whole_number(text, 0, None, "a seed")


def _workers_arg(text: str) -> int:
    """``--workers``: a whole number of processes from 1 to 64."""
    return _whole_number(text, 1, 64, "workers")


def _add_output_options(p: argparse.ArgumentParser, timings: bool) -> None:
    p.add_argument("--output", metavar="FILE",
                   help="also write the JSON document to FILE, atomically (all or nothing)")
    if timings:
        p.add_argument("--timings", action="store_true",
                       help="put timings (seconds) in the JSON; without them the same command "
                            "gives byte-identical JSON")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit code 2."""

    def error(self, message: str) -> NoReturn:
        raise InputError(f"{message} (see '{self.prog} --help')")

    def _print_message(self, message: str, file: Any = None) -> None:
        # argparse swallows OSError here; a help text that cannot reach a full or closed
        # standard output must end with the same one line as any other result.
        if message:
            file = sys.stderr if file is None else file  # as argparse's own default
            print(message, end="", file=file)


class _ExpressionArgsParser(_Parser):
    """Reads ``--drift -x`` as an expression: a single-dash word that is no option is a value."""

    def _parse_optional(self, arg_string: str) -> Any:
        if (arg_string.startswith("-") and not arg_string.startswith("--")
                and arg_string not in self._option_string_actions):
            return None
        return super()._parse_optional(arg_string)


def _symbols(args: argparse.Namespace) -> tuple[list[sp.Symbol], dict[str, sp.Expr],
                                                  dict[sp.Symbol, sp.Expr]]:
    """The state symbols, the name table for the parser and the parameters' values."""
    import sympy as sp

    from symsde.inputs import check_name
    from symsde.parsing import parse_name, parse_number

    names = [check_name(parse_name(n, "state name"), "state name")
             for n in args.state.split(",")]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f"state name {dup!r} appears twice in --state; list each variable once")
    state = [sp.Symbol(n, real=True) for n in names]
    table: dict[str, sp.Expr] = {s.name: s for s in state}
    values: dict[sp.Symbol, sp.Expr] = {}
    for item in args.param:
        name, sep, value = item.partition("=")
        name = parse_name(name, "parameter name")
        if name in table:
            kind = "a state variable" if table[name] in state else "declared twice"
            raise InputError(f"parameter {name!r} is {kind}; give each name one role")
        sym = sp.Symbol(name, positive=True)
        table[name] = sym
        if sep:
            values[sym] = parse_number(value, f"value of parameter {name}")
            # Read the name as its value: a positive symbol would contradict a value <= 0
            # (sqrt(s**2) is s for positive s, but |s| for s = -1).
            table[name] = values[sym]
    return state, table, values


def _subs(value: Any, values: dict[sp.Symbol, sp.Expr]) -> Any:
    if isinstance(value, list):
        return [_subs(v, values) for v in value]
    return value.subs(values) if values else value


def _cli_count(text: str, what: str, lo: int) -> int:
    from symsde.parsing import parse_number

    v = parse_number(text, what)
    if not v.is_integer or int(v) < lo:
        raise InputError(f"{what} must be a whole number >= {lo}, got {text!r}")
    return int(v)


def _float(value: sp.Expr, what: str) -> float:
    """A finite float from a parsed number, or a clear error (never an OverflowError)."""
    try:
        f = float(value.evalf(20))
    except (OverflowError, TypeError, ValueError):
        f = math.inf
    if not math.isfinite(f) or abs(f) > 1e300:
        raise InputError(f"{what} {value} is not a finite floating-point number (beyond "
                         "1e300 in size); give a smaller value")
    return f


def _one_line(text: str) -> str:
    return " ".join(text.split())
