"""Wall-clock limits for symbolic work that may not finish.

SymPy is pure Python, so a ``SIGALRM`` raised in the main thread interrupts it
cleanly. Outside the main thread (or on platforms without ``SIGALRM``) the limit
is not enforced and the work runs to completion.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from symsde.errors import SymbolicTimeoutError

__all__ = ["time_limit"]


@contextmanager
def time_limit(seconds: float | None, what: str) -> Iterator[None]:
    """Raise :class:`~symsde.errors.SymbolicTimeoutError` if the block runs past ``seconds``.

    Nested limits are honoured: the innermost one fires first, and the outer timer
    is restored afterwards.

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

    def _raise(signum: int, frame: object) -> None:
        raise SymbolicTimeoutError(
            f"gave up after {seconds:g} s while {what}; simplify the input or raise --timeout"
        )

    old_handler = signal.signal(signal.SIGALRM, _raise)
    old_delay, _ = signal.getitimer(signal.ITIMER_REAL)
    delay = float(seconds) if old_delay == 0 else min(float(seconds), old_delay)
    signal.setitimer(signal.ITIMER_REAL, delay)
    try:
        yield
    finally:
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay:
            # Give the outer limit back what it had left (at least a tick so it still fires).
            elapsed = delay - remaining
            signal.setitimer(signal.ITIMER_REAL, max(old_delay - elapsed, 1e-3))
