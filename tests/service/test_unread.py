"""The queue marks what is new to each staff member: never opened by them, or the citizen
wrote since they last opened it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from tests.builders import SETTLEMENT, run_worker_burst, widget_report

pytestmark = pytest.mark.usefixtures("redis")


async def unread_of(client, staff) -> dict[str, bool]:
    r = await client.get("/api/v1/queue", headers=staff)
    assert r.status_code == 200, r.text
    return {i["id"]: i["unread"] for i in r.json()["items"]}


async def test_new_to_each_user_until_opened_and_again_when_the_citizen_writes(
    client, settings, make_user
):
    first = (await widget_report(client, text="Не горит фонарь у дома 3.")).json()
    second = (await widget_report(client, text="Не горит фонарь у дома 5.")).json()
    await run_worker_burst(settings)
    anna = await make_user("responder", SETTLEMENT, "anna")
    boris = await make_user("responder", SETTLEMENT, "boris")
    assert await unread_of(client, anna) == {first["id"]: True, second["id"]: True}
    # Anna opens the first one (its history counts too); Boris has opened nothing.
    assert (await client.get(f"/api/v1/items/{first['id']}", headers=anna)).status_code == 200
    await client.get(f"/api/v1/items/{second['id']}/events", headers=anna)
    assert await unread_of(client, anna) == {first["id"]: False, second["id"]: False}
    assert set((await unread_of(client, boris)).values()) == {True}
    # Anna asks the citizen of the first (an action: seen); the citizen answers.
    r = await client.post(
        f"/api/v1/items/{first['id']}/request-info", headers=anna, json={"question": "Какой дом?"}
    )
    assert r.status_code == 200 and (await unread_of(client, anna))[first["id"]] is False
    token = parse_qs(urlparse(first["status_url"]).query)["token"][0]
    r = await client.post(
        f"/api/v1/widget/reports/{first['id']}/messages",
        params={"token": token},
        json={"text": "Дом 3, у второго подъезда."},
    )
    assert r.status_code == 200, r.text
    assert await unread_of(client, anna) == {first["id"]: True, second["id"]: False}
    await client.get(f"/api/v1/items/{first['id']}", headers=anna)
    assert (await unread_of(client, anna))[first["id"]] is False


async def test_opening_an_item_waits_for_no_lock_on_it(client, settings, make_user, sessionmaker):
    """Marking an item seen must not need the item's row: an action holds it locked while it
    marks seen too, and a first open that waited for that lock deadlocked with it."""
    import asyncio
    import uuid

    from schemas.base import utcnow
    from schemas.items import Item
    from service.items.seen import mark_seen

    if not settings.effective_database_url.startswith("postgresql"):
        pytest.skip("row locks: PostgreSQL")
    item_id = uuid.UUID((await widget_report(client)).json()["id"])
    await run_worker_burst(settings)
    anna = await make_user("responder", SETTLEMENT, "anna")
    async with sessionmaker() as action, sessionmaker() as opening:
        await action.get(Item, item_id, with_for_update=True)  # an action's locked load
        await asyncio.wait_for(mark_seen(opening, int(anna["id"]), item_id, utcnow()), 2)
        await opening.commit()
        await mark_seen(action, int(anna["id"]), item_id, utcnow())
        await action.commit()


async def test_opening_and_acting_at_once(client, settings, make_user):
    """A user's GET of an item, of its history and an action on it, all at once, on items
    they never opened: each answers 200 (before, about one round in four got a 409 from a
    deadlock on PostgreSQL)."""
    import asyncio

    ids = []
    for n in range(1, 9):
        ids.append((await widget_report(client, text=f"Не горит фонарь у дома {n}.")).json()["id"])
    await run_worker_burst(settings)
    anna = await make_user("responder", SETTLEMENT, "anna")
    for item in ids:
        answers = await asyncio.gather(
            client.get(f"/api/v1/items/{item}", headers=anna),
            client.post(f"/api/v1/items/{item}/claim", headers=anna),
            client.get(f"/api/v1/items/{item}/events", headers=anna),
        )
        assert [r.status_code for r in answers] == [200, 200, 200], [r.text for r in answers]
