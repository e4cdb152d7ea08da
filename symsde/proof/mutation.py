"""Mutation testing of derivations: altered claims must be reported as failing.

Each operator turns a step's effective claim (the corrected one for an erratum) into a
wrong one by altering its right-hand side. A mutant is *killed* when the step's check
reports ``fails`` for it. The symbolic check and the numeric witness are scored
separately, so the report shows that each of them, on its own, rejects wrong claims.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import sympy as sp

from symsde.proof import Claim, Derivation, Step, StepContext, _run_check, is_zero

__all__ = ["OPERATORS", "Mutant", "MutationReport", "mutants", "run_mutations"]


def _nonzero(e: sp.Basic) -> bool:
    if isinstance(e, sp.MatrixBase):
        return any(x != 0 for x in e)
    return e != 0


def _double(c: Claim) -> Claim | None:
    return Claim(c.lhs, 2 * c.rhs) if _nonzero(c.rhs) else None


def _flip(c: Claim) -> Claim | None:
    return Claim(c.lhs, -c.rhs) if _nonzero(c.rhs) else None


def _shift(c: Claim) -> Claim:
    if isinstance(c.rhs, sp.MatrixBase):
        m = sp.Matrix(c.rhs)
        m[0] = m[0] + 1
        return Claim(c.lhs, m)
    return Claim(c.lhs, c.rhs + 1)


def _drop_terms(c: Claim) -> Iterator[Claim]:
    rhs = c.rhs
    if isinstance(rhs, sp.MatrixBase):
        for k, e in enumerate(rhs):
            terms = sp.Add.make_args(e)
            if len(terms) > 1:
                m = sp.Matrix(rhs)
                m[k] = sp.Add(*terms[1:])
                yield Claim(c.lhs, m)
                return
        return
    terms = sp.Add.make_args(rhs)
    if len(terms) > 1:
        for k in range(min(len(terms), 3)):
            yield Claim(c.lhs, sp.Add(*(t for j, t in enumerate(terms) if j != k)))


def _sigma_to_notes(c: Claim) -> Claim | None:
    sig = [s for s in c.rhs.free_symbols if s.name == "sigma"]
    if not sig:
        return None
    n = next((s for s in c.rhs.free_symbols | c.lhs.free_symbols if s.name == "n"),
             sp.Symbol("n", positive=True))
    return Claim(c.lhs, c.rhs.subs(sig[0], 1 / sp.sqrt(2 * n)))


def _half_to_quarter(c: Claim) -> Claim | None:
    if not c.rhs.has(sp.S.Half):
        return None
    out = c.rhs.xreplace({sp.S.Half: sp.Rational(1, 4)})
    return Claim(c.lhs, out) if out != c.rhs else None


def _as_iter(fn: Callable[[Claim], Claim | None]) -> Callable[[Claim], Iterator[Claim]]:
    def gen(c: Claim) -> Iterator[Claim]:
        out = fn(c)
        if out is not None:
            yield out

    return gen


#: name -> generator of mutated claims (empty when the operator does not apply)
OPERATORS: dict[str, Callable[[Claim], Iterator[Claim]]] = {
    "factor-2": _as_iter(_double),
    "flip-sign": _as_iter(_flip),
    "add-constant": _as_iter(_shift),
    "drop-term": _drop_terms,
    "sigma2-to-1/(2n)": _as_iter(_sigma_to_notes),
    "half-to-quarter": _as_iter(_half_to_quarter),
}


@dataclass(frozen=True)
class Mutant:
    """One altered claim and whether each checker rejected it."""

    derivation: str
    step: str
    operator: str
    claim: Claim
    killed_symbolic: bool
    killed_witness: bool

    @property
    def killed(self) -> bool:
        return self.killed_symbolic or self.killed_witness


@dataclass
class MutationReport:
    mutants: list[Mutant] = field(default_factory=list)
    seconds: float = 0.0
    #: Mutants equal to the original claim (e.g. a dropped term that is zero); not scored.
    equivalent: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.mutants)

    def rate(self, which: str = "killed") -> float:
        if not self.mutants:
            return 1.0
        return sum(getattr(m, which) for m in self.mutants) / len(self.mutants)

    @property
    def survivors(self) -> list[Mutant]:
        return [m for m in self.mutants if not m.killed]

    def by_operator(self) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for m in self.mutants:
            k, t = out.get(m.operator, (0, 0))
            out[m.operator] = (k + m.killed, t + 1)
        return out

    def summary(self) -> str:
        lines = [f"mutants: {self.total}, killed: {self.rate():.1%} "
                 f"(symbolic alone {self.rate('killed_symbolic'):.1%}, "
                 f"witness alone {self.rate('killed_witness'):.1%}), "
                 f"{len(self.equivalent)} equivalent mutants set aside, {self.seconds:.1f}s"]
        for op, (k, t) in sorted(self.by_operator().items()):
            lines.append(f"  {op:<18} {k}/{t}")
        for m in self.survivors:
            lines.append(f"  SURVIVED {m.derivation}::{m.step} [{m.operator}] {m.claim.text()}")
        return "\n".join(lines)


def mutants(step: Step, claim: Claim) -> Iterator[tuple[str, Claim]]:
    """All mutants of a claim, with the operator that made each."""
    for name, op in OPERATORS.items():
        for c in op(claim):
            yield name, c


def run_mutations(derivs: Sequence[Derivation],
                  operators: Sequence[str] | None = None) -> MutationReport:
    """Apply every operator to every step's effective claim and judge the mutants."""
    t0 = time.perf_counter()
    report = MutationReport()
    for d in derivs:
        result = d.verify()
        effective = {r.step.id: r.effective_claim for r in result.steps}
        order = [s.id for s in d.steps]
        for r in result.steps:
            st = r.step
            base = r.effective_claim
            ctx = StepContext(previous=effective, order=order, step_id=st.id)
            witness = st.witness or d.witness
            for name, claim in mutants(st, base):
                if operators is not None and name not in operators:
                    continue
                if is_zero(claim.rhs - base.rhs)[0]:
                    report.equivalent.append((d.name, st.id, name))
                    continue
                sym, num = _run_check(st.check, claim, ctx, witness, f"{st.id}:{name}")
                report.mutants.append(Mutant(d.name, st.id, name, claim,
                                             killed_symbolic=not sym.ok,
                                             killed_witness=not num.ok))
    report.seconds = time.perf_counter() - t0
    return report

