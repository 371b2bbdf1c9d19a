"""What the channel adapters share: a comment is stored once, and its edits follow it."""

from __future__ import annotations

from schemas.items import Item, Status
from service.channels.threads import edit_joined, join_thread
from service.config import Settings
from service.db import UnitOfWork
from service.items.events import record
from service.items.intake import NewItem, find_existing, store_item

# An edit replaces the text only while nobody has started on the item.
EDITABLE = (Status.new, Status.routed, Status.triage)


async def store_comment(uow: UnitOfWork, new: NewItem, *, edit: bool, settings: Settings) -> str:
    """Store a new comment, join it to the item it answers, or apply an edit; say what happened
    (for the adapter's log)."""
    existing = await find_existing(uow.session, new.channel, new.external_id)
    if existing is not None:
        return _edit(uow, existing, new) if edit else "duplicate"
    joined = await join_thread(uow, new, settings)
    if joined is not None:
        if joined.created:
            return "joined"
        return await edit_joined(uow, joined.item, new, settings) if edit else "duplicate"
    _, created = await store_item(uow, new, looked_up=True)
    return "stored" if created else "duplicate"


def _edit(uow: UnitOfWork, existing: Item, new: NewItem) -> str:
    if existing.status in EDITABLE and existing.text != new.text:
        record(uow.session, existing, "edited", actor="citizen", previous_text=existing.text)
        existing.text = new.text
        return "edited"
    return "unchanged"
