"""Administration of SLA policies and calendars."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.admin import CalendarRead, DateOverrideIn, SlaPolicyIn, SlaPolicyRead
from schemas.base import utcnow
from schemas.catalog import Authority, Category
from schemas.sla import SlaPolicy, WorkCalendarRow
from service.errors import Conflict, NotFound, Unprocessable
from service.sla.calendar import (
    TWENTY_FOUR_SEVEN_CODE,
    WorkCalendar,
    altai_spec,
    twenty_four_seven_spec,
)
from service.sla.deadlines import compute_deadline
from service.sla.policies import DEFAULT_ESCALATION
from service.sla.production import ProductionCalendar
from service.sla.registry import CalendarRegistry, UnknownCalendarError
from service.sla.spec import CalendarSpec, DateOverride, SpecError

BUILTINS: dict[str, Callable[[], CalendarSpec]] = {
    "altai": altai_spec,
    TWENTY_FOUR_SEVEN_CODE: twenty_four_seven_spec,
}


def policy_read(p: SlaPolicy) -> SlaPolicyRead:
    return SlaPolicyRead.model_validate(
        {
            "id": p.id,
            "name": p.name,
            "match": {
                "channel": p.match_channel,
                "category": p.match_category,
                "priority": p.match_priority,
                "authority_code": p.match_authority_code,
            },
            "calendar": p.calendar,
            "first_response": {
                "duration": p.first_response_duration,
                "unit": p.first_response_unit,
            },
            "resolution": {"duration": p.resolution_duration, "unit": p.resolution_unit},
            "warn_at": p.warn_at,
            "on_redirect": p.on_redirect,
            "pause_limit": {"duration": p.pause_limit_duration, "unit": p.pause_limit_unit},
            "remind_at": p.remind_at,
            "escalation": p.escalation,
            "after_interim": (
                {"duration": p.after_interim_duration, "unit": p.after_interim_unit}
                if p.after_interim_duration is not None
                else None
            ),
            "active": p.active,
            "version": p.version,
            "created_at": p.created_at,
            "updated_at": p.updated_at,
        }
    )


class ClockError(ValueError):
    def __init__(self, name: str, reason: ValueError) -> None:
        super().__init__(f"{name}: {reason}")
        self.name, self.reason = name, reason


def lay_out(
    cal: WorkCalendar,
    start: dt.datetime,
    clocks: Sequence[tuple[str, float, str]],
    steps: Sequence[tuple[float, str]],
) -> dict[str, dt.datetime]:
    """Every moment the engine will compute for a policy, so none fails in a routing job: the
    clocks from `start`, the escalation steps from the resolution deadline, as the engine
    times them (a step that fits from the start may not fit from there)."""
    due = {}
    for name, duration, unit in clocks:
        try:
            due[name] = compute_deadline(start, duration, unit, cal)
        except ValueError as exc:
            raise ClockError(name, exc) from exc
    for n, (duration, unit) in enumerate(steps):
        try:
            compute_deadline(due["resolution"], duration, unit, cal)
        except ValueError as exc:
            raise ClockError(f"escalation.{n}.after", exc) from exc
    return due


async def _validate(session: AsyncSession, body: SlaPolicyIn, registry: CalendarRegistry) -> None:
    m = body.match
    if m.category and await session.get(Category, m.category) is None:
        raise Unprocessable(f"unknown category {m.category!r}", field="match.category")
    if m.authority_code and await session.get(Authority, m.authority_code) is None:
        raise Unprocessable(f"unknown authority {m.authority_code!r}", field="match.authority_code")
    try:
        cal = registry.get(body.calendar or "altai")
    except UnknownCalendarError as exc:
        raise Unprocessable(f"unknown calendar {body.calendar!r}", field="calendar") from exc
    start = dt.datetime(2026, 1, 12, 10, tzinfo=dt.UTC)
    clocks = [
        (name, c.duration, c.unit)
        for name, c in (
            ("first_response", body.first_response),
            ("resolution", body.resolution),
            ("pause_limit", body.pause_limit),
            ("after_interim", body.after_interim),
        )
        if c is not None
    ]
    steps = [(s.after.duration, s.after.unit) for s in body.escalation or []]
    try:
        due = lay_out(cal, start, clocks, steps)
    except ClockError as exc:
        raise Unprocessable(f"{exc.name}: {exc.reason}", field=exc.name) from exc
    if due["first_response"] > due["resolution"]:
        # A first answer due after the final one: a unit mixed up, not a policy.
        raise Unprocessable(
            "first_response must not end after resolution (compare their units)",
            field="first_response",
        )


def _apply(policy: SlaPolicy, body: SlaPolicyIn) -> None:
    m = body.match
    policy.name = body.name
    policy.match_channel, policy.match_category = m.channel, m.category
    policy.match_priority, policy.match_authority_code = m.priority, m.authority_code
    policy.calendar = body.calendar
    policy.first_response_duration = body.first_response.duration
    policy.first_response_unit = body.first_response.unit
    policy.resolution_duration = body.resolution.duration
    policy.resolution_unit = body.resolution.unit
    policy.warn_at, policy.on_redirect = body.warn_at, body.on_redirect
    policy.pause_limit_duration = body.pause_limit.duration
    policy.pause_limit_unit = body.pause_limit.unit
    policy.remind_at = body.remind_at
    interim = body.after_interim
    policy.after_interim_duration = interim.duration if interim is not None else None
    policy.after_interim_unit = interim.unit if interim is not None else None
    steps = body.escalation
    policy.escalation = (
        [s.model_dump() for s in steps] if steps is not None else list(DEFAULT_ESCALATION)
    )
    policy.active = body.active


async def create_policy(
    session: AsyncSession, body: SlaPolicyIn, registry: CalendarRegistry
) -> SlaPolicy:
    await _validate(session, body, registry)
    if (await session.exec(select(SlaPolicy).where(SlaPolicy.name == body.name))).first():
        raise Conflict(f"a policy named {body.name!r} exists already")
    policy = SlaPolicy(
        first_response_duration=1,
        first_response_unit="hours",
        resolution_duration=1,
        resolution_unit="hours",
        name=body.name,
    )
    _apply(policy, body)
    session.add(policy)
    await session.flush()
    return policy


async def update_policy(
    session: AsyncSession, policy_id: int, body: SlaPolicyIn, registry: CalendarRegistry
) -> SlaPolicy:
    """A new version; items keep the version pinned when their clocks attached."""
    policy = await session.get(SlaPolicy, policy_id)
    if policy is None:
        raise NotFound(f"no policy {policy_id}")
    await _validate(session, body, registry)
    clash = select(SlaPolicy.id).where(SlaPolicy.name == body.name, SlaPolicy.id != policy_id)
    if (await session.exec(clash)).first() is not None:
        raise Conflict(f"another policy is named {body.name!r}")
    _apply(policy, body)
    policy.version += 1
    policy.updated_at = utcnow()
    session.add(policy)
    await session.flush()
    return policy


async def list_policies(session: AsyncSession) -> list[SlaPolicy]:
    return list((await session.exec(select(SlaPolicy).order_by(col(SlaPolicy.id)))).all())


async def calendar_spec(session: AsyncSession, code: str) -> tuple[CalendarSpec, int]:
    row = await session.get(WorkCalendarRow, code)
    if row is not None:
        return CalendarSpec.from_dict(row.spec), row.version
    if code in BUILTINS:
        return BUILTINS[code](), 0
    raise NotFound(f"no calendar {code!r}")


def _check_business_time(spec: CalendarSpec) -> None:
    # A calendar with no working time lays out no deadline: every item of an authority on it
    # (or under a policy pinning it) would fail its routing job and stay `new`, unseen.
    calendar = WorkCalendar(spec, ProductionCalendar())
    try:
        compute_deadline(utcnow(), 1, "working_days", calendar)
    except ValueError as exc:
        raise Unprocessable(f"calendar {spec.code!r} has no working time: {exc}") from exc


async def _check_policies_on(session: AsyncSession, spec: CalendarSpec) -> None:
    """Every active policy that may run on this calendar still lays out its clocks on the new
    version, or the edit is refused: otherwise the next item under such a policy fails its
    routing job and stays `new`."""
    calendar = WorkCalendar(spec, ProductionCalendar())
    start = utcnow()
    stmt = select(SlaPolicy).where(col(SlaPolicy.active).is_(True))
    for p in (await session.exec(stmt)).all():
        if p.calendar not in (None, spec.code):
            continue
        clocks = [
            ("first_response", p.first_response_duration, p.first_response_unit),
            ("resolution", p.resolution_duration, p.resolution_unit),
            ("pause_limit", p.pause_limit_duration, p.pause_limit_unit),
        ]
        if p.after_interim_duration is not None and p.after_interim_unit is not None:
            clocks.append(("after_interim", p.after_interim_duration, p.after_interim_unit))
        steps = [(s["after"]["duration"], s["after"]["unit"]) for s in p.escalation or []]
        try:
            lay_out(calendar, start, clocks, steps)
        except ClockError as exc:
            raise Unprocessable(
                f"calendar {spec.code!r} cannot lay out {exc.name} of SLA policy "
                f"{p.name!r} (id {p.id}): {exc.reason}"
            ) from exc


async def save_calendar(session: AsyncSession, spec: CalendarSpec) -> WorkCalendarRow:
    _check_business_time(spec)
    await _check_policies_on(session, spec)
    row = await session.get(WorkCalendarRow, spec.code)
    if row is None:
        row = WorkCalendarRow(code=spec.code, spec=spec.to_dict())
    else:
        row.spec, row.version, row.updated_at = spec.to_dict(), row.version + 1, utcnow()
    session.add(row)
    await session.flush()
    return row


def parse_spec(code: str, data: dict[str, Any]) -> CalendarSpec:
    try:
        spec = CalendarSpec.from_dict({**data, "code": code})
    except (SpecError, ValueError, KeyError, TypeError) as exc:
        raise Unprocessable(f"calendar spec: {exc}") from exc
    return spec


async def add_override(session: AsyncSession, code: str, body: DateOverrideIn) -> CalendarSpec:
    spec, _ = await calendar_spec(session, code)
    try:
        override = DateOverride.from_dict(body.model_dump(mode="json", exclude_none=True))
    except (SpecError, ValueError) as exc:
        raise Unprocessable(f"override: {exc}") from exc
    kept = [o for o in spec.overrides if o.date != override.date]
    spec = spec.with_overrides([*kept, override])
    await save_calendar(session, spec)
    return spec


async def remove_override(session: AsyncSession, code: str, day: dt.date) -> CalendarSpec:
    spec, _ = await calendar_spec(session, code)
    if all(o.date != day for o in spec.overrides):
        raise NotFound(f"calendar {code!r} has no override on {day.isoformat()}")
    spec = dataclasses.replace(spec, overrides=tuple(o for o in spec.overrides if o.date != day))
    await save_calendar(session, spec)
    return spec


async def list_calendars(session: AsyncSession) -> list[CalendarRead]:
    rows = {r.code: r for r in (await session.exec(select(WorkCalendarRow))).all()}
    out = [
        CalendarRead(
            code=c,
            builtin=True,
            version=rows[c].version if c in rows else 0,
            spec=rows[c].spec if c in rows else f().to_dict(),
        )
        for c, f in BUILTINS.items()
    ]
    out += [
        CalendarRead(code=c, builtin=False, version=r.version, spec=r.spec)
        for c, r in rows.items()
        if c not in BUILTINS
    ]
    return out
