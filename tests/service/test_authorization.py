"""Object-level authorization: every {id} endpoint × role × relation to the item's authority."""

from __future__ import annotations

import pytest

from tests.builders import routed_item

ENDPOINTS = [
    ("GET", "", None),
    ("GET", "/events", None),
    ("POST", "/claim", None),
    ("POST", "/reply", {"text": "ответ", "final": False}),
    ("POST", "/request-info", {"question": "уточните адрес"}),
    ("POST", "/redirect", {"authority_code": "d_shipunovsky", "reason": "не наше"}),
    ("POST", "/resolve", None),
    ("POST", "/reject", {"reason": "спам"}),
    ("POST", "/reopen", None),
]

# The item belongs to s_aleysky_kashinsky, a settlement of d_aleysky.
VISIBLE = [
    ("responder", "s_aleysky_kashinsky"),  # own
    ("supervisor", "s_aleysky_kashinsky"),  # own (its subtree is itself)
    ("supervisor", "d_aleysky"),  # parent district
    ("supervisor", "gov_altai"),  # the root
    ("operator", "op_tsur"),
    ("admin", "op_tsur"),
]
HIDDEN = [
    ("responder", "s_aleysky_kirovsky"),  # sibling settlement
    ("responder", "d_aleysky"),  # parent: a responder sees only its own authority
    ("supervisor", "s_aleysky_kirovsky"),  # sibling
    ("supervisor", "d_shipunovsky"),  # another district
]


@pytest.mark.parametrize(("method", "suffix", "body"), ENDPOINTS)
async def test_hidden_roles_get_404_and_change_nothing(
    client, settings, make_user, method, suffix, body
):
    item_id = await routed_item(client, settings)
    owner = await make_user("responder", "s_aleysky_kashinsky")
    before = (await client.get(f"/api/v1/items/{item_id}/events", headers=owner)).json()
    for role, authority in HIDDEN:
        headers = await make_user(role, authority)
        r = await client.request(
            method, f"/api/v1/items/{item_id}{suffix}", headers=headers, json=body
        )
        assert r.status_code == 404, (role, authority, suffix, r.status_code)
    after = (await client.get(f"/api/v1/items/{item_id}/events", headers=owner)).json()
    assert after == before


@pytest.mark.parametrize(("method", "suffix", "body"), ENDPOINTS)
async def test_visible_roles_reach_the_item(client, settings, make_user, method, suffix, body):
    for role, authority in VISIBLE:
        item_id = await routed_item(client, settings)
        headers = await make_user(role, authority)
        r = await client.request(
            method, f"/api/v1/items/{item_id}{suffix}", headers=headers, json=body
        )
        # 409 means the state machine answered: the user reached the item.
        assert r.status_code in (200, 409), (role, authority, suffix, r.status_code, r.text)


@pytest.mark.parametrize(("method", "suffix", "body"), ENDPOINTS)
async def test_service_tokens_and_anonymous_are_refused(
    client, settings, make_user, method, suffix, body
):
    item_id = await routed_item(client, settings)
    svc = await make_user("service", "op_tsur")
    url = f"/api/v1/items/{item_id}{suffix}"
    assert (await client.request(method, url, headers=svc, json=body)).status_code == 403
    assert (await client.request(method, url, json=body)).status_code == 401


async def test_unknown_and_malformed_ids(client, make_user):
    op = await make_user("operator", "op_tsur")
    r = await client.get("/api/v1/items/00000000-0000-0000-0000-000000000000", headers=op)
    assert r.status_code == 404
    assert (await client.get("/api/v1/items/not-a-uuid", headers=op)).status_code == 422
