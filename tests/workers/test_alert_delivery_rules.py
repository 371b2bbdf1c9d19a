"""Alert deliveries: nothing more goes to an endpoint once it is disabled, and a retry sends the
same bytes as the first attempt (the attempt's own time is in the webhook-timestamp header)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from schemas.sla import Alert, AlertDelivery
from service.alerts import service as deliveries
from service.alerts.messages import webhook_body
from service.alerts.senders import Senders, WebhookSender
from service.alerts.transport import make_alert_client
from tests.builders import SETTLEMENT, routed_item
from tests.receiver import receiver
from workers import sla as sla_jobs

pytestmark = pytest.mark.usefixtures("redis")


async def planned_delivery(
    client, settings, make_user, sessionmaker, url, secret
) -> tuple[int, int]:
    admin = await make_user("admin", "op_tsur")
    r = await client.post(
        "/api/v1/admin/alert-endpoints",
        headers=admin,
        json={
            "authority_code": SETTLEMENT,
            "kind": "webhook",
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
