"""The router: actionability, category, location and authority for one message.

Implements data/altai/routing.md. Category probabilities and location readings are
combined into (authority, category) candidates; the authority with the largest total
probability wins, and below `triage_confidence` the item goes to the ЦУР triage queue
with its top suggestions instead of to a guessed authority.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from service.routing.catalog import Catalog, Category
from service.routing.decision import Decision, RouteInput, Suggestion
from service.routing.gazetteer import Gazetteer, Mention
from service.routing.lexicon import LexRow
from service.routing.location import Location, LocationResolver, Option
from service.routing.morph import Morphology
from service.routing.overrides import OverrideTable, RoutingOverride
from service.routing.rules import (
    DEFAULT_LEXICON,
    FALLBACK_CATEGORY,
    NO_IDEA,
    Assessment,
    ModelReading,
    RuleClassifier,
)
from service.routing.text import Token, normalize, tokenize

__all__ = ["TRIAGE_AUTHORITY", "Decision", "RouteInput", "Router", "Suggestion"]

RULES_VERSION = "rules-1.0"
TRIAGE_AUTHORITY = "op_tsur"
_TOP_CATEGORIES = 6
_MAX_CONFIDENCE = 0.99


class TextModel(Protocol):
    """A trained category model (service.classifier.serving.ArtifactTextModel)."""

    def read(self, text: str) -> ModelReading | None: ...


@dataclass(slots=True)
class _Candidate:
    authority: str | None
    category: str
    score: float
    option: Option | None
    override: RoutingOverride | None
    rule: str


@dataclass(slots=True)
class _Located:
    location: Location | None = None
    reasons: list[str] = field(default_factory=list)


class Router:
    """Pure routing engine; build once per process (about a second) and share."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        overrides: Iterable[RoutingOverride] = (),
        triage_confidence: float = 0.55,
        max_distance_km: float = 25.0,
        lexicon: Iterable[LexRow] | None = None,
        morph: Morphology | None = None,
        model: TextModel | None = None,
    ) -> None:
        self.catalog = catalog
        self.model = model
        self.triage_confidence = triage_confidence
        self._morph = morph or Morphology()
        self._gazetteer = Gazetteer(catalog.places, self._morph)
        self._locations = LocationResolver(catalog, self._gazetteer, max_distance_km)
        rows = list(lexicon) if lexicon is not None else None
        self._classifier = RuleClassifier(catalog, self._morph, rows)
        self._overrides = OverrideTable(overrides)
        self.version = f"{RULES_VERSION}+{_digest(rows)}"

    def with_overrides(self, overrides: Iterable[RoutingOverride]) -> Router:
        """A router sharing all indexes but with another override table (cheap)."""
        clone = copy.copy(self)
        clone._overrides = OverrideTable(overrides)
        return clone

    def route(self, item: RouteInput) -> Decision:
        tokens = tokenize(item.text)
        mentions = self._gazetteer.mentions(tokens)
        hint = (item.category_hint or "").strip() or None
        model = self.model
        assessment = self._classifier.assess(
            tokens,
            hint=hint,
            specials=_specials(tokens, mentions),
            model=(lambda: model.read(item.text)) if model is not None else None,
        )
        version = self.version
        if assessment.model_version:
            version = f"{version}+{assessment.model_version}"
        if not assessment.actionable:
            return self._rejected(
                assessment.not_actionable_reason, assessment.nonact_confidence, version
            )
        located = self._locate(item, mentions, assessment.evidence_position)
        text = normalize(item.text)
        candidates = [
            cand
            for code, prob in assessment.distribution[:_TOP_CATEGORIES]
            for cand in self._candidates(code, prob, located.location, text)
        ]
        decision = self._decide(
            candidates, located.location, [*assessment.reasons, *located.reasons]
        )
        return _attributed(decision, assessment, version)

    def _locate(self, item: RouteInput, mentions: list[Mention], evidence: int | None) -> _Located:
        """Step 2 of the rule: the first of point, address, text and page that gives a place."""
        out = _Located()
        page_district = self._locations.page_district(item.page_id)
        if item.lat is not None and item.lon is not None:
            out.location, reason = self._locations.from_point(item.lat, item.lon)
            out.reasons.append(reason)
        if out.location is None and item.address and item.address.strip():
            out.location = self._locations.from_address(item.address, page_district)
            if out.location is None:
                out.reasons.append("address names no known place")
        if out.location is None:
            out.location = self._locations.from_text(mentions, page_district, evidence)
        if out.location is not None:
            out.reasons.extend(r for r in out.location.reasons if r not in out.reasons)
            return out
        out.reasons.extend(
            f"{m.places[0].place} is a {m.role}, not the location"
            for m in mentions
            if m.role != "location"
        )
        if item.page_id:
            out.location, problem = self._locations.from_page(item.page_id)
            out.reasons.extend(out.location.reasons if out.location else [problem or ""])
        return out

    def _candidates(
        self, code: str, prob: float, location: Location | None, text: str
    ) -> list[_Candidate]:
        category = self.catalog.category(code)
        if category is None or code == FALLBACK_CATEGORY:
            # NO_IDEA and «Иное» have no owner: both are triage.
            rule = "«Иное» goes to triage" if code else "no category fits the text"
            return [_Candidate(None, code, prob, None, None, rule)]
        options: list[Option | None] = list(location.options) if location else [None]
        if category.level == "regional":
            # The location does not matter: one reading, kept only for place overrides.
            return [self._candidate(category, prob, options[0], None, text)]
        return [
            self._candidate(
                category, prob * (option.weight if option else 1.0), option, location, text
            )
            for option in options
        ]

    def _candidate(
        self,
        category: Category,
        mass: float,
        option: Option | None,
        location: Location | None,
        text: str,
    ) -> _Candidate:
        code = category.code
        override = self._overrides.match(
            category=code,
            parent_category=category.parent_code,
            level=category.level,
            place=option.place if option else None,
            text=text,
        )
        if override is not None:
            forced = override.target_authority_code
            rule = f"override {override.id} → {forced}"
            return _Candidate(forced, code, mass, option, override, rule)
        if category.level == "regional":
            ministry = category.regional_authority_code
            return _Candidate(
                ministry, code, mass, option, None, f"{code} is regional → {ministry}"
            )
        target, rule = self._by_level(category.level, code, option)
        confidence = location.confidence if location else 1.0
        return _Candidate(target, code, mass * confidence, option, None, rule)

    def _by_level(self, level: str, code: str, option: Option | None) -> tuple[str | None, str]:
        if option is None:
            return None, f"{code} is {level} and no location was found → triage"
        district = option.district_code
        if level == "municipal":
            where = option.place or option.authority_code
            return district, f"{code} is municipal → district of {where}: {district}"
        owner = self.catalog.authority(option.authority_code)
        if owner is not None and owner.kind == "settlement":
            return owner.code, f"{code} is settlement-level → settlement {owner.code}"
        return district, f"{code} is settlement-level, no settlement known → {district}"

    def _decide(
        self, candidates: list[_Candidate], location: Location | None, reasons: list[str]
    ) -> Decision:
        totals: dict[str | None, float] = {}
        for cand in candidates:
            totals[cand.authority] = totals.get(cand.authority, 0.0) + cand.score
        authority = max(totals, key=lambda a: totals[a])
        confidence = min(totals[authority], _MAX_CONFIDENCE)
        chosen = max((c for c in candidates if c.authority == authority), key=lambda c: c.score)
        if chosen.category == NO_IDEA:
            # Thin evidence: triage, but under the likeliest category there is.
            real = [c for c in candidates if c.category != NO_IDEA]
            chosen = (
                max(real, key=lambda c: c.score)
                if real
                else _Candidate(None, FALLBACK_CATEGORY, chosen.score, None, None, chosen.rule)
            )
            authority = None
            reasons.append(f"too little evidence; likeliest category {chosen.category}")
        ranked = _ranked_pairs(candidates)
        runner_up = next(
            (s for s in ranked if (s.authority_code, s.category) != (authority, chosen.category)),
            None,
        )
        reasons.append(chosen.rule)
        status = self._status(authority, confidence, reasons)
        category = self.catalog.category(chosen.category)
        option = chosen.option or (location.best if location else None)
        return Decision(
            actionable=True,
            not_actionable_reason=None,
            category=chosen.category,
            priority=category.priority if category else "normal",
            place=option.place if option else None,
            place_source=location.source if location else None,
            distance_km=location.distance_km if location else None,
            authority_code=authority if status == "routed" else None,
            confidence=confidence,
            runner_up=runner_up,
            suggestions=tuple(ranked[:3]),
            reasons=tuple(r for r in reasons if r),
            status=status,
            version=self.version,
            override_id=chosen.override.id if chosen.override else None,
        )

    def _status(self, authority: str | None, confidence: float, reasons: list[str]) -> str:
        if authority is None:
            reasons.append(f"no responsible body found → {TRIAGE_AUTHORITY} triage queue")
            return "triage"
        if confidence < self.triage_confidence:
            reasons.append(f"confidence {confidence:.2f} < {self.triage_confidence:.2f} → triage")
            return "triage"
        return "routed"

    def _rejected(self, reason: str | None, confidence: float, version: str) -> Decision:
        return Decision(
            actionable=False,
            not_actionable_reason=reason,
            category=None,
            priority=None,
            place=None,
            place_source=None,
            distance_km=None,
            authority_code=None,
            confidence=confidence,
            runner_up=None,
            suggestions=(),
            reasons=(f"not actionable: {reason}",),
            status="rejected",
            version=version,
            decided_by="rules",
        )


def _attributed(decision: Decision, assessment: Assessment, version: str) -> Decision:
    """Say which evidence (rules, model, citizen's hint) chose the category."""
    decided_by = assessment.decided_by(decision.category)
    note = f"category {decision.category} decided by {decided_by}"
    if assessment.rules_category not in (None, decision.category):
        note += f" (rules alone: {assessment.rules_category})"
    return dataclasses.replace(
        decision, decided_by=decided_by, version=version, reasons=(*decision.reasons, note)
    )


def _specials(tokens: tuple[Token, ...], mentions: list[Mention]) -> dict[str, list[int]]:
    """Token positions the lexicon cannot see by itself: places, destinations, names, numbers."""
    away = ("destination", "origin")
    return {
        "PLACE": [i for m in mentions for i in range(m.start, m.end)],
        "DEST": [i for m in mentions if m.role in away for i in range(m.start, m.end)],
        "PROPER": [i for i, t in enumerate(tokens) if t.capital],
        "NUM": [i for i, t in enumerate(tokens) if t.norm[:1].isdigit()],
    }


def _ranked_pairs(candidates: list[_Candidate]) -> list[Suggestion]:
    pairs: dict[tuple[str | None, str], float] = {}
    for cand in candidates:
        key = (cand.authority, cand.category)
        pairs[key] = pairs.get(key, 0.0) + cand.score
    ranked = sorted(pairs.items(), key=lambda kv: -kv[1])
    return [Suggestion(a, c or FALLBACK_CATEGORY, min(s, _MAX_CONFIDENCE)) for (a, c), s in ranked]


def _digest(rows: list[LexRow] | None) -> str:
    if rows is None:
        payload = DEFAULT_LEXICON.read_bytes()
    else:
        payload = "\n".join(f"{r.target},{r.weight},{r.pattern}" for r in rows).encode()
    return hashlib.sha256(payload).hexdigest()[:8]
