"""Choices `classifier train` makes by itself: the finer label column, the place features."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.classifier import train as train_module
from service.classifier.artifact import load_model
from service.classifier.data import read_csv_rows
from service.classifier.finer import finer_label_column, purity
from service.classifier.model import ModelConfig
from service.classifier.places import PLACE_WEIGHT
from service.classifier.train import Probe, candidate_configs, fit_calibrated, with_places
from tests.conftest import run_cli

from .conftest import TOPICS, as_examples, make_rows, write_csv


def _portal_rows(n: int) -> list[dict[str, str]]:
    """Like a portal export: a category, the reason the citizen picked under it, and noise."""
    rows = []
    for i, row in enumerate(make_rows(n, seed=7)):
        topic = row["topic"]
        phrase = next(k for k, p in enumerate(TOPICS[topic]) if p in row["text"])
        rows.append(
            {
                "id": str(i),
                "text": row["text"],
                "category": topic,
                "reason": f"{topic}-{phrase}",
                "district": row["district"],
                "date": f"2026-11-{1 + i % 28:02d}",
            }
        )
    return rows


def test_purity() -> None:
    assert purity(["a", "a", "b", "b"], ["x", "x", "y", "y"]) == 1.0
    assert purity(["a", "a", "a", "a"], ["x", "x", "x", "y"]) == 0.75


def test_finer_column_is_found_and_others_are_not(tmp_path: Path) -> None:
    header, rows = read_csv_rows(write_csv(tmp_path / "p.csv", _portal_rows(300)))
    # reason refines category; id is unique per row, district and date refine nothing.
    assert finer_label_column(header, rows, "category", ["text"]) == "reason"
    assert finer_label_column(header, rows, "reason", ["text"]) is None
    assert finer_label_column(header, rows, "district", ["text"]) is None
    # A column already used as context is not a training-only label.
    assert finer_label_column(header, rows, "category", ["text", "reason"]) is None


def test_cli_uses_the_finer_column_unless_told_not_to(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    path = write_csv(tmp_path / "p.csv", _portal_rows(200))
    common = ["--input", str(path), "--text-column", "text", "--label-column", "category"]
    auto = run_cli(cli_env, "classifier", "train", *common, "--out", str(tmp_path / "a.joblib"))
    assert auto.returncode == 0, auto.stderr
    assert json.loads(auto.stdout)["aux_label_column"] == "reason"
    assert load_model(tmp_path / "a.joblib").model._aux_weights is not None
    off = run_cli(
        cli_env, "classifier", "train", *common, "--aux-label-column", "none",
        "--out", str(tmp_path / "b.joblib"),
    )  # fmt: skip
    assert off.returncode == 0, off.stderr
    assert json.loads(off.stdout)["aux_label_column"] is None
    assert load_model(tmp_path / "b.joblib").metadata.aux_label_column == ""


def test_candidates() -> None:
    base = ModelConfig()
    assert candidate_configs(base, None) == [base, with_places(base)]
    assert candidate_configs(base, True) == [with_places(base)]
    assert candidate_configs(base, False) == [base]
    assert with_places(base).features.place_weight == PLACE_WEIGHT


@pytest.mark.parametrize(
    ("plain", "places", "chosen"), [(0.50, 0.55, PLACE_WEIGHT), (0.55, 0.50, 0.0), (0.5, 0.5, 0.0)]
)
def test_place_features_are_kept_only_when_they_score_higher(
    monkeypatch: pytest.MonkeyPatch, plain: float, places: float, chosen: float
) -> None:
    def probe(examples: object, config: ModelConfig, *args: object) -> Probe:
        score = places if config.features.place_weight else plain
        return Probe(config, 2.0, score)

    monkeypatch.setattr(train_module, "cross_validated_probe", probe)
    examples = as_examples(make_rows(200), "executor", ("district",))
    model = fit_calibrated(examples, ModelConfig(), ("district",), 42, places=None)
    assert model.config.features.place_weight == chosen
    assert model.temperature == 2.0
