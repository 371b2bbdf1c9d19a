"""Alert deliveries in the database: a lease per attempt, the outcome, retries, dead letters."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.catalog import Authority
from schemas.items import Item
from schemas.sla import Alert, AlertDelivery, AlertEndpoint
from service import outbox
from service.alerts.backoff import next_attempt_delay
from service.alerts.messages import AlertMessage, AlertType, Clock
from service.alerts.outcome import DeliveryOutcome, Destination
from service.alerts.ssrf import TargetKind


@dataclass
class Attempt:
    delivery_id: int
    attempt: int
    message: AlertMessage
    destination: Destination


async def lease(session: AsyncSession, delivery_id: int, now: dt.datetime, lease_s: int) -> bool:
    """Take the delivery for one attempt; False if it is done, not due or held by another."""
    return await outbox.lease(session, AlertDelivery, delivery_id, now, lease_s)


def _message(alert: Alert, item: Item, authority: Authority | None, base_url: str) -> AlertMessage:
    return AlertMessage(
        alert_id=str(alert.id),
        type=AlertType(alert.type),
        item_id=str(item.id),
        authority_code=alert.target_authority_code,
        clock=Clock(alert.clock.split("#", 1)[0]),
        due_at=alert.due_at,
        level=alert.level,
        link=f"{base_url.rstrip('/')}/api/v1/items/{item.id}",
        # When the alert was raised, not this attempt: a retry sends the same bytes (the
        # attempt's time travels in the webhook-timestamp header).
        occurred_at=alert.created_at,
        authority_name=authority.name if authority else None,
        timezone=authority.timezone if authority else "Asia/Barnaul",
    )


async def prepare(
    session: AsyncSession, delivery_id: int, now: dt.datetime, base_url: str
) -> Attempt | None:
    delivery = await session.get(AlertDelivery, delivery_id)
    if delivery is None:
        return None
    alert = await session.get(Alert, delivery.alert_id)
    endpoint = await session.get(AlertEndpoint, delivery.endpoint_id)
    item = await session.get(Item, alert.item_id) if alert else None
    if alert is None or endpoint is None or item is None:
        return None
    if not endpoint.active:
        # Disabled by an administrator or after a permanent refusal: nothing more goes there.
        delivery.status, delivery.lease_until = "dead", None
        delivery.last_error = f"endpoint disabled: {endpoint.disabled_reason or 'no reason'}"
        session.add(delivery)
        return None
    authority = await session.get(Authority, alert.target_authority_code)
    if delivery.first_attempt_at is None:
        delivery.first_attempt_at = now
        session.add(delivery)
    secrets = tuple((endpoint.secret or "").split()) if endpoint.kind == "webhook" else ()
    return Attempt(
        delivery_id=delivery_id,
        attempt=delivery.attempts,
        message=_message(alert, item, authority, base_url),
        destination=Destination(
            kind=TargetKind(endpoint.kind), target=endpoint.target, secrets=secrets
        ),
    )


async def record_outcome(
    session: AsyncSession,
    delivery_id: int,
    outcome: DeliveryOutcome,
    now: dt.datetime,
    rng: random.Random | None = None,
) -> dt.datetime | None:
    """Store the attempt's result; returns when to try again (None: done or dead-lettered)."""
    delivery = await session.get(AlertDelivery, delivery_id)
    if delivery is None or delivery.status != "pending":
        return None
    delivery.lease_until = None
    delivery.last_status_code = outcome.status_code
    delivery.last_error = (outcome.error or "")[:500] or None
    if outcome.ok:
        delivery.status, delivery.sent_at = "sent", now
        session.add(delivery)
        return None
    if outcome.attempted:
        delivery.attempts += 1
    delay = (
        None
        if outcome.permanent
        else next_attempt_delay(delivery.attempts, retry_after=outcome.retry_after_s, rng=rng)
    )
    if outcome.disable_endpoint:
        await _disable(session, delivery.endpoint_id, outcome.error or "receiver gone")
    if delay is None:
        delivery.status = "dead"
        session.add(delivery)
        return None
    delivery.next_attempt_at = now + dt.timedelta(seconds=delay)
    session.add(delivery)
    return delivery.next_attempt_at


async def _disable(session: AsyncSession, endpoint_id: int, reason: str) -> None:
    endpoint = await session.get(AlertEndpoint, endpoint_id)
    if endpoint is not None:
        endpoint.active = False
        endpoint.disabled_reason = reason[:300]
        session.add(endpoint)


async def due_deliveries(
    session: AsyncSession, now: dt.datetime, limit: int = 500
) -> list[tuple[int, int]]:
    """Pending deliveries whose attempt is due and not leased: (id, attempts)."""
    return await outbox.due(session, AlertDelivery, now, limit)
