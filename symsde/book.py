"""Display helpers for the symsde book (the Jupyter Book under ``book/``).

Every page of the book is a MyST Markdown notebook executed at build time, and what it
shows comes from these helpers, so a page cannot show a result the code no longer gives:

- :func:`show_steps` renders a derivation's steps from the :class:`~symsde.proof.Derivation`
  object itself, through the project's one renderer of proofs,
  :func:`symsde.proof.render.render_myst` (the notes' display, or the checked claim when
  the notes have none, the verdict and the reason; the checked claim and the evidence
  folded);
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
from typing import Any

from symsde import registry as _registry
from symsde.experiment import Trial
from symsde.proof import Derivation, StepResult
from symsde.proof.render import (
    _math,
    escape_markdown,
    notes_latex,
    reason_markdown,
    render_myst,
    step_check_markdown,
    step_label,
    step_myst,
    tidy_latex,
    verdict_badge,
)

__all__ = [
    "CHAPTERS",
    "STEPS_NOTE",
    "Trial",
    "catalogue_markdown",
    "coverage_markdown",
    "derivation_or_none",
    "errata_markdown",
    "errata_notation",
    "escape_markdown",
    "experiment_markdown",
    "figure_style",
    "legend_below",
    "missing_markdown",
    "reason_markdown",
    "run_cli",
    "run_confirm",
    "show",
    "show_catalogue",
    "show_experiment",
    "show_steps",
    "show_trials",
    "step_label",
    "step_markdown",
    "steps_markdown",
    "summary_markdown",
    "tidy_latex",
    "trials_markdown",
    "verdict_badge",
    "verify_json",
]

#: The book's chapters: the registered derivation modules, in the order of the notes
#: (the two beyond-the-notes modules come last in the registry too).
CHAPTERS: tuple[str, ...] = _registry.derivation_names()

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


def _catalogue() -> dict[str, str]:
    """The notes' displays by equation id (the fallback of the steps' notes form)."""
    return {eid: latex for eid, _, latex in _registry.equations()}


def step_markdown(r: StepResult, index: int, derivation: str = "") -> str:
    """One step as the book shows it: :func:`symsde.proof.render.step_myst`."""
    return step_myst(r, index, derivation, _catalogue())


def steps_markdown(d: Derivation) -> str:
    """Every step of ``d``, verified now, as MyST: :func:`symsde.proof.render.render_myst`.

    Examples
    --------
    >>> import sympy as sp
    >>> from symsde.proof import Claim, Derivation, Identity
    >>> x = sp.Symbol("x")
    >>> d = Derivation("demo", "A demo")
    >>> _ = d.step("square", Claim((x + 1)**2, x**2 + 2*x + 1), "Expand the square.",
    ...            slide="Demo", check=Identity())
    >>> ":name: step-demo-square" in steps_markdown(d)
    True
    """
    return render_myst(d.verify(), _catalogue())


#: What a chapter says once before its step boxes (``{name}``: the derivation).
STEPS_NOTE = ("Each box is one step of `derivations.{name}`, rendered from the derivation "
              "object when this page was built: the notes' display (or, where the notes have "
              "none, the claim that was checked), its verdict and the reason. The checked "
              "claim, the step's kind and the evidence fold out under each box. A "
              "*definition* introduces a name ($:=$); a *computed* step is checked by SymPy "
              "or by symsde's engine; a *rule* step is what a stated operation makes of an "
              "earlier step.")


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
    show(STEPS_NOTE.format(name=name) + "\n\n" + steps_markdown(d))
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
#: Matplotlib settings of every figure in the book. On screen a legend's text is
#: ``LEGEND_PT / 72 * shown / FIGURE_WIDTH_IN`` CSS pixels tall (the dpi cancels), so at a
#: phone's column (about 335 px at a 390 px window) a FIGURE_WIDTH_IN-inch figure with
#: LEGEND_PT-point legends shows them at about 10 px; at 1280 px the figure is shown at its
#: own size (550 px, narrower than the column) and they are 16.7 px. Multi-panel figures
#: stack their panels so that every panel has the full width. The browser check measures
#: the real sizes: :func:`figure_png` writes each legend's font size in the figure's PNG.
LEGEND_PT = 12
FIGURE_DPI = 100
FIGURE_WIDTH_IN = 5.5
FIGURE_RC: dict[str, Any] = {
    "figure.dpi": FIGURE_DPI, "savefig.dpi": FIGURE_DPI, "font.size": 12,
    "legend.fontsize": LEGEND_PT, "axes.titlesize": 12, "axes.labelsize": 12,
    "xtick.labelsize": 11, "ytick.labelsize": 11, "axes.grid": True, "grid.alpha": 0.3,
    "figure.constrained_layout.use": True, "figure.figsize": (FIGURE_WIDTH_IN, 3.6),
}
#: The PNG text chunk in which :func:`figure_png` records the legend font sizes (pixels of
#: the PNG, a JSON list); the browser check scales them to CSS pixels.
LEGEND_PX_KEY = "symsde-legend-px"


def legend_font_px(fig: Any) -> list[float]:
    """The font size, in pixels of the figure drawn at its dpi, of every legend text of fig.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(dpi=100)
    >>> _ = ax.plot([0, 1], label="a line")
    >>> _ = ax.legend(fontsize=9)      # 9 pt at 100 dpi: 12.5 px
    >>> legend_font_px(fig)
    [12.5]
    >>> plt.close(fig)
    """
    legends = [ax.get_legend() for ax in fig.axes] + list(fig.legends)
    return [round(t.get_fontsize() * fig.dpi / 72, 2)
            for lg in legends if lg is not None for t in lg.get_texts()]


def figure_png(fig: Any) -> bytes:
    """The figure as the PNG a page shows, its legend font sizes in a text chunk.

    Cropped to its content (``bbox_inches="tight"``) at the figure's dpi, as the notebook's
    inline backend would; the chunk :data:`LEGEND_PX_KEY` holds :func:`legend_font_px`.
    """
    import io
    import json as _json

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi, bbox_inches="tight",
                metadata={LEGEND_PX_KEY: _json.dumps(legend_font_px(fig))})
    return buf.getvalue()


def figure_style() -> None:
    """Apply :data:`FIGURE_RC` to matplotlib and show figures through :func:`figure_png`.

    In a notebook, the figure display of matplotlib's inline backend is replaced by
    :func:`figure_png` (same PNG, plus the legend sizes the browser check reads).
    """
    import matplotlib.pyplot as plt

    plt.rcParams.update(FIGURE_RC)
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with the book extra
        return
    shell = get_ipython()
    if shell is None:
        return
    from matplotlib.figure import Figure

    plt.close(plt.figure())  # the inline backend registers its formatters on first use
    shell.display_formatter.formatters["image/png"].for_type(Figure, figure_png)


def legend_below(ax: Any, ncol: int = 1) -> Any:
    """A legend under the axes, below its tick labels and x label: never over the data.

    The gap is a fixed distance (``borderaxespad`` in units of the legend's font size, about
    the height of the tick labels and the axis label), so it does not depend on the size of
    the axes; constrained layout then makes room for it.
    """
    return ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), borderaxespad=3.6,
                     ncol=ncol, frameon=False)


# -- simulations ---------------------------------------------------------------------------------
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
    >>> from symsde.stattests import mean_test
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
                   f"{reason_markdown(stat.replace('|', '/'))} |")
    return "\n".join(out) + "\n"


def show_trials(trials: Sequence[Trial]) -> None:
    """Display the comparisons; raise if one did not come out as required."""
    show(trials_markdown(trials))
    wrong = [t for t in trials if not t.as_expected]
    if wrong:
        raise AssertionError("; ".join(f"{t.claim}: {t.result.text}" for t in wrong))


def experiment_markdown(exp: Any) -> str:
    """A :class:`symsde.experiment.Experiment` (a module's ``confirm(seed)``) as a list."""
    head = (f"`confirm(seed={exp.seed})` of `derivations.{exp.derivation}` "
            f"({exp.seconds:.1f} s): {len(exp.predictions)} predictions confirmed by "
            f"simulation, {len(exp.wrong_predictions)} wrong predictions that the same tests "
            "reject.")
    return head + "\n\n" + trials_markdown(exp.trials)


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
        failed = [t.claim if t.expect else f"(not rejected) {t.claim}"
                  for t in exp.trials if not t.as_expected]
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


def errata_notation(names: Sequence[str] | None = None) -> dict[tuple[str, str], dict[str, str]]:
    r"""The errata's claims in the notes' notation: ``{(derivation, step): {"claim": latex,
    "corrected": latex}}`` for every step with a correction.

    Each claim is printed by :func:`symsde.proof.render.notes_latex` through its
    derivation's symbol table (``Derivation.symbols``), so the errata page shows the
    notes' letters (:math:`\sigma`, :math:`\Phi`, :math:`\eta`, ...) rather than SymPy's
    names. Nothing is verified here: the verdicts come from ``symsde verify --json``.
    """
    out: dict[tuple[str, str], dict[str, str]] = {}
    for d in _registry.load(list(names) if names is not None else list(CHAPTERS)):
        table = getattr(d, "symbols", None) or {}
        for st in d.steps:
            if st.corrected is not None:
                out[(d.name, st.id)] = {
                    "claim": notes_latex(st.claim, table),
                    "corrected": notes_latex(st.corrected, table),
                    "check": step_check_markdown(st)}
    return out


def _erratum_claims(s: Mapping[str, Any], intro: str | None,
                    forms: Mapping[str, str] | None = None) -> list[str]:
    forms = forms or {}
    out = [intro or "The notes have"]
    out += _math(forms.get("claim") or tidy_latex(s["claim"]["latex"]))
    out.append("and the corrected claim is")
    out += _math(forms.get("corrected") or tidy_latex(s["corrected"]["latex"]))
    return out


def errata_markdown(doc: Mapping[str, Any], chapters: str | None = "/chapters",
                    notation: Mapping[tuple[str, str], Mapping[str, str]] | None = None
                    ) -> str:
    """The errata page's body from the JSON of ``symsde verify --json``.

    Each erratum shows the notes' claim and the corrected claim (LaTeX from the JSON), the
    explanation and the check that decided it. Failing steps, if any, are listed first.
    Steps that record the same mistake (:data:`SAME_MISTAKE`) are shown as one erratum,
    and :data:`ERRATUM_CONTEXT` introduces the symbols an erratum's formulas use.
    ``chapters`` is the book folder of the derivations' chapters, linked with ``{doc}``
    (``None``: name the derivation without a link). ``notation`` (:func:`errata_notation`)
    gives the claims in the notes' letters; without it, or for a step it lacks, the page
    shows the JSON's LaTeX, which uses SymPy's names.
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
                                                             g_s["id"])),
                                   (notation or {}).get((g_e["derivation"], g_s["id"])))
            out.append(f"**What goes wrong.** {reason_markdown(g_e['explanation'])}")
            out.append("")
        w = s["witness"]
        err = "n/a" if w["max_relative_error"] is None else f"{w['max_relative_error']:.1e}"
        check = (notation or {}).get(key, {}).get("check") or reason_markdown(s["check"])
        out.append(f"**How it is decided.** {reason_markdown(s['reason'])} The check "
                   f"({check}) refutes the notes' form symbolically and "
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
