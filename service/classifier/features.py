"""Feature extraction: lemma word n-grams, character n-grams and context tokens.

scikit-learn fits the vocabularies and IDF weights; transforms are our own, because its Python
n-gram generation and sparse-matrix plumbing cost ~1 ms per item, five times the whole budget.
A single item becomes an (indices, values) pair, so a worker scores it with one numpy gather.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from itertools import combinations, islice
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer

from service.classifier.cleaning import clean_text, tokenize
from service.classifier.lemmas import Lemmatizer
from service.classifier.ngram_index import CharGramIndex, WordGramIndex
from service.classifier.places import PlaceEncoder

Context = Mapping[str, str]
SparseRow = tuple[NDArray[np.int64], NDArray[np.float32]]
# Runtime bound on the per-word n-gram cache (see MAX_CACHE in lemmas).
MAX_WORD_CACHE = 200_000
# From this many new words on, their n-grams are found with numpy (ngram_index.py): ~5 µs a word
# against ~12 one by one, but ~60 µs for the call itself.
VECTOR_WORDS = 16


@dataclass(frozen=True)
class FeatureConfig:
    """Everything that shapes the feature space; stored in the artifact sidecar."""

    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    min_df: int = 2
    lemmatize: bool = True
    word_weight: float = 1.0
    char_weight: float = 1.0
    context_weight: float = 1.0
    # Pairs (reason×district tokens) measured no gain over single columns on SPb executor: opt-in.
    context_pairs: bool = False
    max_char_features: int = 300_000
    # Routing signal sits at the start; 99% of real texts are shorter, the rest cost time only.
    max_chars: int = 2_000
    # Place mentions as their own features (places.py); 0 leaves them out. 0.5 measured best
    # for the Kursk body; it helps routing labels and costs topic labels, hence off by default.
    place_weight: float = 0.0
    # Punctuation glued to words («двора),», «ул.ленина,») made each spelling a new char-n-gram
    # word. Dropping it was neutral on accuracy (Kursk body 0.470 -> 0.476, topic 0.567 ->
    # 0.566, SPb category 0.925 -> 0.924, executor 0.840 -> 0.841) and cut the distinct words a
    # model has not seen by 40%, the costliest part of a fresh worker's first pass.
    char_punctuation: bool = False

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Artifacts pickled before a field existed behave as they were trained.
        self.__dict__.update({**_BEFORE_FIELDS, **state})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureConfig:
        values = {**_BEFORE_FIELDS, **data}
        for key in ("word_ngrams", "char_ngrams"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)


# What a field meant in artifacts trained before it was added (their pickles lack it).
_BEFORE_FIELDS: dict[str, Any] = {"char_punctuation": True}
_PUNCTUATION = re.compile(r"[^\w\s]+")


def word_char_ngrams(word: str, low: int, high: int) -> list[str]:
    """Character n-grams of one space-padded word, as scikit-learn's "char_wb" makes them."""
    padded = f" {word} "
    size = len(padded)
    grams = [
        padded[i : i + n] for n in range(low, min(high, size - 1) + 1) for i in range(size - n + 1)
    ]
    if size <= high:
        # A word no longer than n yields itself once and ends the loop, as in scikit-learn.
        grams.append(padded)
    return grams


def char_wb_analyzer(text: str, low: int, high: int) -> list[str]:
    return [gram for word in text.split() for gram in word_char_ngrams(word, low, high)]


def word_ngram_analyzer(text: str, low: int, high: int) -> list[str]:
    tokens = text.split()
    grams: list[str] = []
    for n in range(low, high + 1):
        # Unigrams and bigrams (the shipped setting) without slicing and joining per position:
        # this was the costliest line of scoring one text.
        if n == 1:
            grams += tokens
        elif n == 2:
            grams += [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]
        else:
            grams += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return grams


_NO_IDS = np.zeros(0, dtype=np.int32)


def _empty_row() -> SparseRow:
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)


class TfidfBlock:
    """Sublinear TF-IDF with L2 norm (scikit-learn's weighting) over a fixed term vocabulary."""

    # Char block: the n-gram ids of every training word, packed as offsets into one int32 array
    # and shipped with the artifact, so a fresh worker does not regenerate the n-grams of words
    # it already knows (that was two thirds of a cold first pass). None in older artifacts.
    _known: dict[str, int] | None = None
    _known_ids: NDArray[np.int32] | None = None
    _known_offsets: NDArray[np.int64] | None = None
    # Char block: the vocabulary as integer keys, so new words' n-grams are found with numpy
    # (ngram_index.py). None in older artifacts: they look n-grams up one by one.
    _grams: CharGramIndex | None = None
    # Word block: lemma uni- and bigrams by integer keys (ngram_index.py); None in older
    # artifacts and for other n-gram ranges: they look the n-gram strings up.
    _words: WordGramIndex | None = None

    def __init__(
        self, kind: str, ngrams: tuple[int, int], min_df: int, max_features: int | None
    ) -> None:
        self.kind = kind
        self.ngrams = ngrams
        self._min_df = min_df
        self._max_features = max_features
        self.vocabulary: dict[str, int] = {}
        self.idf: NDArray[np.float32] = np.zeros(0, dtype=np.float32)
        self._cache: dict[str, NDArray[np.int32]] = {}

    def __getstate__(self) -> dict[str, Any]:
        # The word cache is rebuilt on demand; shipping it would only bloat the artifact.
        return {**self.__dict__, "_cache": {}}

    def __len__(self) -> int:
        return len(self.idf)

    def fit_transform(self, docs: Sequence[str]) -> sp.csr_matrix:
        analyzer = char_wb_analyzer if self.kind == "char" else word_ngram_analyzer
        vectorizer = TfidfVectorizer(
            analyzer=partial(analyzer, low=self.ngrams[0], high=self.ngrams[1]),
            min_df=self._min_df,
            max_features=self._max_features,
            sublinear_tf=True,
            dtype=np.float32,
        )
        matrix = vectorizer.fit_transform(docs)
        self.vocabulary = dict(vectorizer.vocabulary_)
        self.idf = np.asarray(vectorizer.idf_, dtype=np.float32)
        if self.kind == "char":
            self._pack_known(docs)
            if CharGramIndex.usable(self.vocabulary, *self.ngrams):
                self._grams = CharGramIndex(self.vocabulary, *self.ngrams)
        elif WordGramIndex.usable(self.vocabulary, *self.ngrams):
            self._words = WordGramIndex(self.vocabulary)
        return sp.csr_matrix(matrix)

    def _pack_known(self, docs: Sequence[str]) -> None:
        # Sorted, so the same training rows give a byte-identical artifact.
        words = sorted({word for doc in docs for word in doc.split()})
        per_word = [self._ngram_ids(word) for word in words]
        offsets = np.zeros(len(words) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(ids) for ids in per_word])
        self._known = {word: i for i, word in enumerate(words)}
        self._known_ids = np.concatenate(per_word) if per_word else _NO_IDS
        self._known_offsets = offsets

    def ready(self) -> None:
        """Put every training word's n-gram ids in the word cache now (a few ms at load), so a
        fresh worker's first texts do not slice the packed arrays word by word (~2 µs each:
        about a third of a cold first pass over long texts)."""
        if self._known is None or self._known_ids is None or self._known_offsets is None:
            return
        ids, bounds = self._known_ids, self._known_offsets.tolist()
        room = max(0, MAX_WORD_CACHE - len(self._cache))
        for word, k in islice(self._known.items(), room):
            self._cache.setdefault(word, ids[bounds[k] : bounds[k + 1]])

    def _ngram_ids(self, word: str) -> NDArray[np.int32]:
        found = map(self.vocabulary.get, word_char_ngrams(word, *self.ngrams))
        return np.array([i for i in found if i is not None], dtype=np.int32)

    def _new_words(self, words: Sequence[str]) -> dict[str, NDArray[np.int32]]:
        """The n-gram ids of words missing from the word cache, kept there while it has room."""
        found: dict[str, NDArray[np.int32]] = {}
        unseen: list[str] = []
        for word in dict.fromkeys(words):
            k = self._known.get(word) if self._known is not None else None
            if k is not None and self._known_ids is not None and self._known_offsets is not None:
                start, end = self._known_offsets[k : k + 2]
                found[word] = self._known_ids[start:end]  # a view: nothing is copied
            else:
                unseen.append(word)
        if self._grams is not None and len(unseen) >= VECTOR_WORDS:
            found.update(zip(unseen, self._grams.ids(unseen), strict=True))
        else:
            found.update((word, self._ngram_ids(word)) for word in unseen)
        room = max(0, MAX_WORD_CACHE - len(self._cache))
        self._cache.update(islice(found.items(), room))
        return found

    def prime(self, docs: Sequence[str]) -> None:
        """Before a batch: the new words of all its texts in one go (char block only)."""
        if self.kind == "char":
            cache = self._cache
            self._new_words([w for doc in docs for w in doc.split() if w not in cache])

    def term_ids(self, doc: str) -> NDArray[Any]:
        if self.kind == "char":
            # Char n-grams never cross words, so a per-word cache is exact; joining the words'
            # id arrays costs a fraction of flattening Python lists of ints.
            words = doc.split()
            cached = list(map(self._cache.get, words))
            missing = [w for w, ids in zip(words, cached, strict=True) if ids is None]
            if not missing:
                return np.concatenate(cached) if cached else _NO_IDS  # type: ignore[arg-type]
            new = self._new_words(missing)
            pairs = zip(words, cached, strict=True)
            return np.concatenate([new[w] if ids is None else ids for w, ids in pairs])
        if self._words is not None:
            return self._words.ids(doc.split())
        found = map(self.vocabulary.get, word_ngram_analyzer(doc, *self.ngrams))
        return np.array([i for i in found if i is not None], dtype=np.int64)

    def row(self, doc: str) -> SparseRow:
        ids = self.term_ids(doc)
        if not len(ids):
            return _empty_row()
        index, counts = _counted(ids)
        values = (np.log(counts) + np.float32(1.0)) * self.idf[index]
        values /= np.float32(np.sqrt(np.dot(values, values)))
        return index.astype(np.int64, copy=False), values.astype(np.float32, copy=False)

    def transform(self, docs: Sequence[str]) -> sp.csr_matrix:
        self.prime(docs)
        rows = [self.row(doc) for doc in docs]
        return rows_to_csr(rows, len(self))


def _counted(ids: NDArray[Any]) -> tuple[NDArray[Any], NDArray[np.float32]]:
    """The distinct ids (sorted) and how often each occurs: `np.unique(return_counts=True)`
    without its generality, which cost half of its time on a text's 100-1,500 ids. Sorts
    `ids` in place (callers pass a fresh array)."""
    ids.sort()
    n = len(ids)
    first = np.empty(n, dtype=bool)
    first[0] = True
    np.not_equal(ids[1:], ids[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.empty(len(starts), dtype=np.float32)
    np.subtract(starts[1:], starts[:-1], out=counts[:-1])
    counts[-1] = n - starts[-1]
    return ids[starts], counts


def rows_to_csr(rows: Sequence[SparseRow], width: int) -> sp.csr_matrix:
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(index) for index, _ in rows])
    index = np.concatenate([r[0] for r in rows]) if rows else np.zeros(0, dtype=np.int64)
    values = np.concatenate([r[1] for r in rows]) if rows else np.zeros(0, dtype=np.float32)
    return sp.csr_matrix((values, index, indptr), shape=(len(rows), max(width, 1)))


def _context_tokens(context: Context, columns: Sequence[str], pairs: bool) -> list[str]:
    # Empty values carry no information and must not become a shared "col=" feature.
    singles = [(col, str(context.get(col, "") or "").strip().lower()) for col in columns]
    singles = [(col, value) for col, value in singles if value]
    tokens = [f"{col}={value}" for col, value in singles]
    if pairs:
        tokens += [f"{a}={va}&{b}={vb}" for (a, va), (b, vb) in combinations(singles, 2)]
    return tokens


class ContextEncoder:
    """One-hot encoding of context columns (and optionally their pairs) with a fixed vocabulary."""

    def __init__(self, columns: Sequence[str], *, pairs: bool, weight: float) -> None:
        self.columns = tuple(columns)
        self.pairs = pairs
        self.weight = weight
        self.vocabulary: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.vocabulary)

    def fit(self, contexts: Sequence[Context]) -> ContextEncoder:
        vocab: dict[str, int] = {}
        for context in contexts:
            for token in _context_tokens(context, self.columns, self.pairs):
                vocab.setdefault(token, len(vocab))
        self.vocabulary = vocab
        return self

    def row(self, context: Context) -> SparseRow:
        tokens = _context_tokens(context, self.columns, self.pairs)
        index = sorted({self.vocabulary[t] for t in tokens if t in self.vocabulary})
        return np.asarray(index, dtype=np.int64), np.full(len(index), self.weight, dtype=np.float32)


class Featurizer:
    """Turns (text, context) pairs into sparse rows: [word | char | context | places]."""

    # A class attribute, so artifacts pickled before place features existed still load.
    _places: PlaceEncoder | None = None

    def __init__(self, config: FeatureConfig, context_columns: Sequence[str]) -> None:
        self.config = config
        self.lemmatizer = Lemmatizer()
        self._word = TfidfBlock("word", config.word_ngrams, config.min_df, None)
        self._char = TfidfBlock("char", config.char_ngrams, config.min_df, config.max_char_features)
        self._context = ContextEncoder(
            context_columns, pairs=config.context_pairs, weight=config.context_weight
        )
        self._places = PlaceEncoder(config.place_weight)

    @property
    def context_columns(self) -> tuple[str, ...]:
        return self._context.columns

    def ready(self) -> None:
        """What a serving process calls once after loading: dictionaries open, caches filled."""
        if self.config.lemmatize:
            self.lemmatizer.ready()
        self._char.ready()

    def index_forms(self) -> None:
        """For a model about to ship: new forms of known lemmas become lookups (wordforms.py).
        Besides the lemmas training saw: the word block's unigrams (the lemma cache has a size
        cap) and every lemma that can make one of the model's place features."""
        if self.config.lemmatize:
            unigrams = (term for term in self._word.vocabulary if " " not in term)
            places = self._places.lemmas() if self._places is not None else set()
            self.lemmatizer.index_forms([*unigrams, *places])

    @property
    def word_width(self) -> int:
        """The lemma n-gram block comes first: its columns are 0 .. word_width - 1."""
        return len(self._word)

    @property
    def n_features(self) -> int:
        places = len(self._places) if self._places is not None else 0
        return len(self._word) + len(self._char) + len(self._context) + places

    def prepare(self, text: str) -> tuple[str, str]:
        """The text for char n-grams and the space-joined (lemmatised) tokens."""
        # Raw HTML can be several times longer than its text, hence the generous first cut.
        clean = clean_text(text[: 4 * self.config.max_chars])[: self.config.max_chars]
        tokens = tokenize(clean)
        if self.config.lemmatize:
            tokens = self.lemmatizer.lemmatize(tokens)
        if not self.config.char_punctuation:
            # Char n-grams split on whitespace, so runs of spaces left here change nothing.
            clean = _PUNCTUATION.sub(" ", clean)
        return clean, " ".join(tokens)

    def fit_transform(self, texts: Sequence[str], contexts: Sequence[Context]) -> sp.csr_matrix:
        prepared = [self.prepare(text) for text in texts]
        words = self._word.fit_transform([words for _, words in prepared])
        chars = self._char.fit_transform([clean for clean, _ in prepared])
        self._context.fit(contexts)
        if self.config.lemmatize:
            self.lemmatizer.restrict_to({t for t in self._word.vocabulary if " " not in t})
        blocks = [words * self.config.word_weight, chars * self.config.char_weight]
        if len(self._context):
            blocks.append(rows_to_csr([self._context.row(c) for c in contexts], len(self._context)))
        if self._places is not None:
            lemmas = [w.split() for _, w in prepared]
            self._places.fit(lemmas)
            if len(self._places):
                rows = [self._places.row(x) for x in lemmas]
                blocks.append(rows_to_csr(rows, len(self._places)))
        # Empty blocks are left out: rows_to_csr pads a zero-width block to one column.
        return sp.csr_matrix(sp.hstack(blocks, format="csr", dtype=np.float32))

    def row(self, text: str, context: Context) -> SparseRow:
        return self._row(*self.prepare(text), context)

    def _row(self, clean: str, words: str, context: Context) -> SparseRow:
        w_index, w_values = self._word.row(words)
        c_index, c_values = self._char.row(clean)
        x_index, x_values = self._context.row(context)
        offset = len(self._word)
        indices = [w_index, c_index + offset, x_index + offset + len(self._char)]
        values = [w_values * self.config.word_weight, c_values * self.config.char_weight, x_values]
        if self._places is not None and len(self._places):
            p_index, p_values = self._places.row(words.split())
            indices.append(p_index + offset + len(self._char) + len(self._context))
            values.append(p_values)
        return np.concatenate(indices), np.concatenate(values)

    def transform(self, texts: Sequence[str], contexts: Sequence[Context]) -> sp.csr_matrix:
        prepared = [self.prepare(text) for text in texts]
        self._char.prime([clean for clean, _ in prepared])
        pairs = zip(prepared, contexts, strict=True)
        rows = [self._row(clean, words, context) for (clean, words), context in pairs]
        return rows_to_csr(rows, self.n_features)
