"""The Russian production calendar: calendar.csv where it has rows, the holidays package elsewhere.

The CSV is authoritative for every year it mentions (2025-2027 in the seed data). Other years are
derived from the `holidays` package (country RU): its holidays, its decree transfers and its
`weekend_workdays`. Years without any decree in the package get only the automatic ст. 112 moves,
and short days are derived with the same rule the CSV documents, so derived and CSV years agree.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum

import holidays


class DayKind(StrEnum):
    HOLIDAY = "holiday"
    TRANSFER_DAY_OFF = "transfer_day_off"
    WORKING_WEEKEND = "working_weekend"
    SHORT_DAY = "short_day"


class CalendarDataError(ValueError):
    """Production calendar data that cannot be read."""


Kinds = frozenset[DayKind]
NO_KINDS: Kinds = frozenset()
_OFF = frozenset({DayKind.HOLIDAY, DayKind.TRANSFER_DAY_OFF})
_ONE_DAY = dt.timedelta(days=1)

# ст. 112 ТК РФ as in force since 2013. Package dates outside this set are transfers.
_NEW_YEAR_RUN = frozenset((1, day) for day in range(1, 9))
_ART_112_DAYS = _NEW_YEAR_RUN | {(2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4)}


class ProductionCalendar:
    """Day kinds per date; pure data, no business hours."""

    def __init__(
        self,
        rows: Mapping[dt.date, Iterable[DayKind]] | None = None,
        *,
        use_package: bool = True,
    ) -> None:
        self._rows: dict[dt.date, Kinds] = {
            day: frozenset(kinds) for day, kinds in (rows or {}).items()
        }
        self._row_years = frozenset(day.year for day in self._rows)
        self._use_package = use_package
        self._package_cache: dict[int, dict[dt.date, Kinds]] = {}
        self._derived_cache: dict[int, dict[dt.date, Kinds]] = {}

    @classmethod
    def from_rows(
        cls, rows: Iterable[tuple[dt.date | str, str]], *, use_package: bool = True
    ) -> ProductionCalendar:
        """Build from (date, kind) pairs, e.g. rows of a database table."""
        grouped: dict[dt.date, set[DayKind]] = {}
        for raw_day, raw_kind in rows:
            day = raw_day if isinstance(raw_day, dt.date) else dt.date.fromisoformat(raw_day)
            grouped.setdefault(day, set()).add(DayKind(raw_kind))
        return cls(grouped, use_package=use_package)

    @classmethod
    def from_csv(
        cls, path: str | os.PathLike[str], *, use_package: bool = True
    ) -> ProductionCalendar:
        """Read calendar.csv (columns date, kind, name); a date may appear under several kinds."""
        pairs: list[tuple[dt.date | str, str]] = []
        with open(path, encoding="utf-8", newline="") as handle:
            for line_no, row in enumerate(csv.DictReader(handle), start=2):
                try:
                    day = dt.date.fromisoformat((row["date"] or "").strip())
                    kind = DayKind((row["kind"] or "").strip())
                except (KeyError, ValueError) as exc:
                    raise CalendarDataError(f"{path}:{line_no}: {exc}") from exc
                pairs.append((day, kind))
        return cls.from_rows(pairs, use_package=use_package)

    @property
    def row_years(self) -> frozenset[int]:
        return self._row_years

    def source(self, year: int) -> str:
        """Where the kinds of `year` come from: `rows`, `package` or `none`."""
        if year in self._row_years:
            return "rows"
        return "package" if self._use_package else "none"

    def kinds(self, day: dt.date) -> Kinds:
        if day.year in self._row_years:
            return self._rows.get(day, NO_KINDS)
        if not self._use_package:
            return NO_KINDS
        derived = self._derived_cache.get(day.year)
        if derived is None:
            derived = self._derive_year(day.year)
            self._derived_cache[day.year] = derived
        return derived.get(day, NO_KINDS)

    def _base_kinds(self, day: dt.date) -> Kinds:
        """Kinds without short days, used to derive short days across year boundaries."""
        if day.year in self._row_years:
            return self._rows.get(day, NO_KINDS) - {DayKind.SHORT_DAY}
        if not self._use_package:
            return NO_KINDS
        year = self._package_cache.get(day.year)
        if year is None:
            year = package_year(day.year)
            self._package_cache[day.year] = year
        return year.get(day, NO_KINDS)

    def _derive_year(self, year: int) -> dict[dt.date, Kinds]:
        days = {day: kinds for day in _days_of(year) if (kinds := self._base_kinds(day))}
        for day in derive_short_days(year, self._base_kinds):
            days[day] = days.get(day, NO_KINDS) | {DayKind.SHORT_DAY}
        return days


def package_year(year: int) -> dict[dt.date, Kinds]:
    """Holidays, transfers and working weekends of one year from the holidays package."""
    source = holidays.country_holidays("RU", years=year)
    days: dict[dt.date, Kinds] = {}
    for day in source:
        if day.year == year:
            known = (day.month, day.day) in _ART_112_DAYS
            days[day] = frozenset({DayKind.HOLIDAY if known else DayKind.TRANSFER_DAY_OFF})
    for day in source.weekend_workdays:
        if day.year == year:
            days[day] = days.get(day, NO_KINDS) | {DayKind.WORKING_WEEKEND}
    decreed = any(DayKind.HOLIDAY not in kinds for kinds in days.values())
    if not decreed:
        # The package knows no decree for this year, so it has not applied even the automatic moves.
        _add_automatic_moves(days)
    return days


def _add_automatic_moves(days: dict[dt.date, Kinds]) -> None:
    """ст. 112 ч. 2: a holiday on a weekend moves to the next working day, except 1-8 January."""
    for day in sorted(days):
        if day.weekday() < 5 or (day.month, day.day) in _NEW_YEAR_RUN:
            continue
        target = day + _ONE_DAY
        while target.weekday() >= 5 or target in days:
            target += _ONE_DAY
        days[target] = frozenset({DayKind.TRANSFER_DAY_OFF})


def derive_short_days(year: int, kinds_of: Callable[[dt.date], Kinds]) -> set[dt.date]:
    """Short days of `year` by the rule of data/altai/README.md ("short_day is derived").

    The last working day D before a holiday is short when nothing but holidays and transferred days
    off lies between them. A working weekend in that place is short as well when a transferred day
    off lies in the gap: that approximates "took over the weekday whose day off was moved into that
    gap" without knowing the swap pairs, and reproduces every 2025-2027 row.
    """
    short: set[dt.date] = set()
    # Holidays up to mid-January of the next year, because 30/31 December precede 1 January.
    for holiday in _days_between(dt.date(year, 1, 1), dt.date(year + 1, 1, 15)):
        if DayKind.HOLIDAY not in kinds_of(holiday):
            continue
        last = _last_working_before(holiday, kinds_of)
        if last is None or last.year != year:
            continue
        gap = list(_days_between(last + _ONE_DAY, holiday))
        ordinary = [day for day in gap if not kinds_of(day) & _OFF]
        moved_in = any(DayKind.TRANSFER_DAY_OFF in kinds_of(day) for day in gap)
        working_weekend = DayKind.WORKING_WEEKEND in kinds_of(last)
        if not ordinary or (working_weekend and moved_in):
            short.add(last)
    return short


def is_standard_working_day(day: dt.date, kinds: Kinds) -> bool:
    """Working on a Monday-Friday week, the week the production calendar is written for."""
    if kinds & _OFF:
        return False
    return day.weekday() < 5 or DayKind.WORKING_WEEKEND in kinds


def _last_working_before(day: dt.date, kinds_of: Callable[[dt.date], Kinds]) -> dt.date | None:
    candidate = day - _ONE_DAY
    for _ in range(40):  # the longest run of days off (New Year) is under three weeks
        if is_standard_working_day(candidate, kinds_of(candidate)):
            return candidate
        candidate -= _ONE_DAY
    return None


def _days_between(start: dt.date, stop: dt.date) -> Iterable[dt.date]:
    day = start
    while day < stop:
        yield day
        day += _ONE_DAY


def _days_of(year: int) -> Iterable[dt.date]:
    return _days_between(dt.date(year, 1, 1), dt.date(year + 1, 1, 1))
