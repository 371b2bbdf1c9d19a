"""Randomised checks: the engine against a minute-by-minute oracle built straight from
calendar.csv, monotonicity in the duration, and deadlines landing inside business time."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

import pytest

from service.sla import WorkCalendar, compute_deadline, elapsed_business_seconds
from service.sla.calendar import Window
from tests.sla.helpers import BARNAUL

SEED = 20260112
MINUTE = dt.timedelta(minutes=1)
# calendar.csv covers 2025-2027; starts stop early enough for 30 working days to stay inside.
FIRST, LAST = dt.datetime(2025, 1, 1, tzinfo=BARNAUL), dt.datetime(2027, 10, 31, tzinfo=BARNAUL)


def random_starts(count: int, seed: int) -> list[dt.datetime]:
    rng = random.Random(seed)
    span = int((LAST - FIRST).total_seconds() // 60)
    return [FIRST + dt.timedelta(minutes=rng.randrange(span)) for _ in range(count)]


class Oracle:
    """The Altai rules written out naively: 09-13 and 14-18 (17 on short days) on weekdays and
    working weekends, closed on holidays and transfer days off; kinds read from the CSV."""

    def __init__(self, path: Path) -> None:
        self.kinds: dict[dt.date, set[str]] = {}
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                self.kinds.setdefault(dt.date.fromisoformat(row["date"]), set()).add(row["kind"])

    def intervals(self, day: dt.date) -> list[tuple[int, int]]:
        kinds = self.kinds.get(day, set())
        if kinds & {"holiday", "transfer_day_off"}:
            return []
        if day.weekday() >= 5 and "working_weekend" not in kinds:
            return []
        return [(9 * 60, 13 * 60), (14 * 60, (17 if "short_day" in kinds else 18) * 60)]

    def is_open(self, moment: dt.datetime) -> bool:
        minute = moment.hour * 60 + moment.minute
        return any(start <= minute < end for start, end in self.intervals(moment.date()))

    def working_hours(self, start: dt.datetime, minutes: int) -> dt.datetime:
        moment, counted = start, 0
        while counted < minutes:
            counted += self.is_open(moment)
            moment += MINUTE
        return moment

    def close(self, day: dt.date) -> dt.datetime:
        end = self.intervals(day)[-1][1]
        return dt.datetime.combine(day, dt.time(end // 60, end % 60), tzinfo=BARNAUL)

    def working_days(self, start: dt.datetime, count: int) -> dt.datetime:
        day = start.date()
        while count:
            day += dt.timedelta(days=1)
            count -= bool(self.intervals(day))
        return self.close(day)

    def calendar_days(self, start: dt.datetime, count: int) -> dt.datetime:
        day = start.date() + dt.timedelta(days=count)
        while not self.intervals(day):
            day += dt.timedelta(days=1)
        return self.close(day)


@pytest.fixture(scope="module")
def oracle(calendar_csv: Path) -> Oracle:
    return Oracle(calendar_csv)


TRICKY_STARTS = [
    dt.datetime(2025, 12, 30, 16, 30, tzinfo=BARNAUL),  # short day before the New Year
    dt.datetime(2025, 10, 31, 17, 45, tzinfo=BARNAUL),  # before the working Saturday
    dt.datetime(2026, 5, 7, 12, 45, tzinfo=BARNAUL),  # before a short Friday and May 9-11
    dt.datetime(2027, 2, 19, 17, 0, tzinfo=BARNAUL),  # before the working Saturday 2027-02-20
    dt.datetime(2026, 12, 30, 16, 59, tzinfo=BARNAUL),
]


@pytest.mark.parametrize("start", TRICKY_STARTS + random_starts(40, SEED))
def test_working_hours_match_the_oracle(
    altai: WorkCalendar, oracle: Oracle, start: dt.datetime
) -> None:
    minutes = random.Random(start.timestamp()).randrange(15, 12 * 60, 15)
    expected = oracle.working_hours(start, minutes)
    assert compute_deadline(start, minutes / 60, "working_hours", altai) == expected


@pytest.mark.parametrize("start", TRICKY_STARTS + random_starts(40, SEED + 1))
def test_day_units_match_the_oracle(
    altai: WorkCalendar, oracle: Oracle, start: dt.datetime
) -> None:
    for days in (1, 2, 5, 10, 30):
        assert compute_deadline(start, days, "working_days", altai) == oracle.working_days(
            start, days
        )
        assert compute_deadline(start, days, "calendar_days", altai) == oracle.calendar_days(
            start, days
        )


def inside(windows: tuple[Window, ...], moment: dt.datetime) -> bool:
    return any(start < moment <= end for start, end in windows)


@pytest.mark.parametrize("start", random_starts(25, SEED + 2))
def test_monotonic_and_inside_business_time(altai: WorkCalendar, start: dt.datetime) -> None:
    previous = start
    for quarter_hours in range(1, 161, 7):  # up to 40 working hours
        hours = quarter_hours / 4
        due = compute_deadline(start, hours, "working_hours", altai)
        assert due > previous
        assert inside(altai.windows(altai.local_date(due)), due)
        assert elapsed_business_seconds(altai, start, due) == hours * 3600
        previous = due
    for unit in ("working_days", "calendar_days"):
        previous = start
        for days in range(1, 31):
            due = compute_deadline(start, days, unit, altai)
            assert due >= previous if unit == "calendar_days" else due > previous
            assert due == altai.end_of_business(altai.local_date(due))
            assert due.tzinfo is altai.tz
            previous = due


@pytest.mark.parametrize("start", random_starts(10, SEED + 3))
def test_utc_input_gives_the_same_instant(altai: WorkCalendar, start: dt.datetime) -> None:
    for unit, duration in (("working_hours", 7.5), ("working_days", 3), ("calendar_days", 3)):
        local = compute_deadline(start, duration, unit, altai)
        utc = compute_deadline(start.astimezone(dt.UTC), duration, unit, altai)
        assert local == utc and utc.utcoffset() == dt.timedelta(hours=7)


class CountingCalendar(WorkCalendar):
    calls = 0

    def windows(self, day: dt.date) -> tuple[Window, ...]:
        self.calls += 1
        return super().windows(day)


def test_thirty_working_days_walk_days_not_minutes(altai: WorkCalendar) -> None:
    calendar = CountingCalendar(altai.spec, None)
    # From Sat 2025-12-20: Dec 22-26 (5), 29, 30 (7), Jan 12-30 (22), Feb 2-6 (27), 9, 10, 11.
    start = dt.datetime(2025, 12, 20, 10, tzinfo=BARNAUL)
    assert compute_deadline(start, 30, "working_days", calendar) == dt.datetime(
        2026, 2, 11, 18, tzinfo=BARNAUL
    )
    assert calendar.calls < 60
    calendar.calls = 0
    compute_deadline(start, 240, "working_hours", calendar)
    assert calendar.calls < 60
