"""What every outbox table (alert deliveries, reply deliveries) shares: one attempt at a time
under a lease, and the query for attempts that are due. The tables have `id`, `status`,
`attempts`, `next_attempt_at` and `lease_until` columns."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession


def _free(model: Any, now: dt.datetime) -> Any:
    return or_(model.lease_until.is_(None), model.lease_until < now)


async def lease(
    session: AsyncSession, model: type[SQLModel], row_id: int, now: dt.datetime, lease_s: int
) -> bool:
    """Take the row for one attempt; False if it is done, not due or held by another."""
    table: Any = model
    stmt = (
        update(table)
        .where(
            table.id == row_id,
            table.status == "pending",
            table.next_attempt_at <= now + dt.timedelta(seconds=1),
            _free(table, now),
        )
        .values(lease_until=now + dt.timedelta(seconds=lease_s))
    )
    result: Any = await session.exec(stmt)
    return bool(result.rowcount == 1)


async def due(
    session: AsyncSession, model: type[SQLModel], now: dt.datetime, limit: int = 500
) -> list[tuple[int, int]]:
    """(id, attempts) of pending rows whose attempt is due and not leased, oldest first."""
    table: Any = model
    stmt = (
        select(table.id, table.attempts)
        .where(table.status == "pending", table.next_attempt_at <= now, _free(table, now))
        .order_by(table.next_attempt_at)
        .limit(limit)
    )
    rows: Any = await session.exec(stmt)
    return [(int(i), int(a)) for i, a in rows.all() if i is not None]
