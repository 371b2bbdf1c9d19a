"""Place mentions as features: the settlements, streets and districts a message names.

Which body answers often depends on where the problem is («Льговского района», «г. Льгов»,
«ул. Ленина»), and the word n-grams see those names only as ordinary words among many. This block
gives them a feature of their own, found by the markers Russian addresses use, with the
adjective and noun forms of a toponym brought to one stem («льговский район», «город Льгов» →
«place:льгов»). Kursk responsible body, five splits: 0.460 → 0.470; it costs the topic 1.5 points,
so it is opt-in (`--place-features`) and meant for routing labels (docs/classifier.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

# Markers as lemmas: pymorphy3 leaves abbreviations as they are and normalises «села» → «село».
SETTLEMENT_MARKERS = frozenset(
    {
        "г", "город", "гор", "с", "село", "п", "пос", "поселок", "д", "деревня", "дер", "х",
        "хутор", "сл", "слобода", "рп", "пгт", "ст", "станица", "мкр", "микрорайон", "снт",
    }
)  # fmt: skip
STREET_MARKERS = frozenset(
    {
        "ул", "улица", "пр", "проспект", "пер", "переулок", "бульвар", "шоссе", "пл", "площадь",
        "проезд", "наб", "набережная", "тупик",
    }
)  # fmt: skip
AREA_NOUNS = frozenset({"район", "округ", "сельсовет"})
_ANY_MARKER = SETTLEMENT_MARKERS | STREET_MARKERS | AREA_NOUNS
_TOPONYM_ADJECTIVE = ("ский", "цкий", "ный", "ной", "ий", "ый")
# «льговский» and «льгов», «железногорский» and «железногорск» share what is left.
_STEM_SUFFIXES = ("ский", "цкий", "ской", "ск")
MIN_STEM = 3
# The weight `--place-features` sets: 0.25-0.5 helped the Kursk body, 1.0 and above hurt it.
PLACE_WEIGHT = 0.5


def place_stem(lemma: str) -> str:
    for suffix in _STEM_SUFFIXES:
        if lemma.endswith(suffix) and len(lemma) - len(suffix) >= MIN_STEM:
            return lemma[: -len(suffix)]
    return lemma


def place_tokens(lemmas: Sequence[str]) -> list[str]:
    """Feature names for the places named in a lemmatised, lower-cased token sequence."""
    found: list[str] = []
    # Only positions next to a marker can name a place: find them with one cheap scan (this
    # was a tenth of scoring a long text), then look at each in order.
    marked = [i for i, token in enumerate(lemmas) if token in _ANY_MARKER]
    # A settlement or street marker precedes its name; an area noun follows its adjective.
    starts = {i - 1 if lemmas[i] in AREA_NOUNS else i for i in marked}
    last = len(lemmas) - 1
    for i in sorted(starts):
        if i < 0 or i >= last:
            continue
        token, name = lemmas[i], lemmas[i + 1]
        if name.isdigit():
            continue
        if token in SETTLEMENT_MARKERS:
            found.append("place:" + place_stem(name))
        elif token in STREET_MARKERS:
            found.append("street:" + name)
        elif name in AREA_NOUNS and token.endswith(_TOPONYM_ADJECTIVE):
            found += [f"area:{token} {name}", "place:" + place_stem(token)]
    return found


class PlaceEncoder:
    """Binary place features with a fixed vocabulary, each worth `weight`."""

    def __init__(self, weight: float) -> None:
        self.weight = weight
        self.vocabulary: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.vocabulary)

    def fit(self, documents: Sequence[Sequence[str]]) -> PlaceEncoder:
        vocab: dict[str, int] = {}
        if self.weight > 0:
            for lemmas in documents:
                for token in place_tokens(lemmas):
                    vocab.setdefault(token, len(vocab))
        self.vocabulary = vocab
        return self

    def lemmas(self) -> set[str]:
        """Every lemma that can take part in one of the vocabulary's features: the markers, and
        the names (a «place:» stem is the stem of itself or of itself + a stem suffix)."""
        if not self.vocabulary:
            return set()
        found = set(_ANY_MARKER)
        for feature in self.vocabulary:
            kind, _, name = feature.partition(":")
            if kind == "place":
                found.update([name, *(name + suffix for suffix in _STEM_SUFFIXES)])
            elif kind == "street":
                found.add(name)
            elif kind == "area":
                found.add(name.split(" ")[0])
        return found

    def row(self, lemmas: Sequence[str]) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        vocab = self.vocabulary
        index = sorted({vocab[t] for t in place_tokens(lemmas) if t in vocab}) if vocab else []
        return np.asarray(index, dtype=np.int64), np.full(len(index), self.weight, np.float32)
