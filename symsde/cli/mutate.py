"""``symsde mutate [NAME ...] [--json]``: mutants of every part of every step, judged.

Prints, per class (``rhs``, ``lhs``, ``definition``, ``premise``), how many mutants were
made and how many the kernel killed; exits 1 if any survived.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["add_parser", "run"]


def add_parser(sub: Any, seed_arg: Any, workers_arg: Any) -> None:
    m = sub.add_parser("mutate", help="alter every part of every step; each must fail")
    m.add_argument("names", nargs="*", metavar="NAME", help="derivations (default all)")
    m.add_argument("--json", action="store_true", help="machine-readable output")
    m.add_argument("--class", dest="classes", action="append", default=[],
                   choices=["rhs", "lhs", "definition", "premise"],
                   help="only this class of mutants (repeatable; default all)")
    m.add_argument("--seed", type=seed_arg, default=0,
                   help="seed of the numeric witnesses (default 0)")
    m.add_argument("--workers", type=workers_arg, default=None,
                   help="processes mutating derivations side by side (default: one per "
                        "core; 1 works in this process)")


def run(args: argparse.Namespace) -> int:
    from symsde.registry import derivation_names, load_module, mutate_parts

    names = args.names or list(derivation_names())
    for name in names:
        load_module(name)  # every name is checked before any work
    report = mutate_parts(names, args.classes or None, seed=args.seed, workers=args.workers)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, sort_keys=True))
    else:
        print(report.summary())
    return 1 if report.survivors else 0
