"""Weighted lemma patterns compiled into dictionaries.

A pattern is a list of elements that must all occur in a message:
`a + b` (any order, within a few tokens) or `a > b` (in this order, small gaps).
An element is alternatives separated by `|`; each alternative is
`lemma` (all its inflected forms), `stem*` (surface prefix), `=word` (exact surface),
`~word` (every form of every lemma pymorphy gives for `word`), `@group` (a named list)
or a special element such as `@PLACE` whose positions the caller supplies.

Matching a message is a dictionary lookup per token (cached) plus a check of the rules
whose elements occurred; nothing scans the rule list.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from service.routing.morph import Morphology
from service.routing.text import normalize

UNORDERED_SPAN = 7  # max distance between the first and last element of `a + b`
ORDERED_GAP = 3  # max distance between neighbours of `a > b`
_MIN_PREFIX = 3


@dataclass(frozen=True, slots=True)
class LexRow:
    target: str
    weight: float
    pattern: str


@dataclass(frozen=True, slots=True)
class Rule:
    target: str
    weight: float
    elements: tuple[int, ...]
    ordered: bool
    label: str


@dataclass(frozen=True, slots=True)
class Hit:
    target: str
    weight: float
    position: int
    label: str
    size: int  # number of elements in the rule: 1 for a bare keyword


def read_lexicon(path: Path) -> list[LexRow]:
    rows: list[LexRow] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            target = (row.get("target") or "").strip()
            if not target or target.startswith("#"):
                continue
            weight = float(row.get("weight") or 0)
            rows.append(LexRow(target, weight, (row.get("pattern") or "").strip()))
    return rows


class Lexicon:
    """Compiled rule set. `specials` are elements whose positions come from outside."""

    def __init__(
        self, rows: Iterable[LexRow], morph: Morphology, specials: Iterable[str] = ()
    ) -> None:
        self._morph = morph
        rows = list(rows)
        self._groups = {r.target[1:].lower(): r.pattern for r in rows if r.target.startswith("@")}
        self._element_ids: dict[frozenset[str], int] = {}
        self._forms: dict[str, set[int]] = {}
        self._prefixes: dict[str, set[int]] = {}
        self._element_specials: dict[int, frozenset[str]] = {}
        self._special_ids = {
            name: self._element(frozenset({f"@{name.lower()}"})) for name in specials
        }
        self.rules: list[Rule] = []
        for row in rows:
            if row.target[0] not in "@^->":
                self.rules.append(self._compile(row))
        # Bare keywords need no window check: they are answered straight from the index.
        self._single: dict[int, list[Rule]] = {}
        self._multi: dict[int, list[Rule]] = {}
        for rule in self.rules:
            table = self._single if len(set(rule.elements)) == 1 else self._multi
            for element in set(rule.elements):
                table.setdefault(element, []).append(rule)
        self._max_prefix = max((len(p) for p in self._prefixes), default=0)
        self.token_elements = lru_cache(maxsize=200_000)(self._token_elements)

    def _compile(self, row: LexRow) -> Rule:
        ordered = " > " in row.pattern
        parts = row.pattern.split(" > " if ordered else " + ")
        elements = tuple(self._element(self._atoms(part)) for part in parts)
        return Rule(row.target, row.weight, elements, ordered, row.pattern)

    def _atoms(self, part: str) -> frozenset[str]:
        atoms: set[str] = set()
        for alt in part.split("|"):
            alt = normalize(alt.strip())
            if alt.startswith("@") and alt[1:] in self._groups:
                atoms |= self._atoms(self._groups[alt[1:]])
            elif alt:
                atoms.add(alt)
        return frozenset(atoms)

    def _element(self, atoms: frozenset[str]) -> int:
        if atoms in self._element_ids:
            return self._element_ids[atoms]
        ident = len(self._element_ids)
        self._element_ids[atoms] = ident
        specials = frozenset(a[1:] for a in atoms if a.startswith("@"))
        if specials:
            self._element_specials[ident] = specials
        for atom in atoms:
            for key, table in self._atom_keys(atom):
                table.setdefault(key, set()).add(ident)
        return ident

    def _atom_keys(self, atom: str) -> list[tuple[str, dict[str, set[int]]]]:
        if atom.startswith("@"):
            return []
        if atom.startswith("="):
            return [(atom[1:], self._forms)]
        if atom.endswith("*"):
            return [(atom[:-1], self._prefixes)]
        if atom.startswith("~"):
            word = atom[1:]
            forms = {word}
            for lemma in self._morph.lemmas(word):
                forms |= self._morph.forms_of_lemma(lemma)
            return [(f, self._forms) for f in forms]
        return [(f, self._forms) for f in self._morph.forms_of_lemma(atom)]

    def _token_elements(self, token: str) -> frozenset[int]:
        found = set(self._forms.get(token, ()))
        for end in range(_MIN_PREFIX, min(len(token), self._max_prefix) + 1):
            found.update(self._prefixes.get(token[:end], ()))
        return frozenset(found)

    def match(
        self, tokens: Sequence[str], specials: Mapping[str, Sequence[int]] | None = None
    ) -> list[Hit]:
        positions: dict[int, list[int]] = {}
        for index, token in enumerate(tokens):
            for element in self.token_elements(token):
                positions.setdefault(element, []).append(index)
        if specials:
            supplied = {name.lower(): where for name, where in specials.items() if where}
            for element, names in self._element_specials.items():
                merged = set(positions.get(element, ()))
                for name in names & supplied.keys():
                    merged.update(supplied[name])
                if merged:
                    positions[element] = sorted(merged)
        hits: list[Hit] = []
        candidates: dict[int, Rule] = {}
        for element, where in positions.items():
            for rule in self._single.get(element, ()):
                hits.append(Hit(rule.target, rule.weight, where[0], rule.label, 1))
            for rule in self._multi.get(element, ()):
                candidates[id(rule)] = rule
        for rule in candidates.values():
            found = _satisfied(rule, positions)
            if found is not None:
                hits.append(Hit(rule.target, rule.weight, found, rule.label, len(rule.elements)))
        return hits


def _satisfied(rule: Rule, positions: Mapping[int, list[int]]) -> int | None:
    """Position where the rule matched, or None."""
    lists = [positions.get(e) for e in rule.elements]
    if any(not p for p in lists):
        return None
    present = [p for p in lists if p]
    if len(present) == 1:
        return present[0][0]
    return _ordered(present) if rule.ordered else _window(present)


def _ordered(lists: list[list[int]]) -> int | None:
    for start in lists[0]:
        here = start
        for nxt in lists[1:]:
            step = next((p for p in nxt if here < p <= here + ORDERED_GAP), None)
            if step is None:
                break
            here = step
        else:
            return start
    return None


def _window(lists: list[list[int]]) -> int | None:
    """Smallest window holding one position of every list, if it is short enough."""
    events = sorted((pos, which) for which, plist in enumerate(lists) for pos in plist)
    counts = [0] * len(lists)
    covered = left = 0
    for pos, which in events:
        counts[which] += 1
        covered += counts[which] == 1
        while covered == len(lists):
            first_pos, first_which = events[left]
            if pos - first_pos <= UNORDERED_SPAN:
                return first_pos
            counts[first_which] -= 1
            covered -= counts[first_which] == 0
            left += 1
    return None
