"""Loading an item for a staff member: anything outside the user's scope is a 404."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request

from schemas.base import utcnow
from schemas.items import Item
from service.deps import StaffUser, UowDep
from service.errors import NotFound
from service.items.scope import can_see, visible_authorities
from service.items.seen import mark_seen
from service.items.writer import Intake


async def _load(uow: UowDep, user: StaffUser, item_id: uuid.UUID, *, lock: bool) -> Item:
    item = await uow.session.get(Item, item_id, with_for_update=lock)
    # Another authority's item is indistinguishable from a missing one (no existence oracle).
    if item is None or not can_see(await visible_authorities(uow.session, user), item):
        raise NotFound(f"no item {item_id} in your queue")
    assert user.id is not None
    # Opened: no longer new to this user (kept when the request commits: reads of the item
    # and its history, and every action).
    await mark_seen(uow.session, user.id, item.id, utcnow())
    return item


async def visible_item(item_id: uuid.UUID, uow: UowDep, user: StaffUser) -> Item:
    return await _load(uow, user, item_id, lock=False)


async def locked_item(item_id: uuid.UUID, uow: UowDep, user: StaffUser) -> Item:
    """For actions: the row is locked until commit, so two concurrent claims cannot both win."""
    return await _load(uow, user, item_id, lock=True)


ItemDep = Annotated[Item, Depends(visible_item)]
LockedItemDep = Annotated[Item, Depends(locked_item)]


async def get_intake(request: Request) -> Intake:
    state = request.app.state
    return Intake(state.intake_writer, state.references)


IntakeDep = Annotated[Intake, Depends(get_intake)]
