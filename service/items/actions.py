"""Responder actions. Each checks the state machine, changes the item, moves its SLA clocks and
appends an event; none commits (the router does, once)."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.catalog import Authority, Category
from schemas.items import Item, ItemEvent, Status
from schemas.users import Role, User
from service.db import UnitOfWork
from service.errors import Conflict, Unprocessable
from service.items import linking, transitions
from service.items.events import actor_of, record
from service.replies import deliveries as replies
from service.routing.service import record_example
from service.sla import hooks
from service.sla.hooks import SlaContext


async def claim(uow: UnitOfWork, item: Item, user: User, sla: SlaContext) -> Item:
    if item.status == Status.in_progress:
        if item.assignee_id == user.id:
            return item
        raise Conflict(f"the item is already claimed by user {item.assignee_id}")
    target = transitions.check("claim", item.status)
    item.assignee_id = user.id
    hooks.on_resume(uow, item, sla)  # ends a request-info or redirect pause, if any
    record(uow.session, item, "claimed", actor=actor_of(user), to_status=target)
    return item


async def reply(
    uow: UnitOfWork,
    item: Item,
    user: User,
    sla: SlaContext,
    *,
    text: str,
    final: bool,
    channels: replies.ReplyChannels | None = None,
    main: Item | None = None,
) -> Item:
    """`main`: the item whose final reply this is a copy of (the item is linked to it)."""
    target = transitions.check("final_reply" if final else "reply", item.status)
    if item.first_responded_at is None:
        item.first_responded_at = sla.now
    if final:
        item.answered_at = sla.now
    if item.assignee_id is None:
        item.assignee_id = user.id
    if final:
        hooks.on_reply(uow, item, sla, final=True)
    else:
        hooks.on_interim_reply(uow, item, sla)
    event = record(
        uow.session,
        item,
        "reply",
        actor=actor_of(user),
        to_status=target,
        public=True,
        text=text,
        final=final,
        **({"via_main_item": str(main.id)} if main is not None else {}),
    )
    # Back to the citizen's channels too (VK, platform, e-mail), with retries by the worker.
    await replies.plan(uow, item, event, channels or replies.ReplyChannels())
    if final and main is None:
        await _answer_incidents(uow, item, user, sla, text, channels)
    return item


async def _answer_incidents(
    uow: UnitOfWork,
    main: Item,
    user: User,
    sla: SlaContext,
    text: str,
    channels: replies.ReplyChannels | None,
) -> None:
    """The main item's final reply is the final reply of each open item linked to it."""
    for linked in await linking.incidents(uow.session, main.id):
        if linked.authority_code != main.authority_code:  # never another authority's
            await linking.follow_main(uow, linked, actor_of(user))
        elif linked.status in transitions.TRANSITIONS["final_reply"][0]:
            await reply(uow, linked, user, sla, text=text, final=True, channels=channels, main=main)


async def _ancestors(session: AsyncSession, code: str) -> list[str]:
    chain = [code]
    while (row := await session.get(Authority, chain[-1])) is not None and row.parent_code:
        chain.append(row.parent_code)
    return chain


async def _bounce_target(session: AsyncSession, item: Item, target: str, user: User) -> str | None:
    """A→B→A: sent back to an authority that has passed it on before, the item goes to the
    lowest authority above both instead, which decides. An arbiter's decision (the ЦУР's, or an
    authority's above the target) is not a bounce: it must be able to hand the item to A or B."""
    current = item.authority_code
    if current is None or user.role in (Role.operator, Role.admin):
        return None
    stmt = select(ItemEvent.data).where(
        ItemEvent.item_id == item.id, ItemEvent.kind == "redirected"
    )
    if target not in {d.get("from_authority") for d in (await session.exec(stmt)).all()}:
        return None
    theirs = await _ancestors(session, target)
    if current in theirs:
        return None
    mine = await _ancestors(session, current)
    # Above both parties: when A is B's own parent, A is no arbiter of their dispute.
    parties = (current, target)
    above = next((c for c in mine if c in set(theirs) and c not in parties), "op_tsur")
    return above if above != current else None


async def redirect(
    uow: UnitOfWork, item: Item, user: User, sla: SlaContext, *, authority_code: str, reason: str
) -> Item:
    target = transitions.check("redirect", item.status)
    if await uow.session.get(Authority, authority_code) is None:
        raise Unprocessable(f"unknown authority {authority_code!r}", field="authority_code")
    if authority_code == item.authority_code:
        raise Conflict("the item already belongs to this authority")
    bounce = await _bounce_target(uow.session, item, authority_code, user)
    previous, item.authority_code = item.authority_code, bounce or authority_code
    item.assignee_id = None
    item.redirect_count += 1
    item.routed_at = sla.now
    if item.sla is None:
        await hooks.attach_clocks(uow, item, sla)
    else:
        await hooks.on_redirect(uow, item, sla)
    record_example(
        uow.session,
        item,
        source="redirect",
        authority_code=item.authority_code,
        previous=previous,
        actor=actor_of(user),
    )
    record(
        uow.session,
        item,
        "redirected",
        actor=actor_of(user),
        to_status=target,
        from_authority=previous,
        to_authority=item.authority_code,
        requested=authority_code,
        reason=reason,
        bounce=bounce is not None,
    )
    await _moved(uow, item, user, sla, reason)
    return item


async def _moved(
    uow: UnitOfWork,
    item: Item,
    user: User,
    sla: SlaContext,
    reason: str,
    category: str | None = None,
) -> None:
    """After a redirect or a placement: the item leaves a main item it no longer shares an
    authority with, and its own linked items follow it."""
    await linking.follow_main(uow, item, actor_of(user))
    await _carry_incidents(uow, item, user, sla, reason, category)


async def _carry_incidents(
    uow: UnitOfWork,
    main: Item,
    user: User,
    sla: SlaContext,
    reason: str,
    category: str | None = None,
) -> None:
    """The items linked to a redirected or placed main item follow it (one problem, one
    authority): triage items are placed as it was, others redirected; one that its own history
    sends elsewhere (a bounce) is released."""
    target = main.authority_code
    assert target is not None
    for linked in await linking.incidents(uow.session, main.id):
        if linked.authority_code == target:
            continue
        if linked.status == Status.triage:  # with the category the operator chose, if any
            await assign(uow, linked, user, sla, authority_code=target, category=category)
        elif linked.status in transitions.TRANSITIONS["redirect"][0]:
            await redirect(uow, linked, user, sla, authority_code=target, reason=reason)
        else:
            await linking.follow_main(uow, linked, actor_of(user))


async def request_info(
    uow: UnitOfWork,
    item: Item,
    user: User,
    sla: SlaContext,
    *,
    question: str,
    channels: replies.ReplyChannels | None = None,
) -> Item:
    target = transitions.check("request_info", item.status)
    if item.assignee_id is None:
        item.assignee_id = user.id
    # A question is a public answer to the citizen: it counts as the first response (as any
    # public agent comment does in Zendesk's first reply time).
    if item.first_responded_at is None:
        item.first_responded_at = sla.now
    hooks.on_reply(uow, item, sla, final=False)
    hooks.on_resume(uow, item, sla)  # a redirect pause ends: the question's own pause begins
    hooks.on_pause(uow, item, sla)
    event = record(
        uow.session,
        item,
        "request_info",
        actor=actor_of(user),
        to_status=target,
        public=True,
        text=question,
    )
    # The citizen must see the question where they wrote, or the pause only runs out.
    await replies.plan(uow, item, event, channels or replies.ReplyChannels())
    return item


async def resolve(uow: UnitOfWork, item: Item, user: User, sla: SlaContext) -> Item:
    target = transitions.check("resolve", item.status)
    item.closed_at = sla.now
    hooks.on_stop_all(uow, item, sla)
    # Its final reply answered the open linked items; any still open were not answered by it.
    await linking.release(uow, item, actor_of(user), "the main item was closed")
    record(uow.session, item, "resolved", actor=actor_of(user), to_status=target)
    return item


async def reject(
    uow: UnitOfWork, item: Item, user: User | None, sla: SlaContext, *, reason: str
) -> Item:
    target = transitions.check("reject", item.status)
    item.closed_at = sla.now
    hooks.on_stop_all(uow, item, sla)
    await linking.release(uow, item, actor_of(user), "the main item was rejected")
    record(uow.session, item, "rejected", actor=actor_of(user), to_status=target, reason=reason)
    return item


async def reopen(uow: UnitOfWork, item: Item, user: User, sla: SlaContext) -> Item:
    target = transitions.check("reopen", item.status)
    item.answered_at = None
    item.closed_at = None
    item.assignee_id = None
    if item.sla is None:  # the router rejected it, so it never had clocks: they run from receipt
        await hooks.attach_clocks(uow, item, sla)
    else:
        hooks.on_reopen(uow, item, sla)
    record(uow.session, item, "reopened", actor=actor_of(user), to_status=target)
    if item.main_item_id is not None:  # its main item's answer was not the last word
        await linking.detach(uow, item, actor_of(user), reason="the item was reopened")
    return item


async def _set_category(session: AsyncSession, item: Item, category: str) -> None:
    row = await session.get(Category, category)
    if row is None or row.parent_code is None:
        raise Unprocessable(f"{category!r} is not a subcategory code", field="category")
    item.category, item.priority, item.actionable = row.code, row.priority, True


async def assign(
    uow: UnitOfWork,
    item: Item,
    user: User,
    sla: SlaContext,
    *,
    authority_code: str,
    category: str | None,
) -> Item:
    """An operator places a triage item; the choice becomes a labelled example."""
    target = transitions.check("assign", item.status)
    if await uow.session.get(Authority, authority_code) is None:
        raise Unprocessable(f"unknown authority {authority_code!r}", field="authority_code")
    if category is not None:
        await _set_category(uow.session, item, category)
    previous, item.authority_code = item.authority_code, authority_code
    item.routed_at = sla.now
    await hooks.attach_clocks(uow, item, sla)  # the policy may depend on authority and category
    record_example(
        uow.session,
        item,
        source="triage",
        authority_code=authority_code,
        previous=previous,
        actor=actor_of(user),
    )
    record(
        uow.session,
        item,
        "assigned",
        actor=actor_of(user),
        to_status=target,
        from_authority=previous,
        to_authority=authority_code,
        category=item.category,
    )
    await _moved(uow, item, user, sla, "placed with the main item", category)
    return item
