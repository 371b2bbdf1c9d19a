"""What is new to a staff member: items never opened by them, or where the citizen wrote after
they last opened it (Zendesk's and Chatwoot's unread marks, per user)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.items import Item, ItemSeen


async def mark_seen(session: AsyncSession, user_id: int, item_id: uuid.UUID, now: datetime) -> None:
    """One upsert; concurrent opens of the same item by the same user both succeed."""
    name = (await session.connection()).dialect.name
    dialect = postgresql if name == "postgresql" else sqlite
    stmt = dialect.insert(ItemSeen).values(user_id=user_id, item_id=item_id, seen_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=["user_id", "item_id"], set_={"seen_at": stmt.excluded.seen_at}
    )
    await session.exec(stmt)


async def unread(session: AsyncSession, user_id: int, items: Sequence[Item]) -> set[uuid.UUID]:
    """The ids among `items` that are new to the user: one query for a whole page."""
    if not items:
        return set()
    stmt = select(ItemSeen.item_id, ItemSeen.seen_at).where(
        ItemSeen.user_id == user_id, col(ItemSeen.item_id).in_([i.id for i in items])
    )
    seen = dict((await session.exec(stmt)).all())
    return {
        i.id
        for i in items
        if i.id not in seen or (i.citizen_wrote_at is not None and i.citizen_wrote_at > seen[i.id])
    }
