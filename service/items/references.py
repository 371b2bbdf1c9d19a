"""Page ids and category codes, cached per process: intake checks them on every request.

The catalog changes a few times a year and intake runs thousands of times a second, so the
sets are re-read at most every `ttl_s` — and at once when a request names an id the cache does
not know (a page added a moment ago), at most once a second so a flood of bad ids cannot turn
every request into a query.
"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from schemas.catalog import Category, Page
from service.errors import Unprocessable

MISS_RELOAD_S = 1.0


class References:
    def __init__(self, engine: AsyncEngine, *, ttl_s: float = 30.0) -> None:
        self._engine = engine
        self._ttl_s = ttl_s
        self._pages: dict[str, frozenset[str]] = {}  # page id → origins allowed to post for it
        self._networks: dict[str, str] = {}  # page id → vk | ok | tg | site
        self._categories: frozenset[str] = frozenset()
        self.page_origins: frozenset[str] = frozenset()  # every page's origins, for preflights
        self._loaded_at = -float("inf")
        self._lock: asyncio.Lock | None = None

    async def check(
        self, *, page_id: str | None, category: str | None, network: str | None = None
    ) -> None:
        """422 for a page or category the catalog does not have, or a comment from a network
        the page is not on (comment ids are only unique within one network's page)."""
        age = time.monotonic() - self._loaded_at
        if age >= self._ttl_s:
            await self._reload()
        elif self._misses(page_id, category) and age >= MISS_RELOAD_S:
            await self._reload()
        if page_id is not None and page_id not in self._pages:
            raise Unprocessable(f"unknown page_id {page_id!r}", field="page_id")
        if category is not None and category not in self._categories:
            raise Unprocessable(f"unknown category {category!r}", field="category")
        page_network = self._networks.get(page_id or "")
        if network is not None and page_network is not None and page_network != network:
            raise Unprocessable(
                f"page {page_id!r} is a {page_network} page: a {network} comment cannot be on it",
                field="network",
            )

    async def fresh(self) -> None:
        """Re-read the catalog if the copy is older than the TTL."""
        if time.monotonic() - self._loaded_at >= self._ttl_s:
            await self._reload()

    async def origins(self, page_id: str) -> frozenset[str]:
        """The browser origins that may post reports for a known page (empty: none of its own)."""
        await self.check(page_id=page_id, category=None)
        return self._pages[page_id]

    def invalidate(self) -> None:
        """Re-read on next use (this process changed the catalog)."""
        self._loaded_at = -float("inf")

    def _misses(self, page_id: str | None, category: str | None) -> bool:
        return (page_id is not None and page_id not in self._pages) or (
            category is not None and category not in self._categories
        )

    async def _reload(self) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        started = time.monotonic()
        async with self._lock:
            if self._loaded_at >= started:  # another request reloaded while this one waited
                return
            async with self._engine.connect() as conn:
                pages = (
                    await conn.execute(select(Page.page_id, Page.allowed_origins, Page.network))  # type: ignore[call-overload]
                ).all()
                codes = (await conn.execute(select(Category.code))).scalars().all()  # type: ignore[call-overload]
            self._pages = {p: page_origins(p, listed or []) for p, listed, _ in pages}
            self._networks = {p: network for p, _, network in pages}
            self.page_origins = frozenset().union(*self._pages.values())
            self._categories = frozenset(codes)
            self._loaded_at = time.monotonic()


def page_origins(page_id: str, listed: list[str]) -> frozenset[str]:
    """A page's own allow-list: its `allowed_origins`, and for a website page (`site:HOST`) the
    site itself over https."""
    origins = {o.rstrip("/").lower() for o in listed}
    if page_id.startswith("site:"):
        origins.add(f"https://{page_id.removeprefix('site:').lower()}")
    return frozenset(origins)
