"""Pure fixtures for the SLA calendar tests: no database, no network."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import get_settings
from service.sla import CalendarSpec, ProductionCalendar, WorkCalendar, twenty_four_seven_spec
from service.sla.calendar import altai_spec


@pytest.fixture(scope="session")
def calendar_csv() -> Path:
    path = get_settings().catalog_dir / "calendar.csv"
    assert path.is_file(), f"the seed production calendar is missing at {path}"
    return path


@pytest.fixture(scope="session")
def production(calendar_csv: Path) -> ProductionCalendar:
    return ProductionCalendar.from_csv(calendar_csv)


@pytest.fixture(scope="session")
def altai(production: ProductionCalendar) -> WorkCalendar:
    return WorkCalendar(altai_spec(), production)


@pytest.fixture(scope="session")
def moscow(production: ProductionCalendar) -> WorkCalendar:
    return WorkCalendar(CalendarSpec(code="msk", tz="Europe/Moscow"), production)


@pytest.fixture(scope="session")
def novosibirsk(production: ProductionCalendar) -> WorkCalendar:
    return WorkCalendar(CalendarSpec(code="nsk", tz="Asia/Novosibirsk"), production)


@pytest.fixture(scope="session")
def always() -> WorkCalendar:
    return WorkCalendar(twenty_four_seven_spec())
