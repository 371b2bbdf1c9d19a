"""SLA jobs: check an item's moments, deliver one alert attempt, and the Redis-independent sweep."""

from __future__ import annotations

import uuid
from typing import Any

import structlog

from schemas.base import utcnow
from schemas.jobs import DELIVER_ALERT, SLA_CHECK, deliver_job_id, sla_check_job_id
from service.alerts import service as deliveries
from service.alerts.senders import Senders
from service.replies.deliveries import ReplyChannels
from service.sla.calendars import calendar_registry
from service.sla.checks import check_item, due_checks_of
from workers.context import WorkerContext, job_uow

log = structlog.get_logger()


async def check(ctx: WorkerContext, item_id: str) -> int:
    async with job_uow(ctx) as uow:
        registry = await calendar_registry(uow.session, ctx["settings"].catalog_dir)
        channels = ReplyChannels.of(ctx["settings"])  # the closing answer of a lapsed pause
        raised = await check_item(uow, uuid.UUID(item_id), utcnow(), registry, channels)
        await uow.commit()
    if raised:
        log.info("sla.alerts_raised", item_id=item_id, count=raised)
    return raised


async def deliver(ctx: WorkerContext, delivery_id: int) -> str:
    settings, now = ctx["settings"], utcnow()
    async with job_uow(ctx) as uow:
        if not await deliveries.lease(uow.session, delivery_id, now, settings.delivery_lease_s):
            return "skipped"
        attempt = await deliveries.prepare(uow.session, delivery_id, now, settings.base_url)
        await uow.commit()
    if attempt is None:
        return "missing"
    senders: Senders = ctx["senders"]
    outcome = await senders.deliver(attempt.message, attempt.destination)
    async with job_uow(ctx) as uow:
        retry_at = await deliveries.record_outcome(uow.session, delivery_id, outcome, utcnow())
        if retry_at is not None:
            job_id = deliver_job_id(delivery_id, attempt.attempt + 1)
            if not outcome.attempted:
                # Not counted (paced), so the next attempt number is this job's own id, which
                # arq refuses while it runs and for `keep_result` after: one id per wait.
                waited = f"wait:{retry_at.timestamp():.3f}"
                job_id = f"{deliver_job_id(delivery_id, attempt.attempt)}:{waited}"
            uow.jobs.add(DELIVER_ALERT, delivery_id, defer_until=retry_at, job_id=job_id)
        await uow.commit()
    log.info(
        "alerts.attempt",
        delivery_id=delivery_id,
        ok=outcome.ok,
        status=outcome.status_code,
        retry_at=retry_at.isoformat() if retry_at else None,
    )
    return "sent" if outcome.ok else ("retry" if retry_at else "dead")


async def sweep(ctx: WorkerContext) -> dict[str, int]:
    """The backstop: every due SLA moment and every due delivery, whatever Redis remembers.

    Due items become `sla.check` jobs under the same ids as their deferred jobs, so a job Redis
    still holds is not doubled and every worker shares the batch; if Redis refuses the enqueue,
    the sweep checks the item itself.
    """
    now = utcnow()
    async with job_uow(ctx) as uow:
        due_checks = await due_checks_of(uow.session, now)
        due = await deliveries.due_deliveries(uow.session, now)
        for delivery_id, attempts in due:
            uow.jobs.add(DELIVER_ALERT, delivery_id, job_id=deliver_job_id(delivery_id, attempts))
        await uow.commit()
    inline = 0
    for item_id, at in due_checks:
        try:
            await ctx["redis"].enqueue_job(
                SLA_CHECK, str(item_id), _job_id=sla_check_job_id(str(item_id), at)
            )
        except Exception as exc:
            log.warning("sla.sweep.enqueue_failed", error=str(exc)[:200])
            inline += await _check_inline(ctx, item_id)
    return {"items": len(due_checks), "inline": inline, "deliveries": len(due)}


async def _check_inline(ctx: WorkerContext, item_id: uuid.UUID) -> int:
    # One item that fails its check must not stop the rest of the batch: with Redis down this
    # loop is all that checks them, and the batch is the oldest first, the same every time.
    try:
        await check(ctx, str(item_id))
    except Exception:
        log.exception("sla.sweep.check_failed", item_id=str(item_id))
        return 0
    return 1


def functions() -> list[Any]:
    return [check, deliver]
