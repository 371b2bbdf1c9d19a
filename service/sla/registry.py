"""Calendars by code: the built-in `altai` and `24x7`, plus any registered or loaded later."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from service.sla.calendar import WorkCalendar, altai_spec, twenty_four_seven_spec
from service.sla.production import ProductionCalendar
from service.sla.spec import CalendarSpec

SpecLoader = Callable[[str], CalendarSpec | None]


class UnknownCalendarError(LookupError):
    def __init__(self, code: str, known: list[str]) -> None:
        super().__init__(f"unknown calendar {code!r}; known: {', '.join(known) or 'none'}")
        self.code = code


class CalendarRegistry:
    """Builds each `WorkCalendar` once; `loader` looks up codes not registered yet (e.g. the DB).

    Calendars are immutable: after an admin edits a calendar, `register` its new spec (or
    `forget` the code so the loader is asked again).
    """

    def __init__(
        self,
        production: ProductionCalendar | None = None,
        *,
        loader: SpecLoader | None = None,
    ) -> None:
        self.production = production if production is not None else ProductionCalendar()
        self._loader = loader
        self._calendars: dict[str, WorkCalendar] = {}

    def register(self, spec: CalendarSpec) -> WorkCalendar:
        calendar = WorkCalendar(spec, self.production)
        self._calendars[spec.code] = calendar
        return calendar

    def forget(self, code: str) -> None:
        self._calendars.pop(code, None)

    def get(self, code: str) -> WorkCalendar:
        calendar = self._calendars.get(code)
        if calendar is not None:
            return calendar
        spec = self._loader(code) if self._loader is not None else None
        if spec is None:
            raise UnknownCalendarError(code, self.codes())
        return self.register(spec)

    def __contains__(self, code: object) -> bool:
        return code in self._calendars

    def codes(self) -> list[str]:
        return sorted(self._calendars)


def load_production_calendar(path: str | os.PathLike[str] | None) -> ProductionCalendar:
    """calendar.csv when the file exists, else the holidays package alone."""
    if path is not None and Path(path).is_file():
        return ProductionCalendar.from_csv(path)
    return ProductionCalendar()


def default_registry(
    production: ProductionCalendar | None = None, *, loader: SpecLoader | None = None
) -> CalendarRegistry:
    registry = CalendarRegistry(production, loader=loader)
    registry.register(altai_spec())
    registry.register(twenty_four_seven_spec())
    return registry
