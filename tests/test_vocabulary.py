"""One vocabulary (issue 11, item 4): one meaning of "confirm", one class per public name,
and a newcomer's view (the docs, the book, the lecture) that uses the current names.

Each check is a function that is also fed a wrong case, so that it is shown to be able to
fail: two public classes with one name, and a page that still uses an old name.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import types
import warnings
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import pytest

import symsde

ROOT = Path(__file__).resolve().parents[1]


# -- no two public classes with one name -------------------------------------------------------
def public_modules() -> list[types.ModuleType]:
    """Every module of symsde whose dotted path has no private part."""
    out = []
    for info in pkgutil.walk_packages(symsde.__path__, "symsde."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            out.append(importlib.import_module(info.name))
    return out


def classes_by_name(modules: Iterable[types.ModuleType]) -> dict[str, set[str]]:
    """Public name -> the distinct classes (``module.qualname``) that public modules give it.

    A module's public names are its ``__all__`` (else its names without a leading
    underscore); a class defined in a module counts under its own name too, exported or not.
    """
    seen: dict[str, set[str]] = defaultdict(set)
    for mod in modules:
        names = getattr(mod, "__all__", None) or [n for n in vars(mod) if not n.startswith("_")]
        with warnings.catch_warnings():  # the deprecated aliases warn when read
            warnings.simplefilter("ignore", DeprecationWarning)
            candidates = [getattr(mod, n, None) for n in names]
        candidates += [v for v in vars(mod).values() if inspect.isclass(v)
                       and v.__module__ == mod.__name__ and not v.__name__.startswith("_")]
        for obj in candidates:
            if inspect.isclass(obj) and obj.__module__.split(".")[0] == mod.__name__.split(".")[0]:
                seen[obj.__name__].add(f"{obj.__module__}.{obj.__qualname__}")
    return dict(seen)


def clashes(modules: Iterable[types.ModuleType]) -> dict[str, set[str]]:
    return {n: s for n, s in classes_by_name(modules).items() if len(s) > 1}


def test_no_two_public_classes_of_symsde_share_a_name() -> None:
    modules = public_modules()
    assert len(modules) > 30  # the walk really saw the package
    found = classes_by_name(modules)
    assert "StatTestResult" in found and "Trial" in found and "SimulationResult" in found
    assert clashes(modules) == {}


def test_the_class_check_sees_two_classes_with_one_name() -> None:
    def module(name: str) -> types.ModuleType:
        mod = types.ModuleType(f"symsde.fake_{name}")
        trial = type("Trial", (), {"__module__": mod.__name__})
        mod.Trial, mod.__all__ = trial, ["Trial"]
        return mod

    a, b = module("a"), module("b")
    assert clashes([a, b]) == {"Trial": {"symsde.fake_a.Trial", "symsde.fake_b.Trial"}}
    # the same class re-exported by a second module is one class, not a clash
    b.Trial = a.Trial
    assert clashes([a, b]) == {}


# -- the newcomer's view uses the current names --------------------------------------------------
#: Old names, each with the name that replaced it (deprecated aliases still work).
OLD_NAMES = {
    r"symsde\.confirm\b": "symsde.stattests",
    r"\bConfirmation\b(?! by simulation)": "symsde.stattests.StatTestResult",
    r"\bexp\.confirm\(": "exp.predict(",
    r"\.confirmations\b": ".predictions",
    r"\bexp\.power\b": "exp.wrong_predictions",
    r"\bn_runs=": "n_paths=",
    r"\btheta0=": "x0= (simulate_sgd's starting point)",
}


def old_names_in(text: str) -> list[str]:
    """``'line N: old -> new'`` for every old name used in ``text``."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        for pattern, new in OLD_NAMES.items():
            for m in re.finditer(pattern, line):
                out.append(f"line {number}: {m.group(0)!r} -> use {new}")
    return out


def newcomer_files() -> list[Path]:
    """What a newcomer reads or copies: the docs, the book, the lecture, the toy lecture."""
    files = [ROOT / "README.md", ROOT / "book" / "api.md", ROOT / "book" / "index.md",
             *sorted((ROOT / "docs").glob("*.md")),
             *sorted((ROOT / "book" / "chapters").glob("*.md")),
             *sorted((ROOT / "derivations").glob("*.py")),
             *sorted((ROOT / "tests" / "lectures").rglob("*.py"))]
    return [f for f in files if f.is_file()]


def test_the_docs_book_and_lecture_use_the_current_names() -> None:
    files = newcomer_files()
    assert ROOT / "docs" / "AUTHORING.md" in files and ROOT / "book" / "api.md" in files
    problems = {str(f.relative_to(ROOT)): found for f in files
                if (found := old_names_in(f.read_text(encoding="utf-8")))}
    assert problems == {}, "fix these files: " + "; ".join(
        f"{f}: {', '.join(p)}" for f, p in problems.items())


def test_the_library_itself_calls_only_the_current_names() -> None:
    # the deprecated aliases themselves (their definitions and documentation) are exempt
    exempt = {"symsde/confirm.py", "symsde/experiment.py", "symsde/stattests.py",
              "symsde/simulator/api.py"}
    problems = {}
    for f in sorted((ROOT / "symsde").rglob("*.py")):
        rel = f.relative_to(ROOT).as_posix()
        if rel not in exempt and (found := old_names_in(f.read_text(encoding="utf-8"))):
            problems[rel] = found
    assert problems == {}


def test_the_old_name_check_finds_an_old_name() -> None:
    page = ("from symsde.confirm import mean_test\n"
            "exp.confirm('E[X] = 0', mean_test(x, 0.0))\n"
            "res = simulate_sgd(loss, [th], [y], data, n_runs=100, theta0=0.0)\n"
            "print(len(exp.confirmations), len(exp.power))\n")
    found = old_names_in(page)
    assert found[0] == "line 1: 'symsde.confirm' -> use symsde.stattests"
    assert len(found) == 6
    assert old_names_in("## Confirmation by simulation\n"
                        "exp.predict('E[X] = 0', mean_test(x, 0.0))\n"
                        "simulate_sgd(loss, [th], [y], data, n_paths=100, x0=0.0)") == []


@pytest.mark.parametrize(("page", "needed"), [
    ("docs/AUTHORING.md", ["symsde.stattests", "exp.predict(", "exp.reject(", "n_paths",
                           "x0", "StatTestResult"]),
    ("README.md", ["symsde.stattests", "exp.predict(", "n_paths", "x0"]),
    ("book/api.md", [".. automodule:: symsde.stattests", ".. automodule:: symsde.experiment"]),
])
def test_the_docs_name_the_current_vocabulary(page: str, needed: list[str]) -> None:
    text = (ROOT / page).read_text(encoding="utf-8")
    missing = [n for n in needed if n not in text]
    assert not missing, f"{page} should mention {missing}"


# -- simulate and simulate_sgd: one name per common idea -----------------------------------------
#: Ideas both simulators have, by the one name each takes.
COMMON = ("x0", "n_steps", "n_paths", "seed", "record_every", "keep_paths", "block_size",
          "chunk_size", "max_memory", "workers", "backend", "client", "progress",
          "progress_delay", "options")


def not_shared(*functions: object) -> dict[str, list[str]]:
    """Function name -> the common names its signature lacks."""
    out = {}
    for f in functions:
        names = set(inspect.signature(f).parameters)  # type: ignore[arg-type]
        if missing := [n for n in COMMON if n not in names]:
            out[f.__name__] = missing  # type: ignore[attr-defined]
    return out


def test_simulate_and_simulate_sgd_share_the_common_names() -> None:
    from symsde.simulator import plan_sgd, plan_simulation

    assert not_shared(symsde.simulate, symsde.simulate_sgd) == {}
    plan_names = ("x0", "n_steps", "n_paths", "seed", "record_every", "keep_paths",
                  "block_size", "chunk_size", "max_memory", "workers")
    for f in (plan_simulation, plan_sgd):
        assert set(plan_names) <= set(inspect.signature(f).parameters), f.__name__
    # the options object is public at the top, as the README says
    assert symsde.SimulationOptions is importlib.import_module("symsde.simulator").SimulationOptions
    assert "SimulationOptions" in symsde.__all__


def test_the_shared_name_check_finds_an_old_name() -> None:
    def simulate_sgd(loss, n_runs=10, theta0=0.0, n_steps=1, seed=0):  # the old spelling
        return None

    missing = not_shared(simulate_sgd)["simulate_sgd"]
    assert "n_paths" in missing and "x0" in missing and "n_steps" not in missing
