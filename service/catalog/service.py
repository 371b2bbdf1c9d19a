"""The catalog in the database: idempotent load from CSV, and the authority hierarchy."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlmodel import SQLModel, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.catalog import Authority, Category, Page, Place
from schemas.routing import CatalogVersion

T = TypeVar("T", bound=SQLModel)


@dataclass
class LoadReport:
    authorities: int = 0
    places: int = 0
    categories: int = 0
    pages: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(";") if v.strip()]


def _parents_first(rows: list[dict[str, str]], key: str, parent: str) -> list[dict[str, str]]:
    """Order rows so every parent precedes its children (foreign keys are checked at insert)."""
    by_key = {r[key]: r for r in rows}
    done: set[str] = set()
    ordered: list[dict[str, str]] = []

    def visit(code: str) -> None:
        if code in done or code not in by_key:
            return
        done.add(code)
        visit(by_key[code][parent])
        ordered.append(by_key[code])

    for code in by_key:
        visit(code)
    return ordered


def authority_values(r: dict[str, str]) -> dict[str, Any]:
    return {
        "code": r["code"],
        "name": r["name"],
        "kind": r["kind"],
        "parent_code": r["parent_code"] or None,
        "center": r["center"] or None,
        "timezone": r.get("timezone") or "Asia/Barnaul",
    }


def place_values(r: dict[str, str]) -> dict[str, Any]:
    return {
        "name": r["place"],
        "kind": r["place_kind"],
        "authority_code": r["authority_code"],
        "district_code": r["district_code"],
        "lat": float(r["lat"]) if r["lat"] else None,
        "lon": float(r["lon"]) if r["lon"] else None,
        "aliases": _split(r["aliases"]),
    }


def category_values(r: dict[str, str]) -> dict[str, Any]:
    return {
        "code": r["code"],
        "name": r["name"],
        "parent_code": r["parent_code"] or None,
        "level": r["level"],
        "regional_authority_code": r["regional_authority_code"] or None,
        "priority": r["priority"] or "normal",
        "resolution_days": int(r["resolution_days"] or 30),
        "first_response_hours": int(r["first_response_hours"] or 24),
        "keywords": _split(r["keywords"]),
    }


def page_values(r: dict[str, str]) -> dict[str, Any]:
    return {
        "page_id": r["page_id"],
        "network": r["network"],
        "title": r["title"],
        "authority_code": r["authority_code"],
    }


async def _upsert(
    session: AsyncSession, model: type[T], key: str, rows: Iterable[dict[str, Any]]
) -> int:
    existing = {getattr(o, key): o for o in (await session.exec(select(model))).all()}
    count = 0
    for values in rows:
        obj = existing.get(values[key])
        if obj is None:
            session.add(model(**values))
        else:
            for name, value in values.items():
                setattr(obj, name, value)
        count += 1
        # Flush per row so a child's foreign key always finds its parent already written.
        await session.flush()
    return count


async def load_catalog_dir(session: AsyncSession, directory: Path) -> LoadReport:
    """Insert or update the catalog from CSV files; items are never touched."""
    report = LoadReport()
    authorities = _parents_first(_read_csv(directory / "authorities.csv"), "code", "parent_code")
    report.authorities = await _upsert(
        session, Authority, "code", map(authority_values, authorities)
    )
    categories = _parents_first(_read_csv(directory / "categories.csv"), "code", "parent_code")
    report.categories = await _upsert(session, Category, "code", map(category_values, categories))
    places = _read_csv(directory / "places.csv")
    report.places = await _upsert(session, Place, "name", map(place_values, places))
    pages = _read_csv(directory / "pages.csv")
    report.pages = await _upsert(session, Page, "page_id", map(page_values, pages))
    await bump_version(session)
    return report


async def bump_version(session: AsyncSession) -> None:
    """Routers rebuild when this moves (the catalog or the routing overrides changed)."""
    row = await session.get(CatalogVersion, 1) or CatalogVersion(id=1, version=0)
    row.version += 1
    session.add(row)
    await session.flush()


async def catalog_is_empty(session: AsyncSession) -> bool:
    count = (await session.exec(select(func.count()).select_from(Authority))).one()
    return int(count) == 0


async def authority_tree(session: AsyncSession) -> dict[str, list[str]]:
    rows: Sequence[tuple[str, str | None]] = (
        await session.exec(select(Authority.code, Authority.parent_code))
    ).all()
    children: dict[str, list[str]] = defaultdict(list)
    for code, parent in rows:
        if parent:
            children[parent].append(code)
    return children


async def subtree(session: AsyncSession, root: str) -> set[str]:
    children = await authority_tree(session)
    found, stack = {root}, [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found
