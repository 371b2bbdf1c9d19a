"""Category, priority and actionability from text: weighted lemma rules, first version.

The rules live in `data/lexicon.csv`; the keywords of categories.csv are added as weak
seeds. Scores become a probability distribution over subcategories with a "no idea"
mass that stands for `other_misc`, so thin evidence yields low confidence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from service.routing.catalog import Catalog, Category
from service.routing.lexicon import Hit, Lexicon, LexRow, read_lexicon
from service.routing.morph import Morphology
from service.routing.text import Token, normalize

DEFAULT_LEXICON = Path(__file__).parent / "data" / "lexicon.csv"
FALLBACK_CATEGORY = "other_misc"
NO_IDEA = ""  # the probability that none of the rules' categories is right
SPECIALS = ("PLACE", "DEST", "PROPER", "NUM")
BETA = 1.2  # sharpness of the score → probability mapping
NULL_SCORE = 1.0  # evidence a category must beat to be more likely than "no idea"
HINT_WEIGHT = 1.5  # a citizen's choice counts like one medium keyword, no more
# A trained text model's probability p adds MODEL_WEIGHT * p (a sure model weighs like two
# strong keywords); it is asked only below MODEL_ABOVE_RULES of rule evidence, so it settles
# texts the rules know little about (docs/classifier.md, "The router's category model").
MODEL_WEIGHT = 3.0
MODEL_MIN_P = 0.3
# The rules were written for this region's messages; the model learned other regions' portals.
# Above this much rule evidence the rules are trusted alone.
MODEL_ABOVE_RULES = 2.0
SEED_WEIGHT = 1.0
NONACT_MIN = 2.0
LANDMARK_FACTOR = 0.35
# «…, а у нас дорогу не чистят»: what follows the contrast is the complaint.
CONTRAST_AFTER, CONTRAST_BEFORE = 1.25, 0.7
_CONTRAST = frozenset({"а", "но", "однако", "зато"})
_POLITE = frozenset({"thanks", "congratulation", "greeting", "chatter"})
# «у школы», «возле магазина»: the noun says where, not what is wrong.
_LANDMARK_PREPS = frozenset({"у", "возле", "около", "напротив", "вдоль", "перед", "мимо", "близ"})


class ModelReading(Protocol):
    """What a trained category model says about one text (service.classifier.serving)."""

    @property
    def version(self) -> str: ...
    @property
    def top(self) -> tuple[tuple[str, float], ...]: ...
    @property
    def labels(self) -> Collection[str]: ...


@dataclass(frozen=True, slots=True)
class Assessment:
    actionable: bool
    not_actionable_reason: str | None
    nonact_confidence: float
    # (category code, probability), best first, including the NO_IDEA mass.
    distribution: tuple[tuple[str, float], ...]
    top_score: float
    evidence_position: int | None
    reasons: tuple[str, ...] = field(default=())
    # Evidence per source ("rules", "model", "hint") and category, to say which decided.
    sources: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    rules_category: str | None = None  # what the keyword rules alone would have chosen
    model_version: str | None = None  # set when the trained model was consulted

    def decided_by(self, category: str | None) -> str:
        """The source that contributed most evidence for `category` ("none" without any)."""
        shares = {name: per.get(category or "", 0.0) for name, per in self.sources.items()}
        best = max(shares, key=lambda name: shares[name], default="none")
        return best if shares.get(best, 0.0) > 0 else "none"

    @property
    def category(self) -> str:
        """The likeliest real category; other_misc when the text gives no evidence."""
        return next((c for c, _ in self.distribution if c != NO_IDEA), FALLBACK_CATEGORY)


class RuleClassifier:
    def __init__(
        self,
        catalog: Catalog,
        morph: Morphology,
        rows: Iterable[LexRow] | None = None,
    ) -> None:
        rows = list(read_lexicon(DEFAULT_LEXICON) if rows is None else rows)
        self._catalog = catalog
        self._morph = morph
        self.defaults = {r.target[1:]: r.pattern for r in rows if r.target.startswith("^")}
        # `>target,threshold,a|b`: once `target` has that much evidence of its own, the
        # scores of a, b are evidence for it («ямы на трассе» is a regional road matter).
        self._folds = [
            (r.target[1:], r.weight, tuple(r.pattern.split("|")))
            for r in rows
            if r.target.startswith(">")
        ]
        skip = {normalize(r.pattern) for r in rows if r.target == "-seed"}
        seeds = self._seed_rows(catalog.categories, skip)
        self._lexicon = Lexicon([*rows, *seeds], morph, specials=SPECIALS)
        self._subcategories = {c.code for c in catalog.categories if c.is_subcategory}

    def _seed_rows(self, categories: Iterable[Category], skip: set[str]) -> list[LexRow]:
        out: list[LexRow] = []
        for cat in categories:
            target = cat.code if cat.is_subcategory else self.defaults.get(cat.code)
            if target is None or target == FALLBACK_CATEGORY:
                continue
            weight = SEED_WEIGHT if cat.is_subcategory else SEED_WEIGHT / 2
            for keyword in cat.keywords:
                words = normalize(keyword).split()
                if not words or normalize(keyword) in skip:
                    continue
                pattern = " > ".join(self._seed_atom(w) for w in words)
                out.append(LexRow(target, weight * (1.5 if len(words) > 1 else 1.0), pattern))
        return out

    def _seed_atom(self, word: str) -> str:
        # Seeds are stems («выбоин») or words («ямы»): stems match as prefixes,
        # dictionary words through all forms of their lemmas.
        if word.isdigit() or len(word) <= 2 or not word.isalpha():
            return f"={word}"
        if not self._morph.is_known(word):
            return f"{word}*"
        # A dictionary word may still be meant as a stem («вывоз» for «вывозят»).
        return f"~{word}|{word}*" if len(word) >= 5 else f"~{word}"

    def subcategory_for(self, code: str | None) -> str | None:
        if code is None:
            return None
        if code in self._subcategories:
            return code
        return self.defaults.get(code)

    def assess(
        self,
        tokens: Sequence[Token],
        *,
        hint: str | None = None,
        specials: Mapping[str, Sequence[int]] | None = None,
        model: Callable[[], ModelReading | None] | None = None,
    ) -> Assessment:
        norms = [t.norm for t in tokens]
        hits = self._lexicon.match(norms, specials)
        scores, reasons = self._category_scores(hits, _landmarks(norms), _contrast(norms))
        text_top = max(scores.values(), default=0.0)
        rules_category = max(scores, key=lambda c: scores[c]) if text_top >= NULL_SCORE else None
        sources: dict[str, Mapping[str, float]] = {"rules": dict(scores)}
        # Asked only when the rules are unsure: it is the costlier half of routing.
        reading = model() if model is not None and text_top < MODEL_ABOVE_RULES else None
        if reading is not None and (rules_category is None or rules_category in reading.labels):
            # A model cannot vote against a category it was never shown.
            sources["model"] = self._apply_model(scores, reading.top, reasons)
        sources["hint"] = self._apply_hint(scores, hint, reasons)
        has_place = bool(specials and specials.get("PLACE"))
        reason, nonact_conf = self._not_actionable(norms, hits, text_top, has_place)
        distribution = _distribution(scores)
        best = next((c for c, _ in distribution if c != NO_IDEA), FALLBACK_CATEGORY)
        position = _evidence_position(hits, best)
        return Assessment(
            actionable=reason is None,
            not_actionable_reason=reason,
            nonact_confidence=nonact_conf,
            distribution=distribution,
            top_score=text_top,
            evidence_position=position,
            reasons=tuple(reasons),
            sources=sources,
            rules_category=rules_category,
            model_version=reading.version if reading is not None else None,
        )

    def _category_scores(
        self, hits: Sequence[Hit], landmarks: set[int], contrast: int | None
    ) -> tuple[dict[str, float], list[str]]:
        scores: dict[str, float] = {}
        raw: dict[str, float] = {}
        for hit in hits:
            code = self.subcategory_for(hit.target)
            if code is None:
                continue
            raw[code] = raw.get(code, 0.0) + hit.weight
            scores[code] = scores.get(code, 0.0) + hit.weight * _position_factor(
                hit, landmarks, contrast
            )
        scores = {code: s for code, s in scores.items() if s > 0}
        for target, threshold, absorbed in self._folds:
            # Thresholds look at unweighted evidence: position cues rank, they do not veto.
            if target in scores and raw.get(target, 0.0) >= threshold:
                scores[target] += sum(scores.pop(code, 0.0) for code in absorbed)
        best = sorted(scores.items(), key=lambda kv: -kv[1])[:3]
        reasons = [f"text evidence {code}: {s:.1f}" for code, s in best]
        return scores, reasons

    def _apply_model(
        self, scores: dict[str, float], model: Sequence[tuple[str, float]], reasons: list[str]
    ) -> dict[str, float]:
        added: dict[str, float] = {}
        for label, prob in model:
            code = self.subcategory_for(label)
            if code is None or prob < MODEL_MIN_P:
                continue
            added[code] = added.get(code, 0.0) + MODEL_WEIGHT * prob
            scores[code] = scores.get(code, 0.0) + MODEL_WEIGHT * prob
        if added:
            shown = ", ".join(f"{code} {w / MODEL_WEIGHT:.2f}" for code, w in added.items())
            reasons.append(f"text model: {shown}")
        return added

    def _apply_hint(
        self, scores: dict[str, float], hint: str | None, reasons: list[str]
    ) -> dict[str, float]:
        if hint is None:
            return {}
        code = self.subcategory_for(hint)
        if code is None:
            reasons.append(f"citizen category {hint!r} is unknown and ignored")
            return {}
        targets = [code]
        if hint not in self._subcategories:
            # A top-level choice backs whichever of its subcategories the text supports.
            targets = [c for c in self._catalog.subcategories(hint) if c in scores] or targets
        added = {target: HINT_WEIGHT / len(targets) for target in targets}
        for target, weight in added.items():
            scores[target] = scores.get(target, 0.0) + weight
        reasons.append(f"citizen category {hint} counted as evidence (+{HINT_WEIGHT:g})")
        return added

    def _not_actionable(
        self, norms: Sequence[str], hits: Sequence[Hit], topic: float, has_place: bool
    ) -> tuple[str | None, float]:
        """(reason, confidence) when the message is not something a body can act on."""
        words = [w for w in norms if any(ch.isalpha() for ch in w)]
        if not words:
            return "empty", 0.95
        signals: dict[str, float] = {}
        problem = 0
        for hit in hits:
            if hit.target == "+problem":
                problem += 1
            elif hit.target.startswith("!"):
                signals[hit.target[1:]] = signals.get(hit.target[1:], 0.0) + hit.weight
        reason, strength = max(signals.items(), key=lambda kv: kv[1], default=("", 0.0))
        if topic < 1.0 and not has_place and self._gibberish(words):
            return "gibberish", 0.9
        confidence = min(0.95, 0.5 + strength / 10)
        polite = reason in _POLITE
        if (
            strength > 0
            and problem == 0
            and (topic == 0 or (strength >= NONACT_MIN and (polite or topic < max(3.0, strength))))
        ):
            # Thanks and greetings carry no request unless a problem is named, whatever
            # they thank for; adverts and slogans lose to a concrete topic.
            return reason, confidence
        if strength >= NONACT_MIN and topic < 1.5 and strength > problem and reason != "greeting":
            return reason, confidence - 0.1
        if topic == 0 and problem == 0 and len(words) <= 6 and not has_place:
            return "no_content", 0.7
        return None, 0.0

    def _gibberish(self, words: Sequence[str]) -> bool:
        long_words = [w for w in words if len(w) >= 3]
        if not long_words:
            return len(words) <= 2
        known = sum(1 for w in long_words if self._morph.is_known(w))
        return known / len(long_words) < 0.5


def _landmarks(norms: Sequence[str]) -> set[int]:
    out: set[int] = set()
    for i in range(1, len(norms)):
        prev = norms[i - 1]
        before = norms[i - 2] if i > 1 else ""
        near = prev in ("с", "со") and before == "рядом"
        area = prev in ("районе", "районы") and before == "в"
        if prev in _LANDMARK_PREPS or near or area:
            out.add(i)
    return out


def _position_factor(hit: Hit, landmarks: set[int], contrast: int | None) -> float:
    if hit.weight <= 0:
        return 1.0
    factor = LANDMARK_FACTOR if hit.size == 1 and hit.position in landmarks else 1.0
    if contrast is not None:
        factor *= CONTRAST_AFTER if hit.position > contrast else CONTRAST_BEFORE
    return factor


def _contrast(norms: Sequence[str]) -> int | None:
    """Position of the last mid-sentence contrast conjunction, if any."""
    found = [i for i, w in enumerate(norms) if w in _CONTRAST and i >= 3]
    return found[-1] if found else None


def _distribution(scores: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
    top = max([NULL_SCORE, *scores.values()])
    # Shifted by the top score so that long, keyword-dense texts cannot overflow exp().
    weights = {code: math.exp(BETA * (s - top)) for code, s in scores.items()}
    weights[NO_IDEA] = math.exp(BETA * (NULL_SCORE - top))
    total = sum(weights.values())
    return tuple(sorted(((c, w / total) for c, w in weights.items()), key=lambda kv: -kv[1]))


def _evidence_position(hits: Sequence[Hit], category: str) -> int | None:
    best = max((h for h in hits if h.target == category), key=lambda h: h.weight, default=None)
    return best.position if best is not None else None
