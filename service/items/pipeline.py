"""Processing a new item: decide what it is, where it goes and when it is due, exactly once."""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from sqlmodel import func, select

from schemas.items import Channel, Item, ItemEvent, ItemMessage, Status
from service.db import UnitOfWork
from service.items.events import record
from service.routing.decision import Decision, RouteInput
from service.routing.engine import TRIAGE_AUTHORITY, Router
from service.sla.hooks import SlaContext, attach_clocks

log = structlog.get_logger()


def route_input(item: Item) -> RouteInput:
    return RouteInput(
        text=item.text,
        channel=item.channel,
        page_id=item.page_id,
        lat=item.lat,
        lon=item.lon,
        address=item.address,
        category_hint=item.category_hint,
    )


async def _joined_elsewhere(uow: UnitOfWork, item: Item) -> uuid.UUID | None:
    """The item this comment was joined to as an answer, if it was (channels.threads).

    A message is an item or a part of one. The intake writer checks only the item keys, so the
    same comment sent again without what it answers (a connector's re-sync) is stored as an
    item; it is caught here, off the intake path, and never reaches a queue.
    """
    if item.channel != Channel.comment:
        return None
    stmt = select(ItemMessage.item_id).where(
        ItemMessage.channel == item.channel, ItemMessage.external_id == item.external_id
    )
    return (await uow.session.exec(stmt)).first()


def apply_decision(item: Item, decision: Decision) -> None:
    item.decision = decision.to_dict()
    item.actionable = decision.actionable
    item.category = decision.category
    item.priority = decision.priority or "normal"
    item.place = decision.place


async def route_item(uow: UnitOfWork, item_id: uuid.UUID, sla: SlaContext, router: Router) -> str:
    """Route a `new` item; anything else was processed already and is left alone."""
    item = await uow.session.get(Item, item_id, with_for_update=True)
    if item is None:
        log.warning("items.route.missing", item_id=str(item_id))
        return "missing"
    if item.status != Status.new:
        return "already"
    joined_to = await _joined_elsewhere(uow, item)
    if joined_to is not None:
        because = f"the same message is already part of item {joined_to}"
        return _reject(uow, item, "duplicate", [because], duplicate_of=str(joined_to))
    decision = router.route(route_input(item))
    apply_decision(item, decision)
    item.routed_at = sla.now
    if decision.status == "rejected":
        return _reject(uow, item, decision.not_actionable_reason, list(decision.reasons))
    routed = decision.status == "routed" and decision.authority_code is not None
    item.authority_code = decision.authority_code if routed else TRIAGE_AUTHORITY
    await attach_clocks(uow, item, sla)
    record(
        uow.session,
        item,
        "routed" if routed else "triaged",
        actor="router",
        to_status=Status.routed if routed else Status.triage,
        authority_code=item.authority_code,
        confidence=decision.confidence,
        reasons=list(decision.reasons),
    )
    return item.status


def _reject(
    uow: UnitOfWork, item: Item, reason: str | None, reasons: list[str], **data: Any
) -> str:
    data.update(reason=reason, reasons=reasons)
    record(uow.session, item, "rejected", actor="router", to_status=Status.rejected, **data)
    return item.status


# A routing job that raises for the item itself (the router, the SLA set-up), not for the
# database, is tried this many times (the sweep re-enqueues it) before a person gets it.
ROUTING_ATTEMPTS = 3


async def routing_failed(uow: UnitOfWork, item_id: uuid.UUID, error: str, sla: SlaContext) -> str:
    """Record a failed routing of a `new` item; the last allowed failure puts it in triage, so
    the ЦУР sees it with its clocks running, instead of it staying `new` and unseen."""
    item = await uow.session.get(Item, item_id, with_for_update=True)
    if item is None or item.status != Status.new:
        return "already"
    stmt = select(func.count()).where(
        ItemEvent.item_id == item.id, ItemEvent.kind == "routing_failed"
    )
    attempt = (await uow.session.exec(stmt)).one() + 1
    record(uow.session, item, "routing_failed", actor="router", error=error, attempt=attempt)
    if attempt < ROUTING_ATTEMPTS:
        return "failed"
    item.authority_code, item.routed_at = TRIAGE_AUTHORITY, sla.now
    try:
        async with uow.session.begin_nested():
            await attach_clocks(uow, item, sla)
    except Exception:  # the clocks themselves may be what fails: the ЦУР still gets the item
        log.exception("items.route.no_clocks", item_id=str(item.id))
        item.authority_code, item.routed_at = TRIAGE_AUTHORITY, sla.now
    reason = f"routing failed {attempt} times: {error}"
    record(
        uow.session,
        item,
        "triaged",
        actor="router",
        to_status=Status.triage,
        authority_code=TRIAGE_AUTHORITY,
        reasons=[reason],
    )
    return item.status
