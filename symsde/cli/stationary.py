"""``symsde stationary``: derive the stationary density of an SDE.
"""

from __future__ import annotations

import argparse
from typing import Any

from symsde._timeout import time_limit
from symsde.cli.args import (
    DEFAULT_TIMEOUT,
    _add_output_options,
    _ExpressionArgsParser,
    _subs,
    _symbols,
    _timeout_arg,
)
from symsde.cli.io import (
    _SYMPY_CANNOT,
    _check_output_target,
    _json_text,
    _provenance,
    _write_atomic,
)
from symsde.errors import InputError, NoStationaryDensityError


def add_parser(sub: Any) -> None:
    """Register ``stationary`` on the CLI's sub-parsers."""
    st = sub.add_parser("stationary", help="derive the stationary density of an SDE")
    st.__class__ = _ExpressionArgsParser  # so that --drift -x and --loss -x**2 are values
    st.add_argument("--state", required=True, help="comma-separated state names, e.g. x,y")
    st.add_argument("--drift", help='drift as a list, e.g. "[-x, -2*y]" (or use --loss)')
    st.add_argument("--loss", help="a loss L; the drift is then -grad L and Gibbs is tested")
    noise = st.add_mutually_exclusive_group(required=True)
    noise.add_argument("--diffusion",
                       help='G in dX = mu dt + G dB: a scalar, a list (diagonal) or a nested list')
    noise.add_argument("--diffusion-matrix", help="D = G G^T as a scalar or nested list")
    st.add_argument("--param", action="append", default=[], metavar="NAME[=VALUE]",
                    help="a parameter; with a value it is substituted, without it is a "
                         "positive symbol (repeatable)")
    st.add_argument("--domain", metavar="SPACE",
                    help='state space, e.g. "(0, oo)", "[0, 1]" or "[0, 1] x (0, oo)": one '
                         "interval per state variable (R for the whole line); ends are numbers, "
                         "oo or --param names; default: from the symbols' assumptions and where "
                         "the diffusion vanishes")
    st.add_argument("--method", choices=["zero-flux-1d", "potential", "gaussian-lyapunov"])
    st.add_argument("--json", action="store_true", help="machine-readable output")
    st.add_argument("--timeout", type=_timeout_arg, default=DEFAULT_TIMEOUT,
                    help=f"seconds of symbolic work before giving up (default {DEFAULT_TIMEOUT:g})")
    _add_output_options(st, timings=False)


def run(args: argparse.Namespace) -> int:
    """Run ``symsde stationary``; returns the exit code."""
    import sympy as sp

    from symsde.parsing import parse_expression, parse_matrix
    from symsde.sde import SDE
    from symsde.stationary import stationary_density

    _check_output_target(args.output, "--output")
    if args.loss is None and args.drift is None:
        raise InputError("give the drift with --drift or a loss with --loss")
    if args.loss is not None and args.drift is not None:
        raise InputError("give either --drift or --loss, not both")
    # One deadline covers reading every option and the derivation.
    with time_limit(args.timeout, "deriving the stationary density"):
        state, table, values = _symbols(args)
        if args.diffusion is not None:
            noise = parse_matrix(args.diffusion, table, "--diffusion")
        else:
            noise = parse_matrix(args.diffusion_matrix, table, "--diffusion-matrix")
        noise = _subs(noise, values)
        domain = None
        if args.domain is not None:
            from symsde.inputs import parse_domain

            domain = parse_domain(args.domain, state,
                                  {k: v for k, v in table.items() if v not in state})
            domain = domain.subs(values) if values else domain
        if args.loss is not None:
            loss = parse_expression(args.loss, table, "--loss").subs(values)
            if args.diffusion is not None:
                sde = SDE.langevin(loss, state, noise, domain=domain)
            else:
                sde = SDE.from_diffusion_matrix(state, [-sp.diff(loss, x) for x in state], noise,
                                                loss=loss, domain=domain)
        else:
            drift = parse_matrix(args.drift, table, "--drift")
            drift = _subs(drift if isinstance(drift, list) else [drift], values)
            if any(isinstance(e, list) for e in drift):
                raise InputError("--drift must be a flat list with one expression per state "
                                 "variable, e.g. \"[-x, -2*y]\"")
            if args.diffusion is not None:
                sde = SDE(state, drift, noise, domain=domain)
            else:
                sde = SDE.from_diffusion_matrix(state, drift, noise, domain=domain)
        try:
            st = stationary_density(sde, method=args.method)
        except NotImplementedError:
            raise NoStationaryDensityError(_SYMPY_CANNOT) from None
        out = st.to_dict()
    doc = {**out, "provenance": _provenance(args)}
    if args.output is not None:
        _write_atomic(args.output, _json_text(doc))
    if args.json:
        print(_json_text(doc), end="")
    else:
        width = max(len(k) for k in out)
        for k, v in out.items():
            shown = ", ".join(v) if isinstance(v, list) else v
            print(f"{k:<{width}}  {shown}")
    return 0
