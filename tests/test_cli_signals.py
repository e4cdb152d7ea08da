"""Ctrl-C while SymPy is still loading (issue 15, class 10): one line, exit code 130."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "symsde"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "symsde.cli"]


def test_importing_the_cli_does_not_import_sympy() -> None:
    # the window in which Ctrl-C could escape main() is the import of symsde.cli itself
    code = "import sys, symsde.cli; print('sympy' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout.split()
    assert out == ["False", "False"]


@pytest.mark.parametrize("delay", [0.35, 0.6])
def test_ctrl_c_during_the_import_is_one_line(delay: float, tmp_path: Path) -> None:
    proc = subprocess.Popen([*COMMAND, "stationary", "--state", "x", "--drift", "[-x]",
                             "--diffusion", "1"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            # a background job of a shell starts with SIGINT ignored
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the command finished before the signal (a fast machine)")
    assert "Traceback" not in err, err
    assert proc.returncode == 130, (proc.returncode, err)
    assert err == "symsde: interrupted\n"
