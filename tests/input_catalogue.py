"""A catalogue of careless and hostile command lines, with the answer symsde must give.

Each :class:`Case` is one ``symsde`` command line, the exit code it must end with and a
fragment of the one-line message it must print on stderr. ``api`` names the
:mod:`symsde.errors` class the Python API raises for the same strings (``None`` when the
check exists only on the command line, e.g. argparse choices or ``--timeout``).

``{marker}`` in an argument stands for the absolute path of a file that must never be
created; ``open(chr(77), chr(119))`` would create the file ``M`` in the working directory.
:mod:`tests.test_hostile_input` runs every case as a subprocess in an empty directory and
checks that the directory is still empty afterwards.

Kinds
-----
``injection``  code in every option that takes a string: nothing may run (exit 2)
``parse``      typos and pasted formulas: unknown names, ``^``, implicit products, Unicode
``shape``      a drift of the wrong length, a bad diffusion matrix, a repeated state name
``math``       well-formed requests with no answer: no density, not normalisable (exit 1)
``numeric``    NaN/inf, non-positive or absurd sizes, memory, a diverging scheme
``size``       strings and expressions too long, too deep or too large to work on
``timeout``    symbolic work that would not finish in time (exit 1, says what it was doing)
``files``      output files that cannot be written
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    argv: tuple[str, ...]
    exit: int
    fragment: str
    api: str | None = None
    #: The class of issue 15 (second adversarial round) the case belongs to, if any.
    round2: int | None = None


ST = ("stationary", "--state", "x")
ST2 = ("stationary", "--state", "x,y")
SIM = ("simulate", "--state", "x", "--drift", "-x", "--diffusion", "1", "--paths", "200",
       "--steps", "20")
OS_SYSTEM = "__import__('os').system('touch {marker}')"
OPEN_M = "open(chr(77), chr(119))"


def _st(*argv: str) -> tuple[str, ...]:
    return (*ST, *argv)


def _sim(*changes: str, flags: tuple[str, ...] = ()) -> tuple[str, ...]:
    """SIM with the options in ``changes`` replaced (or appended), then ``flags``."""
    argv = list(SIM)
    pairs = list(zip(changes[::2], changes[1::2], strict=True))
    for key, value in pairs:
        if key in argv and key != "--param":
            argv[argv.index(key) + 1] = value
        else:
            argv += [key, value]
    return (*argv, *flags)


CASES: list[Case] = [
    # -- code injection: every option that takes a string ----------------------------------
    Case("inj-drift-os-system", "injection", _st("--drift", f"[{OS_SYSTEM}]", "--diffusion", "1"),
         2, "contains the character \"'\"", "ParseError"),
    Case("inj-loss-open", "injection", _st("--loss", OPEN_M, "--diffusion", "1"),
         2, "function 'open' is not allowed", "ParseError"),
    Case("inj-diffusion-import-chr", "injection",
         _st("--drift", "[-x]", "--diffusion", "__import__(chr(111) + chr(115)).system(chr(116))"),
         2, "only calls of named functions", "ParseError"),
    Case("inj-diffusion-matrix-attribute", "injection",
         ("stationary", "--state", "x,y", "--drift", "[-x, -y]", "--diffusion-matrix",
          "[[x.__class__, 0], [0, 1]]"), 2, "attribute access", "ParseError"),
    Case("inj-param-value-eval", "injection",
         _st("--drift", "[-x]", "--diffusion", "s", "--param", "s=eval(chr(49))"),
         2, "function 'eval' is not allowed", "ParseError"),
    Case("inj-param-value-shell", "injection",
         _st("--drift", "[-x]", "--diffusion", "s", "--param", "s=1; touch {marker}"),
         2, "contains the character ';'", "ParseError"),
    Case("inj-param-name-dunder", "injection",
         _st("--drift", "[-x]", "--diffusion", "1", "--param", "__import__=1"),
         2, "is not a valid name", "ParseError"),
    Case("inj-state-dunder", "injection",
         ("stationary", "--state", "x,__builtins__", "--drift", "[-x, 0]", "--diffusion", "1"),
         2, "is not a valid name", "ParseError"),
    Case("inj-x0-exec", "injection", _sim("--x0", "exec(chr(49))"),
         2, "function 'exec' is not allowed", "ParseError"),
    Case("inj-dt-subclasses", "injection",
         _sim("--dt", "().__class__.__bases__[0].__subclasses__()"),
         2, "only calls of named functions", "ParseError"),
    Case("inj-steps-lambda", "injection", _sim("--steps", "lambda: 10"),
         2, "contains the character ':'", "ParseError"),
    Case("inj-paths-lambda-call", "injection", _sim("--paths", "(lambda n: n)(100)"),
         2, "contains the character ':'", "ParseError"),
    Case("inj-seed-builtins", "injection", _sim("--seed", "__builtins__"),
         2, "the name '__builtins__' is not allowed", "ParseError"),
    Case("inj-sim-drift-os-system", "injection", _sim("--drift", OS_SYSTEM),
         2, "contains the character \"'\"", "ParseError"),
    Case("inj-sim-diffusion-open", "injection", _sim("--diffusion", OPEN_M),
         2, "function 'open' is not allowed", "ParseError"),
    Case("inj-loss-globals", "injection", _st("--loss", "globals()", "--diffusion", "1"),
         2, "function 'globals' is not allowed", "ParseError"),
    Case("inj-loss-mro", "injection", _st("--loss", "x.__class__.__mro__", "--diffusion", "1"),
         2, "attribute access", "ParseError"),
    Case("inj-loss-getattr", "injection",
         _st("--loss", "getattr(x, chr(95))", "--diffusion", "1"),
         2, "function 'getattr' is not allowed", "ParseError"),
    Case("inj-loss-breakpoint", "injection", _st("--loss", "breakpoint()", "--diffusion", "1"),
         2, "function 'breakpoint' is not allowed", "ParseError"),
    Case("inj-loss-sympify", "injection", _st("--loss", "sympify(x)", "--diffusion", "1"),
         2, "function 'sympify' is not allowed", "ParseError"),
    Case("inj-loss-dunder-name", "injection", _st("--loss", "x**__import__", "--diffusion", "1"),
         2, "the name '__import__' is not allowed", "ParseError"),
    Case("inj-loss-hex-escape", "injection",
         _st("--loss", "'\\x5f\\x5fimport\\x5f\\x5f'", "--diffusion", "1"),
         2, "contains the character", "ParseError"),
    Case("inj-loss-unicode-escape", "injection",
         _st("--loss", "\\u005f\\u005fimport\\u005f\\u005f(chr(111))", "--diffusion", "1"),
         2, "contains the character '\\\\'", "ParseError"),
    Case("inj-loss-fstring", "injection",
         _st("--loss", "f\"{__import__('os').system('touch {marker}')}\"", "--diffusion", "1"),
         2, "contains the character", "ParseError"),
    Case("inj-loss-shell-substitution", "injection",
         _st("--loss", "$(touch {marker})", "--diffusion", "1"),
         2, "contains the character '$'", "ParseError"),
    Case("inj-loss-backticks", "injection",
         _st("--loss", "`touch {marker}`", "--diffusion", "1"),
         2, "contains the character '`'", "ParseError"),
    Case("inj-loss-second-statement", "injection",
         _st("--loss", "x**2\n__import__(chr(111)).system(chr(116))", "--diffusion", "1"),
         2, "give the expression on one line", "ParseError"),
    Case("inj-loss-walrus", "injection", _st("--loss", "(y := x)", "--diffusion", "1"),
         2, "contains the character ':'", "ParseError"),
    Case("inj-drift-comprehension", "injection",
         _st("--drift", "[c for c in (1,)]", "--diffusion", "1"),
         2, "comprehensions are not allowed", "ParseError"),
    Case("inj-loss-conditional", "injection",
         _st("--loss", "x if x else __import__", "--diffusion", "1"),
         2, "conditional expressions are not allowed", "ParseError"),
    Case("inj-show-name", "injection", ("show", "__import__('os')"),
         2, "unknown derivation", "InputError"),
    Case("inj-verify-path", "injection", ("verify", "../../../etc/passwd"),
         2, "unknown derivation", "InputError"),
    Case("inj-method-choice", "injection", _st("--drift", "[-x]", "--diffusion", "1", "--method",
                                               "__import__('os')"), 2, "invalid choice"),
    # -- typos and pasted formulas ---------------------------------------------------------
    Case("parse-unknown-name", "parse", _st("--drift", "[-z]", "--diffusion", "1"),
         2, "unknown name 'z'; declare it with --state or --param", "ParseError"),
    Case("parse-unknown-function", "parse", _st("--loss", "gamma(x)", "--diffusion", "1"),
         2, "function 'gamma' is not allowed; allowed functions:", "ParseError"),
    Case("parse-unclosed-bracket", "parse", _st("--loss", "exp(-x**2", "--diffusion", "1"),
         2, "the brackets are unbalanced", "ParseError"),
    Case("parse-unclosed-list", "parse", ("stationary", "--state", "x,y", "--drift", "[-x, -y",
                                          "--diffusion", "1"),
         2, "the brackets are unbalanced", "ParseError"),
    Case("parse-extra-bracket", "parse", _st("--loss", "x**2)", "--diffusion", "1"),
         2, "the brackets are unbalanced", "ParseError"),
    Case("parse-empty-loss", "parse", _st("--loss", "", "--diffusion", "1"),
         2, "--loss is empty", "ParseError"),
    Case("parse-blank-diffusion", "parse", _st("--drift", "[-x]", "--diffusion", "   "),
         2, "--diffusion is empty", "ParseError"),
    Case("parse-empty-state", "parse", ("stationary", "--state", "", "--loss", "x**2",
                                        "--diffusion", "1"),
         2, "empty state name", "ParseError"),
    Case("parse-cyrillic-x", "parse", _st("--loss", "х**2/2", "--diffusion", "1"),
         2, "looks like the ASCII letter 'x'", "ParseError"),
    Case("parse-fullwidth-x", "parse", _st("--loss", "ｘ**2/2", "--diffusion", "1"),
         2, "a typographic form of 'x'", "ParseError"),
    Case("parse-unicode-minus", "parse", _st("--drift", "[−x]", "--diffusion", "1"),
         2, "type the ASCII minus", "ParseError"),
    Case("parse-superscript", "parse", _st("--loss", "x²/2", "--diffusion", "1"),
         2, "write the power as **2", "ParseError"),
    Case("parse-no-break-space", "parse", _st("--loss", "x**2\u00a0+\u00a01", "--diffusion", "1"),
         2, "non-breaking or typographic space", "ParseError"),
    Case("parse-greek-sigma", "parse", _st("--drift", "[-x]", "--diffusion", "σ"),
         2, "spell Greek letters out: sigma", "ParseError"),
    Case("parse-times-sign", "parse", _st("--loss", "2×x**2", "--diffusion", "1"),
         2, "type '*' for multiplication", "ParseError"),
    Case("parse-implicit-number", "parse", _st("--loss", "2x**2", "--diffusion", "1"),
         2, "multiplication must be written with '*'", "ParseError"),
    Case("parse-implicit-space", "parse", ("stationary", "--state", "x,y", "--loss",
                                           "x**2 + x y + y**2", "--diffusion", "1"),
         2, "multiplication must be written with '*'", "ParseError"),
    Case("parse-implicit-call", "parse", _st("--loss", "x(x + 1)", "--diffusion", "1"),
         2, "x is not a function; for a product write x*(...)", "ParseError"),
    Case("parse-implicit-brackets", "parse", _st("--loss", "(x + 1)(x - 1)", "--diffusion", "1"),
         2, "multiplication must be written with '*'", "ParseError"),
    Case("parse-caret", "parse", _st("--loss", "x^4/4 - x^2/2", "--diffusion", "1"),
         2, "'^' is not a power here; did you mean x**4/4 - x**2/2?", "ParseError"),
    Case("parse-euler-e", "parse", _st("--drift", "[-x]", "--diffusion", "e**(-1)"),
         2, "for Euler's number write E", "ParseError"),
    Case("parse-equation", "parse", _st("--loss", "L = x**2/2", "--diffusion", "1"),
         2, "not an equation or assignment", "ParseError"),
    Case("parse-trailing-operator", "parse", _st("--loss", "x**2 +", "--diffusion", "1"),
         2, "it ends with '+'", "ParseError"),
    Case("parse-comparison", "parse", _st("--loss", "x**2 < 1", "--diffusion", "1"),
         2, "comparisons are not allowed", "ParseError"),
    Case("parse-control-character", "parse", _st("--loss", "x**2\x07", "--diffusion", "1"),
         2, "control character", "ParseError"),
    Case("parse-loss-list", "parse", _st("--loss", "[x**2, x]", "--diffusion", "1"),
         2, "must be a single expression, not a list", "ParseError"),
    Case("parse-reserved-state", "parse", ("stationary", "--state", "pi", "--drift", "[-pi]",
                                           "--diffusion", "1"),
         2, "is reserved", "ParseError"),
    Case("parse-bad-state-name", "parse", ("stationary", "--state", "x-1", "--drift", "[-x]",
                                           "--diffusion", "1"),
         2, "is not a valid name", "ParseError"),
    Case("parse-param-not-number", "parse",
         _st("--drift", "[-x]", "--diffusion", "s", "--param", "s=abc"),
         2, "a number is expected here", "ParseError"),
    Case("parse-unknown-command", "parse", ("statonary", "--state", "x"),
         2, "invalid choice: 'statonary'"),
    # -- wrong shapes ----------------------------------------------------------------------
    Case("shape-drift-short", "shape", (*ST2, "--drift", "[-x]", "--diffusion", "1"),
         2, "drift has 1 component(s) but the state has 2", "InvalidSDEError"),
    Case("shape-drift-long", "shape", (*ST2, "--drift", "[-x, -y, 0]", "--diffusion", "1"),
         2, "drift has 3 component(s) but the state has 2", "InvalidSDEError"),
    Case("shape-drift-nested", "shape", _st("--drift", "[[-x]]", "--diffusion", "1"),
         2, "--drift must be a flat list"),
    Case("shape-sim-drift-long", "shape", _sim("--drift", "[-x, 0]"),
         2, "drift has 2 component(s) but the state has 1", "InvalidSDEError"),
    Case("shape-D-not-square", "shape", (*ST2, "--drift", "[-x, -y]", "--diffusion-matrix",
                                         "[[1, 0, 0], [0, 1, 0]]"),
         2, "must be 2x2 for a 2-dimensional state, got 2x3", "InvalidSDEError"),
    Case("shape-D-ragged", "shape", (*ST2, "--drift", "[-x, -y]", "--diffusion-matrix",
                                     "[[1, 0], [0]]"),
         2, "rows have different lengths", "InvalidSDEError"),
    Case("shape-D-not-symmetric", "shape", (*ST2, "--loss", "x**2 + y**2", "--diffusion-matrix",
                                            "[[1, 2], [3, 4]]"),
         2, "is not symmetric", "InvalidSDEError"),
    Case("shape-D-negative", "shape", _st("--drift", "[-x]", "--diffusion-matrix", "-1"),
         2, "not positive semi-definite", "InvalidSDEError"),
    Case("shape-D-indefinite", "shape", (*ST2, "--drift", "[-x, -y]", "--diffusion-matrix",
                                         "[[1, 2], [2, 1]]"),
         2, "not positive semi-definite", "InvalidSDEError"),
    Case("shape-G-rows", "shape", (*ST2, "--drift", "[-x, -y]", "--diffusion",
                                   "[[1, 0], [0, 1], [1, 1]]"),
         2, "3 row(s) but the state has 2", "InvalidSDEError"),
    Case("shape-G-too-deep", "shape", _st("--drift", "[-x]", "--diffusion", "[[[1]]]"),
         2, "nested more than two levels", "ParseError"),
    Case("shape-state-twice", "shape", ("stationary", "--state", "x,x", "--drift", "[-x, -x]",
                                        "--diffusion", "1"),
         2, "appears twice", "InputError"),
    Case("shape-state-twice-spaces", "shape", ("simulate", "--state", "x, x", "--drift",
                                               "[-x, -x]", "--diffusion", "1"),
         2, "appears twice", "InputError"),
    Case("shape-param-is-state", "shape",
         _st("--drift", "[-x]", "--diffusion", "1", "--param", "x=1"), 2, "is a state variable"),
    Case("shape-x0-length", "shape", _sim("--x0", "[1, 2]"),
         2, "2 entries but the state has 1", "InvalidSimulationError"),
    Case("shape-x0-nested", "shape", _sim("--x0", "[[1]]"),
         2, "--x0 must be a number or a flat list"),
    # -- no mathematical answer ------------------------------------------------------------
    Case("math-growing-drift", "math", _st("--drift", "[x]", "--diffusion", "1"),
         1, "cannot be normalised", "NotNormalizableError"),
    Case("math-brownian", "math", _st("--drift", "[0]", "--diffusion", "1"),
         1, "does not decay", "NotNormalizableError"),
    Case("math-loss-no-minimum-linear", "math", _st("--loss", "x", "--diffusion", "1"),
         1, "a loss with a minimum", "NotNormalizableError"),
    Case("math-loss-no-minimum-concave", "math", _st("--loss=-x**2", "--diffusion", "1"),
         1, "does not decay", "NotNormalizableError"),
    Case("math-loss-odd-cubic", "math", _st("--loss", "x**3 - x", "--diffusion", "1"),
         1, "does not decay", "NotNormalizableError"),
    Case("math-loss-flat-direction", "math", (*ST2, "--loss", "x**2", "--diffusion", "1"),
         1, "not positive definite", "NotNormalizableError"),
    Case("math-non-gradient", "math", (*ST2, "--drift", "[-x**3 - y, x - y**3]",
                                       "--diffusion", "1"),
         1, "no method applies", "NoStationaryDensityError"),
    Case("math-zero-diffusion", "math", _st("--drift", "[-x]", "--diffusion", "0"),
         1, "give a non-zero diffusion", "NoStationaryDensityError"),
    Case("math-zero-diffusion-param", "math",
         _st("--drift", "[-x]", "--diffusion", "sigma", "--param", "sigma=0"),
         1, "give a non-zero diffusion", "NoStationaryDensityError"),
    Case("math-zero-diffusion-matrix", "math", (*ST2, "--drift", "[-x, -y]", "--diffusion-matrix",
                                                "[[0, 0], [0, 0]]"),
         1, "give a non-zero diffusion", "NoStationaryDensityError"),
    Case("math-degenerate-noise", "math", (*ST2, "--drift", "[-x, -y]", "--diffusion-matrix",
                                           "[[1, 0], [0, 0]]"),
         1, "has no density", "NoStationaryDensityError"),
    Case("math-noise-vanishes", "math", _st("--loss", "x**2", "--diffusion", "x"),
         1, "its integral diverges", "NotNormalizableError"),
    Case("math-forced-gaussian-nonlinear", "math",
         _st("--drift", "[-x**3]", "--diffusion", "1", "--method", "gaussian-lyapunov"),
         1, "no method applies", "NoStationaryDensityError"),
    # SymPy raises NotImplementedError for the limit; the CLI turns it into exit 1 (the API
    # still raises NotImplementedError: stationary.py should catch it, see the report).
    Case("math-oscillating-noise", "math", _st("--drift", "[-x]", "--diffusion", "sin(x)"),
         1, "SymPy cannot compute a limit or integral"),
    Case("math-compare-without-density", "math",
         _sim("--drift", "0", flags=("--compare-stationary",)), 1, "does not decay"),
    # -- numeric abuse ---------------------------------------------------------------------
    Case("num-dt-zero", "numeric", _sim("--dt", "0"),
         2, "dt must be a finite number > 0", "InvalidSimulationError"),
    Case("num-dt-negative", "numeric", _sim("--dt", "-0.1"),
         2, "dt must be a finite number > 0", "InvalidSimulationError"),
    Case("num-dt-nan", "numeric", _sim("--dt", "nan"), 2, "nan is not a finite number",
         "ParseError"),
    Case("num-dt-inf", "numeric", _sim("--dt", "inf"), 2, "inf is not a finite number",
         "ParseError"),
    Case("num-dt-overflow", "numeric", _sim("--dt", "1e999"), 2, "is not a finite number",
         "ParseError"),
    Case("num-param-inf", "numeric",
         _st("--drift", "[-x]", "--diffusion", "s", "--param", "s=inf"),
         2, "inf is not a finite number", "ParseError"),
    Case("num-param-nan-sim", "numeric", _sim("--diffusion", "s", "--param", "s=NaN"),
         2, "NaN is not a finite number", "ParseError"),
    Case("num-param-zero-division", "numeric", _sim("--diffusion", "1/s", "--param", "s=0"),
         2, "division by zero", "ParseError"),
    Case("num-x0-nan", "numeric", _sim("--x0", "nan"), 2, "nan is not a finite number",
         "ParseError"),
    Case("num-x0-huge", "numeric", _sim("--x0", "1e300"), 2, "out of range", "ParseError"),
    Case("num-literal-digits", "numeric", _sim("--dt", "1" * 40),
         2, "more than 30 digits", "ParseError"),
    Case("num-steps-zero", "numeric", _sim("--steps", "0"),
         2, "--steps must be a whole number >= 1", "InvalidSimulationError"),
    Case("num-steps-negative", "numeric", _sim("--steps", "-5"),
         2, "--steps must be a whole number >= 1", "InvalidSimulationError"),
    Case("num-steps-fraction", "numeric", _sim("--steps", "2.5"),
         2, "--steps must be a whole number", "InvalidSimulationError"),
    Case("num-paths-zero", "numeric", _sim("--paths", "0"),
         2, "--paths must be a whole number >= 2", "InvalidSimulationError"),
    Case("num-paths-one", "numeric", _sim("--paths", "1"),
         2, "--paths must be a whole number >= 2", "InvalidSimulationError"),
    Case("num-paths-memory", "numeric", _sim("--paths", "1e13"),
         2, "TB of memory", "InvalidSimulationError"),
    Case("num-paths-memory-2d", "numeric",
         ("simulate", "--state", "x,y", "--drift", "[-x, -y]", "--diffusion", "1", "--paths",
          "1e14", "--steps", "1"), 2, "PB of memory",
         "InvalidSimulationError"),
    Case("num-steps-absurd", "numeric", _sim("--steps", "1e30"),
         2, "on one core, more than the limit of 30 minutes"),
    Case("num-seed-negative", "numeric", _sim("--seed", "-1"),
         2, "--seed must be a whole number >= 0", "InvalidSimulationError"),
    Case("num-verify-seed-negative", "numeric", ("verify", "langevin", "--seed", "-1"),
         2, "a seed is a whole number >= 0"),
    Case("num-timeout-inf", "numeric", _st("--drift", "[-x]", "--diffusion", "1", "--timeout",
                                           "inf"), 2, "argument --timeout: give a number"),
    Case("num-timeout-nan", "numeric", _st("--drift", "[-x]", "--diffusion", "1", "--timeout",
                                           "nan"), 2, "argument --timeout: give a number"),
    Case("num-timeout-zero", "numeric", _sim("--timeout", "0"),
         2, "argument --timeout: give a number"),
    Case("num-timeout-word", "numeric", ("verify", "--timeout", "forever"),
         2, "'forever' is not a number of seconds"),
    Case("num-exponent", "numeric", _st("--loss", "x**100", "--diffusion", "1"),
         2, "exponent 100 is too large", "ParseError"),
    Case("num-diverges-quintic", "numeric",
         _sim("--drift", "-x**5", "--dt", "1", "--x0", "3", "--paths", "1000", "--steps", "100"),
         1, "1000 of 1000 paths diverged (left the finite range); the first left it after "
            "step 5 of 100"),
    Case("num-diverges-cubic", "numeric",
         _sim("--drift", "x**3", "--dt", "0.1", "--x0", "3", "--paths", "100", "--steps", "100"),
         1, "100 of 100 paths diverged"),
    # -- sizes -----------------------------------------------------------------------------
    Case("size-long-drift", "size", _sim("--drift", "-x" + " + 0*x" * 400),
         2, "characters long; the limit is 2000", "ParseError"),
    Case("size-huge-argument", "size", _st("--loss", "x" * 100_000, "--diffusion", "1"),
         2, "is 100000 characters long", "ParseError"),
    Case("size-many-parts", "size", _st("--drift", "[" + ", ".join(["-x"] * 450) + "]",
                                        "--diffusion", "1"),
         2, "more than 400 parts", "ParseError"),
    Case("size-deep-nesting", "size", _st("--loss=" + "-" * 150 + "x", "--diffusion", "1"),
         2, "nested more than 120 levels", "ParseError"),
    Case("size-deep-brackets", "size", _st("--loss", "(" * 300 + "x" + ")" * 300,
                                           "--diffusion", "1"),
         2, "--loss", "ParseError"),
    Case("size-expansion", "size", ("stationary", "--state", "x,y,z", "--loss",
                                    "(x + y + z + 1)**64 + x**2", "--diffusion", "1"),
         2, "more than 20000 terms once multiplied out", "ParseError"),
    Case("size-nested-powers", "size", _sim("--drift", "-((x + 1)**64 + 1)**64"),
         2, "more than 20000 terms once multiplied out", "ParseError"),
    Case("size-big-number", "size", _st("--loss", "x**2*((10**30)**64)**64", "--diffusion", "1"),
         2, "the limit is 2000", "ParseError"),
    # -- symbolic work that does not finish ------------------------------------------------
    Case("timeout-stationary", "timeout",
         _st("--loss", "x**4/4 - x**2/2 + sin(x)", "--diffusion", "1", "--timeout", "0.5"),
         1, "gave up after 0.5 s while deriving the stationary density", "SymbolicTimeoutError"),
    Case("timeout-stationary-power", "timeout",
         _st("--loss", "(x**2 - 1)**64", "--diffusion", "1", "--timeout", "0.5"),
         1, "gave up after 0.5 s while deriving the stationary density", "SymbolicTimeoutError"),
    Case("timeout-simulate-compare", "timeout",
         _sim("--drift", "-x**3 + x - cos(x)", "--timeout", "1",
              flags=("--compare-stationary",)),
         1, "gave up after 1 s while deriving the stationary density", "SymbolicTimeoutError"),
    Case("timeout-verify", "timeout", ("verify", "langevin", "--timeout", "0.01"),
         1, "gave up after 0.01 s while verifying the derivation langevin",
         "SymbolicTimeoutError"),
    Case("timeout-show", "timeout", ("show", "lyapunov", "--timeout", "0.01"),
         1, "gave up after 0.01 s while verifying the derivation lyapunov",
         "SymbolicTimeoutError"),
    # -- output files ----------------------------------------------------------------------
    Case("files-missing-folder", "files",
         _st("--drift", "[-x]", "--diffusion", "1", "--output", "no/such/folder/out.json"),
         2, "--output: the folder"),
    Case("files-output-is-folder", "files",
         _st("--drift", "[-x]", "--diffusion", "1", "--output", "."), 2, "is a folder"),
    # -- round two (issue 15): one or more cases per class ---------------------------------
    # class 1 (strings in the Python API) has its own tests: tests/test_inputs.py
    # 2: names that generated code uses
    *[Case(f"r2-name-{n}", "parse", _sim("--state", n, "--drift", f"-{n}"), 2, "is reserved",
           "ParseError", 2) for n in ("e", "arctan", "arcsin", "arccos", "mpf", "select", "pi")],
    Case("r2-name-keyword", "parse", _sim("--state", "if", "--drift", "-x"), 2,
         "Python keyword", "ParseError", 2),
    # 3: one deadline for every option; sizes after SymPy's rewriting
    Case("r2-dt-tower", "size",
         _sim("--dt", "exp(64*log(exp(64*log(exp(64*log(exp(64*log(10))))))))",
              "--timeout", "2"), 2, "has about", "ParseError", 3),
    Case("r2-x0-tower", "size", _sim("--x0", "exp(exp(exp(exp(1))))", "--timeout", "2"),
         2, "exp of a number as large as", "ParseError", 3),
    Case("r2-param-tower", "size",
         _sim("--diffusion", "s", "--param", "s=exp(64*log(exp(64*log(exp(64*log(9))))))"),
         2, "digits", "ParseError", 3),
    Case("r2-rewritten-exponent", "size", _st("--drift", "[-exp(65*log(x))]", "--diffusion",
                                              "1"), 2, "SymPy rewrites it so", "ParseError", 3),
    Case("r2-combined-exponent", "size", _st("--drift", "[-x**64*x**64]", "--diffusion", "1"),
         2, "exponents are limited to 64", "ParseError", 3),
    # 4: Dask addresses (a silent listener and a worker-less scheduler: test_dask_connect.py)
    Case("r2-dask-ucx", "numeric", _sim("--backend", "dask", "--scheduler", "ucx://h:1"),
         2, "ucx:// is not supported", None, 4),
    Case("r2-dask-tls", "numeric", _sim("--backend", "dask", "--scheduler", "tls://h:1"),
         2, "tls:// needs certificates", None, 4),
    Case("r2-dask-no-port", "numeric", _sim("--backend", "dask", "--scheduler", "tcp://h"),
         2, "not of the form tcp://host:port", None, 4),
    # (an internal UnicodeError from the resolver before the audit)
    Case("r2-dask-long-label", "numeric",
         _sim("--backend", "dask", "--scheduler", "tcp://" + "a" * 300 + ":1"),
         2, "is not a valid host name (each part between dots has at most 63 characters",
         None, 4),
    Case("r2-dask-long-name", "numeric",
         _sim("--backend", "dask", "--scheduler", "tcp://" + "a." * 200 + "b:1"),
         2, "the whole name at most 253", None, 4),
    # 5: measured guards
    Case("r2-few-paths-many-steps", "numeric", _sim("--paths", "2", "--steps", "5e10"),
         2, "days on one core", None, 5),
    Case("r2-three-paths-many-steps", "numeric", _sim("--paths", "3", "--steps", "1e12"),
         2, "--steps 1000000000000 x --paths 3 would take about", None, 5),
    Case("r2-memory-compare", "numeric", _sim("--paths", "1e9", flags=("--compare-stationary",)),
         2, "bytes per path with --compare-stationary", None, 5),
    # 6: output files
    Case("r2-output-empty", "files", _sim("--output", ""), 2, "--output is empty", None, 6),
    Case("r2-plot-empty", "files", _sim("--plot", ""), 2, "--plot is empty", None, 6),
    Case("r2-output-name-too-long", "files", _sim("--output", "n" * 300 + ".json"),
         2, "too long", None, 6),
    Case("r2-plot-missing-folder", "files", _sim("--plot", "no/such/folder/p.png"),
         2, "--plot: the folder", None, 6),
    # 7: numbers that used to escape as internal errors
    Case("r2-dt-overflow", "numeric", _sim("--dt", "10*exp(700)"), 2,
         "not a finite floating-point number", None, 7),
    Case("r2-x0-overflow", "numeric", _sim("--x0", "exp(800)"), 2,
         "not a finite floating-point number", None, 7),
    Case("r2-param-overflow", "numeric", _sim("--diffusion", "s", "--param", "s=exp(900)"),
         2, "not a finite floating-point number", None, 7),
    Case("r2-x0-empty-list", "numeric", _sim("--x0", "[]"), 2, "--x0 is an empty list",
         None, 7),
    Case("r2-timeout-arabic-digits", "numeric", ("verify", "langevin", "--timeout", "١٠"),
         2, "is not a number of seconds; write it with ASCII digits", None, 7),
    Case("r2-workers-5000-digits", "numeric", ("verify", "langevin", "--workers", "9" * 5000),
         2, "'" + "9" * 37 + "...' is not a whole number", None, 7),
    Case("r2-timeout-5000-digits", "numeric", _sim("--timeout", "9" * 5000),
         2, "is not a number of seconds", None, 7),
    Case("r2-zero-to-symbolic-power", "parse", _st("--drift", "[-x]", "--diffusion", "0**x"),
         2, "0**(x) is undefined", "ParseError", 7),
    # 8: SymPy exceptions inside stationary_density
    # (each message says how to change the input: the side of a kink, the real domain)
    # (abs(1 - x) is never negative, so it pushes every path to +oo: no density, and
    # symsde says so; -abs(1 - x) on (1, oo) has one, see tests/test_state_space.py)
    Case("r2-stationary-abs", "math", _st("--drift", "[abs(1 - x)]", "--diffusion", "1"),
         1, "exp(-U) does not decay as x -> +oo", "NotNormalizableError", 8),
    Case("r2-stationary-abs-on-its-side", "math",
         _st("--drift", "[abs(1 - x)]", "--diffusion", "1", "--domain", "(1, oo)"),
         1, "Ornstein-Uhlenbeck process: exp(-U) does not decay as x -> +oo",
         "NotNormalizableError", 8),
    Case("r2-stationary-acos-sqrt", "math", _st("--loss", "acos(sqrt(x))", "--diffusion", "1"),
         1, "the state space (-oo, oo) is not where the SDE is defined: the coefficients are "
            "real only for x in (0, 1): give that state space",
         "NoStationaryDensityError", 8),
    Case("r2-stationary-sqrt-wrong-domain", "math",
         _st("--drift", "[-sqrt(x)]", "--diffusion", "1", "--domain", "(-1, oo)"),
         1, "the coefficients are real only for x in [0, oo): give that state space",
         "NoStationaryDensityError", 8),
    Case("r2-stationary-log-negative-side", "math",
         _st("--drift", "[-log(x)]", "--diffusion", "1"),
         1, "real only for x in (0, oo)", "NoStationaryDensityError", 8),
    Case("r2-domain-empty", "parse",
         _st("--drift", "[-x]", "--diffusion", "1", "--domain", "(1, 0)"),
         2, "the left end 1 is not below the right end 0", "InputError", 8),
    Case("r2-domain-factors", "parse",
         (*ST2, "--drift", "[-x, -y]", "--diffusion", "1", "--domain", "(0, 1) x R x R"),
         2, "3 intervals for 2 state variables (x, y): give 2, one per state variable",
         "InputError", 8),
    Case("r2-stationary-sinh-asin", "math",
         _st("--drift", "[sinh(asin(2*x))]", "--diffusion", "1"),
         1, "real only for x in [-1/2, 1/2]: give that state space, e.g. SDE(..., "
            "domain=sympy.Interval.open(-1/2, 1/2))", "NoStationaryDensityError", 8),
    # 9: an unstable scheme
    Case("r2-unstable-dt", "numeric", _sim("--dt", "2.5", "--steps", "100"),
         1, "--dt 2.5 is unstable for this drift", None, 9),
    Case("r2-unstable-dt-2d", "numeric",
         ("simulate", "--state", "x,y", "--drift", "[-x, -10*y]", "--diffusion", "1",
          "--x0", "[0, 0]", "--dt", "0.25", "--paths", "100", "--steps", "10"),
         1, "use --dt below 0.2", None, 9),
    Case("r2-growth-cubic", "numeric",
         _sim("--drift", "-x**3", "--dt", "0.5", "--x0", "3", "--steps", "4"),
         1, "more than 1000 times the scale this SDE allows", None, 9),
    # 10: small things
    Case("r2-state-keyword-class", "parse", _st("--state", "class", "--drift", "[-x]",
                                                "--diffusion", "1"), 2, "Python keyword",
         "ParseError", 10),
    Case("r2-state-soft-keyword", "parse", _sim("--state", "match", "--drift", "-match"),
         2, "state name 'match' is a Python keyword; choose another name", "ParseError", 10),
    Case("r2-param-keyword", "parse", _sim("--param", "class=1"),
         2, "parameter name 'class' is a Python keyword, which no expression can use", None,
         10),
    # 11: limits that cannot kill the host (the stress tests: tests/test__timeout.py)
    Case("r2-timeout-in-parsing", "timeout",
         _st("--drift", "[-x]", "--diffusion", "1", "--timeout", "1e-9"),
         1, "while deriving the stationary density",
         "SymbolicTimeoutError", 11),
    # -- the new commands of issues 12 and 15: scheme and mutate -----------------------------
    Case("new-scheme-injection", "injection",
         ("scheme", "euler", "--state", "x", "--drift", OS_SYSTEM, "--diffusion", "1"),
         2, "--drift contains the character \"'\""),
    Case("new-scheme-param-eval", "injection",
         ("scheme", "weak2", "--state", "x", "--drift", "-x", "--diffusion", "s", "--param",
          "s=eval(1)"), 2, "function 'eval' is not allowed"),
    Case("new-scheme-unknown", "parse",
         ("scheme", "rk4", "--state", "x", "--drift", "-x", "--diffusion", "1"),
         2, "invalid choice: 'rk4' (choose from 'euler', 'milstein', 'strong1.5', 'weak2')"),
    Case("new-scheme-milstein-noncommutative", "shape",
         ("scheme", "milstein", "--state", "x,y", "--drift", "[-x, -y]", "--diffusion",
          "[[1, x], [y, 1]]"), 2, "milstein needs commutative noise"),
    # (about 0.3 s of SymPy work even with SymPy's caches warm)
    Case("new-scheme-timeout", "timeout",
         ("scheme", "weak2", "--state", "x,y,z,w", "--drift",
          "[-sin(x*y*w), -cos(y*z), -tanh(z*x), -atan(w*x)]", "--diffusion",
          "[[sin(x)*y, z, 1, w], [x, cos(y)*z, 1, exp(w)], [1, y, exp(z), x*y], "
          "[w, z*x, 1, cos(w)]]", "--timeout", "0.05"),
         1, "gave up after 0.05 s while reading the options and deriving the weak2 scheme",
         None, 3),
    Case("new-scheme-timeout-digits", "numeric",
         ("scheme", "euler", "--state", "x", "--drift", "-x", "--diffusion", "1", "--timeout",
          "１０"), 2, "is not a number of seconds; write it with ASCII digits", None, 7),
    Case("new-mutate-unknown", "parse", ("mutate", "no_such_derivation"),
         2, "unknown derivation 'no_such_derivation'; known derivations:"),
    Case("new-mutate-class", "parse", ("mutate", "--class", "eval"),
         2, "argument --class: invalid choice: 'eval'"),
]


# -- the Python API's new surfaces (issues 12 and 15), one hostile call or more each ------
@dataclass(frozen=True)
class ApiCase:
    id: str
    #: domains, stratonovich, moments, transition, schemes, workers, sphinx
    surface: str
    #: the call, as a function of the marker path that must never be created
    call: Callable[[str], Any]
    error: str
    fragment: str


def _api_cases() -> list[ApiCase]:
    import sympy as sp

    from symsde import (
        SDE,
        moment_equations,
        simulate,
        stationary_density,
        transition_density,
    )
    from symsde.inputs import parse_domain
    from symsde.schemes import derive_scheme
    from symsde.sphinx import check_claim, read_sde

    x, y = sp.symbols("x y", real=True)
    t = sp.Symbol("t", positive=True)
    ou = SDE([x], [-x], 1)

    def payload(m: str) -> str:
        return OS_SYSTEM.format(marker=m)

    return [
        ApiCase("domain-string", "domains", lambda m: SDE([x], [-x], 1, domain="(0, oo)"),
                "InvalidSDEError", "give a SymPy Interval such as sympy.Interval.open(0"),
        ApiCase("domain-payload", "domains", lambda m: SDE([x], [-x], 1, domain=payload(m)),
                "InvalidSDEError", "is not an interval"),
        ApiCase("domain-point", "domains", lambda m: SDE([x], [-x], 1, domain=sp.Interval(1, 1)),
                "InvalidSDEError", "is a set of points, not an interval of positive length "
                "(sympy.Interval(a, a) is the single point a)"),
        ApiCase("domain-empty", "domains", lambda m: SDE([x], [-x], 1, domain=sp.Interval(1, 0)),
                "InvalidSDEError", "domain is empty (sympy.Interval(a, b) with a >= b, e.g. "
                "Interval(1, 0), is the empty set): write the smaller end first"),
        ApiCase("domain-factors", "domains",
                lambda m: SDE([x, y], [-x, -y], 1, domain=sp.Interval(0, 1)**3),
                "InvalidSDEError", "domain has 3 factor(s) but the state (x, y) has 2: give 2 "
                "intervals, one interval per state variable"),
        ApiCase("domain-union", "domains",
                lambda m: SDE([x], [-x], 1, domain=sp.Interval(0, 1) | sp.Interval(2, 3)),
                "InvalidSDEError", "is a union of intervals: a state space is one interval"),
        ApiCase("domain-not-real", "domains",
                lambda m: stationary_density(SDE([x], [-sp.sqrt(x)], 1,
                                                 domain=sp.Interval(-1, 1))),
                "NoStationaryDensityError", "the coefficients are real only for x in [0, oo)"),
        ApiCase("domain-text-payload", "domains", lambda m: parse_domain(payload(m), [x]),
                "InputError", "expected an interval at '__import__'"),
        ApiCase("domain-text-closed-infinity", "domains", lambda m: parse_domain("[0, oo]", [x]),
                "InputError", "an infinite end cannot be closed"),
        ApiCase("stratonovich-payload", "stratonovich",
                lambda m: SDE.from_stratonovich([x], payload(m), 1),
                "ParseError", "drift contains the character \"'\""),
        ApiCase("stratonovich-none", "stratonovich",
                lambda m: SDE.from_stratonovich([x], None, 1), "InputError", "drift is None"),
        ApiCase("moments-x0-payload", "moments", lambda m: moment_equations(ou, [payload(m)], t),
                "ParseError", "x0 contains the character"),
        ApiCase("moments-huge-order", "moments",
                lambda m: moment_equations(SDE([x, y], [-x**3, -y], 1), [0, 0], t,
                                           order=10**6),
                "InputError", "more than the limit of 500; give a smaller order"),
        ApiCase("moments-not-polynomial", "moments",
                lambda m: moment_equations(SDE([x], [-sp.sin(x)], 1), [0], t),
                "MathematicalError", "is not a polynomial in the state"),
        ApiCase("transition-x0-payload", "transition",
                lambda m: transition_density(ou, [payload(m)], t),
                "ParseError", "x0 contains the character"),
        ApiCase("scheme-method-list", "schemes", lambda m: derive_scheme(ou, []),
                "InputError", "method must be one of euler"),
        ApiCase("scheme-method-payload", "schemes", lambda m: derive_scheme(ou, payload(m)),
                "InputError", "method must be one of euler"),
        ApiCase("workers-string", "workers",
                lambda m: simulate(ou, 0.0, n_steps=2, n_paths=10, workers="2"),
                "InvalidSimulationError", "workers must be an integer"),
        ApiCase("workers-huge", "workers",
                lambda m: simulate(ou, 0.0, n_steps=2, n_paths=10, workers=10**9),
                "InvalidSimulationError", "workers must be between 1 and 1024"),
        ApiCase("growth-api", "workers",
                lambda m: simulate(SDE([x], [-x**3], 1), 3.0, dt=0.5, n_steps=4, n_paths=50,
                                   workers=2),
                "UnstableRunError", "use a smaller --dt / dt="),
        ApiCase("sphinx-claim-payload", "sphinx", lambda m: check_claim(payload(m)),
                "LatexReadError", "cannot parse"),
        ApiCase("sphinx-claim-symbols-payload", "sphinx",
                lambda m: check_claim("x = x", payload(m)), "LatexReadError", "bad symbol name"),
        ApiCase("sphinx-claim-huge", "sphinx",
                lambda m: check_claim("x = " + "+".join(["x"] * 5000), "x real"),
                "LatexReadError", "too long or too deeply nested to read; split it"),
        ApiCase("sphinx-claim-kind", "sphinx", lambda m: check_claim("x = x", "x real",
                                                                     kind="eval"),
                "LatexReadError", "unknown claim kind 'eval'"),
        ApiCase("sphinx-read-sde-payload", "sphinx", lambda m: read_sde(payload(m), "x real"),
                "LatexReadError", "cannot read the SDE line"),
    ]


API_SURFACES = ("domains", "stratonovich", "moments", "transition", "schemes", "workers",
                "sphinx")

KINDS = ("injection", "parse", "shape", "math", "numeric", "size", "timeout", "files")


def by_kind() -> dict[str, int]:
    """Number of cases of each kind."""
    return {k: sum(c.kind == k for c in CASES) for k in KINDS}


def by_round2_class() -> dict[int, int]:
    """Number of cases of each class of issue 15 (1 and 11 have their own test files)."""
    return {k: sum(c.round2 == k for c in CASES) for k in range(1, 12)}
