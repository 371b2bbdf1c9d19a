"""An unanswered question is recalled to the citizen once, where they wrote, before the pause
limit closes the item (the bounded clarification loop)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlmodel import select

from schemas.items import Item, ItemEvent
from service.db import UnitOfWork
from service.replies.deliveries import ReplyChannels
from service.sla import engine
from service.sla.calendars import calendar_registry
from service.sla.checks import CLOSE_AFTER_PAUSE, check_item
from tests.builders import SETTLEMENT, SETTLEMENT_PAGE, admin_headers, run_worker_burst
from tests.service.test_vk_callback import URL, event
from tests.workers.test_reply_channels import connect

QUESTION = "Уточните, пожалуйста, номер дома."


async def asked_vk_item(client: Any, settings: Any, make_user: Any, sessionmaker: Any) -> Item:
    await connect(client, make_user)
    await client.post(URL, json=event(comment_id=707, event_id="p1"))
    await run_worker_burst(settings)
    async with sessionmaker() as s:
        stmt = select(Item).where(Item.external_id == f"{SETTLEMENT_PAGE}#707")
        item = (await s.exec(stmt)).one()
    staff = await make_user("responder", item.authority_code)
    r = await client.post(
        f"/api/v1/items/{item.id}/request-info", headers=staff, json={"question": QUESTION}
    )
    assert r.status_code == 200, r.text
    await run_worker_burst(settings)
    async with sessionmaker() as s:
        asked = await s.get(Item, item.id)
    assert asked is not None
    return asked


async def check_at(settings: Any, sessionmaker: Any, item_id: uuid.UUID, at: dt.datetime) -> Item:
    async with sessionmaker() as s:
        registry = await calendar_registry(s, settings.catalog_dir)
        await check_item(UnitOfWork(s, None), item_id, at, registry, ReplyChannels.of(settings))
        await s.commit()
        item = await s.get(Item, item_id)
    assert item is not None
    return item


def vk_messages(vk: Any) -> list[str]:
    return [form["message"] for path, _, form in vk.requests if path.endswith("createComment")]


async def test_the_question_is_recalled_once_before_the_item_closes(live, make_user, sessionmaker):
    settings, client, vk, _ = live
    item = await asked_vk_item(client, settings, make_user, sessionmaker)
    assert item.sla is not None
    clock = item.sla["clocks"]["resolution"]
    paused = dt.datetime.fromisoformat(clock["paused_at"])
    # The default policy: 3 calendar days of pause, the reminder at two thirds of them.
    async with sessionmaker() as s:
        registry = await calendar_registry(s, settings.catalog_dir)
    expiry = engine.pause_expiry(item, registry)
    assert expiry is not None
    reminder_at = item.sla_next_check_at
    # Two thirds of the pause's open hours (tests/sla/test_pause_reminder_time.py): by day.
    assert reminder_at is not None and paused < reminder_at < expiry
    assert engine.calendar_of(item, registry).is_business_time(reminder_at)
    before = await check_at(settings, sessionmaker, item.id, reminder_at - dt.timedelta(minutes=1))
    assert before.status == "awaiting_citizen"
    for _ in range(2):  # a second check at the same moment reminds nobody again
        after = await check_at(settings, sessionmaker, item.id, reminder_at)
    assert after.status == "awaiting_citizen" and after.sla_next_check_at > reminder_at
    await run_worker_burst(settings)
    messages = vk_messages(vk)
    assert messages[0] == QUESTION and len(messages) == 2
    assert QUESTION in messages[1] and "будет закрыто" in messages[1]
    async with sessionmaker() as s:
        stmt = select(ItemEvent).where(
            ItemEvent.item_id == item.id, ItemEvent.kind == "pause_reminder"
        )
        [reminder] = (await s.exec(stmt)).all()
    assert reminder.public and reminder.actor == "sla"
    closed = await check_at(settings, sessionmaker, item.id, after.sla_next_check_at)
    assert closed.status == "closed"
    await run_worker_burst(settings)
    assert vk_messages(vk)[2:] == [CLOSE_AFTER_PAUSE]


async def test_a_policy_may_turn_the_reminder_off(live, make_user, sessionmaker):
    settings, client, vk, _ = live
    admin = await admin_headers(make_user)
    body = {
        "name": "no reminders",
        "match": {"authority_code": SETTLEMENT},
        "first_response": {"duration": 1, "unit": "working_days"},
        "resolution": {"duration": 10, "unit": "calendar_days"},
        "remind_at": 0,
    }
    r = await client.post("/api/v1/admin/sla-policies", json=body, headers=admin)
    assert r.status_code == 201 and r.json()["remind_at"] == 0, r.text
    bad = {**body, "name": "bad", "remind_at": 1.5}
    r = await client.post("/api/v1/admin/sla-policies", json=bad, headers=admin)
    assert r.status_code == 422
    item = await asked_vk_item(client, settings, make_user, sessionmaker)
    assert item.sla is not None and item.sla["remind_at"] == 0
    # The only pending moment is the end of the pause: it closes the item, nothing before.
    closed = await check_at(settings, sessionmaker, item.id, item.sla_next_check_at)
    assert closed.status == "closed"
    await run_worker_burst(settings)
    assert vk_messages(vk) == [QUESTION, CLOSE_AFTER_PAUSE]
