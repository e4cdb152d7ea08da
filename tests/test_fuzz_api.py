"""Hypothesis fuzzing of the Python API (issue 15): whatever a caller passes, the answer
is a result or a :class:`~symsde.errors.SymsdeError`; no string runs; no hang.

(The command line has its own fuzzing in ``tests/test_properties_cli.py``.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symsde import SDE, ito_lemma, stationary_density
from symsde._timeout import time_limit
from symsde.errors import SymsdeError
from symsde.stattests import density_cdf

x = sp.Symbol("x", real=True)
y = sp.Symbol("y", real=True)
s = sp.Symbol("s", positive=True)


def profile(n: int) -> settings:
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


# Strings: typed formulas, Python payloads and noise.
pieces = st.sampled_from(["x", "y", "s", "1", "0", "2.5", "(", ")", "[", "]", ",", "+", "-",
                          "*", "/", "**", "^", "exp", "log", "sqrt", "abs", "sign", "acos",
                          "__import__", "('os')", ".system", "open", "chr(77)", "lambda",
                          ":", "'", "\"", " ", "e", "E", "pi", "1e400", "10**10**10",
                          "0**x", "\\n", "×", "x.__class__", "[]", "None", "{}"])
texts = st.one_of(st.lists(pieces, max_size=12).map("".join), st.text(max_size=40))
# Any Python value a caller might pass instead of an expression.
values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.complex_numbers(),
              texts, st.just(x), st.just(sp.Eq(x, 1)), st.just(sp.sin), st.just(sp.oo),
              st.just(sp.nan), st.just(object())),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner,
                                                                         max_size=2)),
    max_leaves=6)


def call(fn: Any) -> None:
    try:
        with time_limit(2, "a fuzzed API call"):
            fn()
    except SymsdeError:
        pass  # our answer; anything else fails the test


@profile(150)
@given(drift=values, diffusion=values)
def test_sde_takes_anything(drift: Any, diffusion: Any, tmp_path_factory: Any) -> None:
    cwd = tmp_path_factory.mktemp("fuzz")
    os.chdir(cwd)
    call(lambda: SDE([x], drift, diffusion))
    call(lambda: SDE.langevin(drift, [x], diffusion))
    call(lambda: SDE.from_diffusion_matrix([x], drift, diffusion))
    call(lambda: SDE.sgd(drift, [x], diffusion, 1))
    assert list(Path(cwd).iterdir()) == []  # no payload wrote a file


@profile(100)
@given(f=values, density=values)
def test_ito_lemma_and_densities_take_anything(f: Any, density: Any) -> None:
    sde = SDE([x], [-x], s)
    call(lambda: ito_lemma(sde, f))
    call(lambda: density_cdf(density, x, params={s: 1.0}, grid=np.linspace(-2, 2, 5)))


leaf = st.sampled_from(["x", "y", "s", "1", "2", "0.5", "pi", "0"])
grammar = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["exp", "log", "sqrt", "sin", "tanh", "abs", "sign", "acos",
                                   "asin", "sinh", "-"]), inner).map(lambda t: f"{t[0]}({t[1]})"),
    ),
    max_leaves=5,
)


@profile(40)
@given(first=grammar, second=grammar, noise=grammar)
def test_stationary_density_lets_only_our_errors_out(first: str, second: str,
                                                     noise: str) -> None:
    # Well-formed strings straight into the API: a density, or our error, in bounded time.
    def derive() -> None:
        sde = SDE([x, y], f"[{first}, {second}]", f"[{noise}, 1]")
        stationary_density(sde, integration_seconds=0.2)

    call(derive)


@profile(40)
@given(drift=grammar, noise=grammar)
def test_one_dimensional_stationary_density(drift: str, noise: str) -> None:
    call(lambda: stationary_density(SDE([x], drift.replace("y", "x"), noise.replace("y", "x")),
                                    integration_seconds=0.2))


# -- the entry points of issues 12 and 15 (domains, Stratonovich, moments, transition
# densities, schemes, workers, the Sphinx directive's readers) ---------------------------
t = sp.Symbol("t", positive=True)


@profile(80)
@given(drift=values, diffusion=values, domain=values, text=texts)
def test_new_entry_points_take_anything(drift: Any, diffusion: Any, domain: Any, text: str,
                                        tmp_path_factory: Any) -> None:
    from symsde import moment_equations, transition_density
    from symsde.inputs import parse_domain

    cwd = tmp_path_factory.mktemp("fuzz")
    os.chdir(cwd)
    ou = SDE([x], [-x], 1)
    call(lambda: SDE.from_stratonovich([x], drift, diffusion))
    call(lambda: SDE([x], [-x], 1, domain=domain))
    call(lambda: parse_domain(text, [x], [s]))
    call(lambda: parse_domain(domain, [x, y]))
    call(lambda: moment_equations(ou, drift, t))
    call(lambda: moment_equations(ou, [0], t, order=diffusion))
    call(lambda: transition_density(ou, drift, t))
    assert list(Path(cwd).iterdir()) == []


@profile(60)
@given(method=values, workers=values)
def test_schemes_and_workers_take_anything(method: Any, workers: Any) -> None:
    from symsde import simulate
    from symsde.schemes import derive_scheme

    sde = SDE([x], [-x], 1)
    call(lambda: derive_scheme(sde, method))
    call(lambda: simulate(sde, 0.0, n_steps=2, n_paths=4, workers=workers))


@profile(80)
@given(text=texts, symbols=texts)
def test_sphinx_readers_take_anything(text: str, symbols: str, tmp_path_factory: Any) -> None:
    from symsde.latex import LatexReadError
    from symsde.sphinx import check_claim, read_sde

    cwd = tmp_path_factory.mktemp("fuzz")
    os.chdir(cwd)
    for fn in (lambda: check_claim(text, symbols), lambda: read_sde(text, symbols),
               lambda: check_claim(text, "x real", sde=SDE([x], [-x], 1), kind="stationary")):
        try:
            with time_limit(2, "a fuzzed claim"):
                fn()
        except (SymsdeError, LatexReadError):
            pass  # the directive's own reading error, or ours
    assert list(Path(cwd).iterdir()) == []


# -- holes found by the audit of issue 15: SDE.subs and the operators took strings to
# SymPy's sympify; kinks on a state space reached SymPy's limits -------------------------
@profile(80)
@given(f=values, old=values, new=values)
def test_operators_and_subs_take_anything(f: Any, old: Any, new: Any,
                                          tmp_path_factory: Any) -> None:
    cwd = tmp_path_factory.mktemp("fuzz")
    os.chdir(cwd)
    sde = SDE([x], [-s * x], 1)
    call(lambda: sde.generator(f))
    call(lambda: sde.current(f))
    call(lambda: sde.fokker_planck(f))
    call(lambda: sde.subs(old, new))
    call(lambda: sde.subs({s: new}))
    assert list(Path(cwd).iterdir()) == []


domains = st.sampled_from([sp.Interval.open(0, sp.oo), sp.Interval.open(1, sp.oo),
                           sp.Interval.open(-1, 1), sp.Interval(0, 2),
                           sp.Interval.open(-sp.oo, 1)])


@profile(40)
@given(drift=grammar, noise=grammar, domain=domains)
def test_one_dimensional_stationary_density_on_a_domain(drift: str, noise: str,
                                                        domain: sp.Interval) -> None:
    call(lambda: stationary_density(SDE([x], drift.replace("y", "x"), noise.replace("y", "x"),
                                        domain), integration_seconds=0.2))
