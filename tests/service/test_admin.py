"""Administration: authority calendars, category defaults, users and tokens."""

from __future__ import annotations

import uuid

from schemas.items import Item
from tests.builders import SETTLEMENT, routed_item


async def test_authority_calendar_applies_to_new_clocks(client, settings, make_user, sessionmaker):
    admin = await make_user("admin", "op_tsur")
    r = await client.patch(
        f"/api/v1/admin/authorities/{SETTLEMENT}", headers=admin, json={"calendar_code": "24x7"}
    )
    assert r.status_code == 200 and r.json()["calendar_code"] == "24x7"
    try:
        item_id = await routed_item(client, settings)
        async with sessionmaker() as s:
            item = await s.get(Item, uuid.UUID(item_id))
        assert item is not None and item.sla["calendar_code"] == "24x7"
    finally:
        await client.patch(
            f"/api/v1/admin/authorities/{SETTLEMENT}",
            headers=admin,
            json={"calendar_code": "altai"},
        )
    bad = await client.patch(
        f"/api/v1/admin/authorities/{SETTLEMENT}", headers=admin, json={"calendar_code": "mars"}
    )
    assert bad.status_code == 422
    assert (
        await client.patch("/api/v1/admin/authorities/nope", headers=admin, json={})
    ).status_code == 404


async def test_category_defaults_editable(client, settings, make_user, sessionmaker):
    admin = await make_user("admin", "op_tsur")
    r = await client.patch(
        "/api/v1/admin/categories/blag_lighting", headers=admin, json={"first_response_hours": 8}
    )
    assert r.status_code == 200 and r.json()["first_response_hours"] == 8
    try:
        item_id = await routed_item(client, settings)
        async with sessionmaker() as s:
            item = await s.get(Item, uuid.UUID(item_id))
        assert item is not None
        hours = (item.first_response_due_at - item.received_at).total_seconds() / 3600
        assert round(hours, 3) == 8
    finally:
        await client.patch(
            "/api/v1/admin/categories/blag_lighting",
            headers=admin,
            json={"first_response_hours": 24},
        )
    bad = await client.patch(
        "/api/v1/admin/categories/blag_lighting", headers=admin, json={"priority": "urgent"}
    )
    assert bad.status_code == 422


async def test_users_created_listed_and_deactivated(client, make_user):
    admin = await make_user("admin", "op_tsur")
    r = await client.post(
        "/api/v1/admin/users",
        headers=admin,
        json={"name": "Иванова", "role": "supervisor", "authority_code": "d_aleysky"},
    )
    assert r.status_code == 201
    user = r.json()
    token = {"Authorization": f"Bearer {user['token']}"}
    assert (await client.get("/api/v1/queue", headers=token)).status_code == 200
    listed = (await client.get("/api/v1/admin/users", headers=admin)).json()
    assert "Иванова" in [u["name"] for u in listed]
    assert all(u["token"] is None for u in listed)
    dup = await client.post(
        "/api/v1/admin/users",
        headers=admin,
        json={"name": "Иванова", "role": "supervisor", "authority_code": "d_aleysky"},
    )
    assert dup.status_code == 409
    gone = await client.delete(f"/api/v1/admin/users/{user['id']}", headers=admin)
    assert gone.json()["active"] is False
    assert (await client.get("/api/v1/queue", headers=token)).status_code == 401
    op = await make_user("operator", "op_tsur")
    assert (await client.get("/api/v1/admin/users", headers=op)).status_code == 403
