"""Verifying parts in worker processes gives exactly the verdicts of verifying here."""

from __future__ import annotations

import pytest
import sympy as sp

from symsde.registry import load, verify_parts

NAMES = ["langevin", "general_sde"]


def _verdicts(results):
    out = []
    for r in results:
        for s in r.steps:
            out.append((r.derivation.name, s.step.id, s.verdict, sp.srepr(s.residual),
                        s.witness_error, s.witness_points, s.independent_witness,
                        s.premise_sensitive, s.detail, s.notes))
    return out


def test_workers_agree_with_one_process() -> None:
    for d in load(NAMES):
        d._results.clear()
    results = verify_parts(NAMES, seed=3, workers=2)
    for r in results:
        r.notes()  # the text report leaves the comparison with the notes for later
    parallel = _verdicts(results)
    # With JSON the workers compare with the notes themselves.
    for d in load(NAMES):
        d._results.clear()
    as_json = _verdicts(verify_parts(NAMES, seed=3, workers=2, as_dict=True))
    # The verdicts came from the workers (and this process) and are cached; judge every
    # step and compare with the notes again here.
    again = [d.verify(seed=3, refresh=True) for d in load(NAMES)]
    for r in again:
        r.notes()
    here = _verdicts(again)
    assert any(s[-1] for s in here)  # some steps were compared with the notes' displays
    assert parallel == here and as_json == here
    assert len(parallel) == sum(len(d.steps) for d in load(NAMES))


def test_results_are_cached_on_this_process_derivations() -> None:
    # Coverage and the notes' comparison call d.verify(seed) again: it must not re-judge.
    (d,) = load(["langevin"])
    d._results.clear()
    res = verify_parts(["langevin"], seed=0, workers=1)
    assert res[0].ok
    assert res[0] is d.verify(seed=0)


def test_this_process_verifies_the_parts_no_worker_has_started(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from symsde import registry

    names = ["langevin", "general_sde", "diffusion", "bayes_posterior"]
    for d in load(names):
        d._results.clear()
    here: list[str] = []
    original = registry._verify_here

    def spy(d, seed, timeout):
        if seed not in d._results:
            here.append(d.name)  # judged in this process, not taken from a worker
        return original(d, seed, timeout)

    monkeypatch.setattr(registry, "_verify_here", spy)
    results = verify_parts(names, seed=5, workers=2)
    # One worker process takes the largest parts (and the next in its queue); this
    # process takes the smallest: langevin, the smallest by the estimate, is judged here.
    assert here and "langevin" in here and "bayes_posterior" not in here
    again = [d.verify(seed=5, refresh=True) for d in load(names)]
    assert _verdicts(results) == _verdicts(again)
