"""The public widget: acceptance, idempotency, validation and the public status page."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from schemas.items import Item
from tests.builders import SETTLEMENT_PAGE, routed_item, widget_report


async def count_items(sessionmaker: object) -> int:
    async with sessionmaker() as s:  # type: ignore[operator]
        return int((await s.exec(select(func.count()).select_from(Item))).one()[0])


class TestSubmit:
    async def test_accepts_and_stores_before_answering(self, client, sessionmaker):
        r = await widget_report(
            client, contact={"name": "Иван", "phone": "+79130000000"}, consent=True
        )
        assert r.status_code == 202
        body = r.json()
        assert body["status"] == "new"
        assert body["status_url"].endswith(
            f"/api/v1/widget/reports/{body['id']}?token={body['tracking_token']}"
        )
        async with sessionmaker() as s:
            item = await s.get(Item, uuid.UUID(body["id"]))
        assert item is not None and item.page_id == SETTLEMENT_PAGE and item.channel == "widget"

    async def test_repeat_with_same_key_returns_original(self, client, sessionmaker):
        key = str(uuid.uuid4())
        first = await widget_report(client, key=key)
        second = await widget_report(client, key=key)
        assert first.status_code == second.status_code == 202
        assert first.json() == second.json()
        assert await count_items(sessionmaker) == 1

    async def test_same_key_other_body_is_422(self, client):
        key = str(uuid.uuid4())
        assert (await widget_report(client, key=key)).status_code == 202
        r = await widget_report(client, key=key, text="совсем другой текст")
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "Idempotency-Key" in r.json()["detail"]

    async def test_concurrent_repeats_create_one_item(self, client, sessionmaker):
        key = str(uuid.uuid4())
        results = await asyncio.gather(*(widget_report(client, key=key) for _ in range(10)))
        codes = [r.status_code for r in results]
        assert all(c in (202, 409) for c in codes), codes
        ids = {r.json()["id"] for r in results if r.status_code == 202}
        assert len(ids) == 1
        assert await count_items(sessionmaker) == 1

    async def test_without_key_each_post_is_new(self, client, sessionmaker):
        await widget_report(client)
        await widget_report(client)
        assert await count_items(sessionmaker) == 2

    async def test_honeypot_answers_202_and_stores_nothing(self, client, sessionmaker):
        r = await widget_report(client, website="http://spam.example")
        assert r.status_code == 202
        assert await count_items(sessionmaker) == 0


class TestValidation:
    async def expect_422(self, client: httpx.AsyncClient, **body: object) -> dict[str, object]:
        r = await widget_report(client, **body)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert problem["status"] == 422 and problem["detail"]
        return problem

    async def test_contact_without_consent(self, client):
        problem = await self.expect_422(client, contact={"email": "a@mail.ru"})
        assert "consent" in str(problem["detail"])

    async def test_unknown_page(self, client):
        problem = await self.expect_422(client, page_id="vk:club_nope")
        assert "page_id" in str(problem["detail"])

    async def test_unknown_category(self, client):
        await self.expect_422(client, category="no_such_category")

    async def test_bad_texts(self, client):
        invisible = ("\u200b\u200b", "\ufeff \u2060", "\u200d\n\u00ad")
        for text in ("", "   ", "x" * 5001, "ноль\x00байт", 42, None, *invisible):
            await self.expect_422(client, text=text)

    async def test_consent_is_a_real_true(self, client):
        contact = {"name": "Мария", "email": "maria@example.ru"}
        for consent in ("yes", "true", 1):
            await self.expect_422(client, contact=contact, consent=consent)

    async def test_lone_surrogate(self, client):
        raw = f'{{"page_id": "{SETTLEMENT_PAGE}", "text": "\\ud800 сломано"}}'
        r = await client.post(
            "/api/v1/widget/reports", content=raw, headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 422

    async def test_unknown_field_and_bad_location(self, client):
        await self.expect_422(client, role="admin")
        await self.expect_422(client, location={"lat": 95, "lon": 83})

    async def test_broken_json(self, client):
        r = await client.post(
            "/api/v1/widget/reports",
            content=b'{"page_id": ',
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")

    async def test_oversize_body_is_413(self, client):
        r = await widget_report(client, text="я" * 100_000)
        assert r.status_code == 413
        assert r.headers["content-type"].startswith("application/problem+json")

    async def test_bad_idempotency_key(self, client):
        r = await widget_report(client, key="x" * 300)
        assert r.status_code == 422

    async def test_emoji_and_markup_stored_verbatim(self, client, sessionmaker):
        text = "<script>alert(1)</script> 🔥👍🏽 ' OR 1=1 -- {{7*7}}"
        r = await widget_report(client, text=text)
        assert r.status_code == 202
        async with sessionmaker() as s:
            item = await s.get(Item, uuid.UUID(r.json()["id"]))
        assert item is not None and item.text == text


class TestRateLimit:
    async def test_429_with_retry_after(self, app, client, settings):
        app.state.settings = settings.model_copy(update={"widget_rate_limit_per_ip": 3})
        try:
            codes = [(await widget_report(client)).status_code for _ in range(5)]
        finally:
            app.state.settings = settings
        assert codes[:3] == [202, 202, 202] and codes[3:] == [429, 429]
        r = await widget_report(client)  # limit restored: accepted again
        assert r.status_code == 202

    async def test_the_limit_is_shared_by_every_api_process(self, settings):
        """Two API processes (two apps on one Redis): a client spreading its reports over
        both gets the limit once, not once per process."""
        from service.main import create_app

        limited = settings.model_copy(update={"widget_rate_limit_per_ip": 4})
        codes = []
        apps = [create_app(limited), create_app(limited)]
        async with apps[0].router.lifespan_context(apps[0]):
            async with apps[1].router.lifespan_context(apps[1]):
                for n in range(6):
                    transport = httpx.ASGITransport(app=apps[n % 2])
                    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                        codes.append((await widget_report(c)).status_code)
        assert codes == [202, 202, 202, 202, 429, 429]

    async def test_every_count_expires(self, client, redis):
        for _ in range(3):
            assert (await widget_report(client)).status_code == 202
        keys = await redis.keys("ratelimit:*")
        ttls = [await redis.ttl(k) for k in keys]
        assert keys and all(0 < t <= 3600 for t in ttls), ttls
        assert [int(await redis.get(k)) for k in keys] == [3]

    async def test_a_forged_forwarded_for_does_not_escape_the_limit(self, app, client, settings):
        """Without a trusted proxy (uvicorn's --forwarded-allow-ips) the header is the client's
        own claim: the limit counts the peer address."""
        app.state.settings = settings.model_copy(update={"widget_rate_limit_per_ip": 2})
        try:
            codes = []
            for n in range(4):
                forged = {"X-Forwarded-For": f"203.0.113.{n}", "X-Real-IP": f"198.51.100.{n}"}
                body = {"page_id": SETTLEMENT_PAGE, "text": "Не горит фонарь у школы"}
                r = await client.post("/api/v1/widget/reports", json=body, headers=forged)
                codes.append(r.status_code)
        finally:
            app.state.settings = settings
        assert codes == [202, 202, 429, 429]

    async def test_a_retry_of_a_stored_report_gets_its_answer_past_the_limit(
        self, app, client, settings
    ):
        """SPEC §3: a repeat returns the original response; the key exists for flaky links."""
        app.state.settings = settings.model_copy(update={"widget_rate_limit_per_ip": 2})
        try:
            first = await widget_report(client, key="flaky-1")
            assert (await widget_report(client)).status_code == 202  # the limit is used up
            again = await widget_report(client, key="flaky-1")
            other_body = await widget_report(client, key="flaky-1", text="яма на дороге у школы")
            new_key = await widget_report(client, key="flaky-2")
        finally:
            app.state.settings = settings
        assert (again.status_code, again.json()["id"]) == (202, first.json()["id"])
        assert other_body.status_code == 422  # the key's own rule still holds
        assert new_key.status_code == 429


class TestPublicStatus:
    async def test_the_answer_is_not_cached(self, client):
        accepted = (await widget_report(client)).json()
        r = await client.get(accepted["status_url"].replace("http://testserver", ""))
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store", r.headers

    async def test_wrong_token_is_404(self, client):
        r = await widget_report(client)
        item_id = r.json()["id"]
        s = await client.get(f"/api/v1/widget/reports/{item_id}", params={"token": "nope"})
        assert s.status_code == 404

    @pytest.mark.parametrize("token", ["Я", "é" * 24, "\u202e" * 3])
    async def test_non_ascii_token_is_404_not_500(self, client, token):
        item_id = (await widget_report(client)).json()["id"]
        s = await client.get(f"/api/v1/widget/reports/{item_id}", params={"token": token})
        assert s.status_code == 404, s.text

    async def test_shows_replies_and_no_contact(self, client, settings, make_user):
        r = await widget_report(
            client, contact={"name": "Иван Петров", "phone": "+79130000000"}, consent=True
        )
        status_url = r.json()["status_url"].replace("http://testserver", "")
        from tests.builders import run_worker_burst

        await run_worker_burst(settings)
        staff = await make_user("responder", "s_aleysky_kashinsky")
        item_id = r.json()["id"]
        await client.post(f"/api/v1/items/{item_id}/claim", headers=staff)
        await client.post(
            f"/api/v1/items/{item_id}/reply",
            headers=staff,
            json={"text": "Фонарь заменят до пятницы.", "final": True},
        )
        pub = await client.get(status_url)
        assert pub.status_code == 200
        body = pub.json()
        assert body["status"] == "answered"
        assert body["messages"][0]["text"] == "Фонарь заменят до пятницы."
        assert "Иван" not in pub.text and "9130000000" not in pub.text
        assert body["expected_response_by"] is not None

    async def test_routed_item_helper(self, client, settings):
        item_id = await routed_item(client, settings)
        assert uuid.UUID(item_id)


class TestCitizenAnswer:
    async def test_answer_to_question_resumes_work(self, client, settings, make_user):
        from tests.builders import run_worker_burst

        r = await widget_report(client)
        status_url = r.json()["status_url"].replace("http://testserver", "")
        path, query = status_url.split("?")
        await run_worker_burst(settings)
        staff = await make_user("responder", "s_aleysky_kashinsky")
        item_id = r.json()["id"]
        early = await client.post(f"{path}/messages?{query}", json={"text": "дом 12"})
        assert early.status_code == 409  # nothing was asked yet
        claimed = await client.post(f"/api/v1/items/{item_id}/claim", headers=staff)
        assert claimed.json()["citizen_wrote_at"] is None  # the refused answer left no trace
        await client.post(
            f"/api/v1/items/{item_id}/request-info",
            headers=staff,
            json={"question": "Какой номер дома?"},
        )
        ans = await client.post(f"{path}/messages?{query}", json={"text": "дом 12"})
        assert ans.status_code == 200
        assert [m["kind"] for m in ans.json()["messages"]] == ["request_info", "citizen_reply"]
        assert ans.json()["status"] == "in_progress"
        item = (await client.get(f"/api/v1/items/{item_id}", headers=staff)).json()
        assert item["citizen_wrote_at"] == ans.json()["messages"][-1]["at"]
        wrong = await client.post(f"{path}/messages?token=nope", json={"text": "x"})
        assert wrong.status_code == 404
