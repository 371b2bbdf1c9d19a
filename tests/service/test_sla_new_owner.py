"""Clocks when an item changes hands: a triage item placed by an operator alerts its new owner
and the owner's parent, though the ЦУР was alerted about the same clocks before; an item the
router rejected gets clocks when a person reopens it."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlmodel import select

from schemas.items import Item
from schemas.sla import Alert
from service.db import UnitOfWork
from service.sla.calendars import calendar_registry
from service.sla.checks import check_item
from tests.builders import DISTRICT, SETTLEMENT, run_worker_burst, widget_report

pytestmark = pytest.mark.usefixtures("redis")


async def check_at(settings, sessionmaker, item_id: str, now: dt.datetime) -> int:
    async with sessionmaker() as session:
        uow = UnitOfWork(session, None)
        registry = await calendar_registry(session, settings.catalog_dir)
        raised = await check_item(uow, uuid.UUID(item_id), now, registry)
        await session.commit()
        return raised


async def alerts_of(sessionmaker, item_id: str) -> list[tuple[str, str, str]]:
    async with sessionmaker() as session:
        rows = (await session.exec(select(Alert).where(Alert.item_id == uuid.UUID(item_id)))).all()
        return sorted((a.clock, a.level, a.target_authority_code) for a in rows)


async def test_assigned_authority_is_alerted_about_its_breached_item(
    client, settings, make_user, sessionmaker
):
    svc = await make_user("service", "op_tsur")
    body = {"external_id": f"pos-{uuid.uuid4().hex[:8]}", "text": "Нет воды третий день"}
    r = await client.post("/api/v1/ingest/platform-messages", json=body, headers=svc)
    item_id = r.json()["id"]
    await run_worker_burst(settings)
    async with sessionmaker() as s:
        item = await s.get(Item, uuid.UUID(item_id))
        assert item is not None and item.status == "triage"
        fr_due = item.first_response_due_at
    assert fr_due is not None
    # The ЦУР is slow: the first-response clock breaches while the item is in triage.
    late = fr_due + dt.timedelta(days=5)  # breach and the whole ladder, at the ЦУР
    await check_at(settings, sessionmaker, item_id, late)
    assert ("first_response", "breach", "op_tsur") in await alerts_of(sessionmaker, item_id)

    op = await make_user("operator", "op_tsur")
    r = await client.post(
        f"/api/v1/items/{item_id}/assign", headers=op, json={"authority_code": SETTLEMENT}
    )
    assert r.status_code == 200, r.text
    # Long after, everything due for the settlement's (re-attached, already breached) clock.
    raised = await check_at(settings, sessionmaker, item_id, late + dt.timedelta(days=5))
    targets = {(c, lv, t) for c, lv, t in await alerts_of(sessionmaker, item_id)}
    assert raised == 3  # the breach and two escalation steps; the late warning is superseded
    assert {
        ("first_response#2", "breach", SETTLEMENT),
        ("first_response#2", "escalation:1", DISTRICT),
    } <= targets, sorted(targets)
    assert await check_at(settings, sessionmaker, item_id, late + dt.timedelta(days=6)) == 0


async def test_an_item_the_router_rejected_gets_clocks_when_reopened(
    client, settings, make_user, sessionmaker
):
    r = await widget_report(client, text="Спасибо администрации за новую детскую площадку!")
    item_id = r.json()["id"]
    await run_worker_burst(settings)
    async with sessionmaker() as s:
        item = await s.get(Item, uuid.UUID(item_id))
        assert item is not None and item.status == "rejected" and item.sla is None
        received = item.received_at
    op = await make_user("operator", "op_tsur")
    r = await client.post(f"/api/v1/items/{item_id}/reopen", headers=op)
    assert r.status_code == 200, r.text
    async with sessionmaker() as s:
        item = await s.get(Item, uuid.UUID(item_id))
        assert item is not None and item.resolution_due_at is not None
        assert item.sla is not None
        assert item.sla["clocks"]["resolution"]["started_at"] == received.isoformat()
    r = await client.post(
        f"/api/v1/items/{item_id}/redirect",
        headers=op,
        json={"authority_code": SETTLEMENT, "reason": "это жалоба, не благодарность"},
    )
    assert r.json()["authority_code"] == SETTLEMENT
    await check_at(settings, sessionmaker, item_id, received + dt.timedelta(days=90))
    targets = {(c, lv, t) for c, lv, t in await alerts_of(sessionmaker, item_id)}
    assert ("resolution", "breach", SETTLEMENT) in targets, sorted(targets)


async def test_a_redirect_gives_clocks_to_an_item_that_has_none(
    client, settings, make_user, sessionmaker
):
    """Items reopened before reopening attached clocks: the next redirect attaches them."""
    r = await widget_report(client, text="Спасибо администрации за новую детскую площадку!")
    item_id = r.json()["id"]
    await run_worker_burst(settings)
    op = await make_user("operator", "op_tsur")
    assert (await client.post(f"/api/v1/items/{item_id}/reopen", headers=op)).status_code == 200
    async with sessionmaker() as s:
        item = await s.get(Item, uuid.UUID(item_id))
        assert item is not None
        item.sla, item.resolution_due_at, item.sla_next_check_at = None, None, None
        s.add(item)
        await s.commit()
    body = {"authority_code": SETTLEMENT, "reason": "это жалоба"}
    r = await client.post(f"/api/v1/items/{item_id}/redirect", headers=op, json=body)
    assert r.status_code == 200, r.text
    async with sessionmaker() as s:
        item = await s.get(Item, uuid.UUID(item_id))
        assert item is not None and item.sla is not None and item.sla_next_check_at is not None
