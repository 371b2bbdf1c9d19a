"""Replies to citizens by e-mail: planned with the reply, sent by the worker, retried.

A responder's reply is a public event; when the citizen left an e-mail address with consent and
the service has an SMTP server, the reply also goes there. The delivery row is written in the
reply's transaction (so no reply is forgotten), the job is enqueued after the commit, and the
periodic sweep re-enqueues what Redis lost. The address is read from the contact at send time,
never copied, so the personal-data purge needs no second place to erase.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP

from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.items import Contact, Item, ItemEvent
from schemas.jobs import DELIVER_REPLY, reply_job_id
from schemas.replies import ReplyDelivery
from service import outbox
from service.alerts.backoff import next_attempt_delay
from service.alerts.outcome import DeliveryOutcome
from service.db import UnitOfWork
from service.widget.tokens import tracking_token

EMAIL = "email"
DUE_BATCH = 500


async def plan(uow: UnitOfWork, item: Item, event: ItemEvent, *, email_enabled: bool) -> None:
    """Queue the reply for every channel back to the citizen (e-mail, when given)."""
    if not email_enabled:
        return
    contact = await uow.session.get(Contact, item.id)
    if contact is None or not contact.email or not contact.consent or contact.purged_at:
        return
    await uow.session.flush()  # the event's id
    assert event.id is not None
    delivery = ReplyDelivery(item_id=item.id, event_id=event.id, kind=EMAIL)
    uow.session.add(delivery)
    await uow.session.flush()
    assert delivery.id is not None
    uow.jobs.add(DELIVER_REPLY, delivery.id, job_id=reply_job_id(delivery.id, 0))


async def lease(session: AsyncSession, delivery_id: int, now: dt.datetime, lease_s: int) -> bool:
    return await outbox.lease(session, ReplyDelivery, delivery_id, now, lease_s)


@dataclass(frozen=True)
class Outgoing:
    attempt: int
    recipient: str | None  # None: the contact was purged or withdrawn meanwhile
    subject: str
    body: str


async def prepare(
    session: AsyncSession, delivery_id: int, secret: bytes, base_url: str
) -> Outgoing | None:
    delivery = await session.get(ReplyDelivery, delivery_id)
    if delivery is None:
        return None
    event = await session.get(ItemEvent, delivery.event_id)
    item = await session.get(Item, delivery.item_id)
    contact = await session.get(Contact, delivery.item_id)
    usable = contact is not None and contact.email and contact.consent and not contact.purged_at
    body = str(event.data.get("text", "")) if event is not None else ""
    if item is not None and item.channel == "widget":
        # The citizen's own status page (no login: the tracking token is the key).
        token = tracking_token(secret, item.id)
        body += f"\n\n—\nСтатус обращения: {base_url}/api/v1/widget/reports/{item.id}?token={token}"
    recipient = contact.email if usable and contact is not None else None
    return Outgoing(delivery.attempts + 1, recipient, "Ответ на ваше обращение", body + "\n")


def build(outgoing: Outgoing, sender: str) -> EmailMessage:
    email = EmailMessage(policy=SMTP)
    email["From"], email["To"], email["Subject"] = sender, outgoing.recipient, outgoing.subject
    email.set_content(outgoing.body)
    return email


async def record_outcome(
    session: AsyncSession, delivery_id: int, outcome: DeliveryOutcome, now: dt.datetime
) -> dt.datetime | None:
    """Store the attempt; the moment of the next one, or None when sent or given up."""
    delivery = await session.get(ReplyDelivery, delivery_id, with_for_update=True)
    if delivery is None:
        return None
    delivery.attempts += 1
    delivery.lease_until = None
    retry_at = None
    if outcome.ok:
        delivery.status, delivery.sent_at, delivery.last_error = "sent", now, None
    else:
        delivery.last_error = (outcome.error or f"status {outcome.status_code}")[:500]
        delay = None if outcome.permanent else next_attempt_delay(delivery.attempts)
        if delay is None:
            delivery.status = "dead"
        else:
            retry_at = now + dt.timedelta(seconds=delay)
            delivery.next_attempt_at = retry_at
    session.add(delivery)
    return retry_at


async def due(session: AsyncSession, now: dt.datetime) -> list[tuple[int, int]]:
    """(id, attempts) of pending deliveries whose moment has come and nobody holds."""
    return await outbox.due(session, ReplyDelivery, now, DUE_BATCH)
