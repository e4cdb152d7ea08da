"""The pytest plugin: each derivation step is a test item, failures show claim and slide."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

FAKE = textwrap.dedent(
    '''
    from functools import cache
    import sympy as sp
    from symsde.proof import Claim, Derivation, Identity, Witness

    @cache
    def derivation():
        x = sp.Symbol("x", real=True)
        d = Derivation("fake", "A fake derivation")
        d.step("true-step", Claim((x + 1)**2, x**2 + 2*x + 1), "expand", slide="Slide A",
               check=Identity())
        d.step("false-step", Claim((x + 1)**2, x**2 + 1), "forgot a term", slide="Slide B",
               check=Identity())
        return d
    '''
)


def test_steps_are_items_and_failures_show_latex_residual_and_slide(
    pytester: pytest.Pytester,
) -> None:
    pkg = pytester.mkpydir("derivations")
    (pkg / "fake.py").write_text(FAKE)
    result = pytester.runpytest_subprocess("derivations", "-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*fake::true-step PASSED*",
        "*fake::false-step FAILED*",
        "*step fake::false-step FAILS (slide: Slide B)*",
        "*claim (LaTeX): \\left(x + 1\\right)^{2} = x^{2} + 1*",
        "*residual:      2*x*",
    ])
