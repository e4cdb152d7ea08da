"""A stepper's program compiled by Numba into one loop over the paths of a block.

The NumPy path advances a chunk by a sequence of ufunc calls, each one pass over the
chunk's arrays, and draws the noise by one ``standard_normal(out=...)`` per block and
row. Compiled, one step of a block is one loop: the noise is drawn from the block's own
generator, and each path's update is computed in registers and written back in place.

Compiling changes no number of a result:

- **the same draws.** Numba implements NumPy's ``Generator`` methods (the ziggurat for
  normals, ``random`` for uniforms) on the generator's own bit generator, so a block's
  stream gives the same values in the same order (rows in order, paths in order within
  a row, as :func:`symsde.simulator.steppers._draw_noise` draws them);
- **the same arithmetic.** Only programs made of ``+ - * /``, negation and ``sqrt``
  are compiled (:meth:`symsde.fused.FusedKernel.element_source`), in the order of the
  ufunc calls. IEEE 754 rounds each of these correctly, and Numba compiles without
  ``fastmath`` (no fused multiply-add, no reassociation), so every element gets the
  bits the ufuncs give it. Programs with ``exp``, ``power`` or other functions (whose
  NumPy and libm versions may differ in the last bit) stay on the NumPy path.

``tests/test_simulator_compiled.py`` checks the bit-identity on every scheme and
noise law. Numba is a dependency; where it cannot be imported, every step runs on the
NumPy path, with the same results.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: Work (paths x steps) from which ``kernel="auto"`` compiles: about where a fresh
#: process's first call breaks even. Measured on the double well at 10^8 path-steps, in
#: fresh processes: 0.91 s on NumPy calls; compiled 1.19 s with an empty disk cache (0.83
#: s of it importing Numba and compiling) and 0.79 s with the step in the cache (0.43 s
#: of it importing Numba and loading); 0.35-0.39 s for every later call in the process.
AUTO_MIN_PATH_STEPS = 100_000_000
#: Memory a first compilation takes in a process (Numba and LLVM; measured 157 MB of
#: resident memory by ``benchmarks/bench_memory.py``): ``kernel="auto"`` does not compile
#: under a ``max_memory`` smaller than this.
COMPILE_BYTES = 256e6
#: The values of the ``kernel`` option.
KERNELS = ("auto", "numba", "numpy")

_LOCK = threading.Lock()
_COMPILED: dict[str, Callable[..., int]] = {}


def available() -> bool:
    """Whether Numba can be imported (it is a dependency; a broken install falls back)."""
    try:
        import numba  # noqa: F401
    except Exception:  # pragma: no cover - an install without a working Numba
        return False
    return True


def _draw(k: int, law: str) -> list[str]:
    """Statements filling row ``k`` of ``N`` over ``[s, e)`` as ``_draw_noise`` does."""
    if law == "normal":
        return ["for i in range(s, e):", f"    N[{k}, i] = gen.standard_normal()"]
    if law == "three-point":  # trunc((floor(6 U) - 2.5) / 2.5), one rounding at a time
        return ["for i in range(s, e):",
                "    w = (np.floor(gen.random() * 6.0) - 2.5) / 2.5",
                f"    N[{k}, i] = np.trunc(w)"]
    if law == "two-point":  # floor(2 U) * 2 - 1
        return ["for i in range(s, e):",
                f"    N[{k}, i] = np.floor(gen.random() * 2.0) * 2.0 - 1.0"]
    raise ValueError(f"no compiled draw for the noise law {law!r}")


def source(d: int, laws: Sequence[str], lines: Sequence[str], outs: Sequence[str],
           n_scalars: int) -> str:
    """The Python source of ``k`` steps of the paths ``[s, e)`` of one block.

    The function ``step(X, N, gen, s, e, S, k)`` repeats ``k`` times: draw the noise rows
    into ``N``, then replace each path's state (column ``i`` of ``X``, whose rows are the
    inputs ``a0 .. a{d-1}``; the noise rows are ``a{d} ..``) by the outputs. It returns
    0 if every new value was finite, else the first repetition (from 1) after which one
    was not. The scalars ``S`` are the same for all ``k`` steps (one step at a time when
    they depend on the time).

    Examples
    --------
    >>> print(source(1, ["normal"], ["v2 = a1 * 0.1", "v3 = a0 + v2"], ["v3"], 0))
    def step(X, N, gen, s, e, S, k):
        bad = 0
        for j in range(k):
            for i in range(s, e):
                N[0, i] = gen.standard_normal()
            ok = True
            for i in range(s, e):
                a0 = X[0, i]
                a1 = N[0, i]
                v2 = a1 * 0.1
                v3 = a0 + v2
                r0 = v3
                X[0, i] = r0
                ok &= r0 - r0 == 0.0
            if not ok and bad == 0:
                bad = j + 1
        return bad
    <BLANKLINE>
    """
    body = ["def step(X, N, gen, s, e, S, k):"]
    if n_scalars:
        body.append("    " + ", ".join(f"S{j}" for j in range(n_scalars))
                    + ("," if n_scalars == 1 else "") + " = S")
    body += ["    bad = 0", "    for j in range(k):"]
    for k, law in enumerate(laws):
        body += ["        " + t for t in _draw(k, law)]
    body.append("        ok = True")
    body.append("        for i in range(s, e):")
    body += [f"            a{r} = X[{r}, i]" for r in range(d)]
    body += [f"            a{d + k} = N[{k}, i]" for k in range(len(laws))]
    body += ["            " + t for t in lines]
    # every output is read before any is written: the update is in place
    body += [f"            r{r} = {o}" for r, o in enumerate(outs)]
    body += [f"            X[{r}, i] = r{r}" for r in range(d)]
    # r - r is 0 for every finite r, nan for inf and nan
    body += [f"            ok &= r{r} - r{r} == 0.0" for r in range(d)]
    body += ["        if not ok and bad == 0:", "            bad = j + 1",
             "    return bad", ""]
    return "\n".join(body)


def cache_dir() -> Path | None:
    """Where compiled steps are kept between processes, or None if nowhere is writable.

    ``$SYMSDE_CACHE_DIR/kernels`` if that variable is set, else
    ``$XDG_CACHE_HOME/symsde/kernels`` (default ``~/.cache/symsde/kernels``). Each step is
    a small generated module named by a hash of its source and of the Numba and NumPy
    versions; Numba keeps its machine code beside it. Deleting the folder is always safe.
    """
    root = os.environ.get("SYMSDE_CACHE_DIR")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"),
                                                                 ".cache")
        root = os.path.join(base, "symsde")
    path = Path(root) / "kernels"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


_HEADER = """# A simulation step generated by symsde (symsde.simulator.compiled); safe to delete.
import math

import numba
import numpy as np

"""
_JIT = dict(nogil=True, error_model="numpy", fastmath=False)


def _from_file(src: str, folder: Path) -> Callable[..., int]:
    import numba
    import numpy as np

    key = hashlib.sha256("\0".join((src, numba.__version__, np.__version__)).encode())
    name = f"symsde_step_{key.hexdigest()[:24]}"
    file = folder / f"{name}.py"
    text = (_HEADER + src + "\n\nstep = numba.njit(step, cache=True, "
            + ", ".join(f"{k}={v!r}" for k, v in _JIT.items()) + ")\n")
    if not file.exists() or file.read_text() != text:
        tmp = folder / f".{name}.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(text)
        os.replace(tmp, file)  # atomic: another process never reads half a file
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Numba's cached code names its module: it must be importable, as a real one is
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.step


def compile_step(src: str) -> Callable[..., int]:
    """``src`` (from :func:`source`) compiled by Numba: once per process and source, and
    kept on disk (:func:`cache_dir`) so that later processes load it instead."""
    with _LOCK:
        fn = _COMPILED.get(src)
        if fn is None:
            folder = cache_dir()
            if folder is not None:
                try:
                    fn = _from_file(src, folder)
                except OSError:  # a cache that cannot be written: compile in memory
                    fn = None
            if fn is None:
                import math

                import numba
                import numpy as np

                ns: dict[str, Any] = {"math": math, "np": np}
                exec(compile(src, "<symsde compiled step>", "exec"), ns)
                fn = numba.njit(ns["step"], cache=False, **_JIT)
            _COMPILED[src] = fn
        return fn
