"""A claimed item goes back to its authority's queue: released by its claimant or a supervisor,
and for everyone a deactivated user held."""

from __future__ import annotations

from tests.builders import DISTRICT, SETTLEMENT, admin_headers, routed_item


async def claim(client, item_id: str, who: dict[str, str]):
    return await client.post(f"/api/v1/items/{item_id}/claim", headers=who)


async def test_the_claimant_or_a_supervisor_gives_it_back(client, settings, make_user):
    item_id = await routed_item(client, settings)
    anna, boris = [await make_user("responder", SETTLEMENT) for _ in range(2)]
    assert (await claim(client, item_id, anna)).status_code == 200
    assert (await claim(client, item_id, boris)).status_code == 409
    release = f"/api/v1/items/{item_id}/release"
    assert (await client.post(release, headers=boris)).status_code == 403
    r = await client.post(release, headers=anna, json={"reason": "в отпуске с понедельника"})
    assert r.status_code == 200 and (r.json()["status"], r.json()["assignee_id"]) == (
        "routed",
        None,
    )
    assert (await client.post(release, headers=anna)).status_code == 409  # nobody holds it
    assert (await claim(client, item_id, boris)).status_code == 200
    supervisor = await make_user("supervisor", DISTRICT)
    assert (await client.post(release, headers=supervisor)).json()["assignee_id"] is None
    events = (await client.get(f"/api/v1/items/{item_id}/events", headers=anna)).json()
    released = [e for e in events if e["kind"] == "released"]
    assert [e["data"]["assignee_id"] for e in released] == [int(anna["id"]), int(boris["id"])]
    assert released[0]["data"]["reason"] == "в отпуске с понедельника"


async def test_a_deactivated_users_claims_go_back(client, settings, make_user):
    first = await routed_item(client, settings)
    second = await routed_item(client, settings, text="Не горит фонарь у магазина, дом 7")
    leaving = await make_user("responder", SETTLEMENT)
    for item_id in (first, second):
        assert (await claim(client, item_id, leaving)).status_code == 200
    admin = await admin_headers(make_user)
    r = await client.delete(f"/api/v1/admin/users/{leaving['id']}", headers=admin)
    assert r.status_code == 200 and r.json()["active"] is False
    colleague = await make_user("responder", SETTLEMENT)
    for item_id in (first, second):
        detail = (await client.get(f"/api/v1/items/{item_id}", headers=colleague)).json()
        assert (detail["status"], detail["assignee_id"]) == ("routed", None)
        assert (await claim(client, item_id, colleague)).status_code == 200
    events = (await client.get(f"/api/v1/items/{first}/events", headers=colleague)).json()
    released = next(e for e in events if e["kind"] == "released")
    assert (released["actor"], released["data"]["reason"]) == ("system", "the user was deactivated")
