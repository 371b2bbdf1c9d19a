"""The routing engine over the database: catalog and overrides from tables, one router per
process rebuilt when they change, overrides administration, labelled examples."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas import catalog as db
from schemas.base import utcnow
from schemas.items import Item
from schemas.routing import CatalogVersion, LabelledExample, RoutingOverrideRow
from service.catalog.service import bump_version
from service.classifier.serving import ArtifactTextModel
from service.config import Settings
from service.errors import NotFound, Unprocessable
from service.routing.catalog import Authority, Catalog, Category, Page, Place
from service.routing.engine import Router
from service.routing.overrides import RoutingOverride, check_override


async def current_version(session: AsyncSession) -> int:
    row = await session.get(CatalogVersion, 1)
    return row.version if row is not None else 0


async def db_catalog(session: AsyncSession) -> Catalog:
    authorities = (await session.exec(select(db.Authority))).all()
    places = (await session.exec(select(db.Place))).all()
    categories = (await session.exec(select(db.Category))).all()
    pages = (await session.exec(select(db.Page))).all()
    return Catalog(
        authorities=[
            Authority(a.code, a.name, a.kind, a.parent_code, a.center, a.timezone)
            for a in authorities
        ],
        places=[
            Place(p.name, p.kind, p.authority_code, p.district_code, p.lat, p.lon, tuple(p.aliases))
            for p in places
        ],
        categories=[
            Category(
                c.code,
                c.name,
                c.parent_code,
                c.level,
                c.regional_authority_code,
                c.priority,
                c.resolution_days,
                c.first_response_hours,
                tuple(c.keywords),
            )
            for c in categories
        ],
        pages=[Page(p.page_id, p.network, p.title, p.authority_code) for p in pages],
    )


def to_override(row: RoutingOverrideRow) -> RoutingOverride:
    return RoutingOverride(
        id=str(row.id),
        target_authority_code=row.target_authority_code,
        category_code=row.category_code,
        place=row.place,
        text_pattern=row.text_pattern,
        priority=row.priority,
    )


async def active_overrides(session: AsyncSession) -> list[RoutingOverride]:
    stmt = select(RoutingOverrideRow).where(col(RoutingOverrideRow.active).is_(True))
    return [to_override(r) for r in (await session.exec(stmt)).all()]


@dataclass
class _Cached:
    version: int
    router: Router


_routers: dict[str, _Cached] = {}
_text_models: dict[Path, ArtifactTextModel] = {}


def text_model_for(settings: Settings) -> ArtifactTextModel | None:
    """The process's trained category model, shared by every router built here."""
    path = settings.effective_category_model_path
    if path is None:
        return None
    if path not in _text_models:
        _text_models[path] = ArtifactTextModel(
            path, check_interval_s=settings.category_model_check_s
        )
    return _text_models[path]


async def router_for(session: AsyncSession, settings: Settings) -> Router:
    """The process's router; rebuilt (about a second) only when the catalog version moved."""
    version = await current_version(session)
    key = f"{settings.effective_database_url}|{settings.effective_category_model_path}"
    cached = _routers.get(key)
    if cached is not None and cached.version == version:
        return cached.router
    router = Router(
        await db_catalog(session),
        overrides=await active_overrides(session),
        triage_confidence=settings.triage_confidence,
        max_distance_km=settings.place_max_distance_km,
        model=text_model_for(settings),
    )
    _routers[key] = _Cached(version, router)
    return router


async def save_override(session: AsyncSession, row: RoutingOverrideRow) -> RoutingOverrideRow:
    problems = check_override(to_override(row), await db_catalog(session))
    if problems:
        raise Unprocessable("; ".join(problems))
    row.updated_at = utcnow()
    session.add(row)
    await session.flush()
    await bump_version(session)
    return row


async def get_override(session: AsyncSession, override_id: int) -> RoutingOverrideRow:
    row = await session.get(RoutingOverrideRow, override_id)
    if row is None:
        raise NotFound(f"no routing override {override_id}")
    return row


async def list_overrides(session: AsyncSession) -> list[RoutingOverrideRow]:
    stmt = select(RoutingOverrideRow).order_by(col(RoutingOverrideRow.id))
    return list((await session.exec(stmt)).all())


def record_example(
    session: AsyncSession,
    item: Item,
    *,
    source: str,
    authority_code: str,
    previous: str | None,
    actor: str,
) -> LabelledExample:
    example = LabelledExample(
        item_id=item.id,
        source=source,
        text=item.text,
        channel=item.channel,
        page_id=item.page_id,
        category=item.category,
        authority_code=authority_code,
        previous_authority_code=previous,
        created_by=actor,
        context={
            "place": item.place,
            "address": item.address,
            "lat": item.lat,
            "lon": item.lon,
            "category_hint": item.category_hint,
        },
    )
    session.add(example)
    return example
