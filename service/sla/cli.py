"""`feedback-router sla ...`: check calendars and deadlines by hand (SPEC §5).

    feedback-router sla deadline --start ISO --duration N --unit UNIT [--calendar CODE]
                                 [--calendar-csv PATH | --from-db]

prints the deadline alone, ISO 8601 with the calendar's offset. A naive --start is read in the
calendar's time zone. Exit status 2 on bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from pathlib import Path

from service.config import get_settings
from service.sla.calendar import ALTAI_CODE
from service.sla.deadlines import DurationUnit, compute_deadline
from service.sla.production import ProductionCalendar
from service.sla.registry import (
    CalendarRegistry,
    UnknownCalendarError,
    default_registry,
    load_production_calendar,
)


def main(argv: list[str], *, registry: CalendarRegistry | None = None) -> int:
    """Run an `sla` subcommand; `argv` excludes the leading "sla".

    Pass `registry` to offer calendars beyond `altai` and `24x7` (e.g. loaded from the DB).
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage or the help already
        return exc.code if isinstance(exc.code, int) else 2
    if args.command != "deadline":
        parser.print_help(sys.stderr)
        return 2
    return _deadline(args, registry)


def _deadline(args: argparse.Namespace, registry: CalendarRegistry | None) -> int:
    try:
        if registry is None and args.from_db:
            registry = asyncio.run(_live_registry())
        calendars = registry or default_registry(_production(args.calendar_csv))
        calendar = calendars.get(args.calendar)
        start = calendar.localize(dt.datetime.fromisoformat(args.start))
        deadline = compute_deadline(start, args.duration, args.unit, calendar)
    except (UnknownCalendarError, ValueError) as exc:
        message = exc.args[0] if exc.args else str(exc)
        print(f"feedback-router sla deadline: {message}", file=sys.stderr)
        return 2
    print(deadline.isoformat())
    return 0


async def _live_registry() -> CalendarRegistry:
    """The calendars the worker computes with: built-in ones and those edited in the database."""
    from service.db import one_off_session
    from service.sla.calendars import calendar_registry

    settings = get_settings()
    async with one_off_session(settings, "cli") as session:
        return await calendar_registry(session, settings.catalog_dir)


def _production(path: Path | None) -> ProductionCalendar:
    if path is not None and not path.is_file():
        # Named on purpose: falling back to the holidays package would answer another question.
        raise ValueError(f"no production calendar file {str(path)!r}")
    return load_production_calendar(path or get_settings().catalog_dir / "calendar.csv")


def _number(text: str) -> float:
    value = float(text)
    return int(value) if value.is_integer() else value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feedback-router sla")
    commands = parser.add_subparsers(dest="command", required=True)
    deadline = commands.add_parser("deadline", help="print the deadline of a clock")
    deadline.add_argument("--start", required=True, help="ISO 8601; naive = calendar time")
    deadline.add_argument("--duration", required=True, type=_number)
    deadline.add_argument("--unit", required=True, choices=[unit.value for unit in DurationUnit])
    deadline.add_argument("--calendar", default=ALTAI_CODE, help="altai (default), 24x7, ...")
    source = deadline.add_mutually_exclusive_group()
    source.add_argument(
        "--calendar-csv", type=Path, default=None, help="production calendar CSV to use"
    )
    source.add_argument(
        "--from-db",
        action="store_true",
        help="the calendars in the database (DATABASE_URL), with their overrides, as the worker",
    )
    return parser
