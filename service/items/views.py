"""Building what a staff member sees of an item: detail with masked contact, events."""

from __future__ import annotations

import uuid

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.items import Contact, Item, ItemEvent
from schemas.views import EventRead, ItemRead, ItemSummary, MaskedContact


def mask_email(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None if not email else "***"
    local, domain = email.split("@", 1)
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str | None) -> str | None:
    digits = [c for c in phone or "" if c.isdigit()]
    return None if not digits else "+7 *** ***-**-" + "".join(digits[-2:])


def mask_name(name: str | None) -> str | None:
    return None if not name else name.strip()[:1] + "***"


def masked(contact: Contact | None) -> MaskedContact | None:
    if contact is None or contact.purged_at is not None:
        return None
    return MaskedContact(
        name=mask_name(contact.name),
        email=mask_email(contact.email),
        phone=mask_phone(contact.phone),
        masked=True,
    )


def summary(item: Item) -> ItemSummary:
    return ItemSummary.model_validate(item, from_attributes=True)


async def detail(session: AsyncSession, item: Item) -> ItemRead:
    contact = await session.get(Contact, item.id)
    read = ItemRead.model_validate(item, from_attributes=True)
    read.contact = masked(contact)
    linked = select(func.count()).select_from(Item).where(Item.main_item_id == item.id)
    read.linked_count = (await session.exec(linked)).one()
    return read


async def events(session: AsyncSession, item_id: uuid.UUID) -> list[EventRead]:
    stmt = select(ItemEvent).where(ItemEvent.item_id == item_id).order_by(col(ItemEvent.id))
    return [EventRead.model_validate(e, from_attributes=True) for e in (await session.exec(stmt))]
