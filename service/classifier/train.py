"""Training with a held-out measurement, a calibration split, and a final refit on all rows."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.classifier.calibration import fit_temperature, label_indices
from service.classifier.data import Examples, group_folds, group_split
from service.classifier.evaluate import evaluate
from service.classifier.model import ModelConfig, TextClassifier
from service.classifier.places import PLACE_WEIGHT

# The calibration slice only fits one number (the temperature), so a tenth of the rows suffices.
CALIBRATION_SHARE = 0.1
MIN_CALIBRATION_ROWS = 30
# Below this size a tenth is too few rows for a stable temperature: use out-of-fold scores.
SMALL_DATASET = 5_000
CV_FOLDS = 5


# Under this many rows a word seen once is still worth a feature (a street, an author's idiom):
# Kursk topic 0.559 -> 0.568 over five splits, body unchanged (docs/classifier.md).
RARE_WORDS_BELOW = 5_000


def config_for_size(n_rows: int, config: ModelConfig) -> ModelConfig:
    """The configuration to train with on `n_rows` examples."""
    if n_rows >= RARE_WORDS_BELOW or config.features.min_df == 1:
        return config
    return dataclasses.replace(config, features=dataclasses.replace(config.features, min_df=1))


@dataclass(frozen=True)
class TrainResult:
    model: TextClassifier
    heldout_metrics: dict[str, Any]
    n_train: int
    n_heldout: int
    seconds: float


def _fit(examples: Examples, config: ModelConfig, context_columns: Sequence[str]) -> TextClassifier:
    return TextClassifier(config, context_columns).fit(
        examples.texts, examples.labels, examples.contexts, examples.aux
    )


def _shippable(model: TextClassifier) -> TextClassifier:
    """What a model that will serve gets beyond its fit: the forms of its lemmas, looked up
    instead of parsed by a fresh worker (wordforms.py; a few seconds here)."""
    model.featurizer.index_forms()
    return model


def with_places(config: ModelConfig) -> ModelConfig:
    """The same configuration with place-mention features (places.py) switched on."""
    return dataclasses.replace(
        config, features=dataclasses.replace(config.features, place_weight=PLACE_WEIGHT)
    )


def candidate_configs(config: ModelConfig, places: bool | None) -> list[ModelConfig]:
    """Configurations to choose from: `places` None means "measure with and without"."""
    if places is None and config.features.place_weight == 0:
        return [config, with_places(config)]
    return [with_places(config) if places else config]


@dataclass(frozen=True)
class Probe:
    """A configuration measured on rows its model did not see."""

    config: ModelConfig
    temperature: float
    accuracy: float


def cross_validated_probe(
    examples: Examples, config: ModelConfig, context_columns: Sequence[str], seed: int
) -> Probe:
    """Temperature and accuracy from out-of-fold scores of every row (small datasets)."""
    scores: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    for fit_idx, out_idx in group_folds(examples, CV_FOLDS, seed):
        part, held = examples.subset(fit_idx), examples.subset(out_idx)
        model = _fit(part, config, context_columns)
        # Fold models know different label sets; the margin of the true label is what matters.
        scores.append(model.decision_function(held.texts, held.contexts))
        targets.append(label_indices(held.labels, model.labels))
    temperatures = [fit_temperature(s, t) for s, t in zip(scores, targets, strict=True)]
    hits = sum(int(np.sum(s.argmax(axis=1) == t)) for s, t in zip(scores, targets, strict=True))
    return Probe(config, float(np.median(temperatures)), hits / len(examples))


def split_probe(
    examples: Examples, config: ModelConfig, context_columns: Sequence[str], seed: int
) -> Probe:
    """Temperature and accuracy on a grouped tenth held back from training (large datasets)."""
    fit_idx, cal_idx = group_split(examples, CALIBRATION_SHARE, seed)
    calib = examples.subset(cal_idx)
    model = _fit(examples.subset(fit_idx), config, context_columns)
    temperature = model.calibrate(calib.texts, calib.labels, calib.contexts)
    predicted = model.predict(calib.texts, calib.contexts)
    accuracy = float(np.mean(np.asarray(predicted) == np.asarray(calib.labels)))
    return Probe(config, temperature, accuracy)


def fit_calibrated(
    examples: Examples,
    config: ModelConfig,
    context_columns: Sequence[str],
    seed: int,
    *,
    places: bool | None = False,
) -> TextClassifier:
    """Fit the softmax temperature on held-back rows, then train on every row.

    With `places=None` the place features are measured on the same held-back rows and kept only
    if they score higher (a tie keeps the simpler model); `model.config` says what was chosen.
    """
    configs = candidate_configs(config, places)
    if len(examples) < CV_FOLDS * MIN_CALIBRATION_ROWS:
        # Too few rows to hold any back: an uncalibrated but fully trained model is the lesser evil.
        return _shippable(_fit(examples, configs[0], context_columns))
    probe_fn = cross_validated_probe if len(examples) < SMALL_DATASET else split_probe
    probes = [probe_fn(examples, c, context_columns, seed) for c in configs]
    best = max(probes, key=lambda p: p.accuracy)  # max keeps the first of equals
    final = _fit(examples, best.config, context_columns)
    final.temperature = best.temperature
    return _shippable(final)


def train(
    examples: Examples,
    *,
    config: ModelConfig,
    context_columns: Sequence[str],
    holdout: float = 0.2,
    seed: int = 42,
    places: bool | None = False,
) -> TrainResult:
    """Measure on a de-duplicated held-out split, then train the shipped model on all rows."""
    started = time.perf_counter()
    metrics: dict[str, Any] = {}
    n_heldout = 0
    temperature: float | None = None
    chosen = config
    if holdout > 0:
        train_idx, test_idx = group_split(examples, holdout, seed)
        train_part, test_part = examples.subset(train_idx), examples.subset(test_idx)
        measured = fit_calibrated(train_part, config, context_columns, seed, places=places)
        metrics = evaluate(measured, test_part)
        n_heldout = len(test_part)
        temperature, chosen = measured.temperature, measured.config
    if temperature is None:
        final = fit_calibrated(examples, config, context_columns, seed, places=places)
    else:
        # The temperature and the place choice transfer: same features and C, 25% more rows.
        final = _shippable(_fit(examples, chosen, context_columns))
        final.temperature = temperature
    seconds = time.perf_counter() - started
    return TrainResult(final, metrics, len(examples) - n_heldout, n_heldout, seconds)
