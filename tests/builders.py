"""Helpers that drive the real API and the real worker."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

import httpx
from arq.constants import in_progress_key_prefix
from redis.asyncio import Redis

from service.config import Settings
from workers.main import create_worker

SETTLEMENT_PAGE = "vk:club_s_aleysky_kashinsky"
SETTLEMENT = "s_aleysky_kashinsky"
DISTRICT = "d_aleysky"
SIBLING_SETTLEMENT = "s_aleysky_kirovsky"
LAMP_TEXT = "На улице Центральной не горит фонарь уже неделю, вечером темно."


async def widget_report(
    client: httpx.AsyncClient, *, key: str | None = None, **overrides: Any
) -> httpx.Response:
    body: dict[str, Any] = {"page_id": SETTLEMENT_PAGE, "text": LAMP_TEXT, **overrides}
    headers = {"Idempotency-Key": key} if key else {}
    return await client.post("/api/v1/widget/reports", json=body, headers=headers)


def comment(**overrides: Any) -> dict[str, Any]:
    return {
        "network": "vk",
        "page_id": SETTLEMENT_PAGE,
        "post_id": "100",
        "comment_id": uuid.uuid4().hex[:10],
        "author": {"id": "42", "name": "Мария"},
        "text": LAMP_TEXT,
        "created_at": "2026-11-20T10:00:00+07:00",
        **overrides,
    }


async def run_worker_burst(settings: Settings, *, cron: bool = True, limit_s: float = 20) -> None:
    """Run the real arq worker until no job is ready or running (deferred ones stay queued).

    arq's own burst mode waits for deferred jobs too (SLA checks are deferred to deadlines).
    """
    extra: dict[str, Any] = {} if cron else {"cron_jobs": []}
    worker = create_worker(settings, handle_signals=False, poll_delay=0.02, **extra)
    task = asyncio.create_task(worker.main())
    loop = asyncio.get_running_loop()
    deadline, idle = loop.time() + limit_s, 0
    try:
        while idle < 4:
            if loop.time() > deadline:
                raise TimeoutError("the worker did not become idle")
            await asyncio.sleep(0.03)
            if task.done():
                task.result()
            if worker._pool is None:
                continue
            ready = await worker.pool.zcount(worker.queue_name, "-inf", time.time() * 1000)
            running = sum(not t.done() for t in worker.tasks.values())
            idle = idle + 1 if ready == 0 and running == 0 else 0
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await worker.close()
        await _release_cancelled_jobs(settings)


async def _release_cancelled_jobs(settings: Settings) -> None:
    """A job the worker took in its last instant (a cron's sweep) was cancelled with it, and
    arq's lock on it would hold the next burst for 40 s: the burst's worker is gone, so its
    locks go too (the job itself is still queued and runs next time)."""
    redis = Redis.from_url(settings.redis_url)
    try:
        keys = await redis.keys(in_progress_key_prefix + "*")
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


async def routed_item(client: httpx.AsyncClient, settings: Settings, **overrides: Any) -> str:
    """A widget report on the settlement page, routed by the worker; returns its id."""
    r = await widget_report(client, **overrides)
    assert r.status_code == 202, r.text
    await run_worker_burst(settings)
    return str(r.json()["id"])


async def run_workers_for(settings: Settings, seconds: float, *, count: int = 1) -> None:
    """Run `count` real workers side by side (cron included) for a while, then stop them."""
    workers = [create_worker(settings, handle_signals=False, poll_delay=0.05) for _ in range(count)]
    tasks = [asyncio.create_task(w.main()) for w in workers]
    try:
        await asyncio.sleep(seconds)
        for t in tasks:
            if t.done():
                t.result()
    finally:
        for t in tasks:
            t.cancel()
        for t, w in zip(tasks, workers, strict=True):
            with contextlib.suppress(asyncio.CancelledError):
                await t
            await w.close()
        await _release_cancelled_jobs(settings)


async def admin_headers(make_user: Any) -> dict[str, str]:
    return dict(await make_user("admin", "op_tsur"))


async def one_minute_policy(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    *,
    seconds: float = 4,
    authority: str = SETTLEMENT,
    **extra: Any,
) -> dict[str, Any]:
    body = {
        "name": f"fast-{uuid.uuid4().hex[:6]}",
        "match": {"authority_code": authority},
        "calendar": "24x7",
        "first_response": {"duration": seconds / 60, "unit": "minutes"},
        "resolution": {"duration": 30, "unit": "minutes"},
        "warn_at": 0.5,
        **extra,
    }
    r = await client.post("/api/v1/admin/sla-policies", json=body, headers=admin)
    assert r.status_code == 201, r.text
    return dict(r.json())
