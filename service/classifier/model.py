"""The trainable text classifier: sparse n-grams, a linear SVM, a temperature-scaled softmax."""

from __future__ import annotations

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


class TextClassifier:
    """Predicts a label from a text and optional context columns (e.g. district)."""

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
        self, texts: Sequence[str], labels: Sequence[str], contexts: Sequence[Context] | None = None
    ) -> TextClassifier:
        if len(set(labels)) < 2:
            raise ValueError("training needs at least two distinct labels")
        matrix = self.featurizer.fit_transform(texts, contexts or _no_context(len(texts)))
        svm = LinearSVC(C=self.config.svm_c, class_weight=self.config.class_weight, random_state=0)
        svm.fit(matrix, np.asarray(labels))
        self.labels = tuple(str(label) for label in svm.classes_)
        coef = np.asarray(svm.coef_, dtype=np.float32)
        bias = np.asarray(svm.intercept_, dtype=np.float32)
        if len(self.labels) == 2:
            # A binary SVM has one margin; two symmetric columns keep the multi-class code path.
            coef = np.vstack([-coef, coef]) * np.float32(0.5)
            bias = np.concatenate([-bias, bias]) * np.float32(0.5)
        self._weights = np.ascontiguousarray(coef.T)
        self._bias = bias
        return self

    def decision_function(
        self, texts: Sequence[str], contexts: Sequence[Context] | None = None
    ) -> NDArray[np.float32]:
        contexts = contexts or _no_context(len(texts))
        if len(texts) == 1:
            # One item (the worker's usual case): a gather of weight rows beats building a matrix.
            index, values = self.featurizer.row(texts[0], contexts[0])
            single: NDArray[np.float32] = values @ self._weights[index] + self._bias
            return single.reshape(1, -1)
        matrix = self.featurizer.transform(texts, contexts)
        scores: NDArray[np.float32] = np.asarray(matrix @ self._weights) + self._bias
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
