"""The cached lemmatiser and its dictionary backend."""

from __future__ import annotations

import pickle

import pymorphy3.dawg
import pytest

from service.classifier.lemmas import Lemmatizer


def test_the_compiled_dictionary_backend_is_installed() -> None:
    # Without DAWG2, pymorphy3 silently falls back to pure Python, 4-5x slower per unseen word.
    assert pymorphy3.dawg.EXTENSION_AVAILABLE


def test_tokens_become_normal_forms_with_yo_folded() -> None:
    lemmatizer = Lemmatizer()
    assert lemmatizer.lemmatize(["фонарей", "ёлки", "2024", "я"]) == ["фонарь", "елка", "2024", "я"]


def test_tokens_that_cannot_reach_the_vocabulary_are_not_parsed() -> None:
    lemmatizer = Lemmatizer()
    lemmatizer.restrict_to({"фонарь", "двор"})
    # "дворов" shares a prefix with a vocabulary lemma; "ямы" does not and stays as it is.
    assert lemmatizer.lemmatize(["дворов", "ямы"]) == ["двор", "ямы"]


def _trained() -> Lemmatizer:
    """A lemmatizer as training leaves it: lemmas of its texts, restricted, forms indexed."""
    lemmatizer = Lemmatizer()
    seen = lemmatizer.lemmatize(["фонарь", "дворов", "асфальтирования", "не", "горит", "улице"])
    lemmatizer.restrict_to(set(seen))
    lemmatizer.index_forms()
    return lemmatizer


def test_new_forms_of_known_lemmas_are_looked_up_not_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import service.classifier.lemmas as lemmas

    lemmatizer = _trained()
    parsed: list[str] = []
    real = lemmas._parse
    monkeypatch.setattr(lemmas, "_parse", lambda token: parsed.append(token) or real(token))
    # Forms the training never saw, of lemmas it did (ё folded: «горят», «фонарём»).
    tokens = ["фонарями", "фонарем", "дворами", "асфальтированием", "горят", "улицами"]
    assert lemmatizer.lemmatize(tokens) == [
        "фонарь", "фонарь", "двор", "асфальтирование", "гореть", "улица",
    ]  # fmt: skip
    # A dictionary word of another lemma stands for itself: its lemma is no feature anyway.
    assert lemmatizer.lemmatize(["горшками"]) == ["горшками"]
    # A word pymorphy3 must guess (a typo) is parsed as before.
    assert lemmatizer.lemmatize(["фонарьями"]) == [real("фонарьями")]
    assert parsed == ["фонарьями"]


def test_the_index_changes_no_lemma_that_can_be_a_feature() -> None:
    plain, indexed = Lemmatizer(), _trained()
    known = set(indexed._cache.values())
    plain.restrict_to(known)
    tokens = "фонари фонарей дворы дворе горел горело гореть горы горшок улицу улиц асфальт".split()
    for token, a, b in zip(tokens, plain.lemmatize(tokens), indexed.lemmatize(tokens), strict=True):
        assert a == b or (a not in known and b not in known), token


def test_the_index_travels_with_the_pickle_and_older_pickles_load() -> None:
    lemmatizer = _trained()
    copy = pickle.loads(pickle.dumps(lemmatizer))
    assert copy._forms is not None and len(copy._forms) == len(lemmatizer._forms or ())
    assert copy.lemmatize(["фонарями"]) == ["фонарь"]
    old = pickle.loads(pickle.dumps(lemmatizer))
    old.__setstate__({"cache": dict(lemmatizer._cache), "prefixes": lemmatizer._prefixes})
    assert old._forms is None and old.lemmatize(["фонарями"]) == ["фонарь"]


def test_forms_of_one_letter_lemmas_are_indexed() -> None:
    lemmatizer = Lemmatizer()
    seen = lemmatizer.lemmatize(["я", "с", "много", "со"])
    lemmatizer.restrict_to(set(seen))
    lemmatizer.index_forms()
    # «мною» is no cached token; its lemma «я» can be a feature, so it must not stand for itself.
    assert lemmatizer.lemmatize(["мною"]) == ["я"]
