"""Lectures and their parts, found through the entry-point group ``symsde.derivations``.

A lecture package declares, once, a :class:`Lecture`: its parts in order (module, title,
book chapter, section of the book), and optionally the notes' displayed equations. It
registers it in its ``pyproject.toml``::

    [project.entry-points."symsde.derivations"]
    mylecture = "mylecture:LECTURE"

``symsde list``, ``verify``, ``mutate``, the pytest plugin and the book all find parts
here, so a third party's lecture plugs in the way this project's own does. symsde itself
never imports a lecture by name.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from types import ModuleType

from symsde.errors import InputError
from symsde.proof import Derivation

__all__ = [
    "ENTRY_POINT_GROUP",
    "Coverage",
    "Lecture",
    "Part",
    "coverage",
    "derivation_names",
    "equations",
    "lectures",
    "load",
    "load_module",
    "part",
]

#: The entry-point group through which lectures register (a contract).
ENTRY_POINT_GROUP = "symsde.derivations"


@dataclass(frozen=True)
class Part:
    """One part of a lecture: a module defining ``derivation()`` (and ``confirm(seed)``).

    ``name`` is the module's name inside the lecture package and the part's name on the
    command line; ``chapter`` is the book page (``chapters/<name>`` by default);
    ``section`` groups chapters in the book's table of contents; ``summary`` is the
    sentence the book's index gives the chapter (MyST; the title when empty).
    """

    name: str
    title: str
    section: str = "The lecture, re-derived"
    chapter: str = ""
    summary: str = ""

    @property
    def page(self) -> str:
        return self.chapter or f"chapters/{self.name}"


@dataclass(frozen=True)
class Lecture:
    """A lecture package: its parts in order and the notes' displayed equations.

    ``equations`` are ``(id, slide, latex)`` triples of the notes' displays, used for
    coverage and to compare steps with the notes as written; ``slides`` their slide
    titles in order.
    """

    package: str
    title: str
    parts: tuple[Part, ...]
    equations: tuple[tuple[str, str, str], ...] = ()
    slides: tuple[str, ...] = field(default=())

    def module_name(self, part: Part) -> str:
        return f"{self.package}.{part.name}"


def _entry_points() -> list[metadata.EntryPoint]:
    return sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)


@cache
def lectures() -> tuple[Lecture, ...]:
    """Every installed lecture (sorted by entry-point name)."""
    out = []
    for ep in _entry_points():
        obj = ep.load()
        if not isinstance(obj, Lecture):
            raise TypeError(f"entry point {ep.name!r} of group {ENTRY_POINT_GROUP!r} must name "
                            f"a symsde.registry.Lecture, not {type(obj).__name__}")
        out.append(obj)
    return tuple(out)


def _parts() -> dict[str, tuple[Lecture, Part]]:
    table: dict[str, tuple[Lecture, Part]] = {}
    for lec in lectures():
        for p in lec.parts:
            if p.name in table:
                other = table[p.name][0].package
                raise InputError(f"two lectures ({other}, {lec.package}) have a part named "
                                 f"{p.name!r}; rename one")
            table[p.name] = (lec, p)
    return table


def derivation_names() -> tuple[str, ...]:
    """Names of every registered part, lecture by lecture, in each lecture's order."""
    return tuple(_parts())


def part(name: str) -> tuple[Lecture, Part]:
    """The lecture and part of a registered name; unknown names are an input error."""
    table = _parts()
    if name not in table:
        known = ", ".join(table) if table else "none are registered yet"
        raise InputError(f"unknown derivation {name!r}; known derivations: {known}")
    return table[name]


def equations(names: Sequence[str] | None = None) -> tuple[tuple[str, str, str], ...]:
    """The notes' displayed equations ``(id, slide, latex)`` of the lectures of ``names``.

    All registered lectures' catalogues (in lecture order) when ``names`` is ``None``;
    otherwise those of the lectures the named parts belong to, each lecture once. This is
    how symsde reads a lecture's catalogue without importing the lecture by name.
    """
    chosen = derivation_names() if names is None else tuple(names)
    out: list[tuple[str, str, str]] = []
    for lec in dict.fromkeys(part(n)[0] for n in chosen):
        out += lec.equations
    return tuple(out)


def load_module(name: str) -> ModuleType:
    """Import the module of the part ``name``."""
    lec, p = part(name)
    return importlib.import_module(lec.module_name(p))


@cache
def _build(name: str) -> Derivation:
    d = load_module(name).derivation()
    if not isinstance(d, Derivation):
        raise TypeError(f"{name}.derivation() must return a symsde.proof.Derivation")
    return d


def load(names: Sequence[str] | None = None) -> list[Derivation]:
    """Build the named derivations (all registered ones by default), cached per process."""
    chosen = derivation_names() if not names else tuple(names)
    for n in chosen:
        part(n)  # validate every name before building any
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


def _equations(derivs: Sequence[Derivation]) -> tuple[tuple[str, str, str], ...]:
    """The displayed equations of the lectures the derivations belong to."""
    out: list[tuple[str, str, str]] = []
    table = _parts()
    for lec in dict.fromkeys(table[d.name][0] for d in derivs if d.name in table):
        out += lec.equations
    return tuple(out)


def coverage(derivs: Sequence[Derivation], *, seed: int = 0,
             equations: Sequence[tuple[str, str, str]] | None = None) -> Coverage:
    """Count the lectures' displayed equations covered by checked steps or definitions."""
    eqs = tuple(equations) if equations is not None else _equations(derivs)
    slides = tuple(dict.fromkeys(slide for _, slide, _ in eqs))
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
    ids = [e[0] for e in eqs]
    covered = frozenset(strong & set(ids))
    per_slide = tuple(
        (slide, sum(1 for i, s, _ in eqs if s == slide and i in covered),
         sum(1 for _, s, _ in eqs if s == slide))
        for slide in slides
    )
    return Coverage(
        total=len(ids),
        covered=covered,
        per_slide=per_slide,
        missing=tuple(i for i in ids if i not in covered),
        unknown=tuple(sorted(named - set(ids))) if eqs else (),
        weak=tuple(i for i in ids if i in named and i not in covered),
    )
