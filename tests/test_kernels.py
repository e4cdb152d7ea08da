"""Kernels against SymPy's own evaluation at random points (1e-12 relative)."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

from symsde import SDE, stationary_density
from symsde.errors import InputError
from symsde.kernels import (
    affine_drift,
    lambdify_density,
    lambdify_loss,
    lambdify_sde,
    numeric_values,
)

RTOL = 1e-12

x, y, z = sp.symbols("x y z", real=True)
t = sp.Symbol("t", real=True)
sigma, a, b = sp.symbols("sigma a b", positive=True)


def _close(numeric: np.ndarray, exact: np.ndarray) -> None:
    """|numeric - exact| <= 1e-12 * max(|exact|, 1): relative, with an absolute floor of
    1e-12 where SymPy's value is below 1 (so that values near zero from cancellation
    compare sensibly)."""
    numeric, exact = np.asarray(numeric, float), np.asarray(exact, float)
    assert numeric.shape == exact.shape
    err = np.abs(numeric - exact) / np.maximum(np.abs(exact), 1.0)
    assert np.all(err <= RTOL), float(err.max())


def _evalf(expr: sp.Expr, point: dict) -> float:
    return float(sp.N(expr.subs(point), 30))


def _points(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    return rng.uniform(-2.0, 2.0, size=(n, d))


SDES = {
    "double-well": (SDE([x], [x - x**3 + a * sp.sin(x)], [[sp.sqrt(1 + x**2) * sigma]]),
                    {"a": 0.3, "sigma": 0.7}),
    "3d-rect": (SDE([x, y, z], [-x + y * z, sp.exp(-x**2) - y, sp.cos(x + y) - b * z],
                    [[1 + x**2, 0], [sp.tanh(y), sigma], [0, sp.exp(z / 3)]]),
                {"b": 1.5, "sigma": 0.25}),
    "time": (SDE([x, y], [sp.cos(t) - x, -y + x * sp.sin(2 * t)], [[sigma, 0], [0, x**2]],
                 time=t), {"sigma": 1.25}),
    "powers": (SDE([x, y], [x**3 - y / (1 + x**2) ** 2, (x + y) ** 3 / (2 + y**2) ** 3],
                   [[x**2 * y**4, sp.exp(x) ** 3], [1 / (3 + x) ** 2, y**-2]]), {}),
    "cse-heavy": (SDE([x], [sp.exp(x / 3) * sp.sin(sp.exp(x / 3)) - x**3 * sp.exp(x / 3)],
                      [[sp.exp(x / 3) ** 2 + 1]]), {}),
}


@pytest.mark.parametrize("name", sorted(SDES))
def test_drift_and_diffusion_match_evalf(name: str) -> None:
    sde, params = SDES[name]
    mu, G = lambdify_sde(sde, params)
    rng = np.random.default_rng(hash(name) % 2**32)
    X = _points(rng, 25, sde.dim)
    tt = 0.7
    values = {sp.Symbol(k, positive=True): v for k, v in params.items()}
    got_mu = mu(X, tt)
    got_G = G(X, tt)
    assert got_mu.shape == (25, sde.dim)
    assert got_G.shape == (25, sde.dim, sde.noise_dim)
    exp_mu = np.empty_like(got_mu)
    exp_G = np.empty_like(got_G)
    for n, row in enumerate(X):
        point = {**values, **dict(zip(sde.state, row, strict=True))}
        if sde.time is not None:
            point[sde.time] = tt
        exp_mu[n] = [_evalf(e, point) for e in sde.drift]
        exp_G[n] = [[_evalf(sde.diffusion[i, k], point) for k in range(sde.noise_dim)]
                    for i in range(sde.dim)]
    _close(got_mu, exp_mu)
    _close(got_G, exp_G)


def test_single_point_and_without_cse() -> None:
    sde, params = SDES["3d-rect"]
    mu, G = lambdify_sde(sde, params)
    mu2, G2 = lambdify_sde(sde, params, cse=False)
    p = np.array([0.3, -0.2, 1.1])
    assert mu(p).shape == (3,)
    assert G(p).shape == (3, 2)
    _close(mu(p), mu2(p))
    _close(G(p), G2(p))


def test_constant_diffusion_is_evaluated_once() -> None:
    sde = SDE([x, y], [-x, -y], [[sigma, 0], [sigma / 2, 2 * sigma]])
    _, G = lambdify_sde(sde, {"sigma": 0.5})
    assert G.constant is not None
    np.testing.assert_array_equal(G.constant, [[0.5, 0.0], [0.25, 1.0]])

    def boom(*args: object) -> None:
        raise AssertionError("constant diffusion re-evaluated")

    G.columns = boom  # type: ignore[assignment]
    out = G(np.zeros((1000, 2)))
    assert out.shape == (1000, 2, 2)
    assert not out.flags.writeable  # a broadcast view, not a fresh array
    np.testing.assert_array_equal(out[123], G.constant)


def test_state_dependent_diffusion_is_not_constant() -> None:
    _, G = lambdify_sde(SDES["double-well"][0], SDES["double-well"][1])
    assert G.constant is None


def test_density_kernel_matches_evalf() -> None:
    st = stationary_density(SDE.langevin(x**4 / 4 - x**2 / 2, [x], sigma),
                            integration_seconds=1)
    p = lambdify_density(st, params={"sigma": 0.9})
    xs = np.random.default_rng(3).uniform(-2, 2, 30)
    s = sp.Symbol("sigma", positive=True)
    unnorm = st.unnormalized.subs(s, sp.Float(0.9))
    with mpmath.workdps(30):  # the normaliser is an unevaluated Integral: quadrature
        Z = mpmath.quad(sp.lambdify(x, unnorm, "mpmath"), [-mpmath.inf, 0, mpmath.inf])
    exact = np.array([float(sp.N(unnorm.subs(x, v), 30) / sp.Float(Z, 30)) for v in xs])
    _close(p(xs), exact)
    _close(p(xs[:, None]), exact)
    # Unevaluated normaliser: computed by quadrature, so the density integrates to 1.
    grid = np.linspace(-6, 6, 20001)
    assert abs(np.trapezoid(p(grid), grid) - 1.0) < 1e-9


def test_density_kernel_multivariate() -> None:
    expr = sp.exp(-(x**2 + x * y + y**2)) * sp.sqrt(3) / (2 * sp.pi)
    p = lambdify_density(expr, [x, y])
    X = np.random.default_rng(4).normal(size=(10, 2))
    exact = [float(sp.N(expr.subs({x: r[0], y: r[1]}), 30)) for r in X]
    _close(p(X), exact)


def test_loss_and_gradient_match_evalf() -> None:
    w1, w2, u, v = sp.symbols("w1 w2 u v", real=True)
    loss = sp.log(1 + sp.exp(-v * (w1 * u + w2))) + a * (w1**2 + w2**2) / 2
    loss_fn, grad_fn = lambdify_loss(loss, [w1, w2], [u, v], values={"a": 0.01})
    rng = np.random.default_rng(5)
    th = rng.normal(size=(20, 2))
    data = np.column_stack([rng.normal(size=20), rng.choice([-1.0, 1.0], 20)])
    la = loss.subs(a, sp.Float(0.01))
    grads = [sp.diff(la, w) for w in (w1, w2)]
    exact_l, exact_g = [], []
    for r, dd in zip(th, data, strict=True):
        pt = {w1: r[0], w2: r[1], u: dd[0], v: dd[1]}
        exact_l.append(_evalf(la, pt))
        exact_g.append([_evalf(g, pt) for g in grads])
    _close(loss_fn(th, data), exact_l)
    _close(grad_fn(th, data), exact_g)
    # One theta broadcast against many examples.
    assert grad_fn(th[0], data).shape == (20, 2)


def test_constant_gradient_broadcasts() -> None:
    w, u = sp.symbols("w u", real=True)
    _, g = lambdify_loss(3 * w + u, [w], [u])
    np.testing.assert_array_equal(g(np.zeros((4, 1)), np.ones((4, 1))), np.full((4, 1), 3.0))


def test_affine_drift_detection() -> None:
    A, c = affine_drift(SDE([x, y], [-a * x + y + 1, -2 * y], 1), {"a": 2.0})
    np.testing.assert_array_equal(A, [[-2.0, 1.0], [0.0, -2.0]])
    np.testing.assert_array_equal(c, [1.0, 0.0])
    assert affine_drift(SDE([x], [-x**3], 1)) is None
    assert affine_drift(SDE([x], [-x + sp.cos(t)], 1, time=t)) is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "without a value"),
        ({"sigma": 1.0, "a": 1.0, "sigm": 2.0}, "does not occur"),
        ({"sigma": float("nan"), "a": 1.0}, "not finite"),
        ({"sigma": "1", "a": 1.0}, "give a real number"),
        ({"sigma": sp.I, "a": 1.0}, "not real"),
    ],
)
def test_parameter_errors(params: dict, message: str) -> None:
    with pytest.raises(InputError, match=message) as err:
        lambdify_sde(SDES["double-well"][0], params)
    assert "\n" not in str(err.value)


def test_shape_errors() -> None:
    mu, _ = lambdify_sde(SDES["3d-rect"][0], SDES["3d-rect"][1])
    with pytest.raises(InputError, match=r"shape \(n, 3\)"):
        mu(np.zeros((4, 2)))


def test_numeric_values_accepts_symbols_and_numpy() -> None:
    vals = numeric_values({sigma: np.float32(0.5), "a": np.int64(2)}, [sigma, a])
    assert vals == {sigma: sp.Float(0.5), a: sp.Integer(2)}
