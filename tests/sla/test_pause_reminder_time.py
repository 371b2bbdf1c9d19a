"""The reminder of an unanswered question falls in the limit's own time base, as warnings do."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any, cast

from service.sla import ProductionCalendar
from service.sla.calendar import altai_spec
from service.sla.engine import pause_reminder
from service.sla.registry import CalendarRegistry

BARNAUL = dt.timezone(dt.timedelta(hours=7))


def asked(at: dt.datetime, duration: float, unit: str) -> Any:
    clock = {"paused_at": at.astimezone(dt.UTC).isoformat(), "stopped_at": None}
    sla = {
        "calendar_code": "altai",
        "pause_limit": {"duration": duration, "unit": unit},
        "remind_at": 0.67,
        "clocks": {"resolution": clock},
    }
    return cast(Any, SimpleNamespace(sla=sla))


def registry(production: ProductionCalendar) -> CalendarRegistry:
    reg = CalendarRegistry(production)
    reg.register(altai_spec())
    return reg


def test_a_limit_in_working_days_reminds_in_open_hours(production):
    # Asked Monday 10:00; one working day: the pause ends Tuesday 18:00. Two thirds of the
    # 24 elapsed hours would be Tuesday 07:26, before opening; two thirds of the 15 open hours
    # (7 on Monday after lunch is taken out, 8 on Tuesday) is Tuesday 12:03.
    item = asked(dt.datetime(2026, 12, 7, 10, 0, tzinfo=BARNAUL), 1, "working_days")
    at = pause_reminder(item, registry(production))
    assert at == dt.datetime(2026, 12, 8, 12, 3, tzinfo=BARNAUL)


def test_a_limit_in_hours_counts_elapsed_time(production):
    item = asked(dt.datetime(2026, 12, 7, 22, 0, tzinfo=BARNAUL), 30, "hours")
    at = pause_reminder(item, registry(production))
    assert at == dt.datetime(2026, 12, 7, 22, 0, tzinfo=BARNAUL) + dt.timedelta(hours=30 * 0.67)
