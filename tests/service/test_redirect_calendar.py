"""A redirect moves the clocks onto the new authority's calendar (docs/decisions.md, calendars
12): `restart` lays the full time out in it, `continue` the time that is left; a policy that
pins a calendar keeps it."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from schemas.items import Item
from tests.builders import DISTRICT, SETTLEMENT, routed_item

pytestmark = pytest.mark.usefixtures("redis")

EIGHT_HOURS = dt.timedelta(hours=8)


@pytest.fixture
async def round_the_clock_district(client, make_user):
    admin = await make_user("admin", "op_tsur")
    path = f"/api/v1/admin/authorities/{DISTRICT}"
    r = await client.patch(path, headers=admin, json={"calendar_code": "24x7"})
    assert r.status_code == 200, r.text
    yield admin
    await client.patch(path, headers=admin, json={"calendar_code": "altai"})


async def redirected(client, settings, make_user, sessionmaker, admin, **policy) -> Item:
    body = {
        "name": f"p-{uuid.uuid4().hex[:6]}",
        "match": {"authority_code": SETTLEMENT},
        "first_response": {"duration": 8, "unit": "working_hours"},
        "resolution": {"duration": 8, "unit": "working_hours"},
        **policy,
    }
    r = await client.post("/api/v1/admin/sla-policies", json=body, headers=admin)
    assert r.status_code == 201, r.text
    item_id = await routed_item(client, settings)
    s1 = await make_user("responder", SETTLEMENT)
    r = await client.post(
        f"/api/v1/items/{item_id}/redirect",
        headers=s1,
        json={"authority_code": DISTRICT, "reason": "районное"},
    )
    assert r.status_code == 200, r.text
    async with sessionmaker() as s:
        item = await s.get(Item, uuid.UUID(item_id))
    assert item is not None and item.sla is not None and item.resolution_due_at is not None
    return item


@pytest.mark.parametrize("mode", ["restart", "continue"])
async def test_the_clocks_move_to_the_new_authoritys_calendar(
    client, settings, make_user, sessionmaker, round_the_clock_district, mode
):
    before = dt.datetime.now(dt.UTC)
    item = await redirected(
        client, settings, make_user, sessionmaker, round_the_clock_district, on_redirect=mode
    )
    assert item.sla is not None and item.sla["calendar_code"] == "24x7"
    assert item.resolution_due_at is not None
    # On Mon-Fri 09-18 with a lunch hour, 8 working hours always take at least 9 hours.
    if mode == "restart":
        assert item.resolution_due_at >= before + EIGHT_HOURS
    assert item.resolution_due_at <= dt.datetime.now(dt.UTC) + EIGHT_HOURS


async def test_a_calendar_the_policy_pins_stays(
    client, settings, make_user, sessionmaker, round_the_clock_district
):
    before = dt.datetime.now(dt.UTC)
    item = await redirected(
        client,
        settings,
        make_user,
        sessionmaker,
        round_the_clock_district,
        on_redirect="restart",
        calendar="altai",
    )
    assert item.sla is not None and item.sla["calendar_code"] == "altai"
    assert item.resolution_due_at is not None
    assert item.resolution_due_at >= before + dt.timedelta(hours=9)
