"""N-gram ids found by integer keys must be those of the string lookups they replace."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from service.classifier.features import VECTOR_WORDS, TfidfBlock, word_char_ngrams
from service.classifier.ngram_index import CharGramIndex

from .conftest import make_rows

# Short and long words, digits, Latin, letters no training text had (ъ, ў), a character from
# outside the alphabet in the middle or at the end, the astral plane, a lone mark.
ODD_WORDS = [
    "я", "он", "дом", "двор", "улица", "фонарей", "37а", "1", "12345678901234567890", "wi",
    "wifi", "подъезд", "ўлица", "до字м", "домꙮ", "𝔘дом", "é", "ямыямыямыямыямы", "х", "хх",
]  # fmt: skip


def _vocabulary(ngrams: tuple[int, int]) -> dict[str, int]:
    docs = [r["text"].lower() for r in make_rows(120, seed=11)]
    analyzer = TfidfVectorizer(analyzer="char_wb", ngram_range=ngrams).build_analyzer()
    grams = sorted({g for doc in docs for g in analyzer(doc)})
    return {g: i for i, g in enumerate(grams)}


@pytest.mark.parametrize("ngrams", [(2, 5), (1, 3), (3, 5), (1, 1)])
def test_ids_are_those_of_the_vocabulary_lookup(ngrams: tuple[int, int]) -> None:
    vocabulary = _vocabulary(ngrams)
    index = CharGramIndex(vocabulary, *ngrams)
    words = ODD_WORDS + [w for r in make_rows(40, seed=12) for w in r["text"].lower().split()]
    got = index.ids(words)
    assert len(got) == len(words)
    for word, ids in zip(words, got, strict=True):
        grams = word_char_ngrams(word, *ngrams)
        expected = sorted(vocabulary[g] for g in grams if g in vocabulary)
        assert sorted(ids.tolist()) == expected, word
        assert ids.dtype == np.int32


def test_no_words_and_words_of_unknown_characters_only() -> None:
    index = CharGramIndex(_vocabulary((2, 5)), 2, 5)
    assert index.ids([]) == []
    assert [len(ids) for ids in index.ids(["字字", "ꙮ"])] == [0, 0]


def test_vocabularies_beyond_the_integer_keys_are_refused() -> None:
    assert CharGramIndex.usable({"ab": 0}, 2, 5)
    assert not CharGramIndex.usable({"ab": 0}, 2, 6)
    wide = {chr(0x4E00 + i) * 2: i for i in range(5_000)}  # 5,000 characters: 13 bits each
    assert not CharGramIndex.usable(wide, 2, 5)


def test_a_batch_of_new_words_gives_the_rows_of_one_by_one_lookups() -> None:
    docs = [r["text"].lower() for r in make_rows(80, seed=13)]
    block = TfidfBlock("char", (2, 5), 1, None)
    block.fit_transform(docs[:40])
    assert block._grams is not None
    vectorised, one_by_one = pickle.loads(pickle.dumps(block)), pickle.loads(pickle.dumps(block))
    one_by_one._grams = None
    new = [" ".join(ODD_WORDS), *docs[40:]]
    assert len({w for d in new for w in d.split()} - set(block._known or {})) >= VECTOR_WORDS
    np.testing.assert_array_equal(
        vectorised.transform(new).toarray(), one_by_one.transform(new).toarray()
    )
    # One text with many new words goes the numpy way on its own as well.
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(block)).transform(new[:1]).toarray(),
        one_by_one.transform(new[:1]).toarray(),
    )


def test_a_full_word_cache_still_gives_every_word_its_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    import service.classifier.features as features

    docs = [r["text"].lower() for r in make_rows(60, seed=14)]
    block = TfidfBlock("char", (2, 5), 1, None)
    block.fit_transform(docs[:30])
    expected = pickle.loads(pickle.dumps(block)).transform(docs).toarray()
    monkeypatch.setattr(features, "MAX_WORD_CACHE", 0)
    np.testing.assert_array_equal(block.transform(docs).toarray(), expected)
    assert not block._cache


@pytest.mark.parametrize("ngrams", [(1, 2), (1, 1)])
def test_word_ids_are_those_of_the_string_lookup(ngrams: tuple[int, int]) -> None:
    docs = [r["text"].lower() for r in make_rows(80, seed=15)]
    block = TfidfBlock("word", ngrams, 1, None)
    block.fit_transform(docs[:50])
    assert block._words is not None
    strings = pickle.loads(pickle.dumps(block))
    strings._words = None
    texts = [*docs[50:], "", "яма", "яма яма яма на на дороге", "неведомое слово яма дороге"]
    for text in texts:
        assert sorted(block.term_ids(text).tolist()) == sorted(strings.term_ids(text).tolist())
    np.testing.assert_array_equal(
        block.transform(texts).toarray(), strings.transform(texts).toarray()
    )


def test_word_index_only_for_the_ranges_it_knows() -> None:
    from service.classifier.ngram_index import WordGramIndex

    assert WordGramIndex.usable({"яма": 0, "дорога": 1, "яма дорога": 2}, 1, 2)
    assert not WordGramIndex.usable({"яма": 0, "яма дорога": 1}, 1, 2)  # a lemma missing
    assert not WordGramIndex.usable({"яма": 0}, 1, 3)
    block = TfidfBlock("word", (1, 3), 1, None)
    block.fit_transform(["яма на дороге", "яма у дома"])
    assert block._words is None


def test_ranges_whose_short_words_yield_themselves_whole_are_refused() -> None:
    # With n-grams of 4-5, " a " (3 characters) is emitted whole; the keys would not make it.
    assert not CharGramIndex.usable({"abcd": 0}, 4, 5)
    block = TfidfBlock("char", (4, 5), 1, None)
    block.fit_transform(["a ab abc", "a ab abc"])
    assert block._grams is None


def test_a_lone_surrogate_is_a_character_in_no_ngram() -> None:
    index = CharGramIndex(_vocabulary((2, 5)), 2, 5)
    assert [len(ids) for ids in index.ids(["\udc80", "до\ud800м"])][0] == 0
