"""How item actions move the SLA clocks (SPEC §5)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from schemas.base import utcnow
from schemas.catalog import Authority
from schemas.items import Item
from service.config import Settings
from service.db import UnitOfWork
from service.sla import engine
from service.sla.calendars import calendar_registry
from service.sla.checks import schedule_check
from service.sla.policies import policy_for
from service.sla.registry import CalendarRegistry


@dataclass
class SlaContext:
    registry: CalendarRegistry
    now: dt.datetime = field(default_factory=utcnow)


async def sla_context(uow: UnitOfWork, settings: Settings) -> SlaContext:
    return SlaContext(await calendar_registry(uow.session, settings.catalog_dir))


async def _calendar_of_owner(uow: UnitOfWork, item: Item) -> str | None:
    if item.authority_code is None:
        return None
    authority = await uow.session.get(Authority, item.authority_code)
    return authority.calendar_code if authority is not None else None


async def attach_clocks(uow: UnitOfWork, item: Item, sla: SlaContext) -> None:
    snap = await policy_for(uow.session, item)
    calendar = await _calendar_of_owner(uow, item) or "altai"
    engine.attach(item, snap, calendar, sla.registry, item.received_at)
    schedule_check(uow, item)


def on_reply(uow: UnitOfWork, item: Item, sla: SlaContext, *, final: bool) -> None:
    engine.stop(item, "first_response", sla.now, sla.registry)
    if final:
        engine.stop(item, "resolution", sla.now, sla.registry)
    schedule_check(uow, item)


def on_interim_reply(uow: UnitOfWork, item: Item, sla: SlaContext) -> None:
    """A reply that is not the final one: the first response is given, and under a policy with
    `after_interim` the first such reply sets the final answer's deadline."""
    engine.stop(item, "first_response", sla.now, sla.registry)
    engine.final_after_interim(item, sla.now, sla.registry)
    schedule_check(uow, item)


def on_stop_all(uow: UnitOfWork, item: Item, sla: SlaContext) -> None:
    for name in engine.open_clocks(item):
        engine.stop(item, name, sla.now, sla.registry)
    schedule_check(uow, item)


def on_pause(uow: UnitOfWork, item: Item, sla: SlaContext) -> None:
    engine.pause(item, sla.now, sla.registry)
    schedule_check(uow, item)


def on_resume(uow: UnitOfWork, item: Item, sla: SlaContext) -> None:
    engine.resume(item, sla.now, sla.registry)
    schedule_check(uow, item)


async def on_redirect(uow: UnitOfWork, item: Item, sla: SlaContext) -> None:
    # A pause belongs to the authority that asked (request-info) or that was handed the item
    # (a redirect pause): it ends here, then the policy decides about the new authority.
    engine.resume(item, sla.now, sla.registry)
    calendar = await _calendar_of_owner(uow, item)
    if calendar is not None:
        engine.move_to_calendar(item, calendar, sla.now, sla.registry)
    mode = item.sla.get("on_redirect", "continue") if item.sla else "continue"
    names = tuple(engine.open_clocks(item))
    if mode == "restart":
        engine.restart(item, names, sla.now, sla.registry)
    elif mode == "pause":
        engine.pause(item, sla.now, sla.registry, names=names)
    schedule_check(uow, item)


def on_reopen(uow: UnitOfWork, item: Item, sla: SlaContext) -> None:
    engine.restart(item, ("resolution",), sla.now, sla.registry)
    schedule_check(uow, item)
