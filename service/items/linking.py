"""Items about one problem, linked to a main item: its final answer answers them all.

A burst outage brings dozens of appeals about the same thing («нет воды на Ленина») through
every channel. A responder links them to one main item (as Zendesk links incidents to a problem)
instead of answering each. Every linked item keeps its own SLA clocks and alerts: each appeal
has its legal deadline, so linking hides nothing from the supervisors. When the main item gets
its final reply, every open linked item gets the same reply (its own event, sent back to its own
channel). When the main item ends without an answer (rejected, closed, closed for no reply),
its items are released to be answered on their own.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from rapidfuzz import fuzz, utils
from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.items import OPEN_STATUSES, Item
from schemas.users import User
from service.db import UnitOfWork
from service.errors import AppError, Conflict, NotFound, Unprocessable
from service.items.events import actor_of, record
from service.items.scope import can_see, visible_authorities

# What the citizen reads on the status page and in the history of a linked item.
LINKED_NOTICE = (
    "Ваше обращение объединено с другими обращениями о той же проблеме. "
    "Ответ на них будет направлен и вам."
)
UNLINKED_NOTICE = "Ваше обращение будет рассмотрено и получит ответ отдельно."
# How far back the similar-items search looks, and how many recent items it scores at most.
SIMILAR_WINDOW = dt.timedelta(days=30)
SIMILAR_CANDIDATES = 300


async def link(
    uow: UnitOfWork, item: Item, user: User, main_id: uuid.UUID, note: str | None
) -> Item:
    """Link `item` to the main item `main_id` of the same problem (no-op when it already is)."""
    if main_id == item.id:
        raise Unprocessable("an item cannot be linked to itself", field="main_id")
    if item.main_item_id == main_id:
        return item  # decided without a lock: a repeat must not queue behind a final reply
    session, scope = uow.session, await visible_authorities(uow.session, user)
    main = await session.get(Item, main_id)
    if main is None or not can_see(scope, main):
        raise NotFound(f"no item {main_id} in your queue")
    # Checked before the locks too: a refusal waits for nobody, and a link the other way
    # round (main into item) never gets to lock in the opposite order.
    await _check_link(session, item, main)
    # The main item first, as a reply or a redirect of it locks it before its linked items.
    await session.refresh(main, with_for_update=True)
    await session.refresh(item, with_for_update=True)
    if item.main_item_id == main.id:
        return item
    await _check_link(session, item, main)
    item.main_item_id = main.id
    actor = actor_of(user)
    record(
        session,
        item,
        "linked",
        actor=actor,
        public=True,
        text=LINKED_NOTICE,
        main_item_id=str(main.id),
        note=note,
    )
    record(session, main, "incident_linked", actor=actor, item_id=str(item.id), note=note)
    return item


async def link_many(
    uow: UnitOfWork, main_id: uuid.UUID, user: User, item_ids: list[uuid.UUID], note: str | None
) -> None:
    """Link several items to one main item, all or none: a flood of appeals about one problem
    is linked in one call. A refusal names the item it is about."""
    scope = await visible_authorities(uow.session, user)
    for item_id in sorted(set(item_ids)):
        item = await uow.session.get(Item, item_id)
        try:
            if item is None or not can_see(scope, item):
                raise NotFound(f"no item {item_id} in your queue")
            await link(uow, item, user, main_id, note)
        except AppError as exc:
            exc.detail = f"item {item_id}: {exc.detail}"
            exc.extra = {**exc.extra, "item_id": str(item_id)}
            raise


async def _check_link(session: AsyncSession, item: Item, main: Item) -> None:
    if item.main_item_id is not None:
        raise Conflict(f"the item is already linked to {item.main_item_id}; unlink it first")
    if main.main_item_id is not None:
        raise Conflict(
            f"the main item is itself linked to {main.main_item_id}; link to that one",
            main_item_id=str(main.main_item_id),
        )
    for which, row in (("item", item), ("main item", main)):
        if row.status not in OPEN_STATUSES:
            raise Conflict(f"the {which} is {row.status}: only open items are linked")
    if item.authority_code != main.authority_code:
        raise Conflict(
            f"the items belong to different authorities ({item.authority_code}, "
            f"{main.authority_code}): redirect one first"
        )
    has_open = select(Item.id).where(
        Item.main_item_id == item.id, col(Item.status).in_(OPEN_STATUSES)
    )
    if (await session.exec(has_open.limit(1))).first() is not None:
        raise Conflict("other items are linked to this one: link them to the main item first")


async def unlink(uow: UnitOfWork, item: Item, user: User, note: str | None) -> Item:
    if item.main_item_id is None:
        raise Conflict("the item is not linked to a main item")
    await detach(uow, item, actor_of(user), note=note)
    return item


async def detach(
    uow: UnitOfWork, item: Item, actor: str, *, note: str | None = None, reason: str | None = None
) -> None:
    """The item is no longer linked; both sides' histories say so."""
    main_id, item.main_item_id = item.main_item_id, None
    record(
        uow.session,
        item,
        "unlinked",
        actor=actor,
        public=True,  # the citizen was told the main item's answer would be theirs
        text=UNLINKED_NOTICE,
        main_item_id=str(main_id),
        note=note,
        reason=reason,
    )
    main = await uow.session.get(Item, main_id) if main_id is not None else None
    if main is not None:
        record(
            uow.session,
            main,
            "incident_unlinked",
            actor=actor,
            item_id=str(item.id),
            note=note,
            reason=reason,
        )


async def follow_main(uow: UnitOfWork, item: Item, actor: str) -> None:
    """An item that went to another authority than its main item (redirected on its own, or a
    bounce while following it) is no longer linked: only the owner of an item answers it."""
    if item.main_item_id is None:
        return
    main = await uow.session.get(Item, item.main_item_id)
    if main is None or main.authority_code != item.authority_code:
        await detach(uow, item, actor, reason="the item went to another authority")


async def incidents(session: AsyncSession, main_id: uuid.UUID) -> list[Item]:
    """The open items linked to `main_id`, locked, oldest first."""
    stmt = (
        select(Item)
        .where(Item.main_item_id == main_id, col(Item.status).in_(OPEN_STATUSES))
        .order_by(col(Item.received_at), col(Item.id))
        .with_for_update()
    )
    return list((await session.exec(stmt)).all())


async def release(uow: UnitOfWork, main: Item, actor: str, reason: str) -> None:
    """The main item ended without an answer: its items are answered on their own again."""
    for item in await incidents(uow.session, main.id):
        await detach(uow, item, actor, reason=reason)


async def linked_items(session: AsyncSession, main: Item, user: User) -> list[Item]:
    """Every item linked to `main` that the user may see, open or not, oldest first."""
    scope = await visible_authorities(session, user)
    stmt = (
        select(Item)
        .where(Item.main_item_id == main.id)
        .order_by(col(Item.received_at), col(Item.id))
    )
    return [i for i in (await session.exec(stmt)).all() if can_see(scope, i)]


@dataclass(frozen=True)
class Similar:
    item: Item
    score: float
    text_similarity: float
    same_category: bool
    same_place: bool


async def similar(session: AsyncSession, item: Item, limit: int) -> list[Similar]:
    """Open items of the same authority from the month around this one, most alike first: the
    candidates for its main item (or for linking to it)."""
    stmt = (
        select(Item)
        .where(
            Item.authority_code == item.authority_code,
            # Literal statuses, so PostgreSQL can use the partial index in a generic plan too.
            col(Item.status).in_(
                bindparam(
                    "open", [s.value for s in OPEN_STATUSES], expanding=True, literal_execute=True
                )
            ),
            col(Item.main_item_id).is_(None),
            Item.id != item.id,
            col(Item.received_at) >= item.received_at - SIMILAR_WINDOW,
            col(Item.received_at) <= item.received_at + SIMILAR_WINDOW,
        )
        .order_by(col(Item.received_at).desc())
        .limit(SIMILAR_CANDIDATES)
    )
    mine = utils.default_process(item.text)
    found = [_score(item, mine, other) for other in (await session.exec(stmt)).all()]
    found.sort(key=lambda s: (-s.score, s.item.received_at))
    return found[:limit]


def _score(item: Item, mine: str, other: Item) -> Similar:
    # token_set_ratio: a short «Нет воды на Ленина 5» matches a long complaint that says it.
    text = fuzz.token_set_ratio(mine, utils.default_process(other.text)) / 100
    same_category = item.category is not None and other.category == item.category
    same_place = item.place is not None and other.place == item.place
    score = 0.7 * text + 0.15 * same_category + 0.15 * same_place
    return Similar(other, round(score, 3), round(text, 3), same_category, same_place)
