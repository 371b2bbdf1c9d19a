"""Every pause is bounded: a redirect pause nobody takes up, or a request-info pause on an item
redirected away, must not keep an item's clocks frozen (no alert, ever) nor keep it due for
every sweep (whose batch is the oldest due items: enough of these would starve real deadlines).
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlmodel import select

from schemas.items import Item
from schemas.sla import Alert
from service.db import UnitOfWork
from service.sla import engine
from service.sla.calendars import calendar_registry
from service.sla.checks import check_item, due_checks_of
from tests.builders import DISTRICT, SETTLEMENT, routed_item

pytestmark = pytest.mark.usefixtures("redis")


async def act(client, item_id, action, staff, body=None):
    r = await client.post(f"/api/v1/items/{item_id}/{action}", headers=staff, json=body)
    assert r.status_code == 200, r.text
    return r.json()


async def check_at(settings, sessionmaker, item_id: str, now: dt.datetime) -> Item:
    async with sessionmaker() as session:
        uow = UnitOfWork(session, None)
        registry = await calendar_registry(session, settings.catalog_dir)
        await check_item(uow, uuid.UUID(item_id), now, registry)
        await session.commit()
    async with sessionmaker() as session:
        item = await session.get(Item, uuid.UUID(item_id))
        assert item is not None
        return item


async def alerts_of(sessionmaker, item_id: str) -> list[tuple[str, str, str]]:
    async with sessionmaker() as session:
        rows = (await session.exec(select(Alert).where(Alert.item_id == uuid.UUID(item_id)))).all()
        return sorted((a.clock, a.level, a.target_authority_code) for a in rows)


async def pause_policy(client, make_user) -> None:
    admin = await make_user("admin", "op_tsur")
    body = {
        "name": f"pause-{uuid.uuid4().hex[:6]}",
        "match": {"authority_code": SETTLEMENT},
        "first_response": {"duration": 8, "unit": "working_hours"},
        "resolution": {"duration": 5, "unit": "working_days"},
        "on_redirect": "pause",
    }
    r = await client.post("/api/v1/admin/sla-policies", json=body, headers=admin)
    assert r.status_code == 201, r.text


async def assert_breached_after_60_days(settings, sessionmaker, item_id: str) -> None:
    now = dt.datetime.now(dt.UTC) + dt.timedelta(days=60)
    await check_at(settings, sessionmaker, item_id, now)
    levels = {(clock, level) for clock, level, _ in await alerts_of(sessionmaker, item_id)}
    assert ("resolution", "breach") in levels, levels


async def redirected_under_a_pause_policy(client, settings, make_user) -> str:
    """An item the settlement redirects to the district under `on_redirect: pause`."""
    await pause_policy(client, make_user)
    item_id = await routed_item(client, settings)
    s1 = await make_user("responder", SETTLEMENT)
    await act(client, item_id, "redirect", s1, {"authority_code": DISTRICT, "reason": "районное"})
    return item_id


async def test_unclaimed_item_after_pause_redirect_still_breaches(
    client, settings, make_user, sessionmaker
):
    item_id = await redirected_under_a_pause_policy(client, settings, make_user)
    await assert_breached_after_60_days(settings, sessionmaker, item_id)


async def test_redirect_from_awaiting_citizen_does_not_freeze_the_clock(
    client, settings, make_user, sessionmaker
):
    """Request-info, then a redirect (policy `continue`): the pause ends with the redirect."""
    item_id = await routed_item(client, settings)
    s1 = await make_user("responder", SETTLEMENT)
    await act(client, item_id, "claim", s1)
    await act(client, item_id, "reply", s1, {"text": "Принято", "final": False})
    await act(client, item_id, "request-info", s1, {"question": "Какой дом?"})
    moved = await act(
        client, item_id, "redirect", s1, {"authority_code": DISTRICT, "reason": "районное"}
    )
    assert moved["status"] == "routed"
    async with sessionmaker() as session:
        item = await session.get(Item, uuid.UUID(item_id))
        assert item is not None and item.sla is not None
        assert item.sla["clocks"]["resolution"]["paused_at"] is None, "paused at the district"
    await assert_breached_after_60_days(settings, sessionmaker, item_id)


async def test_item_past_pause_expiry_does_not_stay_due_forever(
    client, settings, make_user, sessionmaker
):
    """After a check at `now` the item is not due at `now` any more."""
    item_id = await redirected_under_a_pause_policy(client, settings, make_user)
    now = dt.datetime.now(dt.UTC) + dt.timedelta(days=10)
    item = await check_at(settings, sessionmaker, item_id, now)
    assert item.sla_next_check_at is None or item.sla_next_check_at > now, (
        f"still due: sla_next_check_at={item.sla_next_check_at} <= now={now}"
    )
    async with sessionmaker() as session:
        due = [i for i, _ in await due_checks_of(session, now)]
    assert uuid.UUID(item_id) not in due


async def test_a_question_asked_in_a_redirect_pause_gets_its_reminder_and_full_limit(
    client, settings, make_user, sessionmaker
):
    await pause_policy(client, make_user)  # on_redirect: pause
    item_id = await routed_item(client, settings)
    s1 = await make_user("responder", SETTLEMENT)
    await act(client, item_id, "redirect", s1, {"authority_code": DISTRICT, "reason": "районное"})
    # The redirect happened 2.5 days ago (the district did not claim): move the pause back.
    async with sessionmaker() as s:
        item = await s.get(Item, uuid.UUID(item_id))
        sla = engine._edit(item)
        back = dt.datetime.now(dt.UTC) - dt.timedelta(days=2, hours=12)
        for c in sla["clocks"].values():
            if c["paused_at"]:
                c["paused_at"] = back.isoformat()
        item.sla = sla
        engine.sync(item, await calendar_registry(s, settings.catalog_dir))
        s.add(item)
        await s.commit()
    # The sweep passes the redirect pause's reminder moment: silently, nobody to remind.
    await check_at(settings, sessionmaker, item_id, dt.datetime.now(dt.UTC))
    # Now the district asks the citizen (allowed from `routed`, no claim needed).
    s2 = await make_user("responder", DISTRICT)
    await act(client, item_id, "request-info", s2, {"question": "Какой дом?"})
    asked_at = dt.datetime.now(dt.UTC)
    async with sessionmaker() as s:
        item = await s.get(Item, uuid.UUID(item_id))
        registry = await calendar_registry(s, settings.catalog_dir)
        expiry = engine.pause_expiry(item, registry)
        reminder = engine.pause_reminder(item, registry)
    assert item.status == "awaiting_citizen"
    # The question ends the redirect pause (as a claim would) and pauses for itself: the full
    # limit from now, and its own reminder.
    assert reminder is not None, "the question will never be recalled"
    assert expiry - asked_at > dt.timedelta(days=2), f"closes at {expiry}, asked {asked_at}"
