"""Ingest from channel connectors: social comments and feedback-platform messages."""

from __future__ import annotations

from schemas.ingest import CommentIn, IngestResult, PlatformMessageIn
from schemas.items import Channel, Item
from service.db import UnitOfWork
from service.items.intake import NewItem, check_references, store_item


def _result(item: Item, created: bool) -> IngestResult:
    return IngestResult(
        id=item.id, status=item.status, duplicate=not created, received_at=item.received_at
    )


def comment_external_id(c: CommentIn) -> str:
    # Comment ids are unique per wall (page), not globally.
    return f"{c.page_id}#{c.comment_id}"


async def ingest_comment(uow: UnitOfWork, c: CommentIn) -> IngestResult:
    await check_references(uow.session, page_id=c.page_id, category=None)
    author = c.author.model_dump() if c.author else {}
    new = NewItem(
        channel=Channel.comment,
        network=c.network,
        external_id=comment_external_id(c),
        page_id=c.page_id,
        text=c.text,
        source_created_at=c.created_at,
        source={"post_id": c.post_id, "comment_id": c.comment_id, "reply_to": c.reply_to},
        contact={"name": author.get("name"), "author_external_id": author.get("id")}
        if author
        else None,
    )
    return _result(*(await store_item(uow, new)))


async def ingest_platform_message(uow: UnitOfWork, m: PlatformMessageIn) -> IngestResult:
    await check_references(uow.session, page_id=m.page_id, category=m.category)
    author = m.author.model_dump() if m.author else {}
    contact = None
    if author:
        contact = {
            "name": author.get("name"),
            "email": author.get("email"),
            "phone": author.get("phone"),
            "author_external_id": author.get("id"),
            # Platform users accept its terms (ЕСИА) before writing; the platform holds consent.
            "consent": True,
        }
    new = NewItem(
        channel=Channel.platform,
        network="pos",
        external_id=m.external_id,
        page_id=m.page_id,
        text=m.text,
        category_hint=m.category,
        address=m.address,
        lat=m.location.lat if m.location else None,
        lon=m.location.lon if m.location else None,
        source_created_at=m.created_at,
        source={"deadline": m.deadline.isoformat() if m.deadline else None},
        contact=contact,
    )
    return _result(*(await store_item(uow, new)))
