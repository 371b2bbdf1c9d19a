"""A policy's `after_interim`: the first interim reply sets the final answer's deadline (the ЦУР
practice of a final answer N working days after an interim one)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from schemas.items import Item
from service.sla import engine
from service.sla.calendars import calendar_registry
from service.sla.deadlines import compute_deadline
from tests.builders import DISTRICT, SETTLEMENT, admin_headers, routed_item

POLICY = {
    "name": "interim-then-final",
    "match": {"authority_code": SETTLEMENT},
    "first_response": {"duration": 24, "unit": "hours"},
    "resolution": {"duration": 30, "unit": "calendar_days"},
    "after_interim": {"duration": 2, "unit": "working_days"},
}


async def policy(client: Any, make_user: Any, **changes: Any) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/admin/sla-policies",
        json={**POLICY, **changes},
        headers=await admin_headers(make_user),
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def reply(client: Any, item_id: str, staff: dict[str, str], final: bool = False) -> Any:
    r = await client.post(
        f"/api/v1/items/{item_id}/reply",
        headers=staff,
        json={"text": "Приняли, выезжаем", "final": final},
    )
    assert r.status_code == 200, r.text
    return r.json()


async def clocks(sessionmaker: Any, item_id: str) -> dict[str, Any]:
    async with sessionmaker() as s:
        item = await s.get(Item, uuid.UUID(item_id))
    assert item is not None and item.sla is not None
    return dict(item.sla["clocks"])


async def test_the_first_interim_reply_sets_the_final_deadline(
    client, settings, make_user, sessionmaker
):
    created = await policy(client, make_user)
    assert created["after_interim"] == {"duration": 2, "unit": "working_days"}
    item_id = await routed_item(client, settings)
    responder = await make_user("responder", SETTLEMENT)
    before = (await client.get(f"/api/v1/items/{item_id}", headers=responder)).json()
    detail = await reply(client, item_id, responder)
    replied = dt.datetime.fromisoformat(detail["first_responded_at"])
    async with sessionmaker() as s:
        item = await s.get(Item, uuid.UUID(item_id))
        registry = await calendar_registry(s, settings.catalog_dir)
    assert item is not None
    want = compute_deadline(replied, 2, "working_days", engine.calendar_of(item, registry))
    assert dt.datetime.fromisoformat(detail["resolution_due_at"]) == want
    assert detail["resolution_due_at"] != before["resolution_due_at"]
    resolution = (await clocks(sessionmaker, item_id))["resolution"]
    assert resolution["generation"] == 2 and resolution["unit"] == "working_days"
    # Only the first: a second interim reply leaves the deadline where it is.
    assert (await reply(client, item_id, responder))["resolution_due_at"] == detail[
        "resolution_due_at"
    ]
    done = await reply(client, item_id, responder, final=True)
    assert done["status"] == "answered"
    assert (await clocks(sessionmaker, item_id))["resolution"]["stopped_at"] is not None


async def test_without_the_rule_or_after_an_extension_the_deadline_stays(
    client, settings, make_user
):
    item_id = await routed_item(client, settings)
    responder = await make_user("responder", SETTLEMENT)
    due = (await client.get(f"/api/v1/items/{item_id}", headers=responder)).json()[
        "resolution_due_at"
    ]
    assert (await reply(client, item_id, responder))["resolution_due_at"] == due
    await policy(client, make_user)
    other = await routed_item(client, settings, text="Не горит фонарь у клуба, темно вечером")
    supervisor = await make_user("supervisor", DISTRICT)
    r = await client.post(
        f"/api/v1/items/{other}/extensions", headers=supervisor, json={"reason": "ждём подрядчика"}
    )
    assert r.status_code == 201 and r.json()["status"] == "approved"
    extended = r.json()["new_due_at"]
    after = await reply(client, other, responder)
    assert dt.datetime.fromisoformat(after["resolution_due_at"]) == dt.datetime.fromisoformat(
        extended
    )


async def test_the_rule_is_validated_like_any_clock(client, make_user):
    admin = await admin_headers(make_user)
    for wrong in ({"duration": 1.5, "unit": "working_days"}, {"duration": 2, "unit": "weeks"}):
        body = {**POLICY, "name": f"bad-{wrong['unit']}", "after_interim": wrong}
        r = await client.post("/api/v1/admin/sla-policies", json=body, headers=admin)
        assert r.status_code == 422, r.text
    body = {**POLICY, "name": "none", "after_interim": None}
    r = await client.post("/api/v1/admin/sla-policies", json=body, headers=admin)
    assert r.status_code == 201 and r.json()["after_interim"] is None


async def test_no_fresh_clock_after_a_breach_and_a_reopen_gets_the_policys_length(
    client, settings, make_user, sessionmaker
):
    await policy(client, make_user)
    late = await routed_item(client, settings)
    async with sessionmaker() as s:
        item = await s.get(Item, uuid.UUID(late))
        assert item is not None and item.sla is not None
        past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
        sla = {**item.sla, "clocks": {**item.sla["clocks"]}}
        sla["clocks"]["resolution"] = {**sla["clocks"]["resolution"], "due_at": past}
        item.sla = sla
        s.add(item)
        await s.commit()
    responder = await make_user("responder", SETTLEMENT)
    after = await reply(client, late, responder)
    assert dt.datetime.fromisoformat(after["resolution_due_at"]) == dt.datetime.fromisoformat(past)
    assert (await clocks(sessionmaker, late))["resolution"]["generation"] == 1
    # Interim (2 working days), final, reopen: the reopened clock is the policy's 30 days.
    item_id = await routed_item(client, settings, text="Не горит фонарь у школы, темно")
    await reply(client, item_id, responder)
    await reply(client, item_id, responder, final=True)
    supervisor = await make_user("supervisor", DISTRICT)
    assert (
        await client.post(f"/api/v1/items/{item_id}/reopen", headers=supervisor)
    ).status_code == 200
    resolution = (await clocks(sessionmaker, item_id))["resolution"]
    assert (resolution["duration"], resolution["unit"]) == (30, "calendar_days")


async def test_a_pause_under_way_counts_from_the_interim_reply(
    client, settings, make_user, sessionmaker
):
    await policy(client, make_user)
    item_id = await routed_item(client, settings)
    responder = await make_user("responder", SETTLEMENT)
    r = await client.post(
        f"/api/v1/items/{item_id}/request-info", headers=responder, json={"question": "Какой дом?"}
    )
    assert r.status_code == 200
    paused_before = (await clocks(sessionmaker, item_id))["resolution"]["paused_at"]
    await reply(client, item_id, responder)
    resolution = (await clocks(sessionmaker, item_id))["resolution"]
    assert resolution["generation"] == 2 and resolution["paused_at"] is not None
    assert resolution["paused_at"] == resolution["started_at"] > paused_before
