"""Deprecated old path of :mod:`symsde.stattests` (the statistical tests).

"confirm" means one thing in symsde: a derivation module's ``confirm(seed)``, the
experiment that confirms the derivation by simulation. The statistical tests it uses are
:mod:`symsde.stattests`, and their result type is
:class:`~symsde.stattests.StatTestResult` (formerly ``Confirmation``). Every name of the
old module still resolves here, to the same object, with a :class:`DeprecationWarning`
that names the new one.

Examples
--------
>>> import warnings
>>> import symsde.confirm, symsde.stattests
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     old = symsde.confirm.Confirmation
>>> old is symsde.stattests.StatTestResult, caught[0].category.__name__
(True, 'DeprecationWarning')
"""

from __future__ import annotations

import warnings
from typing import Any

from symsde import stattests as _stattests

#: Old names whose new name differs (every other name is unchanged).
RENAMED = {"Confirmation": "StatTestResult"}

_OLD = {new: old for old, new in RENAMED.items()}
#: The old module's public names: the new module's, under their old names
__all__ = [_OLD.get(n, n) for n in _stattests.__all__]


def __getattr__(name: str) -> Any:
    new = RENAMED.get(name, name)
    if name not in __all__:  # only the old public names, not the module's internals
        raise AttributeError(f"module 'symsde.confirm' has no attribute {name!r}")
    warnings.warn(f"symsde.confirm.{name} is deprecated: use symsde.stattests.{new}",
                  DeprecationWarning, stacklevel=2)
    return getattr(_stattests, new)
