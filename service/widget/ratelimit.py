"""Per-client fixed-window limits in Redis, shared by every API process."""

from __future__ import annotations

import asyncio
import time

import structlog
from fastapi import Request

from service.clients.redis import QueueClient
from service.errors import TooManyRequests
from service.queue import INTAKE_REDIS_TIMEOUT_S

log = structlog.get_logger()


def client_key(request: Request) -> str:
    # The peer address as uvicorn resolved it; X-Forwarded-For is trusted only through
    # uvicorn's --forwarded-allow-ips for a known proxy, never read raw here.
    return request.client.host if request.client else "unknown"


async def enforce(
    queue: QueueClient, *, scope: str, client: str, limit: int, window_s: int
) -> None:
    if limit <= 0:
        return
    window = int(time.time()) // window_s
    key = f"ratelimit:{scope}:{client}:{window}"
    try:
        async with asyncio.timeout(INTAKE_REDIS_TIMEOUT_S):
            count = await queue.count(key, window_s)
    except Exception as exc:  # a TimeoutError too: a paused Redis
        # Fail open: intake must keep working on the database alone when Redis is down.
        log.warning("ratelimit.unavailable", error=repr(exc)[:200])
        return
    if count > limit:
        retry = window_s - int(time.time()) % window_s
        raise TooManyRequests(
            f"too many reports from this client; retry in {retry} s",
            headers={"Retry-After": str(retry)},
        )
