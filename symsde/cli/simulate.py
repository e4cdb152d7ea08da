"""``symsde simulate``: simulate an SDE, optionally against its stationary density.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from symsde._timeout import time_limit
from symsde.cli.args import (
    DEFAULT_TIMEOUT,
    _add_output_options,
    _cli_count,
    _ExpressionArgsParser,
    _float,
    _one_line,
    _shown,
    _subs,
    _symbols,
    _timeout_arg,
)
from symsde.cli.io import (
    _SYMPY_CANNOT,
    _check_output_target,
    _check_plot_target,
    _json_text,
    _plot_histogram,
    _provenance,
    _write_atomic,
)
from symsde.errors import InputError, NoStationaryDensityError, SymsdeError


def add_parser(sub: Any) -> None:
    """Register ``simulate`` on the CLI's sub-parsers."""
    sm = sub.add_parser("simulate", help="simulate an SDE (Euler-Maruyama or Milstein)")
    sm.__class__ = _ExpressionArgsParser
    sm.add_argument("--state", required=True, help="comma-separated state names, e.g. x,y")
    sm.add_argument("--drift", required=True, help='drift: "-x" or a list "[-x, -2*y]"')
    sm.add_argument("--diffusion", required=True,
                    help="G in dX = mu dt + G dB: a scalar, a list (diagonal) or a nested list")
    sm.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                    help="a parameter and its value (repeatable)")
    sm.add_argument("--x0", default="0", help='initial state: "1" or "[1, 0]" (default 0)')
    sm.add_argument("--dt", default="0.01", help="time step (default 0.01)")
    sm.add_argument("--steps", default="1000", help="number of steps (default 1000)")
    sm.add_argument("--paths", default="100000", help="number of paths (default 100000)")
    sm.add_argument("--seed", default="0", help="random seed (default 0)")
    sm.add_argument("--method", choices=["euler", "milstein", "strong1.5", "weak2"],
                    default="euler")
    sm.add_argument("--json", action="store_true", help="machine-readable output")
    sm.add_argument("--plot", metavar="FILE",
                    help="write a histogram of the final states over the stationary density")
    sm.add_argument("--compare-stationary", action="store_true",
                    help="test the final states against the symbolic stationary density")
    sm.add_argument("--timeout", type=_timeout_arg, default=DEFAULT_TIMEOUT,
                    help="seconds of symbolic work (stationary density) before giving up")
    _add_output_options(sm, timings=True)
    sm.add_argument("--backend", choices=["local", "dask"], default="local",
                    help="run the blocks of paths here (local) or as Dask tasks (dask; "
                         "needs pip install 'symsde[dask]'); same numbers for the same seed")
    sm.add_argument("--kernel", choices=["auto", "numba", "numpy"], default="auto",
                    help="run each step compiled by Numba or as NumPy calls (default auto: "
                         "compiled for large runs whose step allows it); same numbers")
    sm.add_argument("--scheduler", metavar="ADDRESS",
                    help="with --backend dask: the scheduler of an existing cluster, e.g. "
                         "tcp://host:8786 (default: a local cluster, one worker per core)")


def _prepare_simulation(args: argparse.Namespace) -> dict[str, Any]:
    """Read every option, build the SDE and the plan: the work one --timeout covers."""
    from symsde.guards import check_resources, check_scheme_stability, precision_warning
    from symsde.parsing import parse_matrix, parse_number
    from symsde.sde import SDE
    from symsde.simulator import plan_simulation

    state, table, values = _symbols(args)
    unset = [item.partition("=")[0].strip() for item in args.param if "=" not in item]
    if unset:
        raise InputError(f"parameter {unset[0]!r} needs a value to simulate, e.g. "
                         f"--param {unset[0]}=1")
    for sym, v in values.items():
        _float(v, f"value of parameter {sym.name}:")
    drift = _subs(parse_matrix(args.drift, table, "--drift"), values)
    if isinstance(drift, list) and any(isinstance(e, list) for e in drift):
        raise InputError('--drift must be a flat list with one expression per state variable, '
                         'e.g. "[-x, -2*y]"')
    noise = _subs(parse_matrix(args.diffusion, table, "--diffusion"), values)
    x0 = parse_matrix(args.x0, {}, "--x0")
    if isinstance(x0, list) and any(isinstance(e, list) for e in x0):
        raise InputError('--x0 must be a number or a flat list, e.g. "[1, 0]"')
    if isinstance(x0, list) and not x0:
        raise InputError('--x0 is an empty list; give one number per state variable, e.g. '
                         '"[1, 0]"')
    x0v = []
    for e in x0 if isinstance(x0, list) else [x0]:
        if not (e.is_number and e.is_real and e.is_finite):
            raise InputError(f"--x0: {e} is not a finite real number")
        x0v.append(_float(e, "--x0:"))
    dt = _float(parse_number(args.dt, "--dt"), "--dt")
    steps = _cli_count(args.steps, "--steps", 1)
    paths = _cli_count(args.paths, "--paths", 2)
    seed = _cli_count(args.seed, "--seed", 0)
    if args.scheduler is not None and args.backend != "dask":
        raise InputError("--scheduler is the address of a Dask scheduler; add --backend dask")
    if args.scheduler is not None:
        _check_host_name(args.scheduler)
    sde = SDE(state, drift, noise)
    x0_arg = x0v if len(x0v) > 1 else x0v[0]
    check_resources(paths, steps, len(state), compare=args.compare_stationary)
    plan_simulation(sde, x0_arg, dt=dt, n_steps=steps, n_paths=paths, seed=seed,
                    method=args.method)
    check_scheme_stability(sde, dt)
    note = precision_warning(sde, x0v if len(x0v) == len(state) else x0v * len(state), dt)
    from symsde import _timeout

    left = _timeout.remaining()
    return {"state": state, "sde": sde, "x0": x0_arg, "dt": dt, "steps": steps,
            "paths": paths, "seed": seed, "note": note,
            "left": args.timeout if left is None else left}


def _check_host_name(address: str) -> None:
    """Refuse a host name no resolver takes (a label over 63 characters, a name over 253):
    the socket layer raises UnicodeError for it, not a connection error."""
    rest = address.strip().partition("://")[2] or address.strip()
    host = rest.rpartition(":")[0].strip("[]")
    try:
        if len(host.encode("idna")) > 253:
            raise UnicodeError("name too long")
    except UnicodeError:
        raise InputError(f"--scheduler: {_shown(host)} is not a valid host name (each part between "
                         "dots has at most 63 characters, the whole name at most 253); give "
                         "tcp://host:port") from None


def run(args: argparse.Namespace) -> int:
    """Run ``symsde simulate``; returns the exit code."""
    import warnings

    import numpy as np

    from symsde.simulator import simulate

    _check_output_target(args.output, "--output")
    if args.plot is not None:
        _check_plot_target(args.plot)
    # One deadline covers reading every option, compiling drift and diffusion, the checks
    # and connecting to a Dask scheduler; the simulation itself is bounded by the work limit.
    with time_limit(args.timeout, "preparing the simulation (reading the options, compiling "
                                  "drift and diffusion)"):
        prep = _prepare_simulation(args)
    state, sde, x0_arg, dt = prep["state"], prep["sde"], prep["x0"], prep["dt"]
    steps, paths, seed = prep["steps"], prep["paths"], prep["seed"]
    client = None
    if args.scheduler is not None:
        from symsde.simulator.dask_backend import connect

        # The network waits get what is left of the same deadline (they bound themselves:
        # a wait inside a C call could not be interrupted).
        client = connect(args.scheduler, timeout=max(prep["left"], 0.5))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = simulate(sde, x0_arg, dt=dt, n_steps=steps,
                           n_paths=paths, seed=seed, method=args.method,
                           progress=sys.stderr.isatty(), progress_delay=2.0,
                           backend=args.backend, client=client, kernel=args.kernel)
    finally:
        if client is not None:
            client.close()
        if args.backend == "dask" and args.scheduler is None:
            from symsde.simulator.dask_backend import close_local_cluster

            close_local_cluster()  # the local cluster this command started, if any
    out = res.to_dict()
    out["state"] = [s.name for s in state]
    if not args.timings:
        out.pop("seconds", None)
    finite = res.final[np.isfinite(res.final).all(axis=1)]
    st = None
    failed = []
    if args.compare_stationary or args.plot is not None:
        st, why = _stationary_for_simulation(sde, args.timeout, required=args.compare_stationary)
        if why:
            print(f"symsde: note: {why}; the plot shows the histogram alone", file=sys.stderr)
    if args.compare_stationary:
        out["stationary"] = _compare_stationary(st, finite)
        if not out["stationary"]["verdict"]:
            failed.append(f"the final states do not follow the stationary density "
                          f"({out['stationary']['text']})")
    if args.plot is not None:
        _plot_histogram(args.plot, finite, st, [s.name for s in state])
        out["plot"] = args.plot
    if res.diverged:
        first = res.first_diverged_step
        when = "" if first is None else (f"; the first left it after step {first} of {steps}, "
                                         f"at t = {first * dt:g}")
        failed.insert(0, f"{res.diverged} of {paths} paths diverged (left the finite range)"
                         f"{when}; the explicit scheme is unstable at this step size: try a "
                         "smaller --dt")
    out["provenance"] = _provenance(args, seed=seed)
    if args.output is not None:
        _write_atomic(args.output, _json_text(out))
    if args.json:
        print(_json_text(out), end="")
    else:
        shown = {**out, "seconds": round(res.seconds, 3)}
        keys = ["state", "paths", "steps", "dt", "seed", "method", "mean", "cov", "diverged"]
        if res.diverged:
            keys.append("first_diverged_step")
        rows = [(k, json.dumps(shown[k]) if isinstance(shown[k], list) else str(shown[k]))
                for k in [*keys, "seconds"]]
        if "stationary" in out:
            rows.append(("stationary", out["stationary"]["text"]))
        if "plot" in out:
            rows.append(("plot", out["plot"]))
        width = max(len(k) for k, _ in rows)
        for k, v in rows:
            print(f"{k:<{width}}  {v}")
    for msg in failed[:1]:  # an error is one line: the first failure
        print(f"symsde: error: {msg}", file=sys.stderr)
    if prep["note"] and not failed:
        print(f"symsde: warning: {prep['note']}", file=sys.stderr)
    return 1 if failed else 0


def _stationary_for_simulation(sde: Any, timeout: float, required: bool) -> tuple[Any, str]:
    from symsde.stationary import stationary_density

    try:
        with time_limit(timeout, "deriving the stationary density"):
            try:
                st = stationary_density(sde)
            except NotImplementedError:
                raise NoStationaryDensityError(_SYMPY_CANNOT) from None
    except SymsdeError as exc:
        if required:
            raise
        return None, f"no stationary density ({_one_line(str(exc))})"
    return st, ""


def _compare_stationary(st: Any, finite: Any) -> dict[str, Any]:
    """``--compare-stationary``: :func:`symsde.stattests.stationary_test`, as the JSON keys."""
    from symsde.stattests import stationary_test

    try:
        c = stationary_test(finite, st)
    except InputError as exc:
        raise InputError(f"--compare-stationary: {exc}") from None
    out = c.to_dict()
    if c.test == "gaussian-moments":  # the parts, as a list (the JSON of earlier versions)
        out["details"] = list(c.details["tests"])
    out.update(density=str(st.density), method=st.method)
    return out
