"""The experiment record: predictions must pass, wrong predictions must be rejected.

The samples are standard normals drawn with a fixed seed; the mean test's verdicts below
were computed independently (|sample mean| * sqrt(n) against 5, by hand in the test), so
the record's ``ok`` is checked against a truth it does not compute itself.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from symsde.experiment import Experiment, Trial
from symsde.stattests import StatTestResult, mean_test

X = np.random.default_rng(0).standard_normal(4000)


def test_the_samples_separate_the_two_claims() -> None:
    # independent of symsde: z-scores of the sample mean against 0 and 1/2
    se = X.std(ddof=1) / math.sqrt(X.size)
    assert abs(X.mean() - 0.0) / se < 5 < abs(X.mean() - 0.5) / se


def test_predict_and_reject_record_trials_with_their_expectation() -> None:
    exp = Experiment("toy", "standard normals", seed=0)
    r = exp.predict("E[X] = 0", mean_test(X, 0.0))
    w = exp.reject("E[X] = 1/2", mean_test(X, 0.5))
    assert r.verdict and not w.verdict
    assert exp.predictions == [Trial("E[X] = 0", r, expect=True)]
    assert exp.wrong_predictions == [Trial("E[X] = 1/2", w, expect=False)]
    assert exp.trials == [*exp.predictions, *exp.wrong_predictions]
    assert exp.ok
    d = exp.to_dict()
    assert [t["claim"] for t in d["predictions"]] == ["E[X] = 0"]
    assert [t["claim"] for t in d["wrong_predictions"]] == ["E[X] = 1/2"]


@pytest.mark.parametrize("case", ["prediction fails", "wrong prediction passes",
                                  "no prediction"])
def test_ok_rejects_an_experiment_that_did_not_come_out_as_required(case: str) -> None:
    exp = Experiment("toy", "standard normals", seed=0)
    if case == "prediction fails":
        exp.predict("E[X] = 1/2", mean_test(X, 0.5))  # a wrong claim recorded as a prediction
        exp.reject("E[X] = 1", mean_test(X, 1.0))
    elif case == "wrong prediction passes":
        exp.predict("E[X] = 0", mean_test(X, 0.0))
        exp.reject("E[X] = 0 (not wrong at all)", mean_test(X, 0.0))
    else:
        exp.reject("E[X] = 1", mean_test(X, 1.0))
    assert not exp.ok


def test_trial_as_expected_follows_the_verdict_and_the_expectation() -> None:
    yes = StatTestResult("mean", 1.0, 5.0, True, "consistent")
    no = StatTestResult("mean", 9.0, 5.0, False, "REJECTED")
    assert Trial("c", yes).as_expected and not Trial("c", no).as_expected
    assert Trial("c", no, expect=False).as_expected
    assert not Trial("c", yes, expect=False).as_expected


def test_the_old_names_still_work_and_warn() -> None:
    exp = Experiment("toy", "standard normals", seed=0)
    with pytest.warns(DeprecationWarning, match=r"Experiment\.predict\(\)"):
        r = exp.confirm("E[X] = 0", mean_test(X, 0.0))
    exp.reject("E[X] = 1/2", mean_test(X, 0.5))
    with pytest.warns(DeprecationWarning, match=r"Experiment\.predictions"):
        assert exp.confirmations is exp.predictions
    with pytest.warns(DeprecationWarning, match=r"Experiment\.wrong_predictions"):
        assert exp.power is exp.wrong_predictions
    assert exp.predictions[0].result is r and exp.ok
