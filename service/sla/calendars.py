"""Calendars for the SLA engine: built-ins plus those stored in the database, cached per process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.sla import WorkCalendarRow
from service.sla.production import ProductionCalendar
from service.sla.registry import CalendarRegistry, default_registry, load_production_calendar
from service.sla.spec import CalendarSpec


@lru_cache(maxsize=4)
def production_calendar(catalog_dir: Path) -> ProductionCalendar:
    return load_production_calendar(catalog_dir / "calendar.csv")


_cache: dict[tuple[Path, int, int, str], CalendarRegistry] = {}


async def _fingerprint(session: AsyncSession) -> tuple[int, int, str]:
    # The latest edit too: a restored or emptied table can repeat a count and a version sum.
    row = (
        await session.exec(
            select(
                func.count(),
                func.coalesce(func.sum(WorkCalendarRow.version), 0),
                func.max(WorkCalendarRow.updated_at),
            )
        )
    ).one()
    return int(row[0]), int(row[1]), str(row[2])


async def calendar_registry(session: AsyncSession, catalog_dir: Path) -> CalendarRegistry:
    """The registry with every stored calendar; rebuilt only when a stored calendar changed."""
    key = (catalog_dir, *await _fingerprint(session))
    registry = _cache.get(key)
    if registry is not None:
        return registry
    registry = default_registry(production_calendar(catalog_dir))
    for row in (await session.exec(select(WorkCalendarRow))).all():
        registry.register(CalendarSpec.from_dict(row.spec))
    _cache.clear()
    _cache[key] = registry
    return registry
