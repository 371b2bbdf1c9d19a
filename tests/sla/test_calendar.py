"""WorkCalendar day resolution, overrides, the JSON spec and the registry."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from service.sla import (
    CalendarRegistry,
    CalendarSpec,
    DateOverride,
    Interval,
    OverrideKind,
    ProductionCalendar,
    SpecError,
    UnknownCalendarError,
    WorkCalendar,
    compute_deadline,
    default_registry,
    hours,
    twenty_four_seven_spec,
)
from service.sla.calendar import altai_spec, cut_end
from tests.sla.helpers import at


def day_hours(calendar: WorkCalendar, day: str) -> list[str]:
    return [str(interval) for interval in calendar.day(dt.date.fromisoformat(day)).intervals]


def with_overrides(production: ProductionCalendar, *overrides: DateOverride) -> WorkCalendar:
    return WorkCalendar(altai_spec().with_overrides(overrides), production)


class TestDays:
    @pytest.mark.parametrize(
        ("day", "expected"),
        [
            ("2026-01-13", ["09:00-13:00", "14:00-18:00"]),  # ordinary Tuesday
            ("2026-01-17", []),  # Saturday
            ("2025-11-01", ["09:00-13:00", "14:00-17:00"]),  # working Saturday, short
            ("2025-11-03", []),  # transfer day off
            ("2025-12-30", ["09:00-13:00", "14:00-17:00"]),  # short
            ("2026-01-07", []),  # holiday
            ("2026-01-09", []),  # transfer day off
        ],
    )
    def test_altai(self, altai: WorkCalendar, day: str, expected: list[str]) -> None:
        assert day_hours(altai, day) == expected

    def test_business_day_reports_why(self, altai: WorkCalendar) -> None:
        day = altai.day(dt.date(2025, 11, 1))
        assert day.working and day.short and day.override is None
        assert {kind.value for kind in day.kinds} == {"working_weekend", "short_day"}

    def test_is_business_time_edges(self, altai: WorkCalendar) -> None:
        assert altai.is_business_time(at("2026-01-13 09:00"))
        assert altai.is_business_time(at("2026-01-13 12:59:59"))
        assert not altai.is_business_time(at("2026-01-13 13:00"))
        assert altai.is_business_time(at("2026-01-13 14:00"))
        assert not altai.is_business_time(at("2026-01-13 18:00"))
        assert not altai.is_business_time(at("2025-12-30 17:00"))

    def test_end_of_business(self, altai: WorkCalendar) -> None:
        assert altai.end_of_business(dt.date(2025, 12, 30)) == at("2025-12-30 17:00")
        assert altai.end_of_business(dt.date(2026, 1, 9)) is None

    def test_days_range(self, altai: WorkCalendar) -> None:
        january = altai.days(dt.date(2026, 1, 1), dt.date(2026, 2, 1))
        assert len(january) == 31
        assert sum(day.working for day in january) == 15  # Jan 12-30 weekdays

    def test_24x7_days_are_whole(self, always: WorkCalendar) -> None:
        assert day_hours(always, "2026-01-01") == ["00:00-24:00"]
        assert always.end_of_business(dt.date(2026, 1, 1)) == at("2026-01-02 00:00")

    def test_a_dst_day_has_23_hours(self) -> None:
        berlin = WorkCalendar(twenty_four_seven_spec(tz="Europe/Berlin"))
        ((start, end),) = berlin.windows(dt.date(2026, 3, 29))
        assert (end - start) == dt.timedelta(hours=23)

    def test_working_weekend_in_a_week_without_saturday_hours_uses_the_standard_day(
        self, production: ProductionCalendar
    ) -> None:
        week = (hours("08:00-12:00", "13:00-17:00"), *((hours("10:00-19:00"),) * 4), (), ())
        spec = dataclasses.replace(altai_spec(), weekly=week)
        calendar = WorkCalendar(spec, production)
        assert day_hours(calendar, "2025-11-01") == ["08:00-12:00", "13:00-16:00"]


class TestCutEnd:
    def test_cuts_the_last_interval(self) -> None:
        cut = cut_end(hours("09:00-13:00", "14:00-18:00"), 60)
        assert [str(i) for i in cut] == ["09:00-13:00", "14:00-17:00"]

    def test_crosses_the_lunch_break_when_the_last_interval_is_short(self) -> None:
        cut = cut_end(hours("09:00-13:00", "14:30-15:00"), 90)
        assert [str(i) for i in cut] == ["09:00-12:00"]

    def test_can_empty_the_day(self) -> None:
        assert cut_end(hours("09:00-09:30"), 60) == ()


class TestOverrides:
    def test_non_working(self, production: ProductionCalendar) -> None:
        closed = DateOverride(dt.date(2026, 1, 13), OverrideKind.NON_WORKING)
        calendar = with_overrides(production, closed)
        assert compute_deadline(at("2026-01-12 10:00"), 1, "working_days", calendar) == at(
            "2026-01-14 18:00"
        )
        assert compute_deadline(at("2026-01-12 17:30"), 1, "working_hours", calendar) == at(
            "2026-01-14 09:30"
        )

    def test_custom_hours(self, production: ProductionCalendar) -> None:
        custom = DateOverride(dt.date(2026, 1, 13), OverrideKind.CUSTOM, hours("10:00-15:00"))
        calendar = with_overrides(production, custom)
        assert compute_deadline(at("2026-01-13 08:00"), 2, "working_hours", calendar) == at(
            "2026-01-13 12:00"
        )
        assert compute_deadline(at("2026-01-12 10:00"), 1, "working_days", calendar) == at(
            "2026-01-13 15:00"
        )

    def test_working_reopens_a_transfer_day_off(self, production: ProductionCalendar) -> None:
        opened = DateOverride(dt.date(2026, 1, 9), OverrideKind.WORKING)
        calendar = with_overrides(production, opened)
        assert compute_deadline(at("2026-01-08 10:00"), 1, "working_days", calendar) == at(
            "2026-01-09 18:00"
        )

    def test_working_on_a_saturday_takes_the_standard_day(
        self, production: ProductionCalendar
    ) -> None:
        calendar = with_overrides(production, DateOverride(dt.date(2026, 1, 17), "working"))  # type: ignore[arg-type]
        assert day_hours(calendar, "2026-01-17") == ["09:00-13:00", "14:00-18:00"]
        assert compute_deadline(at("2026-01-17 08:00"), 1, "working_hours", calendar) == at(
            "2026-01-17 10:00"
        )

    def test_working_cancels_a_derived_short_day(self, production: ProductionCalendar) -> None:
        full = DateOverride(dt.date(2025, 12, 30), OverrideKind.WORKING, note="Минтруд: full day")
        calendar = with_overrides(production, full)
        assert not calendar.day(dt.date(2025, 12, 30)).short
        assert compute_deadline(at("2025-12-29 10:00"), 1, "working_days", calendar) == at(
            "2025-12-30 18:00"
        )

    def test_short(self, production: ProductionCalendar) -> None:
        short = DateOverride(dt.date(2026, 1, 13), OverrideKind.SHORT)
        calendar = with_overrides(production, short)
        assert calendar.day(dt.date(2026, 1, 13)).short
        assert compute_deadline(at("2026-01-12 10:00"), 1, "working_days", calendar) == at(
            "2026-01-13 17:00"
        )

    def test_custom_needs_intervals_and_others_refuse_them(self) -> None:
        with pytest.raises(SpecError, match="needs intervals"):
            DateOverride(dt.date(2026, 1, 13), OverrideKind.CUSTOM)
        with pytest.raises(SpecError, match="only a custom"):
            DateOverride(dt.date(2026, 1, 13), OverrideKind.SHORT, hours("09:00-10:00"))

    def test_one_override_per_date(self) -> None:
        day = dt.date(2026, 1, 13)
        with pytest.raises(SpecError, match="one override per date"):
            altai_spec().with_overrides(
                [DateOverride(day, OverrideKind.SHORT), DateOverride(day, OverrideKind.WORKING)]
            )


class TestSpecJson:
    def test_round_trip_through_json(self) -> None:
        spec = altai_spec().with_overrides(
            [
                DateOverride(dt.date(2026, 1, 13), OverrideKind.CUSTOM, hours("10:00-15:00")),
                DateOverride(dt.date(2026, 1, 9), OverrideKind.WORKING, note="субботник"),
            ]
        )
        data = json.loads(json.dumps(spec.to_dict()))
        assert data["weekly"]["mon"] == ["09:00-13:00", "14:00-18:00"]
        assert data["weekly"]["sat"] == []
        assert data["overrides"][0] == {
            "date": "2026-01-09",
            "kind": "working",
            "note": "субботник",
        }
        assert CalendarSpec.from_dict(data) == spec

    def test_minimal_dict_takes_the_altai_defaults(self) -> None:
        spec = CalendarSpec.from_dict({"code": "district"})
        assert spec.tz == "Asia/Barnaul"
        assert spec.weekly == altai_spec().weekly
        assert spec.production_calendar == "ru"

    def test_24x7_round_trip(self) -> None:
        spec = twenty_four_seven_spec()
        assert CalendarSpec.from_dict(spec.to_dict()) == spec
        assert spec.to_dict()["weekly"]["sun"] == ["00:00-24:00"]

    def test_interval_list_form(self) -> None:
        spec = CalendarSpec.from_dict({"code": "x", "weekly": {"mon": [["08:00", "12:00"]]}})
        assert spec.weekly[0] == (Interval(8 * 60, 12 * 60),)
        assert spec.weekly[1] == ()

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"code": "x", "colour": "red"}, "unknown calendar fields"),
            ({"code": "x", "tz": "Mars/Olympus"}, "unknown time zone"),
            ({"code": "x", "weekly": {"mon": ["09:00-13:00", "12:00-18:00"]}}, "overlap"),
            ({"code": "x", "weekly": {"mon": ["18:00-09:00"]}}, "not inside one day"),
            ({"code": "x", "weekly": {"mon": ["09:00-25:00"]}}, "between 00:00 and 24:00"),
            ({"code": "x", "weekly": {"mon": ["9-18"]}}, "HH:MM"),
            ({"code": "x", "weekly": {"monday": []}}, "unknown weekdays"),
            ({"code": "x", "production_calendar": "kz"}, "production calendar"),
            ({"code": "x", "overrides": [{"date": "2026-01-13", "kind": "nap"}]}, "bad override"),
            ({"code": ""}, "needs a code"),
            ({"code": "x", "short_day_cut_minutes": "60"}, "short_day_cut_minutes"),
            ({"code": "x", "tz": 7}, "tz must be a string"),
            ({"code": "x", "name": 5}, "name must be a string"),
            ({"code": "x", "weekly": ["mon"]}, "weekly must be an object"),
            ({"code": "x", "overrides": ["2026-01-13"]}, "an override is an object"),
        ],
    )
    def test_invalid(self, data: dict[str, object], message: str) -> None:
        with pytest.raises(SpecError, match=message):
            CalendarSpec.from_dict(data)


class TestRegistry:
    def test_defaults(self, production: ProductionCalendar) -> None:
        registry = default_registry(production)
        assert registry.codes() == ["24x7", "altai"]
        assert registry.get("altai").tz.key == "Asia/Barnaul"
        assert registry.get("altai") is registry.get("altai")

    def test_unknown(self) -> None:
        with pytest.raises(UnknownCalendarError, match="unknown calendar 'moon'"):
            default_registry().get("moon")

    def test_loader_is_asked_once_for_unknown_codes(self, production: ProductionCalendar) -> None:
        asked: list[str] = []

        def load(code: str) -> CalendarSpec | None:
            asked.append(code)
            return CalendarSpec(code=code, tz="Europe/Moscow") if code == "msk" else None

        registry = CalendarRegistry(production, loader=load)
        assert registry.get("msk").tz.key == "Europe/Moscow"
        registry.get("msk")
        with pytest.raises(UnknownCalendarError):
            registry.get("nope")
        assert asked == ["msk", "nope"]

    def test_register_replaces_after_an_edit(self, production: ProductionCalendar) -> None:
        registry = default_registry(production)
        closed = DateOverride(dt.date(2026, 1, 13), OverrideKind.NON_WORKING)
        registry.register(altai_spec().with_overrides([closed]))
        assert not registry.get("altai").is_working_day(dt.date(2026, 1, 13))
        registry.forget("altai")
        assert "altai" not in registry
