"""Tests of :class:`symsde.SDE`: construction, validation and the three operators.

Expected values are written out by hand from Ito's formula
``A f = mu . grad f + 1/2 tr(D hess f)``, the current ``J_i = mu_i p - 1/2 sum_j d_j(D_ij p)``
and the Fokker-Planck equation ``dp/dt = -div J``, never produced by the code under test.
"""

from __future__ import annotations

import pytest
import sympy as sp

from symsde import SDE
from symsde.errors import InputError, InvalidSDEError, SymsdeError
from symsde.sde import divergence, gradient

x, y, z, t = sp.symbols("x y z t", real=True)
sigma, theta, eta = sp.symbols("sigma theta eta", positive=True)
p = sp.Function("p")
f = sp.Function("f")


def is_zero(expr: sp.Expr) -> bool:
    """The comparison every test uses: ``simplify(a - b) == 0``."""
    return sp.simplify(expr) == 0


def matrices_equal(a: sp.Matrix, b: sp.Matrix) -> bool:
    a, b = sp.Matrix(a), sp.Matrix(b)
    return a.shape == b.shape and all(is_zero(u - v) for u, v in zip(a, b, strict=True))


# -- the comparison helpers reject wrong claims ----------
def test_is_zero_rejects_a_wrong_identity() -> None:
    assert is_zero(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1)
    assert not is_zero(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1 - x / 10**6)


def test_matrices_equal_rejects_wrong_shape_and_entry() -> None:
    assert matrices_equal(sp.Matrix([[x + x]]), sp.Matrix([[2 * x]]))
    assert not matrices_equal(sp.Matrix([[x]]), sp.Matrix([[x, 0]]))
    assert not matrices_equal(sp.Matrix([[x]]), sp.Matrix([[x + 1]]))


# -- construction ----------
def test_contract_example() -> None:
    sde = SDE(state=[x], drift=[x - x**3], diffusion=[[sp.sqrt(1 + x**2)]])
    assert (sde.dim, sde.noise_dim) == (1, 1)
    assert matrices_equal(sde.diffusion_matrix, sp.Matrix([[1 + x**2]]))
    assert matrices_equal(sde.drift, sp.Matrix([x - x**3]))
    assert sde.state == (x,)


@pytest.mark.parametrize(
    "drift",
    [
        [-x, -2 * y],
        (-x, -2 * y),
        sp.Matrix([-x, -2 * y]),
        sp.Matrix([[-x, -2 * y]]),  # a row is accepted and transposed
    ],
    ids=["list", "tuple", "column", "row"],
)
def test_drift_forms_are_equivalent(drift: object) -> None:
    sde = SDE([x, y], drift, 1)
    assert sde.drift.shape == (2, 1)
    assert matrices_equal(sde.drift, sp.Matrix([-x, -2 * y]))


def test_scalar_drift_and_single_symbol_state_in_one_dimension() -> None:
    sde = SDE(x, -theta * x, sigma)
    assert sde.state == (x,)
    assert matrices_equal(sde.drift, sp.Matrix([-theta * x]))
    assert matrices_equal(sde.diffusion_matrix, sp.Matrix([[sigma**2]]))


def test_scalar_diffusion_means_scalar_times_identity() -> None:
    sde = SDE([x, y, z], [-x, -y, -z], sigma)
    assert (sde.dim, sde.noise_dim) == (3, 3)
    assert matrices_equal(sde.diffusion, sigma * sp.eye(3))
    assert matrices_equal(sde.diffusion_matrix, sigma**2 * sp.eye(3))


def test_list_diffusion_is_diagonal() -> None:
    sde = SDE([x, y], [-x, -y], [1, sp.sqrt(1 + x**2)])
    assert sde.noise_dim == 2
    assert matrices_equal(sde.diffusion_matrix, sp.diag(1, 1 + x**2))


def test_rectangular_diffusion_d_by_m() -> None:
    # One Brownian motion driving both coordinates: D = g g^T has rank one.
    one = SDE([x, y], [-x, -y], [[1], [2]])
    assert (one.dim, one.noise_dim) == (2, 1)
    assert matrices_equal(one.diffusion_matrix, sp.Matrix([[1, 2], [2, 4]]))
    # Three Brownian motions for two coordinates.
    G = sp.Matrix([[1, 0, sigma], [0, x, 1]])
    three = SDE([x, y], [-x, -y], G)
    assert three.noise_dim == 3
    assert matrices_equal(three.diffusion_matrix, G * G.T)
    assert matrices_equal(
        three.diffusion_matrix, sp.Matrix([[1 + sigma**2, sigma], [sigma, x**2 + 1]])
    )


def test_diffusion_matrix_is_symmetric_and_psd_for_random_real_g() -> None:
    G = sp.Matrix([[1, 2, -1], [0, 3, 5]])
    D = SDE([x, y], [-x, -y], G).diffusion_matrix
    assert D == D.T
    assert all(ev >= 0 for ev in D.eigenvals())


def test_parameters_and_their_assumptions_are_respected() -> None:
    sde = SDE([x], [-theta * x], sp.sqrt(sigma**2))
    assert sde.parameters == frozenset({sigma, theta})
    # sigma is positive, so sqrt(sigma**2) is sigma, not |sigma|.
    assert sde.diffusion[0, 0] == sigma
    s_real = sp.Symbol("s", real=True)
    sde_real = SDE([x], [-x], sp.sqrt(s_real**2))
    assert sde_real.diffusion[0, 0] == sp.Abs(s_real)
    assert sde_real.diffusion[0, 0] != s_real


def test_constant_diffusion_flag() -> None:
    assert SDE([x], [-x], sigma).is_constant_diffusion
    assert not SDE([x], [-x], [[sp.sqrt(1 + x**2)]]).is_constant_diffusion


def test_from_diffusion_matrix_factor_reproduces_d() -> None:
    D = sp.Matrix([[2, 1], [1, 2]])
    sde = SDE.from_diffusion_matrix([x, y], [-x, -y], D)
    assert matrices_equal(sde.diffusion * sde.diffusion.T, D)
    assert matrices_equal(sde.diffusion_matrix, D)
    # Symbolic entries, positive definite for every sigma > 0.
    Ds = sp.Matrix([[sigma**2, sigma / 2], [sigma / 2, 1]])
    sde_s = SDE.from_diffusion_matrix([x, y], [-x, -y], Ds)
    assert matrices_equal(sde_s.diffusion * sde_s.diffusion.T, Ds)


def test_from_diffusion_matrix_scalar_and_flat_list() -> None:
    scalar = SDE.from_diffusion_matrix([x, y], [-x, -y], 3)
    assert matrices_equal(scalar.diffusion * scalar.diffusion.T, 3 * sp.eye(2))
    flat = SDE.from_diffusion_matrix([x, y], [-x, -y], [1, 4])
    assert matrices_equal(flat.diffusion * flat.diffusion.T, sp.diag(1, 4))
    one_d = SDE.from_diffusion_matrix([x], [-x], [[1 + x**2]])
    assert matrices_equal(one_d.diffusion_matrix, sp.Matrix([[1 + x**2]]))


# -- validation ----------
@pytest.mark.parametrize(
    ("drift", "phrase"),
    [
        ([-x], "drift has 1 component(s) but the state has 2"),
        ([-x, -y, 0], "drift has 3 component(s) but the state has 2"),
        (sp.Matrix([[-x, 0], [0, -y]]), "drift must be a column of 2 expressions"),
    ],
)
def test_wrong_drift_length(drift: object, phrase: str) -> None:
    with pytest.raises(InvalidSDEError) as info:
        SDE([x, y], drift, 1)
    msg = str(info.value)
    assert phrase in msg
    assert "drift" in msg


@pytest.mark.parametrize(
    ("diffusion", "phrase"),
    [
        ([[1, 0], [0, 1], [1, 1]], "3 row(s) but the state has 2"),
        ([1, 2, 3], "diagonal diffusion has 3 entries but the state has 2"),
        ([[1, 0], [1]], "rows have different lengths"),
        ([1, [0, 1]], "mixes scalars and rows"),
        ([], "diffusion is empty"),
        (sp.zeros(2, 0), "no columns"),
        (sp.Matrix([[1, 0, 0]]), "1 row(s) but the state has 2"),
    ],
)
def test_wrong_diffusion_shape(diffusion: object, phrase: str) -> None:
    with pytest.raises(InvalidSDEError) as info:
        SDE([x, y], [-x, -y], diffusion)
    assert phrase in str(info.value)


def test_non_symmetric_diffusion_matrix() -> None:
    with pytest.raises(InvalidSDEError, match="not symmetric") as info:
        SDE.from_diffusion_matrix([x, y], [-x, -y], [[1, 0], [1, 1]])
    assert "always symmetric" in str(info.value)


@pytest.mark.parametrize(
    "D",
    [
        [[1, 2], [2, 1]],  # eigenvalues 3 and -1
        [[-1, 0], [0, 1]],  # a negative variance
        [-1, 1],  # the same as a flat list
        [[1, 0, 0], [0, 1, 3], [0, 3, 1]],  # a negative 2x2 minor inside a 3x3 matrix
    ],
)
def test_indefinite_diffusion_matrix(D: list[object]) -> None:
    state = [x, y, z][: len(D)]
    with pytest.raises(InvalidSDEError, match="not positive semi-definite") as info:
        SDE.from_diffusion_matrix(state, [-s for s in state], D)
    assert "non-negative eigenvalues" in str(info.value)


def test_wrong_diffusion_matrix_shape() -> None:
    with pytest.raises(InvalidSDEError, match="must be 2x2"):
        SDE.from_diffusion_matrix([x, y], [-x, -y], [[1, 0, 0], [0, 1, 0]])
    with pytest.raises(InvalidSDEError, match="different lengths"):
        SDE.from_diffusion_matrix([x, y], [-x, -y], [[1, 0], [0]])


def test_non_real_coefficients_are_rejected() -> None:
    with pytest.raises(InvalidSDEError, match="not real"):
        SDE([x], [-x], sp.I)
    with pytest.raises(InvalidSDEError, match="not real"):
        SDE([x], [-sp.I * x], 1)


def test_infinite_coefficient_is_rejected() -> None:
    with pytest.raises(InvalidSDEError, match="not finite"):
        SDE([x], [sp.oo], 1)
    with pytest.raises(InvalidSDEError, match="not finite"):
        SDE([x], [-x], sp.zoo)


@pytest.mark.parametrize(
    ("state", "phrase"),
    [
        ([], "state is empty"),
        ([x, x], "appears more than once"),
        ([x, 2], "is not a SymPy Symbol"),
        (3, "state must be a list of SymPy symbols"),
    ],
)
def test_bad_state(state: object, phrase: str) -> None:
    with pytest.raises(InvalidSDEError) as info:
        SDE(state, [-x], 1)  # type: ignore[arg-type]
    assert phrase in str(info.value)


def test_time_symbol_may_not_be_a_state_variable() -> None:
    with pytest.raises(InvalidSDEError, match="also a state variable"):
        SDE([x, t], [-x, 1], 1, time=t)


def test_error_hierarchy_and_exit_codes() -> None:
    assert issubclass(InvalidSDEError, SymsdeError)
    assert issubclass(InvalidSDEError, InputError)
    assert issubclass(InvalidSDEError, ValueError)
    assert InvalidSDEError.exit_code == 2


# -- the generator against Ito's formula by hand ----------
def test_generator_ou_on_x_squared() -> None:
    # A x^2 = (-theta x)(2x) + sigma^2/2 * 2
    sde = SDE([x], [-theta * x], sigma)
    assert is_zero(sde.generator(x**2) - (-2 * theta * x**2 + sigma**2))


def test_generator_state_dependent_noise_on_x_cubed() -> None:
    # A x^3 = (x - x^3) 3x^2 + (1 + x^2)/2 * 6x
    sde = SDE([x], [x - x**3], [[sp.sqrt(1 + x**2)]])
    expected = (x - x**3) * 3 * x**2 + (1 + x**2) * 3 * x
    assert is_zero(sde.generator(x**3) - expected)
    assert is_zero(sde.generator(x**3) - (-3 * x**5 + 6 * x**3 + 3 * x))


def test_generator_constant_and_linear_functions() -> None:
    sde = SDE([x, y], [x - x**3, -y], [[1, 0], [x, 1]])
    assert sde.generator(sp.Integer(7)) == 0
    assert is_zero(sde.generator(x) - (x - x**3))
    assert is_zero(sde.generator(2 * x - 3 * y) - (2 * (x - x**3) + 3 * y))


def test_generator_correlated_noise_uses_off_diagonal_d() -> None:
    # G = [[1, 0], [1, 1]] -> D = [[1, 1], [1, 2]]; f = x y has d_xy f = 1, so the
    # second-order part is (D_xy + D_yx)/2 = 1.
    sde = SDE([x, y], [-x, -2 * y], [[1, 0], [1, 1]])
    assert is_zero(sde.generator(x * y) - (-x * y - 2 * x * y + 1))


def test_generator_of_an_undefined_function_matches_the_formula() -> None:
    G = sp.Matrix([[sigma, 0], [x, 1]])
    mu = sp.Matrix([-y, x - y**3])
    sde = SDE([x, y], mu, G)
    F = f(x, y)
    D = G * G.T
    X = [x, y]
    expected = sum(mu[i] * sp.diff(F, X[i]) for i in range(2)) + sp.Rational(1, 2) * sum(
        D[i, j] * sp.diff(F, X[i], X[j]) for i in range(2) for j in range(2)
    )
    assert is_zero(sde.generator(F) - expected)


def test_generator_wrong_claims_are_rejected() -> None:
    sde = SDE([x], [-theta * x], sigma)
    Af = sde.generator(x**2)
    # Forgetting the Ito correction, or doubling it, must not pass.
    assert not is_zero(Af - (-2 * theta * x**2))
    assert not is_zero(Af - (-2 * theta * x**2 + 2 * sigma**2))
    # Using G instead of D = G G^T must not pass either.
    assert not is_zero(Af - (-2 * theta * x**2 + sigma))


# -- current and Fokker-Planck ----------
def test_current_one_dimension_formula() -> None:
    mu, D = x - x**3, 1 + x**2
    sde = SDE([x], [mu], [[sp.sqrt(D)]])
    P = p(x)
    J = sde.current(P)
    assert J.shape == (1, 1)
    assert is_zero(J[0] - (mu * P - sp.diff(D * P, x) / 2))
    # Wrong claim: the current without the derivative of D.
    assert not is_zero(J[0] - (mu * P - D * sp.diff(P, x) / 2))


def test_current_two_dimensions_with_correlated_state_dependent_noise() -> None:
    G = sp.Matrix([[1, 0], [y, 1]])
    D = G * G.T  # [[1, y], [y, 1 + y**2]]
    mu = sp.Matrix([-x, -y])
    sde = SDE([x, y], mu, G)
    P = p(x, y)
    J = sde.current(P)
    expected_x = -x * P - (sp.diff(P, x) + sp.diff(y * P, y)) / 2
    expected_y = -y * P - (sp.diff(y * P, x) + sp.diff((1 + y**2) * P, y)) / 2
    assert is_zero(J[0] - expected_x)
    assert is_zero(J[1] - expected_y)
    assert matrices_equal(sde.diffusion_matrix, D)


def test_fokker_planck_is_minus_divergence_of_current() -> None:
    sde = SDE([x, y], [-x + y, -y - x**3], [[1, 0], [x, 2]])
    P = p(x, y)
    assert is_zero(sde.fokker_planck(P) + divergence(sde.current(P), [x, y]))


def test_fokker_planck_explicit_one_dimension() -> None:
    mu, D = -theta * x, sigma**2 * (1 + x**2)
    sde = SDE([x], [mu], [[sigma * sp.sqrt(1 + x**2)]])
    P = p(x)
    expected = -sp.diff(mu * P, x) + sp.diff(D * P, x, 2) / 2
    assert is_zero(sde.fokker_planck(P) - expected)


def test_fokker_planck_ou_gaussian_is_stationary_and_a_wrong_width_is_not() -> None:
    sde = SDE([x], [-theta * x], sigma)
    right = sp.exp(-theta * x**2 / sigma**2)
    assert is_zero(sde.fokker_planck(right))
    assert is_zero(sde.current(right)[0])
    wrong = sp.exp(-theta * x**2 / (2 * sigma**2))
    assert not is_zero(sde.fokker_planck(wrong))
    assert not is_zero(sde.current(wrong)[0])


def test_fokker_planck_is_the_adjoint_of_the_generator() -> None:
    # int (A g) q dx = int g (L* q) dx for a rapidly decaying q: an independent check that
    # the generator and the Fokker-Planck operator are each other's adjoints.
    sde = SDE([x], [x - x**3], [[sp.sqrt(1 + x**2)]])
    q = sp.exp(-(x**2))
    for g in (x**2, x**4 - x, x**3 + 2 * x):
        lhs = sp.integrate(sp.expand(sde.generator(g) * q), (x, -sp.oo, sp.oo))
        rhs = sp.integrate(sp.expand(g * sde.fokker_planck(q)), (x, -sp.oo, sp.oo))
        assert is_zero(lhs - rhs)
    # Wrong claim: the plain (not adjoint) generator acting on q breaks the identity.
    g = x**4 - x
    lhs = sp.integrate(sp.expand(sde.generator(g) * q), (x, -sp.oo, sp.oo))
    bad = sp.integrate(sp.expand(g * sde.generator(q)), (x, -sp.oo, sp.oo))
    assert not is_zero(lhs - bad)


# -- Langevin and SGD constructors ----------
def test_langevin_double_well() -> None:
    L = x**4 / 4 - x**2 / 2
    sde = SDE.langevin(L, [x], sigma)
    assert is_zero(sde.drift[0] - (x - x**3))
    assert matrices_equal(sde.diffusion_matrix, sp.Matrix([[sigma**2]]))
    assert sde.loss == L
    assert sde.learning_rate is None


def test_langevin_two_dimensions_isotropic_and_anisotropic() -> None:
    L = x**2 / 2 + x * y / 2 + y**2
    iso = SDE.langevin(L, [x, y], sigma)
    assert matrices_equal(iso.drift, -gradient(L, [x, y]))
    assert matrices_equal(iso.drift, sp.Matrix([-x - y / 2, -x / 2 - 2 * y]))
    assert matrices_equal(iso.diffusion_matrix, sigma**2 * sp.eye(2))
    aniso = SDE.langevin(L, [x, y], [1, 2])
    assert matrices_equal(aniso.diffusion_matrix, sp.diag(1, 4))


def test_sgd_sde() -> None:
    L = x**2 / 2
    sde = SDE.sgd(L, [x], eta, sp.sqrt(1 + x**2))
    assert is_zero(sde.drift[0] + x)
    assert is_zero(sde.diffusion_matrix[0, 0] - eta * (1 + x**2))
    assert sde.learning_rate == eta
    assert sde.loss == L
    # A matrix square root of the gradient-noise covariance in two dimensions.
    S = sp.Matrix([[1, 0], [1, 1]])
    sde2 = SDE.sgd(x**2 + y**2, [x, y], eta, S)
    assert matrices_equal(sde2.diffusion_matrix, eta * S * S.T)
    assert matrices_equal(sde2.drift, sp.Matrix([-2 * x, -2 * y]))


def test_langevin_and_sgd_validate_their_noise() -> None:
    with pytest.raises(InvalidSDEError, match="diagonal diffusion has 3 entries"):
        SDE.langevin(x**2 + y**2, [x, y], [1, 2, 3])
    with pytest.raises(InvalidSDEError, match="3 row"):
        SDE.sgd(x**2 + y**2, [x, y], eta, [[1], [2], [3]])


# -- other helpers ----------
def test_subs_returns_a_new_sde() -> None:
    sde = SDE.langevin(theta * x**2 / 2, [x], sigma)
    num = sde.subs({sigma: 2, theta: 3})
    assert matrices_equal(num.diffusion_matrix, sp.Matrix([[4]]))
    assert is_zero(num.drift[0] + 3 * x)
    assert num.loss == 3 * x**2 / 2
    assert sde.parameters == frozenset({sigma, theta})
    assert num.parameters == frozenset()
    via_d = SDE.from_diffusion_matrix([x], [-x], [[sigma**2]]).subs(sigma, 3)
    assert matrices_equal(via_d.diffusion_matrix, sp.Matrix([[9]]))


def test_equality_and_hash() -> None:
    a = SDE([x], [-x], 1)
    b = SDE([x], sp.Matrix([-x]), [[1]])
    c = SDE([x], [-2 * x], 1)
    assert a == b
    assert hash(a) == hash(b)
    assert a != c
    assert "SDE(state=[x]" in repr(a)


def test_gradient_and_divergence() -> None:
    assert matrices_equal(gradient(x**2 * y, [x, y]), sp.Matrix([2 * x * y, x**2]))
    assert is_zero(divergence([x * y, y**2], [x, y]) - 3 * y)
    assert not is_zero(divergence([x * y, y**2], [x, y]) - 2 * y)


# -- every operator on each of the cases, against hand-written formulas ------------------
omega = sp.Symbol("omega", positive=True)
# name: (SDE, hand-written drift, hand-written D, f, hand-written A f)
CASES: dict[str, tuple[SDE, list[sp.Expr], sp.Matrix, sp.Expr, sp.Expr]] = {
    "OU": (SDE([x], [-theta * x], sigma), [-theta * x], sp.Matrix([[sigma**2]]), x**2,
           -2 * theta * x**2 + sigma**2),
    "double well": (SDE.langevin(x**4 / 4 - x**2 / 2, [x], sigma), [x - x**3],
                    sp.Matrix([[sigma**2]]), x**2, 2 * x**2 - 2 * x**4 + sigma**2),
    "state-dependent 1-D": (SDE([x], [x - x**3], [[sp.sqrt(1 + x**2)]]), [x - x**3],
                            sp.Matrix([[1 + x**2]]), x**2, -2 * x**4 + 3 * x**2 + 1),
    "2-D gradient": (SDE.langevin(x**2 / 2 + x * y / 2 + y**2, [x, y], sigma),
                     [-x - y / 2, -x / 2 - 2 * y], sigma**2 * sp.eye(2), x**2 + y**2,
                     -2 * x**2 - 2 * x * y - 4 * y**2 + 2 * sigma**2),
    "2-D anisotropic": (SDE.langevin(x**2 / 2 + y**2 / 2, [x, y], [1, 2]), [-x, -y],
                        sp.diag(1, 4), x**2 + y**2, -2 * x**2 - 2 * y**2 + 5),
    "rotational": (SDE([x, y], [-x - omega * y, omega * x - y], sigma),
                   [-x - omega * y, omega * x - y], sigma**2 * sp.eye(2), x**2 + y**2,
                   -2 * x**2 - 2 * y**2 + 2 * sigma**2),
}


@pytest.mark.parametrize("case", list(CASES))
def test_operators_on_each_case(case: str) -> None:
    sde, mu, D, fn, Af = CASES[case]
    X = list(sde.state)
    d = len(X)
    assert matrices_equal(sde.drift, sp.Matrix(mu))
    assert matrices_equal(sde.diffusion_matrix, D)
    assert is_zero(sde.generator(fn) - Af)
    P = p(*X)
    J = [mu[i] * P - sum(sp.diff(D[i, j] * P, X[j]) for j in range(d)) / 2 for i in range(d)]
    assert matrices_equal(sde.current(P), sp.Matrix(J))
    assert is_zero(sde.fokker_planck(P) + sum(sp.diff(J[i], X[i]) for i in range(d)))
    # Negative control: the generator with the second-order term halved again is rejected.
    wrong = sum(mu[i] * sp.diff(fn, X[i]) for i in range(d)) + sum(
        D[i, j] * sp.diff(fn, X[i], X[j]) for i in range(d) for j in range(d)) / 4
    assert not is_zero(sde.generator(fn) - wrong)


# -- Stratonovich (issue 12) ----------
# Independent characterisation: the generator of the Stratonovich SDE dX = a dt + G o dB is
# A f = a . grad f + 1/2 sum_k L_k L_k f with L_k = (column k of G) . grad (Hormander form;
# Ikeda-Watanabe, ch. V.1), so sde.generator(f) must equal it for every test function f.
def _hormander_generator(a: sp.Matrix, G: sp.Matrix, X: list[sp.Symbol], f: sp.Expr
                         ) -> sp.Expr:
    def L(k: int, g: sp.Expr) -> sp.Expr:
        return sp.Add(*[G[i, k] * sp.diff(g, X[i]) for i in range(len(X))])

    first = sp.Add(*[a[i] * sp.diff(f, X[i]) for i in range(len(X))])
    return sp.expand(first + sp.Add(*[L(k, L(k, f)) for k in range(G.shape[1])]) / 2)


NONCOMMUTATIVE = (
    # columns (y, 1) and (1, x*y): their Lie bracket is non-zero.
    sp.Matrix([[y, 1], [x * y, sp.sin(x)]]),
    sp.Matrix([[1 + x**2, 0, y], [x, sp.exp(y), 1]]),
)


@pytest.mark.parametrize("G", NONCOMMUTATIVE)
def test_from_stratonovich_matches_hormander_generator(G: sp.Matrix) -> None:
    a = sp.Matrix([-x + y, x * y - y**3])
    sde = SDE.from_stratonovich([x, y], a, G)
    for f in (x, y, x**2 * y, sp.cos(x) + y**3):
        assert sp.simplify(sde.generator(f) - _hormander_generator(a, G, [x, y], f)) == 0
    # ... and the round trip gives the Stratonovich drift back.
    assert (sde.stratonovich_drift - a).applyfunc(sp.simplify) == sp.zeros(2, 1)


def test_noncommutative_example_really_is_noncommutative() -> None:
    G = NONCOMMUTATIVE[0]
    c1, c2 = G[:, 0], G[:, 1]
    bracket = c2.jacobian([x, y]) * c1 - c1.jacobian([x, y]) * c2
    assert bracket.applyfunc(sp.simplify) != sp.zeros(2, 1)


def test_stratonovich_drift_of_a_wrong_conversion_fails_the_check() -> None:
    # Negative control: forgetting the noise-induced drift breaks the generator identity.
    G = NONCOMMUTATIVE[0]
    a = sp.Matrix([-x, -y])
    naive = SDE([x, y], a, G)
    assert sp.simplify(naive.generator(x**2) - _hormander_generator(a, G, [x, y], x**2)) != 0


def test_gbm_stratonovich_both_ways() -> None:
    # Oksendal, SDE, ex. 5.1.1 and sec. 6.1: dX = mu X dt + s X o dB is Ito with mu + s^2/2.
    xp = sp.Symbol("x", positive=True)
    mu, s = sp.symbols("mu s", real=True)
    assert SDE.from_stratonovich([xp], [mu * xp], [[s * xp]]).drift[0] == sp.expand(
        (mu + s**2 / 2) * xp)
    assert SDE([xp], [mu * xp], [[s * xp]]).stratonovich_drift[0] == sp.expand(
        (mu - s**2 / 2) * xp)


# -- domains ----------
def test_domain_from_keyword_assumptions_and_zeros_of_d() -> None:
    assert SDE([x], [-x], 1, sp.Interval(0, 1)).domain == sp.Interval(0, 1)
    assert SDE([x], [-x], 1).domain == sp.Interval(-sp.oo, sp.oo)
    r = sp.Symbol("r", positive=True)
    assert SDE([r], [-r], 1).domain == sp.Interval.open(0, sp.oo)
    assert SDE([x], [1 - x], [[sp.sqrt(x)]]).domain == sp.Interval.open(0, sp.oo)
    assert SDE([x], [0], [[sp.sqrt(1 - x**2)]]).domain == sp.Interval.open(-1, 1)
    both = SDE([x, y], [-x, -y], 1, sp.Interval(0, 1) * sp.Interval(-1, 1))
    assert both.domain == sp.ProductSet(sp.Interval(0, 1), sp.Interval(-1, 1))
    # subs keeps the domain
    th = sp.Symbol("th", positive=True)
    assert SDE([x], [-x], 1, sp.Interval(0, th)).subs(th, 2).domain == sp.Interval(0, 2)


@pytest.mark.parametrize("bad, phrase", [("0..1", "not an interval"),
                                         (sp.FiniteSet(1), "not an interval"),
                                         ([sp.Interval(0, 1), sp.FiniteSet(2)],
                                          "positive length"),
                                         ([sp.Interval(0, 1)] * 3, "one interval per")])
def test_bad_domain_is_a_clear_input_error(bad: object, phrase: str) -> None:
    with pytest.raises(InvalidSDEError, match=phrase):
        SDE([x, y] if isinstance(bad, list) else [x],
            [-x, -y] if isinstance(bad, list) else [-x], 1, bad)


def test_strings_may_name_the_time() -> None:
    """A string read by the whitelist parser knows the SDE's time symbol, as its SymPy
    form does (it was refused as an unknown name)."""
    x, t = sp.symbols("x t", real=True)
    sde = SDE([x], [-x * t], 1, time=t)
    assert sde.generator("t*x") == sde.generator(t * x)
    assert sde.subs("t", 1).drift == sde.subs(t, 1).drift
    with pytest.raises(InputError, match="unknown name"):
        SDE([x], [-x], 1).generator("t*x")  # no time symbol: still an unknown name
