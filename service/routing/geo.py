"""Nearest place with coordinates, through a fixed grid (no scan over the gazetteer)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from service.routing.catalog import Place

EARTH_RADIUS_KM = 6371.0088
_KM_PER_DEG_LAT = 111.32


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


class PointIndex:
    """Grid cells at least `max_km` wide, so a 3×3 neighbourhood covers the search radius."""

    def __init__(self, places: Iterable[Place], max_km: float) -> None:
        located = [p for p in places if p.lat is not None and p.lon is not None]
        self.max_km = max_km
        top_lat = max((abs(p.lat) for p in located if p.lat is not None), default=0.0)
        # Cells must be wide enough at the widest-latitude point to still cover max_km.
        cos_lat = max(math.cos(math.radians(min(top_lat + 1.0, 89.0))), 0.01)
        self._cell_lat = max(max_km, 1.0) / _KM_PER_DEG_LAT
        self._cell_lon = max(max_km, 1.0) / (_KM_PER_DEG_LAT * cos_lat)
        self._cells: dict[tuple[int, int], list[Place]] = {}
        for place in located:
            if place.lat is not None and place.lon is not None:
                self._cells.setdefault(self._cell(place.lat, place.lon), []).append(place)

    def _cell(self, lat: float, lon: float) -> tuple[int, int]:
        return math.floor(lat / self._cell_lat), math.floor(lon / self._cell_lon)

    def nearest(self, lat: float, lon: float) -> tuple[Place, float] | None:
        """The closest located place within `max_km`, with its distance in km."""
        row, col = self._cell(lat, lon)
        best: tuple[Place, float] | None = None
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                for place in self._cells.get((row + dr, col + dc), ()):
                    if place.lat is None or place.lon is None:
                        continue
                    dist = haversine_km(lat, lon, place.lat, place.lon)
                    if dist <= self.max_km and (best is None or dist < best[1]):
                        best = (place, dist)
        return best
