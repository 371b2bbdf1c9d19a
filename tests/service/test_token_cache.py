"""The intake caller cache: bounded in time, and off when AUTH_CACHE_S=0."""

from __future__ import annotations

import time

import httpx

from schemas.users import User
from service.main import create_app
from service.users.cache import TokenCache
from tests.builders import comment


def test_cache_forgets_after_its_ttl() -> None:
    cache = TokenCache(ttl_s=0.05)
    user = User(id=1, name="svc", role="service", authority_code="op_tsur")
    cache.put("fr_token", user)
    assert cache.get("fr_token") is user
    assert cache.get("fr_other") is None
    time.sleep(0.06)
    assert cache.get("fr_token") is None


def test_zero_ttl_disables_the_cache() -> None:
    cache = TokenCache(ttl_s=0)
    cache.put("fr_token", User(id=1, name="svc", role="service", authority_code="op_tsur"))
    assert cache.get("fr_token") is None


async def _post(app, headers):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        return await c.post("/api/v1/ingest/comments", json=comment(), headers=headers)


async def test_revoked_token_is_refused_at_once_without_cache(settings, make_user, client):
    admin = await make_user("admin", "op_tsur")
    service = await make_user("service", "op_tsur", name="connector")
    app = create_app(settings.model_copy(update={"auth_cache_s": 0}))
    async with app.router.lifespan_context(app):
        headers = {"Authorization": service["Authorization"]}
        assert (await _post(app, headers)).status_code == 202
        r = await client.delete(
            f"/api/v1/admin/users/{service['id']}",
            headers={"Authorization": admin["Authorization"]},
        )
        assert r.status_code == 200, r.text
        assert (await _post(app, headers)).status_code == 401


async def test_concurrent_misses_share_one_lookup() -> None:
    import asyncio

    cache = TokenCache(ttl_s=5)
    user = User(id=1, name="svc", role="service", authority_code="op_tsur")
    calls = 0

    async def load() -> User:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return user

    found = await asyncio.gather(*(cache.lookup("fr_token", load) for _ in range(32)))
    assert found == [user] * 32 and calls == 1
    assert await cache.lookup("fr_token", load) is user and calls == 1  # cached now

    async def refused() -> User:
        raise ValueError("unknown token")

    results = await asyncio.gather(
        *(cache.lookup("fr_bad", refused) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, ValueError) for r in results)
    assert cache.get("fr_bad") is None  # an error is not cached; the next request asks again


async def test_by_default_a_revoked_token_is_refused_within_a_second(settings, make_user, client):
    """reliability.md E4: revoked → 401 within 1 s, with the cache on as shipped."""
    import asyncio

    from service.config import Settings

    admin = await make_user("admin", "op_tsur")
    service = await make_user("service", "op_tsur", name="connector-2")
    shipped = Settings.model_fields["auth_cache_s"].default
    app = create_app(settings.model_copy(update={"auth_cache_s": shipped}))
    async with app.router.lifespan_context(app):
        headers = {"Authorization": service["Authorization"]}
        assert (await _post(app, headers)).status_code == 202  # cached from here
        r = await client.delete(
            f"/api/v1/admin/users/{service['id']}",
            headers={"Authorization": admin["Authorization"]},
        )
        assert r.status_code == 200, r.text
        await asyncio.sleep(1.05)
        assert (await _post(app, headers)).status_code == 401
