"""Changes to the set-up are in an audit trail: who, which route with which ids, which fields
(never their values: tokens and secrets pass through these endpoints)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("redis")


async def test_admin_changes_are_recorded_with_their_commit(client, make_user):
    admin = await make_user("admin", "op_tsur")
    created = await client.post(
        "/api/v1/admin/users",
        headers=admin,
        json={"name": "Ответственный", "role": "responder", "authority_code": "op_tsur"},
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    r = await client.delete(f"/api/v1/admin/users/{user_id}", headers=admin)
    assert r.status_code == 200
    refused = await client.post(  # refused: nothing changed, nothing recorded
        "/api/v1/admin/users", headers=admin, json={"name": "", "role": "x"}
    )
    assert refused.status_code == 422
    await client.get("/api/v1/admin/users", headers=admin)  # reads are not changes
    events = (await client.get("/api/v1/admin/audit", headers=admin)).json()
    assert [(e["action"], e["target"], e["fields"]) for e in events] == [
        ("DELETE /api/v1/admin/users/{user_id}", {"user_id": str(user_id)}, []),
        ("POST /api/v1/admin/users", {}, ["authority_code", "name", "role"]),
    ]
    assert {e["actor"] for e in events} == {f"user:{admin['id']}"}
    assert created.json()["token"] not in str(events)


async def test_a_secret_set_through_the_api_is_not_in_the_trail(client, make_user):
    admin = await make_user("admin", "op_tsur")
    body = {
        "authority_code": "op_tsur",
        "kind": "webhook",
        "target": "http://127.0.0.1:9/sla",
        "secret": "whsec_dGhpcyBpcyBhIG11Y2ggbG9uZ2VyIHNlY3JldCBrZXkgMzJi",
        "levels": ["breach"],
    }
    r = await client.post("/api/v1/admin/alert-endpoints", headers=admin, json=body)
    assert r.status_code == 201, r.text
    [event] = (await client.get("/api/v1/admin/audit", headers=admin)).json()
    assert event["action"] == "POST /api/v1/admin/alert-endpoints"
    assert "secret" in event["fields"] and "whsec_" not in str(event)


async def test_only_admins_read_the_trail(client, make_user):
    operator = await make_user("operator", "op_tsur")
    assert (await client.get("/api/v1/admin/audit", headers=operator)).status_code == 403
