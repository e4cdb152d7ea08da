"""``symsde list``, ``symsde verify`` and ``symsde show``: the registered derivations.

The parts are found through the registry (:mod:`symsde.registry`), whatever lecture
package registered them.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

from symsde._timeout import time_limit
from symsde.cli.args import (
    DEFAULT_TIMEOUT,
    _add_output_options,
    _seed_arg,
    _timeout_arg,
    _workers_arg,
)
from symsde.cli.io import (
    _check_output_target,
    _json_text,
    _provenance,
    _table,
    _without_timings,
    _write_atomic,
)


def add_parsers(sub: Any) -> None:
    """Register ``list``, ``verify`` and ``show`` on the CLI's sub-parsers."""
    sub.add_parser("list", help="list the derivations with their step counts")

    v = sub.add_parser("verify", help="re-derive the lecture and check every step")
    v.add_argument("names", nargs="*", metavar="NAME", help="derivations to check (default all)")
    v.add_argument("--json", action="store_true", help="machine-readable output")
    v.add_argument("--symbolic-only", action="store_true",
                   help="skip the confirmations by simulation")
    v.add_argument("--seed", type=_seed_arg, default=0,
                   help="seed of the numeric witnesses' instances and points and of the "
                        "confirmation experiments (default 0)")
    v.add_argument("--timeout", type=_timeout_arg, default=DEFAULT_TIMEOUT,
                   help="give up on a derivation whose symbolic checks take longer than this "
                        f"many seconds (default {DEFAULT_TIMEOUT:g})")
    v.add_argument("--workers", type=_workers_arg, default=None,
                   help="processes verifying derivations side by side (default: one per "
                        "core; 1 verifies in this process)")
    _add_output_options(v, timings=True)

    s = sub.add_parser("show", help="print one derivation")
    s.add_argument("name", metavar="NAME")
    fmt = s.add_mutually_exclusive_group()
    fmt.add_argument("--latex", action="store_true", help="LaTeX, ready for slides")
    fmt.add_argument("--markdown", action="store_true", help="Markdown with $$ math $$")
    fmt.add_argument("--json", action="store_true", help="JSON")
    s.add_argument("--timeout", type=_timeout_arg, default=DEFAULT_TIMEOUT,
                   help=f"seconds of symbolic checking before giving up (default "
                        f"{DEFAULT_TIMEOUT:g})")
    s.add_argument("--seed", type=_seed_arg, default=0,
                   help="seed of the numeric witnesses (default 0)")


def run_list(args: argparse.Namespace) -> int:
    """Run ``symsde list``; returns the exit code."""
    from symsde.registry import derivation_names, load

    names = derivation_names()
    if not names:
        print("no derivations registered (no lecture in the entry-point group symsde.derivations)")
        return 0
    rows = [(d.name, str(len(d.steps)), d.title) for d in load(names)]
    _table(["derivation", "steps", "title"], rows)
    return 0


def _run_experiments(names: Sequence[str], seed: int) -> list[Any]:
    """Run ``confirm(seed)`` of every named derivation module that has one."""
    from symsde.registry import load_module

    out = []
    for name in names:
        confirm = getattr(load_module(name), "confirm", None)
        if confirm is None:
            continue
        t0 = time.perf_counter()
        exp = confirm(seed)
        exp.seconds = time.perf_counter() - t0
        out.append(exp)
    return out


def _print_experiments(experiments: Sequence[Any]) -> None:
    rows = []
    for exp in experiments:
        for kind, trials in (("predicts", exp.predictions),
                             ("rejects", exp.wrong_predictions)):
            for t in trials:
                r = t.result
                expected = r.verdict if kind == "predicts" else not r.verdict
                rows.append((exp.derivation, f"{kind}: {t.claim}", r.test,
                             f"{r.statistic:.3g}", f"{r.threshold:.3g}",
                             "ok" if expected else "FAILS"))
    print("\nconfirmation by simulation (seed-fixed; 'rejects' rows are power checks fed a "
          "wrong prediction)")
    _table(["derivation", "claim", "test", "statistic", "threshold", "verdict"], rows)


def run_verify(args: argparse.Namespace) -> int:
    """Run ``symsde verify``; returns the exit code."""
    from symsde.registry import derivation_names, load_module

    _check_output_target(args.output, "--output")
    t0 = time.perf_counter()
    names = args.names or list(derivation_names())
    for name in names:
        load_module(name)  # every name is checked before any work
    if args.json:
        return _verify_json(args, names, t0)
    return _verify_text(args, names, t0)


def _verify_json(args: argparse.Namespace, names: Sequence[str], t0: float) -> int:
    """``symsde verify --json``: made from the results' plain data alone (with workers,
    this process builds no derivation)."""
    from symsde.registry import coverage_of_dicts, verify_parts_as_dicts

    results = verify_parts_as_dicts(names, seed=args.seed, timeout=args.timeout,
                                    workers=args.workers)
    symbolic_seconds = time.perf_counter() - t0
    experiments = [] if args.symbolic_only else _run_experiments(names, args.seed)
    errata = [
        {"derivation": r["name"], "step": s["id"], "slide": s["slide"],
         "notes": s["claim"]["sympy"],
         "corrected": s["corrected"]["sympy"] if s["corrected"] else None,
         "explanation": s["erratum"]}
        for r in results for s in r["steps"] if s["verdict"] == "erratum"
    ]
    total = {k: sum(r[k] for r in results) for k in ("holds", "errata", "fails")}
    experiments_ok = all(e.ok for e in experiments)
    failed = total["fails"] > 0 or not experiments_ok
    cov = coverage_of_dicts(results) if not args.names else None
    doc = {"derivations": results, "errata": errata,
           "coverage": None if cov is None else cov.to_dict(),
           "experiments": [e.to_dict() for e in experiments],
           "summary": {"derivations": len(results),
                       "steps": sum(len(r["steps"]) for r in results),
                       "holds": total["holds"], "errata": total["errata"],
                       "fails": total["fails"],
                       "definitions": sum(r["definitions"] for r in results),
                       "independent_witnesses": sum(r["independent_witnesses"]
                                                    for r in results),
                       "experiments": len(experiments),
                       "experiments_ok": experiments_ok, "ok": not failed,
                       "symbolic_seconds": round(symbolic_seconds, 3)}}
    if not args.timings:
        doc = _without_timings(doc)
    doc["provenance"] = _provenance(args, seed=args.seed)
    if args.output is not None:
        _write_atomic(args.output, _json_text(doc))
    print(_json_text(doc), end="")
    return 1 if failed else 0


def _verify_text(args: argparse.Namespace, names: Sequence[str], t0: float) -> int:
    """``symsde verify``: the table, coverage, errata, failures and experiments."""
    import sympy as sp

    from symsde.registry import coverage, verify_parts

    results = verify_parts(names, seed=args.seed, timeout=args.timeout, workers=args.workers)
    derivs = [r.derivation for r in results]
    symbolic_seconds = time.perf_counter() - t0
    experiments = [] if args.symbolic_only else _run_experiments(names, args.seed)
    errata = [(r.derivation.name, s) for r in results for s in r.steps
              if s.verdict == "erratum"]
    total = {k: sum(r.count(k) for r in results) for k in ("holds", "erratum", "fails")}
    failed = total["fails"] > 0 or not all(e.ok for e in experiments)
    cov = coverage(derivs, seed=args.seed) if not args.names else None
    if not results:
        print("no derivations registered (no lecture in the entry-point group "
              "symsde.derivations): nothing to verify")
    rows = [(r.derivation.name, str(len(r.steps)), str(r.count_kind("definition")),
             str(r.count("holds") - r.count_kind("definition")), str(r.count("erratum")),
             str(r.count("fails")), str(r.independent), f"{r.seconds:.2f}s") for r in results]
    rows.append(("total", str(sum(len(r.steps) for r in results)),
                 str(sum(r.count_kind("definition") for r in results)),
                 str(total["holds"] - sum(r.count_kind("definition") for r in results)),
                 str(total["erratum"]), str(total["fails"]),
                 str(sum(r.independent for r in results)), f"{symbolic_seconds:.2f}s"))
    _table(["derivation", "steps", "definitions", "holds", "errata", "fails",
            "independent witnesses", "time"], rows)
    if cov is not None:
        print(f"\ncoverage of the notes' displayed equations: {len(cov.covered)}/{cov.total}")
        for slide, c, t in cov.per_slide:
            print(f"  {c:2d}/{t:<2d} {slide}")
        if cov.missing:
            print(f"  not covered: {', '.join(cov.missing)}")
        if cov.unknown:
            print(f"  unknown equation ids named by steps: {', '.join(cov.unknown)}")
    if errata:
        print()
    for name, e in errata:
        print(f"erratum {name}::{e.step.id} ({e.step.slide}): notes {e.step.claim.text()}; "
              f"corrected {e.step.corrected.text() if e.step.corrected else None}")
    for r in results:
        for s in r.steps:
            if s.verdict == "fails":
                print(f"FAILS {r.derivation.name}::{s.step.id} ({s.step.slide}): residual "
                      f"{sp.sstr(s.residual)} {s.detail}")
    if experiments:
        _print_experiments(experiments)
        print(f"experiments: {sum(e.ok for e in experiments)}/{len(experiments)} ok in "
              f"{sum(e.seconds for e in experiments):.1f}s")
    return 1 if failed else 0


def run_show(args: argparse.Namespace) -> int:
    """Run ``symsde show``; returns the exit code."""
    from symsde.registry import load

    with time_limit(args.timeout, f"verifying the derivation {args.name}"):
        (d,) = load([args.name])
        ok = d.verify(seed=args.seed).ok
    if args.latex:
        print(d.render_latex(seed=args.seed))
    elif args.markdown:
        print(d.render_markdown(seed=args.seed))
    elif args.json:
        print(d.to_json(seed=args.seed))
    else:
        print(d.render_text(seed=args.seed))
    return 0 if ok else 1
