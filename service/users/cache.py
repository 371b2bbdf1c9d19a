"""A short-lived cache of token → caller for the intake endpoints.

Connectors post thousands of items a second with the same service token; a database lookup per
request cost a pooled connection each and capped comment intake at ~170 requests/s. A revoked
or deactivated token keeps working for at most `ttl_s` in a process that saw it recently (only
known, active callers are cached); `AUTH_CACHE_S=0` turns the cache off.

Revocation is faster than that: deactivating a user bumps a counter in Redis (`REVOCATIONS`),
which every API process reads every `WATCH_S` and, when it moved, forgets every cached caller
(reliability.md E4: revoked → 401 within 1 s). A shorter TTL would do the same by looking
tokens up more often, and cost intake throughput (docs/benchmarks.md). Without Redis the TTL
still bounds it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog

from schemas.users import User
from service.users.service import hash_token

MAX_ENTRIES = 10_000
REVOCATIONS = "fr:auth:revocations"
WATCH_S = 0.5
ANNOUNCE_TIMEOUT_S = 0.5
log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class _Entry:
    user: User
    until: float


class TokenCache:
    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[str, _Entry] = {}
        self._loading: dict[str, asyncio.Future[User]] = {}

    def get(self, token: str) -> User | None:
        if self.ttl_s <= 0:
            return None
        entry = self._entries.get(hash_token(token))
        if entry is None or entry.until < time.monotonic():
            return None
        return entry.user

    async def lookup(self, token: str, load: Callable[[], Awaitable[User]]) -> User:
        """The cached caller, else `load()` — once per token at a time: when an entry expires
        under load, the requests that find it gone wait for one lookup instead of each taking
        a pooled connection for its own (which showed as a p99 spike every `ttl_s`)."""
        user = self.get(token)
        if user is not None:
            return user
        key = hash_token(token)
        pending = self._loading.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._load(token, key, load))
            # Read the outcome even when every waiter has gone (no "never retrieved" noise).
            pending.add_done_callback(lambda f: f.cancelled() or f.exception())
            self._loading[key] = pending
        return await asyncio.shield(pending)

    async def _load(self, token: str, key: str, load: Callable[[], Awaitable[User]]) -> User:
        try:
            user = await load()
            self.put(token, user)
            return user
        finally:
            del self._loading[key]

    def clear(self) -> None:
        self._entries.clear()

    async def watch(self, read: Callable[[], Awaitable[object]]) -> None:
        """Forget every cached caller whenever `read()` (the revocation counter) changes; runs
        until cancelled. A failed read changes nothing: the TTL still bounds a revocation."""
        seen: object = None
        while True:
            try:
                current = await read()
            except Exception:  # Redis down or slow: keep the entries, their TTL still runs
                current = seen
            if current != seen:
                self.clear()
                seen = current
            await asyncio.sleep(WATCH_S)

    def put(self, token: str, user: User) -> None:
        if self.ttl_s <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()  # bounded memory; a refill costs one lookup per token
        self._entries[hash_token(token)] = _Entry(user, time.monotonic() + self.ttl_s)


async def announce_revocation(app: Any) -> None:
    """A token was revoked: this process forgets its cached callers at once, the others when
    they next read the counter (within `WATCH_S`). Redis failing leaves them to the TTL."""
    cache = getattr(app.state, "token_cache", None)
    if cache is not None:
        cache.clear()
    queue = getattr(app.state, "queue", None)
    if queue is None:
        return
    try:
        async with asyncio.timeout(ANNOUNCE_TIMEOUT_S):
            await queue.incr(REVOCATIONS)
    except Exception as exc:
        log.warning("auth.revocation_not_announced", error=str(exc)[:200])
