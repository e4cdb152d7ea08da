"""The one front door of the Python API (issue 15, classes 1, 2, 8, 10)."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
import sympy.parsing.sympy_parser as sympy_parser

from symsde import SDE, ito_lemma, stationary_density
from symsde.errors import (
    InputError,
    NoStationaryDensityError,
    ParseError,
    SymsdeError,
)
from symsde.inputs import RESERVED_NAMES, as_entries, as_expression, check_name
from symsde.linear import (
    euler_chain_moments,
    even_density_variance,
    normal_expectation,
    quadratic_expectation,
)
from symsde.parsing import parse_expression
from symsde.stattests import density_cdf, ks_test

x = sp.Symbol("x", real=True)
y = sp.Symbol("y", real=True)
PAYLOAD = "__import__('os').system('touch {marker}')"
#: Strings these tests hand to the API (SymPy itself sympifies constant strings of its own,
#: e.g. unit names when sympy.physics loads; those are not user data).
USER: set[str] = set()


def u(text: str) -> str:
    USER.add(text)
    return text


@pytest.fixture
def no_eval(monkeypatch: pytest.MonkeyPatch) -> None:
    """A string of ours reaching SymPy's evaluating parser (or sympify) fails the test."""
    original_parse = sympy_parser.parse_expr
    original = sp.sympify

    def refuse(a: object, *args: object, **kwargs: object) -> object:
        if isinstance(a, str) and (a in USER or "__" in a):
            raise AssertionError(f"a string reached sympy's parser: {a!r}")
        return original_parse(a, *args, **kwargs)

    def strict_sympify(a: object, *args: object, **kwargs: object) -> object:
        if isinstance(a, str) and (a in USER or "__" in a):
            raise AssertionError(f"a string reached sympify: {a!r}")
        return original(a, *args, **kwargs)

    monkeypatch.setattr(sympy_parser, "parse_expr", refuse)
    monkeypatch.setattr(sp, "sympify", strict_sympify)


def _calls(payload: str) -> dict[str, object]:
    sde = SDE([x], [-x], 1)
    u(payload)
    return {
        "SDE drift": lambda: SDE([x], payload, 1),
        "SDE diffusion": lambda: SDE([x], [-x], payload),
        "SDE list entry": lambda: SDE([x], [payload], 1),
        "SDE loss": lambda: SDE([x], [-x], 1, loss=payload),
        "SDE learning rate": lambda: SDE([x], [-x], 1, learning_rate=payload),
        "langevin loss": lambda: SDE.langevin(payload, [x], 1),
        "langevin sigma": lambda: SDE.langevin(x**2, [x], payload),
        "sgd loss": lambda: SDE.sgd(payload, [x], 1, 1),
        "sgd eta": lambda: SDE.sgd(x**2, [x], payload, 1),
        "sgd noise": lambda: SDE.sgd(x**2, [x], 1, payload),
        "from_diffusion_matrix D": lambda: SDE.from_diffusion_matrix([x], [-x], payload),
        "from_diffusion_matrix drift": lambda: SDE.from_diffusion_matrix([x], payload, 1),
        "ito_lemma": lambda: ito_lemma(sde, payload),
        "density_cdf": lambda: density_cdf(payload, x),
        "ks_test": lambda: ks_test(np.zeros(10), payload, x),
        # found by the audit of issue 15: SymPy's subs sympified (ran) the string; the
        # operators and the linear-algebra helpers passed it to sympify too
        "SDE.subs old": lambda: sde.subs(payload, 1),
        "SDE.subs new": lambda: sde.subs(x, payload),
        "SDE.subs dict": lambda: sde.subs({x: payload}),
        "SDE.generator": lambda: sde.generator(payload),
        "SDE.current": lambda: sde.current(payload),
        "SDE.fokker_planck": lambda: sde.fokker_planck(payload),
        "euler_chain_moments dt": lambda: euler_chain_moments(sde, payload),
        "normal_expectation": lambda: normal_expectation(payload),
        "quadratic_expectation": lambda: quadratic_expectation(payload, [x], [[1]]),
        "even_density_variance": lambda: even_density_variance(payload, x),
    }


@pytest.mark.parametrize("name", list(_calls("")))
def test_no_api_entry_runs_a_string(name: str, tmp_path: Path, no_eval: None) -> None:
    marker = tmp_path / "M"
    call = _calls(PAYLOAD.format(marker=marker))[name]
    with pytest.raises(ParseError):
        call()  # type: ignore[operator]
    assert not marker.exists()


@pytest.mark.parametrize("payload", ["open(chr(77), chr(119))", "x.__class__", "[].pop()",
                                     "lambda: 1", "(1).__class__.__base__"])
def test_other_payloads_are_refused(payload: str, no_eval: None) -> None:
    for call in _calls(payload).values():
        with pytest.raises(SymsdeError):
            call()  # type: ignore[operator]


def test_stationary_test_needs_a_stationary_density() -> None:
    from symsde.stattests import stationary_test

    with pytest.raises(InputError, match=r"stationary must be the result of "
                                          r"symsde\.stationary_density, got"):
        stationary_test(np.zeros(10), u(PAYLOAD))


def test_operator_and_subs_strings_are_read_over_the_sde(no_eval: None) -> None:
    a = sp.Symbol("a", positive=True)
    sde = SDE([x], [-a * x], 1)
    assert sde.subs(u("(a)"), u("(1/2)")).drift[0] == -x / 2
    assert sde.subs({a: u("(2)")}).drift[0] == -2 * x
    assert sp.expand(sde.generator(u("x**2")) - (1 - 2 * a * x**2)) == 0  # by hand
    assert sp.simplify(sde.fokker_planck(u("exp(-a*x**2)"))) == 0  # OU stationary law
    h = sp.Symbol("h", positive=True)
    _, S = euler_chain_moments(SDE([x], [-x], 1), u("(1/10)"))
    # Euler chain X' = (1 - h) X + sqrt(h) Z: S = h / (1 - (1 - h)^2) at h = 1/10
    assert sp.simplify(S[0, 0] - (h / (1 - (1 - h) ** 2)).subs(h, sp.Rational(1, 10))) == 0


def test_strings_are_parsed_over_the_known_symbols(no_eval: None) -> None:
    s = sp.Symbol("sigma", positive=True)
    sde = SDE([x], u("x - x**3"), s * sp.sqrt(1 + x**2))
    assert sde.drift[0] == x - x**3
    # the parsed x is the state symbol itself (same assumptions), sigma from the diffusion
    assert SDE([x], u("-sigma*x"), s).drift[0] == -s * x
    assert SDE.langevin(u("x**4/4 - x**2/2"), [x], s).drift[0] == x - x**3
    assert SDE.sgd(u("x**2/2"), [x], u("1/10"), 1).diffusion_matrix[0, 0] == sp.Rational(1, 10)
    d = ito_lemma(SDE([x], [-x], 1), u("x**2"))
    assert sp.expand(d.drift[0] - (1 - 2 * x**2)) == 0  # 2x(-x) + (1/2) 2
    F = density_cdf(u("exp(-x**2/2)"), x)
    assert abs(float(F(np.array([0.0]))[0]) - 0.5) < 1e-9


def test_unknown_names_say_how_to_declare_them() -> None:
    with pytest.raises(ParseError, match=r"unknown name 'sigma'.*sympy.Symbol.*known names: x"):
        SDE([x], [-x], "sigma")


@pytest.mark.parametrize(("value", "message"), [
    (None, "drift is None"),
    ({}, "drift is {} \\(dict\\)"),
    (sp.Eq(x, 1), "condition"),
    (sp.sin, "function sin"),
    (float("nan"), "not a finite number"),
    (1 + 2j, "complex"),
    (True, "drift is True"),
    ([[[x]]], "nested more than two levels"),
])
def test_wrong_types_are_input_errors(value: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        SDE([x], value, 1)


def test_numbers_become_exact_sympy_numbers() -> None:
    from fractions import Fraction

    assert as_expression(3) == sp.Integer(3)
    assert as_expression(Fraction(1, 3)) == sp.Rational(1, 3)
    assert as_expression(np.float64(0.5)) == sp.Float(0.5)
    assert as_entries(np.array([1.0, 2.0])) == [sp.Float(1.0), sp.Float(2.0)]
    with pytest.raises(InputError, match="digits"):
        as_expression(10**1500)


@pytest.mark.parametrize("name", ["e", "pi", "E", "I", "arctan", "arcsin", "arccos", "mpf",
                                  "select", "lambda", "if", "numpy", "exp"])
def test_reserved_names_typed_as_text_are_refused(name: str) -> None:
    # As text (the command line) the name is ambiguous and refused; as a SymPy symbol it is
    # not, and generated code renames it (tests/test_fused.py checks the numbers).
    from symsde.inputs import check_name

    assert name in RESERVED_NAMES or name in {"lambda", "if"}
    with pytest.raises(ParseError, match=r"reserved|keyword"):
        check_name(name, "state name")
    s = sp.Symbol(name, real=True)
    assert SDE([s], [-s], 1).drift[0] == -s


def test_the_reserved_names_come_from_the_printers() -> None:
    # a name is reserved because a printer writes it: check a few against the printers
    from sympy.printing.numpy import NumPyPrinter
    from sympy.printing.pycode import MpmathPrinter

    assert "arctan" in NumPyPrinter().doprint(sp.atan(x))
    assert "mpf" in MpmathPrinter().doprint(sp.Rational(1, 3) * x)
    assert {"arctan", "mpf", "select"} <= RESERVED_NAMES
    # ordinary names are free
    for name in ("x", "y", "theta", "sigma_1", "velocity", "eta"):
        assert check_name(name) == name


def test_the_api_raises_ours_not_attribute_errors() -> None:
    with pytest.raises(InputError, match="sde must be an SDE"):
        stationary_density("x")  # type: ignore[arg-type]
    with pytest.raises(ParseError, match="symbols must be SymPy symbols, got the string 'x'"):
        parse_expression("x", ["x"])  # type: ignore[list-item]
    with pytest.raises(InputError, match="drift is None"):
        SDE([x], None, 1)
    with pytest.raises(InputError, match="sde must be an SDE"):
        ito_lemma("x", x)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="state is the string"):
        SDE("x", [-x], 1)


@pytest.mark.parametrize(("drift", "diffusion"), [
    (sp.Abs(1 - x), 1),
    (sp.sinh(sp.asin(2 * x)), 1),
    (-x * sp.sign(x) + sp.Abs(x) - sp.Abs(x - 1), 1),
])
def test_stationary_density_lets_only_our_errors_out(drift: sp.Expr, diffusion: object) -> None:
    # a clear answer of ours (exit 1), or a density; anything else fails the test
    with contextlib.suppress(SymsdeError):
        stationary_density(SDE([x], [drift], diffusion))


def test_stationary_density_names_where_the_coefficients_are_real() -> None:
    # acos(sqrt(x)) is real on [0, 1] only: said before SymPy fails on the rest of the line
    loss = sp.acos(sp.sqrt(x))
    with pytest.raises(NoStationaryDensityError,
                       match=r"real only for x in \(0, 1\): give that state space"):
        stationary_density(SDE.langevin(loss, [x], 1))


@pytest.mark.parametrize("exc", [TypeError("Invalid comparison of non-real zoo"),
                                 ValueError("x"), ZeroDivisionError()])
def test_stationary_density_maps_sympy_failures(exc: Exception,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import symsde.stationary as stationary

    def fail(sde: SDE) -> sp.Expr:
        raise exc

    monkeypatch.setattr(stationary, "_zero_flux_1d", fail)
    with pytest.raises(NoStationaryDensityError,
                       match=f"SymPy could not complete a step while deriving the stationary "
                             f"density \\({type(exc).__name__}"):
        stationary_density(SDE([x], [-x], 1))


def test_the_package_never_calls_sympify_on_a_string_from_the_api(no_eval: None,
                                                                  tmp_path: Path) -> None:
    # the whole public path with string inputs, under the strict sympify of ``no_eval``
    os.chdir(tmp_path)
    sde = SDE([x, y], u("[-x, -2*y]"), u("[1, 1]"))
    st = stationary_density(sde)
    assert st.method in ("potential", "gaussian-lyapunov")
    assert os.listdir(tmp_path) == []


def test_the_no_eval_guard_would_catch_a_sympify(no_eval: None) -> None:
    # the guard itself can fail: a string of ours given to sympify is caught
    with pytest.raises(AssertionError, match="reached sympify"):
        sp.sympify(u("x + 1"))
    with pytest.raises(AssertionError, match="reached sympy's parser"):
        sympy_parser.parse_expr(u("x + 2"))


# --- parse_domain: the CLI's --domain text -------------------------------------------
# Expected sets are built here from SymPy's own constructors, never by parse_domain.
L = sp.Symbol("L", positive=True)


@pytest.mark.parametrize("text, dims, expected", [
    ("(0, oo)", 1, sp.Interval.open(0, sp.oo)),
    ("[0, 1]", 1, sp.Interval(0, 1)),
    ("(0, 1]", 1, sp.Interval.Lopen(0, 1)),
    (" [ -1 , 1/2 ) ", 1, sp.Interval.Ropen(-1, sp.Rational(1, 2))),
    ("(-inf, 0]", 1, sp.Interval(-sp.oo, 0)),
    ("R", 1, sp.Interval(-sp.oo, sp.oo)),
    ("(0, sqrt(2))", 1, sp.Interval.open(0, sp.sqrt(2))),
    ("[0, L]", 1, sp.Interval(0, L)),
    ("[0, 1] x (0, oo)", 2, sp.ProductSet(sp.Interval(0, 1), sp.Interval.open(0, sp.oo))),
    ("R * [0, 1]", 2, sp.ProductSet(sp.Interval(-sp.oo, sp.oo), sp.Interval(0, 1))),
    ("(0, 1)", 2, sp.ProductSet(sp.Interval.open(0, 1), sp.Interval.open(0, 1))),
])
def test_parse_domain_reads_intervals_and_products(text: str, dims: int,
                                                   expected: sp.Set, no_eval: None) -> None:
    from symsde.inputs import parse_domain

    got = parse_domain(u(text), [x, y][:dims], [L])
    assert got == expected
    assert type(got) is type(expected)
    # The result is accepted by SDE(domain=...) and means the same interval there.
    assert SDE([x, y][:dims], [0] * dims, sp.eye(dims), domain=got) is not None


@pytest.mark.parametrize("text, phrase", [
    (PAYLOAD.format(marker="DOMAIN_MARKER"), "expected an interval"),
    ("lambda: 0", "expected an interval"),
    ("(0, oo", "bracket is not closed"),
    ("(0, ()", "bracket is not closed"),
    ("(0, 1, 2)", "more than two ends"),
    ("((0, 1))", "two ends separated by a comma"),
    ("[0, oo]", "infinite end cannot be closed"),
    ("(1, 0)", "not below"),
    ("(0, 0)", "not below"),
    ("(0, x)", "is a state variable"),
    ("(0, z)", "unknown name 'z'"),
    ("(0, 1) x (0, 1)", "2 intervals for 1"),
    ("(0, 1) + (2, 3)", "unexpected '+ (2, 3)'"),
    ("", "empty"),
    ("   ", "empty"),
    ("[0, 1] x", "expected an interval at 'the end of the text'"),
    ("(0, 1e999999)", "not a finite number"),
    ("(0, 9**9**9)", "too large"),
    ("(0, exp(1000000))", "exp of a number"),
    ("(0, nan)", "not a finite number"),
    ("(0, I)", "unknown name 'I'"),
    ("(0, [1])", "not a list"),
    ("(a.b, 1)", "attribute access"),
    ("(0, 1)\x00", "unexpected"),
    ("(0, 1)" * 100, "longer than 400"),
])
def test_parse_domain_refuses_anything_else(text: str, phrase: str, no_eval: None,
                                            tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from symsde.inputs import parse_domain

    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=re.escape(phrase)) as info:
        parse_domain(u(text), [x], [L])
    message = str(info.value)
    assert "\n" not in message and "write intervals such as (0, oo)" in message
    assert not (tmp_path / "DOMAIN_MARKER").exists()


@pytest.mark.parametrize("value", [3, None, sp.Interval(0, 1), b"(0, 1)"])
def test_parse_domain_wants_text(value: object) -> None:
    from symsde.inputs import parse_domain

    with pytest.raises(InputError, match="domain must be text"):
        parse_domain(value, [x])  # type: ignore[arg-type]


# --- class 8: SymPy failures come with a hint that says what to change ------------------
def test_hints_name_the_real_domain_or_the_kink() -> None:
    from symsde.inputs import how_to_help_sympy

    # log(1 - x^2) is real for |x| < 1 only (by hand): the hint gives that interval
    hint = how_to_help_sympy(SDE([x], [sp.log(1 - x**2)], 1))
    assert "real only for x in (-1, 1)" in hint and "--domain '(-1, 1)'" in hint
    # sign(x + 2) jumps at x = -2
    hint = how_to_help_sympy(SDE([x], [-sp.sign(x + 2)], 1))
    assert "changes form at x = -2" in hint and "Interval.open(-2, oo)" in hint
    hint = how_to_help_sympy(SDE([x], [sp.Piecewise((-x, x > 0), (1, True))], 1))
    assert "one piece at a time" in hint
    # nothing to say: the general advice, not a wrong specific one
    assert how_to_help_sympy(SDE([x], [-x], 1)).startswith("symsde cannot decide")
