"""Ingest from channel connectors: social comments and feedback-platform messages."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.ingest import CommentIn, IngestResult, PlatformMessageIn
from schemas.items import Channel
from service.channels.threads import join_thread, thread_keys
from service.config import Settings
from service.db import UnitOfWork, unit_of_work
from service.errors import Unprocessable
from service.items.intake import NewItem, check_references, find_existing, store_item
from service.items.writer import Intake, Stored
from service.queue import JobSink


def _result(stored: Stored) -> IngestResult:
    return IngestResult(
        id=stored.id,
        status=stored.status,
        duplicate=not stored.created,
        received_at=stored.received_at,
    )


def comment_external_id(c: CommentIn) -> str:
    # Comment ids are unique per wall (page), not globally.
    return f"{c.page_id}#{c.comment_id}"


async def check_comment_batch(intake: Intake, batch: list[CommentIn]) -> None:
    """Every comment's page and network, before any is stored: a batch refused for one of them
    stores none (the client fixes that comment and sends the batch again)."""
    for index, c in enumerate(batch):
        try:
            await intake.references.check(page_id=c.page_id, category=None, network=c.network)
        except Unprocessable as exc:
            raise Unprocessable(f"comment {index}: {exc.detail}", **exc.extra) from None


@dataclass(frozen=True)
class Threads:
    """Joins a comment that answers an open item in its thread to that item (channels.threads)."""

    sessionmaker: async_sessionmaker[AsyncSession]
    sink: JobSink | None
    settings: Settings

    async def join(self, new: NewItem) -> IngestResult | None:
        if thread_keys(new) is None:
            return None  # the usual case costs no database round trip here
        async with unit_of_work(self.sessionmaker, self.sink) as uow:
            if await find_existing(uow.session, new.channel, new.external_id) is not None:
                return None  # stored as an item before: the intake answers as for any retry
            joined = await join_thread(uow, new, self.settings)
            if joined is None:
                return None
            item = joined.item
            result = IngestResult(
                id=item.id,
                status=item.status,
                duplicate=not joined.created,
                received_at=item.received_at,
                joined=True,
            )
            await uow.commit()
        return result


async def ingest_comment(intake: Intake, threads: Threads, c: CommentIn) -> IngestResult:
    return await _join_or_store(intake, threads, comment_item(c))


async def _join_or_store(intake: Intake, threads: Threads, new: NewItem) -> IngestResult:
    joined = await threads.join(new)
    return joined if joined is not None else _result(await intake.store(new))


async def ingest_comment_batch(
    intake: Intake, threads: Threads, batch: list[CommentIn]
) -> list[IngestResult]:
    """A batch (a connector's backfill) may hold a comment and the answer to it: the comments
    that answer nothing are stored first, together (one group commit), then the answers in the
    batch's order, one at a time, so each finds what it answers and takes one connection."""
    news = [comment_item(c) for c in batch]
    results: list[IngestResult | None] = [None] * len(batch)
    plain = [i for i, new in enumerate(news) if thread_keys(new) is None]
    stored = await asyncio.gather(*(intake.store(news[i]) for i in plain))
    for i, one in zip(plain, stored, strict=True):
        results[i] = _result(one)
    for i, new in enumerate(news):
        if results[i] is None:
            results[i] = await _join_or_store(intake, threads, new)
    return [r for r in results if r is not None]


def comment_item(c: CommentIn) -> NewItem:
    author = c.author.model_dump() if c.author else {}
    return NewItem(
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


async def ingest_platform_message(intake: Intake, m: PlatformMessageIn) -> IngestResult:
    return _result(await intake.store(platform_item(m), category=m.category))


async def store_platform_message(uow: UnitOfWork, m: PlatformMessageIn) -> IngestResult:
    """In the caller's transaction (the poller commits its cursor with the items)."""
    await check_references(uow.session, page_id=m.page_id, category=m.category)
    item, created = await store_item(uow, platform_item(m))
    return IngestResult(
        id=item.id, status=item.status, duplicate=not created, received_at=item.received_at
    )


def platform_item(m: PlatformMessageIn) -> NewItem:
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
    return NewItem(
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
