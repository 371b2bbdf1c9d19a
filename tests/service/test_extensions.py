"""Deadline extensions (59-ФЗ ст. 12 ч. 2): asked for with a reason, decided by a supervisor,
once per consideration, up to 30 days, before the deadline, and announced to the citizen."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlmodel import select

from schemas.items import Item, ItemEvent
from service.sla import engine
from service.sla.calendars import calendar_registry
from service.sla.deadlines import compute_deadline
from tests.builders import (
    DISTRICT,
    LAMP_TEXT,
    SETTLEMENT,
    SETTLEMENT_PAGE,
    routed_item,
    run_worker_burst,
)
from tests.service.test_vk_callback import URL, event
from tests.workers.test_pause_reminder import check_at, vk_messages
from tests.workers.test_reply_channels import connect

REASON = "Нужен выезд комиссии и запрос в МУП «Водоканал»"


async def due_of(client: Any, item_id: str, staff: dict[str, str]) -> dt.datetime:
    detail = (await client.get(f"/api/v1/items/{item_id}", headers=staff)).json()
    return dt.datetime.fromisoformat(detail["resolution_due_at"])


async def ask(client: Any, item_id: str, who: dict[str, str], **body: Any) -> Any:
    return await client.post(
        f"/api/v1/items/{item_id}/extensions", headers=who, json={"reason": REASON, **body}
    )


async def staff_of(make_user: Any) -> tuple[dict[str, str], dict[str, str]]:
    return await make_user("responder", SETTLEMENT), await make_user("supervisor", DISTRICT)


async def test_asked_approved_and_the_deadline_moves_by_thirty_days(
    client, settings, make_user, sessionmaker
):
    item_id = await routed_item(client, settings)
    responder, supervisor = await staff_of(make_user)
    before = await due_of(client, item_id, responder)
    r = await ask(client, item_id, responder)
    assert r.status_code == 201, r.text
    asked = r.json()
    assert asked["status"] == "pending" and asked["clock_key"] == "resolution"
    assert await due_of(client, item_id, responder) == before, "moved before approval"
    # The supervisor's approvals queue; a responder has none.
    listed = (await client.get("/api/v1/extensions", headers=supervisor)).json()
    assert [e["id"] for e in listed] == [asked["id"]]
    assert (await client.get("/api/v1/extensions", headers=responder)).status_code == 403
    approve = f"/api/v1/items/{item_id}/extensions/{asked['id']}/approve"
    assert (await client.post(approve, headers=responder)).status_code == 403
    r = await client.post(approve, headers=supervisor, json={"note": "согласовано"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["decision_note"] == "согласовано"
    assert r.json()["new_due_at"].endswith("Z") and r.json()["previous_due_at"].endswith("Z")
    async with sessionmaker() as s:
        item = await s.get(Item, uuid.UUID(item_id))
        registry = await calendar_registry(s, settings.catalog_dir)
    assert item is not None
    calendar = engine.calendar_of(item, registry)
    after = await due_of(client, item_id, responder)
    assert after == compute_deadline(before, 30, "calendar_days", calendar)
    assert after - before >= dt.timedelta(days=30)
    assert (await client.get("/api/v1/extensions", headers=supervisor)).json() == []
    kinds = [
        e["kind"]
        for e in (await client.get(f"/api/v1/items/{item_id}/events", headers=responder)).json()
    ]
    assert kinds[-2:] == ["extension_requested", "deadline_extended"]
    # Once per consideration: a second request is refused.
    assert (await ask(client, item_id, responder)).status_code == 409


async def test_no_breach_at_the_old_deadline_and_the_citizen_sees_the_new_one(
    client, settings, make_user, sessionmaker
):
    r = await client.post(
        "/api/v1/widget/reports",
        json={"page_id": SETTLEMENT_PAGE, "text": LAMP_TEXT},
    )
    item_id, status_url = r.json()["id"], r.json()["status_url"]
    await run_worker_burst(settings)
    responder, supervisor = await staff_of(make_user)
    old = await due_of(client, item_id, responder)
    assert (await ask(client, item_id, supervisor)).json()["status"] == "approved"  # at once
    new = await due_of(client, item_id, responder)
    item = await check_at(settings, sessionmaker, uuid.UUID(item_id), old + dt.timedelta(hours=1))
    async with sessionmaker() as s:
        stmt = select(ItemEvent).where(ItemEvent.item_id == item.id)
        alerts = [e.kind for e in (await s.exec(stmt)).all() if e.data.get("clock") == "resolution"]
    assert alerts == [] and item.sla_next_check_at is not None  # (first response: breached)
    assert item.sla_next_check_at <= new
    public = (await client.get(status_url)).json()
    assert dt.datetime.fromisoformat(public["expected_resolution_by"]) == new
    local = new.astimezone(dt.timezone(dt.timedelta(hours=7)))
    notices = [m["text"] for m in public["messages"] if m["kind"] == "deadline_extended"]
    assert notices == [
        f"Срок рассмотрения вашего обращения продлён до {local:%d.%m.%Y}. Причина: {REASON}"
    ]


async def test_the_notice_reaches_the_citizens_channel(live, make_user, sessionmaker):
    settings, client, vk, _ = live
    await connect(client, make_user)
    await client.post(URL, json=event(comment_id=808, event_id="x1"))
    await run_worker_burst(settings)
    async with sessionmaker() as s:
        stmt = select(Item.id).where(Item.external_id == f"{SETTLEMENT_PAGE}#808")
        item_id = str((await s.exec(stmt)).one())
    _, supervisor = await staff_of(make_user)
    assert (await ask(client, item_id, supervisor)).status_code == 201
    await run_worker_burst(settings)
    [notice] = vk_messages(vk)
    assert notice.startswith("Срок рассмотрения вашего обращения продлён до") and REASON in notice


async def test_declined_leaves_the_deadline_and_a_new_request_may_follow(
    client, settings, make_user
):
    item_id = await routed_item(client, settings)
    responder, supervisor = await staff_of(make_user)
    before = await due_of(client, item_id, responder)
    asked = (await ask(client, item_id, responder)).json()
    decline = f"/api/v1/items/{item_id}/extensions/{asked['id']}/decline"
    assert (await client.post(decline, headers=supervisor, json={})).status_code == 422
    r = await client.post(decline, headers=supervisor, json={"note": "уложитесь в срок"})
    assert r.status_code == 200 and r.json()["status"] == "declined"
    assert await due_of(client, item_id, responder) == before
    assert (await client.post(decline, headers=supervisor, json={"note": "ещё"})).status_code == 409
    assert (await ask(client, item_id, responder)).status_code == 201


async def test_limits_length_timing_and_state(client, settings, make_user, sessionmaker):
    item_id = await routed_item(client, settings)
    responder, supervisor = await staff_of(make_user)
    r = await ask(client, item_id, responder, extend_by={"duration": 31, "unit": "calendar_days"})
    assert r.status_code == 422 and r.json()["field"] == "extend_by"
    r = await ask(client, item_id, responder, extend_by={"duration": 10, "unit": "working_days"})
    assert r.status_code == 201, r.text  # shorter than the 30 days, in another unit
    assert (await ask(client, item_id, responder, reason="x")).status_code == 422
    for wrong in (
        {"duration": 1.5, "unit": "calendar_days"},
        {"duration": 99999, "unit": "working_days"},
    ):
        r = await ask(client, item_id, supervisor, extend_by=wrong)
        assert r.status_code == 422 and r.json()["field"] == "extend_by", r.text
    # A deadline already passed cannot be extended (nor can an answered appeal).
    other = await routed_item(client, settings, text=LAMP_TEXT + " Второй фонарь тоже.")
    async with sessionmaker() as s:
        item = await s.get(Item, uuid.UUID(other))
        assert item is not None and item.sla is not None
        sla = {**item.sla, "clocks": {**item.sla["clocks"]}}
        past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
        sla["clocks"]["resolution"] = {**sla["clocks"]["resolution"], "due_at": past}
        item.sla = sla
        s.add(item)
        await s.commit()
    r = await ask(client, other, supervisor)
    assert r.status_code == 409 and "has passed" in r.json()["detail"]
    third = await routed_item(client, settings, text=LAMP_TEXT + " И третий.")
    reply = {"text": "Вывезли", "final": True}
    await client.post(f"/api/v1/items/{third}/reply", headers=responder, json=reply)
    assert (await ask(client, third, supervisor)).status_code == 409
    # Reopened, it is a new consideration with a deadline of its own to extend.
    assert (
        await client.post(f"/api/v1/items/{third}/reopen", headers=supervisor)
    ).status_code == 200
    r = await ask(client, third, supervisor)
    assert r.status_code == 201 and r.json()["clock_key"] == "resolution#2"
    listed = (await client.get(f"/api/v1/items/{third}/extensions", headers=responder)).json()
    assert [e["clock_key"] for e in listed] == ["resolution#2"]


async def test_another_authoritys_supervisor_sees_nothing(client, settings, make_user):
    item_id = await routed_item(client, settings)
    responder, _ = await staff_of(make_user)
    asked = (await ask(client, item_id, responder)).json()
    stranger = await make_user("supervisor", "d_shipunovsky")
    assert (await client.get("/api/v1/extensions", headers=stranger)).json() == []
    approve = f"/api/v1/items/{item_id}/extensions/{asked['id']}/approve"
    assert (await client.post(approve, headers=stranger)).status_code == 404


async def test_a_request_whose_deadline_is_gone_lapses(client, settings, make_user):
    item_id = await routed_item(client, settings)
    responder, supervisor = await staff_of(make_user)
    asked = (await ask(client, item_id, responder)).json()
    reply = {"text": "Сделано", "final": True}
    assert (
        await client.post(f"/api/v1/items/{item_id}/reply", headers=responder, json=reply)
    ).status_code == 200
    # Out of the approvals queue at once; refused, and recorded as lapsed, when decided.
    assert (await client.get("/api/v1/extensions", headers=supervisor)).json() == []
    approve = f"/api/v1/items/{item_id}/extensions/{asked['id']}/approve"
    r = await client.post(approve, headers=supervisor)
    assert r.status_code == 409 and "lapsed" in r.json()["detail"]
    listed = (await client.get(f"/api/v1/items/{item_id}/extensions", headers=responder)).json()
    assert [e["status"] for e in listed] == ["lapsed"]
    # Reopened: a new request for the new deadline is taken and can be approved.
    assert (
        await client.post(f"/api/v1/items/{item_id}/reopen", headers=supervisor)
    ).status_code == 200
    again = (await ask(client, item_id, responder)).json()
    assert again["clock_key"] == "resolution#2" and again["status"] == "pending"
    path = f"/api/v1/items/{item_id}/extensions/{again['id']}/approve"
    assert (await client.post(path, headers=supervisor)).json()["status"] == "approved"
