"""A second, tiny lecture package used by the tests: symsde must find it through the
entry-point group ``symsde.derivations`` exactly as it finds its own lecture."""

from symsde.registry import Lecture, Part

LECTURE = Lecture(
    package="toy_lecture",
    title="A toy lecture",
    parts=(Part("toy_square", "The variance of a standard normal"),),
    equations=(("T1", "Toy slide", r"\int_{-\infty}^{\infty} u^2 \phi(u) du = 1"),),
)
