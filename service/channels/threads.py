"""A citizen's answer in a comment thread joins the item it answers instead of becoming a new one.

An official asks for details (request-info) or replies under the citizen's comment; the citizen
answers in that thread. The answer names what it answers: VK's `reply_to_comment` and
`parents_stack`, Telegram's `reply_to_message`, the ingest API's `reply_to`. When that is the
item's own comment, a comment we posted for it, or an earlier answer already joined to it, and
the writer is the item's author, the text is recorded on the item (an item awaiting the citizen
resumes). Anyone else's comment in the thread is an appeal of its own, and so is an answer to an
item that is already answered or closed: an official reopens that on purpose, not the thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.items import OPEN_STATUSES, Channel, Contact, Item, ItemEvent, ItemMessage, Status
from schemas.replies import ReplyDelivery, ReplyPart
from service.config import Settings
from service.db import UnitOfWork
from service.items import transitions
from service.items.events import record
from service.items.intake import NewItem
from service.sla import hooks

# The outbox kind of the replies we post into each network's threads.
REPLY_KIND = {"vk": "vk_comment", "tg": "tg_comment"}
# Routed items only: the router reads the item's own text, so a follow-up joined to a `new` item
# would never be read (a «Спасибо!» followed by the real problem would be rejected as thanks).
JOINABLE = OPEN_STATUSES


@dataclass(frozen=True)
class Joined:
    """The item a thread message was joined to; `created` is False for a channel's retry."""

    item: Item
    created: bool


def thread_keys(new: NewItem) -> tuple[str, list[str]] | None:
    """The author and the comment ids the message answers, most specific first (the comment
    it replies to, then the thread's top comment), or None when it answers nothing."""
    if new.channel != Channel.comment or not new.contact:
        return None
    author = new.contact.get("author_external_id")
    ids = [str(new.source[k]) for k in ("reply_to", "thread_root") if new.source.get(k)]
    if not author or not ids:
        return None
    return str(author), ids


async def joined_before(session: AsyncSession, new: NewItem) -> Item | None:
    return await joined_before_key(session, new.channel, new.external_id)


async def joined_before_key(session: AsyncSession, channel: str, external_id: str) -> Item | None:
    """The item a message with this key was joined to, if it was."""
    stmt = select(ItemMessage).where(
        ItemMessage.channel == channel, ItemMessage.external_id == external_id
    )
    message = (await session.exec(stmt)).first()
    return None if message is None else await session.get(Item, message.item_id)


async def thread_item(session: AsyncSession, new: NewItem) -> Item | None:
    """The open item of the same author that the message answers, locked, or None.

    The comment it replies to decides before the thread's top comment: a late top comment
    (a VK retry, a backfill) must not take the answer from the item that asked.
    """
    keys = thread_keys(new)
    if keys is None:
        return None
    author, ids = keys
    for answered in dict.fromkeys(ids):
        item = await _item_answered(session, new, author, answered)
        if item is not None:
            return item
    return None


async def _item_answered(
    session: AsyncSession, new: NewItem, author: str, answered: str
) -> Item | None:
    ids, external = [answered], [f"{new.page_id}#{answered}"]
    own = select(Item.id).where(Item.channel == new.channel, col(Item.external_id).in_(external))
    joined = select(ItemMessage.item_id).where(
        ItemMessage.channel == new.channel, col(ItemMessage.external_id).in_(external)
    )
    kind = REPLY_KIND.get(new.network or "", "")
    ours = select(ReplyDelivery.item_id).where(
        ReplyDelivery.kind == kind, col(ReplyDelivery.external_ref).in_(ids)
    )
    # A later message of a reply the channel made us split.
    our_parts = (
        select(ReplyDelivery.item_id)
        .join(ReplyPart, col(ReplyPart.delivery_id) == ReplyDelivery.id)
        .where(ReplyPart.kind == kind, col(ReplyPart.external_ref).in_(ids))
    )
    stmt = (
        select(Item)
        .join(Contact, col(Contact.item_id) == Item.id)
        .where(
            col(Item.id).in_(own.union(joined, ours, our_parts).subquery().select()),
            Item.page_id == new.page_id,
            Item.network == new.network,
            col(Item.status).in_(JOINABLE),
            Contact.author_external_id == author,
        )
        # An item waiting for this answer first, then the latest.
        .order_by(
            (col(Item.status) == Status.awaiting_citizen).desc(), col(Item.received_at).desc()
        )
        .limit(1)
        .with_for_update(of=Item)
    )
    return (await session.exec(stmt)).first()


async def join_thread(uow: UnitOfWork, new: NewItem, settings: Settings) -> Joined | None:
    """Record the message on the item it answers; None when it is an appeal of its own.

    The caller has looked for an item with the message's own key first (a retry of a stored
    comment keeps its usual duplicate answer).
    """
    session = uow.session
    earlier = await joined_before(session, new)
    if earlier is not None:
        return Joined(earlier, created=False)
    item = await thread_item(session, new)
    if item is None:
        return None
    try:
        async with session.begin_nested():
            await _record_answer(uow, item, new, settings)
    except IntegrityError:
        # The same message, joined by a concurrent request: that one answers for both.
        winner = await joined_before(session, new)
        if winner is None:
            raise
        return Joined(winner, created=False)
    return Joined(item, created=True)


async def _record_answer(uow: UnitOfWork, item: Item, new: NewItem, settings: Settings) -> None:
    event_id = await _citizen_said(uow, item, new, settings, "citizen_message", via=new.network)
    uow.session.add(
        ItemMessage(
            item_id=item.id, channel=new.channel, external_id=new.external_id, event_id=event_id
        )
    )
    await uow.session.flush()


async def _citizen_said(
    uow: UnitOfWork, item: Item, new: NewItem, settings: Settings, kind: str, **data: Any
) -> int:
    """A public event with the citizen's words, its id; while the item awaits the citizen they
    are the answer (`citizen_reply`) and the clock resumes."""
    target = None
    if item.status == Status.awaiting_citizen:
        kind, target = "citizen_reply", transitions.check("citizen_reply", item.status)
        hooks.on_resume(uow, item, await hooks.sla_context(uow, settings))
    event = record(
        uow.session,
        item,
        kind,
        actor="citizen",
        to_status=target,
        public=True,
        text=new.text,
        external_id=new.external_id,
        **data,
    )
    await uow.session.flush()
    assert event.id is not None
    return event.id


async def edit_joined(uow: UnitOfWork, item: Item, new: NewItem, settings: Settings) -> str:
    """The citizen edited an answer already joined to the item: the new wording is recorded.

    While the item awaits the citizen, the edit is the answer (in VK people edit their last
    comment rather than write another), so the item resumes as for a new answer.
    """
    stmt = select(ItemMessage).where(
        ItemMessage.channel == new.channel, ItemMessage.external_id == new.external_id
    )
    message = (await uow.session.exec(stmt)).one()
    said = await uow.session.get(ItemEvent, message.event_id)
    if said is None or said.data.get("text") == new.text or item.status not in JOINABLE:
        return "unchanged"
    previous = said.data.get("text")
    kind = "citizen_message_edited"
    # The next edit compares with this wording.
    message.event_id = await _citizen_said(uow, item, new, settings, kind, previous_text=previous)
    uow.session.add(message)
    return "edited"
