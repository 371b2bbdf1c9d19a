"""A finer label used at training time only: each label scores with its best finer label."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from service.classifier.artifact import load_model
from service.classifier.data import Examples, data_sha256, read_csv_examples
from service.classifier.model import ModelConfig, TextClassifier
from tests.conftest import run_cli

from .conftest import TOPICS, assert_paths_agree, make_rows, write_csv


def _with_phrase_label(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Adds `phrase`: which of its topic's phrases a text uses (a finer label than topic)."""
    out = []
    for row in rows:
        topic = row["topic"]
        phrase = next(i for i, p in enumerate(TOPICS[topic]) if p in row["text"])
        out.append({**row, "phrase": f"{topic}:{phrase}"})
    return out


def _examples(rows: list[dict[str, str]]) -> Examples:
    triples = [(r["text"], r["topic"], r) for r in rows]
    base = Examples.from_rows(triples, ())
    return Examples(base.texts, base.labels, base.contexts, [r["phrase"] for r in rows])


def test_boost_is_the_best_finer_score_of_each_label() -> None:
    model = TextClassifier()
    model.labels = ("a", "b", "c")
    # Finer labels a1, a2 belong to a; b1 to b; c has none.
    model._aux_starts = np.array([0, 2])
    model._aux_owners = np.array([0, 1])
    scores = np.array([[0.2, 0.9, -0.4], [-1.0, -0.5, 0.3]], dtype=np.float32)
    boost = model._aux_boost(scores)
    np.testing.assert_allclose(boost, [[0.9, -0.4, -0.4], [-0.5, 0.3, -1.0]])


def test_training_with_a_finer_label_predicts_the_label() -> None:
    examples = _examples(_with_phrase_label(make_rows(240)))
    plain = TextClassifier().fit(examples.texts, examples.labels)
    finer = TextClassifier().fit(examples.texts, examples.labels, aux_labels=examples.aux)
    assert finer.labels == plain.labels == ("light", "roads", "waste")
    assert finer._aux_weights is not None and finer._aux_weights.shape[1] == 10
    texts = ["не горит фонарь у дома", "свалка за гаражами", "яма на дороге"]
    assert finer.predict(texts) == ["light", "waste", "roads"]
    # The single-item path and the batch path agree with the finer model too.
    assert_paths_agree(finer, texts)


def test_zero_weight_turns_the_finer_model_off() -> None:
    examples = _examples(_with_phrase_label(make_rows(120)))
    model = TextClassifier(ModelConfig(aux_weight=0.0))
    model.fit(examples.texts, examples.labels, aux_labels=examples.aux)
    assert model._aux_weights is None


def test_finer_label_changes_the_data_hash(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "rows.csv", _with_phrase_label(make_rows(60)))
    plain = read_csv_examples(path, "text", "topic")
    finer = read_csv_examples(path, "text", "topic", aux_column="phrase")
    assert finer.aux is not None and len(finer.aux) == len(finer.texts)
    assert data_sha256(plain) != data_sha256(finer)


def test_cli_trains_with_a_finer_label(tmp_path: Path, cli_env: dict[str, str]) -> None:
    path = write_csv(tmp_path / "rows.csv", _with_phrase_label(make_rows(200)))
    out = tmp_path / "m.joblib"
    common = ["--input", str(path), "--text-column", "text", "--label-column", "topic"]
    result = run_cli(
        cli_env, "classifier", "train", *common, "--aux-label-column", "phrase", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    loaded = load_model(out)
    assert loaded.metadata.aux_label_column == "phrase"
    assert loaded.model._aux_weights is not None
    evaluated = run_cli(cli_env, "classifier", "eval", "--model", str(out), *common)
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["accuracy"] >= 0.9


def test_stacked_finer_label_learns_from_the_lemma_block_and_paths_agree() -> None:
    examples = _examples(_with_phrase_label(make_rows(300)))
    model = TextClassifier().fit(examples.texts, examples.labels, aux_labels=examples.aux)
    assert model._aux_width == model.featurizer.word_width
    assert model._aux_weights is not None
    assert model._aux_weights.shape[0] == model.featurizer.word_width
    # [label scores | best finer score per label] -> label logits
    assert model._stack_weights is not None and model._stack_weights.shape == (6, 3)
    texts = ["не горит фонарь у дома", "свалка за гаражами", "яма на дороге", "<p>срочно</p>"]
    assert model.predict(texts[:3]) == ["light", "waste", "roads"]
    assert_paths_agree(model, texts)


def test_without_stack_folds_the_finer_score_is_added() -> None:
    examples = _examples(_with_phrase_label(make_rows(200)))
    model = TextClassifier(ModelConfig(aux_stack_folds=0))
    model.fit(examples.texts, examples.labels, aux_labels=examples.aux)
    # The additive form (artifacts trained before the stacker): finer SVM on every feature.
    assert model._stack_weights is None and model._aux_width is None
    assert model._aux_weights is not None
    assert model._aux_weights.shape[0] == model.featurizer.n_features
    assert model.predict(["свалка за гаражами"]) == ["waste"]


def test_a_label_missing_from_a_fold_does_not_break_the_stack() -> None:
    rows = _with_phrase_label(make_rows(150))
    # One example of a fourth label: some folds never see it.
    rows.append({**rows[0], "text": "сломана скамейка", "topic": "benches", "phrase": "benches:0"})
    examples = _examples(rows)
    model = TextClassifier().fit(examples.texts, examples.labels, aux_labels=examples.aux)
    assert "benches" in model.labels and model._stack_weights is not None
    assert np.isfinite(model.predict_proba(["яма на дороге"])).all()
