"""A short-lived cache of token → caller for the intake endpoints.

Connectors post thousands of items a second with the same service token; a database lookup per
request cost a pooled connection each and capped comment intake at ~170 requests/s. A revoked
or deactivated token keeps working for at most `ttl_s` in a process that saw it recently (only
known, active callers are cached); `AUTH_CACHE_S=0` turns the cache off.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from schemas.users import User
from service.users.service import hash_token

MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class _Entry:
    user: User
    until: float


class TokenCache:
    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[str, _Entry] = {}

    def get(self, token: str) -> User | None:
        if self.ttl_s <= 0:
            return None
        entry = self._entries.get(hash_token(token))
        if entry is None or entry.until < time.monotonic():
            return None
        return entry.user

    def put(self, token: str, user: User) -> None:
        if self.ttl_s <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()  # bounded memory; a refill costs one lookup per token
        self._entries[hash_token(token)] = _Entry(user, time.monotonic() + self.ttl_s)
