"""Item jobs: route one new item (by id, idempotent) and the sweep that repairs lost jobs."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

import structlog
from sqlmodel import col, select

from schemas.base import utcnow
from schemas.items import Item, Status
from schemas.jobs import ROUTE_ITEM, route_job_id
from service.channels.platform import PAGE, PollError, fetch_page, read_cursor, store_page
from service.items.pipeline import route_item, routing_failed
from service.items.privacy import purge_expired
from service.routing.service import router_for
from service.sla.hooks import sla_context
from workers.context import WorkerContext, job_uow
from workers.retry import transient

log = structlog.get_logger()
PURGE_BATCH = 1000  # contacts per transaction
# Long work stops starting new batches or pages after this, well inside the job timeout.
WORK_BUDGET_S = 15


async def route(ctx: WorkerContext, item_id: str) -> str:
    failure: Exception | None = None
    async with job_uow(ctx) as uow:
        # Outside the count: a router that cannot be built fails every item alike.
        sla = await sla_context(uow, ctx["settings"])
        router = await router_for(uow.session, ctx["settings"])
        try:
            outcome = await route_item(uow, uuid.UUID(item_id), sla, router)
            await uow.commit()
        except Exception as exc:
            if transient(exc):
                raise  # the database or the network: tried again soon, nothing counted
            failure = exc  # this item's own: its transaction is undone as the session closes
    if failure is not None:
        log.error("items.route.failed", item_id=item_id, exc_info=failure)
        async with job_uow(ctx) as uow:
            sla = await sla_context(uow, ctx["settings"])
            error = f"{type(failure).__name__}: {failure}"[:300]
            outcome = await routing_failed(uow, uuid.UUID(item_id), error, sla)
            await uow.commit()
    log.info("items.routed", item_id=item_id, outcome=outcome)
    return outcome


async def sweep(ctx: WorkerContext) -> int:
    """Re-enqueue items still `new` after a while: their job was lost (e.g. Redis forgot it)."""
    settings = ctx["settings"]
    cutoff = utcnow() - timedelta(seconds=settings.sweep_stale_after_s)
    async with job_uow(ctx) as uow:
        stmt = (
            select(Item.id)
            .where(Item.status == Status.new, col(Item.created_at) < cutoff)
            .order_by(col(Item.created_at))
            .limit(1000)
        )
        ids = [str(i) for i in (await uow.session.exec(stmt)).all()]
        for item_id in ids:
            uow.jobs.add(ROUTE_ITEM, item_id, job_id=route_job_id(item_id))
        await uow.commit()
    if ids:
        # Asked of Redis again under their ids: a job still queued, or held by a worker that
        # died, keeps its place and runs when its lock expires (JOB_TIMEOUT_S + 10 s).
        log.warning("items.sweep.stale_new_items", count=len(ids))
    return len(ids)


async def purge_personal_data(ctx: WorkerContext) -> int:
    """Hourly: erase contact details past the retention period (152-FZ), batch after batch
    until none is left or the run's time budget is spent (the next run goes on)."""
    total, now, days = 0, utcnow(), ctx["settings"].pii_retention_days
    stop_at = time.monotonic() + WORK_BUDGET_S
    while time.monotonic() < stop_at:
        async with job_uow(ctx) as uow:
            count = await purge_expired(uow.session, now, days, limit=PURGE_BATCH)
            await uow.commit()
        total += count
        if count < PURGE_BATCH:
            break
    if total:
        log.info("privacy.purged", count=total)
    return total


def functions() -> list[Any]:
    return [route]


async def poll_platform(ctx: WorkerContext) -> dict[str, int]:
    """Pull new messages from the platform adapter until a page comes back short."""
    settings = ctx["settings"]
    if not settings.platform_poll_url:
        return {}
    total: dict[str, int] = {}
    stop_at = time.monotonic() + WORK_BUDGET_S
    # Bounded per run; the next run continues from the saved cursor.
    for _ in range(20):
        if time.monotonic() > stop_at:
            break
        async with job_uow(ctx) as uow:
            seen = await read_cursor(uow)
        try:
            url, token = settings.platform_poll_url, settings.platform_poll_token
            items, next_cursor = await fetch_page(ctx["http"], url, token, seen)
        except PollError as exc:
            log.warning("platform.poll_failed", error=str(exc))
            break
        async with job_uow(ctx) as uow:
            counts = await store_page(uow, seen, items, next_cursor)
            await uow.commit()
        if counts is None:
            break  # another worker is polling: it has this page
        total = {k: total.get(k, 0) + v for k, v in counts.items()}
        if sum(counts.values()) < PAGE:
            break
    return total
