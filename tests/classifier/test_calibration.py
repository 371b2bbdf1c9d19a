from __future__ import annotations

import numpy as np

from service.classifier.calibration import (
    brier_score,
    expected_calibration_error,
    fit_temperature,
    label_indices,
    softmax,
)
from service.classifier.data import group_split
from service.classifier.model import TextClassifier

from .conftest import as_examples, make_rows


def test_softmax_rows_sum_to_one() -> None:
    scores = np.array([[1.0, -2.0, 0.5], [1000.0, 999.0, -1000.0]])
    for temperature in (0.01, 1.0, 10.0):
        probs = softmax(scores, temperature)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0)
        assert np.all(np.isfinite(probs))


def test_metrics_of_a_perfect_and_a_useless_model() -> None:
    target = np.array([0, 1, 2])
    assert expected_calibration_error(np.eye(3), target) == 0.0
    assert brier_score(np.eye(3), target) == 0.0
    uniform = np.full((3, 3), 1 / 3)
    assert abs(brier_score(uniform, target) - 2 / 3) < 1e-9


def test_unseen_labels_count_as_wrong_not_as_the_last_class() -> None:
    target = label_indices(["a", "zzz"], ["a", "b"])
    assert target.tolist() == [0, -1]
    probs = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert brier_score(probs, target) == 0.5
    assert fit_temperature(np.array([[2.0, 0.0], [0.0, 2.0]]), target) > 0


def test_temperature_scaling_beats_raw_svm_margins() -> None:
    # Noisy labels (a fifth flipped), as in real data, so confidence must stay below 1.
    rows = make_rows(600, seed=5)
    rng = np.random.default_rng(0)
    for row in rows:
        if rng.random() < 0.2:
            row["topic"] = str(rng.choice(["roads", "light", "waste"]))
    examples = as_examples(rows, "topic")
    fit_idx, rest_idx = group_split(examples, 0.5, seed=0)
    rest = examples.subset(rest_idx)
    cal_idx, test_idx = group_split(rest, 0.5, seed=0)
    fit, cal, test = examples.subset(fit_idx), rest.subset(cal_idx), rest.subset(test_idx)
    model = TextClassifier().fit(fit.texts, fit.labels)
    scores = model.decision_function(test.texts)
    target = label_indices(test.labels, model.labels)
    raw = softmax(scores, 1.0)
    model.calibrate(cal.texts, cal.labels)
    calibrated = model.predict_proba(test.texts)
    np.testing.assert_allclose(calibrated.sum(axis=1), 1.0)
    assert model.temperature < 1.0
    assert expected_calibration_error(calibrated, target) < expected_calibration_error(raw, target)
    assert brier_score(calibrated, target) < brier_score(raw, target)
