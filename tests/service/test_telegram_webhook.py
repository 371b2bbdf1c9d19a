"""Telegram webhook: secret token, comments from a connected discussion group stored once,
edits, and everything that is not a citizen's comment left alone."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlmodel import select

from schemas.items import Contact, Item, ItemEvent
from tests.builders import SETTLEMENT_PAGE
from tests.fake_channels import TELEGRAM_WEBHOOK_SECRET

TG_PAGE = "tg:kashino_news"
OWNER = "s_aleysky_kashinsky"
URL = "/api/v1/channels/telegram/webhook"
SECRET = TELEGRAM_WEBHOOK_SECRET
GROUP = -1001234567890
CHANNEL = -1009876543210
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


@pytest.fixture
async def tg(settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    from service.main import create_app

    app = create_app(settings.model_copy(update={"telegram_webhook_secret": SECRET}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def connect(
    client: httpx.AsyncClient, make_user: Any, chat_id: int = GROUP, **extra: Any
) -> Any:
    """Connect the group to the channel's page, creating the page (owned by OWNER) if needed."""
    admin = await make_user("admin", "op_tsur")
    body = {"chat_id": chat_id, "page_id": TG_PAGE, "title": "Кашино", "authority_code": OWNER}
    return await client.post("/api/v1/admin/telegram-chats", headers=admin, json={**body, **extra})


def post_copy() -> dict[str, Any]:
    """The group's automatic copy of channel post 42, which comments reply to."""
    return {
        "message_id": 500,
        "chat": {"id": GROUP},
        "sender_chat": {"id": CHANNEL},
        "is_automatic_forward": True,
        "forward_origin": {"type": "channel", "chat": {"id": CHANNEL}, "message_id": 42},
        "text": "Новости района",
    }


def update(
    update_id: int = 1,
    *,
    message_id: int = 501,
    text: str | None = "Фонарь у школы не горит третью неделю",
    kind: str = "message",
    **fields: Any,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": 1764300000,
        "chat": {"id": GROUP, "type": "supergroup"},
        "from": {"id": 777, "is_bot": False, "first_name": "Мария", "last_name": "Иванова"},
        "message_thread_id": 500,
        "reply_to_message": post_copy(),
        **fields,
    }
    if text is not None:
        message["text"] = text
    return {"update_id": update_id, kind: message}


async def items(sessionmaker: Any) -> list[Item]:
    async with sessionmaker() as s:
        return list((await s.exec(select(Item))).all())


async def test_off_until_the_secret_is_configured(client: httpx.AsyncClient) -> None:
    r = await client.post(URL, json=update(), headers=HEADERS)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "TELEGRAM_WEBHOOK_SECRET" in r.json()["detail"]


async def test_wrong_or_missing_secret_is_refused(
    tg: httpx.AsyncClient, make_user: Any, sessionmaker: Any
) -> None:
    assert (await connect(tg, make_user)).status_code == 201
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guess"}):
        r = await tg.post(URL, json=update(), headers=headers)
        assert r.status_code == 403, r.text
    assert await items(sessionmaker) == []


async def test_comment_is_stored_once_with_its_post_and_author_apart(
    tg: httpx.AsyncClient, make_user: Any, sessionmaker: Any
) -> None:
    connected = await connect(tg, make_user)
    assert connected.json()["can_reply"] is False  # no bot token in these settings
    # Telegram repeats an update until it gets a 2xx, possibly while the first is in flight.
    rs = await asyncio.gather(*(tg.post(URL, json=update(), headers=HEADERS) for _ in range(4)))
    assert [r.status_code for r in rs] == [200] * 4
    assert sorted(r.json()["outcome"] for r in rs).count("stored") == 1
    [item] = await items(sessionmaker)
    assert (item.channel, item.network, item.page_id) == ("comment", "tg", TG_PAGE)
    assert item.external_id == f"{TG_PAGE}#501"
    assert item.source == {
        "chat_id": str(GROUP),
        "post_id": "42",
        "comment_id": "501",
        "reply_to": None,
    }
    assert "Мария" not in str(item.source) and "777" not in str(item.source)
    async with sessionmaker() as s:
        contact = await s.get(Contact, item.id)
    assert contact is not None and contact.name == "Мария Иванова"
    assert contact.author_external_id == "777"


async def test_a_reply_to_another_comment_names_it(
    tg: httpx.AsyncClient, make_user: Any, sessionmaker: Any
) -> None:
    await connect(tg, make_user)
    parent = update(message_id=510)["message"]
    r = await tg.post(URL, json=update(2, message_id=511, reply_to_message=parent), headers=HEADERS)
    assert r.json()["outcome"] == "stored"
    [item] = await items(sessionmaker)
    assert (item.source["post_id"], item.source["reply_to"]) == (None, "510")


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ({"from": {"id": 1, "is_bot": True, "first_name": "Бот"}}, "Ответ бота"),
        ({"sender_chat": {"id": CHANNEL}}, "Канал пишет от своего имени"),
        ({"is_automatic_forward": True}, "Копия поста канала"),
        ({"sticker": {"file_id": "x"}}, None),
        ({}, "   "),
    ],
)
async def test_what_is_not_a_citizens_comment_is_skipped(
    tg: httpx.AsyncClient,
    make_user: Any,
    sessionmaker: Any,
    fields: dict[str, Any],
    text: str | None,
) -> None:
    await connect(tg, make_user)
    r = await tg.post(URL, json=update(3, text=text, **fields), headers=HEADERS)
    assert (r.status_code, r.json()["outcome"]) == (200, "skipped")
    assert await items(sessionmaker) == []


async def test_groups_not_connected_and_other_updates_are_ignored(
    tg: httpx.AsyncClient, sessionmaker: Any
) -> None:
    r = await tg.post(URL, json=update(4), headers=HEADERS)
    assert (r.status_code, r.json()["outcome"]) == (200, "not connected")
    r = await tg.post(URL, json={"update_id": 5, "channel_post": {"x": 1}}, headers=HEADERS)
    assert (r.status_code, r.json()["outcome"]) == (200, "ignored")
    assert await items(sessionmaker) == []


async def test_an_edit_replaces_the_text_of_an_unclaimed_comment(
    tg: httpx.AsyncClient, make_user: Any, sessionmaker: Any
) -> None:
    await connect(tg, make_user)
    await tg.post(URL, json=update(6), headers=HEADERS)
    edited = update(7, text="Фонарь у школы №2 не горит", kind="edited_message")
    assert (await tg.post(URL, json=edited, headers=HEADERS)).json()["outcome"] == "edited"
    assert (await tg.post(URL, json=edited, headers=HEADERS)).json()["outcome"] == "unchanged"
    [item] = await items(sessionmaker)
    assert item.text == "Фонарь у школы №2 не горит"
    async with sessionmaker() as s:
        events = (await s.exec(select(ItemEvent).where(ItemEvent.item_id == item.id))).all()
    [edit] = [e for e in events if e.kind == "edited"]
    assert edit.data["previous_text"] == "Фонарь у школы не горит третью неделю"


async def test_malformed_updates_get_a_problem(tg: httpx.AsyncClient) -> None:
    for body in (b"{not json", b'{"message": {}}', b'{"update_id": "x"}'):
        r = await tg.post(
            URL, content=body, headers={**HEADERS, "Content-Type": "application/json"}
        )
        assert r.status_code == 422, body
        assert r.headers["content-type"].startswith("application/problem+json")


async def test_connecting_checks_the_page_and_the_group_id(
    tg: httpx.AsyncClient, make_user: Any
) -> None:
    admin = await make_user("admin", "op_tsur")

    async def post(**body: Any) -> httpx.Response:
        return await tg.post("/api/v1/admin/telegram-chats", headers=admin, json=body)

    # Another network's page would mix two comment-id spaces under one page.
    r = await post(chat_id=GROUP, page_id=SETTLEMENT_PAGE)
    assert r.status_code == 422 and "page_id" in r.text
    r = await post(chat_id=GROUP, page_id="tg:nobody_knows")
    assert r.status_code == 422 and "title and authority_code" in r.json()["detail"]
    r = await post(chat_id=GROUP, page_id="tg:other", title="Кашино", authority_code="nope")
    assert r.status_code == 422 and "authority_code" in r.text
    for chat_id in (777, -(2**70)):  # a user's chat; beyond int64
        r = await post(chat_id=chat_id, page_id=TG_PAGE, title="Кашино", authority_code=OWNER)
        assert r.status_code == 422
    responder = await make_user("responder", OWNER)
    r = await tg.post(
        "/api/v1/admin/telegram-chats",
        headers=responder,
        json={"chat_id": GROUP, "page_id": TG_PAGE, "title": "Кашино", "authority_code": OWNER},
    )
    assert r.status_code == 403


async def test_the_created_page_routes_and_a_channel_keeps_one_group(
    tg: httpx.AsyncClient, make_user: Any, sessionmaker: Any
) -> None:
    from schemas.catalog import Page
    from schemas.channels import TelegramChat

    assert (await connect(tg, make_user)).status_code == 201
    assert (await connect(tg, make_user)).status_code == 201  # repeating is harmless
    # The channel moved to a new discussion group: the page follows it.
    assert (await connect(tg, make_user, chat_id=GROUP - 1)).status_code == 201
    async with sessionmaker() as s:
        page = await s.get(Page, TG_PAGE)
        chats = (await s.exec(select(TelegramChat))).all()
    assert page is not None and (page.network, page.authority_code) == ("tg", OWNER)
    assert [c.chat_id for c in chats] == [GROUP - 1]
    r = await tg.post(URL, json=update(8), headers=HEADERS)
    assert r.json()["outcome"] == "not connected"  # the old group is no longer ours
    admin = await make_user("admin", "op_tsur")
    pages = (await tg.get("/api/v1/admin/pages", headers=admin)).json()
    assert TG_PAGE in {p["page_id"] for p in pages}


async def test_out_of_range_fields_are_refused_and_names_are_cleaned(
    tg: httpx.AsyncClient, make_user: Any, sessionmaker: Any
) -> None:
    await connect(tg, make_user)
    for fields in ({"date": 10**15}, {"chat": {"id": -(10**20)}}):
        r = await tg.post(URL, json=update(9, **fields), headers=HEADERS)
        assert r.status_code == 422, fields
    author = {"id": 5, "is_bot": False, "first_name": "Ма\x00рия", "last_name": "\ud800"}
    # json.dumps escapes the lone surrogate, as a careless client would send it.
    raw = json.dumps(update(10, **{"from": author}))
    r = await tg.post(URL, content=raw, headers={**HEADERS, "Content-Type": "application/json"})
    assert r.status_code in (200, 422), r.text
    if r.status_code == 200:
        [item] = await items(sessionmaker)
        async with sessionmaker() as s:
            contact = await s.get(Contact, item.id)
        assert contact is not None and contact.name == "Мария"
    author["last_name"] = "Иванова"
    r = await tg.post(URL, json=update(11, message_id=502, **{"from": author}), headers=HEADERS)
    assert r.json()["outcome"] == "stored"
    stored = [i for i in await items(sessionmaker) if i.external_id == f"{TG_PAGE}#502"]
    async with sessionmaker() as s:
        contact = await s.get(Contact, stored[0].id)
    assert contact is not None and contact.name == "Мария Иванова"
