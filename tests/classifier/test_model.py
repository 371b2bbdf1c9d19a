from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from service.classifier.data import group_split
from service.classifier.evaluate import evaluate
from service.classifier.features import TfidfBlock, word_char_ngrams, word_ngram_analyzer
from service.classifier.model import ModelConfig, TextClassifier

from .conftest import as_examples, make_rows


def test_learns_topic_from_text(rows: list[dict[str, str]]) -> None:
    examples = as_examples(rows, "topic")
    train_idx, test_idx = group_split(examples, 0.25, seed=1)
    train, test = examples.subset(train_idx), examples.subset(test_idx)
    model = TextClassifier().fit(train.texts, train.labels, train.contexts)
    assert model.labels == ("light", "roads", "waste")
    assert evaluate(model, test)["accuracy"] >= 0.95


def test_context_column_is_used(rows: list[dict[str, str]]) -> None:
    examples = as_examples(rows, "executor", ("district",))
    model = TextClassifier(context_columns=["district"])
    model.fit(examples.texts, examples.labels, examples.contexts)
    text = "яма на дороге"
    assert model.predict([text], [{"district": "Центральный"}]) == ["roads-Центральный"]
    assert model.predict([text], [{"district": "Заречный"}]) == ["roads-Заречный"]
    # An unknown district must not crash: the text alone still decides the topic side.
    assert model.predict([text], [{"district": "Новый"}])[0].startswith("roads")


def test_single_item_path_matches_batch_path(rows: list[dict[str, str]]) -> None:
    examples = as_examples(rows, "executor", ("district",))
    model = TextClassifier(context_columns=["district"])
    model.fit(examples.texts, examples.labels, examples.contexts)
    batch = model.predict_proba(examples.texts[:5], examples.contexts[:5])
    single = np.vstack(
        [
            model.predict_proba([t], [c])
            for t, c in zip(examples.texts[:5], examples.contexts[:5], strict=True)
        ]
    )
    np.testing.assert_allclose(batch, single, rtol=1e-5, atol=1e-6)


def test_predict_one_reports_runner_up(rows: list[dict[str, str]]) -> None:
    examples = as_examples(rows, "topic")
    model = TextClassifier().fit(examples.texts, examples.labels)
    result = model.predict_one("не горит фонарь у подъезда")
    assert result.label == "light"
    assert result.runner_up in {"roads", "waste"}
    assert 0.0 <= result.runner_up_confidence <= result.confidence <= 1.0
    assert [label for label, _ in result.top] == [result.label, result.runner_up, result.top[2][0]]


def test_binary_labels_and_empty_text(rows: list[dict[str, str]]) -> None:
    examples = as_examples([r for r in rows if r["topic"] != "waste"], "topic")
    model = TextClassifier().fit(examples.texts, examples.labels)
    assert model.predict(["темно, фонари не работают", ""])[0] == "light"
    probs = model.predict_proba(["", "!!!"])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)


def test_one_label_is_rejected() -> None:
    with pytest.raises(ValueError, match="two distinct labels"):
        TextClassifier().fit(["а", "б"], ["x", "x"])


def test_char_block_matches_scikit_learn() -> None:
    docs = [r["text"].lower() for r in make_rows(60, seed=3)]
    ours = TfidfBlock("char", (2, 5), 2, None)
    ours.fit_transform(docs[:40])
    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)
    reference.fit(docs[:40])
    order = [ours.vocabulary[t] for t in reference.get_feature_names_out()]
    np.testing.assert_allclose(
        ours.transform(docs[40:]).toarray()[:, order],
        reference.transform(docs[40:]).toarray(),
        atol=1e-6,
    )


@pytest.mark.parametrize("ngrams", [(2, 5), (1, 3), (3, 6)])
def test_word_ngrams_match_scikit_learn_for_short_and_long_words(ngrams: tuple[int, int]) -> None:
    analyzer = TfidfVectorizer(analyzer="char_wb", ngram_range=ngrams, lowercase=False)
    for word in ["я", "он", "дом", "двор", "улица", "фонарей", "ул.ленина,", "37а/1"]:
        assert word_char_ngrams(word, *ngrams) == analyzer.build_analyzer()(word), word


@pytest.mark.parametrize("ngrams", [(1, 1), (1, 2), (1, 3), (2, 3)])
def test_word_ngrams_are_every_run_of_n_tokens_in_order(ngrams: tuple[int, int]) -> None:
    for text in ["", "яма", "яма у дома", "нет воды во дворе дома 5 третий день"]:
        tokens = text.split()
        expected = [
            " ".join(tokens[i : i + n])
            for n in range(ngrams[0], ngrams[1] + 1)
            for i in range(len(tokens) - n + 1)
        ]
        assert word_ngram_analyzer(text, *ngrams) == expected


def test_small_datasets_keep_words_seen_once() -> None:
    from service.classifier.model import ModelConfig
    from service.classifier.train import RARE_WORDS_BELOW, config_for_size

    base = ModelConfig()
    assert base.features.min_df == 2
    assert config_for_size(RARE_WORDS_BELOW - 1, base).features.min_df == 1
    assert config_for_size(RARE_WORDS_BELOW, base) is base


def test_shipped_word_ngram_ids_match_fresh_ones() -> None:
    docs = [r["text"].lower() for r in make_rows(80, seed=5)]
    block = TfidfBlock("char", (2, 5), 1, None)
    block.fit_transform(docs[:50])
    assert block._known is not None and "фонарь" in block._known
    shipped = pickle.loads(pickle.dumps(block))
    fresh = pickle.loads(pickle.dumps(block))
    fresh._known = None
    # Training words come from the packed ids, new words are computed: both must agree.
    expected = fresh.transform(docs).toarray()
    np.testing.assert_array_equal(shipped.transform(docs).toarray(), expected)
    np.testing.assert_array_equal(shipped._cache["фонарь"], fresh._cache["фонарь"])


def test_char_text_drops_punctuation_and_older_artifacts_keep_it() -> None:
    from service.classifier.features import FeatureConfig, Featurizer

    text = "Яма у двора), ул.Ленина, 37а/1!"
    clean, words = Featurizer(FeatureConfig(), ()).prepare(text)
    assert clean.split() == ["яма", "у", "двора", "ул", "ленина", "37а", "1"]
    assert Featurizer(FeatureConfig(char_punctuation=True), ()).prepare(text)[0] == (
        "яма у двора), ул.ленина, 37а/1!"
    )
    old = FeatureConfig()
    old.__dict__.pop("char_punctuation")  # what a pickle from before the field holds
    assert pickle.loads(pickle.dumps(old)).char_punctuation is True
    assert words == Featurizer(FeatureConfig(char_punctuation=True), ()).prepare(text)[1]


def test_one_row_product_refuses_what_the_kernel_would_read_past() -> None:
    from service.classifier.model import _row_dot

    weights = np.arange(12, dtype=np.float32).reshape(4, 3)
    index, values = np.array([0, 3]), np.array([1.0, 2.0], dtype=np.float32)
    np.testing.assert_allclose(_row_dot(index, values, weights), [18, 21, 24])
    # Weights the kernel cannot take as they are go through the plain gather instead.
    np.testing.assert_allclose(_row_dot(index, values, weights.astype(np.float64)), [18, 21, 24])
    np.testing.assert_allclose(_row_dot(index, values, np.asfortranarray(weights)), [18, 21, 24])
    for bad in (np.array([0, 4]), np.array([-1, 0])):
        with pytest.raises(IndexError):
            _row_dot(bad, values, weights)
    with pytest.raises(ValueError, match="values"):
        _row_dot(np.array([0, 1, 2]), values, weights)


@pytest.mark.parametrize("size", [1, 2, 7, 100, 1_500])
def test_counted_ids_match_numpy_unique(size: int) -> None:
    from service.classifier.features import _counted

    rng = np.random.default_rng(size)
    for high in (3, 200_000):
        ids = rng.integers(0, high, size).astype(np.int32)
        index, counts = np.unique(ids, return_counts=True)
        got_index, got_counts = _counted(ids.copy())
        np.testing.assert_array_equal(got_index, index)
        np.testing.assert_array_equal(got_counts, counts.astype(np.float32))


def test_ready_fills_the_word_cache_without_changing_rows() -> None:
    docs = [r["text"].lower() for r in make_rows(80, seed=6)]
    block = TfidfBlock("char", (2, 5), 1, None)
    block.fit_transform(docs[:50])
    lazy, ready = pickle.loads(pickle.dumps(block)), pickle.loads(pickle.dumps(block))
    ready.ready()
    assert block._known is not None and set(ready._cache) == set(block._known)
    assert not lazy._cache
    np.testing.assert_array_equal(ready.transform(docs).toarray(), lazy.transform(docs).toarray())


def test_a_shipped_model_indexes_word_forms_and_scores_as_without(
    rows: list[dict[str, str]],
) -> None:
    from service.classifier.train import fit_calibrated

    examples = as_examples(rows, "executor", ("district",))
    model = fit_calibrated(examples, ModelConfig(), ("district",), seed=1)
    assert model.featurizer.lemmatizer._forms is not None
    plain = pickle.loads(pickle.dumps(model))
    plain.featurizer.lemmatizer._forms = None
    texts = ["фонарями не освещено", "ямами разбиты дороги", "мусором завалены контейнерами"]
    contexts = [{"district": "Заречный"}] * len(texts)
    np.testing.assert_array_equal(
        model.predict_proba(texts, contexts), plain.predict_proba(texts, contexts)
    )
