"""The trainable text classifier: sparse n-grams, a linear SVM, a temperature-scaled softmax."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

try:  # private, but stable across scipy 1.x; the fallback is the plain gather
    from scipy.sparse._sparsetools import csr_matvecs as _csr_matvecs
except ImportError:  # pragma: no cover
    _csr_matvecs = None

from service.classifier.calibration import fit_temperature, label_indices, softmax
from service.classifier.data import Examples, group_folds
from service.classifier.features import Context, FeatureConfig, Featurizer


@dataclass(frozen=True)
class ModelConfig:
    """Model hyper-parameters chosen in docs/classifier.md; stored in the artifact sidecar."""

    features: FeatureConfig = field(default_factory=FeatureConfig)
    svm_c: float = 0.5
    class_weight: str | None = None
    # With a finer auxiliary label (reason under category): a label's score gains this many times
    # the best score among its finer labels (docs/classifier.md, +0.5 points on SPb category).
    # 0 turns the finer label off. With stack folds >= 2 the two score sets are combined by a
    # logistic regression fitted on out-of-fold scores instead (SPb category 0.922 → 0.924,
    # macro-F1 0.844 → 0.857, half the training time: the finer SVM sees the lemma block only).
    aux_weight: float = 1.0
    aux_stack_folds: int = 3
    aux_stack_c: float = 0.1

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


# The bias of a label a cross-validation fold never saw: it must not win any row.
ABSENT = -1e4
# Fewer rows than this cannot fill the stacker's folds: the finer score is simply added.
MIN_STACK_ROWS = 100


def _row_dot(
    index: NDArray[np.int64], values: NDArray[np.float32], weights: NDArray[np.float32]
) -> NDArray[np.float32]:
    """One sparse row times the (features × labels) weights, as a (labels,) vector.

    scipy's compiled CSR kernel adds value × weight row straight into the result; gathering the
    ~1,000 weight rows of a long text first copies ~0.5 MB and costs 2.5× as much. Building a
    public csr_matrix for one row costs more than the product, hence the kernel itself.
    """
    out = np.zeros(weights.shape[1], dtype=np.float32)
    if _csr_matvecs is None or not weights.flags.c_contiguous or weights.dtype != np.float32:
        return np.asarray(values @ weights[index], dtype=np.float32)
    rows, cols = weights.shape
    # The kernel checks nothing: a stray index or a short values array would read past them.
    if len(values) != len(index):
        raise ValueError(f"{len(index)} feature indices but {len(values)} values")
    if len(index) and (int(index.max()) >= rows or int(index.min()) < 0):
        raise IndexError(f"feature indices {int(index.min())}..{int(index.max())} outside {rows}")
    indptr = np.array([0, len(index)], dtype=np.int64)
    _csr_matvecs(1, rows, cols, indptr, index, values.astype(np.float32), weights.ravel(), out)
    return out


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
    # Rows of the finer weights: the first `_aux_width` features (None: all of them).
    _aux_width: int | None = None
    # The stacker over [label scores | best finer score per label], scaling folded in.
    _stack_weights: NDArray[np.float32] | None = None
    _stack_bias: NDArray[np.float32] | None = None

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
            stacked = self.config.aux_stack_folds >= 2 and len(texts) >= MIN_STACK_ROWS
            # The stacked finer SVM learns from the lemma block only: as good, 8x cheaper.
            width = self.featurizer.word_width if stacked else None
            self._fit_aux(matrix, labels, aux_labels, width)
            if stacked:
                self._fit_stack(matrix, texts, labels, aux_labels)
        return self

    def _fit_aux(
        self, matrix: Any, labels: Sequence[str], aux: Sequence[str], width: int | None
    ) -> None:
        finer = matrix[:, :width] if width is not None else matrix
        svm = LinearSVC(C=self.config.svm_c, random_state=0).fit(finer, np.asarray(aux))
        weights, bias = _linear(svm)
        # Each finer label belongs to the label it was given with most often.
        counts: dict[str, Counter[str]] = {}
        for label, fine in zip(labels, aux, strict=True):
            counts.setdefault(str(fine), Counter())[str(label)] += 1
        index = {label: i for i, label in enumerate(self.labels)}
        owners = np.array([index[counts[str(a)].most_common(1)[0][0]] for a in svm.classes_])
        order = np.argsort(owners, kind="stable")
        owners = owners[order]
        self._aux_weights = np.ascontiguousarray(weights[:, order])
        self._aux_bias = bias[order]
        self._aux_starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
        self._aux_owners = owners[self._aux_starts]
        self._aux_width = width

    def _fit_stack(
        self, matrix: Any, texts: Sequence[str], labels: Sequence[str], aux: Sequence[str]
    ) -> None:
        """Learn how to combine both score sets from scores on rows each fold did not see."""
        examples = Examples(list(texts), list(labels), [{} for _ in range(len(texts))])
        inputs = np.zeros((len(texts), 2 * len(self.labels)), dtype=np.float32)
        target, fine = np.asarray(labels), np.asarray(aux)
        for fit_idx, out_idx in group_folds(examples, self.config.aux_stack_folds, seed=0):
            fold = TextClassifier(self.config)
            fold.featurizer, fold.labels = self.featurizer, self.labels
            fold._fit_fold(matrix[fit_idx], target[fit_idx], fine[fit_idx], self._aux_width)
            scores = fold._scores(matrix[out_idx])
            absent = fold._bias == ABSENT
            if absent.any():  # a label this fold never saw scores like the row's weakest one
                scores[:, absent] = scores[:, ~absent].min(axis=1, keepdims=True)
            inputs[out_idx] = np.hstack([scores, fold._aux_boost(fold._finer(matrix[out_idx]))])
        mean, std = inputs.mean(axis=0), inputs.std(axis=0) + np.float32(1e-6)
        stacker = LogisticRegression(C=self.config.aux_stack_c, max_iter=3000)
        stacker.fit((inputs - mean) / std, target)
        # The standardisation folds into the weights: prediction stays one product and a sum.
        order = [list(stacker.classes_).index(label) for label in self.labels]
        coef = stacker.coef_[order].T / std[:, None]
        self._stack_weights = np.ascontiguousarray(coef, dtype=np.float32)
        self._stack_bias = np.asarray(stacker.intercept_[order] - mean @ coef, dtype=np.float32)

    def _fit_fold(
        self, matrix: Any, labels: NDArray[Any], aux: NDArray[Any], width: int | None
    ) -> None:
        """A fold's label and finer SVMs over the full label set (absent labels never win)."""
        svm = LinearSVC(C=self.config.svm_c, random_state=0).fit(matrix, labels)
        weights, bias = _linear(svm)
        known = [self.labels.index(str(c)) for c in svm.classes_]
        self._weights = np.zeros((weights.shape[0], len(self.labels)), dtype=np.float32)
        self._bias = np.full(len(self.labels), ABSENT, dtype=np.float32)
        self._weights[:, known], self._bias[known] = weights, bias
        self._fit_aux(matrix, list(labels), list(aux), width)

    def _scores(self, matrix: Any) -> NDArray[np.float32]:
        return np.asarray(matrix @ self._weights, dtype=np.float32) + self._bias

    def _finer(self, matrix: Any) -> NDArray[np.float32]:
        assert self._aux_weights is not None and self._aux_bias is not None
        part = matrix[:, : self._aux_width] if self._aux_width is not None else matrix
        return np.asarray(part @ self._aux_weights, dtype=np.float32) + self._aux_bias

    def _combine(self, scores: NDArray[np.float32], finer: NDArray[np.float32]) -> NDArray[Any]:
        boost = self._aux_boost(finer)
        if self._stack_weights is not None and self._stack_bias is not None:
            stacked = np.hstack([scores, boost]) @ self._stack_weights + self._stack_bias
            return np.asarray(stacked, dtype=np.float32)
        return scores + np.float32(self.config.aux_weight) * boost

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
        if len(texts) != 1:
            matrix = self.featurizer.transform(texts, contexts)
            scores = self._scores(matrix)
            if self._aux_weights is None:
                return scores
            return self._combine(scores, self._finer(matrix))
        # One item (the worker's usual case): a gather of weight rows beats building a matrix.
        index, values = self.featurizer.row(texts[0], contexts[0])
        single = (_row_dot(index, values, self._weights) + self._bias)[None, :]
        aux, aux_bias = self._aux_weights, self._aux_bias
        if aux is None or aux_bias is None:
            return single
        if self._aux_width is not None:
            keep = index < self._aux_width
            index, values = index[keep], values[keep]
        return self._combine(single, (_row_dot(index, values, aux) + aux_bias)[None, :])

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
