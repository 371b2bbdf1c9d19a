"""Giving a claimed item back to its authority's queue: by the one who claimed it, by a
supervisor over it, or for everyone a deactivated user held.

A claim makes the item the claimant's: nobody else may claim it (409). Without a way back, an
item claimed by someone on leave, or by a user since deactivated, waited for them for ever.
"""

from __future__ import annotations

from sqlmodel import col, select

from schemas.items import Item, Status
from schemas.users import Role, User
from service.db import UnitOfWork
from service.errors import Conflict, Forbidden
from service.items.events import actor_of, record

OPEN = (Status.routed, Status.reopened, Status.in_progress, Status.awaiting_citizen)
OVERSEERS = (Role.supervisor, Role.operator, Role.admin)


def release(uow: UnitOfWork, item: Item, by: User | None, reason: str | None) -> Item:
    """Clear the item's assignee; an item being worked on goes back to `routed`. `by` None:
    the system (a deactivation)."""
    if item.assignee_id is None or item.status not in OPEN:
        raise Conflict(f"the item is not claimed by anyone (status {item.status})")
    if by is not None and by.id != item.assignee_id and by.role not in OVERSEERS:
        raise Forbidden("only the one who claimed the item, or a supervisor over it, releases it")
    target = Status.routed if item.status == Status.in_progress else None
    record(
        uow.session,
        item,
        "released",
        actor=actor_of(by),
        to_status=target,
        assignee_id=item.assignee_id,
        reason=reason,
    )
    item.assignee_id = None
    return item


async def release_all_of(uow: UnitOfWork, user: User, reason: str) -> int:
    """Every open item the user holds, back to its queue (in id order: no lock cycles)."""
    stmt = (
        select(Item)
        .where(col(Item.assignee_id) == user.id, col(Item.status).in_(OPEN))
        .order_by(col(Item.id))
        .with_for_update()
    )
    items = (await uow.session.exec(stmt)).all()
    for item in items:
        release(uow, item, None, reason)
    return len(items)
