"""The trainable text classifier: sparse n-grams, a linear SVM, a temperature-scaled softmax."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.svm import LinearSVC

from service.classifier.calibration import fit_temperature, label_indices, softmax
from service.classifier.features import Context, FeatureConfig, Featurizer


@dataclass(frozen=True)
class ModelConfig:
    """Model hyper-parameters chosen in docs/classifier.md; stored in the artifact sidecar."""

    features: FeatureConfig = field(default_factory=FeatureConfig)
    svm_c: float = 0.5
    class_weight: str | None = None
    # With a finer auxiliary label (reason under category): a label's score gains this many times
    # the best score among its finer labels (docs/classifier.md, +0.5 points on SPb category).
    aux_weight: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelConfig:
        values = dict(data)
        values["features"] = FeatureConfig.from_dict(values.get("features", {}))
        return cls(**values)


@dataclass(frozen=True)
class Prediction:
    """One item's outcome: the best label, its calibrated probability and the alternatives."""

    label: str
    confidence: float
    runner_up: str | None
    runner_up_confidence: float
    top: tuple[tuple[str, float], ...]


def _no_context(n: int) -> list[Context]:
    return [{} for _ in range(n)]


def _linear(svm: LinearSVC) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """(features × classes weights, biases) in float32, two columns for a binary problem."""
    coef = np.asarray(svm.coef_, dtype=np.float32)
    bias = np.asarray(svm.intercept_, dtype=np.float32)
    if len(svm.classes_) == 2:
        # A binary SVM has one margin; two symmetric columns keep the multi-class code path.
        coef = np.vstack([-coef, coef]) * np.float32(0.5)
        bias = np.concatenate([-bias, bias]) * np.float32(0.5)
    return np.ascontiguousarray(coef.T), bias


class TextClassifier:
    """Predicts a label from a text and optional context columns (e.g. district)."""

    # Finer-label model (optional): weights with columns grouped by the label that owns them.
    # Class attributes, so artifacts pickled before the auxiliary label existed still load.
    _aux_weights: NDArray[np.float32] | None = None
    _aux_bias: NDArray[np.float32] | None = None
    _aux_starts: NDArray[np.intp] | None = None
    _aux_owners: NDArray[np.intp] | None = None

    def __init__(
        self, config: ModelConfig | None = None, context_columns: Sequence[str] = ()
    ) -> None:
        self.config = config or ModelConfig()
        self.featurizer = Featurizer(self.config.features, context_columns)
        self.labels: tuple[str, ...] = ()
        self._label_set: frozenset[str] | None = None
        self.temperature = 1.0
        # Stored transposed and in float32: half the memory of sklearn's coef_ and a faster product.
        self._weights: NDArray[np.float32] = np.zeros((0, 0), dtype=np.float32)
        self._bias: NDArray[np.float32] = np.zeros(0, dtype=np.float32)

    @property
    def label_set(self) -> frozenset[str]:
        if self._label_set is None or len(self._label_set) != len(self.labels):
            self._label_set = frozenset(self.labels)
        return self._label_set

    @property
    def context_columns(self) -> tuple[str, ...]:
        return self.featurizer.context_columns

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        contexts: Sequence[Context] | None = None,
        aux_labels: Sequence[str] | None = None,
    ) -> TextClassifier:
        if len(set(labels)) < 2:
            raise ValueError("training needs at least two distinct labels")
        matrix = self.featurizer.fit_transform(texts, contexts or _no_context(len(texts)))
        svm = LinearSVC(C=self.config.svm_c, class_weight=self.config.class_weight, random_state=0)
        svm.fit(matrix, np.asarray(labels))
        self.labels = tuple(str(label) for label in svm.classes_)
        self._weights, self._bias = _linear(svm)
        if aux_labels is not None and self.config.aux_weight > 0 and len(set(aux_labels)) > 1:
            self._fit_aux(matrix, labels, aux_labels)
        return self

    def _fit_aux(self, matrix: Any, labels: Sequence[str], aux: Sequence[str]) -> None:
        svm = LinearSVC(C=self.config.svm_c, random_state=0).fit(matrix, np.asarray(aux))
        weights, bias = _linear(svm)
        # Each finer label belongs to the label it was given with most often.
        counts: dict[str, Counter[str]] = {}
        for label, finer in zip(labels, aux, strict=True):
            counts.setdefault(finer, Counter())[label] += 1
        index = {label: i for i, label in enumerate(self.labels)}
        owners = np.array([index[counts[str(a)].most_common(1)[0][0]] for a in svm.classes_])
        order = np.argsort(owners, kind="stable")
        owners = owners[order]
        self._aux_weights = np.ascontiguousarray(weights[:, order])
        self._aux_bias = bias[order]
        self._aux_starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
        self._aux_owners = owners[self._aux_starts]

    def _aux_boost(self, scores: NDArray[np.float32]) -> NDArray[np.float32]:
        """Per label, the best score among its finer labels (the row's worst where it has none)."""
        assert self._aux_starts is not None and self._aux_owners is not None
        boost = np.repeat(scores.min(axis=1, keepdims=True), len(self.labels), axis=1)
        boost[:, self._aux_owners] = np.maximum.reduceat(scores, self._aux_starts, axis=1)
        return boost

    def decision_function(
        self, texts: Sequence[str], contexts: Sequence[Context] | None = None
    ) -> NDArray[np.float32]:
        contexts = contexts or _no_context(len(texts))
        aux, aux_bias = self._aux_weights, self._aux_bias
        if len(texts) == 1:
            # One item (the worker's usual case): a gather of weight rows beats building a matrix.
            index, values = self.featurizer.row(texts[0], contexts[0])
            single: NDArray[np.float32] = (values @ self._weights[index] + self._bias)[None, :]
            if aux is not None and aux_bias is not None:
                finer = (values @ aux[index] + aux_bias)[None, :]
                single = single + np.float32(self.config.aux_weight) * self._aux_boost(finer)
            return single
        matrix = self.featurizer.transform(texts, contexts)
        scores: NDArray[np.float32] = np.asarray(matrix @ self._weights) + self._bias
        if aux is not None and aux_bias is not None:
            finer = np.asarray(matrix @ aux) + aux_bias
            scores = scores + np.float32(self.config.aux_weight) * self._aux_boost(finer)
        return scores

    def predict_proba(
        self, texts: Sequence[str], contexts: Sequence[Context] | None = None
    ) -> NDArray[np.float64]:
        """Calibrated class probabilities; columns follow `self.labels`."""
        return softmax(self.decision_function(texts, contexts), self.temperature)

    def predict(self, texts: Sequence[str], contexts: Sequence[Context] | None = None) -> list[str]:
        best = self.decision_function(texts, contexts).argmax(axis=1)
        return [self.labels[i] for i in best]

    def predict_one(self, text: str, context: Context | None = None, top_k: int = 3) -> Prediction:
        probs = self.predict_proba([text], [context or {}])[0]
        order = np.argsort(-probs)[: max(top_k, 2)]
        top = tuple((self.labels[i], float(probs[i])) for i in order)
        runner = top[1] if len(top) > 1 else (None, 0.0)
        return Prediction(top[0][0], top[0][1], runner[0], runner[1], top[:top_k])

    def calibrate(
        self, texts: Sequence[str], labels: Sequence[str], contexts: Sequence[Context] | None = None
    ) -> float:
        """Fit the softmax temperature on data the model was not trained on."""
        target = label_indices(labels, self.labels)
        self.temperature = fit_temperature(self.decision_function(texts, contexts), target)
        return self.temperature
