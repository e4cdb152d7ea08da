"""Verifying parts in worker processes gives exactly the verdicts of verifying here."""

from __future__ import annotations

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

