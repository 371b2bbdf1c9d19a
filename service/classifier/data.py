"""Labelled examples: reading CSVs, hashing the rows, and leak-free train/test splits."""

from __future__ import annotations

import csv
import hashlib
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from sklearn.model_selection import GroupKFold, GroupShuffleSplit

from service.classifier.cleaning import clean_text, tokenize

IndexArray = NDArray[np.intp]


@dataclass(frozen=True)
class Examples:
    """Parallel lists of texts, labels and per-item context values."""

    texts: list[str]
    labels: list[str]
    contexts: list[dict[str, str]]
    # A finer label known at training time only (e.g. the reason under a category).
    aux: list[str] | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, index: Iterable[int]) -> Examples:
        picked = list(index)
        return Examples(
            texts=[self.texts[i] for i in picked],
            labels=[self.labels[i] for i in picked],
            contexts=[self.contexts[i] for i in picked],
            aux=[self.aux[i] for i in picked] if self.aux is not None else None,
        )

    @classmethod
    def from_rows(
        cls, rows: Iterable[tuple[str, str, Mapping[str, str]]], context_columns: Sequence[str]
    ) -> Examples:
        """Build from (text, label, context) triples, keeping only the named context columns."""
        texts: list[str] = []
        labels: list[str] = []
        contexts: list[dict[str, str]] = []
        for text, label, context in rows:
            if not text.strip() or not label.strip():
                continue
            texts.append(text)
            labels.append(label.strip())
            contexts.append({col: str(context.get(col, "") or "") for col in context_columns})
        return cls(texts, labels, contexts)


def read_csv_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a UTF-8 CSV with a header row."""
    # Portal exports hold texts longer than the csv module's default 128 KiB field limit.
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def read_csv_examples(
    path: Path,
    text_column: str,
    label_column: str,
    context_columns: Sequence[str] = (),
    aux_column: str | None = None,
) -> Examples:
    """Read a UTF-8 CSV with a header; rows without text or label are skipped."""
    header, rows = read_csv_rows(path)
    return examples_from_rows(
        path, header, rows, text_column, label_column, context_columns, aux_column
    )


def examples_from_rows(
    path: Path,
    header: Sequence[str],
    rows: Sequence[dict[str, str]],
    text_column: str,
    label_column: str,
    context_columns: Sequence[str] = (),
    aux_column: str | None = None,
) -> Examples:
    """Examples from CSV rows read by `read_csv_rows` (`path` is for error messages)."""
    wanted = (text_column, label_column, *context_columns, *([aux_column] if aux_column else []))
    missing = [c for c in wanted if c not in header]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; header is {list(header)}")
    rows = [r for r in rows if (r[text_column] or "").strip() and (r[label_column] or "").strip()]
    examples = Examples.from_rows(
        ((r[text_column], r[label_column], r) for r in rows), context_columns
    )
    if aux_column is None:
        return examples
    # A row without the finer label falls back to its own label as the finer one.
    aux = [(r[aux_column] or "").strip() or r[label_column].strip() for r in rows]
    return Examples(examples.texts, examples.labels, examples.contexts, aux)


def data_sha256(examples: Examples) -> str:
    """Hash of the training rows in order, so an artifact can name exactly what it learned from."""
    digest = hashlib.sha256()
    aux: list[str | None] = list(examples.aux) if examples.aux else [None] * len(examples)
    for text, label, context, finer in zip(
        examples.texts, examples.labels, examples.contexts, aux, strict=True
    ):
        parts = [text, label, *(f"{k}={v}" for k, v in sorted(context.items()))]
        if finer is not None:
            parts.append(f"aux={finer}")
        digest.update("\x1f".join(parts).encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()


def dedupe_key(text: str) -> str:
    """Texts equal up to case, markup, punctuation and numbers share a key (and a split side)."""
    return " ".join(token for token in tokenize(clean_text(text)) if not token.isdigit())


def _groups(examples: Examples) -> NDArray[np.intp]:
    keys: dict[str, int] = {}
    return np.array([keys.setdefault(dedupe_key(t), len(keys)) for t in examples.texts])


def group_folds(examples: Examples, folds: int, seed: int) -> list[tuple[IndexArray, IndexArray]]:
    """K folds that never put near-identical texts on both sides of a fold."""
    splitter = GroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = splitter.split(np.zeros(len(examples)), groups=_groups(examples))
    return [(np.asarray(a, dtype=np.intp), np.asarray(b, dtype=np.intp)) for a, b in splits]


def group_split(examples: Examples, test_size: float, seed: int) -> tuple[IndexArray, IndexArray]:
    """Random split that never puts near-identical texts on both sides."""
    groups = _groups(examples)
    splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    train, test = next(splitter.split(np.zeros(len(groups)), groups=groups))
    return np.asarray(train, dtype=np.intp), np.asarray(test, dtype=np.intp)
