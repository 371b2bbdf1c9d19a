"""Alert deliveries: nothing more goes to an endpoint once it is disabled, and a retry sends the
same bytes as the first attempt (the attempt's own time is in the webhook-timestamp header)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from arq import create_pool

from schemas.jobs import DELIVER_ALERT
from schemas.sla import Alert, AlertDelivery
from service.alerts import service as deliveries
from service.alerts.messages import webhook_body
from service.alerts.pacing import TelegramPacer
from service.alerts.senders import Senders, TelegramSender, WebhookSender
from service.alerts.transport import make_alert_client
from service.clients.redis import deserialize, redis_settings, serialize
from tests.builders import SETTLEMENT, routed_item
from tests.receiver import receiver
from workers import sla as sla_jobs

pytestmark = pytest.mark.usefixtures("redis")


async def planned_delivery(
    client, settings, make_user, sessionmaker, url, secret, kind="webhook"
) -> tuple[int, int]:
    admin = await make_user("admin", "op_tsur")
    r = await client.post(
        "/api/v1/admin/alert-endpoints",
        headers=admin,
        json={
            "authority_code": SETTLEMENT,
            "kind": kind,
            "target": url,
            "secret": secret,
            "levels": ["warning", "breach", "escalation"],
        },
    )
    assert r.status_code == 201, r.text
    endpoint_id = r.json()["id"]
    item_id = uuid.UUID(await routed_item(client, settings))
    async with sessionmaker() as s:
        alert = Alert(
            item_id=item_id,
            clock="first_response",
            level="breach",
            type="sla.breach",
            authority_code=SETTLEMENT,
            target_authority_code=SETTLEMENT,
            due_at=dt.datetime.now(dt.UTC),
        )
        s.add(alert)
        await s.flush()
        d = AlertDelivery(
            alert_id=alert.id,
            endpoint_id=endpoint_id,
            next_attempt_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1),
        )
        s.add(d)
        await s.commit()
        assert d.id is not None
        return endpoint_id, d.id


async def test_disabled_endpoint_gets_no_more_deliveries(client, settings, make_user, sessionmaker):
    admin = await make_user("admin", "op_tsur")
    with receiver() as rec:
        endpoint_id, delivery_id = await planned_delivery(
            client, settings, make_user, sessionmaker, rec.url, rec.secret
        )
        r = await client.delete(f"/api/v1/admin/alert-endpoints/{endpoint_id}", headers=admin)
        assert r.status_code == 200 and r.json()["active"] is False
        http = make_alert_client(allow_private=True)
        ctx = {
            "settings": settings,
            "sessionmaker": sessionmaker,
            "redis": None,
            "senders": Senders(webhook=WebhookSender(http, allow_private=True)),
        }
        try:
            await sla_jobs.deliver(ctx, delivery_id)
        finally:
            await http.aclose()
        assert rec.attempts == [], "an alert went to an endpoint the administrator disabled"
    async with sessionmaker() as s:
        delivery = await s.get(AlertDelivery, delivery_id)
        assert delivery is not None and delivery.status == "dead"
        assert delivery.last_error == "endpoint disabled: disabled by an administrator"


async def test_retry_sends_identical_bytes(client, settings, make_user, sessionmaker):
    with receiver() as rec:
        _, delivery_id = await planned_delivery(
            client, settings, make_user, sessionmaker, rec.url, rec.secret
        )
    now = dt.datetime.now(dt.UTC)
    async with sessionmaker() as s:
        first = await deliveries.prepare(s, delivery_id, now, settings.base_url)
        second = await deliveries.prepare(
            s, delivery_id, now + dt.timedelta(minutes=5), settings.base_url
        )
    assert first is not None and second is not None
    assert webhook_body(first.message) == webhook_body(second.message)


async def test_an_alert_paced_again_and_again_is_queued_each_time(
    client, settings, make_user, sessionmaker, redis
):
    """A paced attempt is not counted, so its retry must not reuse the id of the job that runs
    it: arq would refuse the enqueue and the alert wait for the job's result to expire."""
    chat = "-1001234567890"
    _, delivery_id = await planned_delivery(
        client, settings, make_user, sessionmaker, chat, None, kind="telegram"
    )
    clock = [0.0]
    pacer = TelegramPacer(clock=lambda: clock[0])
    pacer.penalize(chat, 600)  # Telegram said 429: nothing to this chat for ten minutes
    pool = await create_pool(
        redis_settings(settings.redis_url), job_serializer=serialize, job_deserializer=deserialize
    )
    http = make_alert_client(allow_private=True)
    telegram = TelegramSender(http, "1:token", api_base="http://127.0.0.1:9", pacer=pacer)
    senders = Senders(webhook=WebhookSender(http, allow_private=True), telegram=telegram)
    ctx = {"settings": settings, "sessionmaker": sessionmaker, "redis": pool, "senders": senders}
    try:
        for _ in range(3):  # the job, then its deferred retries, each run when due
            clock[0] += 100  # the wait is shorter each time, and still too long
            assert await sla_jobs.deliver(ctx, delivery_id) == "retry"
            async with sessionmaker() as s:
                delivery = await s.get(AlertDelivery, delivery_id)
                assert delivery is not None and delivery.attempts == 0
                delivery.next_attempt_at = dt.datetime.now(dt.UTC)
                s.add(delivery)
                await s.commit()
    finally:
        await http.aclose()
        await pool.aclose()
    queued = [k async for k in redis.scan_iter(match=f"arq:job:{DELIVER_ALERT}:{delivery_id}:*")]
    assert len(queued) == 3, queued
