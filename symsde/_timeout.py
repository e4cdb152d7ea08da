"""Wall-clock limits for symbolic work that may not finish, without signals.

A limit never touches ``SIGALRM``, ``setitimer`` or any other signal: an alarm left
pending when a handler is restored to the default action kills the whole process (a test
run, a user's script, a Jupyter kernel), so this module does not use alarms at all.

Instead one daemon *watcher* thread keeps the deadlines of every thread's active limits.
When a deadline passes, it raises :class:`LimitExpiredError` (a
:class:`~symsde.errors.SymbolicTimeoutError`) asynchronously in the thread that owns the
limit, with CPython's ``PyThreadState_SetAsyncExc``. The exception is delivered between
two bytecodes, exactly where a Python-level signal handler would run, so pure-Python
SymPy work is interrupted as before; a long call into C (a huge integer power, a sleep)
is not interrupted by either mechanism, which is why :mod:`symsde.parsing` bounds sizes
before SymPy builds anything. Consequences:

* limits work in any thread, not only the main one, each thread with its own stack;
* a user's own ``SIGALRM`` handler and timer are never read or changed;
* nothing can ever reach a default signal handler, because nothing sends a signal;
* the exception that reaches user code is always a :class:`~symsde.errors.SymsdeError`.

Code may catch the error (SymPy has broad ``except`` clauses, and callers treat an inner
limit as a fallback), so past a deadline the watcher raises it again every
:data:`REFIRE_SECONDS`; a new limit entered while an enclosing one has expired fails at
once; and a block whose deadline passed raises when it ends even if it ended normally:
an expired limit always ends its block with the error.

On an interpreter without ``PyThreadState_SetAsyncExc`` (not CPython) limits are not
enforced and the work runs to completion.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import time
from types import FrameType, TracebackType

from symsde.errors import SymbolicTimeoutError

__all__ = ["REFIRE_SECONDS", "LimitExpiredError", "enforced", "remaining", "time_limit"]

#: Past a deadline, the error is raised again at this interval until the block has ended.
REFIRE_SECONDS = 0.1

# Generator, coroutine and async-generator code flags: a limit entered in such a frame
# (e.g. inside a @contextmanager) cannot be checked against the running stack.
_SUSPENDABLE = 0x20 | 0x80 | 0x200


class LimitExpiredError(SymbolicTimeoutError):
    """Raised asynchronously inside a block whose (or an enclosing block's) deadline passed.

    Each :func:`time_limit` turns it into a :class:`~symsde.errors.SymbolicTimeoutError`
    carrying its own message when the block ends, so callers normally see only the latter.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(args or ("gave up: a time limit passed while this code ran",)))


try:
    _set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
    _set_async_exc.restype = ctypes.c_int
except (AttributeError, OSError):  # pragma: no cover - not CPython
    _set_async_exc = None


def enforced() -> bool:
    """Whether limits can interrupt work on this interpreter (CPython: always).

    Examples
    --------
    >>> enforced()
    True
    """
    return _set_async_exc is not None


def _inject(tid: int) -> None:
    if _set_async_exc is not None:
        _set_async_exc(ctypes.c_ulong(tid), ctypes.py_object(LimitExpiredError))


def _absorb() -> None:
    """Let an injected error that may still be pending arrive here, and drop it.

    (It is not cleared with ``PyThreadState_SetAsyncExc(tid, NULL)``: on CPython 3.11 that
    leaves the interpreter's eval-breaker flag set for good, and every later bytecode
    check takes the slow path.) The error is delivered at the next check of the eval
    breaker, which a backward jump performs.
    """
    try:
        for _ in range(64):
            pass
    except LimitExpiredError:
        pass


class _Limit:
    __slots__ = ("deadline", "expired", "frame", "message", "seconds", "tid")

    def __init__(self, seconds: float, what: str) -> None:
        self.seconds = seconds
        self.message = (f"gave up after {seconds:g} s while {what}; simplify the input or raise "
                        "--timeout")
        self.deadline = 0.0
        self.expired = False
        self.tid = 0
        self.frame: FrameType | None = None

    def running_in(self, top: FrameType | None) -> bool:
        """Whether the frame that entered this limit is on the thread's running stack."""
        f = self.frame
        if f is None:
            return False
        if f.f_code.co_flags & _SUSPENDABLE:
            return True  # cannot tell a suspended generator from a running one: assume so
        while top is not None:
            if top is f:
                return True
            top = top.f_back
        return False


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.wake = threading.Condition(self.lock)
        self.stacks: dict[int, list[_Limit]] = {}  # thread id -> active limits, outermost first
        self.next_fire: dict[int, float] = {}
        self.maybe_pending: set[int] = set()  # threads injected into since their last exit
        self.watcher: threading.Thread | None = None


_state = _State()


def _reset_after_fork() -> None:
    # The watcher thread does not exist in a forked child; start afresh there.
    global _state
    _state = _State()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def _in_finaliser(top: FrameType, depth: int = 12) -> bool:
    """Whether the thread runs a ``__del__``, a weakref finaliser or a GC callback, where
    an exception is printed as "Exception ignored" and lost."""
    import gc
    import weakref

    codes = {getattr(cb, "__code__", None) for cb in gc.callbacks}
    codes.add(weakref.finalize.__call__.__code__)
    f: FrameType | None = top
    for _ in range(depth):
        if f is None:
            return False
        if f.f_code in codes or f.f_code.co_name == "__del__":
            return True
        f = f.f_back
    return False


def _watch(state: _State) -> None:
    with state.lock:
        while True:
            now = time.monotonic()
            wake = float("inf")
            frames = None
            for tid, stack in list(state.stacks.items()):
                if not stack:
                    del state.stacks[tid]
                    state.next_fire.pop(tid, None)
                    continue
                for lim in stack:
                    if lim.deadline <= now:
                        lim.expired = True
                expired = [lim for lim in stack if lim.expired]
                if expired:
                    due = state.next_fire.get(tid, 0.0)
                    if now >= due:
                        if frames is None:
                            frames = sys._current_frames()
                        top = frames.get(tid)
                        if top is not None and _in_finaliser(top):
                            # not inside __del__ or a GC callback, where the error would
                            # only be printed and lost: try again in a moment
                            due = now + 0.002
                        else:
                            if top is not None and any(lim.running_in(top) for lim in expired):
                                _inject(tid)
                                state.maybe_pending.add(tid)
                            due = now + REFIRE_SECONDS
                        state.next_fire[tid] = due
                    wake = min(wake, due)
                else:
                    wake = min(wake, min(lim.deadline for lim in stack))
            frames = None
            state.wake.wait(None if wake == float("inf") else max(wake - now, 1e-4))


def _ensure_watcher(state: _State) -> None:
    if state.watcher is None or not state.watcher.is_alive():
        state.watcher = threading.Thread(target=_watch, args=(state,), daemon=True,
                                         name="symsde-time-limits")
        state.watcher.start()


def _forget_interrupted_work() -> None:
    """Clear SymPy's cache after interrupted work.

    SymPy catches exceptions broadly in places and then returns a weaker answer (an
    unevaluated integral, say); an outer cached function would keep that answer for good.
    """
    try:
        from sympy.core.cache import clear_cache
    except ImportError:  # pragma: no cover
        return
    clear_cache()


def _first_expired(stack: list[_Limit]) -> _Limit | None:
    return next((lim for lim in stack if lim.expired), None)


def remaining() -> float | None:
    """Seconds left before the nearest deadline of this thread's limits (None: no limit).

    Waits that cannot be interrupted (a network connect, a handshake) use this as their
    own timeout, so that one deadline covers them too.

    Examples
    --------
    >>> remaining() is None
    True
    >>> with time_limit(30, "waiting"):
    ...     0 < remaining() <= 30
    True
    """
    state = _state
    with state.lock:
        stack = state.stacks.get(threading.get_ident())
        if not stack:
            return None
        return max(0.0, min(lim.deadline for lim in stack) - time.monotonic())


class time_limit:  # noqa: N801 - used like a function, as before
    """Raise :class:`~symsde.errors.SymbolicTimeoutError` if the block runs past ``seconds``.

    Nested limits are honoured: each block ends with the error once its deadline (or an
    enclosing one) has passed, also when code inside it caught the first one. ``None`` or
    a value <= 0 means no limit. Works in every thread and uses no signal.

    Examples
    --------
    >>> with time_limit(5, "adding two numbers"):
    ...     1 + 1
    2
    >>> with time_limit(0.05, "counting forever"):
    ...     while True:
    ...         pass
    Traceback (most recent call last):
    ...
    symsde.errors.SymbolicTimeoutError: gave up after 0.05 s while counting forever; ...
    """

    def __init__(self, seconds: float | None, what: str) -> None:
        self._lim = (None if seconds is None or not seconds > 0 or _set_async_exc is None
                     else _Limit(float(seconds), what))

    def __enter__(self) -> None:
        lim = self._lim
        if lim is None:
            return
        state = _state
        tid = threading.get_ident()
        caller = sys._getframe(1)
        with state.lock:
            stack = state.stacks.setdefault(tid, [])
            # A limit whose frame is no longer running was left behind: an error delivered
            # inside its __enter__, after it was pushed, skips its __exit__. Drop it, or its
            # deadline would fail every later limit of this thread at once.
            stale = [other for other in stack if not other.running_in(caller)]
            for other in stale:
                stack.remove(other)
                other.frame = None
            gone = _first_expired(stack)
            if gone is None:
                lim.tid = tid
                lim.frame = sys._getframe(1)
                lim.deadline = time.monotonic() + lim.seconds
                stack.append(lim)
                _ensure_watcher(state)
                state.wake.notify()
        if gone is not None:
            # An enclosing limit has expired: no new work may start under it.
            raise SymbolicTimeoutError(gone.message)

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> bool:
        lim = self._lim
        if lim is None or lim.frame is None:
            return False
        state = _state
        pending = False
        while True:  # an injected error during the clean-up only restarts the clean-up
            try:
                with state.lock:
                    here = lim.tid == threading.get_ident()
                    if here and lim.tid in state.maybe_pending:
                        state.maybe_pending.discard(lim.tid)
                        pending = True
                    stack = state.stacks.get(lim.tid, [])
                    for i, other in enumerate(stack):
                        if other is lim:
                            # Entries above this one were abandoned (e.g. a generator that
                            # never resumed): they end with this block.
                            del stack[i:]
                            break
                    lim.frame = None
                    outer = _first_expired(stack) if here else None
                    if not stack:
                        state.stacks.pop(lim.tid, None)
                        state.next_fire.pop(lim.tid, None)
                if pending:
                    # Injected before we took the lock, maybe not delivered yet: take it
                    # here (nothing new can be injected for this block any more).
                    pending = False
                    _absorb()
                break
            except LimitExpiredError:
                continue
        injected = et is not None and issubclass(et, LimitExpiredError)
        if outer is not None or lim.expired or injected:
            _forget_interrupted_work()
        if outer is not None:
            raise SymbolicTimeoutError(outer.message) from None
        if lim.expired:
            raise SymbolicTimeoutError(lim.message) from None
        if injected:
            # Injected for a limit that no longer exists: still a time-out, with our words.
            raise SymbolicTimeoutError(lim.message) from None
        return False
