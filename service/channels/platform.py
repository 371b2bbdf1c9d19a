"""Polling the feedback platform («Решаем вместе») adapter: cursor pages of messages.

The platform publishes no API for regional systems (docs/channels.md §3), so this polls an
adapter with a small contract: `GET URL?cursor=C&limit=N` (Bearer token) answers
`{"items": [platform message, ...], "next_cursor": "..." | null}`, each message in the shape
of `POST /api/v1/ingest/platform-messages`. Items and the new cursor commit together, so a crash
re-reads a page and the unique `external_id` keeps it from creating duplicates.
"""

from __future__ import annotations

from typing import Any

import httpx
import structlog
from pydantic import ValidationError

from schemas.base import utcnow
from schemas.channels import PollCursor
from schemas.ingest import PlatformMessageIn
from service.db import UnitOfWork
from service.errors import AppError
from service.ingest.service import store_platform_message

log = structlog.get_logger()
SOURCE = "platform"
PAGE = 100


class PollError(Exception):
    """The adapter failed (network, 5xx, garbage): try again at the next interval."""


async def fetch_page(
    client: httpx.AsyncClient, url: str, token: str, cursor: str | None
) -> tuple[list[Any], str | None]:
    params = {"limit": str(PAGE), **({"cursor": cursor} if cursor else {})}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        r = await client.get(url, params=params, headers=headers)
        r.raise_for_status()
        body = r.json()
        return list(body["items"]), body.get("next_cursor")
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        raise PollError(f"{type(exc).__name__}: {str(exc)[:200]}") from exc


async def _store(uow: UnitOfWork, raw: Any) -> str:
    try:
        message = PlatformMessageIn.model_validate(raw)
    except ValidationError as exc:
        log.warning("platform.invalid_message", error=str(exc.errors()[0].get("msg")))
        return "invalid"
    try:
        result = await store_platform_message(uow, message)
    except AppError as exc:  # e.g. a category code we do not know: keep it as text only
        source_category = message.category
        message = message.model_copy(update={"category": None})
        log.info("platform.category_dropped", category=source_category, error=exc.detail)
        result = await store_platform_message(uow, message)
    return "duplicate" if result.duplicate else "stored"


async def read_cursor(uow: UnitOfWork) -> str | None:
    """Where the last page ended. Read before the page is fetched, outside the transaction
    that stores it: no transaction (on SQLite, the database's write lock) waits on the adapter."""
    state = await uow.session.get(PollCursor, SOURCE)
    return state.cursor if state is not None else None


async def store_page(
    uow: UnitOfWork, seen: str | None, items: list[Any], next_cursor: str | None
) -> dict[str, int] | None:
    """Store a page fetched after cursor `seen`, and the next cursor, together. None, storing
    nothing, when another worker moved the cursor meanwhile (it stored this page already)."""
    state = await uow.session.get(PollCursor, SOURCE, with_for_update=True) or PollCursor(
        source=SOURCE
    )
    if state.cursor != seen:
        return None
    counts: dict[str, int] = {"stored": 0, "duplicate": 0, "invalid": 0}
    for raw in items:
        counts[await _store(uow, raw)] += 1
    if next_cursor:
        state.cursor = next_cursor
    state.updated_at = utcnow()
    uow.session.add(state)
    return counts
