"""Small helpers to write moments the way the expected values were worked out by hand."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

BARNAUL = ZoneInfo("Asia/Barnaul")


def at(text: str, tz: str = "Asia/Barnaul") -> dt.datetime:
    """`at("2026-01-16 16:00")`: a local wall-clock moment in `tz` (Barnaul by default)."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz))


def iso(text: str) -> dt.datetime:
    """An ISO 8601 moment with its own offset, e.g. "2026-01-16T09:00:00+00:00"."""
    moment = dt.datetime.fromisoformat(text)
    assert moment.tzinfo is not None
    return moment
