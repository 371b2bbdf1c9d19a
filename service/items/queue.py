"""The responder queue: nearest deadline first, keyset (cursor) pagination."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.base import FAR_FUTURE
from schemas.common import EARLIEST
from schemas.items import OPEN_STATUSES, Item
from schemas.users import User
from service.errors import Unprocessable
from service.items.scope import visible_authorities


@dataclass
class QueueFilter:
    statuses: list[str] | None = None
    category: str | None = None
    priority: str | None = None
    due_before: datetime | None = None
    authority_code: str | None = None
    limit: int = 50
    cursor: str | None = None
    linked: bool | None = None


def encode_cursor(item: Item) -> str:
    raw = json.dumps([item.next_due_at.isoformat(), str(item.id)])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The position a page ended at. A cursor is the client's to keep, so it is checked like any
    input: the time with its offset and within the stored range (the never-due sentinel too)."""
    try:
        due_text, id_text = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(due_text, str) or not isinstance(id_text, str):
            raise TypeError("cursor parts are not strings")
        due = datetime.fromisoformat(due_text)
        if due.tzinfo is None or not EARLIEST <= due.astimezone(UTC) <= FAR_FUTURE:
            raise ValueError("cursor time out of range")
        return due, uuid.UUID(id_text)
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise Unprocessable("cursor is not valid; use next_cursor from a previous page") from exc


def _conditions(f: QueueFilter, scope: set[str] | None) -> list[Any]:
    statuses = f.statuses or [s.value for s in OPEN_STATUSES]
    # Literal values, so PostgreSQL can match the partial open-item indexes in every plan
    # (a bound parameter cannot prove the index predicate in a generic plan).
    conds: list[Any] = [
        col(Item.status).in_(bindparam("statuses", statuses, expanding=True, literal_execute=True))
    ]
    if scope is not None:
        conds.append(col(Item.authority_code).in_(sorted(scope)))
    if f.authority_code is not None:
        conds.append(Item.authority_code == f.authority_code)
    if f.category is not None:
        conds.append(Item.category == f.category)
    if f.priority is not None:
        conds.append(Item.priority == f.priority)
    if f.due_before is not None:
        conds.append(col(Item.next_due_at) <= f.due_before)
    if f.linked is not None:
        linked = col(Item.main_item_id)
        conds.append(linked.is_not(None) if f.linked else linked.is_(None))
    if f.cursor is not None:
        due, last_id = decode_cursor(f.cursor)
        conds.append(
            or_(
                col(Item.next_due_at) > due,
                and_(col(Item.next_due_at) == due, col(Item.id) > last_id),
            )
        )
    return conds


async def list_queue(
    session: AsyncSession, user: User, f: QueueFilter
) -> tuple[list[Item], str | None]:
    scope = await visible_authorities(session, user)
    if scope is not None and not scope:
        return [], None
    stmt = (
        select(Item)
        .where(*_conditions(f, scope))
        .order_by(col(Item.next_due_at), col(Item.id))
        .limit(f.limit + 1)
    )
    rows = list((await session.exec(stmt)).all())
    more = len(rows) > f.limit
    rows = rows[: f.limit]
    return rows, encode_cursor(rows[-1]) if more and rows else None
