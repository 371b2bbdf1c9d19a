"""The append-only item history: every state change goes through `record`."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.items import Item, ItemEvent
from schemas.users import User
from service.items.deadlines import refresh_next_due


def actor_of(user: User | None) -> str:
    return "system" if user is None else f"user:{user.id}"


def record(
    session: AsyncSession,
    item: Item,
    kind: str,
    *,
    actor: str,
    to_status: str | None = None,
    public: bool = False,
    **data: Any,
) -> ItemEvent:
    """Append an event and apply the status change, keeping the audit trail complete."""
    event = ItemEvent(
        item_id=item.id,
        kind=kind,
        actor=actor,
        from_status=item.status,
        to_status=to_status or item.status,
        public=public,
        data=data,
    )
    if to_status is not None:
        item.status = to_status
    item.updated_at = event.at
    if actor == "citizen":
        item.citizen_wrote_at = event.at
    refresh_next_due(item)
    session.add(item)
    session.add(event)
    return event
