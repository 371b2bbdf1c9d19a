"""Routing overrides: administrator rules that win over the routing table.

An override matches on any combination of category, place and a text pattern; the most
specific match (most criteria set, then the highest `priority`) wins. An override without
a category only redirects location-dependent (municipal/settlement) categories: naming a
road or a place says who owns that territory, not who runs hospitals or pensions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import regex
import structlog

from service.routing.catalog import Catalog

log = structlog.get_logger()

# Patterns come from administrators and run on citizens' text in the worker's event loop: a
# backtracking pattern such as `(a|aa)+$` must not stall routing, SLA checks and alerts with it.
# The `regex` package bounds each search; a search that runs out counts as no match.
MATCH_TIMEOUT_S = 0.05


@dataclass(frozen=True, slots=True)
class RoutingOverride:
    id: str
    target_authority_code: str
    category_code: str | None = None
    place: str | None = None
    text_pattern: str | None = None  # a case-insensitive regex over the ё→е folded text
    priority: int = 0

    @property
    def specificity(self) -> int:
        return sum(x is not None for x in (self.category_code, self.place, self.text_pattern))


def check_override(override: RoutingOverride, catalog: Catalog) -> list[str]:
    """Problems that make an override unusable (for a 422 from the admin API); [] if fine."""
    problems: list[str] = []
    if override.specificity == 0:
        problems.append("set at least one of category_code, place, text_pattern")
    if catalog.authority(override.target_authority_code) is None:
        problems.append(f"unknown authority {override.target_authority_code!r}")
    if override.category_code is not None and catalog.category(override.category_code) is None:
        problems.append(f"unknown category {override.category_code!r}")
    if override.place is not None and catalog.place(override.place) is None:
        problems.append(f"unknown place {override.place!r}")
    if override.text_pattern is not None:
        problems.extend(_pattern_problems(override.text_pattern))
    return problems


def _compile(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern.replace("ё", "е"), regex.IGNORECASE | regex.V0)


def _pattern_problems(pattern: str) -> list[str]:
    try:
        compiled = _compile(pattern)
    except (regex.error, ValueError) as exc:  # `regex` raises ValueError for clashing flags
        return [f"text_pattern is not a valid regular expression: {exc}"]
    try:
        # One that matches an empty text matches every appeal of the region: a typo's rule.
        if compiled.search("", timeout=MATCH_TIMEOUT_S) is not None:
            return ["text_pattern matches every text (it matches an empty one)"]
    except TimeoutError:
        return ["text_pattern takes too long to match"]
    return []


class OverrideTable:
    def __init__(self, overrides: Iterable[RoutingOverride]) -> None:
        self._items: list[tuple[RoutingOverride, regex.Pattern[str] | None]] = []
        for override in overrides:
            if override.specificity == 0:
                raise ValueError(f"override {override.id} matches everything")
            pattern = override.text_pattern
            self._items.append((override, _compile(pattern) if pattern else None))
        # Most specific first; among equals the higher priority, then a stable id order.
        self._items.sort(key=lambda item: (-item[0].specificity, -item[0].priority, item[0].id))

    def __len__(self) -> int:
        return len(self._items)

    def match(
        self,
        *,
        category: str,
        parent_category: str | None,
        level: str,
        place: str | None,
        text: str,
    ) -> RoutingOverride | None:
        for override, pattern in self._items:
            wanted = override.category_code
            if wanted is not None and wanted not in (category, parent_category):
                continue
            if wanted is None and level == "regional":
                continue
            if override.place is not None and override.place != place:
                continue
            if pattern is not None and not _found(override, pattern, text):
                continue
            return override
        return None


def _found(override: RoutingOverride, pattern: regex.Pattern[str], text: str) -> bool:
    try:
        return pattern.search(text, timeout=MATCH_TIMEOUT_S) is not None
    except TimeoutError:
        log.warning("routing.override_timeout", override_id=override.id)
        return False
