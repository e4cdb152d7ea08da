"""One step of a scheme on a chunk of paths (the state is a ``(d, n_chunk)`` array).

Generated from the symbolic SDE: the linear fast path (affine drift, constant noise), the
general path (the scheme's fused kernel, :mod:`symsde.schemes`) and minibatch SGD.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp

from symsde.kernels import (
    ColumnKernel,
)
from symsde.sde import SDE


# -- steppers -------------------------------------------------------------------------------------
class _Stepper:
    """One step of a scheme on a chunk; the state is a ``(d, n_chunk)`` array."""

    d: int
    name: str
    #: floats of workspace per path (for the memory estimate)
    width: int
    #: whether a step depends on the time
    has_time: bool = False

    def workspace(self, nc: int) -> dict[str, Any]:  # pragma: no cover - interface
        raise NotImplementedError

    def advance(self, X: np.ndarray, ws: dict[str, Any], gens: list, t: float) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover

    # -- the compiled path (symsde.simulator.compiled) ---------------------------------------
    #: the Numba source of one step, when the stepper runs compiled (set by the plan)
    compiled_source: str | None = None
    _compiled_fn: Any = None

    def program(self) -> tuple[int, list[str], list[str], list[str], int] | None:
        """``(d, laws, lines, outputs, n_scalars)`` of one path's step, or None.

        The per-path statements (see :func:`symsde.simulator.compiled.source`) give the
        bits the NumPy path gives; None when the step cannot be written so.
        """
        return None

    def compile(self) -> bool:
        """Run compiled from now on, if the program allows it; whether it does."""
        from symsde.simulator import compiled

        prog = self.program()
        if prog is None or not compiled.available():
            return False
        self.compiled_source = compiled.source(*prog)
        self._compiled_fn = compiled.compile_step(self.compiled_source)
        return True

    #: the workspace entry the noise is drawn into
    noise_buffer = "N"

    def compiled_scalars(self, t: float) -> tuple:
        """The scalars a compiled step reads at time ``t`` (see :meth:`program`)."""
        return ()

    def advance_steps(self, X: np.ndarray, ws: dict[str, Any], gens: list, k: int, t: float
                      ) -> tuple[np.ndarray, list[int]]:
        """``k`` compiled steps from time ``t``, each block in one call (``k`` is 1 when
        the step depends on the time).

        Returns the state and, per block, 0 or the first of the ``k`` steps after which
        one of its paths was not finite. Each block draws from its own stream, so running
        its ``k`` steps before the next block's gives the numbers of ``k`` single steps.
        """
        fn = self._compiled_fn
        if fn is None:  # a stepper that came pickled (to a Dask worker): compile there
            from symsde.simulator import compiled

            fn = self._compiled_fn = compiled.compile_step(self.compiled_source)
        N, S = ws[self.noise_buffer], self.compiled_scalars(t)
        return X, [fn(X, N, gen, s, e, S, k) for gen, s, e in gens]

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_compiled_fn", None)  # a compiled function does not pickle
        return state


def _draw_normals(Z: np.ndarray, gens: list) -> None:
    for gen, s, e in gens:
        for k in range(Z.shape[0]):
            gen.standard_normal(out=Z[k, s:e])


class _AffineStepper(_Stepper):
    """Euler-Maruyama for affine drift and constant noise, generated from (A, c, G)."""

    noise_buffer = "Z"

    def __init__(self, A: np.ndarray, c: np.ndarray, G: np.ndarray, dt: float,
                 name: str) -> None:
        self.d, self.m = G.shape
        self.B = np.eye(self.d) + A * dt
        self.cdt = c * dt
        self.S = G * math.sqrt(dt)
        self.name = name
        self.diag_B = bool(np.array_equal(self.B, np.diag(np.diag(self.B))))
        self.diag_S = self.d == self.m and bool(np.array_equal(self.S, np.diag(np.diag(self.S))))
        self.width = self.d + self.m + (0 if self.diag_B else self.d) + 1

    def workspace(self, nc: int) -> dict[str, Any]:
        ws: dict[str, Any] = {"Z": np.empty((self.m, nc)), "T": np.empty(nc)}
        if not self.diag_B:
            ws["Y"] = np.empty((self.d, nc))
        return ws

    def program(self) -> tuple[int, list[str], list[str], list[str], int] | None:
        """The step of :meth:`advance` for one path, operation by operation."""
        d, m, B, S = self.d, self.m, self.B, self.S
        lines: list[str] = []
        outs = []
        for i in range(d):
            if self.diag_B:
                y = f"a{i}" if B[i, i] == 1.0 else f"(a{i} * {float(B[i, i])!r})"
            else:
                y = f"(a0 * {float(B[i, 0])!r})"
                for j in range(1, d):
                    if B[i, j] != 0.0:
                        y = f"({y} + (a{j} * {float(B[i, j])!r}))"
            for k in ([i] if self.diag_S else range(m)):
                if S[i, k] != 0.0:
                    y = f"({y} + (a{d + k} * {float(S[i, k])!r}))"
            if self.cdt[i] != 0.0:
                y = f"({y} + {float(self.cdt[i])!r})"
            lines.append(f"y{i} = {y}")
            outs.append(f"y{i}")
        return d, ["normal"] * m, lines, outs, 0

    def advance(self, X: np.ndarray, ws: dict[str, Any], gens: list, t: float) -> np.ndarray:
        if self.compiled_source is not None:
            return self.advance_steps(X, ws, gens, 1, t)[0]
        Z, T, B, S = ws["Z"], ws["T"], self.B, self.S
        _draw_normals(Z, gens)
        if self.diag_B:
            Y = X
            for i in range(self.d):
                if B[i, i] != 1.0:
                    X[i] *= B[i, i]
        else:
            Y = ws["Y"]
            for i in range(self.d):
                np.multiply(X[0], B[i, 0], out=Y[i])
                for j in range(1, self.d):
                    if B[i, j] != 0.0:
                        np.multiply(X[j], B[i, j], out=T)
                        Y[i] += T
        if self.diag_S:
            for i in range(self.d):
                if S[i, i] != 0.0:
                    Z[i] *= S[i, i]
                    Y[i] += Z[i]
        else:
            for i in range(self.d):
                for k in range(self.m):
                    if S[i, k] != 0.0:
                        np.multiply(Z[k], S[i, k], out=T)
                        Y[i] += T
        for i in range(self.d):
            if self.cdt[i] != 0.0:
                Y[i] += self.cdt[i]
        if Y is not X:
            ws["Y"] = X
        return Y


def _draw_noise(N: np.ndarray, gens: list, laws: Sequence[str]) -> None:
    """Fill ``N`` (one row per noise variable) block by block from the blocks' streams.

    Each block draws its rows in order, from its own stream: normals with
    ``standard_normal``; three-point (-1, 0, 1 w.p. 1/6, 2/3, 1/6) as
    :math:`\\operatorname{trunc}((\\lfloor 6U \\rfloor - 5/2)/(5/2))` and two-point
    (-1, 1) as :math:`2\\lfloor 2U \\rfloor - 1` from uniforms :math:`U`, in place.
    """
    for gen, s, e in gens:
        for k, law in enumerate(laws):
            row = N[k, s:e]
            if law == "normal":
                gen.standard_normal(out=row)
                continue
            gen.random(out=row)
            if law == "three-point":
                row *= 6.0
                np.floor(row, out=row)
                row -= 2.5
                row /= 2.5
                np.trunc(row, out=row)
            else:  # two-point
                row *= 2.0
                np.floor(row, out=row)
                row *= 2.0
                row -= 1.0


def _fewest_ops(e: sp.Expr, state: Sequence[sp.Symbol], arrays: list, scalars: list
                ) -> sp.Expr:
    """``e`` expanded or in Horner form in the state, whichever compiles to fewer ufunc
    calls (for the double well, x (1.01 - 0.01 x^2) + 0.05 z: 6 calls instead of 7)."""
    from symsde.fused import FusedKernel

    try:
        alt = sp.horner(e, *state)
    except (sp.PolificationFailed, sp.PolynomialError, sp.GeneratorsNeeded):
        return e
    if alt == e:
        return e
    n = [FusedKernel([c], arrays, scalars).n_ops for c in (e, alt)]
    return alt if n[1] < n[0] else e


class _SchemeStepper(_Stepper):
    """A derived Ito-Taylor scheme (:mod:`symsde.schemes`) as one fused in-place kernel.

    Each step draws the scheme's noise variables into ``N`` and evaluates the whole
    update :math:`Y_{n+1} = \\sum_\\alpha f_\\alpha(t_n, Y_n) I_\\alpha` (drift,
    diffusion and correction terms after common-subexpression elimination, with ``dt``
    and the parameters folded in) by a :class:`~symsde.fused.FusedKernel` into a second
    state array; the two state arrays swap roles every step.
    """

    def __init__(self, sde: SDE, values: Mapping[sp.Symbol, sp.Expr], dt: float,
                 method: str) -> None:
        from symsde.fused import FusedKernel
        from symsde.schemes import derive_scheme

        scheme = derive_scheme(sde, method)
        self.scheme_method = method
        self.d = sde.dim
        self.has_time = sde.time is not None
        rule = scheme.sampled_update().xreplace({scheme.step: sp.Float(dt)})
        if values:
            rule = rule.xreplace(dict(values))
        rule = rule.applyfunc(sp.expand)
        self.laws = [nv.law for nv in scheme.noises]
        noise_syms = [nv.symbol for nv in scheme.noises]
        arrays = [*sde.state, *noise_syms]
        scalars = [sde.time] if self.has_time else []
        rule = [_fewest_ops(e, sde.state, arrays, scalars) for e in rule]
        self.kernel = FusedKernel(rule, arrays, scalars)
        self.name = method
        self.width = 2 * self.d + len(self.laws) + self.kernel.n_buffers

    def workspace(self, nc: int) -> dict[str, Any]:
        return {"N": np.empty((len(self.laws), nc)), "Y": np.empty((self.d, nc)),
                "B": self.kernel.buffers(nc), "rows": {}}

    def program(self) -> tuple[int, list[str], list[str], list[str], int] | None:
        """The fused kernel for one path (None if it uses more than exact arithmetic)."""
        prog = self.kernel.element_source()
        if prog is None:
            return None
        lines, outs, extra = prog
        n_extra = len(extra) if extra is not None else 0
        return self.d, list(self.laws), lines, outs, int(self.has_time) + n_extra

    def compiled_scalars(self, t: float) -> tuple:
        """The time, then the scalars only Python computes (see ``element_source``)."""
        S: tuple = (t,) if self.has_time else ()
        extra = self.kernel.element_source()[2]  # type: ignore[index]
        return S if extra is None else (*S, *extra(S))

    def advance(self, X: np.ndarray, ws: dict[str, Any], gens: list, t: float) -> np.ndarray:
        if self.compiled_source is not None:
            return self.advance_steps(X, ws, gens, 1, t)[0]
        N, Y, rows = ws["N"], ws["Y"], ws["rows"]
        _draw_noise(N, gens, self.laws)
        # the row views of both state arrays, made once (they swap roles every step)
        key = (id(X), id(Y))
        if key not in rows:
            rows[key] = ([*X, *N], list(Y))
        ins, outs = rows[key]
        self.kernel(ins, (t,) if self.has_time else (), outs, ws["B"])
        ws["Y"] = X
        return Y


class _GeneralStepper(_SchemeStepper):
    """Euler-Maruyama or Milstein on the general path (the derived scheme, fused)."""

    def __init__(self, sde: SDE, drift: sp.Matrix, G: sp.Matrix, dt: float,
                 milstein: bool) -> None:
        # drift and G carry the parameter values already: an SDE of them
        sub = SDE(sde.state, drift, G, time=sde.time) if sde.parameters else sde
        super().__init__(sub, {}, dt, "milstein" if milstein else "euler")


class _SGDStepper(_Stepper):
    """One SGD step per run: draw a minibatch, average per-example gradients, update."""

    def __init__(self, grad: ColumnKernel, data: np.ndarray, lr: float, batch: int,
                 replace: bool) -> None:
        self.grad = grad
        self.data = [np.ascontiguousarray(data[:, j]) for j in range(data.shape[1])]
        self.N = data.shape[0]
        self.d = len(grad.exprs)
        self.lr, self.batch, self.replace = lr, batch, replace
        self.full = (not replace) and batch == self.N
        self.name = "sgd"
        self.width = self.d + batch * (1 + len(self.data) + self.d) + 2

    def workspace(self, nc: int) -> dict[str, Any]:
        B = self.batch
        if self.full:  # the whole data set every step: nothing random, broadcast over runs
            idx = None
            ys = [col[:, None] for col in self.data]
        else:
            idx = np.empty((B, nc), dtype=np.int64)
            ys = [np.empty((B, nc)) for _ in self.data]
        return {"idx": idx, "ys": ys, "U": np.empty((self.d, nc))}

    def _draw(self, idx: np.ndarray, gens: list) -> None:
        B, N = self.batch, self.N
        for gen, s, e in gens:
            nb = e - s
            if self.replace:
                idx[:, s:e] = gen.integers(0, N, size=(B, nb))
                continue
            # Floyd's algorithm: a uniformly random B-subset of range(N) per run.
            for r, j in enumerate(range(N - B, N)):
                tj = gen.integers(0, j + 1, size=nb)
                if r:
                    dup = (idx[:r, s:e] == tj).any(axis=0)
                    tj = np.where(dup, j, tj)
                idx[r, s:e] = tj

    def advance(self, X: np.ndarray, ws: dict[str, Any], gens: list, t: float) -> np.ndarray:
        idx, ys, U = ws["idx"], ws["ys"], ws["U"]
        if not self.full:
            self._draw(idx, gens)
            for col, y in zip(self.data, ys, strict=True):
                np.take(col, idx, out=y)
        grads = self.grad(*[X[i][None, :] for i in range(self.d)], *ys)
        for i, g in enumerate(grads):
            g = np.asarray(g, dtype=float)
            if g.ndim == 2 and g.shape[0] > 1:
                g = np.add.reduce(g, axis=0) / g.shape[0]
            elif g.ndim == 2:
                g = g[0]
            np.multiply(g, self.lr, out=U[i])
        for i in range(self.d):
            X[i] -= U[i]
        return X
