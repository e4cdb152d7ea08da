"""The ``symsde`` command line (console script ``symsde = symsde.cli:main``).

Exit codes: 0 success; 1 a mathematical failure (not normalisable, no stationary density,
a derivation step fails, symbolic work timed out); 2 bad input. Errors are one line on
stderr. Expressions are read by :mod:`symsde.parsing`, never evaluated as Python.

Layout: this module parses the command line and turns every failure into one line and an
exit code; one module per command (:mod:`~symsde.cli.verify` for ``list``, ``verify`` and
``show``; :mod:`~symsde.cli.stationary`, :mod:`~symsde.cli.simulate`,
:mod:`~symsde.cli.mutate`, :mod:`~symsde.cli.scheme`); :mod:`~symsde.cli.args` reads
options; :mod:`~symsde.cli.io` writes JSON, files (atomically) and plots. The mathematics
the commands use lives in the library (:mod:`symsde.stattests`, :mod:`symsde.stationary`).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import sys
import threading
from collections.abc import Sequence

from symsde.cli import mutate, scheme, simulate, stationary, verify
from symsde.cli.args import (
    DEFAULT_TIMEOUT,
    MAX_TIMEOUT,
    _ExpressionArgsParser,
    _one_line,
    _Parser,
    _seed_arg,
    _workers_arg,
)
from symsde.errors import SymsdeError

__all__ = ["COMMANDS", "DEFAULT_TIMEOUT", "MAX_TIMEOUT", "main"]


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="symsde",
        description="Machine-checked derivations for continuous-time models of SGD.",
    )
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    verify.add_parsers(sub)
    stationary.add_parser(sub)
    simulate.add_parser(sub)
    mutate.add_parser(sub, _seed_arg, _workers_arg)
    scheme.add_scheme_parser(sub, _ExpressionArgsParser)
    return p


#: The command functions, by sub-command (one module per command).
COMMANDS = {
    "simulate": simulate.run,
    "list": verify.run_list,
    "verify": verify.run_verify,
    "show": verify.run_show,
    "mutate": mutate.run,
    "stationary": stationary.run,
    "scheme": scheme.cmd_scheme,
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
        if argv is None:
            # The console script exits next, its result complete: a Ctrl-C from now on
            # would only interrupt the interpreter's shutdown (killed by SIGINT, exit -2,
            # no message), so it is ignored.
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def _load_sympy() -> None:
    """Import SymPy here, where a Ctrl-C during the import is handled (not at import time)."""
    import sympy  # noqa: F401


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
        try:  # the help text is output too: a full or closed stdout says so
            sys.stdout.flush()
        except OSError as err:
            if err.errno in _STDOUT_ERRNOS:
                return _stdout_failed(err)
            return _internal_error(err)
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
    if not str(tb.tb_frame.f_globals.get("__name__", "")).startswith(__name__):
        return False  # not printed by this package
    line = linecache.getline(tb.tb_frame.f_code.co_filename, tb.tb_lineno)
    return "print(" in line or "stdout.flush()" in line


def _internal_error(exc: Exception) -> int:
    if os.environ.get("SYMSDE_DEBUG"):
        raise exc
    print(f"symsde: internal error: {type(exc).__name__}: {_one_line(str(exc))} "
          "(set SYMSDE_DEBUG=1 for the traceback and please report it)", file=sys.stderr)
    return 1
