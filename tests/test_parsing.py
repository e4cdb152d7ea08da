"""Tests of the whitelist parser :mod:`symsde.parsing`."""

from __future__ import annotations

import builtins
from typing import Any

import pytest
import sympy as sp

from symsde.errors import InputError, ParseError
from symsde.parsing import (
    MAX_EXPRESSION_LENGTH,
    parse_expression,
    parse_matrix,
    parse_name,
    parse_number,
)

x, y = sp.symbols("x y", real=True)
sigma = sp.Symbol("sigma", positive=True)
SYMS = {"x": x, "y": y, "sigma": sigma}


def is_zero(expr: sp.Expr) -> bool:
    return sp.simplify(expr) == 0


# -- accepted input ----------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x - x**3", x - x**3),
        ("-x", -x),
        ("+x", x),
        ("0.5*x", x / 2),
        ("1e-3", sp.Rational(1, 1000)),
        ("1.5e3", sp.Integer(1500)),
        ("1_000", sp.Integer(1000)),
        ("exp(-x**2/sigma**2)", sp.exp(-(x**2) / sigma**2)),
        ("sqrt(1 + x**2)", sp.sqrt(1 + x**2)),
        ("log(1 + x**2) + sin(x)*cos(y) - tanh(x)", sp.log(1 + x**2) + sp.sin(x) * sp.cos(y)
         - sp.tanh(x)),
        ("abs(x) + Abs(y)", sp.Abs(x) + sp.Abs(y)),
        ("pi*E", sp.pi * sp.E),
        ("x**(1/3)", x ** sp.Rational(1, 3)),
        ("2**0.5", sp.sqrt(2)),
        ("  x  ", x),
    ],
)
def test_parse_expression_values(text: str, expected: sp.Expr) -> None:
    assert is_zero(parse_expression(text, SYMS) - expected)


def test_decimals_are_exact_and_a_wrong_float_reading_is_detectable() -> None:
    v = parse_expression("0.1", {})
    assert v == sp.Rational(1, 10)
    assert v.is_Rational
    assert not is_zero(sp.Float(0.1, 30) - sp.Rational(1, 10))


def test_symbols_keep_their_assumptions() -> None:
    e = parse_expression("sqrt(sigma**2)", SYMS)
    assert e == sigma
    assert parse_expression("x", [x]) is x


def test_parse_matrix_shapes() -> None:
    assert parse_matrix("[-x, -2*y]", SYMS) == [-x, -2 * y]
    assert parse_matrix("[[1, 0], [x, 2]]", SYMS) == [[1, 0], [x, 2]]
    assert parse_matrix("(x, y)", SYMS) == [x, y]
    assert parse_matrix("sigma", SYMS) == sigma


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1/3", sp.Rational(1, 3)), ("0.5", sp.Rational(1, 2)), ("sqrt(2)", sp.sqrt(2)),
     ("pi/4", sp.pi / 4), ("-2", sp.Integer(-2))],
)
def test_parse_number(text: str, expected: sp.Expr) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize("name", ["x", "sigma_1", "Theta", "eta2"])
def test_parse_name_valid(name: str) -> None:
    assert parse_name(f" {name} ") == name


# -- rejected input, with a message that says what to do ----------
@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("x^2", "did you mean x**2"),
        ("2x", "multiplication must be written with '*'"),
        ("(x + 1", "brackets are unbalanced"),
        ("z + 1", "unknown name 'z'; declare it with --state or --param"),
        ("e**x", "for Euler's number write E"),
        ("exp", "exp is a function; call it"),
        ("x.real", "attribute access"),
        ("lambda: 1", "character ':'"),
        ("lambda x=1: x", "character ':'"),
        ("x[0]", "indexing"),
        ("x < 1", "comparisons are not allowed"),
        ("x and y", "and/or are not allowed"),
        ("x if y else 1", "conditional expressions"),
        ("{x: 1}", "which no expression uses"),
        ("[i for i in x]", "comprehensions are not allowed"),
        ("f(x)", "function 'f' is not allowed; allowed functions:"),
        ("exp(x, 2)", "takes exactly one argument"),
        ("exp(x=1)", "takes no keyword arguments"),
        ("(1)(2)", "for a product write '*' between them"),
        ("(x)(y)", "x is not a function; for a product write x*(...)"),
        ("x // 2", "the operator // is not allowed"),
        ("x % 2", "the operator % is not allowed"),
        ("x << 2", "the operator << is not allowed"),
        ("x @ y", "which no expression uses"),
        ("~x", "which no expression uses"),
        ("not x", "only unary + and - are allowed"),
        ("x / 0", "division by zero"),
        ("x / (y - y)", "division by zero"),
        ("0**-1", "0 to a negative power is undefined"),
        ("x**100", "exponent 100 is too large"),
        ("x**64.5", "too large"),
        ("1" * 31, "more than 30 digits"),
        ("1e400", "is not a finite number"),
        ("1e-400", "out of range"),
        ("1e-99999", "out of range"),
        ("((10**30)**64)**64", "the limit is 2000"),
        ("sqrt(-1)*x", "sqrt(-1) is not a real number"),
        ("log(-2)", "is not a real number"),
        ("(-8)**(1/3)", "is not a real number"),
        ("1j*x", "complex literal"),
        ("True", "True is not a number"),
        ("None", "None is not a number"),
        ("__import__", "not allowed"),
        ("exp([x])", "a list cannot be an argument of exp"),
        ("[x] + 1", "a list cannot be an operand"),
        ("x−1", "type the ASCII minus"),
        ("2×x", "type '*' for multiplication"),
        ("σ*x", "spell Greek letters out"),
        ("x; y", "character ';'"),
        ("'x'", "character \"'\""),
        ("", "is empty"),
        ("   ", "is empty"),
    ],
)
def test_rejected_expressions(text: str, phrase: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_matrix(text, SYMS)
    assert phrase in str(info.value)


def test_single_expression_rejects_a_list() -> None:
    with pytest.raises(ParseError, match="must be a single expression, not a list"):
        parse_expression("[x, y]", SYMS)


def test_matrix_nested_too_deeply() -> None:
    with pytest.raises(ParseError, match="nested more than two levels"):
        parse_matrix("[[[x]]]", SYMS)


def test_size_limits() -> None:
    with pytest.raises(ParseError, match=f"the limit is {MAX_EXPRESSION_LENGTH}"):
        parse_expression("x+" * 1000 + "x", SYMS)
    with pytest.raises(ParseError, match="more than 400 parts"):
        parse_matrix("[" + ", ".join(["x"] * 450) + "]", SYMS)
    with pytest.raises(ParseError, match="nested more than 120 levels"):
        parse_expression("-" * 150 + "x", SYMS)
    # A long polynomial (a sum of 60 terms) is fine.
    poly = " + ".join(f"x**{k}" for k in range(1, 61))
    expected = sum(x**k for k in range(1, 61))
    assert is_zero(parse_expression(poly, SYMS) - expected)
    with pytest.raises(ParseError, match="must be a string"):
        parse_expression(3, SYMS)  # type: ignore[arg-type]


def test_parse_number_rejects_names_and_non_real_values() -> None:
    with pytest.raises(ParseError, match="a number is expected here"):
        parse_number("abc", "value of parameter sigma")
    with pytest.raises(ParseError, match="not a real number"):
        parse_number("sqrt(-2)")


@pytest.mark.parametrize(
    ("name", "phrase"),
    [
        ("", "empty"),
        ("1x", "not a valid name"),
        ("x-y", "not a valid name"),
        ("x__y", "double underscores"),
        ("exp", "reserved"),
        ("pi", "reserved"),
        ("lambda", "reserved"),
        ("σ", "non-ASCII character"),
    ],
)
def test_parse_name_rejects(name: str, phrase: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_name(name)
    assert phrase in str(info.value)


def test_parse_errors_are_input_errors_with_exit_code_2() -> None:
    assert issubclass(ParseError, InputError)
    assert ParseError.exit_code == 2


# -- no user string reaches sympify, eval or exec ----------
MALICIOUS = [
    "__import__('os').system('echo pwned')",
    "().__class__.__bases__[0].__subclasses__()",
    "exec('1')",
    "eval('x')",
    "open('/etc/passwd').read()",
    "lambda: 0",
    "x.__class__",
    "Symbol('x')",
    "S('x')",
]


@pytest.mark.parametrize("text", MALICIOUS)
def test_malicious_input_is_rejected(text: str) -> None:
    with pytest.raises(ParseError):
        parse_matrix(text, SYMS)


def test_parser_never_calls_sympify_eval_or_exec(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    def trap(name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            seen.append((name, args))
            raise AssertionError(f"{name} called with {args!r}")

        return fail

    monkeypatch.setattr(sp, "sympify", trap("sympy.sympify"))
    monkeypatch.setattr(sp, "parse_expr", trap("sympy.parse_expr"))
    monkeypatch.setattr(sp, "S", trap("sympy.S"))
    monkeypatch.setattr(builtins, "eval", trap("eval"))
    monkeypatch.setattr(builtins, "exec", trap("exec"))
    good = ["x - x**3 + 0.5*exp(-x)", "[[1, 0], [x, sqrt(1 + y**2)]]", "sigma**2/2"]
    for text in good:
        parse_matrix(text, SYMS)
    for text in MALICIOUS:
        with pytest.raises(ParseError):
            parse_matrix(text, SYMS)
    assert seen == []


def test_the_trap_itself_catches_a_sympify_call(monkeypatch: pytest.MonkeyPatch) -> None:
    # Negative control for the test above: the trap fires on a direct call.
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("sympify called")

    monkeypatch.setattr(sp, "sympify", fail)
    with pytest.raises(AssertionError, match="sympify called"):
        sp.sympify("x")
