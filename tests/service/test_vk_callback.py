"""VK Callback API: handshake, secret, comments stored once, edits, our own replies skipped."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from schemas.items import Item
from tests.builders import SETTLEMENT_PAGE

GROUP = 2200001
URL = "/api/v1/channels/vk/callback"


async def connect(client, make_user, secret="s3cret-key"):
    admin = await make_user("admin", "op_tsur")
    r = await client.post(
        "/api/v1/admin/vk-groups",
        headers=admin,
        json={
            "group_id": GROUP,
            "page_id": SETTLEMENT_PAGE,
            "confirmation": "693d0ba9",
            "secret": secret,
        },
    )
    assert r.status_code == 201, r.text


def event(
    kind="wall_reply_new",
    *,
    comment_id=501,
    text="фонарь у школы не горит",
    secret="s3cret-key",
    from_id=777,
    event_id="e1",
):
    return {
        "type": kind,
        "group_id": GROUP,
        "event_id": event_id,
        "v": "5.199",
        "secret": secret,
        "object": {
            "id": comment_id,
            "from_id": from_id,
            "post_id": 10,
            "owner_id": -GROUP,
            "date": 1764300000,
            "text": text,
        },
    }


async def items(sessionmaker) -> list[Item]:
    async with sessionmaker() as s:
        return list((await s.exec(select(Item))).all())


async def test_confirmation_handshake(client, make_user):
    await connect(client, make_user)
    r = await client.post(
        URL, json={"type": "confirmation", "group_id": GROUP, "secret": "s3cret-key"}
    )
    assert r.status_code == 200 and r.text == "693d0ba9"
    assert r.headers["content-type"].startswith("text/plain")


async def test_comment_stored_once_even_when_vk_retries(client, make_user, sessionmaker):
    await connect(client, make_user)
    rs = await asyncio.gather(
        *(client.post(URL, json=event(), headers={"X-Retry-Counter": "1"}) for _ in range(5))
    )
    assert all(r.status_code == 200 for r in rs)
    assert [r.text for r in rs if r.status_code == 200] == ["ok"] * 5
    [item] = await items(sessionmaker)
    assert item.channel == "comment" and item.network == "vk"
    assert item.page_id == SETTLEMENT_PAGE and item.text == "фонарь у школы не горит"


async def test_bad_secret_is_refused_and_stores_nothing(client, make_user, sessionmaker):
    await connect(client, make_user)
    r = await client.post(URL, json=event(secret="wrong"))
    assert r.status_code == 403 and r.text != "ok"
    assert await items(sessionmaker) == []
    unknown = await client.post(URL, json={**event(), "group_id": 1})
    assert unknown.status_code == 403
    # The same answer: a caller without the secret learns nothing of what is connected.
    assert unknown.json()["detail"] == r.json()["detail"]


async def test_edit_updates_text_and_own_replies_skipped(client, make_user, sessionmaker):
    await connect(client, make_user)
    await client.post(URL, json=event())
    r = await client.post(
        URL,
        json=event("wall_reply_edit", text="фонарь у школы не горит третью ночь", event_id="e2"),
    )
    assert r.text == "ok"
    [item] = await items(sessionmaker)
    assert item.text.endswith("третью ночь")
    ours = await client.post(URL, json=event(comment_id=502, from_id=-GROUP, event_id="e3"))
    assert ours.text == "ok"
    other = await client.post(URL, json={**event(event_id="e4"), "type": "group_join"})
    assert other.text == "ok"
    assert len(await items(sessionmaker)) == 1


async def test_malformed_events_are_422(client, make_user):
    await connect(client, make_user)
    for raw in (b"not json", b'{"type": "wall_reply_new"}', b"[]"):
        r = await client.post(URL, content=raw, headers={"Content-Type": "application/json"})
        assert r.status_code == 422, raw


async def test_numbers_out_of_range_are_refused_or_skipped(client, make_user, sessionmaker):
    """Beyond 64 bits the key column overflows (a 500 before the secret check); a comment date
    past any calendar broke the item's timestamp. Refused with 422, or skipped with `ok` (VK
    sends again whatever is not answered `ok`)."""
    await connect(client, make_user)
    for group_id in (2**63, 10**20, -5):
        r = await client.post(URL, json={**event(), "group_id": group_id})
        assert r.status_code == 422, (group_id, r.text)
    for n, date in enumerate((99_999_999_999_999, -99_999_999_999_999)):
        bad = event(comment_id=600 + n, event_id=f"d{n}")
        bad["object"]["date"] = date
        r = await client.post(URL, json=bad)
        assert r.status_code == 200 and r.text == "ok", r.text
    assert await items(sessionmaker) == []
    admin = await make_user("admin", "op_tsur")
    body = {"group_id": 2**63, "page_id": SETTLEMENT_PAGE, "confirmation": "x"}
    r = await client.post("/api/v1/admin/vk-groups", headers=admin, json=body)
    assert r.status_code == 422, r.text


async def test_connecting_needs_admin_and_known_page(client, make_user):
    op = await make_user("operator", "op_tsur")
    body = {"group_id": GROUP, "page_id": SETTLEMENT_PAGE, "confirmation": "x", "secret": "s" * 8}
    assert (await client.post("/api/v1/admin/vk-groups", headers=op, json=body)).status_code == 403
    admin = await make_user("admin", "op_tsur")
    bad = {**body, "page_id": "vk:club_nope"}
    assert (
        await client.post("/api/v1/admin/vk-groups", headers=admin, json=bad)
    ).status_code == 422
    # No secret, no connection: anyone who knows the community id could post events as VK.
    r = await client.post("/api/v1/admin/vk-groups", headers=admin, json={**body, "secret": None})
    assert r.status_code == 422 and "secret" in r.text, r.text


async def test_a_community_connects_only_to_a_vk_page(client, make_user):
    admin = await make_user("admin", "op_tsur")
    body = {
        "group_id": GROUP,
        "page_id": "ok:group_gov_altai",
        "confirmation": "693d0ba9",
        "secret": "s3cret-key",
    }
    r = await client.post("/api/v1/admin/vk-groups", headers=admin, json=body)
    assert r.status_code == 422 and "ok page" in r.json()["detail"]
