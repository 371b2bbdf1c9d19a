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
        self._pages: frozenset[str] = frozenset()
        self._categories: frozenset[str] = frozenset()
        self._loaded_at = -float("inf")
        self._lock: asyncio.Lock | None = None

    async def check(self, *, page_id: str | None, category: str | None) -> None:
        """422 for a page or category the catalog does not have."""
        age = time.monotonic() - self._loaded_at
        if age >= self._ttl_s:
            await self._reload()
        elif self._misses(page_id, category) and age >= MISS_RELOAD_S:
            await self._reload()
        if page_id is not None and page_id not in self._pages:
            raise Unprocessable(f"unknown page_id {page_id!r}", field="page_id")
        if category is not None and category not in self._categories:
            raise Unprocessable(f"unknown category {category!r}", field="category")

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
                pages = (await conn.execute(select(Page.page_id))).scalars().all()  # type: ignore[call-overload]
                codes = (await conn.execute(select(Category.code))).scalars().all()  # type: ignore[call-overload]
            self._pages, self._categories = frozenset(pages), frozenset(codes)
            self._loaded_at = time.monotonic()
