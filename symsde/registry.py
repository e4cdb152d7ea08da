"""Finding and loading the derivation modules listed in ``derivations.REGISTRY``."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from types import ModuleType

from symsde.errors import InputError
from symsde.proof import Derivation

__all__ = ["Coverage", "coverage", "derivation_names", "load", "load_module"]


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


@dataclass(frozen=True)
class Coverage:
    """Which displayed equations of the notes the derivations account for.

    An equation counts when a step checks it with an independent witness, records it as
    an erratum, or defines it (a definition step, or a note that it is notation).
    """

    total: int
    covered: frozenset[str]
    per_slide: tuple[tuple[str, int, int], ...]  # (slide, covered, total)
    missing: tuple[str, ...]
    unknown: tuple[str, ...]  # ids named by a step but absent from the catalogue
    weak: tuple[str, ...] = ()  # named only by steps without an independent witness

    def to_dict(self) -> dict[str, object]:
        return {
            "covered": len(self.covered),
            "total": self.total,
            "per_slide": [{"slide": s, "covered": c, "total": t} for s, c, t in self.per_slide],
            "missing": list(self.missing),
            "unknown": list(self.unknown),
            "weak": list(self.weak),
        }


def coverage(derivs: Sequence[Derivation], *, seed: int = 0) -> Coverage:
    """Count the catalogue's displayed equations covered by checked steps or definitions."""
    from derivations._catalogue import EQUATIONS, SLIDES

    named: set[str] = set()
    strong: set[str] = set()
    for d in derivs:
        for r in d.verify(seed=seed).steps:
            named.update(r.step.equations)
            if r.verdict == "fails":
                continue
            if r.kind in ("definition", "erratum") or r.independent_witness:
                strong.update(r.step.equations)
        for n in d.notation:
            named.add(n.equation)
            strong.add(n.equation)
    ids = [e[0] for e in EQUATIONS]
    covered = frozenset(strong & set(ids))
    per_slide = tuple(
        (slide, sum(1 for i, s, _ in EQUATIONS if s == slide and i in covered),
         sum(1 for _, s, _ in EQUATIONS if s == slide))
        for slide in SLIDES
    )
    return Coverage(
        total=len(ids),
        covered=covered,
        per_slide=per_slide,
        missing=tuple(i for i in ids if i not in covered),
        unknown=tuple(sorted(named - set(ids))),
        weak=tuple(i for i in ids if i in named and i not in covered),
    )
