"""Clock life-cycle helpers: warnings, shares, pauses and redirects (SPEC §5).

Every helper takes the clock's `unit` so it measures time in the same base as the deadline:
plain elapsed time for `minutes`/`hours`, the calendar's business time for the other units.
"""

from __future__ import annotations

import datetime as dt
import math
from enum import StrEnum

from service.sla.calendar import WorkCalendar
from service.sla.deadlines import (
    DurationUnit,
    add_clock_time,
    clock_elapsed,
    compute_deadline,
)


class RedirectMode(StrEnum):
    CONTINUE = "continue"
    RESTART = "restart"
    PAUSE = "pause"


def remaining_clock_time(
    now: dt.datetime,
    deadline: dt.datetime,
    calendar: WorkCalendar,
    *,
    unit: DurationUnit | str,
) -> float:
    """Clock seconds left until the deadline; negative once it has passed."""
    return clock_elapsed(now, deadline, calendar, unit=unit)


def used_share(
    start: dt.datetime,
    deadline: dt.datetime,
    now: dt.datetime,
    calendar: WorkCalendar,
    *,
    unit: DurationUnit | str,
    paused_seconds: float = 0.0,
) -> float:
    """Share of the allowed clock time used by `now` (1.0 = at the deadline).

    `paused_seconds` is the clock time spent paused between `start` and `now`; the deadline is
    assumed to have been shifted by it already (see `shift_deadline`).
    """
    allowed = clock_elapsed(start, deadline, calendar, unit=unit) - paused_seconds
    if allowed <= 0:
        return 1.0 if now >= deadline else 0.0
    used = clock_elapsed(start, now, calendar, unit=unit) - paused_seconds
    return max(used, 0.0) / allowed


def warn_at(
    start: dt.datetime,
    deadline: dt.datetime,
    share: float,
    calendar: WorkCalendar,
    *,
    unit: DurationUnit | str,
    paused_seconds: float = 0.0,
) -> dt.datetime:
    """The earliest moment at which `share` of the allowed clock time has elapsed.

    With pauses, pass their total clock time: the deadline already includes it, and pauses are
    taken to lie before the warning (a warning already sent is not repeated anyway).
    """
    if not math.isfinite(share) or share < 0:
        raise ValueError(f"share must be a finite number >= 0, not {share!r}")
    total = clock_elapsed(start, deadline, calendar, unit=unit)
    paused = min(max(paused_seconds, 0.0), max(total, 0.0))
    allowed = max(total - paused, 0.0)
    return add_clock_time(start, paused + share * allowed, calendar, unit=unit)


def shift_deadline(
    deadline: dt.datetime,
    *,
    paused_from: dt.datetime,
    paused_to: dt.datetime,
    calendar: WorkCalendar,
    unit: DurationUnit | str,
) -> dt.datetime:
    """The deadline after a pause, moved by the clock time that elapsed while paused.

    A pause that begins at or after the deadline leaves it alone: the breach has happened. The
    caller bounds the pause (e.g. `paused_to = min(now, compute_deadline(paused_from, ...))`).
    """
    if paused_from >= deadline or paused_to <= paused_from:
        return deadline.astimezone(calendar.tz)
    paused = clock_elapsed(paused_from, paused_to, calendar, unit=unit)
    return add_clock_time(deadline, paused, calendar, unit=unit)


def redirect_deadline(
    mode: RedirectMode | str,
    *,
    deadline: dt.datetime,
    redirected_at: dt.datetime,
    duration: float,
    unit: DurationUnit | str,
    calendar: WorkCalendar,
    new_calendar: WorkCalendar | None = None,
    resumed_at: dt.datetime | None = None,
) -> dt.datetime | None:
    """The clock's deadline after a redirect, per the policy's `on_redirect`.

    `calendar` is the old authority's, `new_calendar` the new one's (default: the same).
    `pause` returns None while the clock is stopped (`resumed_at` None): keep the remaining
    time from `remaining_clock_time(redirected_at, deadline, ...)` and call again on resume.
    """
    target = new_calendar or calendar
    policy = RedirectMode(mode)
    if policy is RedirectMode.RESTART:
        return compute_deadline(redirected_at, duration, unit, target)
    if deadline <= redirected_at:
        return deadline.astimezone(target.tz)
    if policy is RedirectMode.PAUSE and resumed_at is None:
        return None
    remaining = remaining_clock_time(redirected_at, deadline, calendar, unit=unit)
    if policy is RedirectMode.CONTINUE:
        if target is calendar:
            return deadline.astimezone(target.tz)
        return add_clock_time(redirected_at, remaining, target, unit=unit)
    restart_from = max(resumed_at or redirected_at, redirected_at)
    return add_clock_time(restart_from, remaining, target, unit=unit)
