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

from symsde.proof.witness import WITNESS_DIGITS

if TYPE_CHECKING:
    from symsde.proof.kernel import DerivationResult, StepResult

__all__ = [
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
        out.append(f"    {sp.latex(claim.lhs)} {rel} {sp.latex(claim.rhs)}")
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

    def __init__(self, symbols: Mapping[str, Any]) -> None:
        super().__init__()
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
    printer = _NotesPrinter(symbols or {})
    if hasattr(expr, "lhs") and hasattr(expr, "rhs"):
        text = f"{printer.doprint(expr.lhs)} = {printer.doprint(expr.rhs)}"
    else:
        text = printer.doprint(expr)
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


def step_check_markdown(r: StepResult) -> str:
    """The check's description as MyST: an ODE it solves is typeset, not printed by sstr."""
    check = r.step.check
    text = str(check.describe())
    raw = getattr(check, "ode", None)
    if raw is not None:
        eq = raw if isinstance(raw, sp.Equality) else sp.Eq(raw, 0)
        printed = sp.sstr(eq)
        if printed in text:
            before, after = text.split(printed, 1)
            return (escape_markdown(before) + f" ${tidy_latex(sp.latex(eq))}$ "
                    + reason_markdown(after))
    return escape_markdown(text)


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
          "Hess": r"\nabla^2", "infinity": r"\infty", "sin": r"\sin", "cos": r"\cos"}
_DIFFERENTIAL = re.compile(r"d(t|B|W|x|X|u|Phi)")
_ENGLISH_LETTERS = {"a", "A", "I"}
_TOKEN = re.compile(r"(?P<name>[A-Za-z]+(?:_[A-Za-z0-9]+)?'*)|(?P<num>\d+(?:\.\d+)?)|"
                    r"(?P<op>!=|->|<=|>=|[-+*/^=<>(),.'|~\[\]])|(?P<sp>\s+)|(?P<other>.)")
_OP_LATEX = {"*": r"\,", "!=": r"\neq ", "->": r"\to ", "<=": r"\le ", ">=": r"\ge ",
             ".": r"\cdot ", "|": r"\mid ", "~": r"\sim ", "[": "[", "]": "]"}


def _base(name: str) -> str:
    return name.split("_")[0].rstrip("'")


def _is_atom(kind: str | None, val: str) -> bool:
    if kind == "num":
        return True
    if kind != "name":
        return False
    b = _base(val)
    return (b in _GREEK or b in _FUNCS or bool(re.fullmatch(r"[A-Za-z]", b))
            or bool(_DIFFERENTIAL.fullmatch(b)))


def _is_strong(kind: str | None, val: str) -> bool:
    if kind == "op":
        return val not in "(),.[]"
    if kind == "name":
        b = _base(val)
        return (b in _GREEK or b in _FUNCS or bool(_DIFFERENTIAL.fullmatch(b))
                or (len(b) == 1 and b not in _ENGLISH_LETTERS))
    return False


def _name_latex(val: str) -> str:
    primes = len(val) - len(val.rstrip("'"))
    base, _, sub = val.rstrip("'").partition("_")
    if sub == "hat":
        return rf"\hat{{{_name_latex(base)}}}" + "'" * primes
    if base == "eps":
        base = "epsilon"
    m = _DIFFERENTIAL.fullmatch(base)
    if m and base != "d":
        out = "d" + _name_latex(m.group(1))
    elif base in _GREEK:
        out = "\\" + base
    elif base in _FUNCS:
        out = _FUNCS[base]
    else:
        out = base
    if sub == "eps":
        sub = "epsilon"
    if sub:
        out += "_{" + ("\\" + sub if sub in _GREEK else
                       r"\infty" if sub == "infinity" else sub) + "}"
    return out + "'" * primes


def _closing(toks: list[tuple[str | None, str]], j: int) -> int:
    depth = 0
    for m in range(j, len(toks)):
        if toks[m][0] == "op":
            depth += {"(": 1, ")": -1}.get(toks[m][1], 0)
        if depth == 0:
            return m
    return len(toks) - 1


def _span_latex(toks: list[tuple[str | None, str]]) -> str:
    out: list[str] = []
    i = 0
    while i < len(toks):
        k, v = toks[i]
        nxt = toks[i + 1][1] if i + 1 < len(toks) else ""
        if k == "name" and v == "sqrt" and nxt == "(":
            j = _closing(toks, i + 1)
            out.append(r"\sqrt{" + _span_latex(toks[i + 2:j]) + "}")
            i = j + 1
            continue
        if k == "op" and v == "^" and i + 1 < len(toks):
            if nxt == "(":
                j = _closing(toks, i + 1)
                out.append("^{" + _span_latex(toks[i + 2:j]) + "}")
                i = j + 1
            elif nxt == "-" and i + 2 < len(toks):
                out.append("^{-" + _span_latex([toks[i + 2]]) + "}")
                i += 3
            else:
                out.append("^{" + _span_latex([toks[i + 1]]) + "}")
                i += 2
            continue
        if k == "name":
            out.append(_name_latex(v) + " ")
        elif k == "op":
            out.append(_OP_LATEX.get(v, v))
        elif k == "sp":
            out.append(" ")
        else:
            out.append(v)
        i += 1
    return re.sub(r"\s+", " ", "".join(out)).strip()


def _balance(span: list[tuple[str | None, str]]) -> int:
    return sum({"(": 1, ")": -1}.get(v, 0) for k, v in span if k == "op")


def _trim(span: list[tuple[str | None, str]]) -> tuple[int, list[tuple[str | None, str]]]:
    """Drop what cannot end or start a formula; returns (tokens dropped at the start, span)."""
    head = 0
    while span:
        k, v = span[-1]
        dangling = k == "sp" or (k == "op" and v in ",.:;([") or (
            k == "name" and v in _ENGLISH_LETTERS)
        if dangling or (_balance(span) < 0 and v == ")"):
            span = span[:-1]
        elif span[0][0] == "sp" or (_balance(span) > 0 and span[0][1] == "("):
            span, head = span[1:], head + 1
        else:
            break
    return head, span


def reason_markdown(text: str) -> str:
    """A step's plain-text reason as MyST, its pseudo-maths typeset as inline maths.

    Greek names, single letters, powers, ``sqrt(...)``, ``exp``, ``grad`` and the operators
    between them become ``$...$``; English words stay as they are.

    Examples
    --------
    >>> reason_markdown("Divide both sides by p > 0.")
    'Divide both sides by $p > 0$.'
    >>> reason_markdown("moves Phi by -g(Phi) Delta t, a step of size sqrt(eta)")
    'moves $\\\\Phi$ by $-g (\\\\Phi ) \\\\Delta t$, a step of size $\\\\sqrt{\\\\eta}$'
    """
    text = " ".join(str(text).split())
    text = text.replace("i.e.", "\u2460").replace("e.g.", "\u2461").replace("**", "^")
    text = re.sub(r"(?<=[A-Za-z]{2})-(?=[A-Za-z]{2})|(?<=\d)-(?=D\b)", "\u2011", text)
    text = re.sub(r"'s\b", "\u2462", text)
    toks = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(text)]
    out: list[str] = []
    i = 0
    while i < len(toks):
        k, v = toks[i]
        if _is_atom(k, v) or (k == "op" and v in "(-"):
            j = i
            while j < len(toks) and (_is_atom(*toks[j]) or toks[j][0] in ("op", "sp")):
                j += 1
            head, span = _trim(toks[i:j])
            if span and _balance(span) == 0 and any(_is_strong(*t) for t in span):
                out += [escape_markdown(v2) for _, v2 in toks[i:i + head]]
                out.append("$" + _span_latex(span) + "$")
                i += head + len(span)
                continue
        out.append(" " if k == "sp" else _SPECIAL.sub(r"\\\1", v))
        i += 1
    return "".join(out).replace("\u2011", "-").replace("\u2460", "i.e.").replace(
        "\u2461", "e.g.").replace("\u2462", "\u2019s")


# -- steps ---------------------------------------------------------------------------------------
def _witness_short(ev: Mapping[str, Any]) -> str:
    err = ev["witness_error"]
    err_text = "n/a" if err is None else f"{err:.0e}"
    indep = {True: ", sides evaluated separately", False: ", not independent"}.get(
        ev["independent"], "")
    return f"{ev['witness_points']} points, largest relative error {err_text}{indep}"


#: Formulas longer than this (in visible characters) put the notes above the claim.
SIDE_BY_SIDE_CHARS = 22


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
    (:func:`step_label`) other pages cite with ``{ref}``. The notes' display (from the
    catalogue) stands beside the checked claim, the reason follows as prose with its maths
    typeset, and the evidence (check, residual, witness) is folded into a dropdown.
    ``symbols`` (the derivation's symbol table) prints the claims in the notes' letters
    (:func:`notes_latex`).
    """
    label = step_label(derivation, r) if derivation else None
    title = f"Step {index} · `{step_id(r)}` · {verdict_badge(r.verdict)}"
    kind = step_kind(r)
    if kind:
        title += f" · *{escape_markdown(kind)}*"
    out = [f"::::::{{admonition}} {title}",
           f":class: {_ADMONITION.get(r.verdict, 'note')} symsde-step"]
    if label:
        out.append(f":name: {label}")
    out.append("")
    notes = _merge_repeats(step_notes_form(r, catalogue))
    corrected = step_corrected_latex(r, symbols)
    claim = step_claim_latex(r, symbols)
    claim_title = ("**The notes' claim, refuted**" if r.verdict == "erratum"
                   else "**Checked claim**")
    claim_block = [claim_title, *_math(claim)]
    if r.verdict == "erratum" and corrected is not None:
        claim_block += ["**Corrected claim, which holds**", *_math(corrected)]
    # When the kernel read every display of the notes as this very claim, the notes' form
    # is what the reader sees and the claim in SymPy's form joins the evidence, folded.
    fold_claim = bool(notes) and r.verdict == "holds" and _notes_are_the_claim(r)
    ids = ", ".join(e for e, _ in notes)
    if fold_claim:
        out.append(f"**The notes** ({ids}, slide *{escape_markdown(r.step.slide)}*)")
        for _, latex in notes:
            out += _math(latex)
    elif notes:
        # side by side when both fit half the column; one above the other otherwise
        widest = max(len(_visible(x)) for x in [claim, *(n for _, n in notes)])
        cols = "1 1 2 2" if widest <= SIDE_BY_SIDE_CHARS else "1 1 1 1"
        out += [f"::::{{grid}} {cols}", ":gutter: 2", ":class-container: symsde-step-grid", ""]
        out += [":::{grid-item}", ":class: symsde-notes-form", ""]
        out.append(f"**The notes** ({ids}, slide *{escape_markdown(r.step.slide)}*)")
        for _, latex in notes:
            out += _math(latex)
        out += [":::", "", ":::{grid-item}", ""]
        out += claim_block
        out += [":::", "::::", ""]
    else:
        out += claim_block
    out.append(reason_markdown(step_reason(r)))
    out.append("")
    reading = step_reading(r)
    if reading:
        out += [f"*How the notes are read here.* {reason_markdown(reading)}", ""]
    ev = step_evidence(r)
    if r.verdict == "erratum" and ev["erratum"]:
        out += [f"**Erratum.** {reason_markdown(ev['erratum'])}", ""]
    if r.verdict == "fails":
        out += [f"**This step fails:** {escape_markdown(r.detail)}", ""]
    out += [":::{dropdown} " + ("Checked claim and evidence" if fold_claim else "Evidence"),
            ":class-container: symsde-evidence", ""]
    if fold_claim:
        out += ["The notes' display, read through the derivation's symbol table, is this "
                "claim, which the kernel checked:", *_math(claim)]
    rows = [("slide", f"*{escape_markdown(ev['slide'])}*")]
    if step_kind(r) == "definition":
        rows.append(("check", "none: a definition introduces a name and claims nothing"))
    else:
        rows += [("check", step_check_markdown(r)),
                 ("symbolic residual", f"`{ev['residual']}`"),
                 ("numeric witness", _witness_short(ev))]
    out += ["| | |", "| --- | --- |"]
    out += [f"| {k} | {v} |" for k, v in rows]
    out += ["", ":::", "::::::"]
    return "\n".join(out) + "\n"


def _counts(res: DerivationResult) -> str:
    parts = [f"{len(res.steps)} steps", f"{res.count('holds')} hold",
             f"{res.count('erratum')} errata", f"{res.count('fails')} fail"]
    return ", ".join(parts) + f" (checked in {res.seconds:.1f} s when this page was built)"


#: Said once per chapter instead of once per step.
WITNESS_NOTE = ("Every step's evidence (folded under *Evidence*) names its check, the "
                "symbolic residual, and the numeric witness: both sides evaluated by mpmath "
                "at 50 significant digits at random points of a concrete model, with the "
                "largest relative difference found.")


def render_myst(res: DerivationResult,
                catalogue: Mapping[str, str] | None = None) -> str:
    """A verified derivation as HTML-ready Markdown (MyST), the form the book shows.

    One admonition per step (:func:`step_myst`): the notes' display beside the checked
    claim, the verdict badge, the reason with its maths typeset, and the evidence folded
    into a dropdown; then the notes' displays that only define notation.

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
