"""The notes, read as written: each step compared with the displayed equation it covers.

A lecture's displayed equations are LaTeX (its catalogue). :func:`compare_with_notes`
reads each one with :mod:`symsde.latex` (SymPy's LaTeX parser, a pre-pass, a validated
parse) through the derivation's *symbol table*, which maps the notes' notation
(``\\Phi``, ``\\mathcal{L}``, ``\\sigma``) to the derivation's SymPy objects, and compares it
with the step that names the equation. Each comparison ends in one of:

``same``
    one formula of the display is the step's claim (up to moving terms and the
    derivation's definitions);
``erratum``
    the display is the step's notes' claim, which the step refutes;
``reading``
    the step declares how it reads an ambiguous display (``reading=``), shown in the book;
``transcribed``
    the parser cannot read the display; the step's hand transcription (``transcription=``)
    rendered back to LaTeX has the display's tokens and is the step's claim;
``differs`` / ``unread``
    none of the above: a silent correction, or a display nobody has read. Tests fail on
    these.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sympy as sp

from symsde.proof.algebra import nonzero_somewhere
from symsde.proof.claim import Claim

if TYPE_CHECKING:
    from symsde.proof.kernel import DerivationResult, StepContext, StepResult

__all__ = ["NotesForm", "compare_step", "compare_with_notes"]

#: Statuses that are not a silent correction.
ACCEPTED = frozenset({"same", "erratum", "reading", "transcribed"})


@dataclass(frozen=True)
class NotesForm:
    """How one step relates to one displayed equation of the notes."""

    equation: str
    latex: str | None
    status: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ACCEPTED


_OPAQUE = (sp.Integral, sp.Sum, sp.Limit, sp.Product)
_ATOMS: dict[sp.Basic, sp.Symbol] = {}


def _opaque(e: Any) -> Any:
    """Integrals, sums and limits as opaque symbols (one per distinct node), so that algebra
    neither evaluates them nor (in SymPy's term ordering) calls evalf on them."""
    def atom(node: sp.Basic) -> sp.Symbol:
        if node not in _ATOMS:
            _ATOMS[node] = sp.Symbol(f"_op{len(_ATOMS)}")
        return _ATOMS[node]

    # Derivatives are carried out (shallowly: an integral inside stays as it is).
    e = e.replace(lambda t: isinstance(t, sp.Derivative), lambda t: t.doit(deep=False))
    return e.replace(lambda t: isinstance(t, _OPAQUE), atom)


def _zero(e: Any) -> bool:
    """``e`` is 0 by algebra alone: integrals, sums and limits are NOT evaluated, so two
    true statements about different constants are not "the same claim"."""
    e = _opaque(sp.sympify(e))
    if e == 0:
        return True
    if nonzero_somewhere(e):  # a value away from 0: no algebra can make it 0
        return False
    for simplifier in (sp.expand, sp.cancel):
        try:
            e = simplifier(e)
        except Exception:
            continue
        if e == 0:
            return True
    return False


def _says_the_same(a: Claim, b: Claim, ctx: StepContext) -> bool:
    """``a`` and ``b`` state one relation: equal differences, opposite ones, or multiples.

    Compared first as written, then with the derivation's definitions unfolded; a level
    at which both reduce to 0 (a definition read against itself) decides nothing.
    """
    for unfolding in (False, True):
        da = ctx.unfold(a.difference) if unfolding else a.difference
        db = ctx.unfold(b.difference) if unfolding else b.difference
        if isinstance(da, sp.MatrixBase) or isinstance(db, sp.MatrixBase):
            if getattr(da, "shape", None) != getattr(db, "shape", None):
                return False
            if all(_zero(x) for x in da) and all(_zero(x) for x in db):
                continue
            if all(_zero(x) for x in da - db) or all(_zero(x) for x in da + db):
                return True
            continue
        if sp.expand(da) == sp.expand(db) or sp.expand(da) == -sp.expand(db):
            return True
        if _zero(da) and _zero(db):
            continue
        if _zero(da - db) or _zero(da + db):
            return True
        try:
            ratio = sp.cancel(_opaque(da) / _opaque(db))
        except Exception:
            continue
        if ratio.is_number and ratio.is_finite and ratio != 0:
            return True
    return False


def _parts(latex: str) -> list[str]:
    from symsde.latex import split_display

    try:
        return [p.latex for p in split_display(latex)] or [latex]
    except Exception:
        return [latex]


def _token_differences(part: str, transcription: Claim, symbols: Mapping[str, Any]
                       ) -> list[str]:
    """The display's tokens against the transcription rendered back in the notes' names."""
    from symsde.latex import prepass, tokens

    text = sp.latex(sp.Eq(transcription.lhs, transcription.rhs, evaluate=False))
    names: dict[str, str] = {}
    for key, obj in symbols.items():
        if isinstance(obj, (sp.Basic, sp.FunctionClass)):
            names[sp.latex(obj)] = key
        # A callable entry (p(a|b) read as one function) says how its values are written.
        for value, written in getattr(obj, "notes_names", {}).items():
            names[sp.latex(value)] = written
    for rendered, key in sorted(names.items(), key=lambda kv: -len(kv[0])):
        # Whole names only: the symbol i must not be found inside \Phi or \right.
        pattern = r"(?<![\\A-Za-z])" + re.escape(rendered) + r"(?![A-Za-z])"
        text = re.sub(pattern, lambda _m, k=key: f" {k} ", text)
    return tokens(prepass(part)).differences(tokens(prepass(text)))


def compare_step(r: StepResult, equation: str, latex: str, symbols: Mapping[str, Any],
                 ctx: StepContext, parsed: dict[str, Any] | None = None) -> NotesForm:
    """Compare one step with one displayed equation (see the module docstring).

    ``parsed`` keeps the parser's reading (or its error) of each part already read with
    the same ``symbols``: several steps name one display.
    """
    from symsde.latex import read_latex

    step = r.step
    claim = step.claim  # the notes' form: for an erratum, the claim that fails
    read: list[tuple[str, Claim]] = []
    unread: list[str] = []
    parsed = {} if parsed is None else parsed
    for part in _parts(latex):
        if part not in parsed:
            try:
                parsed[part] = read_latex(part, symbols).value
            except Exception as exc:  # LatexReadError, and the parser's own errors
                parsed[part] = exc
        value = parsed[part]
        if isinstance(value, Exception):
            unread.append(f"{part}: {value}")
            continue
        if isinstance(value, sp.Equality):
            read.append((part, Claim(value.lhs, value.rhs)))
    for part, notes in read:
        if _says_the_same(claim, notes, ctx):
            status = "erratum" if r.kind == "erratum" else "same"
            return NotesForm(equation, part, status)
    if step.reading:
        shown = read[0][0] if read else latex
        return NotesForm(equation, shown, "reading", step.reading)
    transcription = getattr(step, "transcription", None)
    if transcription is not None:
        parts = _parts(latex)
        for part in parts:
            diffs = _token_differences(part, transcription, symbols)
            if not diffs and _says_the_same(claim, transcription, ctx):
                return NotesForm(equation, part, "transcribed",
                                 "read by hand: the parser cannot read this display")
        return NotesForm(equation, None, "differs",
                         "the hand transcription does not match the display token by token "
                         "or is not the step's claim")
    if read:
        return NotesForm(equation, read[0][0], "differs",
                         f"the notes' {read[0][1].text()} is not the step's claim "
                         f"{claim.text()}")
    return NotesForm(equation, None, "unread", "; ".join(unread)[:300])


def compare_with_notes(result: DerivationResult, catalogue: Mapping[str, str],
                       symbols: Mapping[str, Any] | None = None) -> dict[str, list[NotesForm]]:
    """Every step's comparison with the displayed equations it names, by step id.

    ``catalogue`` maps equation ids to the notes' LaTeX; ``symbols`` is the notation's
    symbol table (default: the derivation's ``symbols``).
    """
    d = result.derivation
    table = dict(symbols if symbols is not None else getattr(d, "symbols", {}) or {})
    effective = {r.step.id: r.effective_claim for r in result.steps}
    out: dict[str, list[NotesForm]] = {}
    parsed: dict[str, Any] = {}
    for r in result.steps:
        if not r.step.equations:
            continue
        ctx = d.context_for(r.step.id, effective)
        if r.kind == "definition":  # a definition's own name is not unfolded away
            ctx.definitions = {k: v for k, v in ctx.definitions.items()}
        forms = []
        for eq in r.step.equations:
            if eq not in catalogue:
                forms.append(NotesForm(eq, None, "unread", "no such equation in the catalogue"))
                continue
            forms.append(compare_step(r, eq, catalogue[eq], table, ctx, parsed))
        out[r.step.id] = forms
    return out


def failures(forms: Mapping[str, Iterable[NotesForm]]) -> list[tuple[str, NotesForm]]:
    """The comparisons that are neither the same claim, an erratum, a reading nor read by
    hand."""
    return [(sid, f) for sid, fs in forms.items() for f in fs if not f.ok]
