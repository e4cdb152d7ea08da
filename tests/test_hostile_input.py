"""The input catalogue (:mod:`input_catalogue`) against the real CLI and the Python API.

Every case runs through :func:`symsde.cli.main` in an empty working directory: the exit
code must be the catalogued one, stderr one line with the catalogued fragment and no
traceback, stdout empty unless the run produced results, and the working directory still
empty afterwards (no payload wrote a file, no temporary file was left).

The cases where the process boundary matters also run as real ``symsde`` processes, a few
at a time: every injection (a payload that ran would leave its marker file), the time
limits (in a fresh process), sizes, memory refusals, the diverging scheme, output
files, and one case of every other kind. A process spends most of its second importing
SymPy, so running all ~140 cases that way would cost a minute and a half of CPU for no
extra coverage: in-process the same ``main`` computes the same exit code and message.

The same strings then go through the Python API (:mod:`symsde.parsing`, :class:`SDE`,
:func:`stationary_density`, :func:`plan_simulation`), which must raise the catalogued
:mod:`symsde.errors` class with the exit code of the command line.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp
from input_catalogue import (
    API_SURFACES,
    CASES,
    KINDS,
    Case,
    _api_cases,
    by_kind,
    by_round2_class,
)

from symsde import SDE, errors, simulate, stationary_density
from symsde._timeout import time_limit
from symsde.cli import main
from symsde.parsing import parse_expression, parse_matrix, parse_name, parse_number
from symsde.simulation import InvalidSimulationError, plan_simulation

SCRIPT = Path(sys.executable).parent / "symsde"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "symsde.cli"]
#: No case may take longer than this (a hung CI job is the failure this guards against).
CASE_SECONDS = 60
WORKERS = max(2, min(6, 2 * (os.cpu_count() or 1)))


def error_class(name: str) -> type[errors.SymsdeError]:
    """A class of :mod:`symsde.errors` (or the simulator's InvalidSimulationError) by name."""
    if name == "InvalidSimulationError":
        return InvalidSimulationError
    cls = getattr(errors, name)
    assert issubclass(cls, errors.SymsdeError)
    return cls


@dataclass
class Run:
    code: int
    out: str
    err: str
    seconds: float
    left: list[str]  # files in the working directory afterwards
    marker: bool  # the marker file exists


def _argv(case: Case, marker: Path) -> list[str]:
    return [a.replace("{marker}", str(marker)) for a in case.argv]


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SYMSDE_DEBUG"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _run(case: Case, root: Path) -> Run:
    cwd = root / case.id
    cwd.mkdir()
    marker = root / f"{case.id}.marker"
    t0 = time.monotonic()
    try:
        proc = subprocess.run([*COMMAND, *_argv(case, marker)], cwd=cwd, capture_output=True,
                              text=True, timeout=2 * CASE_SECONDS, env=_environment(),
                              check=False)
        code, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired:
        code, out, err = -1, "", f"did not finish in {2 * CASE_SECONDS} s"
    return Run(code, out, err, time.monotonic() - t0, sorted(os.listdir(cwd)), marker.exists())


def _needs_process(case: Case) -> bool:
    return (case.kind in ("injection", "timeout", "size", "files")
            or any(w in case.id for w in ("memory", "absurd", "diverges"))
            or case is next(c for c in CASES if c.kind == case.kind))


PROCESS_CASES = [c for c in CASES if _needs_process(c)]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    root = tmp_path_factory.mktemp("catalogue")
    # Slow cases first, so that they overlap with the many quick ones.
    order = sorted(PROCESS_CASES, key=lambda c: c.kind not in ("timeout", "math", "numeric"))
    with ThreadPoolExecutor(WORKERS) as pool:
        done = dict(zip([c.id for c in order], pool.map(lambda c: _run(c, root), order),
                        strict=True))
    return done


# -- the catalogue itself ----------------------------------------------------------------
def test_catalogue_is_large_varied_and_well_formed() -> None:
    counts = by_kind()
    assert len(CASES) >= 40
    assert set(counts) == set(KINDS) and all(counts.values())
    assert counts["injection"] >= 20
    assert len({c.id for c in CASES}) == len(CASES)
    assert all(c.exit in (1, 2) and c.fragment for c in CASES)
    assert all(c.api is None or error_class(c.api) for c in CASES)
    # Every option that takes an expression or a number carries an injection attempt.
    injected = {a for c in CASES if c.kind == "injection" for a in c.argv if a.startswith("--")}
    for option in ("--drift", "--loss", "--diffusion", "--diffusion-matrix", "--param",
                   "--state", "--x0", "--dt", "--steps", "--paths", "--seed", "--method"):
        assert option in injected, option


def _check(case: Case, r: Run) -> None:
    detail = f"exit {r.code}, stderr {r.err!r}, stdout {r.out[:200]!r}"
    assert r.code == case.exit, detail
    assert "Traceback" not in r.err and "Traceback" not in r.out, detail
    assert r.err.count("\n") == 1 and r.err.endswith("\n"), detail
    assert r.err.startswith("symsde: error: "), detail
    assert case.fragment in r.err, detail
    if "diverged" in case.fragment:
        assert r.out, "a diverged run still reports its results on stdout"
    else:
        assert r.out == "", detail
    assert not r.marker, "a payload ran: the marker file exists"
    assert r.left == [], f"files left in the working directory: {r.left}"
    assert r.seconds < CASE_SECONDS


@pytest.mark.parametrize("case", PROCESS_CASES, ids=[c.id for c in PROCESS_CASES])
def test_cli_process(case: Case, runs: dict[str, Run]) -> None:
    _check(case, runs[case.id])


# A derivation verified once is cached for the life of the process, so in-process the time
# limits of show and verify have nothing left to stop; their process runs check them.
IN_PROCESS_CASES = [c for c in CASES if not (c.kind == "timeout" and c.argv[0] in
                                             ("show", "verify"))]


@pytest.mark.parametrize("case", IN_PROCESS_CASES, ids=[c.id for c in IN_PROCESS_CASES])
def test_cli_in_process(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture[str]) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    marker = tmp_path / "case.marker"
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("SYMSDE_DEBUG", raising=False)
    t0 = time.monotonic()
    code = main(_argv(case, marker))
    out, err = capsys.readouterr()
    _check(case, Run(code, out, err, time.monotonic() - t0, sorted(os.listdir(cwd)),
                     marker.exists()))


def test_every_kind_and_every_command_runs_as_a_process() -> None:
    assert {c.kind for c in PROCESS_CASES} == set(KINDS)
    assert {c.argv[0] for c in PROCESS_CASES} == {"stationary", "simulate", "show", "verify",
                                                  "scheme"}
    assert all(c in PROCESS_CASES for c in CASES if c.kind == "injection")


def test_the_marker_check_would_see_a_payload(tmp_path: Path) -> None:
    # Negative control: the same payloads, executed as Python, do create the files.
    marker = tmp_path / "control.marker"
    payload = next(c for c in CASES if c.id == "inj-drift-os-system").argv[4]
    env = _environment()
    code = f"import os; os.chdir({str(tmp_path)!r}); {payload[1:-1]}; open(chr(77), chr(119))"
    subprocess.run([sys.executable, "-c", code.replace("{marker}", str(marker))], env=env,
                   check=True, capture_output=True)
    assert marker.exists() and (tmp_path / "M").exists()


def test_python_dash_m_runs_the_cli(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "symsde.cli", "stationary", "--state", "x",
                           "--drift=-x", "--diffusion", "1", "--json"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False,
                          env=_environment())
    assert proc.returncode == 0, proc.stderr
    assert '"method": "zero-flux-1d"' in proc.stdout
    bad = subprocess.run([sys.executable, "-m", "symsde.cli", "stationary", "--state", "x",
                          "--drift", "x^2", "--diffusion", "1"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120, check=False,
                         env=_environment())
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "did you mean" in bad.stderr


# -- the same strings through the Python API ---------------------------------------------
FLAGS = {"--json", "--compare-stationary", "--symbolic-only", "--latex", "--markdown",
         "--timings"}


def _options(argv: tuple[str, ...]) -> tuple[dict[str, Any], list[str]]:
    opts: dict[str, Any] = {"--param": []}
    positional: list[str] = []
    items: Iterator[str] = iter(argv)
    for a in items:
        if not a.startswith("--"):
            positional.append(a)
            continue
        key, eq, value = a.partition("=")
        if key in FLAGS:
            opts[key] = True
            continue
        value = value if eq else next(items)
        if key == "--param":
            opts[key].append(value)
        else:
            opts[key] = value
    return opts, positional


def _number(text: str, what: str) -> int | float:
    v = parse_number(text, what)
    return int(v) if v.is_Integer else float(v)


def api_call(argv: tuple[str, ...]) -> None:
    """Do with the public Python API what the command line does with ``argv``."""
    from symsde import registry

    command = argv[0]
    opts, positional = _options(argv[1:])
    timeout = float(opts["--timeout"]) if "--timeout" in opts else None
    with time_limit(timeout, "the API call"):
        if command in ("show", "verify"):
            for d in registry.load(positional):
                # Check afresh, as a new process does. A verify cut short by the limit caches
                # steps that failed for lack of time (Derivation.verify keeps its last
                # result): put the previous result back so that later tests see the truth.
                previous = dict(d._results)
                try:
                    d.verify(refresh=True)
                finally:
                    d._results.clear()
                    d._results.update(previous)
            return
        # Names typed as text are checked as the command line checks them.
        from symsde.inputs import check_name

        state = [sp.Symbol(check_name(parse_name(n, "state name"), "state name"), real=True)
                 for n in opts["--state"].split(",")]
        table: dict[str, Any] = {s.name: s for s in state}
        for item in opts["--param"]:
            name, eq, value = item.partition("=")
            name = parse_name(name, "parameter name")
            table[name] = (parse_number(value, f"value of {name}") if eq
                           else sp.Symbol(name, positive=True))
        from symsde.inputs import parse_domain

        dom = (parse_domain(opts["--domain"], state, {k: v for k, v in table.items()
                                                       if isinstance(v, sp.Symbol)})
               if "--domain" in opts else None)
        if "--diffusion-matrix" in opts:
            D = parse_matrix(opts["--diffusion-matrix"], table, "--diffusion-matrix")
        else:
            G = parse_matrix(opts["--diffusion"], table, "--diffusion")
        if "--loss" in opts:
            loss = parse_expression(opts["--loss"], table, "--loss")
            if "--diffusion-matrix" in opts:
                sde = SDE.from_diffusion_matrix(state, [-sp.diff(loss, s) for s in state], D,
                                                loss=loss, domain=dom)
            else:
                sde = SDE.langevin(loss, state, G, dom)
        else:
            drift = parse_matrix(opts["--drift"], table, "--drift")
            drift = drift if isinstance(drift, list) else [drift]
            if "--diffusion-matrix" in opts:
                sde = SDE.from_diffusion_matrix(state, drift, D, domain=dom)
            else:
                sde = SDE(state, drift, G, dom)
        if command == "stationary":
            stationary_density(sde, method=opts.get("--method"))
            return
        x0 = parse_matrix(opts.get("--x0", "0"), {}, "--x0")
        plan_simulation(sde, [float(e) for e in x0] if isinstance(x0, list) else float(x0),
                        dt=_number(opts.get("--dt", "0.01"), "--dt"),
                        n_steps=_number(opts.get("--steps", "1000"), "--steps"),
                        n_paths=_number(opts.get("--paths", "100000"), "--paths"),
                        seed=_number(opts.get("--seed", "0"), "--seed"),
                        method=opts.get("--method", "euler"))
        if opts.get("--compare-stationary"):
            stationary_density(sde)


API_CASES = [c for c in CASES if c.api is not None]


@pytest.mark.parametrize("case", API_CASES, ids=[c.id for c in API_CASES])
def test_api(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "api.marker"
    expected = error_class(case.api)
    with pytest.raises(errors.SymsdeError) as info:
        api_call(tuple(_argv(case, marker)))
    assert isinstance(info.value, expected), f"{type(info.value).__name__}: {info.value}"
    assert info.value.exit_code == case.exit
    assert os.listdir(tmp_path) == []


def test_every_class_of_round_two_has_cases() -> None:
    # Classes 1 (strings in the API) and 11 (limits that cannot kill the host) are tested
    # by tests/test_inputs.py, tests/test_fuzz_api.py and tests/test__timeout.py; the
    # catalogue has command lines for the others (and one for 11).
    counts = by_round2_class()
    assert all(counts[k] >= 1 for k in range(2, 12)), counts


def test_api_share_of_the_catalogue() -> None:
    # Most cases are checks of the engine, not of the command line alone.
    assert len(API_CASES) >= 0.75 * len(CASES)


# -- the diverging scheme, through the API -----------------------------------------------
def test_divergence_reports_paths_and_first_step() -> None:
    x = sp.Symbol("x", real=True)
    sde = SDE([x], [-x**5], 1)
    with pytest.warns(RuntimeWarning, match="the first after step 5"):
        res = simulate(sde, 3.0, dt=1.0, n_steps=100, n_paths=1000)
    assert res.diverged == 1000 and res.first_diverged_step == 5
    assert res.to_dict()["first_diverged_step"] == 5
    # x -> x - x^5 from 3: -240, then about 8e11, then beyond 1e58, then past 1e308.
    xs = [3.0]
    with np.errstate(all="ignore"):
        while np.isfinite(xs[-1]):
            xs.append(float(np.float64(xs[-1]) - np.float64(xs[-1]) ** 5))
    assert len(xs) - 1 in (4, 5)  # the noise can only shift it by about a step
    stable = simulate(SDE([x], [-x], 1), 3.0, dt=0.01, n_steps=50, n_paths=100)
    assert stable.diverged == 0 and stable.first_diverged_step is None


def test_first_diverged_step_does_not_depend_on_chunking() -> None:
    x = sp.Symbol("x", real=True)
    sde = SDE([x], [x**3], 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = {(bs, cs): simulate(sde, 0.0, dt=0.2, n_steps=200, n_paths=6000, block_size=bs,
                                  chunk_size=cs)
               for bs, cs in ((1000, 1000), (1000, 6000), (1000, 3000))}
    steps = {r.first_diverged_step for r in got.values()}
    divs = {r.diverged for r in got.values()}
    assert len(steps) == 1 and len(divs) == 1
    (first,) = steps
    assert first is not None and 1 < first < 200 and 0 < divs.pop() <= 6000


# -- time limits that cannot be swallowed ----------------------------------------------------
# (the stress tests of the limits themselves are in tests/test__timeout.py)
def _spin(seconds: float) -> None:
    """Pure-Python work (a limit interrupts bytecode, not a sleep in C)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_a_caught_timeout_still_ends_the_block() -> None:
    # SymPy and the engine catch exceptions broadly; work that goes on after catching the
    # first error is stopped by the next one.
    t0 = time.monotonic()
    with pytest.raises(errors.SymbolicTimeoutError, match="while working"), \
            time_limit(0.2, "working"):
        with contextlib.suppress(Exception):
            _spin(1)
        _spin(30)
    assert time.monotonic() - t0 < 5
    # and a block that ends normally after its deadline still ends with the error
    with pytest.raises(errors.SymbolicTimeoutError, match="while napping"), \
            time_limit(0.1, "napping"), contextlib.suppress(errors.SymbolicTimeoutError):
        _spin(1)


def test_outer_limit_wins_over_inner_fallbacks() -> None:
    # stationary_density treats an inner time-out as "no closed form" and goes on; an outer
    # limit that passes meanwhile must still end the outer block (this once hung the CLI).
    t0 = time.monotonic()
    with pytest.raises(errors.SymbolicTimeoutError, match="while outer"), \
            time_limit(0.4, "outer"):
        for _ in range(1000):
            try:
                with time_limit(0.15, "inner"):
                    _spin(1)
            except errors.SymbolicTimeoutError:
                pass
    assert time.monotonic() - t0 < 5


def test_an_inner_timeout_leaves_the_outer_limit_and_signals_as_they_were() -> None:
    import signal

    before = signal.getsignal(signal.SIGALRM)
    timer = signal.getitimer(signal.ITIMER_REAL)
    with time_limit(5, "outer"):
        with pytest.raises(errors.SymbolicTimeoutError, match="while inner"), \
                time_limit(0.05, "inner"):
            _spin(1)
        _spin(0.1)  # the outer limit is still active, and far away
    assert signal.getitimer(signal.ITIMER_REAL) == timer
    assert signal.getsignal(signal.SIGALRM) == before


# -- the API's new surfaces (issues 12 and 15) ---------------------------------------------
API_SURFACE_CASES = _api_cases()


def test_every_new_surface_has_hostile_cases() -> None:
    assert {c.surface for c in API_SURFACE_CASES} == set(API_SURFACES)
    assert len({c.id for c in API_SURFACE_CASES}) == len(API_SURFACE_CASES)
    commands = {c.argv[0] for c in CASES}
    assert {"scheme", "mutate"} <= commands


@pytest.mark.parametrize("case", API_SURFACE_CASES, ids=[c.id for c in API_SURFACE_CASES])
def test_api_surface(case: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from symsde.latex import LatexReadError

    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "api.marker"
    expected = LatexReadError if case.error == "LatexReadError" else error_class(case.error)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(Exception) as info, time_limit(30, "a catalogued API call"):
            case.call(str(marker))  # the exact class is checked below
    assert type(info.value) is expected, f"{type(info.value).__name__}: {info.value}"
    message = str(info.value)
    assert case.fragment in message, message
    assert "\n" not in message.strip()
    assert os.listdir(tmp_path) == []
