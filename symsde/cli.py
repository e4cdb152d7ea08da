"""The ``symsde`` command line.

Exit codes: 0 success; 1 a mathematical failure (not normalisable, no stationary density,
a derivation step fails, symbolic work timed out); 2 bad input. Errors are one line on
stderr. Expressions are read by :mod:`symsde.parsing`, never evaluated as Python.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from symsde import cli_mutate, cli_scheme
from symsde._timeout import time_limit
from symsde.errors import InputError, NoStationaryDensityError, OutputError, SymsdeError

__all__ = ["main"]

if TYPE_CHECKING:  # pragma: no cover
    import sympy as sp
else:
    sp = None  # imported by main(), where a Ctrl-C during the import is handled

DEFAULT_TIMEOUT = 60.0
MAX_TIMEOUT = 1e6
#: Options that only choose how a result is shown; the provenance leaves them out.
_PRESENTATION = frozenset({"command", "json", "output", "timings", "latex", "markdown"})


def _timeout_arg(text: str) -> float:
    """``--timeout``: a finite number of seconds in (0, MAX_TIMEOUT]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(
            f"give a number of seconds > 0 and at most {MAX_TIMEOUT:g}, got {text!r}")
    return value


def _seed_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"a seed is a whole number >= 0, got {text!r}")
    return value


def _add_output_options(p: argparse.ArgumentParser, timings: bool) -> None:
    p.add_argument("--output", metavar="FILE",
                   help="also write the JSON document to FILE, atomically (all or nothing)")
    if timings:
        p.add_argument("--timings", action="store_true",
                       help="put timings (seconds) in the JSON; without them the same command "
                            "gives byte-identical JSON")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit code 2."""

    def error(self, message: str) -> NoReturn:
        raise InputError(f"{message} (see '{self.prog} --help')")


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="symsde",
        description="Machine-checked derivations for continuous-time models of SGD.",
    )
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

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
    st.add_argument("--method", choices=["zero-flux-1d", "potential", "gaussian-lyapunov"])
    st.add_argument("--json", action="store_true", help="machine-readable output")
    st.add_argument("--timeout", type=_timeout_arg, default=DEFAULT_TIMEOUT,
                    help=f"seconds of symbolic work before giving up (default {DEFAULT_TIMEOUT:g})")
    _add_output_options(st, timings=False)
    _add_simulate_parser(sub)
    cli_mutate.add_parser(sub, _seed_arg)
    cli_scheme.add_scheme_parser(sub, _ExpressionArgsParser)
    return p


# -- stationary ---------------------------------------------------------------------------
def _symbols(args: argparse.Namespace) -> tuple[list[sp.Symbol], dict[str, sp.Expr],
                                                  dict[sp.Symbol, sp.Expr]]:
    from symsde.inputs import check_name
    from symsde.parsing import parse_name, parse_number

    names = [check_name(parse_name(n, "state name"), "state name")
             for n in args.state.split(",")]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f"state name {dup!r} appears twice in --state; list each variable once")
    state = [sp.Symbol(n, real=True) for n in names]
    table: dict[str, sp.Expr] = {s.name: s for s in state}
    values: dict[sp.Symbol, sp.Expr] = {}
    for item in args.param:
        name, sep, value = item.partition("=")
        name = parse_name(name, "parameter name")
        if name in table:
            kind = "a state variable" if table[name] in state else "declared twice"
            raise InputError(f"parameter {name!r} is {kind}; give each name one role")
        sym = sp.Symbol(name, positive=True)
        table[name] = sym
        if sep:
            values[sym] = parse_number(value, f"value of parameter {name}")
            # Read the name as its value: a positive symbol would contradict a value <= 0
            # (sqrt(s**2) is s for positive s, but |s| for s = -1).
            table[name] = values[sym]
    return state, table, values


def _cmd_stationary(args: argparse.Namespace) -> int:
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
        if args.loss is not None:
            loss = parse_expression(args.loss, table, "--loss").subs(values)
            if args.diffusion is not None:
                sde = SDE.langevin(loss, state, noise)
            else:
                sde = SDE.from_diffusion_matrix(state, [-sp.diff(loss, x) for x in state], noise,
                                                loss=loss)
        else:
            drift = parse_matrix(args.drift, table, "--drift")
            drift = _subs(drift if isinstance(drift, list) else [drift], values)
            if any(isinstance(e, list) for e in drift):
                raise InputError("--drift must be a flat list with one expression per state "
                                 "variable, e.g. \"[-x, -2*y]\"")
            if args.diffusion is not None:
                sde = SDE(state, drift, noise)
            else:
                sde = SDE.from_diffusion_matrix(state, drift, noise)
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


def _subs(value: Any, values: dict[sp.Symbol, sp.Expr]) -> Any:
    if isinstance(value, list):
        return [_subs(v, values) for v in value]
    return value.subs(values) if values else value


# -- simulate -----------------------------------------------------------------------------
class _ExpressionArgsParser(_Parser):
    """Reads ``--drift -x`` as an expression: a single-dash word that is no option is a value."""

    def _parse_optional(self, arg_string: str) -> Any:
        if (arg_string.startswith("-") and not arg_string.startswith("--")
                and arg_string not in self._option_string_actions):
            return None
        return super()._parse_optional(arg_string)


def _add_simulate_parser(sub: Any) -> None:
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
    sm.add_argument("--scheduler", metavar="ADDRESS",
                    help="with --backend dask: the scheduler of an existing cluster, e.g. "
                         "tcp://host:8786 (default: a local cluster, one worker per core)")


def _cli_count(text: str, what: str, lo: int) -> int:
    from symsde.parsing import parse_number

    v = parse_number(text, what)
    if not v.is_integer or int(v) < lo:
        raise InputError(f"{what} must be a whole number >= {lo}, got {text!r}")
    return int(v)


def _float(value: sp.Expr, what: str) -> float:
    """A finite float from a parsed number, or a clear error (never an OverflowError)."""
    try:
        f = float(value.evalf(20))
    except (OverflowError, TypeError, ValueError):
        f = math.inf
    if not math.isfinite(f) or abs(f) > 1e300:
        raise InputError(f"{what} {value} is not a finite floating-point number (beyond "
                         "1e300 in size); give a smaller value")
    return f


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


def _cmd_simulate(args: argparse.Namespace) -> int:
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
                           backend=args.backend, client=client)
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


def _gaussian_law(st: Any) -> tuple[Any, Any] | None:
    """Mean and covariance of a Gaussian stationary law (Lyapunov or quadratic potential)."""
    if st is None:
        return None
    mean, cov = st.mean, st.covariance
    X = st.state
    if mean is None or cov is None:
        U = st.potential
        if not U.is_polynomial(*X) or sp.Poly(U, *X).total_degree() != 2:
            return None
        H = sp.hessian(U, X)
        b = sp.Matrix([sp.diff(U, s) for s in X]).subs({s: 0 for s in X})
        if H.det() == 0:
            return None
        cov = H.inv()
        mean = -cov * b
    try:
        return ([float(v) for v in mean], [[float(v) for v in row] for row in cov.tolist()])
    except TypeError:
        return None


def _compare_stationary(st: Any, finite: Any) -> dict[str, Any]:
    from symsde.confirm import ks_test, moment_tests

    density = str(st.density)
    if st.sde.dim == 1:
        c = ks_test(finite[:, 0], st)
        out = c.to_dict()
        out.update(density=density, method=st.method)
        return out
    law = _gaussian_law(st)
    if law is None:
        raise InputError(
            "--compare-stationary handles one-dimensional states and Gaussian stationary "
            f"laws; this {st.sde.dim}-dimensional law is not Gaussian (method {st.method})")
    tests = moment_tests(finite, mean=law[0], cov=law[1])
    stat = max(t.statistic for t in tests)
    verdict = all(t.verdict for t in tests)
    return {"test": "gaussian-moments", "statistic": stat, "threshold": tests[0].threshold,
            "verdict": verdict, "false_alarm": sum(t.false_alarm or 0.0 for t in tests),
            "text": "; ".join(t.text for t in tests), "density": density,
            "method": st.method, "details": [t.to_dict() for t in tests]}


def _check_plot_target(path: str) -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise InputError("--plot needs matplotlib: pip install 'symsde[plot]'") from None
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    if path and ext not in {"png", "pdf", "svg", "jpg", "jpeg", "eps", "ps"}:
        raise InputError(f"--plot {path!r}: give a file ending in .png, .pdf or .svg")
    _check_output_target(path, "--plot")


def _plot_histogram(path: str, finite: Any, st: Any, names: list[str]) -> None:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from symsde.kernels import lambdify_density

    d = finite.shape[1]
    shown = min(d, 4)
    fig, axes = plt.subplots(1, shown, figsize=(5 * shown, 3.6), squeeze=False)
    law = _gaussian_law(st)
    for i in range(shown):
        ax = axes[0, i]
        col = finite[:, i]
        if col.size:
            lo, hi = np.quantile(col, [0.0005, 0.9995])
            ax.hist(col, bins=100, range=(lo, hi), density=True, alpha=0.55,
                    label=f"{col.size} final states")
            grid = np.linspace(lo, hi, 400)
            if st is not None and d == 1:
                ax.plot(grid, lambdify_density(st)(grid), lw=2, label="stationary density")
            elif law is not None:
                m, v = law[0][i], law[1][i][i]
                ax.plot(grid, np.exp(-(grid - m) ** 2 / (2 * v)) / np.sqrt(2 * np.pi * v),
                        lw=2, label="stationary marginal")
        ax.set_xlabel(names[i])
        ax.legend(fontsize=8)
    fig.tight_layout()
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format=ext)
    finally:
        plt.close(fig)
    _write_atomic(path, buf.getvalue(), "--plot")


# -- derivations --------------------------------------------------------------------------
def _cmd_list(args: argparse.Namespace) -> int:
    from symsde.registry import derivation_names, load

    names = derivation_names()
    if not names:
        print("no derivations registered (derivations.REGISTRY is empty)")
        return 0
    rows = [(d.name, str(len(d.steps)), d.title) for d in load(names)]
    _table(["derivation", "steps", "title"], rows)
    return 0


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


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
        for kind, trials in (("predicts", exp.confirmations), ("rejects", exp.power)):
            for t in trials:
                r = t.result
                expected = r.verdict if kind == "predicts" else not r.verdict
                rows.append((exp.derivation, f"{kind}: {t.claim}", r.test,
                             f"{r.statistic:.3g}", f"{r.threshold:.3g}",
                             "ok" if expected else "FAILS"))
    print("\nconfirmation by simulation (seed-fixed; 'rejects' rows are power checks fed a "
          "wrong prediction)")
    _table(["derivation", "claim", "test", "statistic", "threshold", "verdict"], rows)


def _cmd_verify(args: argparse.Namespace) -> int:
    from symsde.registry import coverage, derivation_names, load, load_module

    _check_output_target(args.output, "--output")
    t0 = time.perf_counter()
    names = args.names or list(derivation_names())
    for name in names:
        load_module(name)  # every name is checked before any work
    derivs, results = [], []
    for name in names:
        with time_limit(args.timeout, f"verifying the derivation {name}"):
            (d,) = load([name])
            results.append(d.verify(seed=args.seed))
        derivs.append(d)
    symbolic_seconds = time.perf_counter() - t0
    experiments = [] if args.symbolic_only else _run_experiments(names, args.seed)
    errata = [
        {"derivation": r.derivation.name, "step": s.step.id, "slide": s.step.slide,
         "notes": s.step.claim.text(), "corrected": s.step.corrected.text()
         if s.step.corrected else None, "explanation": s.step.erratum}
        for r in results for s in r.steps if s.verdict == "erratum"
    ]
    total = {k: sum(r.count(k) for r in results) for k in ("holds", "erratum", "fails")}
    experiments_ok = all(e.ok for e in experiments)
    failed = total["fails"] > 0 or not experiments_ok
    cov = coverage(derivs, seed=args.seed) if not args.names else None
    if args.json:
        doc = {"derivations": [r.to_dict() for r in results], "errata": errata,
               "coverage": None if cov is None else cov.to_dict(),
               "experiments": [e.to_dict() for e in experiments],
               "summary": {"derivations": len(results),
                           "steps": sum(len(r.steps) for r in results),
                           "holds": total["holds"], "errata": total["erratum"],
                           "fails": total["fails"],
                           "definitions": sum(r.count_kind("definition") for r in results),
                           "independent_witnesses": sum(r.independent for r in results),
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
    if not results:
        print("no derivations registered (derivations.REGISTRY is empty): nothing to verify")
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
    for e in errata:
        print(f"erratum {e['derivation']}::{e['step']} ({e['slide']}): notes {e['notes']}; "
              f"corrected {e['corrected']}")
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


def _cmd_show(args: argparse.Namespace) -> int:
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


# -- JSON documents: provenance, no timings, atomic files --------------------------------------
_SYMPY_CANNOT = (
    "SymPy cannot compute a limit or integral this SDE needs (it raised NotImplementedError), "
    "so symsde cannot decide whether a stationary density exists; simplify the drift or the "
    "diffusion (e.g. a diffusion that never vanishes, such as sqrt(1 + x**2))")


def _provenance(args: argparse.Namespace, **extra: Any) -> dict[str, Any]:
    """What produced a JSON document: versions and every parameter; no time, no host."""
    import platform

    import mpmath
    import numpy as np

    import symsde

    arguments = {k: v for k, v in vars(args).items() if k not in _PRESENTATION}
    return {"symsde": symsde.__version__, "python": platform.python_version(),
            "sympy": sp.__version__, "numpy": np.__version__, "mpmath": mpmath.__version__,
            "command": args.command, "arguments": arguments, **extra}


def _without_timings(value: Any) -> Any:
    """``value`` with every ``seconds`` / ``symbolic_seconds`` entry removed."""
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items()
                if k not in ("seconds", "symbolic_seconds")}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as None (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _json_text(doc: Any) -> str:
    return json.dumps(_finite(doc), indent=2, sort_keys=True, allow_nan=False) + "\n"


def _check_output_target(path: str | None, option: str) -> None:
    """Refuse, before any work, an output path that could not be written.

    A regular file (new or existing) is written atomically; an existing character device
    or FIFO (``/dev/null``, a named pipe) is written straight into, never replaced;
    anything else (a folder, a socket, a block device, an empty path) is refused.
    """
    import stat
    import tempfile

    if path is None:
        return
    if not path.strip():
        raise InputError(f"{option} is empty; give a file name")
    if "\0" in path:
        raise InputError(f"{option} contains a NUL character; give a file name")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise InputError(f"{option} {path!r}: {exc.strerror}; give a writable file name") \
            from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise InputError(f"{option} {path!r} is a folder; give a file name")
        if stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
            if not os.access(path, os.W_OK):
                raise InputError(f"{option} {path!r} is not writable")
            return
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{option} {path!r} is neither a regular file nor a device or "
                             "FIFO; give a file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InputError(f"{option}: the folder {folder!r} does not exist; create it first")
    try:
        name_max = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = 255
    if len(os.fsencode(os.path.basename(path))) > name_max - 20:
        raise InputError(f"{option}: the file name is too long (more than {name_max - 20} "
                         "bytes); give a shorter name")
    try:  # the atomic write needs a temporary file beside the target
        fd, tmp = tempfile.mkstemp(prefix=".symsde-", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(f"{option}: cannot write in {folder!r} ({exc.strerror})") from None
    os.close(fd)
    os.unlink(tmp)


def _write_atomic(path: str, data: str | bytes, option: str = "--output") -> None:
    """Write ``data`` to ``path``: through a temporary file and a rename (all or nothing).

    An existing regular file keeps its permission bits; a new file gets the umask's; a
    character device or FIFO at ``path`` is written straight into, never replaced.
    """
    import stat
    import tempfile

    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        st = os.stat(path)
    except OSError:
        st = None
    if st is not None and (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
        _write_stream(path, raw, option)
        return
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".symsde-", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(f"{option}: cannot write in {folder!r} ({exc.strerror})") from None
    try:
        if st is not None and stat.S_ISREG(st.st_mode):
            mode = stat.S_IMODE(st.st_mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OutputError(f"{option}: cannot write {path!r} ({exc.strerror})") from None
        raise


def _write_stream(path: str, raw: bytes, option: str) -> None:
    """Write into a character device or a FIFO (without waiting for a FIFO's reader)."""
    import fcntl

    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        why = "no process reads from it" if exc.errno == errno.ENXIO else exc.strerror
        raise OutputError(f"{option}: cannot write into {path!r} ({why})") from None
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        view = memoryview(raw)
        while view:
            view = view[os.write(fd, view):]
    except OSError as exc:
        raise OutputError(f"{option}: cannot write into {path!r} ({exc.strerror})") from None
    finally:
        os.close(fd)


COMMANDS = {
    "simulate": _cmd_simulate,
    "list": _cmd_list,
    "verify": _cmd_verify,
    "show": _cmd_show,
    "mutate": lambda args: cli_mutate.run(args),
    "stationary": _cmd_stationary,
    "scheme": lambda args: cli_scheme.cmd_scheme(args),
}


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread so that cleanups (temporary files) run."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated(signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 mathematical failure, 2 bad input).

    SIGINT and SIGTERM end the run with exit code 130 or 143 and leave no partial file.
    """
    if threading.current_thread() is not threading.main_thread():
        return _main(argv)
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _main(argv)
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _load_sympy() -> None:
    global sp
    if sp is None:
        import sympy

        sp = sympy


def _stdout_failed(exc: OSError) -> int:
    """One line for a standard output that cannot take the result, then exit code 1."""
    why = exc.strerror or type(exc).__name__
    with contextlib.suppress(OSError, ValueError, AttributeError):
        # Point fd 1 at /dev/null so that the interpreter's own flush at exit is quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    with contextlib.suppress(OSError, ValueError, AttributeError):
        print(f"symsde: error: cannot write the result to standard output ({why}); "
              "redirect it to a file, or use --output", file=sys.stderr)
    return 1


#: errno values of a standard output that cannot be written to.
_STDOUT_ERRNOS = {errno.EPIPE, errno.ENOSPC, errno.EBADF, errno.EIO, errno.EFBIG,
                  getattr(errno, "EDQUOT", errno.ENOSPC)}


def _main(argv: Sequence[str] | None) -> int:
    try:
        if sys.stdout is None:
            print("symsde: error: standard output is closed; redirect it instead, e.g. "
                  "> /dev/null", file=sys.stderr)
            return 2
        _load_sympy()
        args = _build_parser().parse_args(argv)
        code = COMMANDS[args.command](args)
        sys.stdout.flush()
        return code
    except OSError as exc:
        if exc.errno in _STDOUT_ERRNOS and _from_stdout(exc):
            return _stdout_failed(exc)
        return _internal_error(exc)
    except SymsdeError as exc:
        print(f"symsde: error: {_one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("symsde: interrupted", file=sys.stderr)
        return 130
    except _Terminated as exc:
        print("symsde: terminated", file=sys.stderr)
        return 128 + exc.signum
    except MemoryError:
        print("symsde: error: ran out of memory; the request needs more than this machine has "
              "(simplify the expressions, or use fewer paths)", file=sys.stderr)
        return 1
    except NotImplementedError as exc:
        print(f"symsde: error: SymPy does not implement a step this input needs "
              f"({_one_line(str(exc)) or 'NotImplementedError'}); simplify the input",
              file=sys.stderr)
        return 1
    except RecursionError:
        print("symsde: error: the expression is too deeply nested to handle", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help and --version
        return int(exc.code or 0)
    except Exception as exc:  # a bug of ours: still one line, and a way to see more
        return _internal_error(exc)


def _from_stdout(exc: OSError) -> bool:
    """Whether ``exc`` came from printing (or flushing) the result in this module."""
    import linecache

    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    if tb.tb_frame.f_globals.get("__name__") != __name__:
        return False
    line = linecache.getline(tb.tb_frame.f_code.co_filename, tb.tb_lineno)
    return "print(" in line or "stdout.flush()" in line


def _internal_error(exc: Exception) -> int:
    if os.environ.get("SYMSDE_DEBUG"):
        raise exc
    print(f"symsde: internal error: {type(exc).__name__}: {_one_line(str(exc))} "
          "(set SYMSDE_DEBUG=1 for the traceback and please report it)", file=sys.stderr)
    return 1


def _one_line(text: str) -> str:
    return " ".join(text.split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
