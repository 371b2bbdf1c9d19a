"""A thin, cached wrapper around pymorphy3.

Everything expensive (lexeme expansion) runs while indexes are built; at routing time
only the cached `is_known` is consulted, for typo and gibberish checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache

import pymorphy3

from service.routing.text import normalize

_ADJ = frozenset({"ADJF", "ADJS", "PRTF", "PRTS"})


class Morphology:
    def __init__(self, cache_size: int = 100_000) -> None:
        self._analyzer = pymorphy3.MorphAnalyzer()
        self._words = self._analyzer.dictionary.words
        self.is_known: Callable[[str], bool] = lru_cache(maxsize=cache_size)(self._is_known)
        self.lemmas: Callable[[str], tuple[str, ...]] = lru_cache(maxsize=cache_size)(self._lemmas)
        self.cases: Callable[[str], frozenset[str]] = lru_cache(maxsize=cache_size)(self._cases)

    def _is_known(self, word: str) -> bool:
        # A direct DAWG hit is ~10x cheaper than word_is_known's ё-tolerant search, and
        # almost every dictionary word is spelled without ё.
        return word in self._words or bool(self._analyzer.word_is_known(word))

    def _lemmas(self, word: str) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for parse in self._analyzer.parse(word):
            seen.setdefault(normalize(parse.normal_form), None)
        return tuple(seen)

    def geo_lemmas(self, word: str) -> tuple[str, ...]:
        """Normal forms of the Geox parses, unless the word also reads as an adjective
        («Павловском» is a town form and an adjective: only the aliases may decide)."""
        parses = self._analyzer.parse(word)
        if any(p.tag.POS in _ADJ for p in parses):
            return ()
        return tuple(normalize(p.normal_form) for p in parses if "Geox" in p.tag)

    def forms_of_lemma(self, lemma: str) -> set[str]:
        """Inflected forms of `lemma` as a dictionary word.

        Where pymorphy normalises the word to something else («дети» → «ребёнок»,
        «заброшенный» → «забросить»), the forms of that reading with the same part of
        speech are used, so a lexicon may list the words people actually write.
        """
        lemma = normalize(lemma)
        forms = {lemma}
        parses = self._analyzer.parse(lemma)
        exact = [p for p in parses if normalize(p.normal_form) == lemma]
        for parse in exact:
            forms.update(normalize(f.word) for f in parse.lexeme)
        if not exact:
            for parse in parses:
                if parse.score >= 0.2 and parse.tag.POS is not None:
                    pos = parse.tag.POS
                    forms.update(normalize(f.word) for f in parse.lexeme if pos == f.tag.POS)
        return forms

    def expand_forms(self, lemmas: Iterable[str]) -> dict[str, str]:
        """Map every form of the given lemmas to its lemma."""
        out: dict[str, str] = {}
        for lemma in lemmas:
            for form in self.forms_of_lemma(lemma):
                out.setdefault(form, normalize(lemma))
        return out

    def name_forms(self, word: str, attested: set[str]) -> tuple[str, set[str]]:
        """Inflect a place-name word: (lemma id, forms).

        The parse is the one whose paradigm contains most of the `attested` alias forms,
        so pymorphy's guesses for rare village names are checked against the gazetteer.
        Number and, for adjectives, gender stay fixed: «Советское» must not match
        «Советская» (a street) and «Ключи» must not match «ключ».
        """
        best: tuple[tuple[int, int, float], str, set[str]] | None = None
        for parse in self._analyzer.parse(word)[:4]:
            pos, number, gender = parse.tag.POS, parse.tag.number, parse.tag.gender
            if pos is None or parse.score < 0.05:
                continue
            adjective = pos in _ADJ
            # Grammeme-set membership is much cheaper than pymorphy's tag properties.
            need = {g for g in (pos, number, gender if adjective else None) if g is not None}
            forms = {word}
            for form in parse.lexeme:
                grammemes = form.tag.grammemes
                if need <= grammemes and "Supr" not in grammemes:
                    forms.add(normalize(form.word))
            key = (len(forms & attested), int("Geox" in parse.tag), parse.score)
            ident = f"{normalize(parse.normal_form)}|{pos}:{gender if adjective else number}"
            if best is None or key > best[0]:
                best = (key, ident, forms)
        if best is None:
            return word, {word}
        _, ident, forms = best
        lemma = ident.split("|", 1)[0]
        return ident, {f for f in forms if f == word or self._unambiguous(f, lemma)}

    def _unambiguous(self, form: str, lemma: str) -> bool:
        # Generated forms that also read as another word («Павловском» = adjective) are
        # exactly the collisions the gazetteer authors removed from the aliases.
        return self.lemmas(form) == (lemma,)

    def _cases(self, word: str) -> frozenset[str]:
        return frozenset(p.tag.case for p in self._analyzer.parse(word) if p.tag.case)

    def agree(self, adjective: str, noun: str) -> bool:
        """Whether the two words can stand in one case («Павловский тракт»)."""
        return bool(self.cases(adjective) & self.cases(noun))

    def is_locative_only(self, word: str) -> bool:
        """«в Алейске» reads only as a location; «в Алейск» may be a direction."""
        cases = {p.tag.case for p in self._analyzer.parse(word)}
        return bool(cases) and cases <= {"loct", "loc2"}

    def is_common_word(self, word: str) -> bool:
        """A dictionary word that is not a geographic name: «ключи», «дружба», «советское»."""
        if not self._analyzer.word_is_known(word):
            return False
        return not any("Geox" in p.tag for p in self._analyzer.parse(word))
