"""Mutation testing of derivations: every part of a step, altered, must make it fail.

Four classes of mutants:

``rhs``
    a step's (effective) right side altered: doubled, negated, shifted by 1, a term dropped;
``lhs``
    its left side altered the same ways (a check that ignores its left side lets these
    survive);
``definition``
    the value of a definition altered: some later step that uses the name must fail;
``premise``
    the premise of a rule step altered three ways (doubled, a term added on either side):
    the rule must no longer give the claim.

A mutant is *killed* when the step's verdict becomes ``fails``. Mutants that are the
original in disguise (a dropped term that is zero, ``2*0``) are set aside as *equivalent*.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from symsde.proof.algebra import EXPECT_FAILURE, numeric_value
from symsde.proof.kernel import (
    Claim,
    Derivation,
    FollowsFrom,
    Step,
    StepContext,
    _definition_entry,
    _premise_mutants,
    _symbolic,
    _witness,
    is_zero,
)

__all__ = ["CLASSES", "OPERATORS", "Mutant", "MutationReport", "expression_mutants",
           "run_mutations"]

CLASSES = ("rhs", "lhs", "definition", "premise")


def _nonzero(e: Any) -> bool:
    if isinstance(e, sp.MatrixBase):
        return any(x != 0 for x in e)
    return e != 0


def _double(e: Any) -> Iterator[Any]:
    if _nonzero(e):
        yield 2 * e


def _flip(e: Any) -> Iterator[Any]:
    if _nonzero(e):
        yield -e


def _shift(e: Any) -> Iterator[Any]:
    if isinstance(e, sp.MatrixBase):
        m = sp.Matrix(e)
        m[0] = m[0] + 1
        yield sp.ImmutableMatrix(m)
    else:
        yield e + 1


def _drop_term(e: Any) -> Iterator[Any]:
    if isinstance(e, sp.MatrixBase):
        for k, entry in enumerate(e):
            terms = sp.Add.make_args(entry)
            if len(terms) > 1:
                m = sp.Matrix(e)
                m[k] = sp.Add(*terms[1:])
                yield sp.ImmutableMatrix(m)
                return
        return
    terms = sp.Add.make_args(e)
    if len(terms) > 1:
        yield sp.Add(*terms[1:])


def _half_to_quarter(e: Any) -> Iterator[Any]:
    if isinstance(e, sp.Basic) and e.has(sp.S.Half):
        out = e.xreplace({sp.S.Half: sp.Rational(1, 4)})
        if out != e:
            yield out


#: name -> generator of altered expressions (empty when the operator does not apply)
OPERATORS = {
    "factor-2": _double,
    "flip-sign": _flip,
    "add-constant": _shift,
    "drop-term": _drop_term,
    "half-to-quarter": _half_to_quarter,
}


def expression_mutants(e: Any) -> Iterator[tuple[str, Any]]:
    """Every operator's alterations of ``e``, with the operator's name."""
    for name, op in OPERATORS.items():
        for out in op(e):
            yield name, out


@dataclass(frozen=True)
class Mutant:
    """One altered part of a step and whether the kernel rejected it."""

    derivation: str
    step: str
    cls: str
    operator: str
    description: str
    killed: bool
    by: str = ""  # "symbolic", "witness", "premise test", or a later step for definitions


@dataclass
class MutationReport:
    mutants: list[Mutant] = field(default_factory=list)
    equivalent: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def survivors(self) -> list[Mutant]:
        return [m for m in self.mutants if not m.killed]

    def by_class(self) -> dict[str, dict[str, int]]:
        out = {c: {"mutants": 0, "killed": 0} for c in CLASSES}
        for m in self.mutants:
            out[m.cls]["mutants"] += 1
            out[m.cls]["killed"] += int(m.killed)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The contract JSON shape: classes, equivalent, survivors."""
        return {
            "classes": self.by_class(),
            "equivalent": list(self.equivalent),
            "survivors": [{"derivation": m.derivation, "step": m.step, "class": m.cls,
                           "operator": m.operator, "mutant": m.description}
                          for m in self.survivors],
        }

    def summary(self) -> str:
        lines = [f"{'class':<12}{'mutants':>8}{'killed':>8}"]
        for cls, row in self.by_class().items():
            lines.append(f"{cls:<12}{row['mutants']:>8}{row['killed']:>8}")
        lines.append(f"{len(self.equivalent)} equivalent mutants set aside; "
                     f"{len(self.survivors)} survivors; {self.seconds:.1f}s")
        for m in self.survivors:
            lines.append(f"  SURVIVED {m.derivation}::{m.step} [{m.cls}/{m.operator}] "
                         f"{m.description}")
        return "\n".join(lines)


def _judge_claim(step: Step, claim: Claim, ctx: StepContext, d: Derivation, seed: int,
                 tag: str) -> tuple[bool, str]:
    """(killed, by): does the step fail when its effective claim is ``claim``?"""
    token = EXPECT_FAILURE.set(True)
    try:
        return _judge_expected_failure(step, claim, ctx, d, seed, tag)
    finally:
        EXPECT_FAILURE.reset(token)


def _judge_expected_failure(step: Step, claim: Claim, ctx: StepContext, d: Derivation,
                            seed: int, tag: str) -> tuple[bool, str]:
    sym = _symbolic(step.check, claim, ctx)
    if not sym.ok:
        return True, "symbolic"
    if isinstance(step.check, FollowsFrom):
        sensitive, _ = step.check.premise_sensitive(claim, ctx)
        if not sensitive:
            return True, "premise test"
    num = _witness(step.check, claim, ctx, step.witness or d.witness, (seed, d.name, step.id,
                                                                      tag))
    if not num.ok:
        return True, "witness"
    return False, ""


def _same(a: Any, b: Any) -> bool:
    try:
        # A mutant usually differs: the numeric disproof comes before any symbolic work.
        return is_zero(sp.sympify(a) - sp.sympify(b), expect_nonzero=True)[0]
    except Exception:
        return False


def _equivalent(claim: Claim, base: Claim, ctx: StepContext) -> bool:
    """``claim`` says what ``base`` says: its ``lhs - rhs`` (definitions unfolded) is a
    nonzero multiple of base's."""
    a, b = ctx.unfold(claim.difference), ctx.unfold(base.difference)
    if _same(a, b):
        return True
    if isinstance(b, sp.MatrixBase):
        return _same(a, -b)
    if any(isinstance(e, sp.Basic) and e.has(sp.Limit) for e in (a, b)):
        # A limit is not taken to compare a mutant (SymPy's limits of integrals take
        # seconds): the limits, as opaque values, must cancel from the ratio.
        limits = {node: sp.Dummy("limit") for e in (a, b) for node in e.atoms(sp.Limit)}
        try:
            ratio = sp.cancel(a.xreplace(limits) / b.xreplace(limits))
        except Exception:
            return False
        return bool(ratio.is_number and ratio != 0 and ratio.is_finite)
    # The base claim holds, so its difference is usually 0 (and a multiple of it is 0,
    # which _same has ruled out): a ratio is only worth computing when it is not.
    b0, b1 = (numeric_value(b, k, integrals=True) for k in (0, 1))
    if b0 is not None and b1 is not None and max(abs(b0), abs(b1)) < 1e-10:
        return False
    # A ratio that takes two different values is not a constant: no symbolic work needed.
    r0, r1 = (numeric_value(a / b, k, integrals=True) for k in (0, 1))
    if r0 is not None and r1 is not None and abs(r0 - r1) > 1e-10 * max(abs(r0), abs(r1), 1):
        return False
    try:
        ratio = sp.simplify((a / b).doit())
    except Exception:
        return False
    return bool(ratio.is_number and ratio != 0 and ratio.is_finite)


def _mutate_sides(d: Derivation, report: MutationReport, classes: Sequence[str],
                  seed: int) -> None:
    result = d.verify(seed=seed)
    effective = {r.step.id: r.effective_claim for r in result.steps}
    for r in result.steps:
        st = r.step
        if st.kind == "definition":
            continue
        base = r.effective_claim
        ctx = d.context_for(st.id, effective)
        for cls in ("rhs", "lhs"):
            if cls not in classes:
                continue
            side = base.rhs if cls == "rhs" else base.lhs
            for op, new in expression_mutants(side):
                claim = Claim(base.lhs, new) if cls == "rhs" else Claim(new, base.rhs)
                if _equivalent(claim, base, ctx):
                    report.equivalent.append({"derivation": d.name, "step": st.id,
                                              "class": cls, "operator": op})
                    continue
                killed, by = _judge_claim(st, claim, ctx, d, seed, f"{cls}:{op}")
                report.mutants.append(Mutant(d.name, st.id, cls, op, claim.text(), killed, by))


def _mutate_definitions(d: Derivation, report: MutationReport, seed: int) -> None:
    result = d.verify(seed=seed)
    effective = {r.step.id: r.effective_claim for r in result.steps}
    for i, st in enumerate(d.steps):
        if st.kind != "definition":
            continue
        key, _ = _definition_entry(st.claim.lhs, st.claim.rhs)
        for op, new in expression_mutants(st.claim.rhs):
            if _same(new, st.claim.rhs):
                report.equivalent.append({"derivation": d.name, "step": st.id,
                                          "class": "definition", "operator": op})
                continue
            _, replacement = _definition_entry(st.claim.lhs, new)
            killed, by, used = False, "", False
            for later in d.steps[i + 1:]:
                if later.kind == "definition":
                    continue
                original = d.context_for(later.id, effective)
                if key not in original.definitions:
                    continue
                ctx = d.context_for(later.id, effective)
                ctx.definitions[key] = replacement
                claim = effective[later.id]
                seen = [claim.difference]
                if isinstance(later.check, FollowsFrom):
                    seen.append(ctx.claim_of(later.check.source).difference)
                if all(_same(ctx.unfold(e), original.unfold(e)) for e in seen):
                    continue  # this step does not see the change
                used = True
                hit, how = _judge_claim(later, claim, ctx, d, seed, f"definition:{st.id}:{op}")
                if hit:
                    killed, by = True, f"{later.id} ({how})"
                    break
            if not used and _uses(d, i, key, effective):
                # Every step that uses the name sees the same mathematics (e.g. a constant
                # added to a quantity of which only the derivative is taken): equivalent.
                # A definition nothing uses is a survivor.
                report.equivalent.append({"derivation": d.name, "step": st.id,
                                          "class": "definition", "operator": op})
                continue
            desc = f"{sp.sstr(st.claim.lhs)} := {sp.sstr(new)}"
            report.mutants.append(Mutant(d.name, st.id, "definition", op, desc, killed, by))


def _mentions(expr: Any, key: Any) -> bool:
    if isinstance(key, sp.Symbol):
        return bool(expr.has(key))
    return any(f.func == key for f in expr.atoms(sp.Function))


def _uses(d: Derivation, i: int, key: Any, effective: dict[str, Claim]) -> bool:
    """Does any step after the ``i``-th (or the premise of a rule step) mention ``key``?"""
    for later in d.steps[i + 1:]:
        if later.kind == "definition":
            continue
        exprs = [effective[later.id].lhs, effective[later.id].rhs]
        if isinstance(later.check, FollowsFrom):
            ctx = d.context_for(later.id, effective)
            premise = ctx.claim_of(later.check.source)
            exprs += [premise.lhs, premise.rhs]
        if any(_mentions(e, key) for e in exprs):
            return True
    return False


def _mutate_premises(d: Derivation, report: MutationReport, seed: int) -> None:
    result = d.verify(seed=seed)
    effective = {r.step.id: r.effective_claim for r in result.steps}
    for r in result.steps:
        st = r.step
        if not isinstance(st.check, FollowsFrom):
            continue
        ctx = d.context_for(st.id, effective)
        source = st.check.source
        premise = ctx.claim_of(source)
        src_id = source or next(s for s in reversed(ctx.order[:ctx.order.index(st.id)])
                                if s in ctx.previous and s not in ctx.definition_steps)
        for k, wrong in enumerate(_premise_mutants(premise)):
            ctx2 = dataclasses.replace(ctx, previous={**ctx.previous, src_id: wrong})
            token = EXPECT_FAILURE.set(True)
            try:
                sym = _symbolic(st.check, r.effective_claim, ctx2)
            finally:
                EXPECT_FAILURE.reset(token)
            report.mutants.append(Mutant(d.name, st.id, "premise", f"premise-{k + 1}",
                                         wrong.text(), not sym.ok, "symbolic" if not sym.ok
                                         else ""))


def run_mutations(derivs: Sequence[Derivation], classes: Sequence[str] | None = None,
                  *, seed: int = 0) -> MutationReport:
    """Mutate every part of every step of ``derivs`` and judge the mutants."""
    chosen = tuple(classes) if classes else CLASSES
    unknown = set(chosen) - set(CLASSES)
    if unknown:
        raise ValueError(f"unknown mutation classes {sorted(unknown)}; known: {CLASSES}")
    t0 = time.perf_counter()
    report = MutationReport()
    for d in derivs:
        _mutate_sides(d, report, chosen, seed)
        if "definition" in chosen:
            _mutate_definitions(d, report, seed)
        if "premise" in chosen:
            _mutate_premises(d, report, seed)
    report.seconds = time.perf_counter() - t0
    return report
