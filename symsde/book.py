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

from derivations import REGISTRY as _REGISTRY
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
CHAPTERS: tuple[str, ...] = tuple(_REGISTRY)

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


def _witness_text(r: StepResult) -> str:
    err = "n/a" if r.witness_error is None else f"{r.witness_error:.1e}"
    return (f"numeric witness at {r.witness_points} random points, 50 digits, largest "
            f"relative error {err}")


def step_markdown(r: StepResult, index: int) -> str:
    """One step as a MyST admonition: claim, reason, check, witness and any erratum."""
    s = r.step
    title = f"Step {index} · `{s.id}` · {verdict_badge(r.verdict)}"
    out = [f"::::{{admonition}} {title}", f":class: {_ADMONITION.get(r.verdict, 'note')}"]
    if r.verdict == "erratum" and s.corrected is not None:
        out.append("The notes claim")
        out += _math(s.claim.latex())
        out.append("which the check refutes. The corrected claim, which holds:")
        out += _math(s.corrected.latex())
        out.append(f"**Erratum.** {escape_markdown(s.erratum)}")
        out.append("")
    else:
        out += _math(s.claim.latex())
    out.append(escape_markdown(s.reason))
    out.append("")
    where = f"Slide *{escape_markdown(s.slide)}*"
    if s.equations:
        where += f", the notes' equations {', '.join(s.equations)}"
    residual = "0" if r.verdict != "fails" else sp.sstr(r.residual)
    out.append(f"{where}. **Check:** {escape_markdown(s.check.describe())}; symbolic "
               f"residual `{residual}`; {_witness_text(r)}.")
    if r.verdict == "fails":
        out += ["", f"**This step fails:** {escape_markdown(r.detail)}"]
    out.append("::::")
    return "\n".join(out) + "\n"


def _counts(res: DerivationResult) -> str:
    parts = [f"{len(res.steps)} steps", f"{res.count('holds')} hold",
             f"{res.count('erratum')} errata", f"{res.count('fails')} fail"]
    return ", ".join(parts) + f" (checked in {res.seconds:.1f} s when this page was built)"


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
    >>> "{bdg-success}`holds`" in md, "= x^{2} + 2 x + 1" in md
    (True, True)
    """
    res = d.verify()
    out = [f"**`derivations.{d.name}`: {escape_markdown(d.title)}.** {_counts(res)}.", ""]
    for i, r in enumerate(res.steps, 1):
        out.append(step_markdown(r, i))
    if d.notation:
        out.append("Displayed equations of the notes that define notation rather than "
                   "claim something, and so have no check:")
        out.append("")
        for df in d.notation:
            out.append(f"- {df.equation} (slide *{escape_markdown(df.slide)}*): "
                       f"{escape_markdown(df.why_not_a_claim)}")
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
    from derivations._catalogue import EQUATIONS

    d = derivation_or_none(name)
    if d is None:
        return ""
    ids: list[str] = []
    for s in d.steps:
        ids += [e for e in s.equations if e not in ids]
    ids += [df.equation for df in d.notation if df.equation not in ids]
    rows = [e for e in EQUATIONS if e[0] in ids]
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


# -- simulations ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trial:
    """A statistical comparison shown on a page, and whether it must pass or be rejected."""

    claim: str
    result: Confirmation
    expect: bool = True


def trials_markdown(trials: Iterable[Trial]) -> str:
    """The comparisons as a list: what is compared, the test's one-line outcome, the verdict.

    Examples
    --------
    >>> import numpy as np
    >>> from symsde.confirm import mean_test
    >>> s = np.random.default_rng(0).standard_normal(10_000)
    >>> print(trials_markdown([Trial("the mean is 0", mean_test(s, 0.0)),
    ...                        Trial("the mean is 1", mean_test(s, 1.0), expect=False)]))
    - {bdg-success}`confirmed` the mean is 0: mean: estimate ... consistent
    - {bdg-success}`rejected, as it must be` the mean is 1: mean: estimate ... REJECTED
    <BLANKLINE>
    """
    out = []
    for t in trials:
        ok = t.result.verdict == t.expect
        if t.expect:
            badge = "{bdg-success}`confirmed`" if ok else "{bdg-danger}`not confirmed`"
        else:
            badge = "{bdg-success}`rejected, as it must be`" if ok else \
                "{bdg-danger}`not rejected`"
        out.append(f"- {badge} {escape_markdown(t.claim)}: {escape_markdown(t.result.text)}")
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
    import importlib

    from symsde.registry import derivation_names

    if name not in derivation_names():
        return None
    mod = importlib.import_module(f"derivations.{name}")
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


def errata_markdown(doc: Mapping[str, Any], chapters: str | None = "/chapters") -> str:
    """The errata page's body from the JSON of ``symsde verify --json``.

    Each erratum shows the notes' claim and the corrected claim (LaTeX from the JSON), the
    explanation and the check that decided it. Failing steps, if any, are listed first.
    ``chapters`` is the book folder of the derivations' chapters, linked with ``{doc}``
    (``None``: name the derivation without a link).
    """
    steps = {(d["name"], s["id"]): (d, s) for d in doc["derivations"] for s in d["steps"]}
    summary = doc["summary"]
    out = [f"`symsde verify --json` checked {summary['steps']} steps in "
           f"{summary['derivations']} derivations: {summary['holds']} hold, "
           f"{summary['errata']} are errata of the notes, {summary['fails']} fail.", ""]
    fails = [(d, s) for d in doc["derivations"] for s in d["steps"] if s["verdict"] == "fails"]
    for d, s in fails:
        out += [":::{error}",
                f"`{d['name']}::{s['id']}` fails: {escape_markdown(s.get('detail', ''))}",
                ":::", ""]
    for n, e in enumerate(doc["errata"], 1):
        d, s = steps[(e["derivation"], e["step"])]
        out.append(f"::::{{admonition}} Erratum {n} · {escape_markdown(d['title'])} · "
                   f"`{s['id']}`")
        out.append(":class: warning")
        out.append(f"Slide *{escape_markdown(e['slide'])}*"
                   + (f", the notes' equations {', '.join(s['equations'])}"
                      if s["equations"] else "") + ". The notes have")
        out += _math(s["claim"]["latex"])
        out.append("and the corrected claim is")
        out += _math(s["corrected"]["latex"])
        out.append(f"**What goes wrong.** {escape_markdown(e['explanation'])}")
        out.append("")
        w = s["witness"]
        err = "n/a" if w["max_relative_error"] is None else f"{w['max_relative_error']:.1e}"
        out.append(f"**How it is decided.** {escape_markdown(s['reason'])} The check "
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
