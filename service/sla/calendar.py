"""Work calendars: business hours in a time zone on top of the Russian production calendar.

Decisions where SPEC §5 is silent (copy into the project docs):

1. Time. Business hours are local wall-clock intervals in the calendar's time zone and a "day" is
   a local date there; inputs may carry any offset, results come back in the calendar's zone, and
   all arithmetic runs in UTC (aware-datetime subtraction in one zone ignores DST, UTC does not).
2. Boundaries. A working-hours deadline is the earliest moment at which the required business
   time has elapsed: 4 working hours from 09:00 end at 13:00 (not 14:00 after lunch), from 14:00
   at 18:00 the same day (not 09:00 the next morning).
3. Durations. `minutes`, `hours`, `working_hours` may be fractional, and 0 gives the start
   itself. `working_days` and `calendar_days` need a whole number of at least 1; negative, NaN
   and infinite durations are rejected with ValueError.
4. Day units. `working_days` never counts the start day, even for a start before opening on a
   working day. `calendar_days` counts from the local date of the start.
5. Day resolution. Override > production calendar > weekly hours. `holiday` and
   `transfer_day_off` close the day; `working_weekend` opens it with that weekday's hours, or
   the standard day (the first weekday that has hours) when the week gives none; `short_day`
   cuts `short_day_cut_minutes` (60) off the end of the day, across the lunch break if the last
   interval is shorter than that.
6. The production calendar is federal: it applies to every calendar with
   `production_calendar="ru"`, in any time zone (a Moscow calendar has the same days off).
7. Years. calendar.csv is authoritative for the years it has rows for (2025-2027). Other years
   come from the `holidays` package (RU): holidays, decree transfers and working weekends it
   knows, plus the automatic ст. 112 moves for years it has no decree for; short days are
   derived with the rule in data/altai/README.md, so derived years match the CSV (tested).
   Limits: years without a decree (2028+ with holidays 0.108) miss the New Year weekend
   transfers and any decree swaps; labels before 2013 are approximate; derived short days
   are unconfirmed except 2025-11-01. To verify: the 2025 norm is quoted as 1972 hours
   (247 x 8 - 4), while the CSV has 6 short days, so 2025-05-07 and 2025-12-30, which come
   before a transferred day off rather than a holiday, may be full days. Administrators fix
   any of this with overrides.
8. Overrides. One per date. `working` is a full standard day (it also cancels a derived short
   day), `non_working` closes the day, `short` shortens the standard day, `custom` sets
   exact intervals.
9. 24x7. The `24x7` calendar has every day open 00:00-24:00, no production calendar, and the
   zone Asia/Barnaul so its output reads in regional time. Its end of business is midnight:
   1 working day from Monday 10:00 is Wednesday 00:00.
10. Clock time base. `minutes` and `hours` clocks measure plain elapsed time; `working_hours`,
    `working_days` and `calendar_days` clocks measure the calendar's business time, so shares,
    warnings and pauses count open hours only and warnings fall inside open hours.
11. Pauses. Resuming shifts the deadline by the clock time that elapsed while paused. A pause
    that starts at or after the deadline does not move it: a breach stands. The pause bound
    is the caller's: the expiry moment is `compute_deadline(paused_at, limit, unit, calendar)`.
12. Redirects. `continue` keeps the deadline (with another calendar, the remaining clock time
    is laid out again in the new one); `restart` computes a fresh deadline from the redirect
    moment; `pause` stops the clock until the new authority takes the item, then shifts as in
    (11). A breached clock stays breached unless restarted.
13. Warnings. `warn_at` is the earliest moment when `share` of the allowed clock time has
    elapsed, with earlier paused time added; a share above 1 is allowed (late escalations).
14. Safety. A calendar without any business time for 400 consecutive days raises
    `NoBusinessTimeError` instead of looping.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from service.sla.production import NO_KINDS, DayKind, Kinds, ProductionCalendar
from service.sla.spec import (
    ALL_DAY,
    DEFAULT_TZ,
    MINUTES_PER_DAY,
    CalendarSpec,
    DateOverride,
    DayHours,
    Interval,
    OverrideKind,
)

ALTAI_CODE = "altai"
TWENTY_FOUR_SEVEN_CODE = "24x7"
MAX_CLOSED_DAYS = 400
UTC = dt.UTC
_ONE_DAY = dt.timedelta(days=1)
_CLOSED = frozenset({DayKind.HOLIDAY, DayKind.TRANSFER_DAY_OFF})
_CACHE_LIMIT = 20_000

Window = tuple[dt.datetime, dt.datetime]


class NoBusinessTimeError(ValueError):
    """The calendar has no business time where the computation needs some."""


@dataclass(frozen=True)
class BusinessDay:
    """One local date as the calendar sees it, with the reasons (kinds, override)."""

    date: dt.date
    intervals: DayHours
    kinds: Kinds
    override: OverrideKind | None

    @property
    def working(self) -> bool:
        return bool(self.intervals)

    @property
    def short(self) -> bool:
        if self.override is not None:
            return self.override is OverrideKind.SHORT
        return DayKind.SHORT_DAY in self.kinds and self.working


class WorkCalendar:
    """Business hours of one calendar; immutable, so one instance can be shared and cached."""

    def __init__(self, spec: CalendarSpec, production: ProductionCalendar | None = None) -> None:
        self.spec = spec
        self.tz = ZoneInfo(spec.tz)
        self._production: ProductionCalendar | None = None
        if spec.production_calendar is not None:
            # Without the CSV the package alone still gives 2025-2027 identical to calendar.csv.
            self._production = production if production is not None else ProductionCalendar()
        self._overrides = {override.date: override for override in spec.overrides}
        self._days: dict[dt.date, BusinessDay] = {}
        self._windows: dict[dt.date, tuple[Window, ...]] = {}

    @property
    def code(self) -> str:
        return self.spec.code

    def __repr__(self) -> str:
        return f"WorkCalendar({self.code!r}, tz={self.spec.tz!r})"

    def day(self, day: dt.date) -> BusinessDay:
        cached = self._days.get(day)
        if cached is None:
            if len(self._days) > _CACHE_LIMIT:
                self._days.clear()
            cached = self._days[day] = self._resolve(day)
        return cached

    def days(self, start: dt.date, stop: dt.date) -> list[BusinessDay]:
        """Days from `start` up to but excluding `stop`, e.g. for an admin month view."""
        count = (stop - start).days
        return [self.day(start + dt.timedelta(days=offset)) for offset in range(count)]

    def is_working_day(self, day: dt.date) -> bool:
        return self.day(day).working

    def windows(self, day: dt.date) -> tuple[Window, ...]:
        """The day's business intervals as UTC (start, end) pairs."""
        cached = self._windows.get(day)
        if cached is None:
            if len(self._windows) > _CACHE_LIMIT:
                self._windows.clear()
            cached = self._windows[day] = self._utc_windows(day)
        return cached

    def end_of_business(self, day: dt.date) -> dt.datetime | None:
        windows = self.windows(day)
        return windows[-1][1].astimezone(self.tz) if windows else None

    def localize(self, moment: dt.datetime) -> dt.datetime:
        """Aware moments are converted; naive ones are read as local time of this calendar."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            return moment.replace(tzinfo=self.tz)
        return moment.astimezone(self.tz)

    def local_date(self, moment: dt.datetime) -> dt.date:
        return self.localize(moment).date()

    def is_business_time(self, moment: dt.datetime) -> bool:
        """True inside [start, end) of a business interval."""
        instant = self.localize(moment).astimezone(UTC)
        return any(start <= instant < end for start, end in self.windows(self.local_date(moment)))

    def _resolve(self, day: dt.date) -> BusinessDay:
        kinds = self._production.kinds(day) if self._production is not None else NO_KINDS
        override = self._overrides.get(day)
        if override is not None:
            return BusinessDay(day, self._override_hours(day, override), kinds, override.kind)
        return BusinessDay(day, self._production_hours(day, kinds), kinds, None)

    def _production_hours(self, day: dt.date, kinds: Kinds) -> DayHours:
        if kinds & _CLOSED:
            return ()
        intervals = self.spec.weekly[day.weekday()]
        if DayKind.WORKING_WEEKEND in kinds and not intervals:
            intervals = self.spec.standard_day
        if DayKind.SHORT_DAY in kinds:
            intervals = cut_end(intervals, self.spec.short_day_cut_minutes)
        return intervals

    def _override_hours(self, day: dt.date, override: DateOverride) -> DayHours:
        full = self.spec.weekly[day.weekday()] or self.spec.standard_day
        if override.kind is OverrideKind.WORKING:
            return full
        if override.kind is OverrideKind.SHORT:
            return cut_end(full, self.spec.short_day_cut_minutes)
        if override.kind is OverrideKind.CUSTOM and override.intervals is not None:
            return override.intervals
        return ()

    def _utc_windows(self, day: dt.date) -> tuple[Window, ...]:
        windows = []
        for interval in self.day(day).intervals:
            start = self._instant(day, interval.start)
            end = self._instant(day, interval.end)
            # A DST gap can squeeze an interval to nothing; drop it rather than go backwards.
            if end > start:
                windows.append((start, end))
        return tuple(windows)

    def _instant(self, day: dt.date, minutes: int) -> dt.datetime:
        if minutes == MINUTES_PER_DAY:
            day, minutes = day + _ONE_DAY, 0
        local = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), tzinfo=self.tz)
        return local.astimezone(UTC)


def cut_end(intervals: DayHours, minutes: int) -> DayHours:
    """Remove `minutes` of business time from the end of the day."""
    kept: list[Interval] = list(intervals)
    left = minutes
    while kept and left > 0:
        last = kept.pop()
        if last.minutes > left:
            kept.append(Interval(last.start, last.end - left))
        left -= last.minutes
    return tuple(kept)


def altai_spec(overrides: tuple[DateOverride, ...] = ()) -> CalendarSpec:
    """The default calendar of SPEC §5: Asia/Barnaul, Mon-Fri 09-13 and 14-18, RU calendar."""
    return CalendarSpec(
        code=ALTAI_CODE,
        name="Алтайский край: пн-пт 09:00-18:00, обед 13:00-14:00",
        overrides=overrides,
    )


def twenty_four_seven_spec(
    tz: str = DEFAULT_TZ, code: str = TWENTY_FOUR_SEVEN_CODE
) -> CalendarSpec:
    return CalendarSpec(
        code=code,
        name="24x7",
        tz=tz,
        weekly=(ALL_DAY,) * 7,
        short_day_cut_minutes=0,
        production_calendar=None,
    )
