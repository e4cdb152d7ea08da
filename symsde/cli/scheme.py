"""``symsde scheme METHOD``: show the update rule a scheme has for a given SDE.

The rule is derived by :func:`symsde.schemes.derive_scheme` from the SDE's generator
(its Ito-Taylor expansion); this is the same rule ``simulate(..., method=METHOD)`` runs.

Examples
--------
>>> from symsde.cli import main
>>> main(["scheme", "milstein", "--state", "x", "--drift", "mu*x", "--diffusion", "s*x",
...       "--param", "mu", "--param", "s"])
milstein scheme (strong order 1) for dX = mu*x dt + s*x dW
x_next = dW1**2*s**2*x/2 + dW1*s*x + h*(mu*x - s**2*x/2) + x
  dW1 = sqrt(h)*xi1
  xi1 ~ N(0, 1), independent
0
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sympy as sp

from symsde.cli.args import DEFAULT_TIMEOUT, _timeout_arg
from symsde.errors import InputError

__all__ = ["add_scheme_parser", "cmd_scheme"]


def add_scheme_parser(sub: Any, parser_class: type) -> None:
    """Register ``scheme`` on the CLI's sub-parsers (``parser_class`` reads ``-x`` as a
    value)."""
    from symsde.schemes import METHODS

    sc = sub.add_parser("scheme", help="show a scheme's update rule derived for an SDE "
                                       "(euler, milstein, strong1.5, weak2)")
    sc.__class__ = parser_class
    sc.add_argument("method", choices=list(METHODS), metavar="METHOD",
                    help=f"one of {', '.join(METHODS)}")
    sc.add_argument("--state", required=True, help="comma-separated state names, e.g. x,y")
    sc.add_argument("--drift", required=True, help='drift: "-x" or a list "[-x, -2*y]"')
    sc.add_argument("--diffusion", required=True,
                    help="G in dX = mu dt + G dW: a scalar, a list (diagonal) or a nested list")
    sc.add_argument("--param", action="append", default=[], metavar="NAME[=VALUE]",
                    help="a parameter; with a value it is substituted, without it is a "
                         "positive symbol (repeatable)")
    fmt = sc.add_mutually_exclusive_group()
    fmt.add_argument("--latex", action="store_true", help="LaTeX (an aligned block)")
    fmt.add_argument("--json", action="store_true", help="machine-readable output")
    sc.add_argument("--timeout", type=_timeout_arg, default=DEFAULT_TIMEOUT,
                    help="seconds for reading the options, deriving the scheme and "
                         "formatting it before giving up (default 60)")


def _paren(e: sp.Expr) -> str:
    import sympy as sp

    return f"({sp.sstr(e)})" if e.is_Add else sp.sstr(e)


def cmd_scheme(args: argparse.Namespace) -> int:
    """Run ``symsde scheme``; returns the exit code."""
    from symsde._timeout import time_limit

    # One deadline covers reading the options, the derivation and the formatting; the
    # text is printed only once it is complete (a time-out prints nothing on stdout).
    with time_limit(args.timeout, f"reading the options and deriving the {args.method} "
                                  "scheme"):
        text = _scheme_text(args)
    print(text)
    return 0


def _scheme_text(args: argparse.Namespace) -> str:
    import sympy as sp

    from symsde.cli.args import _subs, _symbols
    from symsde.parsing import parse_matrix
    from symsde.schemes import METHODS, derive_scheme
    from symsde.sde import SDE

    state, table, values = _symbols(args)
    drift = _subs(parse_matrix(args.drift, table, "--drift"), values)
    if isinstance(drift, list) and any(isinstance(e, list) for e in drift):
        raise InputError('--drift must be a flat list with one expression per state variable, '
                         'e.g. "[-x, -2*y]"')
    noise = _subs(parse_matrix(args.diffusion, table, "--diffusion"), values)
    sde = SDE(state, drift, noise)
    sch = derive_scheme(sde, args.method)
    strong, weak = METHODS[args.method]
    if args.json:
        doc = {"method": sch.method, "strong_order": strong, "weak_order": weak,
               "state": [s.name for s in sch.state],
               "update": [sp.sstr(e) for e in sch.update],
               "increments": {str(k): sp.sstr(v) for k, v in sch.increments.items()},
               "noises": [{"symbol": str(nv.symbol), "law": nv.law} for nv in sch.noises],
               "latex": sch.latex()}
        return json.dumps(doc, indent=2)
    if args.latex:
        return sch.latex()
    orders = ", ".join(f"{kind} order {o:g}" for kind, o in (("strong", strong), ("weak", weak))
                       if o is not None)
    lhs = "dX" if len(state) == 1 else "d(" + ", ".join(s.name for s in state) + ")"
    mu = _paren(sde.drift[0]) if len(state) == 1 else sp.sstr(list(sde.drift))
    G = (_paren(sde.diffusion[0, 0]) if sde.diffusion.shape == (1, 1)
         else sp.sstr(sde.diffusion.tolist()))
    return f"{args.method} scheme ({orders}) for {lhs} = {mu} dt + {G} dW\n{sch.text()}"
