"""Tests of symsde.sphinx: checked claims, the SDE notation, and a Sphinx build that fails.

The expected generator, Fokker-Planck and Ito results are worked out by hand in comments
for the Ornstein-Uhlenbeck SDE dx = -theta x dt + sigma dW.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sympy as sp

from symsde.latex import LatexReadError
from symsde.sphinx import check_claim, read_sde

OU_SYMBOLS = "x real, theta positive, sigma positive"
OU = r"dx = -\theta x\,dt + \sigma\,dW"


@pytest.fixture(scope="module")
def ou():
    return read_sde(OU, OU_SYMBOLS)


def test_read_sde_coefficients(ou) -> None:
    x, theta, sigma = sp.Symbol("x", real=True), *sp.symbols("theta sigma", positive=True)
    assert ou.state == (x,)
    assert ou.drift[0] == -theta * x
    assert ou.diffusion[0, 0] == sigma


def test_read_sde_two_noises() -> None:
    sde = read_sde(r"dx = -x\,dt + dW_1 + 2\,dW_2", "x real")
    assert list(sde.diffusion) == [1, 2]


@pytest.mark.parametrize(("text", "match"), [
    (r"dx = -x + dW", "a\\\\,dt \\+ b\\\\,dW"),
    (r"dx = -x\,dt", "no noise"),
    (r"x = -x\,dt + dW", "cannot read the SDE line"),
    ("", "empty"),
])
def test_read_sde_refusals(text: str, match: str) -> None:
    with pytest.raises(LatexReadError, match=match):
        read_sde(text, "x real")


def test_plain_claims_true_and_false() -> None:
    assert check_claim(r"\int_{-\infty}^{\infty} e^{-x^2/2}\,dx = \sqrt{2\pi}", "x real").ok
    bad = check_claim(r"\int_{-\infty}^{\infty} e^{-x^2/2}\,dx = \sqrt{\pi}", "x real")
    assert not bad.ok
    assert sp.simplify(bad.residual - (sp.sqrt(2 * sp.pi) - sp.sqrt(sp.pi))) == 0


def test_assumptions_matter() -> None:
    # sqrt(x^2) = x needs x >= 0: true for positive x, false for real x
    assert check_claim(r"\sqrt{x^2} = x", "x positive").ok
    assert not check_claim(r"\sqrt{x^2} = x", "x real").ok


def test_generator_claim(ou) -> None:
    # A x^2 = mu * 2x + sigma^2/2 * 2 = -2 theta x^2 + sigma^2
    assert check_claim(r"\mathcal{A}(x^2) = \sigma^2 - 2\theta x^2", sde=ou).ok
    assert not check_claim(r"\mathcal{A}(x^2) = \sigma^2 - \theta x^2", sde=ou).ok


def test_fokker_planck_claim(ou) -> None:
    # F p = (theta x p)' + sigma^2/2 p''; for p = x: theta x + 0 ... F x = 2 theta x
    assert check_claim(r"\mathcal{F}(x) = 2\theta x", sde=ou).ok
    assert not check_claim(r"\mathcal{F}(x) = \theta x", sde=ou).ok


def test_stationary_claim(ou) -> None:
    # the OU stationary density is Gaussian with variance sigma^2/(2 theta)
    assert check_claim(r"p(x) = e^{-\theta x^2/\sigma^2}", sde=ou, kind="stationary").ok
    assert not check_claim(r"p(x) = e^{-2\theta x^2/\sigma^2}", sde=ou, kind="stationary").ok


def test_ito_claim(ou) -> None:
    # d(x^2) = (2x mu + sigma^2) dt + 2 x sigma dW
    good = r"d(x^2) = (\sigma^2 - 2\theta x^2)\,dt + 2\sigma x\,dW"
    assert check_claim(good, sde=ou, kind="ito").ok
    wrong_drift = r"d(x^2) = (- 2\theta x^2)\,dt + 2\sigma x\,dW"   # Ito term forgotten
    res = check_claim(wrong_drift, sde=ou, kind="ito")
    assert not res.ok and "dt coefficient fails" in res.parts
    wrong_noise = r"d(x^2) = (\sigma^2 - 2\theta x^2)\,dt + \sigma x\,dW"
    res = check_claim(wrong_noise, sde=ou, kind="ito")
    assert not res.ok and "dW_1 coefficient fails" in res.parts


def test_sde_claims_need_an_sde() -> None:
    with pytest.raises(LatexReadError, match="needs an SDE"):
        check_claim(r"\mathcal{A}(x^2) = 1", "x real")
    with pytest.raises(LatexReadError, match="needs an SDE"):
        check_claim(r"p(x) = 1", "x real", kind="stationary")


# -- a real Sphinx build --------------------------------------------------------------------------
PAGE_OK = """\
# Claims

```{symsde-claim}
:symbols: x real, sigma positive
:label: gauss
\\int_{-\\infty}^{\\infty} e^{-x^2/(2\\sigma^2)}\\,dx = \\sqrt{2\\pi}\\,\\sigma
```

As {eq}`gauss` shows.

```{symsde-sde} ou
:symbols: x real, theta positive, sigma positive
dx = -\\theta x\\,dt + \\sigma\\,dW
```

```{symsde-claim}
:sde: ou
:kind: stationary
:label: ou-density
p(x) = e^{-\\theta x^2/\\sigma^2}
```
"""

PAGE_FALSE = """\
# A false claim

```{symsde-claim}
:symbols: x real
:label: wrong-square
(x + 1)^2 = x^2 + 1
```
"""


def _sphinx_build(tmp: Path, page: str) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("myst_parser")
    src = tmp / "src"
    src.mkdir()
    (src / "conf.py").write_text(textwrap.dedent("""\
        extensions = ["myst_parser", "symsde.sphinx"]
        myst_enable_extensions = ["dollarmath", "amsmath"]
        """))
    (src / "index.md").write_text(page)
    # no -W: a false claim must fail the build without --warningiserror
    return subprocess.run([sys.executable, "-m", "sphinx", "-q", "-b", "html", str(src),
                           str(tmp / "out")], capture_output=True, text=True, check=False,
                          timeout=300)


def test_sphinx_build_true_claims_are_numbered_with_a_badge(tmp_path: Path) -> None:
    proc = _sphinx_build(tmp_path, PAGE_OK)
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "out" / "index.html").read_text()
    assert html.count(">checked</span>") == 2
    assert 'id="equation-gauss"' in html and 'href="#equation-gauss">(1)</a>' in html
    assert 'id="equation-ou-density"' in html


def test_sphinx_build_fails_on_a_false_claim(tmp_path: Path) -> None:
    proc = _sphinx_build(tmp_path, PAGE_FALSE)
    assert proc.returncode != 0
    err = proc.stderr
    assert "index" in err and "'wrong-square'" in err and "residual 2*x" in err


# -- a Jupyter Book -------------------------------------------------------------------------------
def test_jupyter_book_build_fails_naming_the_false_claim(tmp_path: Path) -> None:
    jb = shutil.which("jupyter-book", path=str(Path(sys.executable).parent))
    if jb is None:
        pytest.skip("jupyter-book not installed (pip install -e '.[book]'); 8 s when it is")
    book = tmp_path / "book"
    book.mkdir()
    (book / "_config.yml").write_text(textwrap.dedent("""\
        title: claims
        execute: {execute_notebooks: "off"}
        parse: {myst_enable_extensions: [dollarmath, amsmath]}
        sphinx:
          extra_extensions: [symsde.sphinx]
        """))
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n- file: wrong\n")
    (book / "intro.md").write_text(PAGE_OK)
    (book / "wrong.md").write_text(PAGE_FALSE)
    proc = subprocess.run([jb, "build", str(book)], capture_output=True, text=True,
                          check=False, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "wrong" in out and "'wrong-square'" in out and "residual 2*x" in out
