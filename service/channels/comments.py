"""What the channel adapters share: a comment is stored once, and its edits follow it."""

from __future__ import annotations

from sqlmodel import col, select

from schemas.items import Contact, Item, ItemEvent, Status
from service.channels.threads import edit_joined, join_thread, joined_before_key
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


async def _item_of(uow: UnitOfWork, channel: str, external_id: str) -> Item | None:
    """The item the comment is, or the item it was joined to."""
    item = await find_existing(uow.session, channel, external_id)
    return item or await joined_before_key(uow.session, channel, external_id)


async def _fate(uow: UnitOfWork, item: Item, external_id: str, event_id: str | None) -> int | None:
    """How many times more the comment was deleted than restored, or None when this network
    event was recorded already (VK delivers one again until it hears `ok`)."""
    stmt = select(ItemEvent).where(
        ItemEvent.item_id == item.id,
        col(ItemEvent.kind).in_(("source_deleted", "source_restored")),
    )
    mine = [
        e for e in (await uow.session.exec(stmt)).all() if e.data.get("external_id") == external_id
    ]
    if event_id is not None and any(e.data.get("event_id") == event_id for e in mine):
        return None
    return sum(1 if e.kind == "source_deleted" else -1 for e in mine)


async def record_deletion(
    uow: UnitOfWork,
    channel: str,
    external_id: str,
    deleted_by: int | None,
    event_id: str | None = None,
) -> str:
    """The comment was deleted in the network (by its author or a moderator): the item, or the
    item it was joined to, records it once. Nothing else changes: the appeal was received and
    is answered (a reply under a deleted comment cannot be posted; the outbox says so)."""
    item = await _item_of(uow, channel, external_id)
    if item is None:
        return "unknown"
    fate = await _fate(uow, item, external_id, event_id)
    if fate is None or fate > 0:
        return "duplicate"  # this event again, or a comment already recorded as gone
    author = await uow.session.get(Contact, item.id)
    by_author = (
        deleted_by is not None
        and author is not None
        and author.author_external_id == str(deleted_by)
    )
    record(
        uow.session,
        item,
        "source_deleted",
        actor="citizen" if by_author else "channel",
        external_id=external_id,
        by_author=by_author,
        event_id=event_id,
    )
    return "deleted"


async def record_restore(
    uow: UnitOfWork, channel: str, external_id: str, event_id: str | None = None
) -> str | None:
    """A deleted comment was restored in the network: recorded once per deletion on its item.
    None when no item holds the comment (a restore of one we never got is a new comment)."""
    item = await _item_of(uow, channel, external_id)
    if item is None:
        return None
    fate = await _fate(uow, item, external_id, event_id)
    if fate is None or fate <= 0:
        return "duplicate"
    record(
        uow.session,
        item,
        "source_restored",
        actor="channel",
        external_id=external_id,
        event_id=event_id,
    )
    return "restored"
