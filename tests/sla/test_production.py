"""The production calendar: calendar.csv, and the holidays-package fallback for other years."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from service.sla import CalendarDataError, DayKind, ProductionCalendar, WorkCalendar
from service.sla.calendar import altai_spec

H, T, W, S = (
    DayKind.HOLIDAY,
    DayKind.TRANSFER_DAY_OFF,
    DayKind.WORKING_WEEKEND,
    DayKind.SHORT_DAY,
)


def days_of(year: int) -> list[dt.date]:
    first = dt.date(year, 1, 1)
    return [first + dt.timedelta(days=n) for n in range((dt.date(year + 1, 1, 1) - first).days)]


class TestCsv:
    def test_covers_2025_to_2027(self, production: ProductionCalendar) -> None:
        assert production.row_years == {2025, 2026, 2027}
        assert production.source(2026) == "rows"
        assert production.source(2028) == "package"

    def test_a_date_can_have_two_kinds(self, production: ProductionCalendar) -> None:
        assert production.kinds(dt.date(2025, 11, 1)) == {W, S}
        assert production.kinds(dt.date(2027, 2, 20)) == {W, S}

    @pytest.mark.parametrize(
        ("day", "kinds"),
        [
            ("2025-11-03", {T}),
            ("2025-11-04", {H}),
            ("2025-12-30", {S}),
            ("2025-12-31", {T}),
            ("2026-01-01", {H}),
            ("2026-01-08", {H}),
            ("2026-01-09", {T}),
            ("2026-01-12", set()),
            ("2026-03-09", {T}),
            ("2025-02-24", set()),  # worked: the Feb 23 day off went to May 8 instead
        ],
    )
    def test_rows(self, production: ProductionCalendar, day: str, kinds: set[DayKind]) -> None:
        assert production.kinds(dt.date.fromisoformat(day)) == kinds

    def test_row_count(self, calendar_csv: Path) -> None:
        lines = calendar_csv.read_text(encoding="utf-8").splitlines()
        assert len(lines) - 1 == 75  # README: 26 + 23 + 26 rows

    def test_bad_rows_name_the_line(self, tmp_path: Path) -> None:
        path = tmp_path / "calendar.csv"
        path.write_text("date,kind,name\n2026-01-01,holiday,x\n2026-13-01,holiday,y\n")
        with pytest.raises(CalendarDataError, match=r"calendar.csv:3"):
            ProductionCalendar.from_csv(path)
        path.write_text("date,kind,name\n2026-01-01,feast,x\n")
        with pytest.raises(CalendarDataError, match=r"calendar.csv:2"):
            ProductionCalendar.from_csv(path)

    def test_rows_replace_the_package_for_their_year(self) -> None:
        custom = ProductionCalendar.from_rows([("2026-01-13", "holiday")])
        assert custom.kinds(dt.date(2026, 1, 13)) == {H}
        assert custom.kinds(dt.date(2026, 1, 1)) == set()  # 2026 comes from the rows only
        assert custom.kinds(dt.date(2027, 1, 1)) == {H}  # other years from the package

    def test_without_the_package_other_years_are_plain(self) -> None:
        bare = ProductionCalendar(use_package=False)
        assert bare.kinds(dt.date(2026, 1, 1)) == set()
        assert bare.source(2026) == "none"


class TestWorkingDayCounts:
    # domain.md §6: 247 working days in each of 2025 and 2026.
    @pytest.mark.parametrize("year", [2025, 2026])
    def test_247_working_days(self, altai: WorkCalendar, year: int) -> None:
        assert sum(altai.is_working_day(day) for day in days_of(year)) == 247

    @pytest.mark.parametrize(
        ("year", "short_days"),
        [(2025, 6), (2026, 5)],  # the short_day rows of calendar.csv
    )
    def test_working_hours_per_year(self, altai: WorkCalendar, year: int, short_days: int) -> None:
        seconds = sum(
            (end - start).total_seconds()
            for day in days_of(year)
            for start, end in altai.windows(day)
        )
        assert seconds / 3600 == 247 * 8 - short_days


class TestPackageFallback:
    @pytest.mark.parametrize("year", [2025, 2026, 2027])
    def test_package_alone_reproduces_the_csv(
        self, production: ProductionCalendar, year: int
    ) -> None:
        package = ProductionCalendar()
        differences = {
            day: (production.kinds(day), package.kinds(day))
            for day in days_of(year)
            if production.kinds(day) != package.kinds(day)
        }
        assert differences == {}

    def test_2028_gets_the_automatic_moves_only(self, production: ProductionCalendar) -> None:
        # 2028-11-04 is a Saturday: ст. 112 moves the day off to Monday 2028-11-06, and Friday
        # 2028-11-03 is short. 1-2 January 2028 fall on a weekend too, but only a decree moves them.
        assert production.kinds(dt.date(2028, 11, 4)) == {H}
        assert production.kinds(dt.date(2028, 11, 6)) == {T}
        assert production.kinds(dt.date(2028, 11, 3)) == {S}
        assert production.kinds(dt.date(2028, 1, 10)) == set()
        moved = [day for day in days_of(2028) if T in production.kinds(day)]
        assert moved == [dt.date(2028, 11, 6)]

    def test_2028_short_days(self, production: ProductionCalendar) -> None:
        # Feb 23 Wed, Mar 8 Wed, May 9 Tue, Nov 4 Sat: the working day right before is short.
        # May 1 and Jun 12 2028 are Mondays: a plain weekend stands between, so no short day.
        short = [day.isoformat() for day in days_of(2028) if S in production.kinds(day)]
        assert short == ["2028-02-22", "2028-03-07", "2028-05-08", "2028-11-03"]

    def test_2024_from_the_package(self) -> None:
        package = ProductionCalendar()
        # ПП РФ for 2024: Sat Apr 27 worked for Mon Apr 29, Sat Dec 28 for Mon Dec 30.
        assert package.kinds(dt.date(2024, 4, 27)) == {W, S}
        assert package.kinds(dt.date(2024, 4, 29)) == {T}
        assert package.kinds(dt.date(2024, 12, 28)) == {W, S}
        assert package.kinds(dt.date(2024, 12, 31)) == {T}

    def test_december_short_day_sees_the_next_years_rows(self) -> None:
        # 2025 is derived from the package; whether Dec 30 is short depends on 1 January 2026,
        # which these rows decide. Rows that leave Jan 1 a working day take the short day away.
        with_holiday = ProductionCalendar.from_rows([("2026-01-01", "holiday")])
        without = ProductionCalendar.from_rows([("2026-01-02", "holiday")])
        assert S in with_holiday.kinds(dt.date(2025, 12, 30))
        assert S not in without.kinds(dt.date(2025, 12, 30))

    def test_a_work_calendar_without_a_production_calendar_uses_the_package(self) -> None:
        calendar = WorkCalendar(altai_spec())
        assert not calendar.is_working_day(dt.date(2026, 1, 9))
        assert calendar.day(dt.date(2025, 11, 1)).short
