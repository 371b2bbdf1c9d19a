"""Supervisor views: breaches in scope, and SLA compliance per authority (or category, channel)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, or_
from sqlalchemy import select as sql_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.admin import BreachRead
from schemas.base import utcnow
from schemas.items import Item
from schemas.sla import Alert
from schemas.users import User
from service.items.scope import visible_authorities

GROUPS = {"authority": "authority_code", "category": "category", "channel": "channel"}


async def breaches(
    session: AsyncSession,
    user: User,
    *,
    since: dt.datetime | None,
    until: dt.datetime | None,
    open_only: bool,
    limit: int,
) -> list[BreachRead]:
    scope = await visible_authorities(session, user)
    stmt = (
        select(Alert, Item)
        .join(Item, col(Item.id) == col(Alert.item_id))
        .where(col(Alert.level) == "breach")
    )
    if scope is not None:
        stmt = stmt.where(col(Alert.authority_code).in_(sorted(scope)))
    if since is not None:
        stmt = stmt.where(col(Alert.created_at) >= since)
    if until is not None:
        stmt = stmt.where(col(Alert.created_at) < until)
    if open_only:
        stmt = stmt.where(col(Item.status).notin_(["answered", "closed", "rejected"]))
    rows = (await session.exec(stmt.order_by(col(Alert.created_at).desc()).limit(limit))).all()
    return [
        BreachRead(
            alert_id=str(a.id),
            item_id=str(i.id),
            authority_code=a.authority_code,
            clock=a.clock.split("#", 1)[0],
            level=a.level,
            due_at=a.due_at,
            raised_at=a.created_at,
            item_status=i.status,
            priority=i.priority,
            category=i.category,
        )
        for a, i in rows
    ]


@dataclass
class Row:
    group: str
    received: int = 0
    first_response_on_time: int = 0
    first_response_late: int = 0
    resolution_on_time: int = 0
    resolution_late: int = 0
    breaches: int = 0
    median_first_response_min: float | None = None
    on_time_share: float | None = None


def _judged(done: Any, due: Any, now: dt.datetime) -> tuple[Any, Any]:
    """SQL for "on time" and "late" of one clock: done by its deadline, or done after it or
    still open past it; a clock with no deadline is neither."""
    on_time = case((and_(due.is_not(None), done.is_not(None), done <= due), 1), else_=0)
    late_done = and_(done.is_not(None), done > due)
    late = case(
        (and_(due.is_not(None), or_(late_done, and_(done.is_(None), due < now))), 1), else_=0
    )
    return func.sum(on_time), func.sum(late)


@dataclass(frozen=True)
class _Period:
    """Which items a report counts and how it groups them."""

    group: Any  # the Item column grouped by
    since: dt.datetime
    until: dt.datetime
    scope: set[str] | None  # the user's authorities; None: all

    def of(self, stmt: Any) -> Any:
        stmt = stmt.where(
            col(Item.received_at) >= self.since,
            col(Item.received_at) < self.until,
            col(Item.sla).is_not(None),
        )
        if self.scope is None:
            return stmt
        return stmt.where(col(Item.authority_code).in_(sorted(self.scope)))


async def sla_report(
    session: AsyncSession, user: User, *, since: dt.datetime, until: dt.datetime, group_by: str
) -> list[Row]:
    """Items received in [since, until) within the user's scope, grouped."""
    scope = await visible_authorities(session, user)
    return await compliance(session, scope, since=since, until=until, group_by=group_by)


async def compliance(
    session: AsyncSession,
    scope: set[str] | None,
    *,
    since: dt.datetime,
    until: dt.datetime,
    group_by: str,
) -> list[Row]:
    """Items received in [since, until) of the authorities in `scope` (None: all), grouped.
    Counted by the database (a year of a region is hundreds of thousands of items); only the
    first-response waits come back, for the median."""
    group, now = getattr(Item, GROUPS[group_by]), utcnow()
    period = _Period(group, since, until, scope)
    resolved = func.coalesce(col(Item.answered_at), col(Item.closed_at))
    counts = sql_select(
        group,
        func.count(),
        *_judged(col(Item.first_responded_at), col(Item.first_response_due_at), now),
        *_judged(resolved, col(Item.resolution_due_at), now),
    ).group_by(group)
    rows: dict[str, Row] = {}
    connection = await session.connection()
    for key, *n in (await connection.execute(period.of(counts))).all():
        rows[str(key or "")] = Row(str(key or ""), n[0], *(x or 0 for x in n[1:]))
    await _add_breaches(session, rows, period)
    await _add_medians(session, rows, period)
    for row in rows.values():
        judged = row.first_response_on_time + row.first_response_late
        row.on_time_share = round(row.first_response_on_time / judged, 4) if judged else None
    return sorted(rows.values(), key=lambda r: r.group)


async def _add_breaches(session: AsyncSession, rows: dict[str, Row], period: _Period) -> None:
    stmt = (
        select(period.group, func.count())
        .select_from(Alert)
        .join(Item, col(Item.id) == col(Alert.item_id))
        .where(col(Alert.level) == "breach")
        .group_by(period.group)
    )
    for key, count in (await session.exec(period.of(stmt))).all():
        if str(key or "") in rows:
            rows[str(key or "")].breaches = count


async def _add_medians(session: AsyncSession, rows: dict[str, Row], period: _Period) -> None:
    stmt = select(period.group, col(Item.received_at), col(Item.first_responded_at)).where(
        col(Item.first_responded_at).is_not(None)
    )
    waits: dict[str, list[float]] = defaultdict(list)
    for key, received, responded in (await session.exec(period.of(stmt))).all():
        waits[str(key or "")].append((responded - received).total_seconds() / 60)
    for key, minutes in waits.items():
        if key in rows:
            rows[key].median_first_response_min = round(statistics.median(minutes), 1)
