"""Sphinx extension of the symsde book: offline MathJax, no CDN scripts, tidy docstrings.

Sphinx loads MathJax from a CDN by default. This extension points ``mathjax_path`` at
``_static/mathjax/tex-chtml.js`` and, when the HTML build finishes, copies MathJax 3 (the
``es5`` build shipped by the PyPI package ``django-static-mathjax``, installed by the
project's ``book`` extra) into ``_static/mathjax``. It refuses any remote script or
stylesheet in the built pages' configuration, so the book opens with no network at all.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError

#: Where the pages load MathJax from (relative to ``_static``).
MATHJAX_PATH = "mathjax/tex-chtml.js"
#: The parts of MathJax's es5 build that tex-chtml loads or may load on demand.
PARTS = ("tex-chtml.js", "input", "output/chtml", "a11y", "ui", "adaptors", "sre")


def mathjax_source() -> Path:
    """The es5 directory of the installed MathJax 3 package."""
    try:
        import mathjax  # the django-static-mathjax package's module
    except ImportError as exc:
        raise ExtensionError(
            "MathJax is not installed: pip install -e '.[book]' (package "
            "django-static-mathjax) so the book can render math offline") from exc
    base = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (base / "tex-chtml.js").is_file():
        raise ExtensionError(f"no MathJax es5 build at {base}; reinstall django-static-mathjax")
    return base


def _config_inited(app: Sphinx, config: Config) -> None:
    mathjax_source()  # fail early, before any notebook runs
    config.mathjax_path = MATHJAX_PATH
    config.html_favicon = None
    for name in ("html_js_files", "html_css_files"):
        for item in getattr(config, name, None) or []:
            url = item[0] if isinstance(item, (tuple, list)) else item
            if "://" in str(url):
                raise ExtensionError(f"{name} lists a remote file {url!r}; the book must "
                                     "open with no network")


def _notebook_downloads(app: Sphinx) -> int:
    """Offer each executed page as a notebook: ``_sources/<page>.ipynb`` in the download menu.

    myst-nb leaves the executed notebooks in ``_build/jupyter_execute``; the theme's download
    menu only offers the Markdown source of a text notebook. Each notebook is copied next to
    the page's source and a ``.ipynb`` entry is added to that page's menu. Returns the count.
    """
    executed = Path(app.outdir).parent / "jupyter_execute"
    count = 0
    for nb in sorted(executed.rglob("*.ipynb")):
        doc = nb.relative_to(executed).with_suffix("")
        page = Path(app.outdir) / doc.with_suffix(".html")
        if not page.is_file():
            continue
        target = Path(app.outdir) / "_sources" / doc.with_suffix(".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(nb, target)
        html = page.read_text(encoding="utf-8")
        up = "../" * (len(doc.parts) - 1)
        entry = (f'<li><a href="{up}_sources/{doc.as_posix()}.ipynb" download '
                 'class="btn btn-sm btn-download-notebook-button dropdown-item" '
                 'title="Download the executed notebook"><span class="btn__icon-container">'
                 '<i class="fas fa-code"></i></span><span class="btn__text-container">'
                 '.ipynb</span></a></li>')
        marker = '<div class="dropdown dropdown-download-buttons">'
        i = html.find(marker)
        j = html.find('<ul class="dropdown-menu">', i)
        if i < 0 or j < 0 or "btn-download-notebook-button" in html:
            continue
        j += len('<ul class="dropdown-menu">')
        page.write_text(html[:j] + entry + html[j:], encoding="utf-8")
        count += 1
    return count


def _build_finished(app: Sphinx, exception: BaseException | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    _notebook_downloads(app)
    src = mathjax_source()
    dest = Path(app.outdir) / "_static" / "mathjax"
    for part in PARTS:
        s, d = src / part, dest / part
        if s.is_dir():
            shutil.copytree(s, d, dirs_exist_ok=True)
        else:
            d.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(s, d)
    license_file = src.parent / "LICENSE"
    if license_file.is_file():
        shutil.copy2(license_file, dest / "LICENSE")


def _page_context(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                  doctree: Any) -> None:
    """Drop Thebe's scripts and duplicated inline scripts from every page.

    Jupyter Book 1 always loads sphinx-thebe, which points at a CDN (``THEBE_JS_URL``) and is
    registered twice, so every page would raise "Identifier 'THEBE_JS_URL' has already been
    declared". The book has no launch buttons and needs neither.
    """
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, str]] = set()
    kept = []
    for js in scripts:
        body = str(getattr(js, "attributes", {}).get("body", ""))
        name = str(getattr(js, "filename", js))
        if "thebe" in name.lower() or "THEBE" in body:
            continue
        if (name, body) in seen:
            continue
        seen.add((name, body))
        kept.append(js)
    scripts[:] = kept


_FIELD = re.compile(r"^[\w*]+(\s*,\s*[\w*]+)*(\s*:.*)?$")


def _free_text_out_of_parameters(app: Sphinx, what: str, name: str, obj: Any,
                                 options: Any, lines: list[str]) -> None:
    """Move free paragraphs out of a NumPy ``Parameters`` section, before its header.

    NumPy-style docstrings sometimes end the parameter list with a sentence such as
    "Other keywords are as in :func:`simulate`". Napoleon would read that sentence as a
    parameter name and docutils would warn (an error in this build), so the paragraph is
    moved in front of the section, where it reads as part of the description. Runs before
    napoleon (priority 400 < 500); the docstrings themselves are left as they are.
    """
    i = 0
    while i < len(lines) - 1:
        header, rule = lines[i].strip(), lines[i + 1].strip()
        if header not in ("Parameters", "Other Parameters") or not rule or set(rule) != {"-"}:
            i += 1
            continue
        indent = len(lines[i]) - len(lines[i].lstrip())
        j, moved = i + 2, []
        while j < len(lines):
            line = lines[j]
            if j + 1 < len(lines) and line.strip() and set(lines[j + 1].strip()) == {"-"}:
                break  # the next section
            at_base = line.strip() and len(line) - len(line.lstrip()) == indent
            if at_base and not _FIELD.match(line.strip()):
                k = j
                while k < len(lines) and lines[k].strip():
                    k += 1
                moved += [*lines[j:k], ""]
                del lines[j:k]
                continue
            j += 1
        if moved:
            lines[i:i] = moved
            i += len(moved)
        i += 2


def setup(app: Sphinx) -> dict[str, Any]:
    # Run after the defaults (priority 500) so no later handler sets a CDN path again.
    app.connect("config-inited", _config_inited, priority=900)
    app.connect("html-page-context", _page_context, priority=900)
    app.connect("build-finished", _build_finished)
    app.connect("autodoc-process-docstring", _free_text_out_of_parameters, priority=400)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
