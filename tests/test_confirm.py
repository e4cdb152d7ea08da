"""``symsde.confirm`` is the deprecated old path of :mod:`symsde.stattests`.

"Confirm" means a derivation's ``confirm(seed)`` only; the old module's names still
resolve, to the very same objects, with a warning naming the new one.
"""

from __future__ import annotations

import importlib
import warnings

import pytest

import symsde.stattests as new


def test_old_imports_resolve_to_the_new_objects_with_a_warning() -> None:
    with pytest.warns(DeprecationWarning, match=r"use symsde\.stattests\.StatTestResult"):
        from symsde.confirm import Confirmation
    assert Confirmation is new.StatTestResult
    with pytest.warns(DeprecationWarning, match=r"use symsde\.stattests\.mean_test"):
        from symsde.confirm import mean_test
    assert mean_test is new.mean_test


def test_every_old_public_name_resolves() -> None:
    old = importlib.import_module("symsde.confirm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for name in old.__all__:
            assert getattr(old, name) is getattr(new, old.RENAMED.get(name, name))
    assert set(new.__all__) - {"StatTestResult"} == set(old.__all__) - {"Confirmation"}


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    import symsde.confirm as old

    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        old.nonsense  # noqa: B018
