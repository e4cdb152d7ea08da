"""The ``symsde`` command line.

Exit codes: 0 success; 1 a mathematical failure (not normalisable, no stationary density,
a derivation step fails, symbolic work timed out); 2 bad input. Errors are one line on
stderr. Expressions are read by :mod:`symsde.parsing`, never evaluated as Python.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any, NoReturn

import sympy as sp

from symsde._timeout import time_limit
from symsde.errors import InputError, SymsdeError

__all__ = ["main"]

DEFAULT_TIMEOUT = 60.0


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
    v.add_argument("--seed", type=int, default=0,
                   help="seed of the confirmation experiments (default 0)")
    v.add_argument("--timeout", type=float, default=None,
                   help="give up on symbolic work after this many seconds (default: none)")

    s = sub.add_parser("show", help="print one derivation")
    s.add_argument("name", metavar="NAME")
    fmt = s.add_mutually_exclusive_group()
    fmt.add_argument("--latex", action="store_true", help="LaTeX, ready for slides")
    fmt.add_argument("--markdown", action="store_true", help="Markdown with $$ math $$")
    fmt.add_argument("--json", action="store_true", help="JSON")

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
    st.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                    help=f"seconds of symbolic work before giving up (default {DEFAULT_TIMEOUT:g})")
    _add_simulate_parser(sub)
    return p


# -- stationary ---------------------------------------------------------------------------
def _symbols(args: argparse.Namespace) -> tuple[list[sp.Symbol], dict[str, sp.Symbol],
                                                  dict[sp.Symbol, sp.Expr]]:
    from symsde.parsing import parse_name, parse_number

    names = [parse_name(n, "state name") for n in args.state.split(",")]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f"state name {dup!r} appears twice in --state; list each variable once")
    state = [sp.Symbol(n, real=True) for n in names]
    table: dict[str, sp.Symbol] = {s.name: s for s in state}
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
    return state, table, values


def _cmd_stationary(args: argparse.Namespace) -> int:
    from symsde.parsing import parse_expression, parse_matrix
    from symsde.sde import SDE
    from symsde.stationary import stationary_density

    state, table, values = _symbols(args)
    if args.loss is None and args.drift is None:
        raise InputError("give the drift with --drift or a loss with --loss")
    if args.loss is not None and args.drift is not None:
        raise InputError("give either --drift or --loss, not both")
    with time_limit(args.timeout, "deriving the stationary density"):
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
        st = stationary_density(sde, method=args.method)
        out = st.to_dict()
    if args.json:
        print(json.dumps(out, indent=2, sort_keys=True))
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
    sm.add_argument("--method", choices=["euler", "milstein"], default="euler")
    sm.add_argument("--json", action="store_true", help="machine-readable output")
    sm.add_argument("--plot", metavar="FILE",
                    help="write a histogram of the final states over the stationary density")
    sm.add_argument("--compare-stationary", action="store_true",
                    help="test the final states against the symbolic stationary density")
    sm.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                    help="seconds of symbolic work (stationary density) before giving up")


def _cli_count(text: str, what: str, lo: int) -> int:
    from symsde.parsing import parse_number

    v = parse_number(text, what)
    if not v.is_integer or int(v) < lo:
        raise InputError(f"{what} must be a whole number >= {lo}, got {text!r}")
    return int(v)


def _cmd_simulate(args: argparse.Namespace) -> int:
    import warnings

    import numpy as np

    from symsde.parsing import parse_matrix, parse_number
    from symsde.sde import SDE
    from symsde.simulation import simulate

    state, table, values = _symbols(args)
    unset = [item.partition("=")[0].strip() for item in args.param if "=" not in item]
    if unset:
        raise InputError(f"parameter {unset[0]!r} needs a value to simulate, e.g. "
                         f"--param {unset[0]}=1")
    drift = _subs(parse_matrix(args.drift, table, "--drift"), values)
    if isinstance(drift, list) and any(isinstance(e, list) for e in drift):
        raise InputError('--drift must be a flat list with one expression per state variable, '
                         'e.g. "[-x, -2*y]"')
    noise = _subs(parse_matrix(args.diffusion, table, "--diffusion"), values)
    x0 = parse_matrix(args.x0, {}, "--x0")
    if isinstance(x0, list) and any(isinstance(e, list) for e in x0):
        raise InputError('--x0 must be a number or a flat list, e.g. "[1, 0]"')
    x0v = [float(parse_number(str(e), "--x0")) for e in (x0 if isinstance(x0, list) else [x0])]
    dt = float(parse_number(args.dt, "--dt"))
    steps = _cli_count(args.steps, "--steps", 1)
    paths = _cli_count(args.paths, "--paths", 2)
    seed = _cli_count(args.seed, "--seed", 0)
    sde = SDE(state, drift, noise)
    if args.plot:
        _check_plot_target(args.plot)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = simulate(sde, x0v if len(x0v) > 1 else x0v[0], dt=dt, n_steps=steps,
                       n_paths=paths, seed=seed, method=args.method,
                       progress=sys.stderr.isatty(), progress_delay=2.0)
    out = res.to_dict()
    out["state"] = [s.name for s in state]
    finite = res.final[np.isfinite(res.final).all(axis=1)]
    st = None
    failed = []
    if args.compare_stationary or args.plot:
        st, why = _stationary_for_simulation(sde, args.timeout, required=args.compare_stationary)
        if why:
            print(f"symsde: note: {why}; the plot shows the histogram alone", file=sys.stderr)
    if args.compare_stationary:
        out["stationary"] = _compare_stationary(st, finite)
        if not out["stationary"]["verdict"]:
            failed.append(f"the final states do not follow the stationary density "
                          f"({out['stationary']['text']})")
    if args.plot:
        _plot_histogram(args.plot, finite, st, [s.name for s in state])
        out["plot"] = args.plot
    if res.diverged:
        failed.insert(0, f"{res.diverged} of {paths} paths diverged (left the finite range); "
                         "try a smaller --dt")
    if args.json:
        print(json.dumps(out, indent=2, sort_keys=True))
    else:
        rows = [(k, json.dumps(out[k]) if isinstance(out[k], list) else str(out[k]))
                for k in ("state", "paths", "steps", "dt", "seed", "method", "mean", "cov",
                          "diverged", "seconds")]
        if "stationary" in out:
            rows.append(("stationary", out["stationary"]["text"]))
        if "plot" in out:
            rows.append(("plot", out["plot"]))
        width = max(len(k) for k, _ in rows)
        for k, v in rows:
            print(f"{k:<{width}}  {v}")
    for msg in failed:
        print(f"symsde: error: {msg}", file=sys.stderr)
    return 1 if failed else 0


def _stationary_for_simulation(sde: Any, timeout: float, required: bool) -> tuple[Any, str]:
    from symsde.stationary import stationary_density

    try:
        with time_limit(timeout, "deriving the stationary density"):
            st = stationary_density(sde)
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
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InputError(f"--plot: the folder {folder!r} does not exist; create it first")
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    if ext not in {"png", "pdf", "svg", "jpg", "jpeg", "eps", "ps"}:
        raise InputError(f"--plot {path!r}: give a file ending in .png, .pdf or .svg")


def _plot_histogram(path: str, finite: Any, st: Any, names: list[str]) -> None:
    import tempfile

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
    folder = os.path.dirname(os.path.abspath(path))
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    fd, tmp = tempfile.mkstemp(prefix=".symsde-", suffix="." + ext, dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fig.savefig(fh, format=ext)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    finally:
        plt.close(fig)


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
    from symsde.registry import coverage, derivation_names, load

    t0 = time.perf_counter()
    names = args.names or list(derivation_names())
    with time_limit(args.timeout, "verifying the derivations"):
        derivs = load(names) if names else []
        results = [d.verify() for d in derivs]
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
    cov = coverage(derivs) if not args.names else None
    if args.json:
        doc = {"derivations": [r.to_dict() for r in results], "errata": errata,
               "coverage": None if cov is None else cov.to_dict(),
               "experiments": [e.to_dict() for e in experiments],
               "summary": {"derivations": len(results),
                           "steps": sum(len(r.steps) for r in results),
                           "holds": total["holds"], "errata": total["erratum"],
                           "fails": total["fails"], "experiments": len(experiments),
                           "experiments_ok": experiments_ok, "ok": not failed,
                           "symbolic_seconds": round(symbolic_seconds, 3)}}
        print(json.dumps(doc, indent=2, sort_keys=True))
        return 1 if failed else 0
    if not results:
        print("no derivations registered (derivations.REGISTRY is empty): nothing to verify")
    rows = [(r.derivation.name, str(len(r.steps)), str(r.count("holds")), str(r.count("erratum")),
             str(r.count("fails")), f"{r.seconds:.2f}s") for r in results]
    rows.append(("total", str(sum(len(r.steps) for r in results)), str(total["holds"]),
                 str(total["erratum"]), str(total["fails"]), f"{symbolic_seconds:.2f}s"))
    _table(["derivation", "steps", "holds", "errata", "fails", "time"], rows)
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

    (d,) = load([args.name])
    if args.latex:
        print(d.render_latex())
    elif args.markdown:
        print(d.render_markdown())
    elif args.json:
        print(d.to_json())
    else:
        print(d.render_text())
    return 1 if not d.verify().ok else 0


COMMANDS = {
    "simulate": _cmd_simulate,
    "list": _cmd_list,
    "verify": _cmd_verify,
    "show": _cmd_show,
    "stationary": _cmd_stationary,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 mathematical failure, 2 bad input)."""
    try:
        args = _build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except SymsdeError as exc:
        print(f"symsde: error: {_one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("symsde: interrupted", file=sys.stderr)
        return 130
    except RecursionError:
        print("symsde: error: the expression is too deeply nested to handle", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help and --version
        return int(exc.code or 0)
    except Exception as exc:  # a bug of ours: still one line, and a way to see more
        if os.environ.get("SYMSDE_DEBUG"):
            raise
        print(f"symsde: internal error: {type(exc).__name__}: {_one_line(str(exc))} "
              "(set SYMSDE_DEBUG=1 for the traceback and please report it)", file=sys.stderr)
        return 1


def _one_line(text: str) -> str:
    return " ".join(text.split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
