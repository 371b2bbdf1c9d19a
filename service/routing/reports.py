"""How well the router routes: per rule or model, per authority it chose, per category.

Measured against what people did afterwards (anchors idea 3, "misrouting rate per
rule/model"): a routed item moved to another authority by a redirect or an operator was
misrouted; a rejection someone reopened was wrong; triage is the router saying it did not know.
The router's own decision is kept on the item (`decision`) and never rewritten, so the report
needs no history scan.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, or_
from sqlalchemy import select as sql_select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.items import Item, Status
from schemas.users import User
from service.items.scope import visible_authorities

GROUPS = ("decided_by", "authority", "category", "version")


@dataclass
class RoutingRow:
    group: str
    decided: int = 0
    routed: int = 0
    triaged: int = 0
    rejected: int = 0
    # Routed, and now with another authority (redirected, or placed elsewhere).
    moved: int = 0
    # Rejected by the router, and then reopened or otherwise not left rejected.
    rejections_undone: int = 0
    routed_kept_share: float | None = None
    triage_share: float | None = None
    mean_confidence: float | None = None


def _field(name: str) -> Any:
    return col(Item.decision)[name].as_string()


def _group(group_by: str) -> Any:
    if group_by == "authority":
        return _field("authority_code")
    if group_by == "category":
        return col(Item.category)
    return _field(group_by)


def _count(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


async def routing_report(
    session: AsyncSession, user: User, *, since: dt.datetime, until: dt.datetime, group_by: str
) -> list[RoutingRow]:
    """Items received in [since, until) that the router decided, within the user's scope (by
    the authority the item has now or the one the router chose), grouped."""
    status = _field("status")
    chosen = _field("authority_code")
    group = _group(group_by)
    stmt = (
        sql_select(
            group,
            func.count(),
            _count(status == "routed"),
            _count(status == "triage"),
            _count(status == "rejected"),
            _count(and_(status == "routed", col(Item.authority_code) != chosen)),
            _count(and_(status == "rejected", col(Item.status) != Status.rejected)),
            func.avg(col(Item.decision)["confidence"].as_float()),
        )
        .where(
            col(Item.decision).is_not(None),
            col(Item.received_at) >= since,
            col(Item.received_at) < until,
        )
        .group_by(group)
    )
    scope = await visible_authorities(session, user)
    if scope is not None:
        # The items they hold now, and those the router sent them that have moved on: a
        # supervisor must see the router's misroutes to their own authorities.
        mine = sorted(scope)
        stmt = stmt.where(or_(col(Item.authority_code).in_(mine), chosen.in_(mine)))
    connection = await session.connection()
    rows = [_row(key, *n) for key, *n in (await connection.execute(stmt)).all()]
    return sorted(rows, key=lambda r: r.group)


def _row(key: Any, decided: int, *counts: Any) -> RoutingRow:
    routed, triaged, rejected, moved, undone, confidence = counts
    row = RoutingRow(
        str(key or ""), decided, routed or 0, triaged or 0, rejected or 0, moved or 0, undone or 0
    )
    if row.routed:
        row.routed_kept_share = round((row.routed - row.moved) / row.routed, 4)
    if row.decided:
        row.triage_share = round(row.triaged / row.decided, 4)
    row.mean_confidence = round(float(confidence), 4) if confidence is not None else None
    return row
