"""Verifying parts in worker processes gives exactly the verdicts of verifying here."""

from __future__ import annotations

import sympy as sp

from symsde.cli.io import _without_timings
from symsde.registry import (
    coverage,
    coverage_of_dicts,
    load,
    verify_parts,
    verify_parts_as_dicts,
)

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
    # The verdicts came from the workers and are cached; judge every step and compare
    # with the notes again here.
    again = [d.verify(seed=3, refresh=True) for d in load(NAMES)]
    for r in again:
        r.notes()
    here = _verdicts(again)
    assert any(s[-1] for s in here)  # some steps were compared with the notes' displays
    assert parallel == here
    assert len(parallel) == sum(len(d.steps) for d in load(NAMES))
    # The JSON's plain data, made by the workers alone, is what this process makes (all
    # but the timings)
    workers = _without_timings(verify_parts_as_dicts(NAMES, seed=3, workers=2))
    assert workers == _without_timings([r.to_dict() for r in again])
    assert any(s["notes"] for r in workers for s in r["steps"])


def test_coverage_of_the_plain_data_is_the_coverage() -> None:
    derivs = load(NAMES)
    dicts = [d.verify(seed=0).to_dict() for d in derivs]
    assert coverage_of_dicts(dicts) == coverage(derivs, seed=0)
    # power: a step that fails no longer covers its equations
    step = next(s for r in dicts for s in r["steps"] if s["equations"]
                and s["independent_witness"] and s["kind"] not in ("definition", "erratum"))
    step["verdict"] = "fails"
    assert coverage_of_dicts(dicts) != coverage(derivs, seed=0)


def test_results_are_cached_on_this_process_derivations() -> None:
    # Coverage and the notes' comparison call d.verify(seed) again: it must not re-judge.
    (d,) = load(["langevin"])
    d._results.clear()
    res = verify_parts(["langevin"], seed=0, workers=1)
    assert res[0].ok
    assert res[0] is d.verify(seed=0)

