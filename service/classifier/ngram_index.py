"""N-gram ids by integer keys and numpy, instead of a dict lookup per n-gram string.

Characters (`CharGramIndex`): ids of many new words at once.

A word the model has not seen must be cut into its ~30 padded n-grams and each looked up in a
300,000-entry vocabulary: ~14 µs per word in Python, mostly cache misses in the dict, and a
fifth of a fresh worker's first pass over long texts. Here each n-gram of up to five characters
becomes one integer (a few bits per character of the vocabulary's alphabet), all n-grams of a
batch of words are made with a handful of array operations, and a binary search in the sorted
vocabulary keys finds their ids. The ids are exactly those of `features.word_char_ngrams` looked
up in the vocabulary (a test compares the two on real words).

Lemma uni- and bigrams (`WordGramIndex`): a long text has ~100 of them, each a fresh string to
hash and look up (~0.35 µs apiece, the costliest line of scoring a warm text). Here each lemma
is looked up once (its string's hash is already cached), a bigram is the pair of its lemmas'
positions, and all bigram keys of a text are found with one binary search.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

# Keys are int64: five characters of at most 12 bits each.
_MAX_BITS = 12


class CharGramIndex:
    """Vocabulary n-grams (lengths `low`..`high` <= 5) as sorted integer keys with their ids."""

    def __init__(self, vocabulary: Mapping[str, int], low: int, high: int) -> None:
        self.low, self.high = low, high
        alphabet = sorted({ch for gram in vocabulary for ch in gram})
        self._bits = max(1, len(alphabet).bit_length())
        # Code point -> code; 0 is "a character no vocabulary n-gram has" (so an n-gram with it
        # is never a feature), and so is everything past the table's last entry. uint16, so a
        # character far up in Unicode costs 2 bytes per code point below it, not 8.
        self._table = np.zeros(max((ord(ch) for ch in alphabet), default=0) + 2, dtype=np.uint16)
        for i, ch in enumerate(alphabet):
            self._table[ord(ch)] = i + 1
        codes = {ch: i + 1 for i, ch in enumerate(alphabet)}
        keys = np.array([self._key([codes[ch] for ch in g]) for g in vocabulary], dtype=np.int64)
        order = np.argsort(keys)
        self._keys = keys[order]
        self._ids = np.fromiter(vocabulary.values(), dtype=np.int32, count=len(vocabulary))[order]

    @classmethod
    def usable(cls, vocabulary: Mapping[str, int], low: int, high: int) -> bool:
        """Whether the vocabulary fits the integer keys (it does for any real text so far).

        The shortest padded word (" x ") has three characters: with `low` above 3, a word
        shorter than `low` yields itself whole as one n-gram, which the keys do not make.
        """
        if high > 5 or not 1 <= low <= 3:
            return False
        alphabet = {ch for gram in vocabulary for ch in gram}
        return len(alphabet).bit_length() <= _MAX_BITS

    def _key(self, codes: Sequence[int]) -> int:
        key = 0
        for j, code in enumerate(codes):
            key |= code << (self._bits * (4 - j))
        return key

    def ids(self, words: Sequence[str]) -> list[NDArray[np.int32]]:
        """For each word, the ids of its padded n-grams found in the vocabulary."""
        if not words:
            return []
        padded = "".join(f" {word} " for word in words)
        # "surrogatepass": a lone surrogate is a character like any other (and in no n-gram).
        points = np.frombuffer(padded.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        codes = self._table[np.minimum(points, len(self._table) - 1)].astype(np.int64)
        sizes = np.fromiter((len(word) + 2 for word in words), dtype=np.int64, count=len(words))
        # Characters left in its padded word from each position on.
        room = np.repeat(np.cumsum(sizes), sizes) - np.arange(len(codes))
        if not codes.all():
            # An n-gram over an unknown character is no feature: cut the room before it.
            room = np.minimum(room, _distance_to_zero(codes))
        word_of = np.repeat(np.arange(len(words)), sizes)
        keys, owners = [], []
        key = np.zeros(len(codes), dtype=np.int64)
        for n in range(1, self.high + 1):
            m = max(0, len(codes) - n + 1)
            key = key[:m] | (codes[n - 1 : n - 1 + m] << np.int64(self._bits * (5 - n)))
            if n >= self.low:
                fits = room[:m] >= n
                keys.append(key[fits])
                owners.append(word_of[:m][fits])
        return self._split(np.concatenate(keys), np.concatenate(owners), len(words))

    def _split(
        self, keys: NDArray[np.int64], owners: NDArray[np.int64], n_words: int
    ) -> list[NDArray[np.int32]]:
        slot, found = _find(self._keys, keys)
        ids, owners = self._ids[slot], owners[found]
        order = np.argsort(owners, kind="stable")
        counts = np.bincount(owners, minlength=n_words)
        return np.split(ids[order], np.cumsum(counts)[:-1])


def _find(
    sorted_keys: NDArray[np.int64], keys: NDArray[np.int64]
) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
    """Where each key that `sorted_keys` holds sits there, and which of `keys` those are."""
    if not len(sorted_keys):
        return np.zeros(0, dtype=np.intp), np.zeros(len(keys), dtype=bool)
    slot = np.searchsorted(sorted_keys, keys)
    slot[slot == len(sorted_keys)] = 0
    found = sorted_keys[slot] == keys
    return slot[found], found


def _distance_to_zero(codes: NDArray[np.int64]) -> NDArray[np.int64]:
    """For each position, how many characters from it on come before the next zero code."""
    where = np.arange(len(codes))
    # A zero past the end stands for "none ahead".
    zeros = np.append(np.flatnonzero(codes == 0), len(codes))
    return zeros[np.searchsorted(zeros, where)] - where


class WordGramIndex:
    """A vocabulary of lemma unigrams and bigrams ("a b") as positions and integer pair keys."""

    def __init__(self, vocabulary: Mapping[str, int]) -> None:
        unigrams = {term: i for term, i in vocabulary.items() if " " not in term}
        self._position = {term: k for k, term in enumerate(unigrams)}
        self._unigram_ids = np.fromiter(unigrams.values(), dtype=np.int64, count=len(unigrams))
        self._width = np.int64(max(1, len(unigrams)))
        pairs = [(term.split(" "), i) for term, i in vocabulary.items() if " " in term]
        keys = np.array(
            [self._position[a] * int(self._width) + self._position[b] for (a, b), _ in pairs],
            dtype=np.int64,
        )
        order = np.argsort(keys)
        self._keys = keys[order]
        self._bigram_ids = np.array([i for _, i in pairs], dtype=np.int64)[order]

    @classmethod
    def usable(cls, vocabulary: Mapping[str, int], low: int, high: int) -> bool:
        """Uni- and bigrams only, and every bigram's lemmas are unigrams of the vocabulary (they
        are whenever a bigram's document count passed the cut its lemmas passed too)."""
        if (low, high) not in ((1, 1), (1, 2)):
            return False
        for term in vocabulary:
            parts = term.split(" ")
            if len(parts) > 2 or (len(parts) == 2 and not all(p in vocabulary for p in parts)):
                return False
        return True

    def ids(self, tokens: Sequence[str]) -> NDArray[np.int64]:
        """The ids of the text's unigrams and bigrams that the vocabulary has, repeats kept."""
        get = self._position.get
        k = np.array([get(token, -1) for token in tokens], dtype=np.int64)
        known = k >= 0
        unigrams = self._unigram_ids[k[known]]
        if len(k) < 2:
            return unigrams
        both = known[:-1] & known[1:]
        keys = k[:-1][both] * self._width + k[1:][both]
        return np.concatenate((unigrams, self._bigram_ids[_find(self._keys, keys)[0]]))
