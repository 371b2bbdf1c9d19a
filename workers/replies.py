"""Reply jobs: send one reply to the citizen (e-mail, VK comment, Telegram thread, platform
answer), and the sweep behind lost jobs."""

from __future__ import annotations

import structlog

from schemas.base import utcnow
from schemas.jobs import DELIVER_REPLY, reply_job_id
from service.alerts.mail import EmailSender
from service.alerts.outcome import DeliveryOutcome
from service.alerts.senders import Senders
from service.config import resolve_secret_key
from service.replies import deliveries
from service.replies.channels import (
    Sent,
    TelegramBot,
    failed,
    post_platform_answer,
    post_telegram_reply,
    post_vk_comment,
)
from service.replies.deliveries import ReplyChannels
from workers.context import WorkerContext, job_uow

log = structlog.get_logger()


async def deliver(ctx: WorkerContext, delivery_id: int) -> str:
    settings, now = ctx["settings"], utcnow()
    async with job_uow(ctx) as uow:
        if not await deliveries.lease(uow.session, delivery_id, now, settings.delivery_lease_s):
            return "skipped"
        secret, channels = resolve_secret_key(settings), ReplyChannels.of(settings)
        outgoing = await deliveries.prepare(
            uow.session, delivery_id, secret, settings.base_url, channels
        )
        await uow.commit()
    if outgoing is None:
        return "missing"
    sent = await _send(ctx, outgoing, f"feedback-router-reply-{delivery_id}")
    outcome = sent.outcome
    async with job_uow(ctx) as uow:
        retry_at = await deliveries.record_outcome(
            uow.session, delivery_id, outcome, utcnow(), sent.external_ref, sent.more_refs
        )
        if retry_at is not None:
            job_id = reply_job_id(delivery_id, outgoing.attempt)
            uow.jobs.add(DELIVER_REPLY, delivery_id, defer_until=retry_at, job_id=job_id)
        await uow.commit()
    log.info(
        "replies.attempt",
        delivery_id=delivery_id,
        kind=outgoing.kind,
        ok=outcome.ok,
        error=outcome.error,
    )
    return "sent" if outcome.ok else ("retry" if retry_at else "dead")


async def _send(ctx: WorkerContext, outgoing: deliveries.Outgoing, key: str) -> Sent:
    """One attempt over the delivery's channel; `key` makes a repeated attempt harmless."""
    settings = ctx["settings"]
    if outgoing.problem is not None:
        return failed(outgoing.problem, permanent=True, attempted=False)
    if outgoing.vk is not None:
        api, version = settings.vk_api_url, settings.vk_api_version
        return await post_vk_comment(ctx["http"], api, version, outgoing.vk, outgoing.text, key)
    if outgoing.platform is not None:
        return await post_platform_answer(ctx["http"], outgoing.platform, outgoing.text, key)
    if outgoing.telegram is not None:
        bot = TelegramBot(
            settings.telegram_api_base, settings.telegram_bot_token, ctx.get("telegram_pacer")
        )
        return await post_telegram_reply(ctx["http"], bot, outgoing.telegram, outgoing.text)
    return Sent(await _send_email(ctx["senders"], outgoing))


async def _send_email(senders: Senders, outgoing: deliveries.Outgoing) -> DeliveryOutcome:
    email = senders.email
    if not isinstance(email, EmailSender):
        return DeliveryOutcome(ok=False, permanent=False, attempted=False, error="no SMTP")
    return await email.send_email(deliveries.build(outgoing, email.sender))


async def sweep(ctx: WorkerContext) -> int:
    """Re-enqueue due replies whatever Redis remembers (same job ids: no doubles)."""
    async with job_uow(ctx) as uow:
        due = await deliveries.due(uow.session, utcnow())
        for delivery_id, attempts in due:
            uow.jobs.add(DELIVER_REPLY, delivery_id, job_id=reply_job_id(delivery_id, attempts))
        await uow.commit()
    return len(due)
