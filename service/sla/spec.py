"""Plain-data description of a work calendar (`CalendarSpec`), storable as JSON.

JSON shape (`CalendarSpec.to_dict()` / `CalendarSpec.from_dict()`):

    {"code": "altai", "name": "...", "tz": "Asia/Barnaul",
     "weekly": {"mon": ["09:00-13:00", "14:00-18:00"], ..., "sat": [], "sun": []},
     "short_day_cut_minutes": 60, "production_calendar": "ru",
     "overrides": [{"date": "2026-01-13", "kind": "custom", "intervals": ["10:00-15:00"],
                    "note": "..."}]}

Intervals are local wall-clock "HH:MM-HH:MM" (an end of "24:00" is midnight after the day).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY = 24 * 60
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_TZ = "Asia/Barnaul"
PRODUCTION_CALENDARS = frozenset({"ru"})
_SPEC_KEYS = frozenset(
    {
        "code",
        "name",
        "tz",
        "weekly",
        "short_day_cut_minutes",
        "production_calendar",
        "overrides",
    }
)


class SpecError(ValueError):
    """A calendar description that cannot be turned into a calendar."""


def _check_day(day: DayHours, label: str) -> DayHours:
    for earlier, later in itertools.pairwise(day):
        if later.start < earlier.end:
            raise SpecError(f"{label}: intervals must be ordered and must not overlap")
    return day


def _parse_hhmm(text: str) -> int:
    if not isinstance(text, str):
        raise SpecError(f"time {text!r} is not an 'HH:MM' string")
    hour, sep, minute = text.strip().partition(":")
    if not sep or not hour.isdigit() or not minute.isdigit() or len(minute) != 2:
        raise SpecError(f"time {text!r} is not HH:MM")
    value = int(hour) * 60 + int(minute)
    if int(minute) >= 60 or value > MINUTES_PER_DAY:
        raise SpecError(f"time {text!r} is not between 00:00 and 24:00")
    return value


def _format_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, order=True)
class Interval:
    """Business hours inside one local day, in minutes after midnight; end 1440 is 24:00."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            raise SpecError(f"interval {self.start}-{self.end} is not inside one day")

    @classmethod
    def parse(cls, value: str | Sequence[str]) -> Interval:
        """Accept "09:00-13:00" or ["09:00", "13:00"]."""
        parts = value.split("-") if isinstance(value, str) else list(value)
        if len(parts) != 2:
            raise SpecError(f"interval {value!r} is not 'HH:MM-HH:MM'")
        return cls(_parse_hhmm(parts[0]), _parse_hhmm(parts[1]))

    @property
    def minutes(self) -> int:
        return self.end - self.start

    def __str__(self) -> str:
        return f"{_format_hhmm(self.start)}-{_format_hhmm(self.end)}"


DayHours = tuple[Interval, ...]


def hours(*values: str) -> DayHours:
    """`hours("09:00-13:00", "14:00-18:00")`: a validated day of intervals."""
    return _check_day(tuple(Interval.parse(value) for value in values), "hours")


class OverrideKind(StrEnum):
    WORKING = "working"  # a full day with the standard hours, whatever the production calendar says
    NON_WORKING = "non_working"
    SHORT = "short"  # standard hours ending `short_day_cut_minutes` earlier
    CUSTOM = "custom"  # exactly the given intervals


@dataclass(frozen=True)
class DateOverride:
    """One date made working / non-working / shortened / given custom hours by an administrator."""

    date: dt.date
    kind: OverrideKind
    intervals: DayHours | None = None
    note: str = ""

    def __post_init__(self) -> None:
        # Callers holding JSON strings get the enum, so identity checks downstream hold.
        object.__setattr__(self, "kind", OverrideKind(self.kind))
        if self.kind is OverrideKind.CUSTOM:
            if not self.intervals:
                raise SpecError(f"{self.date}: a custom override needs intervals")
            _check_day(self.intervals, str(self.date))
        elif self.intervals is not None:
            raise SpecError(f"{self.date}: only a custom override takes intervals")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"date": self.date.isoformat(), "kind": self.kind.value}
        if self.intervals is not None:
            data["intervals"] = [str(interval) for interval in self.intervals]
        if self.note:
            data["note"] = self.note
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DateOverride:
        if not isinstance(data, Mapping):
            raise SpecError(f"an override is an object with date and kind, not {data!r}")
        try:
            day = dt.date.fromisoformat(str(data["date"]))
            kind = OverrideKind(data["kind"])
        except (KeyError, ValueError) as exc:
            raise SpecError(f"bad override {dict(data)!r}: {exc}") from exc
        raw = data.get("intervals")
        intervals = None if raw is None else tuple(Interval.parse(item) for item in raw)
        return cls(day, kind, intervals, str(data.get("note") or ""))


ALTAI_DAY = hours("09:00-13:00", "14:00-18:00")
ALTAI_WEEK: tuple[DayHours, ...] = (ALTAI_DAY,) * 5 + ((), ())
ALL_DAY = hours("00:00-24:00")


@dataclass(frozen=True)
class CalendarSpec:
    """Everything needed to build a `WorkCalendar`; immutable, edit with `dataclasses.replace`."""

    code: str
    tz: str = DEFAULT_TZ
    weekly: tuple[DayHours, ...] = ALTAI_WEEK  # Monday first
    short_day_cut_minutes: int = 60
    production_calendar: str | None = "ru"
    overrides: tuple[DateOverride, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        if not self.code:
            raise SpecError("a calendar needs a code")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise SpecError(f"unknown time zone {self.tz!r}") from exc
        if len(self.weekly) != 7:
            raise SpecError("weekly hours need seven days, Monday first")
        for name, day in zip(WEEKDAY_NAMES, self.weekly, strict=True):
            _check_day(day, name)
        cut = self.short_day_cut_minutes
        if isinstance(cut, bool) or not isinstance(cut, int) or not 0 <= cut < MINUTES_PER_DAY:
            raise SpecError("short_day_cut_minutes must be within a day")
        if self.production_calendar not in PRODUCTION_CALENDARS | {None}:
            raise SpecError(f"unknown production calendar {self.production_calendar!r}")
        dates = [override.date for override in self.overrides]
        if len(dates) != len(set(dates)):
            raise SpecError("at most one override per date")

    @property
    def standard_day(self) -> DayHours:
        """Hours for a day the week gives none (a working weekend): the first weekday with hours."""
        return next((day for day in self.weekly if day), ())

    def with_overrides(self, overrides: Sequence[DateOverride]) -> CalendarSpec:
        ordered = tuple(sorted(overrides, key=lambda override: override.date))
        return dataclasses.replace(self, overrides=ordered)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "tz": self.tz,
            "weekly": {
                name: [str(interval) for interval in day]
                for name, day in zip(WEEKDAY_NAMES, self.weekly, strict=True)
            },
            "short_day_cut_minutes": self.short_day_cut_minutes,
            "production_calendar": self.production_calendar,
            "overrides": [override.to_dict() for override in self.overrides],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CalendarSpec:
        """Inverse of `to_dict`; missing keys take the defaults, unknown keys are an error."""
        unknown = set(data) - _SPEC_KEYS
        if unknown:
            raise SpecError(f"unknown calendar fields: {sorted(unknown)}")
        for key in ("code", "name", "tz"):
            if key in data and not isinstance(data[key], str):
                raise SpecError(f"{key} must be a string")
        if not isinstance(data.get("production_calendar") or "", str):
            raise SpecError("production_calendar must be a string or null")
        if not isinstance(data.get("overrides") or [], list):
            raise SpecError("overrides must be a list")
        fields: dict[str, Any] = {
            key: data[key]
            for key in (
                "code",
                "name",
                "tz",
                "short_day_cut_minutes",
                "production_calendar",
            )
            if key in data
        }
        if "weekly" in data:
            fields["weekly"] = _parse_weekly(data["weekly"])
        raw_overrides = data.get("overrides") or []
        fields["overrides"] = tuple(DateOverride.from_dict(item) for item in raw_overrides)
        try:
            return cls(**fields)
        except TypeError as exc:
            raise SpecError(str(exc)) from exc


def _parse_weekly(raw: Mapping[str, Sequence[Any]]) -> tuple[DayHours, ...]:
    if not isinstance(raw, Mapping):
        raise SpecError('weekly must be an object of weekday names, e.g. {"mon": ["09:00-18:00"]}')
    unknown = set(raw) - set(WEEKDAY_NAMES)
    if unknown:
        raise SpecError(f"unknown weekdays: {sorted(unknown)}")
    return tuple(
        tuple(Interval.parse(item) for item in raw.get(name) or ()) for name in WEEKDAY_NAMES
    )
