"""Reference data the router works from: authorities, places, categories, pages.

The classes are plain frozen data; `Catalog` only adds dictionary lookups. It is built
either from the seed CSVs (`load_catalog_dir`) or from database rows by the caller.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

TERRITORIAL_KINDS = frozenset({"settlement", "city_okrug", "municipal_okrug", "municipal_district"})
LEVELS = frozenset({"regional", "municipal", "settlement"})


@dataclass(frozen=True, slots=True)
class Authority:
    code: str
    name: str
    kind: str
    parent_code: str | None
    center: str | None
    timezone: str

    @property
    def territorial(self) -> bool:
        return self.kind in TERRITORIAL_KINDS


@dataclass(frozen=True, slots=True)
class Place:
    place: str
    place_kind: str
    authority_code: str
    district_code: str
    lat: float | None
    lon: float | None
    aliases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    name: str
    parent_code: str | None
    level: str
    regional_authority_code: str | None
    priority: str
    resolution_days: int
    first_response_hours: int
    keywords: tuple[str, ...]

    @property
    def is_subcategory(self) -> bool:
        return self.parent_code is not None


@dataclass(frozen=True, slots=True)
class Page:
    page_id: str
    network: str
    title: str
    authority_code: str


class Catalog:
    """Immutable directory with lookups by code, place name and page id."""

    __slots__ = ("_authorities", "_categories", "_children", "_pages", "_places")

    def __init__(
        self,
        *,
        authorities: Iterable[Authority],
        places: Iterable[Place],
        categories: Iterable[Category],
        pages: Iterable[Page] = (),
    ) -> None:
        self._authorities = {a.code: a for a in authorities}
        self._places = {p.place: p for p in places}
        self._categories = {c.code: c for c in categories}
        self._pages = {p.page_id: p for p in pages}
        children: dict[str, list[str]] = {}
        for cat in self._categories.values():
            if cat.parent_code is not None:
                children.setdefault(cat.parent_code, []).append(cat.code)
        self._children = {k: tuple(v) for k, v in children.items()}

    @property
    def authorities(self) -> tuple[Authority, ...]:
        return tuple(self._authorities.values())

    @property
    def places(self) -> tuple[Place, ...]:
        return tuple(self._places.values())

    @property
    def categories(self) -> tuple[Category, ...]:
        return tuple(self._categories.values())

    @property
    def pages(self) -> tuple[Page, ...]:
        return tuple(self._pages.values())

    def authority(self, code: str) -> Authority | None:
        return self._authorities.get(code)

    def place(self, name: str) -> Place | None:
        return self._places.get(name)

    def category(self, code: str) -> Category | None:
        return self._categories.get(code)

    def page(self, page_id: str) -> Page | None:
        return self._pages.get(page_id)

    def subcategories(self, parent_code: str) -> tuple[str, ...]:
        return self._children.get(parent_code, ())

    def validate(self) -> list[str]:
        """Return human-readable problems with cross-references; empty when consistent."""
        problems: list[str] = []
        for place in self._places.values():
            for code in (place.authority_code, place.district_code):
                if code not in self._authorities:
                    problems.append(f"place {place.place!r}: unknown authority {code!r}")
        for cat in self._categories.values():
            if cat.level not in LEVELS:
                problems.append(f"category {cat.code}: unknown level {cat.level!r}")
            target = cat.regional_authority_code
            if cat.level == "regional" and (target is None or target not in self._authorities):
                problems.append(f"category {cat.code}: bad regional authority {target!r}")
        for page in self._pages.values():
            if page.authority_code not in self._authorities:
                problems.append(f"page {page.page_id}: unknown owner {page.authority_code!r}")
        return problems


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh)


def _opt(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _opt_float(value: str | None) -> float | None:
    text = _opt(value)
    return float(text) if text is not None else None


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(";") if part.strip())


def read_authorities(path: Path) -> list[Authority]:
    return [
        Authority(
            code=r["code"].strip(),
            name=r["name"].strip(),
            kind=r["kind"].strip(),
            parent_code=_opt(r.get("parent_code")),
            center=_opt(r.get("center")),
            timezone=_opt(r.get("timezone")) or "Asia/Barnaul",
        )
        for r in _rows(path)
    ]


def read_places(path: Path) -> list[Place]:
    return [
        Place(
            place=r["place"].strip(),
            place_kind=r["place_kind"].strip(),
            authority_code=r["authority_code"].strip(),
            district_code=r["district_code"].strip(),
            lat=_opt_float(r.get("lat")),
            lon=_opt_float(r.get("lon")),
            aliases=_split(r.get("aliases")),
        )
        for r in _rows(path)
    ]


def read_categories(path: Path) -> list[Category]:
    return [
        Category(
            code=r["code"].strip(),
            name=r["name"].strip(),
            parent_code=_opt(r.get("parent_code")),
            level=r["level"].strip(),
            regional_authority_code=_opt(r.get("regional_authority_code")),
            priority=_opt(r.get("priority")) or "normal",
            resolution_days=int(r.get("resolution_days") or 30),
            first_response_hours=int(r.get("first_response_hours") or 24),
            keywords=_split(r.get("keywords")),
        )
        for r in _rows(path)
    ]


def read_pages(path: Path) -> list[Page]:
    return [
        Page(
            page_id=r["page_id"].strip(),
            network=r["network"].strip(),
            title=r["title"].strip(),
            authority_code=r["authority_code"].strip(),
        )
        for r in _rows(path)
    ]


def load_catalog_dir(path: Path) -> Catalog:
    """Read authorities.csv, places.csv, categories.csv and (optional) pages.csv."""
    pages_csv = path / "pages.csv"
    return Catalog(
        authorities=read_authorities(path / "authorities.csv"),
        places=read_places(path / "places.csv"),
        categories=read_categories(path / "categories.csv"),
        pages=read_pages(pages_csv) if pages_csv.exists() else (),
    )
