"""compute_deadline against values worked out by hand from SPEC §5 and calendar.csv.

Reference days (calendar.csv, 2025-2026): 2025-11-01 Sat working + short, 2025-11-03 transfer,
2025-11-04 holiday; 2025-12-30 short, 2025-12-31 transfer, 2026-01-01..08 holidays, 2026-01-09
transfer, 2026-01-12 Mon the first working day of 2026; 2026-03-08 Sun holiday, 2026-03-09
transfer; 2026-04-30 and 2026-05-08 short, 2026-05-01 and 2026-05-09 holidays, 2026-05-11 transfer.
"""

from __future__ import annotations

import datetime as dt

import pytest

from service.sla import CalendarSpec, DurationUnit, WorkCalendar, compute_deadline
from tests.sla.helpers import at, iso


def deadline(calendar: WorkCalendar, start: dt.datetime, duration: float, unit: str) -> str:
    return compute_deadline(start, duration, unit, calendar).isoformat()


class TestSpecExamples:
    def test_four_working_hours_from_friday_16_is_monday_11(self, altai: WorkCalendar) -> None:
        # Fri 2026-01-16 and Mon 2026-01-19 are ordinary working days.
        assert deadline(altai, at("2026-01-16 16:00"), 4, "working_hours") == (
            "2026-01-19T11:00:00+07:00"
        )

    def test_working_days_count_from_the_day_after_and_end_at_18(self, altai: WorkCalendar) -> None:
        assert deadline(altai, at("2026-01-12 08:00"), 1, "working_days") == (
            "2026-01-13T18:00:00+07:00"
        )

    def test_working_days_end_at_17_on_a_shortened_day(self, altai: WorkCalendar) -> None:
        # 2026-11-03 (Tue) is short before the 2026-11-04 holiday.
        assert deadline(altai, at("2026-11-02 10:00"), 1, "working_days") == (
            "2026-11-03T17:00:00+07:00"
        )

    def test_calendar_days_land_on_a_weekend_move_to_the_next_working_day(
        self, altai: WorkCalendar
    ) -> None:
        start = at("2026-01-16 10:00")  # Friday
        assert deadline(altai, start, 1, "calendar_days") == "2026-01-19T18:00:00+07:00"
        assert deadline(altai, start, 3, "calendar_days") == "2026-01-19T18:00:00+07:00"
        assert deadline(altai, start, 4, "calendar_days") == "2026-01-20T18:00:00+07:00"

    def test_minutes_and_hours_are_plain_elapsed_time(self, altai: WorkCalendar) -> None:
        assert deadline(altai, at("2026-01-16 17:00"), 90, "minutes") == (
            "2026-01-16T18:30:00+07:00"
        )
        # Through the New Year holidays, which plain time ignores.
        assert deadline(altai, at("2025-12-31 10:00"), 72, "hours") == ("2026-01-03T10:00:00+07:00")

    def test_the_cli_example(self, altai: WorkCalendar) -> None:
        # Dec 30 (1st), then closed Dec 31 - Jan 11, Jan 12 (2nd).
        assert deadline(altai, at("2025-12-29 10:00"), 2, "working_days") == (
            "2026-01-12T18:00:00+07:00"
        )


class TestNewYear2026:
    @pytest.mark.parametrize(
        ("start", "hours", "expected"),
        [
            ("2025-12-30 16:00", 2, "2026-01-12T10:00:00+07:00"),  # 16-17, then Jan 12 09-10
            ("2025-12-30 09:00", 7, "2025-12-30T17:00:00+07:00"),  # the whole short day
            ("2025-12-30 09:00", 8, "2026-01-12T10:00:00+07:00"),
            ("2025-12-30 17:30", 1, "2026-01-12T10:00:00+07:00"),  # after the short close
            ("2026-01-05 12:00", 1, "2026-01-12T10:00:00+07:00"),  # start on a holiday
            ("2026-01-09 12:00", 1, "2026-01-12T10:00:00+07:00"),  # start on the transfer day
        ],
    )
    def test_working_hours(
        self, altai: WorkCalendar, start: str, hours: float, expected: str
    ) -> None:
        assert deadline(altai, at(start), hours, "working_hours") == expected

    @pytest.mark.parametrize(
        ("start", "days", "expected"),
        [
            ("2025-12-29 10:00", 1, "2025-12-30T17:00:00+07:00"),
            ("2025-12-26 10:00", 5, "2026-01-14T18:00:00+07:00"),  # 29, 30, Jan 12, 13, 14
            ("2026-01-01 10:00", 1, "2026-01-12T18:00:00+07:00"),
            ("2026-12-29 10:00", 1, "2026-12-30T17:00:00+07:00"),
            ("2026-12-29 10:00", 2, "2027-01-11T18:00:00+07:00"),  # 2027: Jan 1-8, weekend
        ],
    )
    def test_working_days(self, altai: WorkCalendar, start: str, days: int, expected: str) -> None:
        assert deadline(altai, at(start), days, "working_days") == expected

    @pytest.mark.parametrize(
        ("start", "days", "expected"),
        [
            ("2025-12-29 10:00", 1, "2025-12-30T17:00:00+07:00"),  # short day
            ("2025-12-31 10:00", 1, "2026-01-12T18:00:00+07:00"),  # Jan 1 is a holiday
            ("2025-12-31 10:00", 9, "2026-01-12T18:00:00+07:00"),  # Jan 9 transfer day off
            ("2025-12-31 10:00", 12, "2026-01-12T18:00:00+07:00"),
            ("2025-12-31 10:00", 13, "2026-01-13T18:00:00+07:00"),
        ],
    )
    def test_calendar_days(self, altai: WorkCalendar, start: str, days: int, expected: str) -> None:
        assert deadline(altai, at(start), days, "calendar_days") == expected


class TestTransfersAndShortDays:
    @pytest.mark.parametrize(
        ("start", "days", "expected"),
        [
            ("2025-10-31 10:00", 1, "2025-11-01T17:00:00+07:00"),  # working Saturday, short
            ("2025-10-31 10:00", 2, "2025-11-05T18:00:00+07:00"),  # Nov 3 off, Nov 4 holiday
            ("2025-11-01 10:00", 1, "2025-11-05T18:00:00+07:00"),  # the start day never counts
            ("2025-04-29 10:00", 1, "2025-04-30T17:00:00+07:00"),
            ("2025-04-29 10:00", 2, "2025-05-05T18:00:00+07:00"),  # May 1, 2 off, weekend
            ("2025-04-29 10:00", 4, "2025-05-07T17:00:00+07:00"),  # 30, 5, 6, 7 (short)
            ("2025-04-29 10:00", 5, "2025-05-12T18:00:00+07:00"),  # May 8 off, 9 holiday
            ("2026-05-07 10:00", 1, "2026-05-08T17:00:00+07:00"),
            ("2026-05-07 10:00", 2, "2026-05-12T18:00:00+07:00"),  # May 9 Sat, May 11 off
            ("2026-03-08 10:00", 1, "2026-03-10T18:00:00+07:00"),  # Mar 9 transfer day off
            ("2025-02-21 10:00", 1, "2025-02-24T18:00:00+07:00"),  # Feb 24 2025 was worked
        ],
    )
    def test_working_days(self, altai: WorkCalendar, start: str, days: int, expected: str) -> None:
        assert deadline(altai, at(start), days, "working_days") == expected

    @pytest.mark.parametrize(
        ("start", "hours", "expected"),
        [
            ("2025-10-31 17:00", 3, "2025-11-01T11:00:00+07:00"),
            ("2025-10-31 17:00", 8, "2025-11-01T17:00:00+07:00"),  # 1 + 4 + 3 on the short day
            ("2025-10-31 17:00", 10, "2025-11-05T11:00:00+07:00"),
            ("2025-11-01 16:30", 1, "2025-11-05T09:30:00+07:00"),
        ],
    )
    def test_working_hours(
        self, altai: WorkCalendar, start: str, hours: float, expected: str
    ) -> None:
        assert deadline(altai, at(start), hours, "working_hours") == expected

    def test_calendar_days_skip_transfer_and_holiday(self, altai: WorkCalendar) -> None:
        start = at("2025-10-31 10:00")
        assert deadline(altai, start, 1, "calendar_days") == "2025-11-01T17:00:00+07:00"
        assert deadline(altai, start, 2, "calendar_days") == "2025-11-05T18:00:00+07:00"


class TestBusinessHoursAndLunch:
    @pytest.mark.parametrize(
        ("start", "hours", "expected"),
        [
            ("2026-01-13 12:30", 1, "2026-01-13T14:30:00+07:00"),  # across lunch
            ("2026-01-13 13:30", 1, "2026-01-13T15:00:00+07:00"),  # start in lunch
            ("2026-01-13 13:00", 0.5, "2026-01-13T14:30:00+07:00"),
            ("2026-01-13 09:00", 4, "2026-01-13T13:00:00+07:00"),  # ends at lunch, not 14:00
            ("2026-01-13 14:00", 4, "2026-01-13T18:00:00+07:00"),  # ends at close, not 09:00
            ("2026-01-13 09:00", 8, "2026-01-13T18:00:00+07:00"),
            ("2026-01-13 09:00", 9, "2026-01-14T10:00:00+07:00"),
            ("2026-01-13 09:00", 1.5, "2026-01-13T10:30:00+07:00"),
            ("2026-01-13 07:00", 1, "2026-01-13T10:00:00+07:00"),  # before opening
            ("2026-01-13 20:00", 1, "2026-01-14T10:00:00+07:00"),  # evening
            ("2026-01-17 15:00", 1, "2026-01-19T10:00:00+07:00"),  # Saturday
            ("2026-01-18 23:59", 1, "2026-01-19T10:00:00+07:00"),  # Sunday night
            ("2026-01-13 10:15:30", 0.25, "2026-01-13T10:30:30+07:00"),  # seconds are kept
            ("2026-01-13 20:00", 0, "2026-01-13T20:00:00+07:00"),  # zero is the start itself
        ],
    )
    def test_working_hours(
        self, altai: WorkCalendar, start: str, hours: float, expected: str
    ) -> None:
        assert deadline(altai, at(start), hours, "working_hours") == expected

    def test_forty_working_hours_is_one_week(self, altai: WorkCalendar) -> None:
        assert deadline(altai, at("2026-01-19 09:00"), 40, "working_hours") == (
            "2026-01-23T18:00:00+07:00"
        )

    def test_working_days_from_saturday_and_from_an_evening(self, altai: WorkCalendar) -> None:
        assert deadline(altai, at("2026-01-17 12:00"), 1, "working_days") == (
            "2026-01-19T18:00:00+07:00"
        )
        assert deadline(altai, at("2026-01-13 23:00"), 1, "working_days") == (
            "2026-01-14T18:00:00+07:00"
        )

    def test_thirty_working_days(self, altai: WorkCalendar) -> None:
        # Feb 2026: Feb 23 (Mon) holiday, Mar 8 (Sun) holiday moved to Mar 9.
        # From Feb 2: Feb 3-6 (4), 9-13 (9), 16-20 (14), 24-27 (18), Mar 2-6 (23),
        # Mar 10-13 (27), Mar 16, 17, 18 (30).
        assert deadline(altai, at("2026-02-02 10:00"), 30, "working_days") == (
            "2026-03-18T18:00:00+07:00"
        )


class TestTimeZones:
    def test_input_in_utc_for_moscow_and_barnaul(
        self, altai: WorkCalendar, moscow: WorkCalendar
    ) -> None:
        start = iso("2026-01-16T13:00:00+00:00")  # 16:00 in Moscow, 20:00 in Barnaul (Fri)
        assert deadline(moscow, start, 4, "working_hours") == "2026-01-19T11:00:00+03:00"
        assert deadline(altai, start, 4, "working_hours") == "2026-01-19T13:00:00+07:00"

    def test_the_start_day_is_the_local_date(
        self, altai: WorkCalendar, moscow: WorkCalendar
    ) -> None:
        start = iso("2026-01-12T18:30:00Z")  # Tue 01:30 in Barnaul, Mon 21:30 in Moscow
        assert deadline(altai, start, 1, "working_days") == "2026-01-14T18:00:00+07:00"
        assert deadline(moscow, start, 1, "working_days") == "2026-01-13T18:00:00+03:00"

    def test_novosibirsk(self, novosibirsk: WorkCalendar) -> None:
        start = iso("2026-01-13T02:00:00+00:00")  # 09:00 in Novosibirsk (UTC+7)
        assert deadline(novosibirsk, start, 2, "working_hours") == "2026-01-13T11:00:00+07:00"
        assert deadline(novosibirsk, start, 1, "calendar_days") == "2026-01-14T18:00:00+07:00"

    def test_other_offsets_in_are_converted_out(self, altai: WorkCalendar) -> None:
        start = iso("2026-01-16T12:00:00+03:00")  # 16:00 in Barnaul
        assert deadline(altai, start, 4, "working_hours") == "2026-01-19T11:00:00+07:00"

    def test_moscow_gets_the_federal_holidays(self, moscow: WorkCalendar) -> None:
        start = at("2025-12-29 10:00", "Europe/Moscow")
        assert deadline(moscow, start, 2, "working_days") == "2026-01-12T18:00:00+03:00"

    def test_plain_hours_across_a_dst_change(self) -> None:
        berlin = WorkCalendar(CalendarSpec(code="ber", tz="Europe/Berlin"))
        start = at("2026-03-28 12:00", "Europe/Berlin")  # CET; CEST from Mar 29 02:00
        assert deadline(berlin, start, 24, "hours") == "2026-03-29T13:00:00+02:00"


class TestTwentyFourSeven:
    def test_working_hours_run_through_nights_and_weekends(self, always: WorkCalendar) -> None:
        assert deadline(always, at("2026-01-16 16:00"), 30, "working_hours") == (
            "2026-01-17T22:00:00+07:00"
        )

    def test_holidays_are_ignored_and_a_day_ends_at_midnight(self, always: WorkCalendar) -> None:
        start = at("2025-12-31 10:00")
        assert deadline(always, start, 1, "working_days") == "2026-01-02T00:00:00+07:00"
        assert deadline(always, start, 2, "calendar_days") == "2026-01-03T00:00:00+07:00"

    def test_minutes(self, always: WorkCalendar) -> None:
        assert deadline(always, iso("2026-01-16T10:00:00Z"), 1, "minutes") == (
            "2026-01-16T17:01:00+07:00"
        )


class TestInputValidation:
    @pytest.mark.parametrize(
        ("duration", "unit"),
        [
            (-1, "hours"),
            (float("nan"), "working_hours"),
            (float("inf"), "minutes"),
            (1.5, "working_days"),
            (0, "working_days"),
            (0, "calendar_days"),
        ],
    )
    def test_bad_durations(self, altai: WorkCalendar, duration: float, unit: str) -> None:
        with pytest.raises(ValueError, match="duration|days"):
            compute_deadline(at("2026-01-13 10:00"), duration, unit, altai)

    def test_bool_is_not_a_duration(self, altai: WorkCalendar) -> None:
        with pytest.raises(TypeError):
            compute_deadline(at("2026-01-13 10:00"), True, "hours", altai)

    def test_unknown_unit(self, altai: WorkCalendar) -> None:
        with pytest.raises(ValueError, match="unknown unit 'weeks'"):
            compute_deadline(at("2026-01-13 10:00"), 1, "weeks", altai)

    def test_naive_start_is_refused(self, altai: WorkCalendar) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            compute_deadline(dt.datetime(2026, 1, 13, 10), 1, "hours", altai)

    def test_whole_float_days_and_enum_units_are_accepted(self, altai: WorkCalendar) -> None:
        result = compute_deadline(at("2026-01-12 10:00"), 1.0, DurationUnit.WORKING_DAYS, altai)
        assert result.isoformat() == "2026-01-13T18:00:00+07:00"
