"""Supervisor views: breaches in scope, and SLA compliance per authority (or category, channel)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

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


def _tally(row: Row, item: Item, now: dt.datetime, waits: list[float]) -> None:
    row.received += 1
    if item.first_responded_at is not None:
        waits.append((item.first_responded_at - item.received_at).total_seconds() / 60)
    for done, due, on_time, late in (
        (
            item.first_responded_at,
            item.first_response_due_at,
            "first_response_on_time",
            "first_response_late",
        ),
        (
            item.answered_at or item.closed_at,
            item.resolution_due_at,
            "resolution_on_time",
            "resolution_late",
        ),
    ):
        if due is None:
            continue
        if done is not None and done <= due:
            setattr(row, on_time, getattr(row, on_time) + 1)
        elif done is not None or due < now:
            setattr(row, late, getattr(row, late) + 1)


async def sla_report(
    session: AsyncSession, user: User, *, since: dt.datetime, until: dt.datetime, group_by: str
) -> list[Row]:
    """Items received in [since, until) within the user's scope, grouped."""
    scope = await visible_authorities(session, user)
    stmt = select(Item).where(
        col(Item.received_at) >= since,
        col(Item.received_at) < until,
        col(Item.sla).is_not(None),
    )
    if scope is not None:
        stmt = stmt.where(col(Item.authority_code).in_(sorted(scope)))
    items = (await session.exec(stmt)).all()
    ids = [i.id for i in items]
    breached = await _breach_counts(session, ids)
    rows: dict[str, Row] = {}
    waits: dict[str, list[float]] = defaultdict(list)
    now, attr = utcnow(), GROUPS[group_by]
    for item in items:
        key = str(getattr(item, attr) or "")
        row = rows.setdefault(key, Row(group=key))
        _tally(row, item, now, waits[key])
        row.breaches += breached.get(item.id, 0)
    for key, row in rows.items():
        if waits[key]:
            row.median_first_response_min = round(statistics.median(waits[key]), 1)
        judged = row.first_response_on_time + row.first_response_late
        row.on_time_share = round(row.first_response_on_time / judged, 4) if judged else None
    return sorted(rows.values(), key=lambda r: r.group)


async def _breach_counts(session: AsyncSession, ids: list[Any]) -> dict[Any, int]:
    counts: dict[Any, int] = defaultdict(int)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        stmt = select(Alert.item_id).where(
            col(Alert.level) == "breach", col(Alert.item_id).in_(chunk)
        )
        for item_id in (await session.exec(stmt)).all():
            counts[item_id] += 1
    return counts


def as_csv(rows: list[Row], group_by: str) -> str:
    out = io.StringIO()
    fields = list(asdict(Row(group="")).keys())
    writer = csv.DictWriter(out, fieldnames=[group_by, *fields[1:]])
    writer.writeheader()
    for r in rows:
        d = asdict(r)
        writer.writerow({group_by: d.pop("group"), **d})
    return out.getvalue()
