"""Deadline extensions (59-ФЗ ст. 12 ч. 2: once, up to 30 days, the citizen told).

A responder asks with a reason; a supervisor over the item's authority, an operator or an admin
approves or declines (their own request is approved as it is made). Approval moves the
resolution deadline and tells the citizen on their channel. Both steps are refused once the
deadline has passed: an extension is decided before it, not used to hide a breach.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.extensions import DeadlineExtension, ExtensionIn, ExtensionStatus
from schemas.items import Item, Status
from schemas.users import Role, User
from service.db import UnitOfWork
from service.errors import Conflict, Forbidden, NotFound, Unprocessable
from service.items.events import actor_of, record
from service.items.scope import visible_authorities
from service.replies import deliveries as replies
from service.sla import engine
from service.sla.checks import schedule_check
from service.sla.deadlines import compute_deadline
from service.sla.hooks import SlaContext

DECIDERS = (Role.supervisor, Role.operator, Role.admin)
FINISHED = (Status.answered, Status.closed, Status.rejected)
NOTICE = "Срок рассмотрения вашего обращения продлён до {date}. Причина: {reason}"


def _running_clock(item: Item, now: dt.datetime) -> tuple[str, dt.datetime]:
    """The resolution clock's generation key and deadline, if it may still be extended."""
    if item.status in FINISHED or item.sla is None:
        raise Conflict(f"the item is {item.status}: there is no deadline left to extend")
    clock = item.sla["clocks"]["resolution"]
    if clock["stopped_at"] is not None:
        raise Conflict("the resolution clock has stopped: there is no deadline left to extend")
    due = dt.datetime.fromisoformat(clock["due_at"])
    if now >= due:
        raise Conflict(f"the deadline {due.isoformat()} has passed: extend before it, not after")
    return engine.clock_key("resolution", clock), due


def _new_deadline(
    item: Item, due: dt.datetime, duration: float, unit: str, sla: SlaContext, max_days: int
) -> dt.datetime:
    calendar = engine.calendar_of(item, sla.registry)
    try:
        until = compute_deadline(due, duration, unit, calendar)
    except ValueError as exc:  # a fraction of a day, or longer than a clock can be
        raise Unprocessable(f"extend_by: {exc}", field="extend_by") from exc
    if until > compute_deadline(due, max_days, "calendar_days", calendar):
        raise Unprocessable(
            f"an extension may add at most {max_days} calendar days to the deadline",
            field="extend_by",
        )
    return until


async def ask(
    uow: UnitOfWork,
    item: Item,
    user: User,
    sla: SlaContext,
    body: ExtensionIn,
    *,
    max_days: int,
    channels: replies.ReplyChannels,
) -> DeadlineExtension:
    key, due = _running_clock(item, sla.now)
    by = body.extend_by
    until = _new_deadline(item, due, by.duration, by.unit, sla, max_days)
    for earlier in await for_item(uow.session, item):
        lapse_if_stale(uow.session, item, earlier, sla.now)
    if await _active(uow.session, item, key) is not None:
        raise Conflict("this appeal's deadline has already been extended or is awaiting approval")
    assert user.id is not None
    ext = DeadlineExtension(
        item_id=item.id,
        clock_key=key,
        reason=body.reason,
        duration=by.duration,
        unit=by.unit,
        requested_by=user.id,
        requested_at=sla.now,
        previous_due_at=due,
        new_due_at=until.astimezone(dt.UTC),
    )
    uow.session.add(ext)
    await uow.session.flush()
    record(
        uow.session,
        item,
        "extension_requested",
        actor=actor_of(user),
        extension_id=ext.id,
        reason=body.reason,
        new_due_at=until.isoformat(),
    )
    if user.role in DECIDERS:
        await approve(uow, item, ext, user, sla, note=None, channels=channels)
    return ext


async def approve(
    uow: UnitOfWork,
    item: Item,
    ext: DeadlineExtension,
    user: User,
    sla: SlaContext,
    *,
    note: str | None,
    channels: replies.ReplyChannels,
) -> DeadlineExtension:
    _decidable(ext, user)
    key, due = _running_clock(item, sla.now)
    if key != ext.clock_key:  # the router lapses such a request first: a guard
        raise Conflict("the deadline this request was for has been replaced; ask again")
    # From the deadline as it is now (a pause since the request may have moved it).
    until = compute_deadline(due, ext.duration, ext.unit, engine.calendar_of(item, sla.registry))
    engine.extend(item, until, sla.registry)
    schedule_check(uow, item)
    _decide(ext, user, sla.now, ExtensionStatus.approved, note)
    # Stored and answered in UTC, like every moment the API returns.
    ext.previous_due_at, ext.new_due_at = due.astimezone(dt.UTC), until.astimezone(dt.UTC)
    local = until.astimezone(engine.calendar_of(item, sla.registry).tz)
    event = record(
        uow.session,
        item,
        "deadline_extended",
        actor=actor_of(user),
        public=True,
        text=NOTICE.format(date=local.strftime("%d.%m.%Y"), reason=ext.reason),
        extension_id=ext.id,
        previous_due_at=due.isoformat(),
        new_due_at=until.isoformat(),
    )
    await replies.plan(uow, item, event, channels)  # the law: the citizen is told
    return ext


async def decline(
    uow: UnitOfWork, item: Item, ext: DeadlineExtension, user: User, sla: SlaContext, note: str
) -> DeadlineExtension:
    _decidable(ext, user)
    _decide(ext, user, sla.now, ExtensionStatus.declined, note)
    record(
        uow.session,
        item,
        "extension_declined",
        actor=actor_of(user),
        extension_id=ext.id,
        note=note,
    )
    return ext


def _decidable(ext: DeadlineExtension, user: User) -> None:
    if user.role not in DECIDERS:
        raise Forbidden("only a supervisor, an operator or an admin decides on an extension")
    if ext.status != ExtensionStatus.pending:
        raise Conflict(f"the extension is already {ext.status}")


def _decide(
    ext: DeadlineExtension, user: User, now: dt.datetime, status: str, note: str | None
) -> None:
    ext.status, ext.decided_by, ext.decided_at, ext.decision_note = status, user.id, now, note


async def _active(session: AsyncSession, item: Item, key: str) -> DeadlineExtension | None:
    stmt = select(DeadlineExtension).where(
        DeadlineExtension.item_id == item.id,
        DeadlineExtension.clock_key == key,
        col(DeadlineExtension.status).in_((ExtensionStatus.pending, ExtensionStatus.approved)),
    )
    return (await session.exec(stmt)).first()


async def of_item(session: AsyncSession, item: Item, ext_id: int) -> DeadlineExtension:
    ext = await session.get(DeadlineExtension, ext_id, with_for_update=True)
    if ext is None or ext.item_id != item.id:
        raise NotFound(f"item {item.id} has no extension {ext_id}")
    return ext


def _stale(item: Item, ext: DeadlineExtension) -> bool:
    """A pending request whose deadline is gone: the appeal finished, or its resolution clock
    stopped or was replaced by a new generation."""
    if ext.status != ExtensionStatus.pending:
        return False
    if item.status in FINISHED or item.sla is None:
        return True
    clock = item.sla["clocks"]["resolution"]
    return clock["stopped_at"] is not None or engine.clock_key("resolution", clock) != ext.clock_key


def lapse_if_stale(
    session: AsyncSession, item: Item, ext: DeadlineExtension, now: dt.datetime
) -> bool:
    """Close a request nobody can decide any more; True if it was."""
    if not _stale(item, ext):
        return False
    ext.status, ext.decided_at = ExtensionStatus.lapsed, now
    ext.decision_note = "the deadline it was asked for was replaced, or the appeal finished"
    session.add(ext)
    record(session, item, "extension_lapsed", actor="system", extension_id=ext.id)
    return True


async def for_item(session: AsyncSession, item: Item) -> list[DeadlineExtension]:
    stmt = (
        select(DeadlineExtension)
        .where(DeadlineExtension.item_id == item.id)
        .order_by(col(DeadlineExtension.id))
    )
    return list((await session.exec(stmt)).all())


async def pending(session: AsyncSession, user: User, limit: int) -> list[DeadlineExtension]:
    """Requests awaiting a decision on items the user sees, oldest first; requests gone stale
    (their appeal finished or its deadline replaced) are left out."""
    stmt = (
        select(DeadlineExtension, Item)
        .join(Item, col(Item.id) == col(DeadlineExtension.item_id))
        .where(
            DeadlineExtension.status == ExtensionStatus.pending,
            col(Item.status).notin_(FINISHED),
        )
        .order_by(col(DeadlineExtension.requested_at), col(DeadlineExtension.id))
        .limit(limit)
    )
    scope = await visible_authorities(session, user)
    if scope is not None:
        stmt = stmt.where(col(Item.authority_code).in_(scope))
    return [ext for ext, item in (await session.exec(stmt)).all() if not _stale(item, ext)]
