"""Labelled examples recorded by people (operator triage, responder redirects) for training."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from sqlmodel import col, select

from schemas.routing import LabelledExample
from service.config import Settings, get_settings
from service.db import one_off_session

CATEGORY_LABELS = ("category", "category_code", "topic")


class DbExamplesUnavailable(RuntimeError):
    """The database could not be read."""


def _row(ex: LabelledExample, label_column: str) -> tuple[str, str, Mapping[str, str]] | None:
    label = ex.category if label_column in CATEGORY_LABELS else ex.authority_code
    if not label:
        return None
    context = {
        "channel": ex.channel,
        "page_id": ex.page_id or "",
        "place": str(ex.context.get("place") or ""),
        "category": ex.category or "",
    }
    return ex.text, label, context


async def load_async(
    label_column: str, settings: Settings | None = None
) -> list[tuple[str, str, Mapping[str, str]]]:
    async with one_off_session(settings or get_settings(), "classifier") as session:
        stmt = select(LabelledExample).order_by(col(LabelledExample.id))
        rows = (await session.exec(stmt)).all()
    # The latest decision on an item wins: a redirect after triage corrects the triage.
    latest = {ex.item_id: ex for ex in rows}
    return [r for ex in latest.values() if (r := _row(ex, label_column)) is not None]


def load_db_examples(label_column: str = "authority") -> list[tuple[str, str, Mapping[str, str]]]:
    """(text, label, context) rows; the label is the category for a category-like column name,
    else the authority people chose. Context keys: channel, page_id, place, category."""
    try:
        return asyncio.run(load_async(label_column))
    except OSError as exc:
        raise DbExamplesUnavailable(f"cannot read labelled examples: {exc}") from exc
