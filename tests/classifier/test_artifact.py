from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from service.classifier.artifact import (
    ArtifactMetadata,
    ModelHolder,
    load_model,
    save_model,
    sidecar_path,
)
from service.classifier.data import data_sha256
from service.classifier.model import TextClassifier

from .conftest import as_examples


def _train_and_save(
    rows: list[dict[str, str]], label: str, path: Path, version: str
) -> ArtifactMetadata:
    examples = as_examples(rows, label)
    model = TextClassifier().fit(examples.texts, examples.labels)
    meta = ArtifactMetadata(
        model_version=version,
        created_at="2025-01-01T00:00:00+00:00",
        data_sha256=data_sha256(examples),
        n_rows=len(examples),
        text_column="text",
        label_column=label,
        context_columns=[],
        labels=list(model.labels),
        metrics={"heldout": {"accuracy": 1.0}},
        model_config=model.config.to_dict(),
        temperature=model.temperature,
    )
    return save_model(model, path, meta)


def test_roundtrip_keeps_predictions_and_metadata(
    tmp_path: Path, rows: list[dict[str, str]]
) -> None:
    path = tmp_path / "m.joblib"
    saved = _train_and_save(rows, "topic", path, "v1")
    sidecar = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
    for key in (
        "model_version",
        "created_at",
        "data_sha256",
        "labels",
        "metrics",
        "model_config",
        "artifact_sha256",
        "libraries",
        "format_version",
    ):
        assert key in sidecar
    assert sidecar["labels"] == ["light", "roads", "waste"]
    assert sidecar["model_config"]["features"]["char_ngrams"] == [2, 5]
    loaded = load_model(path)
    assert loaded.metadata == saved
    assert loaded.model.predict(["яма на дороге"]) == ["roads"]


def test_data_hash_depends_on_rows(rows: list[dict[str, str]]) -> None:
    first = data_sha256(as_examples(rows, "topic"))
    assert first == data_sha256(as_examples(rows, "topic"))
    assert first != data_sha256(as_examples(rows[1:], "topic"))
    assert first != data_sha256(as_examples(rows, "executor"))


def test_a_model_file_that_does_not_match_its_sidecar_is_refused(
    tmp_path: Path, rows: list[dict[str, str]]
) -> None:
    path = tmp_path / "m.joblib"
    _train_and_save(rows, "topic", path, "v1")
    with path.open("ab") as handle:
        handle.write(b"junk")
    with pytest.raises(ValueError, match="does not match"):
        load_model(path)


def test_holder_swaps_in_a_retrained_model(tmp_path: Path, rows: list[dict[str, str]]) -> None:
    path = tmp_path / "m.joblib"
    _train_and_save(rows, "topic", path, "v1")
    holder = ModelHolder(path, check_interval_s=0.0)
    assert holder.get().metadata.model_version == "v1"
    assert holder.reload_if_changed() is False
    _train_and_save(rows, "executor", path, "v2")
    current = holder.get()
    assert current.metadata.model_version == "v2"
    assert current.model.predict(["не вывозят мусор"]) == ["waste-city"]


def test_holder_keeps_serving_when_the_new_file_is_broken(
    tmp_path: Path, rows: list[dict[str, str]]
) -> None:
    path = tmp_path / "m.joblib"
    _train_and_save(rows, "topic", path, "v1")
    holder = ModelHolder(path, check_interval_s=0.0)
    path.write_bytes(b"not a model")
    os.utime(path, ns=(1, 1))
    assert holder.reload_if_changed() is False
    assert holder.get().metadata.model_version == "v1"
    _train_and_save(rows, "topic", path, "v3")
    assert holder.get().metadata.model_version == "v3"


def test_holder_checks_the_file_at_most_every_interval(
    tmp_path: Path, rows: list[dict[str, str]]
) -> None:
    path = tmp_path / "m.joblib"
    _train_and_save(rows, "topic", path, "v1")
    holder = ModelHolder(path, check_interval_s=3600.0)
    _train_and_save(rows, "topic", path, "v2")
    assert holder.get().metadata.model_version == "v1"
    assert holder.reload_if_changed() is True
    assert holder.get().metadata.model_version == "v2"


def test_loading_opens_the_morphology_dictionaries(
    tmp_path: Path, rows: list[dict[str, str]]
) -> None:
    from service.classifier import lemmas

    path = tmp_path / "m.joblib"
    _train_and_save(rows, "topic", path, "v1")
    lemmas._analyzer.cache_clear()
    load_model(path)
    # Opened at load, so the first text a worker serves does not pay ~60 ms for it.
    assert lemmas._analyzer.cache_info().currsize == 1
