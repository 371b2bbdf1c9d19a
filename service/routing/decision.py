"""Input and output of the router: plain data, JSON-ready."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RouteInput:
    text: str
    channel: str = "comment"  # comment | widget | platform
    page_id: str | None = None
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    category_hint: str | None = None  # the citizen's choice (ПОС); evidence, not truth


@dataclass(frozen=True, slots=True)
class Suggestion:
    authority_code: str | None  # None: no responsible body found (triage by the rule)
    category: str
    confidence: float

    def to_dict(self) -> dict[str, object]:
        return {
            "authority_code": self.authority_code,
            "category": self.category,
            "confidence": round(self.confidence, 4),
        }


@dataclass(frozen=True, slots=True)
class Decision:
    actionable: bool
    not_actionable_reason: str | None
    category: str | None
    priority: str | None
    place: str | None
    place_source: str | None  # point | address | text | page
    distance_km: float | None
    authority_code: str | None  # None unless status == "routed"
    confidence: float
    runner_up: Suggestion | None
    suggestions: tuple[Suggestion, ...]
    reasons: tuple[str, ...]
    status: str  # routed | triage | rejected
    version: str
    override_id: str | None = None
    # Which evidence chose the category: rules | model | hint | none (see rules.Assessment).
    decided_by: str = "rules"

    def to_dict(self) -> dict[str, object]:
        return {
            "actionable": self.actionable,
            "not_actionable_reason": self.not_actionable_reason,
            "category": self.category,
            "priority": self.priority,
            "place": self.place,
            "place_source": self.place_source,
            "distance_km": self.distance_km,
            "authority_code": self.authority_code,
            "confidence": round(self.confidence, 4),
            "runner_up": self.runner_up.to_dict() if self.runner_up else None,
            "suggestions": [s.to_dict() for s in self.suggestions],
            "reasons": list(self.reasons),
            "status": self.status,
            "version": self.version,
            "override_id": self.override_id,
            "decided_by": self.decided_by,
        }
