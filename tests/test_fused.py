"""Fused in-place kernels: right numbers, own names only, no allocation per call,
element-wise (so chunk-independent), and the simulator with hostile symbol names."""

from __future__ import annotations

import math
import pickle
import re
import tracemalloc

import numpy as np
import pytest
import sympy as sp

from symsde import SDE, simulate
from symsde.errors import InputError
from symsde.fused import FusedKernel
from symsde.kernels import lambdify_density, lambdify_loss, lambdify_sde

x, y, z = sp.symbols("x y z", real=True)
t = sp.Symbol("t", real=True)

#: Names that clash with constants, NumPy/mpmath names, Python keywords-ish and the
#: generator's own vocabulary.
HOSTILE = ["e", "E", "pi", "arctan", "exp", "mpf", "np", "numpy", "out", "buf", "B0", "A0",
           "O0", "S0", "U_add", "F0", "kernel", "lambda_", "_ipow", "erf", "math", "None_"]

EXPRS = [
    x - x**3,
    sp.exp(-x**2 / 2) * sp.cos(y) + sp.sin(x * y),
    (x + 1) ** 5 - 3 / (1 + x**2) + sp.sqrt(1 + y**2),
    sp.tanh(x) * sp.atan(y) - sp.Abs(x - y) + sp.Max(x, y, 0) - sp.Min(x, -y),
    x**-3 * (y + 2) + (1 + x**2) ** sp.Rational(-1, 2) + (2 + y**2) ** sp.Rational(3, 2),
    -x - y - 2,
    sp.log(1 + x**2) * sp.E + sp.pi * y,
    sp.erf(x) + sp.atan2(y, x) + x**y,  # erf: fallback to lambdify; x**y: np.power
    sp.Integer(3),
    y,
    sp.cos(t) * x + t**2,
]


def _ref(expr: sp.Expr, vals: dict[sp.Symbol, np.ndarray]) -> np.ndarray:
    """Reference values by mpmath at 30 digits, point by point (independent of NumPy)."""
    syms = sorted(vals, key=lambda s: s.name)
    n = len(next(iter(vals.values())))
    out = np.empty(n)
    for i in range(n):
        sub = {s: sp.Float(float(vals[s][i]), 30) for s in syms}
        out[i] = float(sp.N(expr.xreplace(sub), 30))
    return out


def test_values_against_mpmath() -> None:
    rng = np.random.default_rng(0)
    xs, ys = rng.uniform(0.2, 1.5, 40), rng.uniform(-1.5, 1.5, 40)
    k = FusedKernel(EXPRS, [x, y], [t])
    outs = [np.empty(40) for _ in EXPRS]
    k([xs, ys], [0.7], outs, k.buffers(40))
    for e, o in zip(EXPRS, outs, strict=True):
        ref = _ref(e.subs(t, 0.7), {x: xs, y: ys})
        np.testing.assert_allclose(o, ref, rtol=1e-12, atol=1e-13, err_msg=str(e))
    # power: a wrong reference is rejected
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(outs[0], _ref(x - x**2, {x: xs, y: ys}), rtol=1e-12)


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_fused(name: str) -> None:
    s = sp.Symbol(name, real=True)
    p = sp.Symbol(name + "_2" if name != "e" else "pi", real=True)
    expr = s * sp.E + sp.pi * p + sp.atan(s) + sp.exp(s) + (s + 1) ** 3
    k = FusedKernel([expr], [s, p])
    a, b = np.array([0.5, -0.25]), np.array([2.0, 1.0])
    out = [np.empty(2)]
    k([a, b], [], out, k.buffers(2))
    ref = [v * math.e + math.pi * w + math.atan(v) + math.exp(v) + (v + 1) ** 3
           for v, w in zip(a, b, strict=True)]
    np.testing.assert_allclose(out[0], ref, rtol=1e-14)
    code = re.sub(r"(?<![A-Za-z_0-9])\d+\.?\d*(e[-+]?\d+)?", " ", k.source)
    idents = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", code))
    allowed = re.compile(r"^(def|kernel|return|None|out|[ASOBCF]\d*|U_[a-z0-9]+|NP_copyto)$")
    assert all(allowed.match(i) for i in idents), idents


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_lambdify(name: str) -> None:
    """lambdify_sde, lambdify_density and lambdify_loss with a symbol of that name."""
    s = sp.Symbol(name, real=True)
    q = sp.Symbol("pi" if name != "pi" else "e", positive=True)  # a parameter named pi/e
    mu, G = lambdify_sde(SDE([s], [s * sp.E - s**3 + sp.pi], q * sp.exp(s)), {q.name: 0.5})
    X = np.array([[0.5], [-1.0]])
    np.testing.assert_allclose(mu(X)[:, 0], [v * math.e - v**3 + math.pi for v in X[:, 0]],
                               rtol=1e-14)
    np.testing.assert_allclose(G(X)[:, 0, 0], [0.5 * math.exp(v) for v in X[:, 0]],
                               rtol=1e-14)
    dens = lambdify_density(sp.exp(-s**2 / 2) / sp.sqrt(2 * sp.pi), s)
    np.testing.assert_allclose(dens(np.array([0.5, 1.0])),
                               [math.exp(-v * v / 2) / math.sqrt(2 * math.pi)
                                for v in (0.5, 1.0)], rtol=1e-14)
    loss, grad = lambdify_loss((s - q) ** 2 / 2 + sp.E * s, [s], [q])
    th, yv = np.array([[0.5], [2.0]]), np.array([[1.0], [-1.0]])
    np.testing.assert_allclose(loss(th, yv), [(a - b) ** 2 / 2 + math.e * a
                                              for a, b in ((0.5, 1.0), (2.0, -1.0))],
                               rtol=1e-14)
    np.testing.assert_allclose(grad(th, yv)[:, 0], [0.5 - 1.0 + math.e, 2.0 + 1.0 + math.e],
                               rtol=1e-14)


def test_simulation_with_hostile_names_is_the_same_run() -> None:
    """The same SDE written with names e, pi, np gives the same bits as with x, y, sigma."""
    e, pi, np_ = sp.symbols("e pi np", real=True)
    s1 = SDE([e, pi], [e - e**3 + sp.E * pi, -pi], [np_ * sp.exp(-e**2), 0.5 + 0 * e])
    s2 = SDE([x, y], [x - x**3 + sp.E * y, -y], [z * sp.exp(-x**2), 0.5 + 0 * x])
    kw = dict(x0=[0.1, 0.2], dt=0.01, n_steps=20, n_paths=500, seed=4, method="milstein")
    a = simulate(s1, params={"np": 0.3}, **kw)
    b = simulate(s2, params={"z": 0.3}, **kw)
    np.testing.assert_array_equal(a.final, b.final)
    c = simulate(s2, params={"z": 0.31}, **kw)  # power: a different value is seen
    assert not np.array_equal(a.final, c.final)


def test_elementwise_so_slices_agree_bitwise() -> None:
    rng = np.random.default_rng(1)
    xs, ys = rng.uniform(0.2, 1.5, 1000), rng.uniform(-1, 1, 1000)
    k = FusedKernel(EXPRS, [x, y], [t])
    full = [np.empty(1000) for _ in EXPRS]
    k([xs, ys], [0.3], full, k.buffers(1000))
    for a, b in ((0, 7), (7, 300), (300, 1000)):
        part = [np.empty(b - a) for _ in EXPRS]
        k([xs[a:b], ys[a:b]], [0.3], part, k.buffers(b - a))
        for f, p in zip(full, part, strict=True):
            np.testing.assert_array_equal(f[a:b], p)


def test_no_allocation_per_call() -> None:
    n = 100_000
    exprs = [x - x**3 + 0.05 * y, sp.exp(-x**2) * sp.sin(y) / (1 + x**2)]
    k = FusedKernel(exprs, [x, y])
    xs, ys = np.linspace(-2, 2, n), np.linspace(0, 1, n)
    outs, bufs = [np.empty(n), np.empty(n)], k.buffers(n)
    k([xs, ys], [], outs, bufs)
    tracemalloc.start()
    try:
        for _ in range(20):
            k([xs, ys], [], outs, bufs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * n / 10, peak  # far less than one temporary array
    # power: NumPy code with temporaries allocates whole arrays
    tracemalloc.start()
    try:
        _ = xs - xs**3 + 0.05 * ys
        peak_tmp = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak_tmp > 8 * n


def test_pickles_and_refuses_free_symbols() -> None:
    k = FusedKernel([x * y + sp.sin(t)], [x, y], [t])
    k2 = pickle.loads(pickle.dumps(k))
    assert k2.source == k.source
    out = [np.empty(1)]
    k2([np.array([2.0]), np.array([3.0])], [0.0], out, k2.buffers(1))
    assert out[0][0] == 6.0
    with pytest.raises(InputError, match="free symbol"):
        FusedKernel([x * z], [x])


def test_a_coefficient_beyond_floating_point_is_refused() -> None:
    """A folded coefficient that overflows is refused in one line (it used to reach the
    generated source as ``inf``, an undefined name)."""
    with pytest.raises(InputError, match="evaluates to inf"):
        FusedKernel([sp.Float(1e200) ** 2 * x], [x])
    FusedKernel([sp.Float(1e150) ** 2 * x], [x])  # large but finite is fine
    big = SDE([x], [-x], sp.Float(1e200) * x)  # Milstein's G G' is 1e400 x
    for kernel in ("numpy", "numba"):
        with pytest.raises(InputError, match="evaluates to inf"):
            simulate(big, 0.1, n_steps=3, n_paths=10, method="milstein", kernel=kernel)
