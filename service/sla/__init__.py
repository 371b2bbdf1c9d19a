"""Pure SLA calendar and deadline engine (no database, no web): see `service.sla.calendar`."""

from service.sla.calendar import (
    ALTAI_CODE,
    TWENTY_FOUR_SEVEN_CODE,
    BusinessDay,
    NoBusinessTimeError,
    WorkCalendar,
    altai_spec,
    twenty_four_seven_spec,
)
from service.sla.clocks import (
    RedirectMode,
    redirect_deadline,
    remaining_clock_time,
    shift_deadline,
    used_share,
    warn_at,
)
from service.sla.deadlines import (
    DurationUnit,
    add_business_time,
    add_clock_time,
    clock_elapsed,
    compute_deadline,
    elapsed_business_seconds,
    next_business_moment,
    parse_unit,
    uses_business_time,
)
from service.sla.production import CalendarDataError, DayKind, ProductionCalendar
from service.sla.registry import (
    CalendarRegistry,
    UnknownCalendarError,
    default_registry,
    load_production_calendar,
)
from service.sla.spec import (
    CalendarSpec,
    DateOverride,
    Interval,
    OverrideKind,
    SpecError,
    hours,
)

__all__ = [
    "ALTAI_CODE",
    "TWENTY_FOUR_SEVEN_CODE",
    "BusinessDay",
    "CalendarDataError",
    "CalendarRegistry",
    "CalendarSpec",
    "DateOverride",
    "DayKind",
    "DurationUnit",
    "Interval",
    "NoBusinessTimeError",
    "OverrideKind",
    "ProductionCalendar",
    "RedirectMode",
    "SpecError",
    "UnknownCalendarError",
    "WorkCalendar",
    "add_business_time",
    "add_clock_time",
    "altai_spec",
    "clock_elapsed",
    "compute_deadline",
    "default_registry",
    "elapsed_business_seconds",
    "hours",
    "load_production_calendar",
    "next_business_moment",
    "parse_unit",
    "redirect_deadline",
    "remaining_clock_time",
    "shift_deadline",
    "twenty_four_seven_spec",
    "used_share",
    "uses_business_time",
    "warn_at",
]
