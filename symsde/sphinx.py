r"""Checked claims for any Sphinx or Jupyter Book: the ``symsde-claim`` directive.

Add the extension to a Jupyter Book's ``_config.yml``::

    sphinx:
      extra_extensions: [symsde.sphinx]

(or to ``extensions`` in a Sphinx ``conf.py``). Then, in a MyST page::

    ```{symsde-claim}
    :symbols: x real, sigma positive
    :label: gauss-integral
    \int_{-\infty}^{\infty} e^{-x^2/(2\sigma^2)}\,dx = \sqrt{2\pi}\,\sigma
    ```

When the book builds, the claim is read by :mod:`symsde.latex` (SymPy's LaTeX parser with
symsde's pre-pass: ``e^{...}`` and ``\exp`` are the exponential, ``\pi`` the constant) and
checked by :func:`symsde.proof.check_equation`: SymPy must reduce the difference of the
sides to zero and an mpmath witness must find the two sides, evaluated separately, equal at
random points. A true claim is shown as a numbered equation (cite it with ``{eq}`label```)
with a *checked* badge; a false claim stops the build with the page, the label and the
residual, whatever the warning settings.

Options of ``symsde-claim``
    ``:symbols:`` the symbols with assumptions, comma-separated ``name assumption ...``
    (``x real, sigma positive, f function``); undeclared letters are complex symbols.
    ``:label:`` the equation's label (default: one made from the page and a counter).
    ``:sde:`` the name of an SDE declared on the page with ``symsde-sde`` (below).
    ``:kind:`` ``equation`` (default), ``stationary`` or ``ito`` (below).

Claims about an SDE
    Declare the SDE once on the page, one line per state variable, ``dx = a\,dt + b\,dW``
    (several noises: ``dW_1``, ``dW_2``; ``dB`` works too)::

        ```{symsde-sde} ou
        :symbols: x real, theta positive, sigma positive
        dx = -\theta x\,dt + \sigma\,dW
        ```

    Then a claim with ``:sde: ou`` may use, besides the page's symbols,

    - ``\mathcal{A}(f)``: the generator :math:`\mathcal{A}f = \mu f' + \tfrac12 D f''`
      applied to ``f`` (:meth:`symsde.SDE.generator`);
    - ``\mathcal{F}(p)``: the Fokker-Planck right-hand side,
      :math:`\partial_t p = \mathcal{F}p = -(\mu p)' + \tfrac12 (D p)''`
      (:meth:`symsde.SDE.fokker_planck`).

    ``:kind: stationary`` with body ``p(x) = ...`` claims that the right side is a
    stationary density: it is checked by :math:`\mathcal{F}p = 0`. ``:kind: ito`` with body
    ``d(f) = a\,dt + b\,dW`` claims Ito's lemma for ``f`` of the state: ``a`` and ``b`` are
    compared with :func:`symsde.ito.ito_lemma`.

Examples
--------
The same checks without Sphinx:

>>> c = check_claim(r"\int_0^1 x^2 \, dx = \frac{1}{3}", "x real")
>>> c.ok
True
>>> check_claim(r"(x + 1)^2 = x^2 + 1", "x real").residual
2*x
>>> sde = read_sde(r"dx = -\theta x\,dt + \sigma\,dW", "x real, theta positive, sigma positive")
>>> check_claim(r"\mathcal{A}(x^2) = \sigma^2 - 2\theta x^2", sde=sde).ok
True
>>> check_claim(r"p(x) = e^{-\theta x^2/\sigma^2}", sde=sde, kind="stationary").ok
True
>>> check_claim(r"d(x^2) = (\sigma^2 - 2\theta x^2)\,dt + 2\sigma x\,dW", sde=sde, kind="ito").ok
True
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import sympy as sp

from symsde.latex import (
    LatexReadError,
    closing_paren,
    parse_latex_equation,
    parse_latex_expr,
    symbol_table,
)

__all__ = [
    "ClaimResult",
    "check_claim",
    "read_sde",
    "setup",
]

KINDS = ("equation", "stationary", "ito")
_NOISE = re.compile(r"d[WB](?:_\{?(\d+)\}?)?(?![A-Za-z])")


@dataclass(frozen=True)
class ClaimResult:
    """The verdict on one claim: ``ok``, the residual and the witness, in words in ``detail``."""

    ok: bool
    residual: Any
    witness_error: float | None
    witness_points: int
    detail: str
    parts: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        """One line for the badge's tooltip and the build log."""
        err = "n/a" if self.witness_error is None else f"{self.witness_error:.1e}"
        what = f"symbolic residual {sp.sstr(self.residual)}; numeric witness at " \
               f"{self.witness_points} points, largest relative error {err}"
        return (f"{', '.join(self.parts)}: " if self.parts else "") + what


def _coefficients(expr: sp.Expr, dt: sp.Symbol, noises: Mapping[int, sp.Symbol],
                  what: str) -> tuple[sp.Expr, dict[int, sp.Expr]]:
    """The coefficients of ``dt`` and of each ``dW_k`` in an expression linear in them."""
    e = sp.expand(expr)
    diffs = [dt, *noises.values()]
    poly_ok = all(sp.degree(e, d) <= 1 for d in diffs if e.has(d))
    rest = e.subs(dict.fromkeys(diffs, 0))
    if not poly_ok or sp.simplify(rest) != 0:
        raise LatexReadError(f"{what}: write it as a\\,dt + b\\,dW (linear in dt and dW), "
                             f"found the term {rest} without a differential")
    return e.coeff(dt), {k: e.coeff(s) for k, s in noises.items()}


def _differential_table(text: str) -> tuple[dict[str, sp.Symbol], sp.Symbol,
                                            dict[int, sp.Symbol]]:
    dt = sp.Symbol("symsde_dt")
    table: dict[str, sp.Symbol] = {"dt": dt}
    noises: dict[int, sp.Symbol] = {}
    for m in _NOISE.finditer(text):
        k = int(m.group(1) or 1)
        noises.setdefault(k, sp.Symbol(f"symsde_dW{k}"))
        table[m.group(0)] = noises[k]
    return table, dt, noises


def _bounded(fn: Any) -> Any:
    """Turn the parser's recursion and memory failures on huge formulas into a reading
    error that says what to do (issue 15: every exception is ours)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (RecursionError, MemoryError):
            raise LatexReadError(
                "the formula is too long or too deeply nested to read; split it into "
                "shorter claims (e.g. one term per line)") from None

    return wrapper


@_bounded
def read_sde(text: str, symbols: str | Mapping[str, Any] = "") -> Any:
    r"""An :class:`symsde.SDE` from lines ``dx = a\,dt + b\,dW`` (one per state variable).

    Examples
    --------
    >>> sde = read_sde(r"dx = -x\,dt + \sqrt{2}\,dW", "x real")
    >>> sde.state, sde.drift[0], sde.diffusion[0, 0]
    ((x,), -x, sqrt(2))
    >>> read_sde(r"dx = -x + dW", "x real")
    Traceback (most recent call last):
    ...
    symsde.latex.LatexReadError: the SDE's line for x: write it as a\,dt + b\,dW ...
    """
    from symsde.sde import SDE

    table = symbol_table(symbols) if isinstance(symbols, str) else dict(symbols)
    lines = [ln.strip() for ln in re.split(r"\n|\\\\", text) if ln.strip()]
    if not lines:
        raise LatexReadError("the SDE is empty: write one line dx = a\\,dt + b\\,dW per "
                             "state variable")
    state: list[sp.Symbol] = []
    rows: list[tuple[str, str]] = []
    for ln in lines:
        m = re.match(r"\s*d\s*(\\?[A-Za-z]+(?:_\{?[A-Za-z0-9]+\}?)?)\s*=(.*)$", ln.replace("&", ""))
        if m is None:
            raise LatexReadError(f"cannot read the SDE line {ln!r}: write dx = a\\,dt + b\\,dW")
        name, rhs = m.group(1), m.group(2)
        key = name if name in table else ("\\" + name if "\\" + name in table else name)
        sym = table.get(key)
        if not isinstance(sym, sp.Symbol):
            sym = sp.Symbol(name.lstrip("\\"), real=True)
            table[key] = sym
        state.append(sym)
        rows.append((name, rhs))
    dtab, dt, noises = _differential_table("\n".join(r for _, r in rows))
    if not noises:
        raise LatexReadError("the SDE has no noise term: write b\\,dW (or dW_1, dW_2 ...)")
    drift, diffusion = [], []
    for (_name, rhs), sym in zip(rows, state, strict=True):
        expr = parse_latex_expr(rhs, {**table, **dtab})
        a, bs = _coefficients(expr, dt, noises, f"the SDE's line for {sym}")
        drift.append(a)
        diffusion.append([bs[k] for k in sorted(noises)])
    return SDE(state, drift, diffusion)


def _sde_table(sde: Any) -> dict[str, Any]:
    return {r"\mathcal{A}": sde.generator, r"\mathcal{F}": sde.fokker_planck,
            **{s.name if len(s.name) == 1 else "\\" + s.name: s
               for s in (*sde.state, *sde.parameters)}}


def _check(lhs: Any, rhs: Any, seed: int) -> Any:
    from symsde.proof import check_equation

    return check_equation(lhs, rhs, seed=seed)


@_bounded
def check_claim(text: str, symbols: str | Mapping[str, Any] = "", *, sde: Any = None,
                kind: str = "equation", seed: int = 0) -> ClaimResult:
    r"""Read and check one claim (see the module docstring for ``sde`` and ``kind``).

    Raises :class:`symsde.latex.LatexReadError` when the claim cannot be read; returns a
    :class:`ClaimResult` (``ok`` False with the residual) when it is read but false.
    """
    if kind not in KINDS:
        raise LatexReadError(f"unknown claim kind {kind!r}: use one of {', '.join(KINDS)}")
    table = symbol_table(symbols) if isinstance(symbols, str) else dict(symbols)
    if sde is not None:
        table = {**_sde_table(sde), **table}
    elif kind != "equation" or re.search(r"\\mathcal\{[AF]\}", text):
        raise LatexReadError(f"the claim {text!r} needs an SDE: declare one with symsde-sde "
                             "and name it with :sde:")
    if kind == "equation":
        eq = parse_latex_equation(text, table)
        c = _check(eq.lhs, eq.rhs, seed)
        return ClaimResult(c.ok, c.residual, c.witness_error, c.witness_points, c.detail)
    if kind == "stationary":
        eq = parse_latex_equation(text, table)
        c = _check(sde.fokker_planck(eq.rhs), sp.Integer(0), seed)
        return ClaimResult(c.ok, c.residual, c.witness_error, c.witness_points, c.detail,
                           ("Fokker-Planck operator applied to the density",))
    # ito: d(f) = a dt + b dW
    m = re.match(r"\s*d\s*(?:\\left)?\(", text)
    if m is None:
        raise LatexReadError(f"an Ito claim reads d(f) = a\\,dt + b\\,dW; got {text!r}")
    end = closing_paren(text, m.end() - 1)
    if end is None:
        raise LatexReadError(f"unbalanced parentheses in {text!r}")
    f_text = re.sub(r"\\right$", "", text[m.end():end].strip())
    rest = text[end + 1:].strip()
    if not rest.startswith("="):
        raise LatexReadError(f"an Ito claim reads d(f) = a\\,dt + b\\,dW; got {text!r}")
    from symsde.ito import ito_lemma

    f = parse_latex_expr(f_text, table)
    dtab, dt, noises = _differential_table(rest)
    a, bs = _coefficients(parse_latex_expr(rest[1:], {**table, **dtab}), dt, noises,
                          "the claimed differential")
    dY = ito_lemma(sde, f)
    if len(bs) > dY.diffusion.shape[1] or max(bs, default=1) > dY.diffusion.shape[1]:
        raise LatexReadError(f"the claim has noise dW_{max(bs)} but the SDE has "
                             f"{dY.diffusion.shape[1]}")
    checks = [("dt coefficient", _check(dY.drift[0], a, seed))]
    for k in range(1, dY.diffusion.shape[1] + 1):
        checks.append((f"dW_{k} coefficient", _check(dY.diffusion[0, k - 1],
                                                      bs.get(k, sp.Integer(0)), seed)))
    bad = [(n, c) for n, c in checks if not c.ok]
    _n, c = bad[0] if bad else checks[0]
    errs = [c.witness_error for _, c in checks if c.witness_error is not None]
    return ClaimResult(not bad, c.residual, max(errs) if errs else None,
                       min(c.witness_points for _, c in checks),
                       "; ".join(c.detail for _, c in checks if c.detail),
                       tuple(f"{n} {'fails' if not c.ok else 'agrees'}" for n, c in checks))


# -- Sphinx ---------------------------------------------------------------------------------------
# Sphinx and docutils are needed only to build a book (the ``book`` extra); the directive
# classes are made when Sphinx loads the extension, so this module imports without them.


def _where(directive: Any) -> str:
    return f"{directive.env.docname} (line {directive.lineno})"


@functools.cache
def _directives() -> tuple[type, type, type]:
    """The claim error and the two directive classes, made on first use of Sphinx."""
    from docutils import nodes
    from docutils.parsers.rst import directives
    from sphinx.directives.patches import MathDirective
    from sphinx.errors import SphinxError
    from sphinx.util.docutils import SphinxDirective

    class SymsdeClaimError(SphinxError):
        """A claim on a page is false or unreadable: the build stops."""

        category = "symsde claim failed"

    class SDEDirective(SphinxDirective):
        """``symsde-sde NAME``: declare an SDE on the page and display it."""

        has_content = True
        required_arguments = 1
        option_spec: ClassVar[dict[str, Any]] = {"symbols": directives.unchanged,
                                                 "label": directives.unchanged}

        def run(self) -> list[Any]:
            name = self.arguments[0]
            text = "\n".join(self.content)
            try:
                sde = read_sde(text, self.options.get("symbols", ""))
            except LatexReadError as e:
                raise SymsdeClaimError(f"{_where(self)}: SDE {name!r}: {e}") from None
            self.env.temp_data.setdefault("symsde_sdes", {})[name] = sde
            latex = r" \\ ".join(ln.strip() for ln in self.content if ln.strip())
            if len(self.content) > 1:
                latex = r"\begin{aligned}" + latex.replace("=", "&=", 1) + r"\end{aligned}"
            node = nodes.math_block(latex, latex, docname=self.env.docname, number=None,
                                    label=self.options.get("label"), nowrap=False)
            self.set_source_info(node)
            return [nodes.container("", node, classes=["symsde-sde"])]


    class ClaimDirective(MathDirective):
        """``symsde-claim``: a LaTeX equation checked when the page is built."""

        option_spec: ClassVar[dict[str, Any]] = {
            **MathDirective.option_spec,
            "symbols": directives.unchanged,
            "sde": directives.unchanged,
            "kind": lambda arg: directives.choice(arg, KINDS),
        }

        def run(self) -> list[Any]:
            text = " ".join(ln.strip() for ln in self.content if ln.strip())
            if self.arguments and self.arguments[0]:
                text = f"{self.arguments[0]} {text}".strip()
            if "label" not in self.options and "name" not in self.options:
                n = self.env.new_serialno("symsde-claim")
                self.options["label"] = f"claim-{self.env.docname.replace('/', '-')}-{n}"
            label = self.options.get("label") or self.options.get("name")
            sde = None
            if "sde" in self.options:
                sde = self.env.temp_data.get("symsde_sdes", {}).get(self.options["sde"])
                if sde is None:
                    raise SymsdeClaimError(f"{_where(self)}: claim {label!r} names the SDE "
                                           f"{self.options['sde']!r}, which is not declared "
                                           "above it on the page (symsde-sde)")
            try:
                res = check_claim(text, self.options.get("symbols", ""), sde=sde,
                                  kind=self.options.get("kind", "equation"),
                                  seed=int(self.config.symsde_seed))
            except LatexReadError as e:
                raise SymsdeClaimError(f"{_where(self)}: claim {label!r} cannot be read: "
                                       f"{e}") from None
            if not res.ok:
                raise SymsdeClaimError(
                    f"{_where(self)}: claim {label!r} is false: {text}; residual "
                    f"{sp.sstr(res.residual)} ({res.summary()}). {res.detail}".strip())
            self.env.temp_data.setdefault("symsde_claims", []).append(label)
            out = super().run()
            badge = nodes.inline("", "checked", classes=["symsde-badge", "sd-badge",
                                                         "sd-bg-success", "sd-bg-text-success"])
            note = nodes.paragraph("", "", badge, nodes.Text(" " + res.summary()),
                                   classes=["symsde-claim-check"])
            return [nodes.container("", *out, note, classes=["symsde-claim"])]

    return SymsdeClaimError, SDEDirective, ClaimDirective


_CSS = """
.symsde-claim { position: relative; }
.symsde-claim-check { font-size: 0.85em; color: #555; margin-top: -0.6em; }
.symsde-badge { font-weight: 600; border-radius: 0.25rem; padding: 0 0.4em;
                background: #198754; color: #fff; }
.symsde-claim .math, .symsde-sde .math { overflow-x: auto; }
"""


def _add_css(app: Any) -> None:
    from pathlib import Path

    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    (static / "symsde-claims.css").write_text(_CSS, encoding="utf-8")


def setup(app: Any) -> dict[str, Any]:
    """Register ``symsde-claim`` and ``symsde-sde`` (Sphinx extension entry point)."""
    _, sde_directive, claim_directive = _directives()
    app.add_config_value("symsde_seed", 0, "env")
    app.add_directive("symsde-claim", claim_directive)
    app.add_directive("symsde-sde", sde_directive)
    app.connect("builder-inited", _add_css)
    app.add_css_file("symsde-claims.css")
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


def __getattr__(name: str) -> Any:
    # ``SymsdeClaimError`` subclasses Sphinx's error, so it exists only once Sphinx is there.
    if name == "SymsdeClaimError":
        return _directives()[0]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
