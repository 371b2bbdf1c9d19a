"""Cached pymorphy3 lemmatisation: parsing a word costs ~60 µs, a cache hit well under 1 µs."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import pymorphy3

from service.classifier.wordforms import FormIndex, build_index

# Runtime growth bound: a worker sees an open vocabulary (typos, names), so the cache must not
# grow without limit. Training vocabularies of both real sources are under 60,000 tokens.
MAX_CACHE = 200_000
PREFIX = 3


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    # One analyzer per process: its dictionaries are read-only and cost ~20 MB.
    return pymorphy3.MorphAnalyzer()


def morph_analyzer() -> Any:
    """The process's shared pymorphy3 analyzer (for word forms elsewhere: names to mask)."""
    return _analyzer()


class Lemmatizer:
    """Maps tokens to normal forms; the cache travels with the model artifact."""

    def __init__(self, cache: dict[str, str] | None = None) -> None:
        self._cache: dict[str, str] = dict(cache or {})
        self._prefixes: frozenset[str] | None = None
        self._forms: FormIndex | None = None

    def restrict_to(self, vocabulary_lemmas: set[str]) -> None:
        """After training: skip parsing new tokens whose lemma cannot be a known feature.

        A lemma shares its first letters with its word forms except for a few suppletive, very
        common words that the training cache already holds, so an unseen token whose prefix
        starts no vocabulary lemma would only produce an unknown feature: parsing it is wasted.
        """
        self._prefixes = frozenset(lemma[:PREFIX] for lemma in vocabulary_lemmas)

    def index_forms(self, features: Iterable[str] = ()) -> None:
        """For a model about to ship: every form of the lemmas it saw and of the lemmas that
        are `features` of it, parsed now (a few seconds), so serving looks new forms up instead
        of parsing them (wordforms.py)."""
        # One-letter lemmas too: «мною» → «я», «со» → «с» (a place marker).
        lemmas = {lemma for lemma in (*self._cache.values(), *features) if not lemma.isdigit()}
        self._forms = build_index(
            _analyzer(), lemmas, lambda form: form in self._cache or self._as_is(form), _parse
        )

    def _as_is(self, token: str) -> bool:
        """Tokens that are their own lemma without a parse."""
        if token.isdigit() or len(token) < 2:
            return True
        return self._prefixes is not None and token[:PREFIX] not in self._prefixes

    def lemma(self, token: str) -> str:
        found = self._cache.get(token)
        if found is not None:
            return found
        result = token if self._as_is(token) else self._indexed(token) or _parse(token)
        if len(self._cache) < MAX_CACHE:
            self._cache[token] = result
        return result

    def _indexed(self, token: str) -> str | None:
        if self._forms is None:
            return None
        found = self._forms.get(token)
        if found is None and _analyzer().word_is_known(token):
            # A dictionary word that is no form of a lemma that can make a feature: whatever
            # its lemma, it makes none, so the word itself serves (wordforms.py).
            return token
        return found

    def ready(self) -> None:
        """Open the dictionaries now (~60 ms), so the first text served does not pay for it."""
        _analyzer()

    def lemmatize(self, tokens: Iterable[str]) -> list[str]:
        get, lemma = self._cache.get, self.lemma
        # Nearly every token is a cache hit: a dict lookup here, the method call only on a miss.
        return [get(token) or lemma(token) for token in tokens]

    def __len__(self) -> int:
        return len(self._cache)

    def __getstate__(self) -> dict[str, Any]:
        return {"cache": self._cache, "prefixes": self._prefixes, "forms": self._forms}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._cache = state["cache"]
        self._prefixes = state.get("prefixes")
        self._forms = state.get("forms")


def _parse(token: str) -> str:
    return str(_analyzer().parse(token)[0].normal_form).replace("ё", "е")
