"""Display helpers for the symsde book (the Jupyter Book under ``book/``).

Every page of the book is a MyST Markdown notebook executed at build time, and what it
shows comes from these helpers, so a page cannot show a result the code no longer gives:

- :func:`show_steps` renders a derivation's steps from the :class:`~symsde.proof.Derivation`
  object itself (each claim as SymPy's LaTeX, its verdict, reason, check and witness, and
  the erratum with the corrected claim);
- :func:`show_trials` lists statistical comparisons of simulations with predictions and
  raises when one of them does not come out as required;
- :func:`errata_markdown` turns the JSON of ``symsde verify --json`` into the errata page;
- :func:`run_cli` runs the command line and prints what it printed.

The ``*_markdown`` functions return MyST Markdown strings (they need no IPython); the
``show_*`` functions display them in a notebook.

Examples
--------
>>> escape_markdown("p'/p = (ln p)' and sigma^2 * t")
"p'/p = (ln p)' and sigma^2 \\\\* t"
>>> verdict_badge("erratum")
'{bdg-warning}`erratum`'
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from symsde import registry as _registry
from symsde.confirm import Confirmation
from symsde.proof import Derivation, DerivationResult, StepResult

__all__ = [
    "CHAPTERS",
    "Trial",
    "catalogue_markdown",
    "coverage_markdown",
    "derivation_or_none",
    "errata_markdown",
    "escape_markdown",
    "experiment_markdown",
    "figure_style",
    "legend_below",
    "missing_markdown",
    "run_cli",
    "run_confirm",
    "show",
    "show_catalogue",
    "show_experiment",
    "show_steps",
    "show_trials",
    "step_markdown",
    "steps_markdown",
    "summary_markdown",
    "trials_markdown",
    "verdict_badge",
    "verify_json",
]

#: The book's chapters: the registered derivation modules, in the order of the notes
#: (the two beyond-the-notes modules come last in the registry too).
CHAPTERS: tuple[str, ...] = _registry.derivation_names()

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


def show(markdown: str) -> None:
    """Display MyST Markdown in a notebook (rendered by myst-nb at build time)."""
    from IPython.display import Markdown, display

    display(Markdown(markdown))


# -- derivations ---------------------------------------------------------------------------------
def derivation_or_none(name: str) -> Derivation | None:
    """The registered derivation ``name``, or ``None`` when its module is not registered.

    Any other problem (an import error, a ``derivation()`` that raises) propagates, so a
    broken module fails the book's build instead of leaving an empty chapter.
    """
    from symsde.registry import derivation_names, load

    if name not in derivation_names():
        return None
    (d,) = load([name])
    return d


def missing_markdown(name: str) -> str:
    """The notice a chapter shows while its derivation module is not registered."""
    return (
        ":::{warning}\n"
        f"The derivation module `derivations.{name}` is not in `derivations.REGISTRY` yet, "
        "so this chapter cannot show its machine-checked steps. They will appear here, "
        "rendered from the derivation object, as soon as the module is registered.\n"
        ":::\n"
    )


def _math(latex: str) -> list[str]:
    return ["", "$$", latex, "$$", ""]


# -- reading a step: the only place that knows the kernel's field names ---------------------------
# The proof kernel is being reworked (definition steps, notes_form, reading); these accessors
# are what the rendering below uses, so adapting the book to a new kernel touches only them.
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
    latex = re.sub(r"_\{([a-z]{3,}(?: [a-z]+)*)\}", r"_{\\text{\1}}", latex)
    return latex.replace(r"\log", r"\ln")


def step_claim_latex(r: StepResult) -> str:
    """LaTeX of the claim the step checks (the notes' claim for an erratum)."""
    return tidy_latex(str(r.step.claim.latex()))


def step_corrected_latex(r: StepResult) -> str | None:
    """LaTeX of the corrected claim of an erratum, else ``None``."""
    c = r.step.corrected
    return None if c is None else tidy_latex(str(c.latex()))


def step_reason(r: StepResult) -> str:
    """The step's reason, in words (plain text with pseudo-maths)."""
    return str(r.step.reason)


def step_kind(r: StepResult) -> str | None:
    """The step's kind (definition, computed, rule, erratum) where the kernel has one."""
    kind = getattr(r.step, "kind", None) or getattr(r, "kind", None)
    return None if kind is None else str(kind)


def step_notes_form(r: StepResult) -> list[tuple[str, str]]:
    """The notes' own LaTeX for this step: ``[(equation id, latex)]``.

    A kernel field ``notes_form`` wins; otherwise the catalogue's displays of the step's
    equations.
    """
    compared = [(n.equation, n.latex) for n in getattr(r, "notes", ()) if n.latex]
    if compared:  # the display each equation was compared with, as the kernel read it
        return compared
    eqs = tuple(getattr(r.step, "equations", ()) or ())
    by_id = {eid: latex for eid, _, latex in _registry.equations()}
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


def step_markdown(r: StepResult, index: int, derivation: str = "") -> str:
    """One step as a MyST admonition.

    The title has the step's number, id and verdict badge and the admonition a label
    (:func:`step_label`) other pages cite with ``{ref}``. The notes' display (from the
    catalogue) stands beside the checked claim, the reason follows as prose with its maths
    typeset, and the evidence (check, residual, witness) is folded into a dropdown.
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
    notes = step_notes_form(r)
    corrected = step_corrected_latex(r)
    claim_title = ("**The notes' claim, refuted**" if r.verdict == "erratum"
                   else "**Checked claim**")
    claim_block = [claim_title, *_math(step_claim_latex(r))]
    if r.verdict == "erratum" and corrected is not None:
        claim_block += ["**Corrected claim, which holds**", *_math(corrected)]
    if notes:
        # side by side when both fit half the column; one above the other otherwise
        widest = max(len(_visible(x)) for x in [step_claim_latex(r), *(n for _, n in notes)])
        cols = "1 1 2 2" if widest <= SIDE_BY_SIDE_CHARS else "1 1 1 1"
        out += [f"::::{{grid}} {cols}", ":gutter: 2", ":class-container: symsde-step-grid", ""]
        out += [":::{grid-item}", ":class: symsde-notes-form", ""]
        ids = ", ".join(e for e, _ in notes)
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
    out += [":::{dropdown} Evidence", ":class-container: symsde-evidence", ""]
    rows = [("slide", f"*{escape_markdown(ev['slide'])}*"),
            ("check", step_check_markdown(r)),
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


def steps_markdown(d: Derivation) -> str:
    """Every step of a derivation, verified now, as MyST Markdown.

    Examples
    --------
    >>> import sympy as sp
    >>> from symsde.proof import Claim, Derivation, Identity
    >>> x = sp.Symbol("x")
    >>> d = Derivation("demo", "A demo")
    >>> _ = d.step("square", Claim((x + 1)**2, x**2 + 2*x + 1), "Expand the square.",
    ...            slide="Demo", check=Identity())
    >>> md = steps_markdown(d)
    >>> "{bdg-success}`holds`" in md, "= x^{2} + 2 x + 1" in md, ":name: step-demo-square" in md
    (True, True, True)
    """
    res = d.verify()
    res.notes()  # compare the steps with the notes, so each box shows the display it matched
    out = [f"**`derivations.{d.name}`: {escape_markdown(d.title)}.** {_counts(res)}. "
           + WITNESS_NOTE, ""]
    for i, r in enumerate(res.steps, 1):
        out.append(step_markdown(r, i, d.name))
    if d.notation:
        out.append("Displayed equations of the notes that define notation rather than "
                   "claim something, and so have no check:")
        out.append("")
        for df in d.notation:
            out.append(f"- {df.equation} (slide *{escape_markdown(df.slide)}*): "
                       f"{reason_markdown(df.why_not_a_claim)}")
        out.append("")
    return "\n".join(out)


def show_steps(name: str, *, require_ok: bool = True, require_registered: bool = True) -> None:
    """Verify the derivation ``name`` and display its steps.

    Raises ``AssertionError`` when a step fails and ``require_ok`` is true, and
    ``LookupError`` when the module is not registered and ``require_registered`` is true
    (otherwise the page shows :func:`missing_markdown`), so the book cannot be built over a
    derivation that is missing or no longer holds. Returns nothing, so that a notebook
    cell ending with it shows only the rendered steps.
    """
    d = derivation_or_none(name)
    if d is None:
        if require_registered:
            raise LookupError(f"derivations.{name} is not in derivations.REGISTRY; its "
                              "chapter cannot show its steps")
        show(missing_markdown(name))
        return
    res = d.verify()
    show(steps_markdown(d))
    if require_ok and not res.ok:
        failing = ", ".join(r.step.id for r in res.steps if r.verdict == "fails")
        raise AssertionError(f"derivation {name!r}: steps fail: {failing}")


def catalogue_markdown(name: str) -> str:
    """The notes' displayed equations that the derivation ``name`` accounts for.

    The LaTeX is the notes' as catalogued in ``derivations/_catalogue.py``; shown in a
    dropdown so the chapter can be read against the notes.
    """
    d = derivation_or_none(name)
    if d is None:
        return ""
    catalogue = _registry.equations([name])  # the displays of the part's lecture
    ids: list[str] = []
    for s in d.steps:
        ids += [e for e in s.equations if e not in ids]
    ids += [df.equation for df in d.notation if df.equation not in ids]
    rows = [e for e in catalogue if e[0] in ids]
    if not rows:
        return ""
    out = [f":::{{dropdown}} The notes' displayed equations in this chapter ({len(rows)})"]
    for eid, slide, latex in rows:
        out.append(f"**{eid}** (*{escape_markdown(slide)}*)")
        out += _math(latex)
    out.append(":::")
    return "\n".join(out) + "\n"


def show_catalogue(name: str) -> None:
    """Display :func:`catalogue_markdown` (nothing when the module is not registered)."""
    md = catalogue_markdown(name)
    if md:
        show(md)


def summary_markdown(chapters: Sequence[str] = CHAPTERS) -> str:
    """A table of the chapters' derivations: steps, holds, errata, fails, seconds."""
    rows = ["| chapter | derivation | steps | holds | errata | fails |",
            "| --- | --- | ---: | ---: | ---: | ---: |"]
    totals = [0, 0, 0, 0]
    for i, name in enumerate(chapters, 1):
        d = derivation_or_none(name)
        if d is None:
            rows.append(f"| {i} | `{name}`: not registered yet | | | | |")
            continue
        r = d.verify()
        nums = [len(r.steps), r.count("holds"), r.count("erratum"), r.count("fails")]
        totals = [a + b for a, b in zip(totals, nums, strict=True)]
        rows.append(f"| {i} | `{name}`: {escape_markdown(d.title)} | "
                    + " | ".join(str(v) for v in nums) + " |")
    rows.append("| | **total** | " + " | ".join(f"**{v}**" for v in totals) + " |")
    return "\n".join(rows) + "\n"


# -- figures ----------------------------------------------------------------------------------
#: Matplotlib settings of every figure in the book. Figures are drawn at 100 dpi and at most
#: 10 inches wide, so at the book's column width (about 730 px at a 1280 px window) they are
#: shown at 70 % or more of their size: LEGEND_PT points (15.3 px at 100 dpi) stay above
#: 10 px on screen. The browser check recomputes this from each image's displayed width.
LEGEND_PT = 11
FIGURE_DPI = 100
FIGURE_RC: dict[str, Any] = {
    "figure.dpi": FIGURE_DPI, "font.size": 12, "legend.fontsize": LEGEND_PT,
    "axes.titlesize": 12, "axes.labelsize": 12, "axes.grid": True, "grid.alpha": 0.3,
    "figure.constrained_layout.use": True,
}


def figure_style() -> None:
    """Apply :data:`FIGURE_RC` (fonts, dpi, constrained layout) to matplotlib."""
    import matplotlib.pyplot as plt

    plt.rcParams.update(FIGURE_RC)


def legend_below(ax: Any, ncol: int = 1) -> Any:
    """A legend under the axes, below its tick labels and x label: never over the data.

    The gap is a fixed distance (``borderaxespad`` in units of the legend's font size, about
    the height of the tick labels and the axis label), so it does not depend on the size of
    the axes; constrained layout then makes room for it.
    """
    return ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), borderaxespad=3.6,
                     ncol=ncol, frameon=False)


# -- simulations ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trial:
    """A statistical comparison shown on a page, and whether it must pass or be rejected."""

    claim: str
    result: Confirmation
    expect: bool = True


def _outcome(text: str) -> tuple[str, str]:
    """A test's one-line outcome split into (statistic, verdict word)."""
    text = " ".join(str(text).split())
    m = re.match(r"(.*?)[;:,]?\s*(consistent|REJECTED|rejected|not rejected)\b\.?(.*)$", text)
    if m is None:
        return text, ""
    return (m.group(1) + (" " + m.group(3) if m.group(3).strip() else "")).strip(), m.group(2)


def trials_markdown(trials: Iterable[Trial]) -> str:
    """The comparisons as a table: verdict, what is compared, the test's statistic.

    Examples
    --------
    >>> import numpy as np
    >>> from symsde.confirm import mean_test
    >>> s = np.random.default_rng(0).standard_normal(10_000)
    >>> print(trials_markdown([Trial("the mean is 0", mean_test(s, 0.0)),
    ...                        Trial("the mean is 1", mean_test(s, 1.0), expect=False)]))
    | verdict | prediction | test |
    | --- | --- | --- |
    | {bdg-success}`confirmed` | the mean is 0 | mean: estimate ... |
    | {bdg-success}`rejected, as it must be` | the mean is 1 | mean: estimate ... |
    <BLANKLINE>
    """
    out = ["| verdict | prediction | test |", "| --- | --- | --- |"]
    for t in trials:
        ok = t.result.verdict == t.expect
        if t.expect:
            badge = "{bdg-success}`confirmed`" if ok else "{bdg-danger}`not confirmed`"
        else:
            badge = "{bdg-success}`rejected, as it must be`" if ok else \
                "{bdg-danger}`not rejected`"
        stat, _word = _outcome(t.result.text)
        out.append(f"| {badge} | {reason_markdown(t.claim)} | "
                   f"{escape_markdown(stat).replace('|', '/')} |")
    return "\n".join(out) + "\n"


def show_trials(trials: Sequence[Trial]) -> None:
    """Display the comparisons; raise if one did not come out as required."""
    show(trials_markdown(trials))
    wrong = [t for t in trials if t.result.verdict != t.expect]
    if wrong:
        raise AssertionError("; ".join(f"{t.claim}: {t.result.text}" for t in wrong))


def experiment_markdown(exp: Any) -> str:
    """A :class:`symsde.experiment.Experiment` (a module's ``confirm(seed)``) as a list."""
    trials = [Trial(t.claim, t.result, True) for t in exp.confirmations]
    trials += [Trial(t.claim, t.result, False) for t in exp.power]
    head = (f"`confirm(seed={exp.seed})` of `derivations.{exp.derivation}` "
            f"({exp.seconds:.1f} s): {len(exp.confirmations)} predictions confirmed by "
            f"simulation, {len(exp.power)} wrong predictions that the same tests reject.")
    return head + "\n\n" + trials_markdown(trials)


def run_confirm(name: str, seed: int = 0) -> Any:
    """Run ``derivations.<name>.confirm(seed)``: the module's experiment, or ``None``.

    ``None`` when the module is not registered or has no ``confirm`` yet. Raises
    ``AssertionError`` when the experiment is not ``ok`` (a prediction not confirmed or a
    wrong prediction not rejected), so the book cannot show a failed confirmation.
    """
    from symsde.registry import derivation_names

    if name not in derivation_names():
        return None
    mod = _registry.load_module(name)
    if not hasattr(mod, "confirm"):
        return None
    exp = mod.confirm(seed)
    if not exp.ok:
        failed = [t.claim for t in exp.confirmations if not t.result.verdict]
        failed += [f"(not rejected) {t.claim}" for t in exp.power if t.result.verdict]
        raise AssertionError(f"confirm({seed}) of {name!r} is not ok: {failed}")
    return exp


def show_experiment(experiment: Any, seed: int = 0) -> None:
    """Display an experiment's comparisons.

    ``experiment`` is a :class:`~symsde.experiment.Experiment`, or a derivation name whose
    ``confirm(seed)`` is run first (:func:`run_confirm`); nothing is shown when there is no
    experiment.
    """
    exp = run_confirm(experiment, seed) if isinstance(experiment, str) else experiment
    if exp is not None:
        show(experiment_markdown(exp))


# -- the command line and the errata --------------------------------------------------------------
def run_cli(*args: str, expect: int = 0, timeout: float = 600.0,
            max_lines: int | None = None) -> str:
    """Run ``symsde ARGS`` in a fresh interpreter, print the command and what it printed.

    Raises ``RuntimeError`` when the exit code is not ``expect``. Returns stdout.
    """
    proc = subprocess.run([sys.executable, "-m", "symsde.cli", *args], capture_output=True,
                          text=True, timeout=timeout, check=False)
    print(f"$ symsde {shlex.join(args)}")
    text = proc.stdout.rstrip("\n")
    lines = text.splitlines()
    if max_lines is not None and len(lines) > max_lines:
        text = "\n".join([*lines[:max_lines], f"... ({len(lines) - max_lines} more lines)"])
    if text:
        print(text)
    if proc.stderr.strip():
        print(f"[stderr] {proc.stderr.strip()}")
    print(f"[exit code {proc.returncode}]")
    if proc.returncode != expect:
        raise RuntimeError(f"symsde {shlex.join(args)} exited {proc.returncode}, expected "
                           f"{expect}: {proc.stderr.strip()}")
    return proc.stdout


def verify_json(*names: str) -> dict[str, Any]:
    """The document printed by ``symsde verify --json --symbolic-only [NAMES]``."""
    proc = subprocess.run([sys.executable, "-m", "symsde.cli", "verify", "--json",
                           "--symbolic-only", *names], capture_output=True, text=True,
                          timeout=1200, check=False)
    if proc.returncode not in (0, 1) or not proc.stdout.strip():
        raise RuntimeError(f"symsde verify --json failed ({proc.returncode}): "
                           f"{proc.stderr.strip()}")
    return json.loads(proc.stdout)


#: Errata steps that record the same mistake of the notes as an earlier step: shown with it,
#: counted once. (The noise level sigma^2 = 1/(2n) is one mistake; the density it gives is
#: its consequence.)
SAME_MISTAKE: dict[tuple[str, str], tuple[str, str]] = {
    ("bayes_posterior", "langevin-equals-posterior"): ("bayes_posterior", "matching-noise"),
}

#: What a reader needs before an erratum's formulas: the symbols they use, and when the
#: checked form is not a formula the notes wrote, which formula of the notes it reads.
ERRATUM_CONTEXT: dict[tuple[str, str], str] = {
    ("diffusion_flow", "multidim-eta"): (
        "The check writes the notes' E66 out in two dimensions, $x$ and $y$, for the SGD "
        "SDE $d\\Phi = -g\\,dt + \\sqrt{\\eta}\\,\\sigma\\,dB$ with a constant noise "
        "covariance $\\Sigma = \\sigma\\sigma^\\top = \\begin{pmatrix} a & b \\\\ b & c "
        "\\end{pmatrix}$: $a$ and $c$ are the noise variances of the two coordinates and $b$ "
        "their covariance. With these symbols the notes' diffusion flow "
        "$-\\tfrac12\\Sigma\\nabla p$ is"),
    ("diffusion_flow", "state-dependent-noise"): (
        "The notes write $-\\tfrac12\\Sigma\\nabla_x p_x$ (E66) and say nothing about a "
        "noise covariance that depends on the parameters, although the SGD SDE's "
        "$\\sigma(\\Phi)$ does. The formula checked here is *not the notes'*: it is what "
        "E66 becomes once the previous erratum's factor $\\eta$ is put in and $\\Sigma$ "
        "is allowed to depend on $x$, the reading a reader of the notes would make. In "
        "one dimension that reading is"),
}


def _erratum_claims(s: Mapping[str, Any], intro: str | None) -> list[str]:
    out = [intro or "The notes have"]
    out += _math(tidy_latex(s["claim"]["latex"]))
    out.append("and the corrected claim is")
    out += _math(tidy_latex(s["corrected"]["latex"]))
    return out


def errata_markdown(doc: Mapping[str, Any], chapters: str | None = "/chapters") -> str:
    """The errata page's body from the JSON of ``symsde verify --json``.

    Each erratum shows the notes' claim and the corrected claim (LaTeX from the JSON), the
    explanation and the check that decided it. Failing steps, if any, are listed first.
    Steps that record the same mistake (:data:`SAME_MISTAKE`) are shown as one erratum,
    and :data:`ERRATUM_CONTEXT` introduces the symbols an erratum's formulas use.
    ``chapters`` is the book folder of the derivations' chapters, linked with ``{doc}``
    (``None``: name the derivation without a link).
    """
    steps = {(d["name"], s["id"]): (d, s) for d in doc["derivations"] for s in d["steps"]}
    errata = list(doc["errata"])
    by_key = {(e["derivation"], e["step"]): e for e in errata}
    followers: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for e in errata:
        key = (e["derivation"], e["step"])
        if key in SAME_MISTAKE and SAME_MISTAKE[key] in by_key:
            followers.setdefault(SAME_MISTAKE[key], []).append(e)
    shown = [e for e in errata if (e["derivation"], e["step"]) not in SAME_MISTAKE
             or SAME_MISTAKE[(e["derivation"], e["step"])] not in by_key]
    summary = doc["summary"]
    out = [f"`symsde verify --json` checked {summary['steps']} steps in "
           f"{summary['derivations']} derivations: {summary['holds']} hold, "
           f"{summary['errata']} record errata of the notes, {summary['fails']} fail. "
           f"The {summary['errata']} erratum steps come from {len(shown)} mistakes; a step "
           "that only draws a consequence of an earlier mistake is shown with it.", ""]
    fails = [(d, s) for d in doc["derivations"] for s in d["steps"] if s["verdict"] == "fails"]
    for d, s in fails:
        out += [":::{error}",
                f"`{d['name']}::{s['id']}` fails: {escape_markdown(s.get('detail', ''))}",
                ":::", ""]
    for n, e in enumerate(shown, 1):
        key = (e["derivation"], e["step"])
        d, s = steps[key]
        group = [(e, s)] + [(f, steps[(f["derivation"], f["step"])][1])
                            for f in followers.get(key, [])]
        out.append(f"::::{{admonition}} Erratum {n} · {reason_markdown(d['title'])} · "
                   + ", ".join(f"`{g_s['id']}`" for _, g_s in group))
        out.append(":class: warning")
        eqs = sorted({q for _, g_s in group for q in g_s["equations"]})
        out.append(f"Slide *{escape_markdown(e['slide'])}*"
                   + (f", the notes' equations {', '.join(eqs)}" if eqs else "") + ".")
        out.append("")
        for k, (g_e, g_s) in enumerate(group):
            if k:
                out += ["", f"**The same mistake, carried on** (step `{g_s['id']}`)."]
            out += _erratum_claims(g_s, ERRATUM_CONTEXT.get((g_e["derivation"],
                                                             g_s["id"])))
            out.append(f"**What goes wrong.** {reason_markdown(g_e['explanation'])}")
            out.append("")
        w = s["witness"]
        err = "n/a" if w["max_relative_error"] is None else f"{w['max_relative_error']:.1e}"
        out.append(f"**How it is decided.** {reason_markdown(s['reason'])} The check "
                   f"({escape_markdown(s['check'])}) refutes the notes' form symbolically and "
                   f"numerically, and the corrected form holds (numeric witness at "
                   f"{w['points']} points, {w['digits']} digits, largest relative error "
                   f"{err}). See the chapter "
                   + (f"{{doc}}`{chapters}/{e['derivation']}`." if chapters
                      else f"`{e['derivation']}`."))
        out.append("::::")
        out.append("")
    return "\n".join(out)


def coverage_markdown(doc: Mapping[str, Any]) -> str:
    """Coverage of the notes' displayed equations, per slide, from ``verify --json``."""
    cov = doc.get("coverage")
    if not cov:
        return ""
    out = [f"The derivations account for {cov['covered']} of the notes' {cov['total']} "
           "displayed equations (a step checks it, or it is recorded as notation).", "",
           "| slide | covered |", "| --- | ---: |"]
    for row in cov["per_slide"]:
        out.append(f"| {escape_markdown(row['slide'])} | {row['covered']}/{row['total']} |")
    if cov["missing"]:
        out += ["", f"Not covered yet: {', '.join(cov['missing'])}."]
    return "\n".join(out) + "\n"
