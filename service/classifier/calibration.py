"""Temperature scaling of decision scores and calibration metrics (ECE, Brier)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize_scalar

FloatArray = NDArray[np.float64]


def softmax(scores: NDArray[np.floating], temperature: float = 1.0) -> FloatArray:
    z = np.asarray(scores, dtype=np.float64) / temperature
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def _nll(scores: FloatArray, target: NDArray[np.intp], temperature: float) -> float:
    probs = softmax(scores, temperature)
    picked = probs[np.arange(len(target)), target]
    return float(-np.mean(np.log(np.clip(picked, 1e-12, None))))


def fit_temperature(scores: NDArray[np.floating], target: NDArray[np.intp]) -> float:
    """Temperature minimising held-out log-loss; SVM margins are far from log-odds, so T ≪ 1."""
    # Rows whose label the model never saw say nothing about the temperature.
    known = target >= 0
    values = np.asarray(scores, dtype=np.float64)[known]
    target = target[known]
    result = minimize_scalar(
        lambda log_t: _nll(values, target, float(np.exp(log_t))),
        bounds=(np.log(1e-3), np.log(1e2)),
        method="bounded",
    )
    return float(np.exp(result.x))


def expected_calibration_error(
    probs: FloatArray, target: NDArray[np.intp], bins: int = 15
) -> float:
    """Top-label ECE with equal-width confidence bins."""
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == target
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = index == b
        if mask.any():
            total += mask.mean() * abs(confidence[mask].mean() - correct[mask].mean())
    return float(total)


def brier_score(probs: FloatArray, target: NDArray[np.intp]) -> float:
    """Multi-class Brier score: mean squared distance to the one-hot truth (0 best, 2 worst)."""
    onehot = np.zeros_like(probs)
    known = target >= 0
    onehot[np.flatnonzero(known), target[known]] = 1.0
    return float(np.mean(np.sum((probs - onehot) ** 2, axis=1)))


def label_indices(labels: Sequence[str], classes: Sequence[str]) -> NDArray[np.intp]:
    """Index of each label in classes; unseen labels get -1 (never counted as correct)."""
    lookup = {label: i for i, label in enumerate(classes)}
    return np.array([lookup.get(label, -1) for label in labels], dtype=np.intp)
