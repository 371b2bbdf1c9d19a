"""Responder actions. Each checks the state machine, changes the item and appends an event."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.base import utcnow
from schemas.catalog import Authority
from schemas.items import Item, ItemEvent, Status
from schemas.users import User
from service.errors import Conflict, Unprocessable
from service.items import transitions
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
    refresh_next_due(item)
    session.add(item)
    session.add(event)
    return event


async def claim(session: AsyncSession, item: Item, user: User) -> Item:
    if item.status == Status.in_progress:
        if item.assignee_id == user.id:
            return item
        raise Conflict(f"the item is already claimed by user {item.assignee_id}")
    target = transitions.check("claim", item.status)
    item.assignee_id = user.id
    record(session, item, "claimed", actor=actor_of(user), to_status=target)
    return item


async def reply(session: AsyncSession, item: Item, user: User, text: str, final: bool) -> Item:
    target = transitions.check("final_reply" if final else "reply", item.status)
    now = utcnow()
    if item.first_responded_at is None:
        item.first_responded_at = now
    if final:
        item.answered_at = now
    if item.assignee_id is None:
        item.assignee_id = user.id
    record(
        session,
        item,
        "reply",
        actor=actor_of(user),
        to_status=target,
        public=True,
        text=text,
        final=final,
    )
    return item


async def redirect(
    session: AsyncSession, item: Item, user: User, authority_code: str, reason: str
) -> Item:
    target = transitions.check("redirect", item.status)
    if await session.get(Authority, authority_code) is None:
        raise Unprocessable(f"unknown authority {authority_code!r}", field="authority_code")
    if authority_code == item.authority_code:
        raise Conflict("the item already belongs to this authority")
    previous = item.authority_code
    item.authority_code = authority_code
    item.assignee_id = None
    item.redirect_count += 1
    item.routed_at = utcnow()
    record(
        session,
        item,
        "redirected",
        actor=actor_of(user),
        to_status=target,
        from_authority=previous,
        to_authority=authority_code,
        reason=reason,
    )
    return item


async def request_info(session: AsyncSession, item: Item, user: User, question: str) -> Item:
    target = transitions.check("request_info", item.status)
    if item.assignee_id is None:
        item.assignee_id = user.id
    record(
        session,
        item,
        "request_info",
        actor=actor_of(user),
        to_status=target,
        public=True,
        text=question,
    )
    return item


async def resolve(session: AsyncSession, item: Item, user: User) -> Item:
    target = transitions.check("resolve", item.status)
    item.closed_at = utcnow()
    record(session, item, "resolved", actor=actor_of(user), to_status=target)
    return item


async def reject(session: AsyncSession, item: Item, user: User | None, reason: str) -> Item:
    target = transitions.check("reject", item.status)
    item.closed_at = utcnow()
    record(session, item, "rejected", actor=actor_of(user), to_status=target, reason=reason)
    return item


async def reopen(session: AsyncSession, item: Item, user: User) -> Item:
    target = transitions.check("reopen", item.status)
    item.answered_at = None
    item.closed_at = None
    item.assignee_id = None
    record(session, item, "reopened", actor=actor_of(user), to_status=target)
    return item
