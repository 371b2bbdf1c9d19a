"""Ingest of comments and platform messages with a service token."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select

from schemas.items import Contact, Item
from tests.builders import comment

PLATFORM = {
    "external_id": "pos-1",
    "category": "roads_potholes",
    "text": "На центральной улице ямы, проехать невозможно",
    "address": "Алейский район, с. Кашино",
    "location": {"lat": 52.5, "lon": 82.8},
    "created_at": "2026-11-20T10:00:00+07:00",
    "author": {"id": "esia-1", "name": "Пётр", "email": "petr@mail.ru"},
    "deadline": "2026-12-20T18:00:00+07:00",
}


async def count(sessionmaker, model=Item) -> int:
    async with sessionmaker() as s:
        return int((await s.exec(select(func.count()).select_from(model))).one()[0])


class TestAuth:
    async def test_needs_a_token(self, client):
        r = await client.post("/api/v1/ingest/comments", json=comment())
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")

    async def test_unknown_token(self, client):
        r = await client.post(
            "/api/v1/ingest/comments", json=comment(), headers={"Authorization": "Bearer fr_nope"}
        )
        assert r.status_code == 401

    async def test_responder_token_is_forbidden(self, client, make_user):
        staff = await make_user("responder", "s_aleysky_kashinsky")
        r = await client.post("/api/v1/ingest/comments", json=comment(), headers=staff)
        assert r.status_code == 403


class TestComments:
    async def test_one_comment_then_its_repeat(self, client, make_user, sessionmaker):
        svc = await make_user("service", "op_tsur")
        c = comment()
        first = await client.post("/api/v1/ingest/comments", json=c, headers=svc)
        assert first.status_code == 202
        assert first.json()["duplicate"] is False
        again = await client.post("/api/v1/ingest/comments", json=c, headers=svc)
        assert again.status_code == 200
        assert again.json() == {**first.json(), "duplicate": True}
        assert await count(sessionmaker) == 1

    async def test_batch_with_a_duplicate_inside(self, client, make_user, sessionmaker):
        svc = await make_user("service", "op_tsur")
        a, b = comment(), comment()
        r = await client.post("/api/v1/ingest/comments", json=[a, b, a], headers=svc)
        assert r.status_code == 202
        dups = [i["duplicate"] for i in r.json()["items"]]
        assert dups == [False, False, True]
        assert await count(sessionmaker) == 2

    @pytest.mark.parametrize(
        ("bad", "field"),
        [({"page_id": "vk:no_such_page"}, "page_id"), ({"network": "ok"}, "network")],
    )
    async def test_a_batch_refused_for_one_comment_stores_none(
        self, client, make_user, sessionmaker, bad, field
    ):
        svc = await make_user("service", "op_tsur")
        batch = [comment(), comment(**bad), comment()]
        r = await client.post("/api/v1/ingest/comments", json=batch, headers=svc)
        assert r.status_code == 422
        assert r.json()["detail"].startswith("comment 1: ") and r.json()["field"] == field
        assert await count(sessionmaker) == 0

    async def test_concurrent_repeats(self, client, make_user, sessionmaker):
        svc = await make_user("service", "op_tsur")
        c = comment()
        rs = await asyncio.gather(
            *(client.post("/api/v1/ingest/comments", json=c, headers=svc) for _ in range(8))
        )
        assert all(r.status_code in (200, 202, 409) for r in rs)
        assert len({r.json()["id"] for r in rs if r.status_code != 409}) == 1
        assert sum(r.status_code == 202 for r in rs) == 1
        assert await count(sessionmaker) == 1

    async def test_author_kept_apart_from_text(self, client, make_user, sessionmaker):
        svc = await make_user("service", "op_tsur")
        r = await client.post("/api/v1/ingest/comments", json=comment(), headers=svc)
        async with sessionmaker() as s:
            contact = await s.get(Contact, uuid.UUID(r.json()["id"]))
        assert contact is not None and contact.name == "Мария"
        assert contact.author_external_id == "42"

    async def test_validation(self, client, make_user):
        svc = await make_user("service", "op_tsur")
        for bad in (
            comment(network="fb"),
            comment(page_id="vk:club_nope"),
            comment(text=""),
            comment(created_at="2026-11-20T10:00:00"),
            {"text": "x"},
        ):
            r = await client.post("/api/v1/ingest/comments", json=bad, headers=svc)
            assert r.status_code == 422, (bad, r.text)
        r = await client.post("/api/v1/ingest/comments", json=[comment()] * 501, headers=svc)
        assert r.status_code in (413, 422)


class TestPlatform:
    async def test_message_then_repeat(self, client, make_user, sessionmaker):
        svc = await make_user("service", "op_tsur")
        first = await client.post("/api/v1/ingest/platform-messages", json=PLATFORM, headers=svc)
        assert first.status_code == 202, first.text
        again = await client.post("/api/v1/ingest/platform-messages", json=PLATFORM, headers=svc)
        assert again.status_code == 200
        assert again.json()["duplicate"] is True
        assert again.json()["id"] == first.json()["id"]
        async with sessionmaker() as s:
            item = await s.get(Item, uuid.UUID(first.json()["id"]))
        assert item is not None and item.category_hint == "roads_potholes"
        assert item.source["deadline"].startswith("2026-12-20")

    async def test_unknown_category_is_422(self, client, make_user):
        svc = await make_user("service", "op_tsur")
        body = {**PLATFORM, "external_id": "pos-2", "category": "nonsense"}
        r = await client.post("/api/v1/ingest/platform-messages", json=body, headers=svc)
        assert r.status_code == 422
        assert "category" in r.json()["detail"]


async def test_a_comment_must_come_from_its_pages_network(client, make_user, sessionmaker):
    svc = await make_user("service", "op_tsur")
    # Comment ids are only unique within one network's page: a tg comment 501 on a VK page
    # would collide with VK comment 501 there.
    r = await client.post(
        "/api/v1/ingest/comments", json=comment(network="tg", comment_id="501"), headers=svc
    )
    assert r.status_code == 422 and r.json()["field"] == "network", r.text
    ok_page = comment(network="ok", page_id="ok:group_gov_altai", comment_id="501")
    assert (
        await client.post("/api/v1/ingest/comments", json=ok_page, headers=svc)
    ).status_code in (
        200,
        202,
    )
    assert await count(sessionmaker) == 1
