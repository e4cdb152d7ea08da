"""Reproducible, self-describing, atomically written JSON.

- ``stationary``, ``simulate`` and ``verify`` with ``--json`` carry a ``provenance`` object
  (symsde, Python, SymPy, NumPy, mpmath versions; the command and every parameter; the seed
  where there is one) and nothing that changes from run to run (no time, host, timings), so
  the same command gives byte-identical JSON, also across hash seeds;
- ``--output FILE`` writes the same bytes to FILE through a temporary file and a rename: an
  interrupted run (SIGINT, SIGTERM, or an interruption in the middle of the write) leaves
  neither a partial file nor a temporary one, and an existing FILE untouched.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import platform
import pty
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import pytest
import sympy as sp

import symsde
from symsde import cli
from symsde.cli import main

SCRIPT = Path(sys.executable).parent / "symsde"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "symsde.cli"]

STATIONARY = ["stationary", "--state", "x,y", "--loss", "x**4/4 - x**2/2 + y**2 + x*y/2",
              "--diffusion", "sigma", "--param", "sigma=1", "--json"]
SIMULATE = ["simulate", "--state", "x", "--drift", "-2*x", "--diffusion", "s", "--param",
            "s=0.7", "--x0", "0.5", "--dt", "0.01", "--steps", "200", "--paths", "3000",
            "--seed", "7", "--compare-stationary", "--json"]
VERIFY = ["verify", "langevin", "--symbolic-only", "--seed", "3", "--json"]
COMMANDS = {"stationary": STATIONARY, "simulate": SIMULATE, "verify": VERIFY}
CONTRACT = {
    "stationary": {"state", "density", "unnormalized", "potential", "normalizer", "method",
                   "is_gibbs", "temperature"},
    "simulate": {"paths", "steps", "dt", "seed", "mean", "cov", "diverged", "stationary"},
    "verify": {"derivations", "errata", "coverage", "experiments", "summary"},
}


def _spawn(argv: list[str], cwd: Path, hash_seed: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "SYMSDE_DEBUG"}
    env["PYTHONHASHSEED"] = hash_seed
    return subprocess.run([*COMMAND, *argv], cwd=cwd, capture_output=True, timeout=300,
                          env=env, check=False)


@pytest.fixture(scope="module")
def twice(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Any]]:
    """Each command run twice as a fresh process, with different hash seeds, concurrently."""
    root = tmp_path_factory.mktemp("twice")
    jobs = [(name, k) for name in COMMANDS for k in ("1", "2")]
    with ThreadPoolExecutor(len(jobs)) as pool:
        procs = list(pool.map(lambda j: _spawn(COMMANDS[j[0]], root, j[1]), jobs))
    runs = dict(zip(jobs, procs, strict=True))
    return {name: (runs[(name, "1")], runs[(name, "2")]) for name in COMMANDS}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_same_command_same_bytes(name: str, twice: dict[str, tuple[Any, Any]]) -> None:
    a, b = twice[name]
    assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
    assert a.stdout == b.stdout
    assert a.stdout.endswith(b"}\n")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_provenance_and_contract(name: str, twice: dict[str, tuple[Any, Any]]) -> None:
    doc = json.loads(twice[name][0].stdout)
    assert CONTRACT[name] | {"provenance"} <= set(doc)
    prov = doc["provenance"]
    assert prov["symsde"] == symsde.__version__
    assert prov["sympy"] == sp.__version__ and prov["numpy"] == np.__version__
    assert prov["mpmath"] == mpmath.__version__
    assert prov["python"] == platform.python_version()
    assert prov["command"] == name
    args = prov["arguments"]
    argv = COMMANDS[name]
    # Every option given is recorded with the value given (presentation flags aside).
    for key, value in itertools.pairwise(argv):
        if key.startswith("--") and not value.startswith("--") and key != "--param":
            assert args[key[2:].replace("-", "_")] == (
                value if isinstance(args[key[2:].replace("-", "_")], str) else
                type(args[key[2:].replace("-", "_")])(value)), key
    assert "json" not in args and "output" not in args and "timings" not in args
    if name != "stationary":
        assert prov["seed"] == int(argv[argv.index("--seed") + 1])
    assert args["timeout"] == cli.DEFAULT_TIMEOUT  # defaults are recorded too
    if name == "simulate":
        assert args["param"] == ["s=0.7"] and args["method"] == "euler"
    text = json.dumps(prov)
    assert socket.gethostname() not in text
    assert not _keys(doc) & {"seconds", "symbolic_seconds", "time", "timestamp", "date",
                             "host", "hostname", "user", "pid"}


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_timings_only_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [*SIMULATE[:-2], "--steps", "5", "--json"]
    argv = [a for a in argv if a != "--compare-stationary"]
    assert main(argv) == 0
    plain = json.loads(capsys.readouterr().out)
    assert main([*argv, "--timings"]) == 0
    timed = json.loads(capsys.readouterr().out)
    assert "seconds" not in plain and isinstance(timed["seconds"], float)
    assert main(["verify", "langevin", "--symbolic-only", "--json", "--timings"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "symbolic_seconds" in doc["summary"] and "seconds" in doc["derivations"][0]


# -- --output ------------------------------------------------------------------------------------
def test_output_file_holds_the_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "density.json"
    assert main([*STATIONARY, "--output", str(target)]) == 0
    printed = capsys.readouterr().out
    assert target.read_text() == printed
    assert sorted(os.listdir(tmp_path)) == ["density.json"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    # Without --json the screen shows the table and the file still gets the JSON, which does
    # not depend on where it is written.
    again = tmp_path / "again.json"
    assert main([a for a in STATIONARY if a != "--json"] + ["--output", str(again)]) == 0
    assert not capsys.readouterr().out.lstrip().startswith("{")
    assert again.read_bytes() == target.read_bytes()


def test_a_failed_run_writes_no_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    assert main(["stationary", "--state", "x", "--drift", "[x]", "--diffusion", "1",
                 "--output", str(target)]) == 1
    assert main(["simulate", "--state", "x", "--drift", "-x", "--diffusion", "1", "--dt", "0",
                 "--output", str(target)]) == 2
    capsys.readouterr()
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("where", ["os.fsync", "os.replace"])
def test_interrupted_write_leaves_old_file_and_no_temporary(
        where: str, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.json"
    target.write_text("previous results\n")

    def interrupt(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.os, where.split(".")[1], interrupt)
    code = main([*STATIONARY, "--output", str(target)])
    monkeypatch.undo()
    _, err = capsys.readouterr()
    assert code == 130 and err == "symsde: interrupted\n"
    assert target.read_text() == "previous results\n"
    assert os.listdir(tmp_path) == ["out.json"]


def test_sigterm_handler_is_restored(capsys: pytest.CaptureFixture[str]) -> None:
    before = signal.getsignal(signal.SIGTERM)
    assert main(["list"]) == 0
    capsys.readouterr()
    assert signal.getsignal(signal.SIGTERM) is before


# -- real processes interrupted in the middle of a run --------------------------------------------
LONG_RUN = ["simulate", "--state", "x", "--drift", "-x", "--diffusion", "1", "--paths",
            "100000", "--steps", "200000", "--json"]


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
@pytest.mark.parametrize(("sig", "code", "message"),
                         [(signal.SIGINT, 130, "symsde: interrupted"),
                          (signal.SIGTERM, 143, "symsde: terminated")])
def test_signal_mid_simulation_leaves_no_file(sig: int, code: int, message: str,
                                              tmp_path: Path) -> None:
    # stderr on a terminal makes the simulator draw its progress bar (after 2 s of running):
    # seeing it proves the signal lands in the middle of the simulation, not at start-up.
    master, slave = pty.openpty()
    # A new pseudo-terminal is 0 columns wide, and tqdm draws nothing in 0 columns.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    env = {k: v for k, v in os.environ.items() if k != "SYMSDE_DEBUG"}
    # A shell that starts a job in the background (as CI runners may) ignores SIGINT, and
    # an ignored signal stays ignored across exec: give the command the default handling.
    proc = subprocess.Popen([*COMMAND, *LONG_RUN, "--output", "out.json"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=slave, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 90
        while b"step" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                seen += os.read(master, 4096)
        assert b"step" in seen, f"no progress bar: {seen!r}"
        proc.send_signal(sig)
        # Keep reading the terminal until the process has ended: a terminal nobody reads
        # fills up, and the process would block writing its last progress line.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    chunk = b""
                seen += chunk
                if chunk:
                    continue
            if proc.poll() is not None:
                break
        stdout, _ = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert proc.returncode == code
    assert stdout == b""
    text = seen.decode(errors="replace")
    assert message in text and "Traceback" not in text
    assert os.listdir(tmp_path) == []
