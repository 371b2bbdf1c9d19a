"""The inflected forms of the lemmas a model knows, so a new word form costs a lookup, not a parse.

A fresh worker meets word forms its training never saw («асфальтированных» when training had
«асфальтирования»). Parsing one with pymorphy3 costs ~30 µs and was a quarter of a first pass
over long Kursk texts (1,800 parses for 395 texts). At training time every lemma that can make
a feature of the model (the lemmas of its training texts, its word unigrams, and each lemma
that can make one of its place features: the markers and every lemma with a known place stem)
is expanded into its dictionary paradigms, and each form is parsed once, exactly as the
lemmatizer would parse it at run time; the result ships with the artifact as a DAWG (a few MB).
At run time:

- a form in the index gets the lemma its parse gave at training time (identical by construction);
- a dictionary word outside the index is a form of none of those lemmas, so whatever its lemma
  is, it makes no feature of the model: the word stands for itself (as the lemmatizer's prefix
  filter already does for words whose first letters start no known lemma);
- anything else (typos, names: pymorphy3 guesses those by analogy) is parsed as before.

Tests compare the features with and without the index, place features included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import dawg

# Big-endian unsigned int: the position of the form's lemma in `FormIndex.lemmas`.
_FORMAT = ">I"


class FormIndex:
    """Word form → lemma for every form of the lemmas a model was trained on."""

    def __init__(self, forms: dict[str, str]) -> None:
        self.lemmas: list[str] = sorted(set(forms.values()))
        position = {lemma: i for i, lemma in enumerate(self.lemmas)}
        self._dawg = dawg.RecordDAWG(_FORMAT, ((f, (position[v],)) for f, v in forms.items()))

    def __len__(self) -> int:
        return len(self._dawg.keys())

    def get(self, token: str) -> str | None:
        found = self._dawg.get(token)
        return self.lemmas[found[0][0]] if found else None

    def __getstate__(self) -> dict[str, Any]:
        # DAWG objects do not pickle; their bytes do, and load back in about a millisecond.
        return {"lemmas": self.lemmas, "dawg": self._dawg.tobytes()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.lemmas = state["lemmas"]
        self._dawg = dawg.RecordDAWG(_FORMAT).frombytes(state["dawg"])


def paradigm_forms(analyzer: Any, lemmas: Iterable[str]) -> set[str]:
    """Every dictionary form (ё as е) of every paradigm whose normal form is one of `lemmas`."""
    forms: set[str] = set()
    for lemma in lemmas:
        for parse in analyzer.parse(lemma):
            if parse.normal_form.replace("ё", "е") == lemma:
                forms.update(form.word.replace("ё", "е") for form in parse.lexeme)
    return forms


def build_index(
    analyzer: Any,
    lemmas: Iterable[str],
    skip: Callable[[str], bool],
    parse_lemma: Callable[[str], str],
) -> FormIndex:
    """The forms of `lemmas` that `skip` does not rule out, each with the lemma `parse_lemma`
    gives it (the lemmatizer's own parse, so a lookup answers what a parse would)."""
    forms = {form for form in paradigm_forms(analyzer, lemmas) if not skip(form)}
    return FormIndex({form: parse_lemma(form) for form in forms})
