"""Replies back to citizens: planned with the reply, sent by the worker, retried.

A responder's reply is a public event, and so are a request for information and the answer
that closes an item whose question went unanswered; each goes back the same way. By e-mail
when the citizen left an address with consent and the service has an SMTP server, under the
citizen's VK comment when the community's access token is stored, into the Telegram discussion
thread when the bot token is set, and to the feedback platform when its answer endpoint is
configured (service/replies/channels.py). The delivery row is written in the event's
transaction (so none is forgotten), the job is enqueued after the commit, and the periodic
sweep re-enqueues what Redis lost. The address is read from the contact at send time, never
copied, so the personal-data purge needs no second place to erase.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.policy import SMTP

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.catalog import Authority
from schemas.channels import TelegramChat, VkGroup
from schemas.items import Channel, Contact, Item, ItemEvent
from schemas.jobs import DELIVER_REPLY, reply_job_id
from schemas.replies import ReplyDelivery, ReplyPart
from service import outbox
from service.alerts.backoff import next_attempt_delay
from service.alerts.outcome import DeliveryOutcome
from service.config import Settings
from service.db import UnitOfWork
from service.replies.channels import PlatformTarget, TelegramTarget, VkTarget
from service.widget.tokens import tracking_token

EMAIL, VK_COMMENT, PLATFORM, TG_COMMENT = "email", "vk_comment", "platform", "tg_comment"
# What goes back to the citizen: replies, the question of a request for information, its
# reminder, the answer that closes an item whose question went unanswered, and the notice of a
# deadline extension.
SUBJECTS = {
    "reply": "Ответ на ваше обращение",
    "request_info": "Уточнение по вашему обращению",
    "closed_no_reply": "Ваше обращение закрыто",
    "pause_reminder": "Напоминание: ждём уточнений по вашему обращению",
    "deadline_extended": "Срок рассмотрения вашего обращения продлён",
}
DUE_BATCH = 500


@dataclass(frozen=True)
class ReplyChannels:
    """Which outward channels this installation has configured (VK: per community, in the DB)."""

    email: bool = False  # an SMTP server
    platform_url: str = ""  # the platform adapter's answer endpoint
    platform_token: str = ""
    telegram: bool = False  # a bot token (the bot is a member of the discussion groups)

    @classmethod
    def of(cls, settings: Settings) -> ReplyChannels:
        return cls(
            email=bool(settings.smtp_host),
            platform_url=settings.platform_answer_url,
            platform_token=settings.platform_poll_token,
            telegram=bool(settings.telegram_bot_token),
        )


async def plan(uow: UnitOfWork, item: Item, event: ItemEvent, channels: ReplyChannels) -> None:
    """Queue the reply for every channel back to the citizen that can carry it."""
    kinds = await _kinds(uow.session, item, channels)
    if not kinds:
        return
    await uow.session.flush()  # the event's id
    assert event.id is not None
    for kind in kinds:
        delivery = ReplyDelivery(item_id=item.id, event_id=event.id, kind=kind)
        uow.session.add(delivery)
        await uow.session.flush()
        assert delivery.id is not None
        uow.jobs.add(DELIVER_REPLY, delivery.id, job_id=reply_job_id(delivery.id, 0))


async def _kinds(session: AsyncSession, item: Item, channels: ReplyChannels) -> list[str]:
    kinds = []
    if channels.email and await _mail_contact(session, item.id) is not None:
        kinds.append(EMAIL)
    if item.channel == Channel.comment and item.network == "vk":
        if await vk_group(session, item) is not None:
            kinds.append(VK_COMMENT)
    if item.channel == Channel.comment and item.network == "tg" and channels.telegram:
        if await telegram_chat(session, item) is not None:
            kinds.append(TG_COMMENT)
    if item.channel == Channel.platform and channels.platform_url:
        kinds.append(PLATFORM)
    return kinds


async def _mail_contact(session: AsyncSession, item_id: uuid.UUID) -> Contact | None:
    contact = await session.get(Contact, item_id)
    if contact is None or not contact.email or not contact.consent or contact.purged_at:
        return None
    return contact


async def vk_group(session: AsyncSession, item: Item) -> VkGroup | None:
    """The connected community that can answer under this comment (it has a token)."""
    group_id = str(item.source.get("group_id") or "")
    if _is_int(group_id):
        group = await session.get(VkGroup, int(group_id))
    else:  # comments from the ingest API name the page, not the community
        stmt = select(VkGroup).where(
            VkGroup.page_id == item.page_id, col(VkGroup.access_token).is_not(None)
        )
        group = (await session.exec(stmt)).first()
    return group if group is not None and group.access_token else None


async def telegram_chat(session: AsyncSession, item: Item) -> TelegramChat | None:
    """The connected discussion group the comment was written in."""
    chat_id = str(item.source.get("chat_id") or "")
    if _is_int(chat_id.removeprefix("-")):
        return await session.get(TelegramChat, int(chat_id))
    # Comments from the ingest API name the page, not the group.
    stmt = select(TelegramChat).where(TelegramChat.page_id == item.page_id)
    return (await session.exec(stmt)).first()


def _is_int(text: str) -> bool:
    # str.isdigit() is true for "²" or "٣", which int() refuses: ids come from connectors.
    return text.isascii() and text.isdigit()


async def lease(session: AsyncSession, delivery_id: int, now: dt.datetime, lease_s: int) -> bool:
    return await outbox.lease(session, ReplyDelivery, delivery_id, now, lease_s)


@dataclass(frozen=True)
class Outgoing:
    """One attempt, ready to send; `problem` says why it cannot be (it is then given up)."""

    kind: str
    attempt: int
    text: str
    problem: str | None = None
    recipient: str | None = None
    subject: str = ""
    body: str = ""
    vk: VkTarget | None = None
    platform: PlatformTarget | None = None
    telegram: TelegramTarget | None = None


async def prepare(
    session: AsyncSession, delivery_id: int, secret: bytes, base_url: str, channels: ReplyChannels
) -> Outgoing | None:
    delivery = await session.get(ReplyDelivery, delivery_id)
    if delivery is None:
        return None
    event = await session.get(ItemEvent, delivery.event_id)
    item = await session.get(Item, delivery.item_id)
    if event is None or item is None:
        return None
    base = Outgoing(delivery.kind, delivery.attempts + 1, str(event.data.get("text", "")))
    if delivery.kind == EMAIL:
        base = replace(base, subject=SUBJECTS.get(event.kind, SUBJECTS["reply"]))
        return await _email(session, base, item, secret, base_url)
    if delivery.kind == VK_COMMENT:
        return await _vk(session, base, item)
    if delivery.kind == TG_COMMENT:
        return await _telegram(session, base, item, channels)
    return await _platform(session, base, item, event, channels)


async def _email(
    session: AsyncSession, base: Outgoing, item: Item, secret: bytes, base_url: str
) -> Outgoing:
    contact = await _mail_contact(session, item.id)
    body = base.text
    if item.channel == "widget":
        # The citizen's own status page (no login: the tracking token is the key).
        token = tracking_token(secret, item.id)
        body += f"\n\n—\nСтатус обращения: {base_url}/api/v1/widget/reports/{item.id}?token={token}"
    # No address: erased or consent withdrawn after the reply was written.
    return replace(
        base,
        problem=None if contact is not None else "no address",
        recipient=contact.email if contact is not None else None,
        body=body + "\n",
    )


async def _vk(session: AsyncSession, base: Outgoing, item: Item) -> Outgoing:
    group = await vk_group(session, item)
    post_id, comment_id = (str(item.source.get(k) or "") for k in ("post_id", "comment_id"))
    if group is None or group.access_token is None:
        return replace(base, problem="the VK community has no access token any more")
    if not (_is_int(post_id) and _is_int(comment_id)):
        return replace(base, problem="the comment has no VK post or comment id")
    target = VkTarget(group.group_id, group.access_token, int(post_id), int(comment_id))
    return replace(base, vk=target)


async def _telegram(
    session: AsyncSession, base: Outgoing, item: Item, channels: ReplyChannels
) -> Outgoing:
    chat = await telegram_chat(session, item)
    message_id = str(item.source.get("comment_id") or "")
    if not channels.telegram:
        return replace(base, problem="no Telegram bot token is configured any more")
    if chat is None or not _is_int(message_id):
        return replace(base, problem="the comment has no connected Telegram group or message id")
    return replace(base, telegram=TelegramTarget(chat.chat_id, int(message_id)))


async def _platform(
    session: AsyncSession, base: Outgoing, item: Item, event: ItemEvent, channels: ReplyChannels
) -> Outgoing:
    if not channels.platform_url:
        return replace(base, problem="no platform answer URL is configured any more")
    authority = await session.get(Authority, item.authority_code) if item.authority_code else None
    target = PlatformTarget(
        url=channels.platform_url,
        token=channels.platform_token,
        external_id=item.external_id or "",
        signed_by=authority.name if authority is not None else "",
        final=bool(event.data.get("final")) or event.kind == "closed_no_reply",
    )
    return replace(base, platform=target)


def build(outgoing: Outgoing, sender: str) -> EmailMessage:
    email = EmailMessage(policy=SMTP)
    email["From"], email["To"], email["Subject"] = sender, outgoing.recipient, outgoing.subject
    email.set_content(outgoing.body)
    return email


async def record_outcome(
    session: AsyncSession,
    delivery_id: int,
    outcome: DeliveryOutcome,
    now: dt.datetime,
    external_ref: str | None = None,
    more_refs: Sequence[str] = (),
) -> dt.datetime | None:
    """Store the attempt; the moment of the next one, or None when sent or given up."""
    delivery = await session.get(ReplyDelivery, delivery_id, with_for_update=True)
    if delivery is None:
        return None
    delivery.attempts += 1
    delivery.lease_until = None
    parts = list(more_refs)
    retry_at = None
    if outcome.ok and delivery.status == "sent":
        # A second run after a lost lease posted the reply again: all its messages are parts.
        parts = [ref for ref in (external_ref, *more_refs) if ref]
    elif outcome.ok:
        delivery.status, delivery.sent_at, delivery.last_error = "sent", now, None
        delivery.external_ref = external_ref
    else:
        retry_at = _failed(delivery, outcome, now)
    await _keep_parts(session, delivery, parts)
    session.add(delivery)
    return retry_at


def _failed(
    delivery: ReplyDelivery, outcome: DeliveryOutcome, now: dt.datetime
) -> dt.datetime | None:
    delivery.last_error = (outcome.error or f"status {outcome.status_code}")[:500]
    delay = (
        None
        if outcome.permanent
        else next_attempt_delay(delivery.attempts, retry_after=outcome.retry_after_s)
    )
    if delay is None:
        delivery.status = "dead"
        return None
    delivery.next_attempt_at = now + dt.timedelta(seconds=delay)
    return delivery.next_attempt_at


async def _keep_parts(session: AsyncSession, delivery: ReplyDelivery, refs: Sequence[str]) -> None:
    """The channel's ids of the messages a reply went out as, beyond `external_ref`: kept
    across attempts (a part posted before a failure is in the thread too), each once."""
    if not refs:
        return
    stmt = select(ReplyPart.external_ref).where(ReplyPart.delivery_id == delivery.id)
    known = {*(await session.exec(stmt)).all(), delivery.external_ref}
    assert delivery.id is not None
    session.add_all(
        ReplyPart(delivery_id=delivery.id, kind=delivery.kind, external_ref=ref)
        for ref in dict.fromkeys(refs)
        if ref not in known
    )


async def due(session: AsyncSession, now: dt.datetime) -> list[tuple[int, int]]:
    """(id, attempts) of pending deliveries whose moment has come and nobody holds."""
    return await outbox.due(session, ReplyDelivery, now, DUE_BATCH)
