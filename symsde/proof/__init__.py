"""The proof kernel: derivations as ordered, machine-checked steps.

- :mod:`symsde.proof.claim`: a claim ``lhs = rhs``.
- :mod:`symsde.proof.algebra`: deciding ``expr == 0`` (a numeric disproof, then SymPy).
- :mod:`symsde.proof.kernel`: the four kinds of step (definition, computed, rule,
  erratum), grounding of left sides and the verdicts.
- :mod:`symsde.proof.rules`: the named sound rules a rule step may use.
- :mod:`symsde.proof.witness`: numeric witnesses that evaluate each side on its own.
- :mod:`symsde.proof.mutation`: mutants of right sides, left sides, definitions and
  premises, which the checks must reject.
- :mod:`symsde.proof.render`: text, LaTeX, Markdown, MyST and JSON forms of a verified
  derivation.
- :mod:`symsde.proof.notes`: each step compared with the notes' displays as written.
"""

from symsde.proof.kernel import (
    Check,
    CheckOutcome,
    Claim,
    Computed,
    Define,
    Derivation,
    DerivationResult,
    EquationCheck,
    FollowsFrom,
    GroundingError,
    Identity,
    Notation,
    SolvesODE,
    Step,
    StepContext,
    StepKind,
    StepResult,
    Verdict,
    check_equation,
    is_zero,
)
from symsde.proof.rules import (
    AddBoth,
    ApplyBoth,
    Combine,
    DifferentiateBoth,
    DivideBoth,
    Given,
    GivenThroughout,
    Induction,
    Instantiate,
    IntegrateBoth,
    LimitBoth,
    MultiplyBoth,
    Rearrange,
    Rewrite,
    Rule,
    RuleMisuseError,
    Specialise,
    Substitute,
)
from symsde.proof.witness import (
    WITNESS_DIGITS,
    WITNESS_POINTS,
    Witness,
    confining_polynomial,
    polynomial,
)

__all__ = [
    "WITNESS_DIGITS",
    "WITNESS_POINTS",
    "AddBoth",
    "ApplyBoth",
    "Check",
    "CheckOutcome",
    "Claim",
    "Combine",
    "Computed",
    "Define",
    "Derivation",
    "DerivationResult",
    "DifferentiateBoth",
    "DivideBoth",
    "EquationCheck",
    "FollowsFrom",
    "Given",
    "GivenThroughout",
    "GroundingError",
    "Identity",
    "Induction",
    "Instantiate",
    "IntegrateBoth",
    "LimitBoth",
    "MultiplyBoth",
    "Notation",
    "Rearrange",
    "Rewrite",
    "Rule",
    "RuleMisuseError",
    "SolvesODE",
    "Specialise",
    "Step",
    "StepContext",
    "StepKind",
    "StepResult",
    "Substitute",
    "Verdict",
    "Witness",
    "check_equation",
    "confining_polynomial",
    "is_zero",
    "polynomial",
]
