"""Outcomes that do not depend on PYTHONHASHSEED (issue 15, class 7): parsing, and whole
commands (from the audit's second round).

SymPy orders the terms of sums by hashes in places, so a check that asks SymPy to compare
two expressions symbolically can answer differently from one process to the next. The
parser's size checks evaluate numbers instead; here the same inputs run in processes with
different hash seeds and must give the same outcome, message included.
"""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = r'''
import sympy as sp
from symsde.errors import SymsdeError
from symsde.parsing import parse_expression
x = sp.Symbol("x", real=True)
cases = [
    "2**(64*(sin(1)**2 + cos(1)**2))", "x**(64*(sin(1)**2 + cos(1)**2))",
    "x**(64*(cos(1)**2 + sin(1)**2) + 1/10**30)", "x**(sqrt(2)*sqrt(2)*32)",
    "exp(64*log(exp(64*log(exp(64*log(10))))))", "(1 + x + x**2)**(8*(sin(2)**2 + cos(2)**2))",
    "0**(sin(1)**2 + cos(1)**2 - 1)", "exp(64*log(10))**(sin(3)**2 + cos(3)**2)",
    "10**(2*sqrt(2)*sqrt(2)*8)", "sqrt(2)**(64*(sin(1)**2 + cos(1)**2))",
]
for text in cases:
    try:
        print(repr(text), "->", sp.srepr(parse_expression(text, [x]))[:80])
    except SymsdeError as exc:
        print(repr(text), "->", type(exc).__name__, exc)
'''


def _outputs_under_seeds(script: str, seeds: tuple[str, ...], timeout: float) -> list[str]:
    """What ``script`` prints in a fresh process under each PYTHONHASHSEED; each run must
    end normally (an error not of ours would stop it)."""
    outputs = []
    for seed in seeds:
        env = {**{k: v for k, v in os.environ.items() if k != "SYMSDE_DEBUG"},
               "PYTHONHASHSEED": seed}
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              env=env, timeout=timeout, check=False)
        assert proc.returncode == 0, proc.stderr
        outputs.append(proc.stdout)
    return outputs


def test_parsing_outcomes_do_not_depend_on_the_hash_seed() -> None:
    outputs = _outputs_under_seeds(SCRIPT, ("0", "1", "2", "12345"), 120)
    assert outputs[0].count("\n") == 10
    # no case ended in an error other than ours (they would have stopped the script)
    assert all(o == outputs[0] for o in outputs), outputs


# -- the outcome of a command never depends on PYTHONHASHSEED (class 7) ----------------------
HASH_SCRIPT = r'''
import contextlib, io, re, sys
from symsde.cli import main
cases = [
    ["stationary", "--state", "x", "--drift", "[-abs(1 - x)]", "--diffusion", "1",
     "--domain", "(1, oo)", "--json"],
    ["stationary", "--state", "x", "--drift", "[-abs(x)*sign(x - 1) - x]", "--diffusion", "1",
     "--json"],
    ["stationary", "--state", "x", "--drift", "[abs(1 - x)]", "--diffusion", "1"],
    ["stationary", "--state", "x", "--loss", "acos(sqrt(x))", "--diffusion", "1"],
    ["stationary", "--state", "x", "--drift", "[-x]", "--diffusion", "0**x"],
    ["stationary", "--state", "x,y", "--loss", "x**2*(sin(1)**2 + cos(1)**2) + y**2",
     "--diffusion", "1", "--json"],
    ["simulate", "--state", "x", "--drift", "-x", "--diffusion", "1", "--paths", "50",
     "--steps", "5", "--x0", "exp(64*log(exp(64*log(exp(64*log(10))))))"],
    ["simulate", "--state", "x", "--drift", "-x", "--diffusion", "1", "--paths", "50",
     "--steps", "5", "--dt", "2**(64*(sin(1)**2 + cos(1)**2))/2**70"],
    ["simulate", "--state", "x", "--drift", "-x", "--diffusion", "1", "--paths", "50",
     "--steps", "5", "--x0", "[]"],
    ["simulate", "--state", "x", "--drift", "-x", "--diffusion", "s", "--param",
     "s=10**(2*sqrt(2)*sqrt(2)*8)", "--paths", "50", "--steps", "5"],
]
for argv in cases:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    text = re.sub(r'"?seconds"?:?\s+[0-9.e+-]+', "seconds", out.getvalue())  # a timing
    print(code, err.getvalue().strip(), " ".join(text.split())[:300])
'''


def test_command_outcomes_do_not_depend_on_the_hash_seed() -> None:
    outputs = _outputs_under_seeds(HASH_SCRIPT, ("0", "1", "7"), 300)
    lines = outputs[0].splitlines()
    assert len(lines) == 10
    assert [int(line.split()[0]) for line in lines] == [0, 0, 1, 1, 2, 0, 2, 2, 2, 0], lines
    assert all(o == outputs[0] for o in outputs), outputs
