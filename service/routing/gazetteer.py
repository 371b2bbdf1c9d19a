"""Place names in free text: an n-gram index over inflected alias forms.

Built once from the gazetteer. Every alias token is expanded with pymorphy3 into its
inflected forms, each form maps to a lemma id, and an alias is indexed as the tuple of
its token ids. Matching a message is then a handful of dictionary hits per token;
rapidfuzz is consulted only for unknown words that no form matched (typos).
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process

from service.routing.catalog import Place
from service.routing.morph import Morphology
from service.routing.text import Token, norm_tokens

POINT_KINDS = frozenset({"city", "town", "urban_settlement", "village"})
# Specificity for "the most specific place wins": a village beats its сельсовет,
# which beats the district.
KIND_RANK = {
    "village": 4,
    "town": 4,
    "urban_settlement": 4,
    "city": 4,
    "selsovet": 3,
    "district": 1,
    "okrug": 1,
}
WORDS_CSV = Path(__file__).parent / "data" / "place_words.csv"
_FUZZY_CUTOFF = 85.0


def read_word_groups(path: Path = WORDS_CSV) -> dict[str, frozenset[str]]:
    """Word lists of `place_words.csv`: group name → words (lemmas or abbreviations)."""
    groups: dict[str, frozenset[str]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            name = (row.get("group") or "").strip()
            if name and not name.startswith("#"):
                groups[name] = frozenset((row.get("words") or "").split())
    return groups


@dataclass(frozen=True, slots=True)
class Mention:
    """A place name found in text. `places` has several entries when the name repeats."""

    start: int
    end: int
    places: tuple[Place, ...]
    method: str  # alias | lemma | fuzzy
    role: str  # location | destination | comparison | origin

    @property
    def score(self) -> float:
        return {"alias": 1.0, "lemma": 0.95, "fuzzy": 0.85}[self.method]


class Gazetteer:
    """Finds places in texts and addresses; construction does all the heavy work."""

    def __init__(
        self,
        places: Iterable[Place],
        morph: Morphology,
        words: dict[str, frozenset[str]] | None = None,
    ) -> None:
        words = read_word_groups() if words is None else words
        self._morph = morph
        self._generic = words.get("generic", frozenset())
        self._index: dict[tuple[str, ...], list[Place]] = {}
        self._form_ids: dict[str, set[str]] = {}
        self._adjective_ids: set[str] = set()
        self._exact: set[tuple[str, ...]] = set()
        self._needs_context: set[str] = set()
        self._forms_cache: dict[tuple[str, frozenset[str]], tuple[str, set[str]]] = {}
        for place in places:
            self._add_place(place)
        self._first_ids = {key[0] for key in self._index}
        self._max_len = max((len(k) for k in self._index), default=1)
        self._locative_only = {f for f in self._form_ids if morph.is_locative_only(f)}
        self._build_word_sets(morph, words)
        # Cheap pre-filter: a dictionary word can only be a place form sharing its start.
        self._prefixes4 = {f[:4] for f in self._form_ids if len(f) >= 4}
        self._fuzzy_buckets: dict[str, list[str]] = {}
        for form in self._form_ids:
            if len(form) >= 4:
                self._fuzzy_buckets.setdefault(form[0], []).append(form)
        self.token_ids = lru_cache(maxsize=100_000)(self._token_ids)

    def _build_word_sets(self, morph: Morphology, words: dict[str, frozenset[str]]) -> None:
        def forms(group: str) -> frozenset[str]:
            return frozenset(morph.expand_forms(words.get(group, ())))

        abbrev = words.get("street_abbrev", frozenset())
        self._street_words = forms("street_nouns") | abbrev
        self._adj_blockers = forms("adjective_blockers") | abbrev
        self._settlement_words = forms("settlement_words") | words.get(
            "settlement_abbrev", frozenset()
        )
        self._place_preps = words.get("place_prepositions", frozenset())
        self._motion_verbs = forms("motion_verbs")
        self._motion_nouns = forms("motion_nouns")
        self._compare = words.get("compare_words", frozenset())
        self._dest_preps = words.get("destination_prepositions", frozenset())

    def _add_place(self, place: Place) -> None:
        aliases = place.aliases or (place.place.split(" (")[0],)
        token_lists = [norm_tokens(a) for a in aliases]
        attested = frozenset(t for toks in token_lists for t in toks)
        for toks in token_lists:
            if not toks:
                continue
            key = tuple(self._register(tok, attested) for tok in toks)
            bucket = self._index.setdefault(key, [])
            if place not in bucket:
                bucket.append(place)
            self._exact.add(toks)
        name = norm_tokens(place.place.split(" (")[0])
        single = len(name) == 1 and place.place_kind in POINT_KINDS
        if single and self._morph.is_common_word(name[0]):
            self._needs_context.add(place.place)

    def _register(self, tok: str, attested: frozenset[str]) -> str:
        if len(tok) <= 2 or tok.isdigit():
            ident, forms = tok, {tok}
        else:
            generic = bool(set(self._morph.lemmas(tok)) & self._generic)
            cache_key = (tok, frozenset() if generic else attested)
            if cache_key not in self._forms_cache:
                self._forms_cache[cache_key] = self._morph.name_forms(tok, set(cache_key[1]))
            ident, forms = self._forms_cache[cache_key]
        if "|ADJ" in ident or "|PRT" in ident:
            self._adjective_ids.add(ident)
        for form in forms:
            self._form_ids.setdefault(form, set()).add(ident)
        return ident

    def _token_ids(self, norm: str) -> tuple[frozenset[str], bool]:
        """Lemma ids of a token and whether they came from typo correction."""
        ids = self._form_ids.get(norm)
        if ids is not None:
            return frozenset(ids), False
        if len(norm) < 4 or not norm.isalpha():
            return frozenset(), False
        if self._morph.is_known(norm):
            if norm[:4] not in self._prefixes4:
                return frozenset(), False
            # pymorphy knows some inflections the aliases lack («Змеиногорски» → Змеиногорск).
            found = set().union(*(self._form_ids.get(g, ()) for g in self._morph.geo_lemmas(norm)))
            return frozenset(found), False
        if len(norm) < 5:
            return frozenset(), False
        bucket = [f for f in self._fuzzy_buckets.get(norm[0], ()) if abs(len(f) - len(norm)) <= 2]
        hit = process.extractOne(norm, bucket, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF)
        if hit is None:
            return frozenset(), False
        return frozenset(self._form_ids[hit[0]]), True

    def mentions(self, tokens: Sequence[Token]) -> list[Mention]:
        """Place mentions, longest match first, with street and context guards applied."""
        looked = [self.token_ids(t.norm) for t in tokens]
        spans: list[tuple[int, int, list[Place]]] = []
        for i in range(len(tokens)):
            if not looked[i][0] & self._first_ids:
                continue
            for length in range(min(self._max_len, len(tokens) - i), 0, -1):
                places = self._lookup([ids for ids, _ in looked[i : i + length]])
                if places:
                    spans.append((i, i + length, places))
                    break
        spans.sort(key=lambda s: (s[0] - s[1], s[0]))
        taken: list[Mention] = []
        for start, end, places in spans:
            if any(start < m.end and m.start < end for m in taken):
                continue
            if not self._plausible(tokens, start, end, places):
                continue
            method = self._method(tokens, looked, start, end)
            role = self._role(tokens, start, end)
            taken.append(Mention(start, end, tuple(places), method, role))
        taken.sort(key=lambda m: m.start)
        return taken

    def _lookup(self, id_sets: list[frozenset[str]]) -> list[Place]:
        if not all(id_sets):
            return []
        found: list[Place] = []
        for key in itertools.product(*id_sets):
            for place in self._index.get(key, ()):
                if place not in found:
                    found.append(place)
        return found

    def _method(
        self,
        tokens: Sequence[Token],
        looked: list[tuple[frozenset[str], bool]],
        start: int,
        end: int,
    ) -> str:
        if any(fuzzy for _, fuzzy in looked[start:end]):
            return "fuzzy"
        surface = tuple(t.norm for t in tokens[start:end])
        return "alias" if surface in self._exact else "lemma"

    def _plausible(
        self, tokens: Sequence[Token], start: int, end: int, places: list[Place]
    ) -> bool:
        prev = tokens[start - 1].norm if start > 0 else ""
        if self.token_ids(tokens[end - 1].norm)[0] & self._adjective_ids:
            if prev in self._street_words:
                return False
            nxt = tokens[end].norm if end < len(tokens) else ""
            if nxt in self._adj_blockers and self._morph.agree(tokens[end - 1].norm, nxt):
                return False
        if end - start > 1 or not all(p.place in self._needs_context for p in places):
            return True
        # «ключи», «дружба», «советское» are ordinary words unless something marks a place.
        return tokens[start].capital or prev in self._place_preps or prev in self._settlement_words

    def _role(self, tokens: Sequence[Token], start: int, end: int) -> str:
        prev = tokens[start - 1].norm if start > 0 else ""
        prev2 = tokens[start - 2].norm if start > 1 else ""
        if prev in self._compare or prev2 in self._compare:
            return "comparison"
        if prev == "до":
            return "destination"
        if prev in {"из", "от"}:
            return "origin"
        if prev in self._dest_preps and tokens[end - 1].norm not in self._locative_only:
            before = [t.norm for t in tokens[max(0, start - 5) : start - 1]]
            after = [t.norm for t in tokens[end : end + 2]]
            if any(w in self._motion_verbs for w in before + after):
                return "destination"
            if any(w in self._motion_nouns for w in before[-2:]):
                return "destination"
        return "location"
