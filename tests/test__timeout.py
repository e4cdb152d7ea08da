"""Time limits that can never kill the host (issue 15, class 11).

The limits use no signal at all, so a stray ``SIGALRM`` cannot exist; these tests check
that claim the hard way: thousands of nested limits with random deadlines, caught and
uncaught expiries, in the main thread and in worker threads at once, while a user's own
interval timer runs with its own handler (and, in a fresh process, with ``SIGALRM`` at its
*default* action, which kills the process if a single alarm is ever sent).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field

import pytest
import sympy as sp

from symsde import _timeout
from symsde._timeout import LimitExpiredError, remaining, time_limit
from symsde.errors import SymbolicTimeoutError, SymsdeError


def spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


@dataclass
class Tally:
    limits: int = 0
    raised: int = 0
    caught: int = 0
    early: list[str] = field(default_factory=list)  # a limit that raised before its time
    foreign: list[str] = field(default_factory=list)  # anything but a SymbolicTimeoutError


def nest(rng: random.Random, depth: int, tally: Tally, outer_expired_at: float) -> None:
    """One limit with a random deadline around random work and random nested limits."""
    seconds = rng.choice([0.001, 0.003, 0.01, 0.03, 0.2])
    catch = rng.random() < 0.5
    t0 = time.monotonic()
    tally.limits += 1
    try:
        with time_limit(seconds, f"level {depth}"):
            deadline = min(outer_expired_at, t0 + seconds)
            for _ in range(rng.randint(0, 3)):
                spin(rng.choice([0.0, 0.0005, 0.002, 0.006]))
                if depth < 6 and rng.random() < 0.7:
                    nest(rng, depth + 1, tally, deadline)
    except SymbolicTimeoutError as exc:
        tally.raised += 1
        waited = time.monotonic() - t0
        own = f"while level {depth};" in str(exc)
        if own and waited < seconds:
            tally.early.append(f"level {depth} raised after {waited:.4f} s < {seconds} s")
        if not catch:
            raise
        tally.caught += 1
    except BaseException as exc:
        tally.foreign.append(repr(exc))


def run_stress(seed: int, n_top: int) -> Tally:
    rng = random.Random(seed)
    tally = Tally()
    for _ in range(n_top):
        with contextlib.suppress(SymbolicTimeoutError):  # an uncaught expiry at the top
            nest(rng, 0, tally, float("inf"))
    return tally


def test_thousands_of_nested_limits_in_threads_with_a_user_alarm_running() -> None:
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda s, f: fired.append(time.monotonic()))
    signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
    try:
        results: dict[int, Tally] = {}

        def worker(seed: int) -> None:
            results[seed] = run_stress(seed, 250)

        threads = [threading.Thread(target=worker, args=(s,)) for s in (1, 2)]
        for t in threads:
            t.start()
        results[0] = run_stress(0, 250)  # the main thread too
        for t in threads:
            t.join(120)
            assert not t.is_alive()
        timer = signal.getitimer(signal.ITIMER_REAL)
        handler = signal.getsignal(signal.SIGALRM)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    total = sum(t.limits for t in results.values())
    raised = sum(t.raised for t in results.values())
    assert total >= 2000, total
    assert 0 < raised < total  # both outcomes happened
    assert sum(t.caught for t in results.values()) > 0
    for t in results.values():
        assert t.foreign == [] and t.early == []
    # The user's timer went on untouched: same interval, still firing, same handler.
    assert timer[1] == pytest.approx(0.05)
    assert handler is not previous and len(fired) > 0
    # Nothing is left behind.
    assert not any(_timeout._state.stacks.values())


def test_a_stray_alarm_would_kill_a_fresh_process_and_none_is_sent() -> None:
    # SIGALRM at its default action: one alarm ends the process with "Alarm clock".
    code = textwrap.dedent("""
        import random, signal, sys
        sys.path.insert(0, %r)
        from test__timeout import run_stress
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        t = run_stress(7, 1200)
        assert t.foreign == [] and t.early == [], (t.foreign, t.early)
        print(t.limits, t.raised)
    """) % os.path.dirname(__file__)
    # the control: the same process does die of a real stray alarm
    control = subprocess.run([sys.executable, "-c", "import signal, time\n"
                              "signal.setitimer(signal.ITIMER_REAL, 0.01)\ntime.sleep(1)"],
                             capture_output=True, timeout=60)
    assert control.returncode == -signal.SIGALRM
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    limits, raised = map(int, proc.stdout.split())
    assert limits >= 2000 and raised > 0


def test_a_limit_works_outside_the_main_thread() -> None:
    out: list[BaseException | None] = []

    def work() -> None:
        try:
            with time_limit(0.05, "working in a thread"):
                spin(30)
            out.append(None)
        except BaseException as exc:
            out.append(exc)

    t0 = time.monotonic()
    t = threading.Thread(target=work)
    t.start()
    t.join(20)
    assert time.monotonic() - t0 < 10
    assert len(out) == 1 and isinstance(out[0], SymbolicTimeoutError)
    assert "working in a thread" in str(out[0])


def test_symbolic_work_is_interrupted_and_the_error_is_ours() -> None:
    x = sp.Symbol("x")
    t0 = time.monotonic()
    with pytest.raises(SymbolicTimeoutError, match="integrating"), \
            time_limit(0.2, "integrating"):
        sp.integrate(sp.exp(-x**2) * sp.cos(x) ** 9 * sp.log(1 + x**2), (x, 0, sp.oo))
    assert time.monotonic() - t0 < 10


def test_a_block_that_finishes_in_time_is_left_alone() -> None:
    for _ in range(200):
        with time_limit(5, "quick work"):
            spin(0.0002)
    time.sleep(0.3)  # a late error would land here, outside any limit


def test_the_injected_error_never_escapes_raw() -> None:
    # The error delivered asynchronously (LimitExpiredError) is replaced by the block's own.
    with pytest.raises(SymbolicTimeoutError) as info, time_limit(0.02, "spinning"):
        spin(5)
    assert type(info.value) is SymbolicTimeoutError
    assert not isinstance(info.value, LimitExpiredError)
    assert isinstance(info.value, SymsdeError) and info.value.exit_code == 1


def test_a_new_limit_under_an_expired_one_fails_at_once() -> None:
    with pytest.raises(SymbolicTimeoutError, match="while outer"), time_limit(0.05, "outer"):
        with contextlib.suppress(SymbolicTimeoutError):
            spin(1)
        t0 = time.monotonic()
        with pytest.raises(SymbolicTimeoutError, match="while outer"), time_limit(10, "inner"):
            spin(10)
        assert time.monotonic() - t0 < 0.5


def test_remaining_reports_the_nearest_deadline() -> None:
    assert remaining() is None
    with time_limit(10, "outer"):
        with time_limit(2, "inner"):
            left = remaining()
            assert left is not None and 1 < left <= 2
        left = remaining()
        assert left is not None and 2 < left <= 10
    assert remaining() is None


def test_no_limit_for_none_or_non_positive() -> None:
    for seconds in (None, 0, -1, float("nan")):
        with time_limit(seconds, "nothing"):
            spin(0.01)
        assert remaining() is None


@pytest.mark.slow
def test_the_stress_repeated() -> None:
    for seed in range(20):
        t = run_stress(100 + seed, 60)
        assert t.foreign == [] and t.early == []


def test_no_error_is_lost_inside_a_finaliser(monkeypatch: pytest.MonkeyPatch) -> None:
    # An error raised inside __del__ is printed ("Exception ignored") and lost: the limit
    # waits until the finaliser has returned, then stops the block.
    lost: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", lost.append)

    class Slow:
        def __del__(self) -> None:
            spin(0.3)

    t0 = time.monotonic()
    with pytest.raises(SymbolicTimeoutError, match="while finalising"), \
            time_limit(0.05, "finalising"):
        obj = Slow()
        del obj  # the deadline passes while __del__ runs
        spin(10)
    assert time.monotonic() - t0 < 5
    assert lost == []


def test_a_limit_left_behind_by_an_interrupted_enter_does_not_fail_later_limits() -> None:
    # An asynchronous error can land inside __enter__ after the limit was pushed; the with
    # statement then never calls __exit__. Emulate it: enter a short limit in a function
    # that returns without leaving it, and let its deadline pass.
    def enter_and_abandon() -> None:
        time_limit(0.001, "the abandoned limit").__enter__()

    with time_limit(5, "the enclosing work"):
        enter_and_abandon()
        spin(0.01)
        with time_limit(1, "later work"):  # must not fail with the abandoned deadline
            spin(0.002)
    assert not any(_timeout._state.stacks.values())
    # power: a limit that is still running does fail a new one entered after its deadline
    with pytest.raises(SymbolicTimeoutError, match="the outer limit"), \
            time_limit(0.001, "the outer limit"):
        spin(0.01)
        with time_limit(1, "inner"):
            pass
