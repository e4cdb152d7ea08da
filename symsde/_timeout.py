"""Wall-clock limits for symbolic work that may not finish.

SymPy is pure Python, so a ``SIGALRM`` raised in the main thread interrupts it
cleanly. Outside the main thread (or on platforms without ``SIGALRM``) the limit
is not enforced and the work runs to completion.

Active limits form a stack with one alarm, set for the nearest deadline. When it rings,
every limit whose deadline has passed is marked expired and the error of the outermost one
is raised. Code may catch that error (SymPy has broad ``except`` clauses, and callers treat
an inner limit as a fallback), so past a deadline the alarm rings again every
:data:`REFIRE_SECONDS`, and a block whose deadline passed raises when it ends even if it
ended normally: an expired limit always ends its block with the error.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from symsde.errors import SymbolicTimeoutError

__all__ = ["REFIRE_SECONDS", "time_limit"]

#: Past a deadline, the alarm rings again at this interval until the block has ended.
REFIRE_SECONDS = 0.1


@dataclass(eq=False)
class _Limit:
    deadline: float
    message: str
    expired: bool = False


_active: list[_Limit] = []  # outermost first


def _arm() -> None:
    """Set the alarm for the nearest deadline (or clear it when no limit is active)."""
    if not _active:
        signal.setitimer(signal.ITIMER_REAL, 0)
        return
    nearest = min(lim.deadline for lim in _active)
    signal.setitimer(signal.ITIMER_REAL, max(nearest - time.monotonic(), 1e-4), REFIRE_SECONDS)


def _on_alarm(signum: int, frame: object) -> None:
    now = time.monotonic()
    hit = [lim for lim in _active if lim.deadline <= now + 1e-3]
    if not hit:  # early, or after the limit was left: wait for the next deadline
        _arm()
        return
    for lim in hit:
        lim.expired = True
    raise SymbolicTimeoutError(hit[0].message)


@contextmanager
def time_limit(seconds: float | None, what: str) -> Iterator[None]:
    """Raise :class:`~symsde.errors.SymbolicTimeoutError` if the block runs past ``seconds``.

    Nested limits are honoured: each block ends with its own error once its deadline has
    passed, also when code inside it caught the first one.

    Examples
    --------
    >>> with time_limit(5, "adding two numbers"):
    ...     1 + 1
    2
    """
    usable = (
        seconds is not None
        and seconds > 0
        and hasattr(signal, "SIGALRM")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    lim = _Limit(time.monotonic() + float(seconds),
                 f"gave up after {seconds:g} s while {what}; simplify the input or raise "
                 "--timeout")
    outermost = not _active
    if outermost:
        # Keep whatever alarm someone else had set, and give it back afterwards.
        previous_handler = signal.signal(signal.SIGALRM, _on_alarm)
        previous_delay, previous_interval = signal.getitimer(signal.ITIMER_REAL)
        started = time.monotonic()
    _active.append(lim)
    _arm()
    try:
        yield
    finally:
        while True:  # an alarm during the clean-up only restarts the clean-up
            try:
                if any(a is lim for a in _active):
                    _active.remove(lim)
                _arm()
                if outermost:
                    signal.signal(signal.SIGALRM, previous_handler)
                    if previous_delay:
                        left = previous_delay - (time.monotonic() - started)
                        signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3), previous_interval)
                break
            except SymbolicTimeoutError:
                continue
    if lim.expired:
        # The deadline passed but the block ended normally: something caught the error.
        raise SymbolicTimeoutError(lim.message)
