"""Pauses, redirects, warnings and the business-time primitives, checked by hand.

The running example: a 4-working-hour clock started Fri 2026-01-16 16:00 in Barnaul is due
Mon 2026-01-19 11:00 (Fri 16-18 = 2 h, Mon 09-11 = 2 h).
"""

from __future__ import annotations

import pytest

from service.sla import (
    RedirectMode,
    WorkCalendar,
    add_business_time,
    add_clock_time,
    clock_elapsed,
    compute_deadline,
    elapsed_business_seconds,
    next_business_moment,
    redirect_deadline,
    remaining_clock_time,
    shift_deadline,
    used_share,
    uses_business_time,
    warn_at,
)
from tests.sla.helpers import at, iso

HOUR = 3600.0
START = at("2026-01-16 16:00")
DUE = at("2026-01-19 11:00")


class TestBusinessTime:
    @pytest.mark.parametrize(
        ("start", "end", "hours"),
        [
            ("2026-01-16 16:00", "2026-01-19 11:00", 4),
            ("2026-01-13 12:30", "2026-01-13 14:30", 1),  # lunch excluded
            ("2026-01-17 00:00", "2026-01-18 23:59", 0),  # weekend
            ("2025-12-30 00:00", "2026-01-12 10:00", 8),  # short Dec 30 (7) + Jan 12 (1)
            ("2026-01-12 00:00", "2026-01-19 00:00", 40),
        ],
    )
    def test_elapsed(self, altai: WorkCalendar, start: str, end: str, hours: float) -> None:
        assert elapsed_business_seconds(altai, at(start), at(end)) == hours * HOUR

    def test_elapsed_is_signed(self, altai: WorkCalendar) -> None:
        assert elapsed_business_seconds(altai, DUE, START) == -4 * HOUR

    def test_add_accepts_seconds(self, altai: WorkCalendar) -> None:
        assert add_business_time(altai, START, 4 * HOUR) == DUE

    def test_add_refuses_negative(self, altai: WorkCalendar) -> None:
        with pytest.raises(ValueError, match="negative"):
            add_business_time(altai, START, -1.0)

    def test_next_business_moment(self, altai: WorkCalendar) -> None:
        assert next_business_moment(altai, at("2026-01-16 18:00")) == at("2026-01-19 09:00")
        assert next_business_moment(altai, at("2026-01-13 13:10")) == at("2026-01-13 14:00")
        assert next_business_moment(altai, at("2026-01-13 10:10")) == at("2026-01-13 10:10")

    def test_time_base_per_unit(self, altai: WorkCalendar) -> None:
        assert not uses_business_time("minutes") and not uses_business_time("hours")
        assert uses_business_time("working_days") and uses_business_time("calendar_days")
        assert clock_elapsed(START, DUE, altai, unit="hours") == 67 * HOUR
        assert clock_elapsed(START, DUE, altai, unit="working_hours") == 4 * HOUR
        assert add_clock_time(START, HOUR, altai, unit="hours") == at("2026-01-16 17:00")


class TestWarnings:
    def test_75_percent_of_working_hours(self, altai: WorkCalendar) -> None:
        assert warn_at(START, DUE, 0.75, altai, unit="working_hours") == at("2026-01-19 10:00")

    def test_75_percent_of_plain_hours(self, altai: WorkCalendar) -> None:
        due = compute_deadline(START, 4, "hours", altai)
        assert warn_at(START, due, 0.75, altai, unit="hours") == at("2026-01-16 19:00")

    def test_75_percent_of_a_working_day_lands_in_business_hours(self, altai: WorkCalendar) -> None:
        # Mon 10:00 + 1 working day = Tue 18:00; allowed 3 + 4 + 8 = 15 h; 75 % = 11 h 15 min:
        # Mon 10-13, 14-18 (7 h), Tue 09-13 (4 h), then 15 min after lunch.
        start = at("2026-01-12 10:00")
        due = compute_deadline(start, 1, "working_days", altai)
        assert warn_at(start, due, 0.75, altai, unit="working_days") == at("2026-01-13 14:15")

    def test_half_of_one_minute_on_24x7(self, always: WorkCalendar) -> None:
        start = iso("2026-01-16T10:00:00+00:00")
        due = compute_deadline(start, 1, "minutes", always)
        assert warn_at(start, due, 0.5, always, unit="minutes") == iso("2026-01-16T10:00:30Z")

    def test_share_bounds(self, altai: WorkCalendar) -> None:
        assert warn_at(START, DUE, 0, altai, unit="working_hours") == START
        assert warn_at(START, DUE, 1, altai, unit="working_hours") == DUE
        # 6 h: Fri 16-18, then Mon 09-13 (the earliest moment, not 14:00 after lunch).
        assert warn_at(START, DUE, 1.5, altai, unit="working_hours") == at("2026-01-19 13:00")
        with pytest.raises(ValueError, match="share"):
            warn_at(START, DUE, -0.1, altai, unit="working_hours")

    def test_with_an_earlier_pause(self, altai: WorkCalendar) -> None:
        # Paused Fri 17:00 - Mon 10:00 (2 business hours): due moves to Mon 13:00. Running time
        # is Fri 16-17 and from Mon 10:00, so 3 h of it (75 %) are done at Mon 12:00.
        due = shift_deadline(
            DUE,
            paused_from=at("2026-01-16 17:00"),
            paused_to=at("2026-01-19 10:00"),
            calendar=altai,
            unit="working_hours",
        )
        assert due == at("2026-01-19 13:00")
        moment = warn_at(START, due, 0.75, altai, unit="working_hours", paused_seconds=2 * HOUR)
        assert moment == at("2026-01-19 12:00")

    def test_used_share(self, altai: WorkCalendar) -> None:
        def share(now: str) -> float:
            return used_share(START, DUE, at(now), altai, unit="working_hours")

        assert share("2026-01-16 16:00") == 0
        assert share("2026-01-17 12:00") == 0.5
        assert share("2026-01-19 10:00") == 0.75
        assert share("2026-01-19 12:00") == 1.25

    def test_remaining(self, altai: WorkCalendar) -> None:
        now = at("2026-01-16 17:00")
        assert remaining_clock_time(now, DUE, altai, unit="working_hours") == 3 * HOUR
        late = at("2026-01-19 12:00")
        assert remaining_clock_time(late, DUE, altai, unit="working_hours") == -HOUR


class TestPause:
    def shift(self, calendar: WorkCalendar, due: str, start: str, end: str, unit: str) -> str:
        moved = shift_deadline(
            at(due), paused_from=at(start), paused_to=at(end), calendar=calendar, unit=unit
        )
        return moved.isoformat()

    def test_awaiting_citizen_over_the_weekend(self, altai: WorkCalendar) -> None:
        # Paused business time: Fri 17-18 and Mon 09-10.
        moved = self.shift(
            altai, "2026-01-19 11:00", "2026-01-16 17:00", "2026-01-19 10:00", "working_hours"
        )
        assert moved == "2026-01-19T13:00:00+07:00"

    def test_a_pause_outside_business_hours_costs_nothing(self, altai: WorkCalendar) -> None:
        moved = self.shift(
            altai, "2026-01-19 11:00", "2026-01-17 10:00", "2026-01-18 20:00", "working_hours"
        )
        assert moved == "2026-01-19T11:00:00+07:00"

    def test_a_pause_after_the_breach_changes_nothing(self, altai: WorkCalendar) -> None:
        moved = self.shift(
            altai, "2026-01-19 11:00", "2026-01-19 12:00", "2026-01-20 12:00", "working_hours"
        )
        assert moved == "2026-01-19T11:00:00+07:00"

    def test_plain_hours_shift_by_plain_time(self, altai: WorkCalendar) -> None:
        moved = self.shift(
            altai, "2026-01-16 20:00", "2026-01-16 17:00", "2026-01-16 18:30", "hours"
        )
        assert moved == "2026-01-16T21:30:00+07:00"

    def test_working_days_shift_by_business_time(self, altai: WorkCalendar) -> None:
        # Due Tue 18:00; paused Tue 12:00 - Wed 12:00 = 1 + 4 + 3 = 8 business hours -> Wed 18:00.
        moved = self.shift(
            altai, "2026-01-13 18:00", "2026-01-13 12:00", "2026-01-14 12:00", "working_days"
        )
        assert moved == "2026-01-14T18:00:00+07:00"

    def test_a_pause_across_the_new_year(self, altai: WorkCalendar) -> None:
        # Due Dec 30 17:00 (short day); paused Dec 30 16:00 - Jan 12 10:00 = 1 + 1 business hour.
        moved = self.shift(
            altai, "2025-12-30 17:00", "2025-12-30 16:00", "2026-01-12 10:00", "working_days"
        )
        assert moved == "2026-01-12T11:00:00+07:00"


class TestRedirect:
    def redirect(self, mode: str, calendar: WorkCalendar, **kwargs: object) -> str | None:
        arguments: dict[str, object] = {
            "deadline": DUE,
            "redirected_at": at("2026-01-16 17:00"),
            "duration": 4,
            "unit": "working_hours",
            "calendar": calendar,
        }
        arguments.update(kwargs)
        result = redirect_deadline(mode, **arguments)  # type: ignore[arg-type]
        return None if result is None else result.isoformat()

    def test_continue_keeps_the_deadline(self, altai: WorkCalendar) -> None:
        assert self.redirect("continue", altai) == "2026-01-19T11:00:00+07:00"

    def test_restart_counts_from_the_redirect(self, altai: WorkCalendar) -> None:
        # Fri 17-18 (1 h), Mon 09-12 (3 h).
        assert self.redirect(RedirectMode.RESTART, altai) == "2026-01-19T12:00:00+07:00"

    def test_pause_until_the_new_authority_takes_it(self, altai: WorkCalendar) -> None:
        assert self.redirect("pause", altai) is None
        # 3 business hours were left at Fri 17:00; resumed Mon 10:00 -> Mon 13:00.
        resumed = self.redirect("pause", altai, resumed_at=at("2026-01-19 10:00"))
        assert resumed == "2026-01-19T13:00:00+07:00"

    def test_a_breached_clock_stays_breached(self, altai: WorkCalendar) -> None:
        late = at("2026-01-19 12:00")
        assert self.redirect("continue", altai, redirected_at=late) == "2026-01-19T11:00:00+07:00"
        resumed = self.redirect(
            "pause", altai, redirected_at=late, resumed_at=at("2026-01-20 10:00")
        )
        assert resumed == "2026-01-19T11:00:00+07:00"
        # Restarted at Mon 12:00: 12-13, 14-17.
        assert self.redirect("restart", altai, redirected_at=late) == "2026-01-19T17:00:00+07:00"

    def test_continue_into_another_calendar_keeps_the_remaining_time(
        self, altai: WorkCalendar, moscow: WorkCalendar
    ) -> None:
        # 3 business hours left at Fri 17:00 Barnaul = 13:00 Moscow (lunch there): 14-17 MSK.
        moved = self.redirect("continue", altai, new_calendar=moscow)
        assert moved == "2026-01-16T17:00:00+03:00"

    def test_unknown_mode(self, altai: WorkCalendar) -> None:
        with pytest.raises(ValueError, match="bounce"):
            self.redirect("bounce", altai)
