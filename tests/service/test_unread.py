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
