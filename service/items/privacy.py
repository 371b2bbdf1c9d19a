"""Personal data (152-FZ): audited reveal of contact details, and purging after retention."""

from __future__ import annotations

import datetime as dt

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.items import Contact, Item, Status
from schemas.users import User
from schemas.views import MaskedContact
from service.errors import NotFound
from service.items.events import actor_of, record

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
    """Erase contact details of items finished more than `retention_days` ago."""
    cutoff = now - dt.timedelta(days=retention_days)
    stmt = (
        select(Contact, Item)
        .join(Item, col(Item.id) == col(Contact.item_id))
        .where(
            col(Contact.purged_at).is_(None),
            col(Item.status).in_(FINISHED),
            col(Item.updated_at) < cutoff,
        )
        .limit(limit)
    )
    rows = (await session.exec(stmt)).all()
    for contact, item in rows:
        contact.name = contact.email = contact.phone = contact.author_external_id = None
        contact.purged_at = now
        session.add(contact)
        # The destruction record required by RKN order 179: what, when, on which basis.
        record(
            session,
            item,
            "pii_purged",
            actor="retention",
            basis=f"retention {retention_days} days after the item was finished",
        )
    return len(rows)
