"""Personal data (152-FZ): audited reveal of contact details, and purging after retention."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import and_, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.extensions import DeadlineExtension
from schemas.items import Contact, Item, ItemEvent, Status
from schemas.replies import ReplyDelivery
from schemas.routing import LabelledExample
from schemas.users import User
from schemas.views import MaskedContact
from service.errors import NotFound
from service.items.events import actor_of, record
from service.items.redaction import Maskers, redactor

FINISHED = (Status.answered, Status.closed, Status.rejected)


async def reveal(session: AsyncSession, item: Item, user: User, reason: str) -> MaskedContact:
    """The unmasked contact; every reveal is an event in the item's audit trail."""
    contact = await session.get(Contact, item.id)
    if contact is None or contact.purged_at is not None:
        raise NotFound("this item has no contact details (none given, or purged)")
    record(
        session,
        item,
        "contact_revealed",
        actor=actor_of(user),
        reason=reason,
        fields=[f for f in ("name", "email", "phone") if getattr(contact, f)],
    )
    return MaskedContact(name=contact.name, email=contact.email, phone=contact.phone, masked=False)


async def purge_expired(
    session: AsyncSession, now: dt.datetime, retention_days: int, limit: int = 1000
) -> int:
    """Erase contact details `retention_days` after the item was finished (answered, closed,
    rejected), or after it was received if it never was: an appeal nobody finished must not
    keep its author's details for ever (152-FZ art. 5.7). Counted from those moments, not from
    the last activity, which a reveal would move. With the contact go the copies that could
    bring it back: the request's fingerprint (a hash of the body, contact included: a phone
    number is found from it by trying), the last errors of its reply deliveries, and the
    contact details written into the item's texts (`redaction`)."""
    cutoff = now - dt.timedelta(days=retention_days)
    finished = func.coalesce(col(Item.closed_at), col(Item.answered_at), col(Item.updated_at))
    stmt = (
        select(Contact, Item)
        .join(Item, col(Item.id) == col(Contact.item_id))
        .where(
            col(Contact.purged_at).is_(None),
            or_(
                and_(col(Item.status).in_(FINISHED), finished < cutoff),
                col(Item.received_at) < cutoff,
            ),
        )
        .limit(limit)
    )
    rows = (await session.exec(stmt)).all()
    for contact, item in rows:
        masked = await redact_texts(session, item, contact)
        contact.name = contact.email = contact.phone = contact.author_external_id = None
        contact.purged_at = now
        session.add(contact)
        item.request_hash = None
        # The destruction record required by RKN order 179: what, when, on which basis.
        record(
            session,
            item,
            "pii_purged",
            actor="retention",
            basis=f"retention {retention_days} days after the item was finished or received",
            texts_masked=masked,
        )
    if rows:
        ids = [item.id for _, item in rows]
        await session.exec(
            update(ReplyDelivery).where(col(ReplyDelivery.item_id).in_(ids)).values(last_error=None)
        )
    return len(rows)


# Event fields that carry words: the citizen's, a question, a reply, a reason, a note.
TEXT_KEYS = ("text", "previous_text", "question", "reason", "note")


async def redact_texts(session: AsyncSession, item: Item, contact: Contact) -> int:
    """Mask the contact's details in every text the item holds; how many texts changed."""
    masks = redactor(contact)
    changed = 0
    text, address = masks.citizens(item.text), masks.any_text(item.address or "") or None
    if (text, address) != (item.text, item.address):
        item.text, item.address, changed = text, address, changed + 1
    events = (await session.exec(select(ItemEvent).where(ItemEvent.item_id == item.id))).all()
    for event in events:
        mask = masks.citizens if event.actor == "citizen" else masks.any_text
        data = {k: _masked(v, mask) if k in TEXT_KEYS else v for k, v in event.data.items()}
        if data != event.data:
            event.data, changed = data, changed + 1
            session.add(event)
    return changed + await _redact_copies(session, item, masks)


def _masked(value: object, mask: Callable[[str], str]) -> object:
    return mask(value) if isinstance(value, str) else value


async def _redact_copies(session: AsyncSession, item: Item, masks: Maskers) -> int:
    """The training examples made from the item, and its extensions' reasons and notes."""
    changed = 0
    stmt = select(LabelledExample).where(col(LabelledExample.item_id) == item.id)
    for example in (await session.exec(stmt)).all():
        context = {k: _masked(v, masks.any_text) for k, v in example.context.items()}
        if (masks.citizens(example.text), context) != (example.text, example.context):
            example.text, example.context = masks.citizens(example.text), context
            session.add(example)
            changed += 1
    stmt2 = select(DeadlineExtension).where(col(DeadlineExtension.item_id) == item.id)
    for ext in (await session.exec(stmt2)).all():
        note = masks.any_text(ext.decision_note) if ext.decision_note else ext.decision_note
        if (masks.any_text(ext.reason), note) != (ext.reason, ext.decision_note):
            ext.reason, ext.decision_note = masks.any_text(ext.reason), note
            session.add(ext)
            changed += 1
    return changed
