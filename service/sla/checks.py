"""Evaluating an item's SLA moments: record each alert once, fan out deliveries, auto-close."""

from __future__ import annotations

import datetime as dt
import uuid

import structlog
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.catalog import Authority
from schemas.items import Item, ItemEvent, Status
from schemas.jobs import DELIVER_ALERT, SLA_CHECK, deliver_job_id, sla_check_job_id
from schemas.sla import Alert, AlertDelivery, AlertEndpoint
from service.db import UnitOfWork
from service.items import linking
from service.items.events import record
from service.replies.deliveries import ReplyChannels
from service.replies.deliveries import plan as plan_replies
from service.sla import engine
from service.sla.registry import CalendarRegistry

log = structlog.get_logger()

TSUR = "op_tsur"
CLOSE_AFTER_PAUSE = (
    "Мы не получили от вас уточнений в установленный срок, поэтому сообщение закрыто. "
    "Если проблема осталась, отправьте, пожалуйста, новое сообщение."
)


REMINDER = (
    "Напоминаем: мы ждём вашего ответа на вопрос по обращению: «{question}». "
    "Если ответа не будет до {until}, обращение будет закрыто."
)


def alert_type(level: str) -> str:
    return "sla." + level.split(":", 1)[0]


async def escalation_target(session: AsyncSession, authority: str | None, to: str | None) -> str:
    if to == "tsur" or authority is None:
        return TSUR
    row = await session.get(Authority, authority)
    return row.parent_code if row is not None and row.parent_code else TSUR


async def _fan_out(session: AsyncSession, alert: Alert, now: dt.datetime) -> list[int]:
    kind = alert.level.split(":", 1)[0]
    stmt = select(AlertEndpoint).where(
        AlertEndpoint.authority_code == alert.target_authority_code,
        col(AlertEndpoint.active).is_(True),
    )
    deliveries = [
        AlertDelivery(alert_id=alert.id, endpoint_id=ep.id, next_attempt_at=now)
        for ep in (await session.exec(stmt)).all()
        if ep.id is not None and kind in ep.levels
    ]
    session.add_all(deliveries)
    await session.flush()
    return [d.id for d in deliveries if d.id is not None]


async def raise_alert(
    session: AsyncSession, item: Item, lv: engine.DueLevel, now: dt.datetime
) -> list[int] | None:
    """Insert the alert unless it exists (unique per item/clock/level); returns delivery ids,
    None when it existed."""
    target = item.authority_code or TSUR
    if lv.escalate_to is not None:
        target = await escalation_target(session, item.authority_code, lv.escalate_to)
    alert = Alert(
        item_id=item.id,
        clock=lv.key,
        level=lv.level,
        type=alert_type(lv.level),
        authority_code=item.authority_code or TSUR,
        target_authority_code=target,
        due_at=lv.due_at,
    )
    try:
        async with session.begin_nested():
            session.add(alert)
            await session.flush()
    except IntegrityError:
        log.info("sla.alert_exists", item_id=str(item.id), clock=lv.key, level=lv.level)
        return None  # another worker recorded it first
    record(
        session,
        item,
        alert.type.replace(".", "_"),
        actor="sla",
        clock=lv.clock,
        level=lv.level,
        due_at=lv.due_at.isoformat(),
        target=target,
    )
    return await _fan_out(session, alert, now)


async def _auto_close(
    uow: UnitOfWork,
    item: Item,
    now: dt.datetime,
    registry: CalendarRegistry,
    channels: ReplyChannels,
) -> None:
    for name in engine.open_clocks(item):
        engine.stop(item, name, now, registry)
    item.closed_at = now
    await linking.release(uow, item, "sla", "the main item was closed for no reply")
    event = record(
        uow.session,
        item,
        "closed_no_reply",
        actor="sla",
        to_status=Status.closed,
        public=True,
        text=CLOSE_AFTER_PAUSE,
    )
    await plan_replies(uow, item, event, channels)  # told where they wrote, like a reply


async def _remind(
    uow: UnitOfWork,
    item: Item,
    expiry: dt.datetime,
    registry: CalendarRegistry,
    channels: ReplyChannels,
) -> None:
    """Part of the pause limit has gone by without the citizen's answer: the question is
    recalled where they wrote, with the moment the item will be closed. A redirect pause
    concerns no citizen: its reminder moment passes silently."""
    if item.status == Status.awaiting_citizen:
        stmt = (
            select(ItemEvent.data)
            .where(ItemEvent.item_id == item.id, ItemEvent.kind == "request_info")
            .order_by(col(ItemEvent.id).desc())
            .limit(1)
        )
        asked = (await uow.session.exec(stmt)).first() or {}
        until = expiry.astimezone(getattr(engine.calendar_of(item, registry), "tz", dt.UTC))
        text = REMINDER.format(question=asked.get("text", ""), until=f"{until:%d.%m.%Y %H:%M}")
        event = record(uow.session, item, "pause_reminder", actor="sla", public=True, text=text)
        await plan_replies(uow, item, event, channels)
    engine.mark_reminded(item, registry)


async def _end_pause(
    uow: UnitOfWork,
    item: Item,
    expiry: dt.datetime,
    now: dt.datetime,
    registry: CalendarRegistry,
    channels: ReplyChannels,
) -> None:
    """A pause that reached its limit: the citizen who did not answer gets the item closed;
    any other (a redirect nobody took up) lets the clocks run again from the limit, so the
    warnings and breaches it held back follow."""
    if item.status == Status.awaiting_citizen:
        await _auto_close(uow, item, now, registry, channels)
        return
    engine.resume(item, expiry, registry)
    record(uow.session, item, "sla_pause_ended", actor="sla", at=expiry.isoformat())


async def check_item(
    uow: UnitOfWork,
    item_id: uuid.UUID,
    now: dt.datetime,
    registry: CalendarRegistry,
    channels: ReplyChannels | None = None,
) -> int:
    """Raise every alert whose moment has come; schedule the next check. Returns alerts raised."""
    session = uow.session
    item = await session.get(Item, item_id, with_for_update=True)
    if item is None or item.sla is None:
        return 0
    raised = 0
    expiry = engine.pause_expiry(item, registry)
    if expiry is not None and expiry <= now:
        await _end_pause(uow, item, expiry, now, registry, channels or ReplyChannels())
    reminder = engine.pause_reminder(item, registry)
    if expiry is not None and reminder is not None and reminder <= now:
        await _remind(uow, item, expiry, registry, channels or ReplyChannels())
    for lv in sorted(engine.pending_levels(item, registry), key=lambda lv: lv.at):
        if lv.at > now:
            continue
        engine.mark_alerted(item, lv.clock, lv.level, registry)
        if lv.level == "warning" and lv.due_at <= now:
            continue  # the breach supersedes a warning that comes too late to help
        deliveries = await raise_alert(session, item, lv, now)
        if deliveries is None:
            continue
        for delivery_id in deliveries:
            uow.jobs.add(DELIVER_ALERT, delivery_id, job_id=deliver_job_id(delivery_id, 0))
        raised += 1
    engine.sync(item, registry)
    session.add(item)
    schedule_check(uow, item)
    return raised


def schedule_check(uow: UnitOfWork, item: Item) -> None:
    """A deferred job for promptness; the sweep over `sla_next_check_at` is the backstop."""
    if item.sla_next_check_at is not None:
        at = item.sla_next_check_at
        uow.jobs.add(
            SLA_CHECK, str(item.id), job_id=sla_check_job_id(str(item.id), at), defer_until=at
        )


async def due_checks_of(
    session: AsyncSession, now: dt.datetime, limit: int = 1000
) -> list[tuple[uuid.UUID, dt.datetime]]:
    """Items whose next SLA moment has come, oldest first: (id, moment). Uses the partial index."""
    stmt = (
        select(Item.id, Item.sla_next_check_at)
        .where(col(Item.sla_next_check_at).is_not(None), col(Item.sla_next_check_at) <= now)
        .order_by(col(Item.sla_next_check_at))
        .limit(limit)
    )
    return [(i, at) for i, at in (await session.exec(stmt)).all() if at is not None]


async def due_items(session: AsyncSession, now: dt.datetime, limit: int = 1000) -> list[uuid.UUID]:
    return [item_id for item_id, _ in await due_checks_of(session, now, limit)]
