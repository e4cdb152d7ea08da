"""The toy lecture's one part: the variance of a standard normal, two steps, one experiment."""

from __future__ import annotations

from functools import cache

import numpy as np
import sympy as sp

from symsde.experiment import Experiment
from symsde.proof import Claim, Computed, Derivation, FollowsFrom, MultiplyBoth
from symsde.stattests import mean_test


@cache
def derivation() -> Derivation:
    u = sp.Symbol("u", real=True)
    s = sp.Symbol("s", positive=True)
    V = sp.Symbol("V", positive=True)
    d = Derivation("toy_square", "The variance of a standard normal")
    d.define("variance", V, sp.Integral(u**2 * sp.exp(-u**2 / 2) / sp.sqrt(2 * sp.pi),
                                        (u, -sp.oo, sp.oo)),
             "The variance of a standard normal.", slide="Toy slide")
    d.step("unit-variance", Claim(V, 1), "A standard normal has variance 1.",
           slide="Toy slide", check=Computed(), equations=("T1",))
    d.step("scaled", Claim(s**2 * V, s**2), "Scaling by s multiplies it by s^2.",
           slide="Toy slide", check=FollowsFrom(MultiplyBoth(s**2)))
    return d


def confirm(seed: int = 0) -> Experiment:
    """Squares of standard normals have mean 1 (and not 2)."""
    x = np.random.default_rng(seed).standard_normal(20_000) ** 2
    exp = Experiment("toy_square", "Squares of standard normals have mean 1", seed)
    exp.predict("E[X^2] = 1", mean_test(x, 1.0))
    exp.reject("E[X^2] = 2", mean_test(x, 2.0))
    return exp
