"""Deadline arithmetic of SPEC §5 and the clock helpers the SLA engine needs.

Business-time functions walk whole business intervals and days, never minutes, so 30 working
days cost about 45 cached day look-ups. See the module docstring of `service.sla.calendar` for
the decisions behind the edge cases.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from enum import StrEnum

from service.sla.calendar import (
    MAX_CLOSED_DAYS,
    UTC,
    NoBusinessTimeError,
    Window,
    WorkCalendar,
)

_ONE_DAY = dt.timedelta(days=1)
_ZERO = dt.timedelta(0)


class DurationUnit(StrEnum):
    MINUTES = "minutes"
    HOURS = "hours"
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"


PLAIN_UNITS = frozenset({DurationUnit.MINUTES, DurationUnit.HOURS})
DAY_UNITS = frozenset({DurationUnit.WORKING_DAYS, DurationUnit.CALENDAR_DAYS})
# About ten years in each unit (working time at 40 hours a week): a longer clock is a typo, and
# laying one out on a sparse calendar would walk millions of days.
MAX_DURATION = {
    DurationUnit.MINUTES: 10 * 365 * 24 * 60,
    DurationUnit.HOURS: 10 * 365 * 24,
    DurationUnit.WORKING_HOURS: 10 * 52 * 40,
    DurationUnit.WORKING_DAYS: 10 * 250,
    DurationUnit.CALENDAR_DAYS: 10 * 365,
}
# No deadline is laid out past the stored far-future sentinel's year.
LAST_DAY = dt.date(2998, 12, 31)


def parse_unit(unit: DurationUnit | str) -> DurationUnit:
    try:
        return DurationUnit(unit)
    except ValueError:
        allowed = ", ".join(member.value for member in DurationUnit)
        raise ValueError(f"unknown unit {unit!r}; expected one of {allowed}") from None


def uses_business_time(unit: DurationUnit | str) -> bool:
    """Whether a clock in this unit measures the calendar's business time (else plain time)."""
    return parse_unit(unit) not in PLAIN_UNITS


def compute_deadline(
    start: dt.datetime,
    duration: float,
    unit: DurationUnit | str,
    calendar: WorkCalendar,
) -> dt.datetime:
    """The deadline of a clock started at `start` (aware), in the calendar's time zone."""
    _require_aware(start, "start")
    kind = parse_unit(unit)
    _check_duration(duration, kind)
    if kind is DurationUnit.MINUTES:
        return (start.astimezone(UTC) + dt.timedelta(minutes=duration)).astimezone(calendar.tz)
    if kind is DurationUnit.HOURS:
        return (start.astimezone(UTC) + dt.timedelta(hours=duration)).astimezone(calendar.tz)
    if kind is DurationUnit.WORKING_HOURS:
        return add_business_time(calendar, start, dt.timedelta(hours=duration))
    if kind is DurationUnit.WORKING_DAYS:
        return _nth_working_day_close(calendar, calendar.local_date(start), int(duration))
    first = calendar.local_date(start) + dt.timedelta(days=int(duration))
    return _next_working_day_close(calendar, first)


def elapsed_business_seconds(calendar: WorkCalendar, start: dt.datetime, end: dt.datetime) -> float:
    """Business time between two aware moments; negative when `end` is before `start`."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    if end < start:
        return -elapsed_business_seconds(calendar, end, start)
    total = _ZERO
    for window_start, window_end in _windows_between(calendar, start, end):
        total += min(window_end, end) - max(window_start, start)
    return total.total_seconds()


def add_business_time(
    calendar: WorkCalendar, start: dt.datetime, amount: dt.timedelta | float
) -> dt.datetime:
    """The earliest moment at which `amount` (seconds or timedelta, >= 0) of business time has
    elapsed since `start`; a start outside business hours counts from the next business moment."""
    _require_aware(start, "start")
    remaining = amount if isinstance(amount, dt.timedelta) else dt.timedelta(seconds=amount)
    if remaining < _ZERO:
        raise ValueError("business time to add must not be negative")
    if remaining == _ZERO:
        return start.astimezone(calendar.tz)
    for window_start, window_end in _windows_from(calendar, start):
        span = window_end - window_start
        if remaining <= span:
            return (window_start + remaining).astimezone(calendar.tz)
        remaining -= span
    raise AssertionError("unreachable: _windows_from never ends")  # pragma: no cover


def next_business_moment(calendar: WorkCalendar, moment: dt.datetime) -> dt.datetime:
    """`moment` itself when it is business time, else the next opening."""
    _require_aware(moment, "moment")
    window_start, _ = next(_windows_from(calendar, moment))
    return window_start.astimezone(calendar.tz)


def clock_elapsed(
    start: dt.datetime,
    end: dt.datetime,
    calendar: WorkCalendar,
    *,
    unit: DurationUnit | str,
) -> float:
    """Seconds of clock time between two moments, in the unit's time base (signed)."""
    if uses_business_time(unit):
        return elapsed_business_seconds(calendar, start, end)
    _require_aware(start, "start")
    _require_aware(end, "end")
    return (end - start).total_seconds()


def add_clock_time(
    start: dt.datetime,
    seconds: float,
    calendar: WorkCalendar,
    *,
    unit: DurationUnit | str,
) -> dt.datetime:
    """The moment `seconds` (>= 0) of clock time after `start`, in the unit's time base."""
    if uses_business_time(unit):
        return add_business_time(calendar, start, seconds)
    _require_aware(start, "start")
    if seconds < 0:
        raise ValueError("clock time to add must not be negative")
    return (start.astimezone(UTC) + dt.timedelta(seconds=seconds)).astimezone(calendar.tz)


def _windows_from(calendar: WorkCalendar, moment: dt.datetime) -> Iterator[Window]:
    """Business windows from `moment` on, the first one clipped; endless unless the calendar is
    closed for MAX_CLOSED_DAYS days in a row."""
    instant = moment.astimezone(UTC)
    day = calendar.local_date(moment)
    closed_run = 0
    while closed_run <= MAX_CLOSED_DAYS:
        _check_horizon(calendar, day)
        found = False
        for window_start, window_end in calendar.windows(day):
            if window_end > instant:
                found = True
                yield max(window_start, instant), window_end
        closed_run = 0 if found else closed_run + 1
        day += _ONE_DAY
    raise NoBusinessTimeError(
        f"calendar {calendar.code!r} has no business time for {MAX_CLOSED_DAYS} days after {moment}"
    )


def _windows_between(
    calendar: WorkCalendar, start: dt.datetime, end: dt.datetime
) -> Iterator[Window]:
    """Business windows overlapping [start, end); bounded, so a closed calendar gives none."""
    first, last = start.astimezone(UTC), end.astimezone(UTC)
    day, stop = calendar.local_date(start), calendar.local_date(end)
    while day <= stop:
        for window_start, window_end in calendar.windows(day):
            if window_end > first and window_start < last:
                yield window_start, window_end
        day += _ONE_DAY


def _nth_working_day_close(calendar: WorkCalendar, start_day: dt.date, count: int) -> dt.datetime:
    day, found, closed_run = start_day, 0, 0
    while closed_run <= MAX_CLOSED_DAYS:
        day += _ONE_DAY
        _check_horizon(calendar, day)
        close = calendar.end_of_business(day)
        if close is None:
            closed_run += 1
            continue
        found, closed_run = found + 1, 0
        if found == count:
            return close
    raise NoBusinessTimeError(f"calendar {calendar.code!r} has no working day after {day}")


def _next_working_day_close(calendar: WorkCalendar, first: dt.date) -> dt.datetime:
    day = first
    for _ in range(MAX_CLOSED_DAYS + 1):
        _check_horizon(calendar, day)
        close = calendar.end_of_business(day)
        if close is not None:
            return close
        day += _ONE_DAY
    raise NoBusinessTimeError(f"calendar {calendar.code!r} has no working day after {first}")


def _check_horizon(calendar: WorkCalendar, day: dt.date) -> None:
    if day > LAST_DAY:
        raise NoBusinessTimeError(
            f"calendar {calendar.code!r} has too little business time: the deadline would fall "
            f"after {LAST_DAY.year}"
        )


def _check_duration(duration: float, unit: DurationUnit) -> None:
    if isinstance(duration, bool) or not isinstance(duration, int | float):
        raise TypeError(f"duration must be a number, not {duration!r}")
    if not math.isfinite(duration) or duration < 0:
        raise ValueError(f"duration must be a finite number >= 0, not {duration!r}")
    if unit in DAY_UNITS and (duration < 1 or not float(duration).is_integer()):
        raise ValueError(f"{unit.value} needs a whole number of days >= 1, not {duration!r}")
    if duration > MAX_DURATION[unit]:
        raise ValueError(f"{unit.value}: at most {MAX_DURATION[unit]} (about ten years)")


def _require_aware(moment: dt.datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment.isoformat()}")
