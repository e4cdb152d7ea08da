"""One registry: the book's index, API page and table of contents agree with the lecture's
registration, and a half-registered part is reported with the file to fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import derivations
from symsde.contents import api_markdown, index_markdown, problems, toc_sections
from symsde.registry import Lecture, Part

ROOT = Path(__file__).resolve().parents[1]
LECTURE = derivations.LECTURE


def test_this_checkout_is_fully_registered() -> None:
    assert problems(ROOT / "book", [LECTURE], package_dir=ROOT / "derivations") == []


@pytest.fixture
def copy(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the book and of the lecture package to break."""
    book, pkg = tmp_path / "book", tmp_path / "derivations"
    shutil.copytree(ROOT / "book", book, ignore=shutil.ignore_patterns("_build"))
    shutil.copytree(ROOT / "derivations", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    return book, pkg


def with_part(part: Part) -> Lecture:
    return Lecture(LECTURE.package, LECTURE.title, (*LECTURE.parts, part), LECTURE.equations,
                   LECTURE.slides)


def test_a_registered_part_without_module_chapter_or_toc_entry(copy: tuple[Path, Path]) -> None:
    book, pkg = copy
    found = problems(book, [with_part(Part("toy", "A toy", section="Beyond the notes"))],
                     package_dir=pkg)
    assert found == [
        f"{pkg / 'toy.py'}: missing; the part 'toy' is registered in derivations.LECTURE "
        "but has no module",
        f"{book / 'chapters' / 'toy.md'}: missing; write the chapter of 'toy' (copy a chapter "
        "and change its show_steps name)",
        f"{book / '_toc.yml'}: add '- file: chapters/toy' under the caption 'Beyond the notes'",
    ]


def test_a_module_or_chapter_that_is_not_registered(copy: tuple[Path, Path]) -> None:
    book, pkg = copy
    (pkg / "toy.py").write_text("def derivation():\n    pass\n")
    (pkg / "_helpers.py").write_text("def derivation():\n    pass\n")  # private: ignored
    (book / "chapters" / "toy.md").write_text("# A toy\n")
    found = problems(book, [LECTURE], package_dir=pkg)
    assert found == [
        f"{pkg / '__init__.py'}: toy.py defines a derivation but is not a Part of "
        "derivations.LECTURE; register it (one line)",
        f"{book / 'chapters' / 'toy.md'}: a chapter of no registered part; register its part "
        "or remove it",
    ]


def test_a_chapter_that_shows_another_part_and_a_module_without_derivation(
        copy: tuple[Path, Path]) -> None:
    book, pkg = copy
    text = (book / "chapters" / "langevin.md").read_text()
    (book / "chapters" / "langevin.md").write_text(text.replace('show_steps("langevin")',
                                                                'show_steps("diffusion")'))
    mod = (pkg / "diffusion.py").read_text()
    (pkg / "diffusion.py").write_text(mod.replace("\ndef derivation(", "\ndef derivation_(", 1))
    found = problems(book, [LECTURE], package_dir=pkg)
    assert found == [
        f"{pkg / 'diffusion.py'}: defines no derivation(); the registry needs one",
        f"{book / 'chapters' / 'langevin.md'}: never calls show_steps('langevin'); the "
        "chapter must show its part's steps",
    ]


def test_toc_order_caption_and_generated_pages_are_checked(copy: tuple[Path, Path]) -> None:
    book, pkg = copy
    toc = (book / "_toc.yml").read_text()
    toc = toc.replace("      - file: chapters/diffusion\n      - file: chapters/langevin\n",
                      "      - file: chapters/langevin\n      - file: chapters/diffusion\n")
    toc = toc.replace("      - file: chapters/lyapunov\n", "")
    toc = toc.replace("      - file: check_your_notes\n",
                      "      - file: check_your_notes\n      - file: chapters/lyapunov\n")
    (book / "_toc.yml").write_text(toc)
    (book / "api.md").write_text("# API\n")
    found = problems(book, [LECTURE], package_dir=pkg)
    assert found == [
        f"{book / '_toc.yml'}: chapters/lyapunov is listed, but not under the caption "
        "'Beyond the notes'",
        f"{book / '_toc.yml'}: the chapters are not in the registry's order "
        f"({', '.join(p.page for p in LECTURE.parts)})",
        f"{book / 'api.md'}: does not list the parts from the registry; call "
        "symsde.contents.api_markdown() in a code cell",
    ]


def test_generated_pages_follow_the_declaration() -> None:
    lec = Lecture("pkg", "T", (Part("b", "B title"), Part("a", "A title", summary="A."),
                               Part("c", "C title", section="More", chapter="extra/c")))
    assert toc_sections([lec]) == [("The lecture, re-derived", ["chapters/b", "chapters/a"]),
                                   ("More", ["extra/c"])]
    assert index_markdown([lec]).splitlines() == [
        "**The lecture, re-derived**", "", "1. {doc}`chapters/b`: B title",
        "2. {doc}`chapters/a`: A.", "", "**More**", "", "1. {doc}`extra/c`: C title"]
    assert api_markdown([lec]).splitlines() == [
        "```{eval-rst}", ".. automodule:: pkg.b", "", ".. automodule:: pkg.a", "",
        ".. automodule:: pkg.c", "```"]
