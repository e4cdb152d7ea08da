"""Small formatting helpers shared by the simulator and the guards (no imports of either)."""

from __future__ import annotations

__all__ = ["fmt_bytes"]


def fmt_bytes(b: float) -> str:
    """A byte count with three significant digits and a decimal unit.

    Examples
    --------
    >>> fmt_bytes(999), fmt_bytes(1_234_567), fmt_bytes(8e18)
    ('999 B', '1.23 MB', '8e+03 PB')
    """
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if b < 1000 or unit == "PB":
            return f"{b:.3g} {unit}"
        b /= 1000
    return f"{b:.3g} PB"  # pragma: no cover
