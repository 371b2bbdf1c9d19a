"""Place mentions as features: what is found, and that a model routes by them."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from service.classifier.artifact import load_model
from service.classifier.features import FeatureConfig, Featurizer
from service.classifier.model import ModelConfig, TextClassifier
from service.classifier.places import PLACE_WEIGHT, place_stem, place_tokens
from tests.conftest import run_cli

from .conftest import assert_paths_agree, write_csv


@pytest.mark.parametrize(
    ("lemmas", "expected"),
    [
        ("яма в льговский район", ["area:льговский район", "place:льгов"]),
        ("г льгов яма", ["place:льгов"]),
        ("город железногорск", ["place:железногор"]),
        ("ул ленин д 5 нет свет", ["street:ленин"]),
        ("село кашино", ["place:кашино"]),
        ("центральный округ", ["area:центральный округ", "place:центральный"]),
        ("яма на дорога", []),
        ("г", []),
    ],
)
def test_place_tokens(lemmas: str, expected: list[str]) -> None:
    assert place_tokens(lemmas.split()) == expected


def test_adjective_and_town_share_a_stem() -> None:
    assert place_stem("льговский") == place_stem("льгов") == "льгов"
    assert place_stem("железногорский") == place_stem("железногорск")
    assert place_stem("курский") == place_stem("курск") == "кур"
    # Too short to cut: a stem of two letters would merge unrelated places.
    assert place_stem("оск") == "оск"


def test_inflected_text_is_found_through_the_lemmatiser() -> None:
    featurizer = Featurizer(FeatureConfig(place_weight=PLACE_WEIGHT), ())
    _, words = featurizer.prepare("<p>Яма на дороге в Льговском районе, ул. Ленина</p>")
    assert place_tokens(words.split()) == [
        "area:льговский район",
        "place:льгов",
        "street:ленин",
    ]


COMPLAINTS = ["яма на дороге", "не вывозят мусор", "нет света в подъезде", "сломана лавочка"]
PLACES = {
    "admin-lgov": ("в г. Льгов", "в Льговском районе"),
    "admin-kurchatov": ("в г. Курчатов", "в Курчатовском районе"),
    "admin-oboyan": ("в пос. Обоянь", "в Обоянском районе"),
}


def _routed_rows(n: int, form: int, seed: int) -> list[dict[str, str]]:
    """The same complaints everywhere: only the place named tells the body."""
    rng = random.Random(seed)
    bodies = sorted(PLACES)
    rows = []
    for i in range(n):
        body = rng.choice(bodies)
        text = f"{rng.choice(COMPLAINTS)} {PLACES[body][form]} #{i}"
        rows.append({"text": text, "body": body})
    return rows


def _fit(rows: list[dict[str, str]], weight: float) -> TextClassifier:
    config = ModelConfig(features=FeatureConfig(min_df=1, place_weight=weight))
    return TextClassifier(config).fit([r["text"] for r in rows], [r["body"] for r in rows])


def test_model_routes_by_place_and_both_paths_agree() -> None:
    model = _fit(_routed_rows(150, 0, seed=1) + _routed_rows(30, 1, seed=2), PLACE_WEIGHT)
    test = _routed_rows(60, 1, seed=3)
    texts = [r["text"] for r in test]
    assert model.predict(texts) == [r["body"] for r in test]
    assert_paths_agree(model, texts)


def test_place_block_is_absent_at_weight_zero() -> None:
    rows = _routed_rows(60, 0, seed=1)
    off = _fit(rows, 0.0)
    on = _fit(rows, PLACE_WEIGHT)
    assert on.featurizer.n_features > off.featurizer.n_features
    index, values = on.featurizer.row("мусор в г. Льгов", {})
    assert np.isclose(values[-1], PLACE_WEIGHT) and index[-1] >= off.featurizer.n_features


def test_artifact_from_before_place_features_still_predicts() -> None:
    model = _fit(_routed_rows(60, 0, seed=1), 0.0)
    # Pickles of older versions have no `_places` on the instance: the class default applies.
    del model.featurizer.__dict__["_places"]
    assert model.predict(["яма на дороге в г. Льгов"]) == ["admin-lgov"]


def test_cli_place_features(tmp_path: Path, cli_env: dict[str, str]) -> None:
    path = write_csv(tmp_path / "rows.csv", _routed_rows(120, 0, seed=4))
    out = tmp_path / "m.joblib"
    common = ["--input", str(path), "--text-column", "text", "--label-column", "body"]
    result = run_cli(cli_env, "classifier", "train", *common, "--place-features", "--out", str(out))
    assert result.returncode == 0, result.stderr
    loaded = load_model(out)
    assert loaded.metadata.model_config["features"]["place_weight"] == PLACE_WEIGHT
    evaluated = run_cli(cli_env, "classifier", "eval", "--model", str(out), *common)
    assert json.loads(evaluated.stdout)["accuracy"] >= 0.95


def test_marker_scan_finds_what_each_pair_of_neighbours_finds() -> None:
    # Every place feature is decided by one token and the next, so a whole text must yield
    # exactly what its overlapping pairs yield one after another, in order.
    words = ["г", "ул", "район", "округ", "льговский", "5", "с", "пер", "город", "яма", "курск"]
    rng = random.Random(7)
    for _ in range(20_000):
        lemmas = [rng.choice(words) for _ in range(rng.randint(0, 9))]
        pairs = [place_tokens(lemmas[i : i + 2]) for i in range(len(lemmas) - 1)]
        assert place_tokens(lemmas) == [token for pair in pairs for token in pair], lemmas


def test_indexed_word_forms_keep_every_place_feature() -> None:
    # Training saw «льговского района» (place:льгов); serving meets «г. Льгове», whose lemma
    # «льгов» no training text had: the index must still lead it to place:льгов.
    import copy

    from service.classifier.features import FeatureConfig, Featurizer

    texts = ["прошу помочь, льговского района нет света", "много ям у хутора в деревне"]
    featurizer = Featurizer(FeatureConfig(min_df=1, place_weight=0.5), [])
    featurizer.fit_transform(texts, [{}, {}])
    plain = copy.deepcopy(featurizer)
    featurizer.index_forms()
    for text in ["нет света в г. Льгове", "в хуторах у деревень", "Льговский район, с. Льгов"]:
        assert featurizer.prepare(text) == plain.prepare(text), text
        np.testing.assert_array_equal(featurizer.row(text, {})[0], plain.row(text, {})[0])
