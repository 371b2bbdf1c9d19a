"""The Altai category corpus built from real-data labels through the taxonomy map."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from service.classifier.altai import SOURCES, altai_examples, capped, confident_map
from service.classifier.data import data_sha256
from service.classifier.taxonomy import DEFAULT_MAP_PATH
from service.config import get_settings
from service.routing.catalog import load_catalog_dir
from tests.conftest import run_cli


def _labels(confidence: str, source: str) -> list[tuple[str, str]]:
    with DEFAULT_MAP_PATH.open(encoding="utf-8", newline="") as handle:
        return [
            (row["source_label"], row["altai_code"])
            for row in csv.DictReader(handle)
            if row["source"] == source and row["confidence"] == confidence and row["altai_code"]
        ]


@pytest.fixture
def real_dir(tmp_path: Path) -> Path:
    """Two files shaped like ../shared/data/real, labelled with labels from the map."""
    spb, kursk = SOURCES
    high = _labels("high", spb.name)[:3]
    low = _labels("low", kursk.name)[:1]
    medium = _labels("medium", kursk.name)[:1]
    with (tmp_path / spb.file).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", spb.text_column, spb.label_column])
        for i in range(60):
            label = high[i % 3][0]
            writer.writerow([i, f"обращение {i} про {label.lower()}", label])
        writer.writerow([99, "реклама на фасаде", "Нет такого повода в карте"])
    with (tmp_path / kursk.file).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", kursk.text_column, kursk.label_column])
        writer.writerow([1, "<p>низкая уверенность</p>", low[0][0]])
        writer.writerow([2, "средняя уверенность", medium[0][0]])
    return tmp_path


def test_mapping_keeps_confident_labels_only() -> None:
    mapping = confident_map()
    low = _labels("low", "kursk_topic")
    assert low and all(("kursk_topic", label) not in mapping for label, _ in low)
    codes = {c.code for c in load_catalog_dir(get_settings().catalog_dir).categories}
    assert set(mapping.values()) <= codes


def test_corpus_maps_caps_and_drops(real_dir: Path) -> None:
    examples = altai_examples(real_dir, cap=5)
    spb_codes = {code for _, code in _labels("high", "spb_reason")[:3]}
    counts = {code: examples.labels.count(code) for code in set(examples.labels)}
    # 60 rows over three St Petersburg reasons: every code they map to is capped at 5.
    assert all(counts[code] == 5 for code in spb_codes)
    assert sum(counts.values()) == 5 * len(spb_codes) + 1  # + the one medium Kursk row
    assert "средняя уверенность" in examples.texts
    assert "<p>низкая уверенность</p>" not in examples.texts
    assert "реклама на фасаде" not in examples.texts


def test_corpus_is_reproducible(real_dir: Path) -> None:
    a, b = altai_examples(real_dir, cap=7), altai_examples(real_dir, cap=7)
    assert data_sha256(a) == data_sha256(b)
    assert data_sha256(capped({"x": ["1", "2", "3"]}, 2, seed=1)) != data_sha256(
        capped({"x": ["1", "2", "3"]}, 3, seed=1)
    )


def test_empty_directory_gives_no_rows(tmp_path: Path) -> None:
    assert len(altai_examples(tmp_path)) == 0


def test_cli_trains_the_router_model(real_dir: Path, tmp_path: Path, cli_env) -> None:
    out = tmp_path / "models" / "altai.joblib"
    args = ["classifier", "altai", "--data", str(real_dir), "--out", str(out), "--holdout", "0"]
    result = run_cli(cli_env, *args)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["model_version"].startswith("altai-category-")
    sidecar = json.loads(out.with_name(out.name + ".json").read_text(encoding="utf-8"))
    assert sidecar["label_column"] == "altai_category"
    assert len(sidecar["labels"]) == summary["n_labels"] >= 4

    empty = run_cli(
        cli_env, "classifier", "altai", "--data", str(tmp_path / "none"), "--out", str(out)
    )
    assert empty.returncode == 2 and "no mapped examples" in empty.stderr

    # `make run` away from ../shared: no real data is not an error, the rules route alone.
    args = ["--data", str(tmp_path / "none"), "--out", str(tmp_path / "other.joblib")]
    quiet = run_cli(cli_env, "classifier", "altai", "--if-missing", *args)
    assert quiet.returncode == 0 and "keyword rules" in quiet.stderr
    assert json.loads(quiet.stdout)["skipped"].startswith("no real data")
    assert not (tmp_path / "other.joblib").exists()
