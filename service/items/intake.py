"""Storing a new item from any channel: one row, contact apart, a first event, a routing job."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.catalog import Category, Page
from schemas.items import Contact, Item, ItemEvent
from schemas.jobs import ROUTE_ITEM, route_job_id
from service.db import UnitOfWork
from service.errors import Conflict, Unprocessable


@dataclass
class NewItem:
    channel: str
    external_id: str
    text: str
    network: str | None = None
    page_id: str | None = None
    request_hash: str | None = None
    category_hint: str | None = None
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    source_created_at: datetime | None = None
    source: dict[str, Any] = field(default_factory=dict)
    contact: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        # The API refuses such coordinates; a channel adapter may still pass on what a platform
        # sent. JSON and SQLite would store NaN as null silently; a point missing one half is
        # no place, so the message is kept and its location is unknown, stated here.
        if not _finite(self.lat) or not _finite(self.lon):
            self.lat = self.lon = None


def _finite(value: float | None) -> bool:
    return value is None or math.isfinite(value)


def fingerprint(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def check_references(
    session: AsyncSession, *, page_id: str | None, category: str | None
) -> None:
    if page_id is not None and await session.get(Page, page_id) is None:
        raise Unprocessable(f"unknown page_id {page_id!r}", field="page_id")
    if category is not None and await session.get(Category, category) is None:
        raise Unprocessable(f"unknown category {category!r}", field="category")


async def find_existing(session: AsyncSession, channel: str, external_id: str) -> Item | None:
    stmt = select(Item).where(Item.channel == channel, Item.external_id == external_id)
    return (await session.exec(stmt)).first()


def item_fields(new: NewItem) -> dict[str, Any]:
    """The item columns that come from the message (the rest are the table's defaults)."""
    return {
        "channel": new.channel,
        "network": new.network,
        "external_id": new.external_id,
        "request_hash": new.request_hash,
        "page_id": new.page_id,
        "text": new.text,
        "category_hint": new.category_hint,
        "lat": new.lat,
        "lon": new.lon,
        "address": new.address,
        "source_created_at": new.source_created_at,
        "source": new.source,
    }


def received_event_data(new: NewItem) -> dict[str, Any]:
    return {"channel": new.channel, "page_id": new.page_id}


def build_rows(new: NewItem) -> tuple[Item, Contact | None, ItemEvent]:
    """The item, its contact details (kept apart, 152-FZ) and its first event."""
    item = Item(**item_fields(new))
    contact = None
    if new.contact and any(new.contact.values()):
        contact = Contact(item_id=item.id, **new.contact)
    event = ItemEvent(
        item_id=item.id,
        kind="received",
        to_status=item.status,
        data=received_event_data(new),
    )
    return item, contact, event


async def store_item(
    uow: UnitOfWork, new: NewItem, *, looked_up: bool = False
) -> tuple[Item, bool]:
    """Insert the item, or return the one already stored for (channel, external_id).

    A concurrent duplicate loses on the unique constraint; it then returns the winner's row.
    """
    session = uow.session
    if not looked_up:  # the caller may have just checked; the constraint still decides
        existing = await find_existing(session, new.channel, new.external_id)
        if existing is not None:
            return existing, False
    item, contact, event = build_rows(new)
    try:
        # A savepoint, so a lost race undoes only this insert, not the rest of a batch.
        async with session.begin_nested():
            session.add(item)
            # Without ORM relationships the flush order is not guaranteed: write the parent first.
            await session.flush()
            if contact is not None:
                session.add(contact)
            session.add(event)
    except IntegrityError:
        winner = await find_existing(session, new.channel, new.external_id)
        if winner is None:
            raise Conflict(
                "the same request is being processed; retry shortly", headers={"Retry-After": "1"}
            ) from None
        return winner, False
    uow.jobs.add(ROUTE_ITEM, str(item.id), job_id=route_job_id(str(item.id)))
    return item, True
