"""Intake needs only the database: a Redis that is up but answers nothing (paused, stuck,
overloaded) must not hold a citizen's request. The rate limit fails open, the routing job's
enqueue gives up, and the sweep routes the items once Redis answers again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis
from sqlmodel import select

from schemas.items import Item
from service.config import Settings
from service.main import create_app
from service.runner import free_port, start_embedded_redis
from tests.builders import run_worker_burst, widget_report

PAUSE_S = 8  # room for 16 requests that each wait 0.5 s, on a loaded machine


@pytest.fixture
async def own_redis(settings: Settings, tmp_path) -> AsyncIterator[Settings]:
    """A Redis of this test's own: pausing the session's would stall every other test."""
    port = free_port()
    proc = start_embedded_redis(tmp_path / "redis", port)
    try:
        yield settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_intake_answers_while_redis_is_paused(own_redis, sessionmaker):
    s = own_redis.model_copy(update={"widget_rate_limit_per_ip": 1000})
    app = create_app(s)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await widget_report(client)).status_code == 202  # the pool is made
            redis = Redis.from_url(s.redis_url)
            await redis.execute_command("CLIENT", "PAUSE", str(PAUSE_S * 1000), "ALL")
            started = time.monotonic()

            async def timed() -> tuple[int, float, str]:
                t = time.monotonic()
                r = await widget_report(client)
                return r.status_code, time.monotonic() - t, r.json().get("id", "")

            burst = await asyncio.gather(*(timed() for _ in range(10)))
            one_by_one = [await timed() for _ in range(4)]
            assert time.monotonic() - started < PAUSE_S, "the test outlived the pause"
            await redis.aclose()
    answers = burst + one_by_one
    assert {status for status, _, _ in answers} == {202}
    assert max(seconds for _, seconds, _ in answers) < 1.5, answers
    # Redis answers again: the sweep enqueues what it missed, and every report is routed.
    await asyncio.sleep(PAUSE_S - (time.monotonic() - started) + 0.2)
    await run_worker_burst(s)
    async with sessionmaker() as session:
        ids = {i for _, _, i in answers}
        rows = (await session.exec(select(Item.id, Item.status))).all()
    statuses = {str(i): st for i, st in rows}
    assert ids <= set(statuses) and {statuses[i] for i in ids} == {"routed"}


async def test_an_action_answers_while_redis_is_paused(own_redis, sessionmaker, make_user):
    """The jobs a committed action sends (its SLA check, its reply's delivery) wait for Redis
    a bounded time; the SLA and outbox sweeps send them later."""
    s = own_redis
    app = create_app(s)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            item_id = (await widget_report(client)).json()["id"]
            await run_worker_burst(s)
            staff = await make_user("responder", "s_aleysky_kashinsky")
            redis = Redis.from_url(s.redis_url)
            await redis.execute_command("CLIENT", "PAUSE", str(PAUSE_S * 1000), "ALL")
            started = time.monotonic()
            r = await client.post(f"/api/v1/items/{item_id}/claim", headers=staff)
            took = time.monotonic() - started
            await redis.aclose()
    assert r.status_code == 200 and r.json()["status"] == "in_progress"
    assert took < 3, took
