"""Measuring a classifier on labelled examples: accuracy, macro-F1, calibration and speed."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from service.classifier.calibration import brier_score, expected_calibration_error, label_indices
from service.classifier.data import Examples
from service.classifier.model import TextClassifier

# Batches the size a worker would pull from its queue; one huge batch would flatter the speed.
BATCH_SIZE = 256


def timed_proba(model: TextClassifier, examples: Examples) -> tuple[np.ndarray, float]:
    """Probabilities for all examples and the wall time it took, batch by batch."""
    started = time.perf_counter()
    chunks = [
        model.predict_proba(
            examples.texts[i : i + BATCH_SIZE], examples.contexts[i : i + BATCH_SIZE]
        )
        for i in range(0, len(examples), BATCH_SIZE)
    ]
    elapsed = time.perf_counter() - started
    probs = np.vstack(chunks) if chunks else np.zeros((0, len(model.labels)))
    return probs, elapsed


def evaluate(model: TextClassifier, examples: Examples) -> dict[str, Any]:
    """Metrics as printed by `classifier eval`; labels unknown to the model count as errors."""
    if len(examples) == 0:
        raise ValueError("no examples to evaluate")
    probs, elapsed = timed_proba(model, examples)
    predicted = [model.labels[i] for i in probs.argmax(axis=1)]
    target = label_indices(examples.labels, model.labels)
    top3 = np.argsort(-probs, axis=1)[:, :3]
    return {
        "n": len(examples),
        "accuracy": round(float(accuracy_score(examples.labels, predicted)), 4),
        "macro_f1": round(float(f1_score(examples.labels, predicted, average="macro")), 4),
        "items_per_s": round(len(examples) / max(elapsed, 1e-9), 1),
        "top3_accuracy": round(float(np.mean((top3 == target[:, None]).any(axis=1))), 4),
        "ece": round(expected_calibration_error(probs, target), 4),
        "brier": round(brier_score(probs, target), 4),
        "unseen_label_share": round(float(np.mean(target < 0)), 4),
    }
