"""The built book in a real browser, offline: every page, as a reader would open it.

``make book`` builds the executed HTML into ``book/_build/html``; ``make book-check`` runs
this file. Each built page is served from 127.0.0.1 and opened in headless Chromium
(Debian's ``/usr/bin/chromium``, driven by Playwright) with every request to any other
host aborted, so a page that needs the network fails here. For each page:

- it loads with no console error, no uncaught exception and no failed request;
- no request left the machine (a CDN script or stylesheet would be one);
- MathJax typeset every equation: each ``.math`` element holds MathJax's output, there is
  no MathJax error (``mjx-merror``), and no raw TeX is left in the visible text;
- every image has loaded (``naturalWidth > 0``);
- every internal link resolves to a built file, and its ``#fragment`` to an element id.

And for each page at a 1280 px desktop window and a 390 px phone window:

- nothing overflows: the page has no horizontal scroll, and no element sticks out of the
  article column unless it sits in a box that scrolls (a long equation scrolls sideways
  inside its box; a code block scrolls, it is not clipped);
- every figure of a notebook cell is a numbered ``<figure>`` with a caption and real alt
  text (not a file name), and its legend text is at least 9 CSS pixels tall on screen at
  both widths: the font size of every legend text, measured by matplotlib when the figure
  was drawn (``symsde.book.figure_png`` writes it into the PNG), times the image's shown
  width over its natural width as the browser laid it out;
- every derivation step has an anchor (an ``id`` starting with ``step-``).

A full-page screenshot of each page is saved under ``book/_build/screenshots/`` with a
``report.json`` of what was counted. Without a built book (or without Chromium or
Playwright) the tests skip with the reason; under ``make book-check``
(``SYMSDE_BOOK_CHECK=1``) they fail instead. Marked ``slow``: ``make test`` leaves them out.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urlparse

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "book" / "_build" / "html"
SCREENSHOTS = ROOT / "book" / "_build" / "screenshots"
CHROMIUM = os.environ.get("SYMSDE_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("SYMSDE_BOOK_CHECK") == "1"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
#: Flags that keep Chromium off the (closed) network and quiet in a container.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
#: Pages whose full-page screenshot is cut at this height (pixels).
MAX_SHOT_HEIGHT = 16000
#: Time a page may take to load and typeset (ms): generous, the machine may be loaded.
PAGE_TIMEOUT_MS = 180_000
#: Time to wait for network idle before reloading a page once (ms).
IDLE_TIMEOUT_MS = 60_000
#: The two window widths of the layout checks: a laptop and a phone.
WIDTHS = (1280, 390)
#: The smallest legend text on screen, in CSS pixels, at both widths.
MIN_LEGEND_PX = 9.0


def _pages() -> list[str]:
    if not (HTML / "index.html").is_file():
        return []
    skip = ("_static", "_sources", "_images", "_downloads", "_panels_static")
    return sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
                  if not p.relative_to(HTML).as_posix().startswith(skip))


PAGES = _pages()


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(reason)
    pytest.skip(reason)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    if not PAGES:
        _unavailable(f"no built book at {HTML}: run `make book` first")
    handler = functools.partial(_Quiet, directory=str(HTML))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed: pip install -e '.[book]'")
    if not Path(CHROMIUM).is_file():
        _unavailable(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
    (SCREENSHOTS / "report.json").write_text(json.dumps(REPORT, indent=2, sort_keys=True))


REPORT: dict[str, Any] = {}


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for k, v in attrs:
            if k in ("id", "name") and v:
                self.ids.add(v)


@functools.cache
def _ids(path: Path) -> frozenset[str]:
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.ids)


def _target(url: str, base: str) -> Path:
    path = unquote(urlparse(url).path).lstrip("/")
    target = HTML / path
    if target.is_dir() or url.rstrip("#").endswith("/") or not path:
        target = target / "index.html"
    return target


_TYPESET = """async () => {
    if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
        await window.MathJax.startup.promise;
    }
}"""


def _track(page: Any) -> set[str]:
    """The set of the page's requests in flight, kept up to date by the page's events."""
    pending: set[str] = set()
    page.on("request", lambda r: pending.add(r.url))
    page.on("requestfinished", lambda r: pending.discard(r.url))
    page.on("requestfailed", lambda r: pending.discard(r.url))
    return pending


def _settle(page: Any, pending: set[str]) -> None:
    """Wait for MathJax, then for no request in flight during half a second.

    Playwright's own "network idle" has been seen to wait for minutes on the first page of
    a run on a loaded machine; counting the page's requests ourselves also names the
    requests that never finish when a page does not settle.
    """
    import time

    page.evaluate(_TYPESET)
    deadline = time.monotonic() + IDLE_TIMEOUT_MS / 1000
    quiet_since = None
    while time.monotonic() < deadline:
        if pending:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= 0.5:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"requests still in flight after {IDLE_TIMEOUT_MS} ms: "
                         f"{sorted(pending)[:5]}")


_MATH_CHECK = r"""
() => {
  const root = document.body;
  const unrendered = [];
  for (const el of document.querySelectorAll('.math')) {
    if (!el.querySelector('mjx-container')) unrendered.push(el.textContent.trim().slice(0, 100));
  }
  const errors = [...document.querySelectorAll('mjx-merror')].map(
    e => (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 100));
  const tex = new RegExp('\\$\\$|\\\\\\(|\\\\\\[|\\\\(' +
    'frac|begin|end|mathcal|left|right|sigma|Phi|nabla|sqrt|partial|eta)\\b');
  // pseudo-maths a renderer left as text: dp/dt, sigma**2, sqrt(, exp(, SymPy's nodes
  const pseudo = new RegExp('\\bd[A-Za-z(][^\\s/]*/d[A-Za-z]|\\w\\*\\*\\w|\\bsqrt\\(|' +
    '\\bexp\\(|Derivative\\(|Integral\\(');
  const raw = [];
  const pseudoText = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const parent = node.parentElement;
    const skip = 'pre, code, script, style, textarea, mjx-container, .highlight, ' +
                 'mjx-assistive-mml';
    if (!parent || parent.closest(skip)) continue;
    if (tex.test(node.textContent)) raw.push(node.textContent.trim().slice(0, 100));
    // (API docstrings are the code's own text, shown as written)
    if (pseudo.test(node.textContent) && !parent.closest('dl.py'))
      pseudoText.push(node.textContent.trim().slice(0, 100));
  }
  return {unrendered, errors, raw, pseudo: pseudoText,
          typeset: document.querySelectorAll('mjx-container').length,
          math: document.querySelectorAll('.math').length,
          mathjax: [...document.scripts].map(s => s.src).filter(s => s.includes('mathjax'))};
}
"""

_IMAGES = r"""
() => [...document.images].map(i => ({
  src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0,
  width: i.naturalWidth, height: i.naturalHeight}))
"""

_LINKS = r"""() => [...document.querySelectorAll('a[href]')].map(a => a.href)"""


@pytest.mark.parametrize("page_path", PAGES or ["(no built book)"])
def test_page_offline(browser: Any, server: str, page_path: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  service_workers="block")
    problems: list[str] = []
    blocked: list[str] = []

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).hostname in LOCAL_HOSTS:
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    pending = _track(page)
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"uncaught exception: {e}"))
    page.on("requestfailed", lambda r: problems.append(
        f"request failed: {r.url} ({r.failure})") if urlparse(r.url).hostname in LOCAL_HOSTS
        else None)
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 else None)
    try:
        page.goto(server + page_path, wait_until="load")
        # MathJax typesets asynchronously; wait for its startup promise when it is on the page.
        _settle(page, pending)
        math = page.evaluate(_MATH_CHECK)
        images = page.evaluate(_IMAGES)
        links = page.evaluate(_LINKS)
        shot = SCREENSHOTS / (page_path.replace("/", "__").removesuffix(".html") + ".png")
        height = page.evaluate("() => document.documentElement.scrollHeight")
        if height <= MAX_SHOT_HEIGHT:
            page.screenshot(path=str(shot), full_page=True)
        else:
            page.screenshot(path=str(shot), full_page=True,
                            clip={"x": 0, "y": 0, "width": 1280, "height": MAX_SHOT_HEIGHT})
    finally:
        context.close()

    if blocked:
        problems.append(f"requests to the network (blocked): {sorted(set(blocked))}")
    if math["math"] and not any("_static/mathjax/" in s for s in math["mathjax"]):
        problems.append(f"MathJax not loaded from the book's _static: {math['mathjax']}")
    if math["unrendered"]:
        problems.append(f"{len(math['unrendered'])} equations not typeset, e.g. "
                        f"{math['unrendered'][:3]}")
    if math["errors"]:
        problems.append(f"MathJax errors: {math['errors'][:5]}")
    if math["raw"]:
        problems.append(f"raw TeX in the page text: {math['raw'][:5]}")
    if math["pseudo"]:
        problems.append(f"raw pseudo-maths in the page text: {math['pseudo'][:5]}")
    broken = [i["src"] for i in images if not i["ok"]]
    if broken:
        problems.append(f"images that did not load: {broken}")
    dead: list[str] = []
    for href in links:
        if urlparse(href).hostname not in LOCAL_HOSTS:
            continue
        url, fragment = urldefrag(href)
        target = _target(url, server)
        if not target.is_file():
            dead.append(f"{href} (no file {target.relative_to(HTML)})")
        elif fragment and target.suffix == ".html" and unquote(fragment) not in _ids(target):
            dead.append(f"{href} (no element with id {fragment!r})")
    if dead:
        problems.append(f"internal links that do not resolve: {sorted(set(dead))}")
    REPORT[page_path] = {
        "equations": math["math"], "typeset": math["typeset"],
        "images": len(images), "image_sizes": [[i["width"], i["height"]] for i in images],
        "internal_links": sum(1 for h in links if urlparse(h).hostname in LOCAL_HOSTS),
        "height": height, "screenshot": shot.name, "problems": problems,
    }
    assert not problems, f"{page_path}:\n  " + "\n  ".join(problems)


_LAYOUT = r"""
() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main')
                  || document.body;
  const box = article.getBoundingClientRect();
  // An element cannot stick out visibly if some ancestor inside the column clips or
  // scrolls it (overflow-x auto, scroll or hidden) and that ancestor fits the column.
  const contained = el => {
    for (let a = el.parentElement; a && a !== article; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o !== 'auto' && o !== 'scroll' && o !== 'hidden') continue;
      const b = a.getBoundingClientRect();
      if (b.right <= box.right + 1 && b.left >= box.left - 1) return true;
    }
    return false;
  };
  const describe = el => (el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + '.' +
    [...el.classList].slice(0, 2).join('.') + ' "' +
    (el.textContent || '').trim().slice(0, 60) + '"');
  const overflow = [];
  for (const el of article.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.right <= box.right + 1 && r.left >= box.left - 1) continue;
    if (contained(el)) continue;
    if (el.closest('mjx-assistive-mml')) continue;
    overflow.push(describe(el));
  }
  // keep only outermost offenders
  const clipped = [];
  for (const pre of article.querySelectorAll('pre')) {
    const o = getComputedStyle(pre).overflowX;
    if (pre.scrollWidth > pre.clientWidth + 1 && (o === 'hidden' || o === 'visible'))
      clipped.push(describe(pre));
  }
  const figures = [];
  for (const img of article.querySelectorAll('img')) {
    const fig = img.closest('figure');
    const cap = fig ? fig.querySelector('figcaption') : null;
    figures.push({src: img.getAttribute('src'), url: img.currentSrc || img.src,
                  alt: img.getAttribute('alt') || '',
                  natural: img.naturalWidth, shown: img.getBoundingClientRect().width,
                  figure: !!fig, caption: cap ? cap.textContent.trim().slice(0, 80) : '',
                  number: cap ? (cap.querySelector('.caption-number') || {}).textContent || ''
                              : '',
                  cell: !!img.closest('.cell_output, .output')});
  }
  const steps = [...article.querySelectorAll('.symsde-step')].map(
    s => s.id || (s.querySelector('[id^="step-"]') || {}).id || '');
  const eqno = article.querySelectorAll('.eqno').length;
  const stepHeight = [...article.querySelectorAll('.symsde-step')].reduce(
    (h, s) => h + s.getBoundingClientRect().height, 0);
  const stepShare = stepHeight / Math.max(1, article.getBoundingClientRect().height);
  return {stepShare, overflow: [...new Set(overflow)].slice(0, 50), clipped, figures, steps, eqno,
          pageWidth: document.documentElement.scrollWidth,
          viewport: window.innerWidth};
}
"""

LAYOUT: dict[str, Any] = {}


def _png_bytes(src: str) -> bytes | None:
    """The bytes of an image, from its absolute URL (the built book) or a data: URI."""
    import base64

    if src.startswith("data:"):
        return base64.b64decode(src.split(",", 1)[1])
    path = HTML / unquote(urlparse(src).path).lstrip("/")
    return path.read_bytes() if path.is_file() else None


def legend_px_in_png(data: bytes) -> list[float] | None:
    """The legend font sizes (pixels of the PNG) that ``symsde.book.figure_png`` recorded,
    or ``None`` when the image carries no measurement."""
    import io

    from PIL import Image

    from symsde.book import LEGEND_PX_KEY

    text = getattr(Image.open(io.BytesIO(data)), "text", {}) or {}
    return None if LEGEND_PX_KEY not in text else [float(v) for v in
                                                      json.loads(text[LEGEND_PX_KEY])]


def _layout_problems(lay: dict[str, Any], width: int) -> tuple[list[str], list[float]]:
    """What the layout probe found wrong on a page, and the smallest legend text of each
    figure on screen (CSS px)."""
    problems: list[str] = []
    if lay["pageWidth"] > lay["viewport"] + 1:
        problems.append(f"the page scrolls sideways: {lay['pageWidth']} px wide in a "
                        f"{lay['viewport']} px window")
    if lay["overflow"]:
        problems.append(f"{len(lay['overflow'])} elements stick out of the column, e.g. "
                        f"{lay['overflow'][:4]}")
    if lay["clipped"]:
        problems.append(f"clipped code blocks: {lay['clipped'][:4]}")
    legend_px = []
    for f in lay["figures"]:
        if not f["cell"]:
            continue
        if not f["figure"] or not f["caption"] or not f["number"]:
            problems.append(f"figure without a numbered caption: {f['src'][:80]}")
        alt = f["alt"].strip()
        if len(alt) < 20 or "/" in alt or alt.endswith((".png", ".svg", ".jpg")):
            problems.append(f"figure without real alt text: {f['src'][:80]} (alt {alt!r})")
        data = _png_bytes(f["url"])
        sizes = None if data is None else legend_px_in_png(data)
        if sizes is None:
            problems.append(f"figure without a legend measurement: {f['src'][:80]}")
        elif sizes and f["natural"]:
            px = min(sizes) * f["shown"] / f["natural"]
            legend_px.append(round(px, 1))
            if px < MIN_LEGEND_PX:
                problems.append(f"legend text {px:.1f} px < {MIN_LEGEND_PX} px at {width} px "
                                f"in {f['src'][:80]}")
    missing = [i for i, sid in enumerate(lay["steps"], 1) if not sid.startswith("step-")]
    if missing:
        problems.append(f"steps without an anchor: numbers {missing[:10]}")
    return problems, legend_px


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page_path", PAGES or ["(no built book)"])
def test_page_layout(browser: Any, server: str, page_path: str, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  service_workers="block")
    context.route("**/*", lambda r: r.continue_() if urlparse(r.request.url).hostname
                  in LOCAL_HOSTS or r.request.url.startswith(("data:", "blob:"))
                  else r.abort())
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    pending = _track(page)
    try:
        page.goto(server + page_path, wait_until="load")
        _settle(page, pending)
        lay = page.evaluate(_LAYOUT)
        if width != 1280 and page_path in ("index.html", "chapters/langevin.html",
                                           "cli.html", "errata.html"):
            shot = SCREENSHOTS / (page_path.replace("/", "__").removesuffix(".html")
                                  + f"-{width}.png")
            page.screenshot(path=str(shot), full_page=True,
                            clip={"x": 0, "y": 0, "width": width, "height": 6000})
    finally:
        context.close()
    problems, legend_px = _layout_problems(lay, width)
    LAYOUT[f"{page_path}@{width}"] = {
        "overflow": len(lay["overflow"]), "clipped": len(lay["clipped"]),
        "figures": sum(1 for f in lay["figures"] if f["cell"]), "legend_px": legend_px,
        "steps": len(lay["steps"]), "numbered_equations": lay["eqno"],
        "step_share": round(lay["stepShare"], 3), "problems": problems}
    (SCREENSHOTS / "layout.json").write_text(json.dumps(LAYOUT, indent=2, sort_keys=True))
    assert not problems, f"{page_path} at {width} px:\n  " + "\n  ".join(problems)


def test_search_results_show_no_raw_tex(browser: Any, server: str) -> None:
    """A search's result summaries show maths as text (symsde-search.js), not ``\\(...\\)``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  service_workers="block")
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        page.goto(server + "search.html?q=temperature", wait_until="load")
        page.wait_for_selector("#search-results li p.context")
        page.wait_for_timeout(2000)   # summaries are filled in one result at a time
        summaries = page.evaluate(
            "() => [...document.querySelectorAll('#search-results li p.context')]"
            ".map(p => p.textContent)")
    finally:
        context.close()
    assert summaries, "the search for 'temperature' found nothing"
    raw = [t[:80] for t in summaries if "\\(" in t or "\\frac" in t or "\\sigma" in t]
    assert not raw, f"raw TeX in search results: {raw}"


_BAD_PAGE = """<!doctype html><html><head><style>
article { width: 600px; } pre.cut { overflow-x: hidden; width: 300px; }
</style></head><body><article class="bd-article">
<div style="width: 900px">a paragraph wider than the column</div>
<pre class="cut">a code line much too long for its box: clipped, not scrolled ........</pre>
<div class="cell_output"><img src="data:image/png;base64,{png}" alt="_images/abc.png"
 width="60"></div>
<div class="cell_output"><figure><img src="data:image/png;base64,{plain}"
 alt="a plot drawn without figure_png, so with no legend measurement">
<figcaption><span class="caption-number">Fig. 1 </span>plain</figcaption></figure></div>
<div class="admonition symsde-step"><p>a step without an anchor</p></div>
</article></body></html>"""


def _evaluate_on_page(browser: Any, folder: Path, page_name: str, script: str) -> Any:
    """Serve ``folder`` locally, open ``page_name`` at 1280 px and run ``script`` on it."""
    handler = functools.partial(_Quiet, directory=str(folder))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/{page_name}", wait_until="load")
        return page.evaluate(script)
    finally:
        context.close()
        httpd.shutdown()
        httpd.server_close()


def test_math_check_rejects_raw_pseudo_maths(browser: Any, tmp_path: Path) -> None:
    """The page check finds a half-typeset reason and SymPy's printed nodes in the text,
    and leaves the same strings alone inside code."""
    (tmp_path / "raw.html").write_text(
        "<!doctype html><html><body><p>a conservation law: dp/<span>dt = -dJ/dPhi</span></p>"
        "<p>Eq(sigma**2*Derivative(p(Phi), Phi)/2, 0)</p><code>exp(x) sqrt(y)</code>"
        "</body></html>")
    math = _evaluate_on_page(browser, tmp_path, "raw.html", _MATH_CHECK)
    assert any("Derivative(" in t for t in math["pseudo"])
    assert any(t.startswith("dt = -dJ/dPhi") for t in math["pseudo"])
    assert not any("exp(x)" in t for t in math["pseudo"])


def test_layout_check_rejects_a_bad_page(browser: Any, tmp_path: Path) -> None:
    """The layout probe finds overflow, a clipped code block, a figure without caption or
    real alt text, a legend too small to read, and a step without an anchor."""
    import base64

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from symsde.book import figure_png

    fig, ax = plt.subplots(figsize=(8, 3), dpi=100)   # 800 px drawn, shown at 60 px
    ax.plot([0, 1], label="a legend entry")
    ax.legend()
    png = figure_png(fig)
    import io
    plain = io.BytesIO()
    fig.savefig(plain, format="png")
    plt.close(fig)
    assert legend_px_in_png(png) == [round(10 * 100 / 72, 2)]   # matplotlib's default 10 pt
    (tmp_path / "bad.html").write_text(_BAD_PAGE.replace(
        "{png}", base64.b64encode(png).decode()).replace(
        "{plain}", base64.b64encode(plain.getvalue()).decode()))
    lay = _evaluate_on_page(browser, tmp_path, "bad.html", _LAYOUT)
    problems, legend_px = _layout_problems(lay, 1280)
    text = "\n".join(problems)
    for expected in ("stick out of the column", "clipped code blocks",
                     "figure without a numbered caption", "figure without real alt text",
                     "legend text", "figure without a legend measurement",
                     "steps without an anchor"):
        assert expected in text, f"{expected!r} not reported:\n{text}"
    assert legend_px and legend_px[0] < MIN_LEGEND_PX
