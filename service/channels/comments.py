"""What the channel adapters share: a comment is stored once, and its edits follow it."""

from __future__ import annotations

from schemas.items import Status
from service.db import UnitOfWork
from service.items.events import record
from service.items.intake import NewItem, find_existing, store_item

# An edit replaces the text only while nobody has started on the item.
EDITABLE = (Status.new, Status.routed, Status.triage)


async def store_comment(uow: UnitOfWork, new: NewItem, *, edit: bool) -> str:
    """Store a new comment, or apply an edit; say what happened (for the adapter's log)."""
    existing = await find_existing(uow.session, new.channel, new.external_id)
    if existing is not None and edit:
        if existing.status in EDITABLE and existing.text != new.text:
            record(uow.session, existing, "edited", actor="citizen", previous_text=existing.text)
            existing.text = new.text
            return "edited"
        return "unchanged"
    _, created = await store_item(uow, new)
    return "stored" if created else "duplicate"
