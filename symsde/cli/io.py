"""What the commands write: JSON documents (provenance, no timings), atomic files, plots.

A file is written through a temporary file and a rename (all or nothing); a character
device or FIFO is written straight into. Plots need matplotlib (the ``plot`` extra).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import math
import os
from collections.abc import Sequence
from typing import Any

from symsde.errors import InputError, OutputError

#: Options that only choose how a result is shown; the provenance leaves them out.
_PRESENTATION = frozenset({"command", "json", "output", "timings", "latex", "markdown"})


_SYMPY_CANNOT = (
    "SymPy cannot compute a limit or integral this SDE needs (it raised NotImplementedError), "
    "so symsde cannot decide whether a stationary density exists; simplify the drift or the "
    "diffusion (e.g. a diffusion that never vanishes, such as sqrt(1 + x**2))")


def _provenance(args: argparse.Namespace, **extra: Any) -> dict[str, Any]:
    """What produced a JSON document: versions and every parameter; no time, no host."""
    import platform

    import mpmath
    import numpy as np
    import sympy as sp

    import symsde

    arguments = {k: v for k, v in vars(args).items() if k not in _PRESENTATION}
    return {"symsde": symsde.__version__, "python": platform.python_version(),
            "sympy": sp.__version__, "numpy": np.__version__, "mpmath": mpmath.__version__,
            "command": args.command, "arguments": arguments, **extra}


def _without_timings(value: Any) -> Any:
    """``value`` with every ``seconds`` / ``symbolic_seconds`` entry removed."""
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items()
                if k not in ("seconds", "symbolic_seconds")}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as None (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _json_text(doc: Any) -> str:
    return json.dumps(_finite(doc), indent=2, sort_keys=True, allow_nan=False) + "\n"


def _shown_path(path: str) -> str:
    """A path quoted for a one-line message; a very long one shows its start and end."""
    return repr(path if len(path) <= 80 else f"{path[:30]}...{path[-40:]}")


def _check_output_target(path: str | None, option: str) -> None:
    """Refuse, before any work, an output path that could not be written.

    A regular file (new or existing) is written atomically; an existing character device
    or FIFO (``/dev/null``, a named pipe) is written straight into, never replaced;
    anything else (a folder, a socket, a block device, an empty path) is refused.
    """
    import stat
    import tempfile

    if path is None:
        return
    if not path.strip():
        raise InputError(f"{option} is empty; give a file name")
    if "\0" in path:
        raise InputError(f"{option} contains a NUL character; give a file name")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise InputError(f"{option} {_shown_path(path)}: {exc.strerror}; give a writable file "
                         "name") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise InputError(f"{option} {_shown_path(path)} is a folder; give a file name")
        if stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
            if not os.access(path, os.W_OK):
                raise InputError(f"{option} {_shown_path(path)} is not writable")
            return
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{option} {_shown_path(path)} is neither a regular file nor a "
                             "device or FIFO; give a file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InputError(f"{option}: the folder {_shown_path(folder)} does not exist; create it "
                         "first")
    try:
        name_max = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = 255
    if len(os.fsencode(os.path.basename(path))) > name_max - 20:
        raise InputError(f"{option}: the file name is too long (more than {name_max - 20} "
                         "bytes); give a shorter name")
    try:  # the atomic write needs a temporary file beside the target
        fd, tmp = tempfile.mkstemp(prefix=".symsde-", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(
            f"{option}: cannot write in {_shown_path(folder)} ({exc.strerror})") from None
    os.close(fd)
    os.unlink(tmp)


def _write_atomic(path: str, data: str | bytes, option: str = "--output") -> None:
    """Write ``data`` to ``path``: through a temporary file and a rename (all or nothing).

    An existing regular file keeps its permission bits; a new file gets the umask's; a
    character device or FIFO at ``path`` is written straight into, never replaced.
    """
    import stat
    import tempfile

    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        st = os.stat(path)
    except OSError:
        st = None
    if st is not None and (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
        _write_stream(path, raw, option)
        return
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".symsde-", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(
            f"{option}: cannot write in {_shown_path(folder)} ({exc.strerror})") from None
    try:
        if st is not None and stat.S_ISREG(st.st_mode):
            mode = stat.S_IMODE(st.st_mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OutputError(
                f"{option}: cannot write {_shown_path(path)} ({exc.strerror})") from None
        raise


def _write_stream(path: str, raw: bytes, option: str) -> None:
    """Write into a character device or a FIFO (without waiting for a FIFO's reader)."""
    import fcntl

    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        why = "no process reads from it" if exc.errno == errno.ENXIO else exc.strerror
        raise OutputError(f"{option}: cannot write into {_shown_path(path)} ({why})") from None
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        view = memoryview(raw)
        while view:
            view = view[os.write(fd, view):]
    except OSError as exc:
        raise OutputError(
            f"{option}: cannot write into {_shown_path(path)} ({exc.strerror})") from None
    finally:
        os.close(fd)


def _check_plot_target(path: str) -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise InputError("--plot needs matplotlib: pip install 'symsde[plot]'") from None
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    if path and ext not in {"png", "pdf", "svg", "jpg", "jpeg", "eps", "ps"}:
        raise InputError(f"--plot {_shown_path(path)}: give a file ending in .png, .pdf or .svg")
    _check_output_target(path, "--plot")


def _plot_histogram(path: str, finite: Any, st: Any, names: list[str]) -> None:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from symsde.kernels import lambdify_density

    d = finite.shape[1]
    shown = min(d, 4)
    fig, axes = plt.subplots(1, shown, figsize=(5 * shown, 3.6), squeeze=False)
    law = None if st is None else st.gaussian_law()
    for i in range(shown):
        ax = axes[0, i]
        col = finite[:, i]
        if col.size:
            lo, hi = np.quantile(col, [0.0005, 0.9995])
            ax.hist(col, bins=100, range=(lo, hi), density=True, alpha=0.55,
                    label=f"{col.size} final states")
            grid = np.linspace(lo, hi, 400)
            if st is not None and d == 1:
                ax.plot(grid, lambdify_density(st)(grid), lw=2, label="stationary density")
            elif law is not None:
                m, v = law[0][i], law[1][i][i]
                ax.plot(grid, np.exp(-(grid - m) ** 2 / (2 * v)) / np.sqrt(2 * np.pi * v),
                        lw=2, label="stationary marginal")
        ax.set_xlabel(names[i])
        ax.legend(fontsize=8)
    fig.tight_layout()
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format=ext)
    finally:
        plt.close(fig)
    _write_atomic(path, buf.getvalue(), "--plot")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
