"""Finding and loading the derivation modules listed in ``derivations.REGISTRY``."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from functools import cache
from types import ModuleType

from symsde.errors import InputError
from symsde.proof import Derivation

__all__ = ["derivation_names", "load", "load_module"]


def derivation_names() -> tuple[str, ...]:
    """Names of the registered derivations, in the order of the notes."""
    import derivations

    return tuple(derivations.REGISTRY)


def load_module(name: str) -> ModuleType:
    """Import ``derivations.<name>``; unknown names are an input error."""
    names = derivation_names()
    if name not in names:
        known = ", ".join(names) if names else "none are registered yet"
        raise InputError(f"unknown derivation {name!r}; known derivations: {known}")
    return importlib.import_module(f"derivations.{name}")


@cache
def _build(name: str) -> Derivation:
    d = load_module(name).derivation()
    if not isinstance(d, Derivation):
        raise TypeError(f"derivations.{name}.derivation() must return a Derivation")
    return d


def load(names: Sequence[str] | None = None) -> list[Derivation]:
    """Build the named derivations (all registered ones by default), cached per process."""
    chosen = derivation_names() if not names else tuple(names)
    for n in chosen:
        load_module(n)  # validate every name before building any
    return [_build(n) for n in chosen]
