"""Personal data (152-FZ): audited reveal of contact details, and purging after retention."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.items import Contact, Item, Status
from schemas.replies import ReplyDelivery
from schemas.users import User
from schemas.views import MaskedContact
from service.errors import NotFound
from service.items.events import actor_of, record
from service.items.redaction import redact_texts

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
