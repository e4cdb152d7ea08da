"""A lecture's book, read from its registration: the pages generated from the registry and
the checks that name the file to fix when a part is only half registered.

A lecture declares its parts once (:class:`symsde.registry.Lecture`). From that
declaration the book's index lists the chapters (:func:`index_markdown`), its API page
documents the modules (:func:`api_markdown`), and :func:`problems` compares the rest of a
checkout with it: the part's module, its chapter, the table of contents (Jupyter Book's
``_toc.yml`` cannot run code, so it is checked rather than generated), and any module or
chapter that exists but is not registered. Each problem is one line that starts with the
file to edit.

Examples
--------
>>> from symsde.registry import Lecture, Part
>>> lec = Lecture("toy", "A toy lecture", (Part("square", "The square", summary="$x^2$."),))
>>> print(index_markdown([lec]))
**The lecture, re-derived**
<BLANKLINE>
1. {doc}`chapters/square`: $x^2$.
<BLANKLINE>
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Sequence
from pathlib import Path

from symsde.registry import Lecture, Part, lectures

__all__ = ["api_markdown", "index_markdown", "problems", "toc_sections"]

#: The code a chapter runs to show its part's steps (:func:`symsde.book.show_steps`).
_SHOW_STEPS = re.compile(r"""show_steps\(\s*["'](?P<name>\w+)["']""")
#: A module that defines a derivation.
_DEFINES = re.compile(r"^def derivation\(", re.M)


def _chosen(lecs: Sequence[Lecture] | None) -> tuple[Lecture, ...]:
    return tuple(lectures()) if lecs is None else tuple(lecs)


def toc_sections(lecs: Sequence[Lecture] | None = None) -> list[tuple[str, list[str]]]:
    """``(section, [chapter page, ...])`` in the order the lectures declare them.

    Examples
    --------
    >>> from symsde.registry import Lecture, Part
    >>> toc_sections([Lecture("t", "T", (Part("a", "A"), Part("b", "B", section="More")))])
    [('The lecture, re-derived', ['chapters/a']), ('More', ['chapters/b'])]
    """
    out: dict[str, list[str]] = {}
    for lec in _chosen(lecs):
        for p in lec.parts:
            out.setdefault(p.section, []).append(p.page)
    return list(out.items())


def _entry(p: Part) -> str:
    return f"{{doc}}`{p.page}`: {p.summary or p.title}"


def index_markdown(lecs: Sequence[Lecture] | None = None) -> str:
    """The book index's list of chapters: each section, its parts numbered, in order."""
    out: list[str] = []
    for section, _ in toc_sections(lecs):
        parts = [p for lec in _chosen(lecs) for p in lec.parts if p.section == section]
        out += [f"**{section}**", ""]
        out += [f"{i}. {_entry(p)}" for i, p in enumerate(parts, 1)]
        out.append("")
    return "\n".join(out)


def api_markdown(lecs: Sequence[Lecture] | None = None) -> str:
    """The API page's section on the parts' modules: one ``automodule`` per part.

    Examples
    --------
    >>> from symsde.registry import Lecture, Part
    >>> print(api_markdown([Lecture("toy", "T", (Part("a", "A"),))]))
    ```{eval-rst}
    .. automodule:: toy.a
    ```
    """
    mods = [lec.module_name(p) for lec in _chosen(lecs) for p in lec.parts]
    return "```{eval-rst}\n" + "\n\n".join(f".. automodule:: {m}" for m in mods) + "\n```"


def _toc_entries(text: str) -> list[tuple[str, str]]:
    """``(caption, file)`` of every chapter of a jb-book ``_toc.yml`` (read line by line:
    the format is fixed and PyYAML is not a dependency)."""
    caption, out = "", []
    for line in text.splitlines():
        m = re.match(r"\s*-\s*caption:\s*(.+?)\s*$", line)
        if m:
            caption = m.group(1).strip("\"'")
            continue
        m = re.match(r"\s*-\s*file:\s*(\S+)\s*$", line)
        if m:
            out.append((caption, m.group(1).strip("\"'")))
    return out


def _package_dir(lec: Lecture) -> Path | None:
    spec = importlib.util.find_spec(lec.package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def problems(book: Path | str, lecs: Sequence[Lecture] | None = None, *,
             package_dir: Path | str | None = None) -> list[str]:
    """What is missing or stale between the lectures' registration and a checkout.

    ``book`` is the book's folder (with ``_toc.yml``, ``index.md``, ``api.md`` and the
    chapters); ``package_dir`` the lecture package's folder (default: found by import;
    only with a single lecture). Returns one line per problem, each starting with the
    file to edit; an empty list when the part is fully registered everywhere.
    """
    book = Path(book)
    chosen = _chosen(lecs)
    out: list[str] = []
    toc_path = book / "_toc.yml"
    toc = _toc_entries(toc_path.read_text()) if toc_path.exists() else []
    toc_files = [f for _, f in toc]
    registered_pages: set[str] = set()
    for lec in chosen:
        pkg = Path(package_dir) if package_dir is not None and len(chosen) == 1 \
            else _package_dir(lec)
        names = {p.name for p in lec.parts}
        for p in lec.parts:
            registered_pages.add(p.page)
            if pkg is not None:
                mod = pkg / f"{p.name}.py"
                if not mod.exists():
                    out.append(f"{mod}: missing; the part {p.name!r} is registered in "
                               f"{lec.package}.LECTURE but has no module")
                elif not _DEFINES.search(mod.read_text()):
                    out.append(f"{mod}: defines no derivation(); the registry needs one")
            chapter = book / f"{p.page}.md"
            if not chapter.exists():
                out.append(f"{chapter}: missing; write the chapter of {p.name!r} (copy a "
                           "chapter and change its show_steps name)")
            elif p.name not in {m.group("name") for m in _SHOW_STEPS.finditer(
                    chapter.read_text())}:
                out.append(f"{chapter}: never calls show_steps({p.name!r}); the chapter "
                           "must show its part's steps")
            if p.page not in toc_files:
                out.append(f"{toc_path}: add '- file: {p.page}' under the caption "
                           f"{p.section!r}")
            elif (p.section, p.page) not in toc:
                out.append(f"{toc_path}: {p.page} is listed, but not under the caption "
                           f"{p.section!r}")
        if pkg is not None and pkg.is_dir():
            for f in sorted(pkg.glob("*.py")):
                if f.stem.startswith("_") or f.stem in names:
                    continue
                if _DEFINES.search(f.read_text()):
                    out.append(f"{pkg / '__init__.py'}: {f.name} defines a derivation but is "
                               f"not a Part of {lec.package}.LECTURE; register it (one line)")
    order = [p for _, pages in toc_sections(chosen) for p in pages]
    listed = [f for f in toc_files if f in registered_pages]
    if set(listed) == set(order) and listed != order:
        out.append(f"{toc_path}: the chapters are not in the registry's order "
                   f"({', '.join(order)})")
    chapters = book / "chapters"
    if chapters.is_dir():
        for f in sorted(chapters.glob("*.md")):
            page = f"chapters/{f.stem}"
            if page not in registered_pages:
                out.append(f"{f}: a chapter of no registered part; register its part or "
                           "remove it")
    for page, call in (("index.md", "index_markdown("), ("api.md", "api_markdown(")):
        path = book / page
        if path.exists() and call not in path.read_text():
            out.append(f"{path}: does not list the parts from the registry; call "
                       f"symsde.contents.{call.rstrip('(')}() in a code cell")
    return out
