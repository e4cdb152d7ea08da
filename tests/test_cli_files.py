"""Output files and standard output (issue 15, class 6).

Regular files are written atomically and keep their mode (new ones follow the umask);
character devices and FIFOs are written straight into, never replaced; unusable targets
are refused before any work; a full or closed standard output ends with one clear line.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from symsde.cli import main

SIM = ["simulate", "--state", "x", "--drift", "-x", "--diffusion", "1", "--paths", "100",
       "--steps", "5", "--json"]
SCRIPT = Path(sys.executable).parent / "symsde"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "symsde.cli"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_an_existing_file_keeps_its_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    target.chmod(0o600)
    code, _, err = run(capsys, *SIM, "--output", str(target))
    assert code == 0, err
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text())["paths"] == 100


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_file_follows_the_umask(umask: int, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    old = os.umask(umask)
    try:
        code, _, err = run(capsys, *SIM, "--output", str(tmp_path / "new.json"))
    finally:
        os.umask(old)
    assert code == 0, err
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o666 & ~umask


def test_a_plot_follows_the_umask_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                      ) -> None:
    pytest.importorskip("matplotlib")
    old = os.umask(0o022)
    try:
        code, _, err = run(capsys, *SIM, "--plot", str(tmp_path / "p.png"))
    finally:
        os.umask(old)
    assert code == 0, err
    assert stat.S_IMODE((tmp_path / "p.png").stat().st_mode) == 0o644


def test_a_character_device_is_written_into_not_replaced(capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    before = os.stat("/dev/null")
    code, _, err = run(capsys, *SIM, "--output", "/dev/null")
    after = os.stat("/dev/null")
    assert code == 0, err
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino
    assert after.st_rdev == before.st_rdev


def test_a_fifo_is_written_into(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    ready = threading.Event()

    def read() -> None:
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        ready.set()
        chunks = []
        import select

        while True:
            r, _, _ = select.select([fd], [], [], 30)
            if not r:
                break
            b = os.read(fd, 65536)
            if not b and chunks:
                break
            chunks.append(b)
        os.close(fd)
        got.append(b"".join(chunks))

    t = threading.Thread(target=read, daemon=True)
    t.start()
    ready.wait(10)
    code, _, err = run(capsys, *SIM, "--output", str(fifo))
    t.join(30)
    assert code == 0, err
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still a FIFO
    assert json.loads(got[0])["paths"] == 100


def test_a_fifo_without_a_reader_is_refused_without_waiting(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code, _, err = run(capsys, *SIM, "--output", str(fifo))
    assert code == 1 and "no process reads from it" in err and err.count("\n") == 1
    assert stat.S_ISFIFO(fifo.stat().st_mode)


@pytest.mark.parametrize(("target", "message"), [
    ("", "--output is empty"),
    ("   ", "--output is empty"),
    ("{tmp}", "is a folder"),
    ("{tmp}/missing/out.json", "does not exist"),
    ("{tmp}/" + "n" * 300 + ".json", "too long"),
])
def test_unusable_outputs_are_refused_before_any_work(
        target: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *SIM[:-1], "--steps", "10**9", "--output",
                         target.format(tmp=tmp_path))
    # --steps 10**9 would take minutes: the refusal comes first, before any work
    assert code == 2 and out == "" and message in err and err.count("\n") == 1


@pytest.mark.parametrize(("target", "message"), [
    ("", "--plot is empty"),
    ("{tmp}/missing/p.png", "does not exist"),
    ("{tmp}/" + "n" * 300 + ".png", "too long"),
    ("{tmp}/p.txt", "give a file ending in .png"),
])
def test_unusable_plots_are_refused_before_any_work(
        target: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    code, out, err = run(capsys, *SIM[:-1], "--steps", "10**9", "--plot",
                         target.format(tmp=tmp_path))
    assert code == 2 and out == "" and message in err and err.count("\n") == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_an_unwritable_folder_is_refused_first(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, _, err = run(capsys, *SIM, "--output", str(locked / "out.json"))
    assert code == 2 and "cannot write in" in err


def test_a_full_standard_output_is_one_line_and_exit_1(tmp_path: Path) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with open("/dev/full", "w") as full:
        proc = subprocess.run([*COMMAND, *SIM], stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1 and "cannot write the result to standard output" \
        in proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr


def test_a_closed_standard_output_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run([*COMMAND, *SIM], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, timeout=120, cwd=tmp_path,
                          preexec_fn=lambda: os.close(1))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "standard output is closed" in proc.stderr


def test_a_broken_pipe_is_one_line(tmp_path: Path) -> None:
    r, w = os.pipe()
    os.close(r)  # nobody reads
    try:
        proc = subprocess.run([*COMMAND, *SIM], stdout=w, stderr=subprocess.PIPE, text=True,
                              timeout=120, cwd=tmp_path)
    finally:
        os.close(w)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1 and "standard output" in proc.stderr
