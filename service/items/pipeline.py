"""Processing a new item: decide where it goes and when it is due, exactly once."""

from __future__ import annotations

import uuid

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.catalog import Category, Page
from schemas.items import Item, Status
from service.db import UnitOfWork
from service.items.events import record
from service.sla.hooks import SlaContext, attach_clocks

log = structlog.get_logger()

TRIAGE_AUTHORITY = "op_tsur"
RULE_VERSION = "page-owner-0.1"


async def _category(session: AsyncSession, code: str | None) -> Category | None:
    return None if code is None else await session.get(Category, code)


async def route_item(uow: UnitOfWork, item_id: uuid.UUID, sla: SlaContext) -> str:
    """Route a `new` item; anything else was processed already and is left alone."""
    session = uow.session
    item = await session.get(Item, item_id, with_for_update=True)
    if item is None:
        log.warning("items.route.missing", item_id=str(item_id))
        return "missing"
    if item.status != Status.new:
        return "already"
    page = await session.get(Page, item.page_id) if item.page_id else None
    category = await _category(session, item.category_hint)
    item.category = category.code if category else None
    item.priority = category.priority if category else item.priority
    item.actionable = True
    authority = page.authority_code if page else None
    reasons = [f"page owner {authority}" if authority else "no page: nobody to route to"]
    item.decision = {
        "authority_code": authority,
        "category": item.category,
        "confidence": 1.0 if page else 0.0,
        "reasons": reasons,
        "version": RULE_VERSION,
        "status": "routed" if page else "triage",
    }
    item.authority_code = authority or TRIAGE_AUTHORITY
    item.routed_at = sla.now
    await attach_clocks(uow, item, sla)
    record(
        session,
        item,
        "routed",
        actor="router",
        to_status=Status.routed if page else Status.triage,
        authority_code=item.authority_code,
        reasons=reasons,
    )
    return item.status
