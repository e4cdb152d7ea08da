"""The one renderer of verified derivations: text, LaTeX, Markdown, MyST and JSON.

Every renderer reads a :class:`~symsde.proof.kernel.DerivationResult` (or one
:class:`~symsde.proof.kernel.StepResult`); none re-runs a check.

- :func:`render_text`: the plain text of ``symsde show``;
- :func:`render_latex`: a LaTeX ``enumerate`` of the steps;
- :func:`render_markdown`: plain Markdown (any Markdown reader);
- :func:`render_myst`: HTML-ready Markdown (MyST with sphinx-design badges, admonitions,
  grids and dropdowns), what the book shows (:mod:`symsde.book` calls it);
- :func:`step_dict` and :func:`result_dict`: the JSON of ``symsde verify --json``.

Examples
--------
>>> escape_markdown("p'/p = (ln p)' and sigma^2 * t")
"p'/p = (ln p)' and sigma^2 \\\\* t"
>>> verdict_badge("erratum")
'{bdg-warning}`erratum`'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sympy as sp
from sympy.core.function import AppliedUndef, UndefinedFunction
from sympy.printing.latex import LatexPrinter

from symsde.proof.claim import print_order
from symsde.proof.witness import WITNESS_DIGITS

if TYPE_CHECKING:
    from symsde.proof.kernel import DerivationResult, Step, StepResult

__all__ = [
    "LONG_CLAIM_CHARS",
    "SIDE_BY_SIDE_CHARS",
    "WITNESS_NOTE",
    "escape_markdown",
    "notes_latex",
    "reason_markdown",
    "render_latex",
    "render_markdown",
    "render_myst",
    "render_text",
    "result_dict",
    "step_dict",
    "step_label",
    "step_myst",
    "step_notes_form",
    "tidy_latex",
    "verdict_badge",
]


def _fmt_err(err: float | None) -> str:
    return "n/a" if err is None else f"{err:.1e}"


def _latex_text(text: str) -> str:
    rep = {"&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#"}
    return "".join(rep.get(c, c) for c in text)


def step_dict(r: StepResult) -> dict[str, Any]:
    """The JSON form of one step's result (contract keys: ``kind``,
    ``independent_witness``, ``premise_sensitive``, ``notes_form``, ``reading``)."""
    s = r.step
    out: dict[str, Any] = {
        "id": s.id,
        "kind": r.kind,
        "slide": s.slide,
        "reason": s.reason,
        "check": s.check.describe(),
        "claim": {"sympy": s.claim.text(), "latex": s.claim.latex()},
        "verdict": r.verdict,
        "residual": sp.sstr(r.residual),
        "witness": {"points": r.witness_points, "max_relative_error": r.witness_error,
                    "digits": WITNESS_DIGITS},
        "independent_witness": bool(r.independent_witness),
        "premise_sensitive": r.premise_sensitive,
        "notes_form": r.notes_form,
        "notes": [{"equation": n.equation, "status": n.status, "latex": n.latex,
                   **({"detail": n.detail} if n.detail else {})} for n in r.notes],
        "reading": s.reading,
        "hypotheses": list(s.all_hypotheses),
        "equations": list(s.equations),
        "seconds": round(r.seconds, 4),
    }
    if r.witness_note:
        out["witness"]["note"] = r.witness_note
    if s.corrected is not None:
        out["corrected"] = {"sympy": s.corrected.text(), "latex": s.corrected.latex()}
        out["erratum"] = s.erratum
    if r.detail:
        out["detail"] = r.detail
    return out


def result_dict(res: DerivationResult) -> dict[str, Any]:
    d = res.derivation
    res.notes()
    return {
        "name": d.name,
        "title": d.title,
        "seed": res.seed,
        "steps": [step_dict(r) for r in res.steps],
        "holds": res.count("holds"),
        "errata": res.count("erratum"),
        "fails": res.count("fails"),
        "definitions": res.count_kind("definition"),
        "independent_witnesses": res.independent,
        "notation": [{"equation": n.equation, "slide": n.slide,
                      "why_not_a_claim": n.why_not_a_claim} for n in d.notation],
        "seconds": round(res.seconds, 3),
    }


def render_text(res: DerivationResult) -> str:
    d = res.derivation
    lines = [f"{d.title}  [{d.name}]", ""]
    for i, r in enumerate(res.steps, 1):
        s = r.step
        lines.append(f"{i:2d}. [{r.verdict}] {s.id}  ({r.kind}; {s.slide})")
        sign = ":=" if r.kind == "definition" else "="
        lines.append(f"    claim:     {s.claim.text().replace(' = ', f' {sign} ', 1)}")
        if s.corrected is not None:
            lines.append(f"    corrected: {s.corrected.text()}")
            lines.append(f"    erratum:   {s.erratum}")
        lines.append(f"    because:   {s.reason}")
        if s.all_hypotheses:
            lines.append(f"    assuming:  {'; '.join(s.all_hypotheses)}")
        if r.kind != "definition":
            indep = "independent" if r.independent_witness else "NOT independent"
            lines.append(f"    check:     {s.check.describe()}; witness ({indep}) "
                         f"{r.witness_points} points, max rel. error "
                         f"{_fmt_err(r.witness_error)}")
        if r.verdict == "fails":
            lines.append(f"    residual:  {sp.sstr(r.residual)}  {r.detail}")
    return "\n".join(lines)


def render_latex(res: DerivationResult) -> str:
    d = res.derivation
    out = [f"% {d.title} -- generated by symsde, every step machine-checked",
           "\\begin{enumerate}"]
    for r in res.steps:
        s = r.step
        claim = r.effective_claim
        tag = "definition" if r.kind == "definition" else r.verdict
        out.append(f"  \\item {_latex_text(s.reason)} ({_latex_text(tag)})")
        out.append("  \\[")
        rel = r"\coloneqq" if r.kind == "definition" else "="
        out.append(f"    {sp.latex(claim.lhs, order=print_order(claim.lhs))} {rel} "
                   f"{sp.latex(claim.rhs, order=print_order(claim.rhs))}")
        out.append("  \\]")
        if r.verdict == "erratum":
            out.append(f"  \\emph{{Erratum: the notes have}} \\({s.claim.latex()}\\). "
                       f"{_latex_text(s.erratum)}")
    out.append("\\end{enumerate}")
    return "\n".join(out)


def render_markdown(res: DerivationResult) -> str:
    d = res.derivation
    out = [f"## {d.title}", ""]
    if d.summary:
        out += [d.summary, ""]
    for i, r in enumerate(res.steps, 1):
        s = r.step
        out.append(f"{i}. **{s.id}** ({s.slide}): {s.reason} *[{r.kind}: {r.verdict}]*")
        out.append("")
        out.append(f"   $$ {s.claim.latex()} $$")
        if s.corrected is not None:
            out += ["", f"   Corrected: $$ {s.corrected.latex()} $$", "", f"   {s.erratum}"]
        out.append("")
        if r.kind != "definition":
            out.append(f"   Check: {s.check.describe_latex()}; numeric witness "
                       f"({'independent' if r.independent_witness else 'not independent'}) "
                       f"at {r.witness_points} points, max relative error "
                       f"{_fmt_err(r.witness_error)}.")
            out.append("")
    return "\n".join(out)


# == HTML-ready Markdown (MyST): the book's form ===================================
_BADGES = {"holds": "success", "erratum": "warning", "fails": "danger"}
_ADMONITION = {"holds": "tip", "erratum": "warning", "fails": "error"}
# Characters that Markdown would read as markup in the steps' plain-text reasons.
_SPECIAL = re.compile(r"([\\`*_\[\]<>$|~{}])")


def escape_markdown(text: str) -> str:
    """Backslash-escape the characters MyST would read as markup (``*``, ``_``, ``$`` ...)."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def verdict_badge(verdict: str) -> str:
    """A sphinx-design badge for a verdict (``holds``, ``erratum`` or ``fails``)."""
    return f"{{bdg-{_BADGES.get(verdict, 'secondary')}}}`{verdict}`"


def _math(latex: str) -> list[str]:
    return ["", "$$", latex, "$$", ""]


# -- reading a step: the only place that knows the kernel's field names ------------------------
def step_id(r: StepResult) -> str:
    """The step's id inside its derivation."""
    return str(r.step.id)


def tidy_latex(latex: str) -> str:
    r"""SymPy's LaTeX nearer a textbook's: ``p{\left(x \right)}`` is ``p(x)``, ``\log`` is ``\ln``.

    >>> tidy_latex(r"L{\left(\Phi \right)} + \log{\left(p{\left(x,y \right)} \right)}")
    'L(\\Phi) + \\ln(p(x,y))'
    """
    prev = None
    while prev != latex:
        prev = latex
        latex = re.sub(r"\{\\left\(((?:(?!\\left|\\right).)*?) ?\\right\)\}", r"(\1)", latex)
    latex = re.sub(r"_\{([A-Za-z][a-z]{2,}(?: [a-z]+)*)\}", r"_{\\text{\1}}", latex)
    return latex.replace(r"\log", r"\ln")


class _NotesPrinter(LatexPrinter):
    """SymPy's LaTeX printer with the notes' letters for the objects of a symbol table."""

    def __init__(self, symbols: Mapping[str, Any], order: str | None = None) -> None:
        super().__init__({"order": order} if order else None)
        self._names: dict[Any, str] = {}
        for key, obj in symbols.items():
            if isinstance(obj, (sp.Symbol, AppliedUndef, UndefinedFunction)):
                self._names.setdefault(obj, key)
        for key, obj in symbols.items():
            # p_{\text{Langevin}}(\Phi) names one application; its name (the key up to the
            # bracket) names the function at other arguments too
            if isinstance(obj, AppliedUndef) and "(" in key and "|" not in key:
                self._names.setdefault(obj.func, key.split("(", 1)[0])

    def _print_Symbol(self, expr: Any, style: str = "plain") -> str:
        key = self._names.get(expr)
        return key if key is not None else super()._print_Symbol(expr, style)

    def _print_Function(self, expr: Any, exp: str | None = None) -> str:
        key = self._names.get(expr)
        whole = key is not None and ("(" in key or "_" in key or "^" in key)
        if key is None:
            key = self._names.get(expr.func)
        if key is None or not isinstance(expr, AppliedUndef):
            return str(super()._print_Function(expr, exp))
        # a key that already shows its arguments (p(\text{Train}), \hat{g}_j) is printed
        # whole; a function's name (p, \mathcal{L}) gets the arguments after it
        name = key if whole or "(" in key else (
            key + r"{\left(" + ", ".join(self._print(a) for a in expr.args) + r" \right)}")
        return name if exp is None else rf"\left({name}\right)^{{{exp}}}"


def notes_latex(expr: Any, symbols: Mapping[str, Any] | None = None) -> str:
    r"""LaTeX of a SymPy expression (or claim) in the notes' notation, then :func:`tidy_latex`.

    ``symbols`` is a derivation's symbol table (the notes' LaTeX for each SymPy symbol or
    function, ``Derivation.symbols``): each object is printed with the notes' letters, so
    that the symbol ``Phi_{i+N}`` reads :math:`\Phi_{i+N}` and the function ``L``
    reads :math:`\mathcal{L}`. Objects the table does not name keep SymPy's LaTeX.

    Examples
    --------
    >>> x, dt = sp.symbols("x Delta_t")
    >>> L = sp.Function("L")
    >>> notes_latex(sp.Eq(L(x).diff(x) * dt, x**2), {r"\Phi": x, r"\mathcal{L}": L,
    ...                                              r"\Delta t": dt})
    '\\Delta t \\frac{d}{d \\Phi} \\mathcal{L}(\\Phi) = \\Phi^{2}'
    """
    def side(e: Any) -> str:
        return _NotesPrinter(symbols or {}, print_order(e)).doprint(e)

    if hasattr(expr, "lhs") and hasattr(expr, "rhs"):
        text = f"{side(expr.lhs)} = {side(expr.rhs)}"
    else:
        text = side(expr)
    return tidy_latex(text)


def step_claim_latex(r: StepResult, symbols: Mapping[str, Any] | None = None) -> str:
    """LaTeX of the claim the step checks (the notes' claim for an erratum), in the notes'
    notation when ``symbols`` (the derivation's symbol table) is given."""
    if symbols:
        return notes_latex(r.step.claim, symbols)
    return tidy_latex(str(r.step.claim.latex()))


def step_corrected_latex(r: StepResult,
                         symbols: Mapping[str, Any] | None = None) -> str | None:
    """LaTeX of the corrected claim of an erratum, else ``None``."""
    c = r.step.corrected
    if c is None:
        return None
    return notes_latex(c, symbols) if symbols else tidy_latex(str(c.latex()))


def step_reason(r: StepResult) -> str:
    """The step's reason, in words (plain text with pseudo-maths)."""
    return str(r.step.reason)


def step_kind(r: StepResult) -> str | None:
    """The step's kind (definition, computed, rule, erratum) where the kernel has one."""
    kind = getattr(r.step, "kind", None) or getattr(r, "kind", None)
    return None if kind is None else str(kind)


def step_notes_form(r: StepResult,
                    catalogue: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """The notes' own LaTeX for this step: ``[(equation id, latex)]``.

    The displays the kernel compared the step with (``DerivationResult.notes()``) win;
    otherwise ``catalogue`` (equation id to the notes' LaTeX) gives the displays of the
    step's equations, a display the notes repeat on the next slide shown once.
    """
    compared = [(n.equation, n.latex) for n in getattr(r, "notes", ()) if n.latex]
    if compared:  # the display each equation was compared with, as the kernel read it
        return compared
    eqs = tuple(getattr(r.step, "equations", ()) or ())
    by_id = dict(catalogue or {})
    out: list[tuple[str, str]] = []
    for e in eqs:
        if e not in by_id:
            continue
        same = [i for i, (_, latex) in enumerate(out)
                if "".join(latex.split()) == "".join(by_id[e].split())]
        if same:   # the notes repeat a display on the next slide: show it once
            out[same[0]] = (f"{out[same[0]][0]} = {e}", out[same[0]][1])
        else:
            out.append((e, by_id[e]))
    return out


def step_reading(r: StepResult) -> str | None:
    """How the derivation reads an ambiguous display of the notes, where it says so."""
    reading = getattr(r.step, "reading", None)
    return None if not reading else str(reading)


def step_evidence(r: StepResult) -> dict[str, Any]:
    """The evidence of the verdict: check, residual, witness, independence, detail."""
    return {
        "slide": r.step.slide,
        "equations": tuple(getattr(r.step, "equations", ()) or ()),
        "check": r.step.check.describe(),
        "residual": "0" if r.verdict != "fails" else sp.sstr(r.residual),
        "witness_points": r.witness_points,
        "witness_error": r.witness_error,
        "independent": getattr(r, "independent_witness", None),
        "detail": r.detail,
        "erratum": getattr(r.step, "erratum", ""),
    }


def step_check_markdown(step: Step) -> str:
    r"""The description of ``step``'s check as MyST, its maths typeset.

    The check's LaTeX-friendly description (``describe_latex``: maths in ``$...$``) is
    used, its formulas tidied (:func:`tidy_latex`) and its prose read as a reason
    (:func:`reason_markdown`), so no SymPy string (``Derivative(p(Phi), Phi)``) is shown.

    >>> from types import SimpleNamespace
    >>> text = r"by the hypothesis $p{\left(x \right)} = 1$ (because sigma > 0)"
    >>> check = SimpleNamespace(describe_latex=lambda: text)
    >>> step_check_markdown(SimpleNamespace(check=check))
    'by the hypothesis $p(x) = 1$ (because $\\sigma > 0$)'
    """
    text = str(step.check.describe_latex())
    out: list[str] = []
    for k, part in enumerate(re.split(r"(\$[^$]+\$|`[^`]*`)", text)):
        if k % 2 and part.startswith("$"):
            out.append("$" + tidy_latex(part[1:-1]).strip() + "$")
        elif k % 2:
            out.append(part)
        elif part:
            lead = " " if part[:1].isspace() else ""
            trail = " " if part[-1:].isspace() else ""
            out.append(lead + reason_markdown(part) + trail)
    return "".join(out)


def step_label(derivation: str, r: StepResult) -> str:
    """The label of a step, citable from any page: ``step-<derivation>-<id>``.

    >>> step_label("langevin", type("R", (), {"step": type("S", (), {"id": "zero_flux"})})())
    'step-langevin-zero-flux'
    """
    return "step-" + re.sub(r"[^a-z0-9]+", "-", f"{derivation}-{step_id(r)}".lower()).strip("-")


# -- reasons as maths ----------------------------------------------------------------------------
_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "eps", "zeta", "eta", "theta",
          "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "phi", "chi",
          "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi",
          "Psi", "Omega"}
_FUNCS = {"exp": r"\exp", "ln": r"\ln", "log": r"\log", "sqrt": "", "grad": r"\nabla",
          "tr": r"\operatorname{tr}", "div": r"\nabla\cdot", "Var": r"\operatorname{Var}",
          "Hess": r"\nabla^2", "infinity": r"\infty", "sin": r"\sin", "cos": r"\cos",
          "sinh": r"\sinh", "cosh": r"\cosh", "tanh": r"\tanh", "int": r"\int",
          "nabla": r"\nabla", "oo": r"\infty", "ell": r"\ell", "det": r"\det",
          "KL": r"\operatorname{KL}", "diag": r"\operatorname{diag}",
          "chol": r"\operatorname{chol}"}
#: Big operators: maths only with a subscript (``sum_i``); ``the sum of`` is English.
_BIG = {"sum": r"\sum", "prod": r"\prod"}
_DIFFERENTIAL = re.compile(r"d(t|B|W|x|X|y|z|s|u|Phi)")
_ENGLISH_LETTERS = {"a", "A", "I"}
# A subscript: a word or number, a braced or bracketed group (one level of nesting), sqrt(.)
_SUB = r"_(?:\{[^{}]*\}|\((?:[^()]|\([^()]*\))*\)|sqrt\([^()]*\)|[A-Za-z0-9]+)"
_TOKEN = re.compile(rf"(?P<math>[\ue000-\ue7ff])|(?P<text>[\ue800-\uefff])|"
                    rf"(?P<name>(?:[A-Za-z]\d+\b|[A-Za-z]+)(?:{_SUB})*'*)|(?P<num>\d+(?:\.\d+)?)|"
                    r"(?P<op>\.\.\.?|!=|->|<=|>=|\+-|\|\||[-+*/^=<>(),.'|~\[\]])|(?P<sp>\s+)|"
                    r"(?P<other>.)")
_OP_LATEX = {"*": r"\,", "!=": r"\neq ", "->": r"\to ", "<=": r"\le ", ">=": r"\ge ",
             ".": r"\cdot ", "|": r"\mid ", "~": r"\sim ", "[": "[", "]": "]",
             "..": r"\ldots ", "...": r"\ldots ", "+-": r"\pm ", "||": r"\,\|\, "}
_Tok = tuple[str | None, str]


def _base(name: str) -> str:
    return name.split("_")[0].rstrip("'")


def _subscripts(name: str) -> list[str]:
    """The subscripts of a name: ``Phi_(i+1)`` has ``i+1``, ``g_hat_i`` has ``hat``, ``i``."""
    return [m.group()[1:] for m in re.finditer(_SUB, name.rstrip("'"))]


def _is_atom(kind: str | None, val: str) -> bool:
    if kind in ("num", "math"):
        return True
    if kind != "name":
        return False
    b = _base(val)
    return (b in _GREEK or b in _FUNCS or bool(re.fullmatch(r"[A-Za-z]\d*|[a-z][A-Z]", b))
            or bool(_DIFFERENTIAL.fullmatch(b)) or (b in _BIG and "_" in val))


def _is_strong(kind: str | None, val: str) -> bool:
    if kind == "math":
        return True
    if kind == "op":
        return val not in "(),.[]"
    if kind == "name":
        b = _base(val)
        return (b in _GREEK or (b in _FUNCS and b != "KL") or bool(_DIFFERENTIAL.fullmatch(b))
                or (b in _BIG and "_" in val) or "_" in val or bool(re.fullmatch(
                    r"[a-z][A-Z]", b)) or (len(b) == 1 and b not in _ENGLISH_LETTERS))
    return False


def _sub_latex(sub: str, ph: list[str]) -> str:
    if sub.startswith(("(", "{")):
        sub = sub[1:-1]
    if re.fullmatch(r"[A-Za-z][a-z]{2,}", sub) and sub not in _GREEK and sub not in _FUNCS:
        return r"\text{" + sub + "}"          # a word: Z_Langevin, Phi_init
    if re.fullmatch(r"[a-z]{2}", sub):
        return sub                             # indices: S_ij
    return _span_latex(_tokens(sub), ph)


def _name_latex(val: str, ph: list[str] | None = None) -> str:
    ph = ph if ph is not None else []
    primes = len(val) - len(val.rstrip("'"))
    base = _base(val)
    subs = _subscripts(val)
    hat = "hat" in subs
    subs = [x for x in subs if x != "hat"]
    if base == "eps":
        base = "epsilon"
    m = _DIFFERENTIAL.fullmatch(base)
    if m and base != "d":
        out = "d" + _name_latex(m.group(1))
    elif base in _GREEK:
        out = "\\" + base
    elif base in _FUNCS:
        out = _FUNCS[base]
    elif base in _BIG and subs:
        out = _BIG[base]
    elif re.fullmatch(r"[a-z][A-Z]", base):        # nL: a product of two letters
        out = base[0] + " " + base[1]
    elif re.fullmatch(r"[A-Za-z]\d+", base):        # h1: h with index 1
        out = base[0] + "_{" + base[1:] + "}"
    elif len(base) > 1:
        out = r"\text{" + base + "}"
    else:
        out = base
    if hat:
        out = rf"\hat{{{out}}}"
    if subs:
        rendered = [r"\epsilon" if x == "eps" else r"\infty" if x == "infinity"
                    else "\\" + x if x in _GREEK else _sub_latex(x, ph) for x in subs]
        out += "_{" + ",".join(rendered) + "}"
    return out + "'" * primes


def _tokens(text: str) -> list[_Tok]:
    return [(m.lastgroup, m.group()) for m in _TOKEN.finditer(text)]


def _closing(toks: list[_Tok], j: int) -> int:
    depth = 0
    for m in range(j, len(toks)):
        if toks[m][0] == "op":
            depth += {"(": 1, ")": -1}.get(toks[m][1], 0)
        if depth == 0:
            return m
    return len(toks) - 1


def _span_latex(toks: list[_Tok], ph: list[str] | None = None) -> str:
    ph = ph if ph is not None else []
    out: list[str] = []
    i = 0
    while i < len(toks):
        k, v = toks[i]
        nxt = toks[i + 1][1] if i + 1 < len(toks) else ""
        if k == "name" and v == "sqrt" and nxt == "(":
            j = _closing(toks, i + 1)
            out.append(r"\sqrt{" + _span_latex(toks[i + 2:j], ph) + "}")
            i = j + 1
            continue
        if k == "op" and v == "^" and i + 1 < len(toks):
            if nxt == "(":
                j = _closing(toks, i + 1)
                out.append("^{" + _span_latex(toks[i + 2:j], ph) + "}")
                i = j + 1
            elif nxt == "-" and i + 2 < len(toks):
                out.append("^{-" + _span_latex([toks[i + 2]], ph) + "}")
                i += 3
            else:
                out.append("^{" + _span_latex([toks[i + 1]], ph) + "}")
                i += 2
            continue
        if k == "math":
            out.append(ph[ord(v) - 0xE000] + " ")
        elif k == "name":
            out.append(_name_latex(v, ph) + " ")
        elif k == "op":
            out.append(_OP_LATEX.get(v, v))
        elif k == "sp":
            out.append(" ")
        else:
            out.append(v)
        i += 1
    return re.sub(r"\s+", " ", "".join(out)).strip()


def _balance(span: list[_Tok]) -> int:
    return sum({"(": 1, ")": -1}.get(v, 0) for k, v in span if k == "op")


def _unclosed(span: list[_Tok]) -> int | None:
    """The index of the first ``(`` of span that is never closed, if any."""
    stack: list[int] = []
    for i, (k, v) in enumerate(span):
        if k == "op" and v == "(":
            stack.append(i)
        elif k == "op" and v == ")" and stack:
            stack.pop()
    return stack[0] if stack else None


def _trim(span: list[_Tok]) -> tuple[int, list[_Tok]]:
    """Drop what cannot end or start a formula; returns (tokens dropped at the start, span)."""
    head = 0
    while span:
        k, v = span[-1]
        dangling = k == "sp" or (k == "op" and v not in ")]") or (
            k == "name" and v in _ENGLISH_LETTERS)
        if dangling or (_balance(span) < 0 and v == ")"):
            span = span[:-1]
        elif span[0][0] == "sp" or (_balance(span) > 0 and span[0][1] == "("):
            span, head = span[1:], head + 1
        elif _balance(span) > 0 and (cut := _unclosed(span)):
            span = span[:cut]          # "eps (E exp(k eps) at": the formula is "eps"
        else:
            break
    return head, span


def _math_ph(latex: str, ph: list[str]) -> str:
    ph.append(latex)
    return chr(0xE000 + len(ph) - 1)


def _text_ph(markdown: str, texts: list[str]) -> str:
    for n, t in enumerate(texts):           # a code name inside another: one code span
        markdown = markdown.replace(chr(0xE800 + n), t.strip("`"))
    texts.append(markdown)
    return chr(0xE800 + len(texts) - 1)


def _protect(text: str, ph: list[str], texts: list[str]) -> str:
    """Set aside what is not pseudo-maths (code names, equation ids, hyphenated words) and
    typeset derivatives ``dp/dt``, ``d(sigma^2 p)/dPhi`` as fractions."""
    call = r"(?:\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\))?"   # (...), nested twice
    text = re.sub(r"(?<=\w)\.grad\b", " . grad", text)         # (G.grad)^2: G dotted with grad
    text = re.sub(r"(?<=[A-Za-z]{3}) \* ", " \u00d7 ", text)      # drift * Delta t
    text = text.replace("log1p", _math_ph(r"\operatorname{log1p}", ph))
    text = re.sub(r"Derivative\(((?:[^(),]|\([^()]*\))+), (\w+)\)", lambda m: _math_ph(
        rf"\frac{{d}}{{d{_name_latex(m.group(2))}}} " + _span_latex(_tokens(m.group(1)), ph),
        ph), text)
    text = re.sub(r"\b([A-Za-z]+)\*(?:\^(\w+))?(?=$|[\s,.;:)])", lambda m: _math_ph(
        "{" + _name_latex(m.group(1)) + "^{*}}" + (f"^{{{m.group(2)}}}" if m.group(2) else ""),
        ph), text)                                       # eta*, eta*^2: eta-star (squared)
    # code: a dotted name (SDE.fokker_planck(p)), a snake_case name (stationary_density)
    text = re.sub(r"\b[A-Za-z_][A-Za-z0-9_]+(?:\.[A-Za-z_][A-Za-z0-9_]*" + call + ")+",
                  lambda m: _text_ph(f"`{m.group()}`", texts), text)
    text = re.sub(r"\b(?!(?:" + "|".join(sorted(_GREEK)) + r")_)[a-z]{2,}(?:_[a-z]{2,})+\b"
                  + call, lambda m: _text_ph(f"`{m.group()}`", texts), text)
    text = re.sub(r"\bE\d+(?:-E\d+)?\b", lambda m: _text_ph(m.group(), texts), text)
    text = re.sub(r"(?<![\w.])\d+(?:\.\d+)?e[-+]?\d+\b|\b\d+(?:st|nd|rd|th)\b",
                  lambda m: _text_ph(m.group(), texts), text)     # 1e-06, the 4th moment

    def hyphenated(m: re.Match[str]) -> str:
        parts = m.group().split("-")
        if parts[0] in _GREEK or (parts[0] in _FUNCS and len(parts) == 2 and \
                parts[1] in ("free", "like", "th")):
            return m.group()
        if any(re.fullmatch(r"[A-Za-z]{2,}", x) for x in parts) or \
                re.fullmatch(r"\d-D", m.group()):
            return _text_ph(m.group(), texts)
        return m.group()

    text = re.sub(r"(?<![-\w])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+(?![-\w])", hyphenated, text)

    def var(v: str) -> bool:
        return v in _GREEK or bool(re.fullmatch(r"[A-Za-z]", v))

    def derivative(m: re.Match[str]) -> str:
        top, bottom = m.group(1), m.group(2)
        if not var(bottom) or not (top.startswith("(") or var(top)):
            return m.group()
        num = _span_latex(_tokens(top), ph) if top.startswith("(") else _name_latex(top)
        return _math_ph(rf"\frac{{d{num}}}{{d{_name_latex(bottom)}}}", ph)

    return re.sub(r"\bd(\((?:[^()]|\([^()]*\))*\)|[A-Za-z]+)/d([A-Za-z]+)\b", derivative,
                  text)


def reason_markdown(text: str) -> str:
    """A step's plain-text reason as MyST, its pseudo-maths typeset as inline maths.

    Greek names, single letters, subscripts (``Phi_(i+1)``, ``g_hat_i``), powers,
    ``sqrt(...)``, ``exp``, ``grad``, ``sum_i``, derivatives ``dp/dt`` and the operators
    between them become ``$...$``; English words, hyphenated words, equation ids and
    dotted code names stay text.

    Examples
    --------
    >>> reason_markdown("Divide both sides by p > 0.")
    'Divide both sides by $p > 0$.'
    >>> reason_markdown("moves Phi by -g(Phi) Delta t, a step of size sqrt(eta)")
    'moves $\\\\Phi$ by $-g (\\\\Phi ) \\\\Delta t$, a step of size $\\\\sqrt{\\\\eta}$'
    >>> reason_markdown("a conservation law: dp/dt = -dJ/dPhi.")
    'a conservation law: $\\\\frac{dp}{dt} = -\\\\frac{dJ}{d\\\\Phi}$.'
    """
    text = " ".join(str(text).split())
    text = text.replace("i.e.", "\u2460").replace("e.g.", "\u2461").replace("**", "^")
    text = re.sub(r"'s\b", "\u2462", text)
    ph: list[str] = []
    texts: list[str] = []
    text = _protect(text, ph, texts)
    toks = _tokens(text)
    out: list[str] = []
    i = 0
    while i < len(toks):
        k, v = toks[i]
        opens_abs = v == "|" and i + 1 < len(toks) and toks[i + 1][0] != "sp"   # |g| <= G
        if _is_atom(k, v) or (k == "op" and v in ("(", "-", "+-")) or opens_abs:
            j, depth = i, 0
            while j < len(toks):
                kj, vj = toks[j]
                prev = toks[j - 1] if j > 0 else (None, "")
                after = toks[j + 1] if j + 1 < len(toks) else (None, "")
                if kj == "op" and vj == "." and not (prev[0] == "sp" and after[0] == "sp"):
                    break                      # a full stop, not a dot product
                if kj == "op" and vj == "," and depth == 0 and after[0] == "sp":
                    break                      # a comma of the sentence
                word = (kj == "name" and prev[1] == "|" and after[1] == ")")  # p(Phi|Train)
                if not (_is_atom(kj, vj) or kj in ("op", "sp") or word):
                    break
                depth += {"(": 1, ")": -1}.get(vj, 0) if kj == "op" else 0
                j += 1
            head, span = _trim(toks[i:j])
            if span and _balance(span) == 0 and any(_is_strong(*t) for t in span):
                out += [escape_markdown(v2) for _, v2 in toks[i:i + head]]
                out.append("$" + _span_latex(span, ph) + "$")
                i += head + len(span)
                continue
        if k == "math":
            out.append("$" + ph[ord(v) - 0xE000] + "$")
        else:
            out.append(" " if k == "sp" else _SPECIAL.sub(r"\\\1", v))
        i += 1
    md = "".join(out)
    for n in range(len(texts) - 1, -1, -1):   # nested placeholders: the later first
        t = texts[n]
        md = md.replace(chr(0xE800 + n), t if t.startswith("`") else escape_markdown(t))
    return md.replace("\u2460", "i.e.").replace("\u2461", "e.g.").replace("\u2462", "\u2019s")


# -- steps ---------------------------------------------------------------------------------------
def _witness_short(ev: Mapping[str, Any]) -> str:
    err = ev["witness_error"]
    err_text = "n/a" if err is None else f"{err:.0e}"
    indep = {True: ", sides evaluated separately", False: ", not independent"}.get(
        ev["independent"], "")
    return f"{ev['witness_points']} points, largest relative error {err_text}{indep}"


#: Formulas longer than this (in visible characters) put the notes above the claim.
SIDE_BY_SIDE_CHARS = 22
#: A checked claim longer than this (visible characters: more than a line of the column)
#: is a machine expansion rather than a display to read in passing: when it holds it folds
#: with the evidence, and the box shows the reason.
LONG_CLAIM_CHARS = 120


def _visible(latex: str) -> str:
    """Roughly what a formula shows: LaTeX commands, braces and spaces removed."""
    text = re.sub(r"\\(left|right|frac|mathcal|text|operatorname|quad|qquad|,)", "", latex)
    text = re.sub(r"\\([A-Za-z]+)", "x", text)
    return re.sub(r"[{}\s^_]", "", text)


def _merge_repeats(notes: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """One entry per distinct display: the notes repeat a display on the next slide."""
    out: list[tuple[str, str]] = []
    for eid, latex in notes:
        key = "".join(latex.split())
        same = [i for i, (_, seen) in enumerate(out) if "".join(seen.split()) == key]
        if same:
            out[same[0]] = (f"{out[same[0]][0]} = {eid}", out[same[0]][1])
        else:
            out.append((eid, latex))
    return out


def _notes_are_the_claim(r: StepResult) -> bool:
    """Every display of the notes this step names was read as the step's claim itself."""
    forms = list(getattr(r, "notes", ()) or ())
    return bool(forms) and all(n.status in ("same", "transcribed") for n in forms)


def step_myst(r: StepResult, index: int, derivation: str = "",
              catalogue: Mapping[str, str] | None = None,
              symbols: Mapping[str, Any] | None = None) -> str:
    """One step as a MyST admonition.

    The title has the step's number, id and verdict badge and the admonition a label
    (:func:`step_label`) other pages cite with ``{ref}``. Narrative first: a step that
    holds shows the notes' display (from the kernel's comparison or the catalogue), or its
    checked claim when the notes have none and it is not a long expansion
    (:data:`LONG_CLAIM_CHARS`), and the reason as prose with its maths typeset;
    the checked claim, the reading of the notes, the kind and the evidence (check,
    residual, witness) fold into a dropdown. An erratum shows the notes' display beside
    the refuted and the corrected claim.
    ``symbols`` (the derivation's symbol table) prints the claims in the notes' letters
    (:func:`notes_latex`).
    """
    label = step_label(derivation, r) if derivation else None
    title = f"Step {index} · `{step_id(r)}` · {verdict_badge(r.verdict)}"
    kind = step_kind(r)
    out = [f"::::::{{admonition}} {title}",
           f":class: {_ADMONITION.get(r.verdict, 'note')} symsde-step"]
    if label:
        out.append(f":name: {label}")
    out.append("")
    notes = _merge_repeats(step_notes_form(r, catalogue))
    corrected = step_corrected_latex(r, symbols)
    claim = step_claim_latex(r, symbols)
    ids = ", ".join(e for e, _ in notes)
    notes_block = [f"*The notes, {ids}:*", ""]
    for _, latex in notes:
        notes_block += _math(latex)
    # Narrative first: a step that holds shows the notes' display (or, when the notes have
    # none, its claim) and its reason; the checked claim, the reading of the notes, the
    # kind and the evidence fold out below. An erratum or a failing step keeps its claims
    # in view: they are what the reader must see.
    long_claim = not notes and len(_visible(claim)) > LONG_CLAIM_CHARS
    fold_claim = (bool(notes) or long_claim) and r.verdict == "holds"
    if fold_claim:
        out += notes_block if notes else []
    else:
        head = {"erratum": "**The notes' claim, refuted**",
                "fails": "**Checked claim, which fails**"}.get(r.verdict)
        claim_block = [head, *_math(claim)] if head else _math(claim)
        if r.verdict == "erratum" and corrected is not None:
            claim_block += ["**Corrected claim, which holds**", *_math(corrected)]
        if notes:
            # side by side when both fit half the column; one above the other otherwise
            widest = max(len(_visible(x)) for x in [claim, *(n for _, n in notes)])
            cols = "1 1 2 2" if widest <= SIDE_BY_SIDE_CHARS else "1 1 1 1"
            out += [f"::::{{grid}} {cols}", ":gutter: 2",
                    ":class-container: symsde-step-grid", ""]
            out += [":::{grid-item}", ":class: symsde-notes-form", "", *notes_block]
            out += [":::", "", ":::{grid-item}", "", *claim_block, ":::", "::::", ""]
        else:
            out += claim_block
    out.append(reason_markdown(step_reason(r)))
    out.append("")
    ev = step_evidence(r)
    if r.verdict == "erratum" and ev["erratum"]:
        out += [f"**Erratum.** {reason_markdown(ev['erratum'])}", ""]
    if r.verdict == "fails":
        out += [f"**This step fails:** {escape_markdown(r.detail)}", ""]
    out += [":::{dropdown} " + ("Checked claim and evidence" if fold_claim else "Evidence"),
            ":class-container: symsde-evidence", ""]
    reading = step_reading(r)
    if reading:
        out += [f"*How the notes are read here.* {reason_markdown(reading)}", ""]
    if fold_claim and not notes:
        out += [f"The claim the kernel checked ({len(_visible(claim))} symbols long, so "
                "folded here):", *_math(claim)]
    elif fold_claim:
        out += [("The notes' display, read through the derivation's symbol table, is this "
                 "claim, which the kernel checked:") if _notes_are_the_claim(r) else
                ("The claim the kernel checked, which the notes' display states in its own "
                 "form:"), *_math(claim)]
    rows = [("slide", f"*{escape_markdown(ev['slide'])}*")]
    if kind:
        rows.insert(0, ("kind", escape_markdown(kind)))
    if kind == "definition":
        rows.append(("check", "none: a definition introduces a name and claims nothing"))
    else:
        rows += [("check", step_check_markdown(r.step)),
                 ("symbolic residual", f"`{ev['residual']}`"),
                 ("numeric witness", _witness_short(ev))]
    out += [f"- *{k}:* {v}" for k, v in rows]      # a short list: no table chrome
    out += ["", ":::", "::::::"]
    return "\n".join(out) + "\n"


def _counts(res: DerivationResult) -> str:
    parts = [f"{len(res.steps)} steps", f"{res.count('holds')} hold",
             f"{res.count('erratum')} errata", f"{res.count('fails')} fail"]
    return ", ".join(parts) + f" (checked in {res.seconds:.1f} s when this page was built)"


#: Said once per chapter instead of once per step.
WITNESS_NOTE = ("Every step's evidence (folded under its box) names its check, the "
                "symbolic residual, and the numeric witness: both sides evaluated by mpmath "
                f"at {WITNESS_DIGITS} significant digits at random points of a concrete "
                "model, with the largest relative difference found.")


def render_myst(res: DerivationResult,
                catalogue: Mapping[str, str] | None = None) -> str:
    """A verified derivation as HTML-ready Markdown (MyST), the form the book shows.

    One admonition per step (:func:`step_myst`): the notes' display (or the checked claim
    when the notes have none), the verdict badge and the reason with its maths typeset,
    with the checked claim and the evidence folded into a dropdown; then the notes'
    displays that only define notation.

    Examples
    --------
    >>> import sympy as sp
    >>> from symsde.proof import Claim, Derivation, Identity
    >>> x = sp.Symbol("x")
    >>> d = Derivation("demo", "A demo")
    >>> _ = d.step("square", Claim((x + 1)**2, x**2 + 2*x + 1), "Expand the square.",
    ...            slide="Demo", check=Identity())
    >>> md = render_myst(d.verify())
    >>> "{bdg-success}`holds`" in md, "= x^{2} + 2 x + 1" in md, ":name: step-demo-square" in md
    (True, True, True)
    """
    d = res.derivation
    res.notes()  # compare the steps with the notes, so each box shows the display it matched
    out = [f"**`derivations.{d.name}`: {escape_markdown(d.title)}.** {_counts(res)}. "
           + WITNESS_NOTE, ""]
    for i, r in enumerate(res.steps, 1):
        out.append(step_myst(r, i, d.name, catalogue, getattr(d, "symbols", None)))
    if d.notation:
        out.append("Displayed equations of the notes that define notation rather than "
                   "claim something, and so have no check:")
        out.append("")
        for df in d.notation:
            out.append(f"- {df.equation} (slide *{escape_markdown(df.slide)}*): "
                       f"{reason_markdown(df.why_not_a_claim)}")
        out.append("")
    return "\n".join(out)
