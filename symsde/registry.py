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
import multiprocessing
import os
import re
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from types import ModuleType
from typing import Any

from symsde._timeout import time_limit
from symsde.errors import InputError
from symsde.proof import Derivation, DerivationResult, StepResult
from symsde.proof.mutation import MutationReport, run_mutations

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
    "mutate_parts",
    "part",
    "verify_parts",
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


#: The derivations built in this process, by part name.
_BUILT: dict[str, Derivation] = {}


def _build(name: str) -> Derivation:
    if name not in _BUILT:
        d = load_module(name).derivation()
        if not isinstance(d, Derivation):
            raise TypeError(f"{name}.derivation() must return a symsde.proof.Derivation")
        _BUILT[name] = d
    return _BUILT[name]


def _chosen(names: Sequence[str] | None) -> tuple[str, ...]:
    """``names`` (every registered part when none are given), each checked before any
    work is done."""
    chosen = derivation_names() if not names else tuple(names)
    for n in chosen:
        part(n)
    return chosen


def load(names: Sequence[str] | None = None) -> list[Derivation]:
    """Build the named derivations (all registered ones by default), cached per process."""
    return [_build(n) for n in _chosen(names)]


# What a worker process sends back for each step (the Step itself is rebuilt here).
_STEP_FIELDS = ("verdict", "residual", "witness_error", "witness_points", "detail", "seconds",
                "corrected_residual", "independent_witness", "premise_sensitive",
                "witness_note")


def _verified(name: str, seed: int, timeout: float | None) -> DerivationResult:
    """The part ``name`` built and verified in this process, under ``timeout`` seconds."""
    return _verify_here(_build(name), seed, timeout)


def _verify_in_worker(name: str, seed: int, timeout: float | None) -> tuple[Any, ...]:
    # The comparison with the notes' displays (LaTeX parsing) is left for later, as in one
    # process: the text report does not show it.
    res = _verified(name, seed, timeout)
    return (res.seconds, [r.step.id for r in res.steps],
            [tuple(getattr(r, f) for f in _STEP_FIELDS) for r in res.steps])


def _cost(name: str) -> int:
    """A rough work estimate known before building: the part's module source, in bytes,
    plus 2,000 per integral, limit or sum it writes (the witness evaluates those
    numerically, and they dominate its time).

    Workers take the parts largest first, so a long part does not start last.
    """
    source = getattr(load_module(name), "__file__", None)
    try:
        with open(source, encoding="utf-8") as fh:  # type: ignore[arg-type]
            text = fh.read()
    except (OSError, TypeError):
        return 0
    return len(text) + 2000 * len(re.findall(r"\b(?:Integral|Limit|Sum)\(", text))


def _workers(requested: int | None, n: int) -> int:
    if requested is not None:
        return max(1, min(requested, n))
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, n))


def _pool(n: int) -> ProcessPoolExecutor:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["sympy", "mpmath", "symsde.proof"])
    return ProcessPoolExecutor(max_workers=n, mp_context=ctx)


def verify_parts(names: Sequence[str], *, seed: int = 0, timeout: float | None = None,
                 workers: int | None = None) -> list[DerivationResult]:
    """Verify the named parts, in worker processes when there are several cores.

    Each part is verified whole in one process (under ``timeout`` seconds); the verdicts
    come back to this process and are cached on its own :class:`Derivation` objects, so
    a later ``d.verify(seed=seed)`` (coverage, rendering) costs nothing.
    The results are the same as verifying here: every step is judged by the same code with
    the same seed. ``workers=1`` verifies in this process. For the plain data of
    ``symsde verify --json``, :func:`verify_parts_as_dicts` builds nothing here.

    Examples
    --------
    >>> [r.derivation.name for r in verify_parts(["langevin"], workers=1)]
    ['langevin']
    """
    chosen = _chosen(names)
    n = _workers(workers, len(chosen))
    todo = [name for name in chosen if name not in _BUILT or seed not in _BUILT[name]._results]
    if n > 1 and len(todo) > 1:
        # Workers take the parts largest first; this process builds its own copies of the
        # derivations meanwhile (the results are attached to them).
        with _pool(n) as pool:
            futures = {name: pool.submit(_verify_in_worker, name, seed, timeout)
                       for name in sorted(todo, key=_cost, reverse=True)}
            derivs = [_build(name) for name in chosen]
            for d in derivs:
                if d.name not in futures:
                    continue
                seconds, ids, rows = futures[d.name].result()
                if ids != [st.id for st in d.steps]:  # pragma: no cover - a non-deterministic build
                    raise RuntimeError(f"the derivation {d.name} was built differently in a "
                                       "worker process; verify it with workers=1")
                steps = [StepResult(st, **dict(zip(_STEP_FIELDS, row, strict=True)))
                         for st, row in zip(d.steps, rows, strict=True)]
                d._results[seed] = DerivationResult(d, steps, seconds, seed)
    return [_verify_here(_build(name), seed, timeout) for name in chosen]


def _dict_in_worker(name: str, seed: int, timeout: float | None) -> dict[str, Any]:
    return _verified(name, seed, timeout).to_dict()


def verify_parts_as_dicts(names: Sequence[str], *, seed: int = 0,
                          timeout: float | None = None,
                          workers: int | None = None) -> list[dict[str, Any]]:
    """The results' :meth:`~symsde.proof.DerivationResult.to_dict` (what
    ``symsde verify --json`` prints), verified as :func:`verify_parts` does.

    With several workers this process builds no derivation: the workers send the plain
    data, so this process does not compete with them for the cores (it built its own
    copies before, 2-3 s of CPU beside the workers').

    Examples
    --------
    >>> [r["name"] for r in verify_parts_as_dicts(["langevin"], workers=1)]
    ['langevin']
    """
    chosen = _chosen(names)
    n = _workers(workers, len(chosen))
    if n == 1 or len(chosen) == 1:
        return [r.to_dict() for r in verify_parts(chosen, seed=seed, timeout=timeout,
                                                  workers=1)]
    with _pool(n) as pool:
        futures = {name: pool.submit(_dict_in_worker, name, seed, timeout)
                   for name in sorted(chosen, key=_cost, reverse=True)}
        return [futures[name].result() for name in chosen]


def _verify_here(d: Derivation, seed: int, timeout: float | None) -> DerivationResult:
    """``d.verify(seed=seed)`` in this process, under ``timeout`` unless already cached."""
    if timeout is None or seed in d._results:
        return d.verify(seed=seed)
    with time_limit(timeout, f"verifying the derivation {d.name}"):
        return d.verify(seed=seed)


def _mutate_in_worker(name: str, classes: tuple[str, ...] | None, seed: int) -> MutationReport:
    return run_mutations(load([name]), classes, seed=seed)


def mutate_parts(names: Sequence[str], classes: Sequence[str] | None = None, *, seed: int = 0,
                 workers: int | None = None) -> MutationReport:
    """:func:`symsde.proof.mutation.run_mutations` over the named parts, one process each.

    The report lists the mutants part by part in the order of ``names`` whatever the
    number of workers; ``workers=1`` works in this process.
    """
    parts = _chosen(names)
    n = _workers(workers, len(parts))
    chosen = tuple(classes) if classes else None
    if n == 1 or len(parts) == 1:
        return run_mutations(load(parts), chosen, seed=seed)
    t0 = time.perf_counter()
    report = MutationReport()
    with _pool(n) as pool:
        futures = {name: pool.submit(_mutate_in_worker, name, chosen, seed)
                   for name in sorted(parts, key=_cost, reverse=True)}
        for name in parts:
            part_report = futures[name].result()
            report.mutants.extend(part_report.mutants)
            report.equivalent.extend(part_report.equivalent)
    report.seconds = time.perf_counter() - t0
    return report


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


def _equations(names: Sequence[str]) -> tuple[tuple[str, str, str], ...]:
    """:func:`equations` of the named parts that are registered (``coverage`` also counts
    derivations built outside the registry)."""
    table = _parts()
    return equations([n for n in names if n in table])


#: What coverage needs of a step: (equation ids, verdict, kind, independent witness).
_StepRecord = tuple[Sequence[str], str, str, bool]


def coverage(derivs: Sequence[Derivation], *, seed: int = 0,
             equations: Sequence[tuple[str, str, str]] | None = None) -> Coverage:
    """Count the lectures' displayed equations covered by checked steps or definitions."""
    steps = [(r.step.equations, r.verdict, r.kind, r.independent_witness)
             for d in derivs for r in d.verify(seed=seed).steps]
    notation = [n.equation for d in derivs for n in d.notation]
    eqs = tuple(equations) if equations is not None else _equations([d.name for d in derivs])
    return _coverage(eqs, steps, notation)


def coverage_of_dicts(results: Sequence[dict[str, Any]]) -> Coverage:
    """:func:`coverage` from the results' :meth:`~symsde.proof.DerivationResult.to_dict`
    (what :func:`verify_parts_as_dicts` returns), without the derivations themselves."""
    steps = [(s["equations"], s["verdict"], s["kind"], s["independent_witness"])
             for r in results for s in r["steps"]]
    notation = [n["equation"] for r in results for n in r["notation"]]
    return _coverage(_equations([r["name"] for r in results]), steps, notation)


def _coverage(eqs: Sequence[tuple[str, str, str]], steps: Sequence[_StepRecord],
              notation: Sequence[str]) -> Coverage:
    """An equation is covered by a definition, an erratum, an independently witnessed step
    that does not fail, or a note that it is notation."""
    slides = tuple(dict.fromkeys(slide for _, slide, _ in eqs))
    named: set[str] = set(notation)
    strong: set[str] = set(notation)
    for equations, verdict, kind, independent in steps:
        named.update(equations)
        if verdict != "fails" and (kind in ("definition", "erratum") or independent):
            strong.update(equations)
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
