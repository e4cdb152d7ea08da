"""The outside reading's examples of steps that held for the wrong reason now fail when
given the wrong premise or label that made them hold before."""

from __future__ import annotations

import pytest
import sympy as sp

from symsde.proof import Claim, Computed, Derivation, GroundingError
from symsde.proof.kernel import judge
from symsde.registry import load


def with_premise(name: str, step_id: str, source: str, wrong: Claim) -> str:
    """The verdict of ``step_id`` when the step ``source`` claims ``wrong`` instead."""
    (d,) = load([name])
    res = d.verify()
    effective = {r.step.id: r.effective_claim for r in res.steps}
    assert source in effective, f"{name} has no step {source!r}"
    effective[source] = wrong
    step = next(s for s in d.steps if s.id == step_id)
    ctx = d.context_for(step_id, effective)
    return judge(step, ctx, step.witness or d.witness, 0, d.name).verdict


def langevin_symbols():
    x = sp.Symbol("Phi", real=True)
    sigma = sp.Symbol("sigma", positive=True)
    C = sp.Symbol("C", real=True)
    return x, sigma, C, sp.Function("L"), sp.Function("p"), sp.Function("J")


def test_langevin_zero_flux_fails_from_a_current_of_seven() -> None:
    x, *_, J = langevin_symbols()
    assert with_premise("langevin", "zero-flux", "zero-current", Claim(J(x), 7)) == "fails"
    assert with_premise("langevin", "zero-flux", "zero-current", Claim(J(x), 0)) == "holds"


def test_langevin_exponentiate_fails_from_sigma_squared_log_p() -> None:
    x, sigma, C, L, p, _ = langevin_symbols()
    wrong = Claim(sigma**2 * sp.log(p(x)), -L(x) + C)  # the notes' 1/2 dropped
    assert with_premise("langevin", "solve-for-log", "integrate", wrong) == "fails"
    right = Claim(sigma**2 / 2 * sp.log(p(x)), -L(x) + C)
    assert with_premise("langevin", "solve-for-log", "integrate", right) == "holds"


@pytest.mark.parametrize("label", ["i_last_block", "exponent ratio", "M_up", "J_diffusion", "T"])
def test_a_value_step_with_a_bare_label_can_no_longer_be_written(label: str) -> None:
    d = Derivation("labels", "labels")
    with pytest.raises(GroundingError, match="bare name"):
        d.step("s", Claim(sp.Symbol(label), 4), "r", slide="S", check=Computed())
    with pytest.raises(GroundingError, match="bare name"):
        d.step("f", Claim(sp.Function("ratio")(sp.Symbol("N")), 4), "r", slide="S",
               check=Computed())


def test_every_step_of_every_derivation_is_grounded_and_premise_sensitive() -> None:
    for d in load():
        for r in d.verify().steps:
            if r.kind == "rule":
                assert r.premise_sensitive is True, (d.name, r.step.id)
            if r.kind == "computed":
                assert r.premise_sensitive is None
