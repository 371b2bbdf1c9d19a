"""Step 2 of the routing rule: where the problem is (point → address → text → page)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from service.routing.catalog import Catalog, Place
from service.routing.gazetteer import KIND_RANK, Gazetteer, Mention
from service.routing.geo import PointIndex
from service.routing.text import tokenize

_CONFLICT_SHARE = 0.8  # weight of the chosen place when the text names rival places
_PAGE_CONFIDENCE = 0.92
_ADDRESS_CONFIDENCE = 0.97
_PAGE_PLACE_KINDS = ("selsovet", "district", "okrug", "city", "town", "urban_settlement")


@dataclass(frozen=True, slots=True)
class Option:
    """One reading of the location; weights of a Location's options sum to 1."""

    place: str | None
    authority_code: str
    district_code: str
    weight: float


@dataclass(frozen=True, slots=True)
class Location:
    source: str  # point | address | text | page
    options: tuple[Option, ...]
    confidence: float
    distance_km: float | None
    reasons: tuple[str, ...]

    @property
    def best(self) -> Option:
        return self.options[0]


class LocationResolver:
    def __init__(self, catalog: Catalog, gazetteer: Gazetteer, max_distance_km: float) -> None:
        self._catalog = catalog
        self._gazetteer = gazetteer
        self._points = PointIndex(catalog.places, max_distance_km)
        self.max_distance_km = max_distance_km
        ranked = sorted(catalog.places, key=lambda p: _page_kind_rank(p.place_kind))
        self._territory: dict[str, Place] = {}
        for place in ranked:
            self._territory.setdefault(place.authority_code, place)

    def from_point(self, lat: float, lon: float) -> tuple[Location | None, str]:
        if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
            return None, f"point {lat},{lon} is not a valid WGS84 coordinate"
        found = self._points.nearest(lat, lon)
        if found is None:
            return (
                None,
                f"point {lat:.5f},{lon:.5f}: no known place within {self.max_distance_km:g} km",
            )
        place, dist = found
        # Trust fades with distance: a far point may sit in a village the gazetteer lacks.
        confidence = (
            1.0 if dist <= 3.0 else 1.0 - 0.25 * (dist - 3.0) / max(self.max_distance_km, 3.0)
        )
        reason = f"point → {place.place} ({dist:.1f} km)"
        option = _option(place, 1.0)
        return Location("point", (option,), confidence, round(dist, 2), (reason,)), reason

    def from_address(self, address: str, page_district: str | None) -> Location | None:
        mentions = self._gazetteer.mentions(tokenize(address))
        if not mentions:
            return None
        return self._choose("address", mentions, page_district, None, _ADDRESS_CONFIDENCE)

    def from_text(
        self, mentions: Sequence[Mention], page_district: str | None, evidence: int | None
    ) -> Location | None:
        located = [m for m in mentions if m.role == "location"]
        if not located:
            return None
        confidence = min(m.score for m in located)
        return self._choose("text", located, page_district, evidence, confidence)

    def from_page(self, page_id: str) -> tuple[Location | None, str | None]:
        page = self._catalog.page(page_id)
        if page is None:
            return None, f"page {page_id} is unknown"
        owner = self._catalog.authority(page.authority_code)
        if owner is None or not owner.territorial:
            return None, f"page owner {page.authority_code} is not territorial"
        district = owner.parent_code if owner.kind == "settlement" else owner.code
        place = self._territory.get(owner.code)
        option = Option(place.place if place else None, owner.code, district or owner.code, 1.0)
        reason = f"page {page_id} owner {owner.code} stands in for the location"
        return Location("page", (option,), _PAGE_CONFIDENCE, None, (reason,)), None

    def page_district(self, page_id: str | None) -> str | None:
        page = self._catalog.page(page_id) if page_id else None
        owner = self._catalog.authority(page.authority_code) if page else None
        if owner is None or not owner.territorial:
            return None
        return owner.parent_code if owner.kind == "settlement" else owner.code

    def _choose(
        self,
        source: str,
        mentions: Sequence[Mention],
        page_district: str | None,
        evidence: int | None,
        confidence: float,
    ) -> Location:
        """The most specific place; rival districts keep a minority share as runner-up."""
        groups = _group_by_district(mentions, page_district)
        ordered = sorted(
            groups.items(), key=lambda kv: _group_rank(kv[0], kv[1], evidence), reverse=True
        )
        resolved = [(d, members) for d, members in ordered[:2] if not d.startswith("?")]
        if not resolved:
            return _ambiguous(source, mentions, confidence)
        shares = (1.0,) if len(resolved) == 1 else (_CONFLICT_SHARE, 1.0 - _CONFLICT_SHARE)
        options: list[Option] = []
        reasons: list[str] = []
        for (_, members), share in zip(resolved, shares, strict=False):
            best = max(members, key=lambda pm: _specificity(pm, evidence))[0]
            options.append(_option(best, share))
            reasons.append(f"{source} → {best.place} ({best.authority_code})")
        if len(ordered) > 1:
            reasons.append(
                f"{source} names places in several districts; chose the one nearest the problem"
            )
        return Location(source, tuple(options), confidence, None, tuple(reasons))


def _ambiguous(source: str, mentions: Sequence[Mention], confidence: float) -> Location:
    """A repeated name (Дружбинский сельсовет) with nothing to tell its districts apart."""
    places = next(m.places for m in mentions if len(m.places) > 1)
    options = tuple(_option(p, 1.0 / len(places)) for p in places)
    reason = f"{source}: ambiguous name, candidates " + ", ".join(p.place for p in places)
    return Location(source, options, confidence, None, (reason,))


def _option(place: Place, weight: float) -> Option:
    return Option(place.place, place.authority_code, place.district_code, weight)


def _page_kind_rank(kind: str) -> int:
    return _PAGE_PLACE_KINDS.index(kind) if kind in _PAGE_PLACE_KINDS else len(_PAGE_PLACE_KINDS)


def _group_by_district(
    mentions: Sequence[Mention], page_district: str | None
) -> dict[str, list[tuple[Place, Mention]]]:
    """Places by containing district; an ambiguous name joins the district it shares."""
    groups: dict[str, list[tuple[Place, Mention]]] = {}
    for mention in mentions:
        if len(mention.places) == 1:
            place = mention.places[0]
            groups.setdefault(place.district_code, []).append((place, mention))
    for mention in mentions:
        if len(mention.places) == 1:
            continue
        known = set(groups) | ({page_district} if page_district else set())
        fitting = [p for p in mention.places if p.district_code in known]
        if len(fitting) == 1:
            groups.setdefault(fitting[0].district_code, []).append((fitting[0], mention))
        else:
            groups.setdefault(f"?{mention.start}", []).append((mention.places[0], mention))
    return groups


def _distance(mention: Mention, evidence: int | None) -> int:
    return abs(mention.start - evidence) if evidence is not None else 0


def _specificity(member: tuple[Place, Mention], evidence: int | None) -> tuple[int, int]:
    place, mention = member
    return KIND_RANK.get(place.place_kind, 0), -_distance(mention, evidence)


def _group_rank(
    district: str, members: list[tuple[Place, Mention]], evidence: int | None
) -> tuple[bool, int, int, int]:
    """Resolved groups first; a named settlement beats a bare district name; then the
    group nearest the category evidence; then the first mentioned."""
    nearest = min(_distance(m, evidence) for _, m in members)
    rank = max(KIND_RANK.get(p.place_kind, 0) for p, _ in members)
    return not district.startswith("?"), rank, -nearest, -min(m.start for _, m in members)
