"""`feedback-router sla deadline` (argv without the leading "sla")."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.sla import CalendarSpec, ProductionCalendar, default_registry
from service.sla.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def deadline_args(start: str, duration: str, unit: str, *extra: str) -> list[str]:
    return ["deadline", "--start", start, "--duration", duration, "--unit", unit, *extra]


@pytest.mark.parametrize(
    ("start", "duration", "unit", "extra", "expected"),
    [
        ("2026-01-16T16:00", "4", "working_hours", (), "2026-01-19T11:00:00+07:00"),
        ("2025-12-29T10:00", "2", "working_days", (), "2026-01-12T18:00:00+07:00"),
        ("2026-01-13T12:30", "1", "working_hours", (), "2026-01-13T14:30:00+07:00"),
        ("2025-12-31T10:00", "1", "calendar_days", (), "2026-01-12T18:00:00+07:00"),
        ("2025-10-31T10:00", "1.0", "working_days", (), "2025-11-01T17:00:00+07:00"),
        ("2026-01-16T09:00:00Z", "4", "working_hours", (), "2026-01-19T11:00:00+07:00"),
        ("2026-01-16T16:00", "90", "minutes", (), "2026-01-16T17:30:00+07:00"),
        ("2026-01-16T16:00", "0.5", "hours", (), "2026-01-16T16:30:00+07:00"),
        (
            "2026-01-16T16:00",
            "4",
            "working_hours",
            ("--calendar", "altai"),
            "2026-01-19T11:00:00+07:00",
        ),
        (
            "2026-01-16T16:00",
            "4",
            "working_hours",
            ("--calendar", "24x7"),
            "2026-01-16T20:00:00+07:00",
        ),
        (
            "2025-12-31T10:00",
            "1",
            "working_days",
            ("--calendar", "24x7"),
            "2026-01-02T00:00:00+07:00",
        ),
    ],
)
def test_prints_the_deadline_alone(
    capsys: pytest.CaptureFixture[str],
    start: str,
    duration: str,
    unit: str,
    extra: tuple[str, ...],
    expected: str,
) -> None:
    code, out, err = run(capsys, *deadline_args(start, duration, unit, *extra))
    assert (code, out, err) == (0, expected + "\n", "")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (deadline_args("2026-01-16T16:00", "4", "weeks"), "invalid choice"),
        (deadline_args("yesterday", "4", "hours"), "Invalid isoformat"),
        (deadline_args("2026-01-16T16:00", "-1", "hours"), "duration"),
        (deadline_args("2026-01-16T16:00", "1.5", "working_days"), "whole number"),
        (deadline_args("2026-01-16T16:00", "x", "hours"), "invalid _number value"),
        (deadline_args("2026-01-16T16:00", "1", "hours", "--calendar", "moon"), "unknown calendar"),
        (
            deadline_args("2026-01-16T16:00", "1", "hours", "--calendar-csv", "/nonexistent.csv"),
            "no production calendar file",
        ),
        (["deadline", "--start", "2026-01-16T16:00"], "required"),
        (["frobnicate"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_input_exits_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert message in err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "deadline", "--help")
    assert code == 0 and "--calendar" in out


def test_more_calendars_through_a_registry(
    capsys: pytest.CaptureFixture[str], production: ProductionCalendar
) -> None:
    registry = default_registry(production)
    registry.register(CalendarSpec(code="msk", tz="Europe/Moscow"))
    argv = deadline_args("2026-01-16T16:00", "4", "working_hours", "--calendar", "msk")
    assert main(argv, registry=registry) == 0
    # A naive start is read in the calendar's own zone.
    assert capsys.readouterr().out == "2026-01-19T11:00:00+03:00\n"


def test_a_production_calendar_csv_can_be_given(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "calendar.csv"
    path.write_text("date,kind,name\n2026-01-19,holiday,test\n", encoding="utf-8")
    argv = deadline_args("2026-01-16T16:00", "4", "working_hours", "--calendar-csv", str(path))
    code, out, _ = run(capsys, *argv)
    # Mon 19 is closed by this file; 2026 comes only from it, so Tue 20 is the next open day.
    assert (code, out) == (0, "2026-01-20T11:00:00+07:00\n")
