"""Routing overrides: administrator rules that win over the routing table.

An override matches on any combination of category, place and a text pattern; the most
specific match (most criteria set, then the highest `priority`) wins. An override without
a category only redirects location-dependent (municipal/settlement) categories: naming a
road or a place says who owns that territory, not who runs hospitals or pensions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from service.routing.catalog import Catalog


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
        try:
            re.compile(override.text_pattern)
        except re.error as exc:
            problems.append(f"text_pattern is not a valid regular expression: {exc}")
    return problems


class OverrideTable:
    def __init__(self, overrides: Iterable[RoutingOverride]) -> None:
        self._items: list[tuple[RoutingOverride, re.Pattern[str] | None]] = []
        for override in overrides:
            if override.specificity == 0:
                raise ValueError(f"override {override.id} matches everything")
            pattern = override.text_pattern
            compiled = re.compile(pattern.replace("ё", "е"), re.IGNORECASE) if pattern else None
            self._items.append((override, compiled))
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
            if pattern is not None and pattern.search(text) is None:
                continue
            return override
        return None
