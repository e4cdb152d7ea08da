"""Shared helpers for the benchmarks (not a test module)."""

from __future__ import annotations

import os
import platform
import sys


def machine() -> str:
    """One line describing the machine and the library versions."""
    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores; Python {sys.version.split()[0]}, "
            f"NumPy {np.__version__}")


def quick() -> bool:
    """``--quick``: smaller sizes, to check that a benchmark runs."""
    return "--quick" in sys.argv
