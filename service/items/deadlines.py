"""Which deadline is next for an item; the queue orders by it."""

from __future__ import annotations

from datetime import datetime

from schemas.base import FAR_FUTURE
from schemas.items import Item, Status

CLOSED = {Status.answered, Status.closed, Status.rejected}


def pending_deadlines(item: Item) -> list[datetime]:
    due: list[datetime] = []
    if item.first_responded_at is None and item.first_response_due_at is not None:
        if item.status not in CLOSED:
            due.append(item.first_response_due_at)
    paused = item.status == Status.awaiting_citizen
    if item.resolution_due_at is not None and item.status not in CLOSED and not paused:
        due.append(item.resolution_due_at)
    return due


def refresh_next_due(item: Item) -> None:
    due = pending_deadlines(item)
    item.next_due_at = min(due) if due else FAR_FUTURE
