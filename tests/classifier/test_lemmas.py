"""The cached lemmatiser and its dictionary backend."""

from __future__ import annotations

import pymorphy3.dawg

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
