"""Outcomes that do not depend on PYTHONHASHSEED (issue 15, class 7).

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


def test_parsing_outcomes_do_not_depend_on_the_hash_seed() -> None:
    outputs = []
    for seed in ("0", "1", "2", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                              env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        outputs.append(proc.stdout)
    assert outputs[0].count("\n") == 10
    # no case ended in an error other than ours (they would have stopped the script)
    assert all(o == outputs[0] for o in outputs), outputs
