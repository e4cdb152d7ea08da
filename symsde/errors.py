"""Exceptions raised by symsde.

Every error message says what is wrong and what would fix it. The command-line
interface maps :class:`MathematicalError` subclasses to exit code 1 and input
errors to exit code 2.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "InputError",
    "InvalidSDEError",
    "MathematicalError",
    "NoStationaryDensityError",
    "NotNormalizableError",
    "OutputError",
    "ParseError",
    "ResourceLimitError",
    "SymbolicTimeoutError",
    "SymsdeError",
    "UnstableRunError",
]


class SymsdeError(Exception):
    """Base class of every error symsde raises on purpose."""

    #: Exit code of the command-line interface for this kind of error.
    exit_code: int = 2


class InputError(SymsdeError, ValueError):
    """The request itself is malformed (exit code 2)."""

    exit_code = 2


class InvalidSDEError(InputError):
    """The drift or the diffusion does not define a valid SDE (wrong shape, bad matrix)."""


class ParseError(InputError):
    """A string could not be read as a mathematical expression of the allowed form."""


class MathematicalError(SymsdeError):
    """The request is well formed but has no mathematical answer (exit code 1)."""

    exit_code = 1


class NotNormalizableError(MathematicalError):
    """The stationary density exists formally but its integral diverges."""


class NoStationaryDensityError(MathematicalError):
    """No method symsde knows gives a stationary density for this SDE."""


class SymbolicTimeoutError(MathematicalError):
    """Symbolic work did not finish within the allowed time."""


class BackendError(SymsdeError):
    """A computing backend (a Dask scheduler) did not answer in time or cannot run the work.

    Exit code 1, as for a time-out: the request was well formed.
    """

    exit_code = 1


class ResourceLimitError(InputError):
    """The request would need more memory or time than symsde allows (exit code 2)."""


class UnstableRunError(MathematicalError):
    """A simulation left the range its SDE allows: the scheme is unstable at this step."""


class OutputError(SymsdeError):
    """A result could not be written (a full disk, a closed standard output; exit code 1)."""

    exit_code = 1
